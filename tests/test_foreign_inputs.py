"""A whole input set written from the specs alone, with openpyxl and by hand (not by the project's own
writers): référentiel, returns and a Windows-1252 Chorus extract. The run must give hand-computed figures."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ftap_pipeline.core.period import Period
from ftap_pipeline.pipeline import RunConfig, run_report
from tests.builders import active

D = dt.date


def _sheet(wb: openpyxl.Workbook, name: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(name)
    ws.append(header)
    for r in rows:
        ws.append(r)


def write_referentiel(path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.remove(active(wb))
    env = [["31/07/2023", cat, "3", year, "FTAP", f"{amount:,}".replace(",", " "), amount]
           for cat, base in (("Cadrage", 600_000), ("Expérimentation", 600_000), ("Généralisation", 1_800_000))
           for year, amount in ((2023, base), (2024, 2 * base), (2025, 2 * base))]
    env.append([D(2025, 3, 15), "Cadrage", 3, 2025, "FTAP", 1_000_000, 1_000_000])  # an avenant
    _sheet(wb, "Enveloppes", ["Date d'effet", "Catégorie", "Titre", "Année", "Financeur", "AE (€)", "CP (€)"], env)
    _sheet(wb, "Tranches", ["Année", "Date de décision", "AE (€)", "CP (€)"],
           [[2024, D(2024, 2, 15), 6_000_000, 6_000_000], [2025, D(2025, 2, 20), 5_000_000, 5_000_000]])
    _sheet(wb, "Projets", ["Identifiant du projet", "Intitulé du projet", "Porteur du projet", "Ministère",
                           "Date de sélection", "Cycle"],
           [["AP-2024-01", "Titres", "Préfecture du Gard", "Intérieur", D(2024, 1, 10), "1"],
            ["AP-2024-02", "Paie", "DDFiP du Var", "Économie", D(2024, 1, 10), "1"]])
    _sheet(wb, "Comités", ["Date", "Instance", "Objet"], [[D(2024, 3, 1), "Copil", "Sélection"]])
    _sheet(wb, "Nomenclature", ["Code", "Valeur"],
           [["Programme", "0349"], ["Centre financier", "0349-CDBU-DITP"],
            ["Domaine fonctionnel", "0349-01; 0349-0101B501"], ["Activité", "03490101B501"]])
    _sheet(wb, "Paramètres", ["Paramètre", "Valeur"],
           [["Plafond coût projet (€)", "2 000 000"], ["Part de cofinancement visée", "0,5"],
            ["Durée max. d'accompagnement (mois)", 6], ["Ratio ROI minimal à 3 ans", 1],
            ["Projets par an visés", 10], ["Comités par an minimum", 3], ["Tolérance de rapprochement (€)", 1]])
    wb.save(path)


CONS_HEADER = ["N° EJ", "Exercice", "Date de l'EJ", "Fournisseur", "Catégorie", "Titre", "Objet de la dépense",
               "Financeur", "Centre financier", "Domaine fonctionnel", "Activité", "AE engagées (€)", "CP payés (€)",
               "Commentaire"]
FTAP_CODES = ["0349-CDBU-DITP", "0349-01", "03490101B501"]


def write_return(path: Path, project: str, period: str, situation: dt.date, lines: list[list[Any]],
                 version: int = 1) -> None:
    wb = openpyxl.Workbook()
    ws = active(wb)
    ws.title = "Projet"
    ws.append(["Champ", "Valeur"])
    for label, value in (("Identifiant du projet", project), ("Intitulé du projet", "Projet"),
                         ("Période de remontée", period), ("Date de situation", situation),
                         ("Porteur du projet", f"Porteur {project}"), ("Ministère", "Intérieur"),
                         ("Catégorie de porteur", "État – service déconcentré"), ("Conduit de concert avec l'État", "Oui"),
                         ("Financement majoritaire de l'État", "Non"), ("Région", "Occitanie"),
                         ("Phase", "Expérimentation"), ("Date du document de cadrage", D(2024, 1, 5)),
                         ("Début de l'accompagnement", D(2024, 2, 1)), ("Fin de l'accompagnement", D(2024, 7, 31)),
                         ("Projet numérique", "Non"), ("Chef de projet", "C. P."),
                         ("Courriel du chef de projet", "cp@interieur.gouv.fr"), ("Version", version)):
        ws.append([label, value])
    cons = wb.create_sheet("Consommation")
    cons.append(CONS_HEADER)
    for line in lines:
        cons.append(line)
    wb.save(path)


def ftap(ej: str, year: int, cat: str, ae: Any, cp: Any) -> list[Any]:
    return [ej, year, D(2024, 3, 1), "Cabinet", cat, 3, "Prestations intellectuelles", "FTAP", *FTAP_CODES, ae, cp, None]


CHORUS_AE = ["Programme", "Domaine fonctionnel", "Centre de coûts", "Référentiel de programmation", "N° EJ",
             "Date de réplication", "N° poste EJ", "Date de dernière modif. de l'EJ",
             "Fournisseur titulaire principal (EJ)", "Compte budgétaire", "Groupe de marchandises", "EUR"]
CHORUS_CP = ["Programme", "Domaine fonctionnel", "Centre de coûts", "Référentiel de programmation", "N° EJ",
             "N° poste EJ", "N° DP", "Date de base de la DP", "N° SF", "Date comptable du SF", "Fournisseur payé (DP)",
             "Compte budgétaire", "EUR"]


def write_chorus(folder: Path) -> None:
    def ae(ej: str, day: str, poste: str, amount: str, activite: str = "BG00/03490101B501") -> list[str]:
        return ["349", "0349-01", "#", activite, ej, day, poste, day, "1000 CABINET", "PCE/3100", "#", amount]

    def cp(ej: str, day: str, dp: str, amount: str, activite: str = "BG00/03490101B501") -> list[str]:
        return ["0349", "0349-01", "#", activite, ej, "10", dp, day, "SF" + dp, day, "CABINET", "3100", amount]

    with (folder / "engagements.csv").open("w", encoding="cp1252", newline="") as fh:
        fh.write("Pilotage de la gestion – vue détaillée\nExtraction du 04.07.2025\n\n")
        w = csv.writer(fh, delimiter=";")
        w.writerow(CHORUS_AE)
        w.writerows([ae("1300000001", "01.03.2024", "10", "60000,00"), ae("1300000001", "01.03.2024", "20", "40000,00"),
                     ae("1300000002", "15.04.2024", "10", "50000,00"),
                     ae("1300000003", "10.01.2025", "10", "30000,00"),
                     ae("1300000009", "10.01.2025", "10", "8000,00"),  # undeclared
                     ae("1300000077", "10.01.2025", "10", "12000,00", activite="03490102C201")])  # other project
    with (folder / "paiements.csv").open("w", encoding="cp1252", newline="") as fh:
        fh.write("Paiements – vue détaillée\n\n")
        w = csv.writer(fh, delimiter=";")
        w.writerow(CHORUS_CP)
        w.writerows([cp("1300000001", "10/05/2024", "1", "30000,00"), cp("1300000001", "10/02/2025", "2", "20000,00"),
                     cp("1300000002", "10/06/2024", "3", "20000,00"), cp("1300000002", "10/06/2024", "4", "5000,00")])


@pytest.fixture(scope="module")
def foreign_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("foreign")
    for folder in ("reference", "remontees", "chorus"):
        (root / folder).mkdir()
    write_referentiel(root / "reference" / "referentiel.xlsx")
    inbox = root / "remontees"
    # AP-2024-01: the 2025-T1 return, then the 2025-T2 one; EJ 1 concordant, EJ 2 with a CP gap.
    write_return(inbox / "a-t1.xlsx", "AP-2024-01", "2025-T1", D(2025, 3, 31),
                 [ftap("1300000001", 2024, "Cadrage", 100000, 30000)])
    write_return(inbox / "a-t2.xlsx", "AP-2024-01", "2025-T2", D(2025, 6, 30), [
        ftap("1300000001", 2024, "Cadrage", "100 000,00", "30000"), ftap("1300000001", 2025, "Cadrage", 0, "20 000"),
        ftap("1300000002", 2024, "Expérimentation", 50000, 20000),
        ["1300000005", 2025, D(2025, 1, 2), "Régie", "Cadrage", 3, "Autres dépenses", "Porteur", None, None, None,
         7000, 7000, None]])
    # AP-2024-02: EJ 3 concordant in AE, EJ 4 absent from Chorus, and a bad line (an amount in words).
    write_return(inbox / "b-t2.xlsx", "AP-2024-02", "2025-T2", D(2025, 6, 30), [
        ftap("1300000003", 2025, "Généralisation", 30000, 0), ftap("1300000004", 2025, "Généralisation", 9000, 0),
        ftap("1300000008", 2025, "Généralisation", "neuf mille", 0)])
    # An unknown project, and the same content as a-t2 sent again under version 1: identical copy.
    write_return(inbox / "c.xlsx", "AP-2024-99", "2025-T2", D(2025, 6, 30), [ftap("1300000006", 2025, "Cadrage", 1, 0)])
    (inbox / "a-t2-copie.xlsx").write_bytes((inbox / "a-t2.xlsx").read_bytes())
    write_chorus(root / "chorus")
    return run_report(RunConfig.quarterly(root, root / "out", Period.parse("2025-T2"))).parent


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_statuses_and_line_counts(foreign_run: Path) -> None:
    got = {r["Fichier"]: (r["Statut"], r["Lignes lues"], r["Lignes retenues"], r["Lignes rejetées"])
           for r in _rows(foreign_run / "donnees" / "remontees.csv")}
    # Of two identical copies one stands (the first by name: names play no other part), the other is replaced.
    assert got == {
        "a-t1.xlsx": ("Retenue", "1", "1", "0"),
        "a-t2-copie.xlsx": ("Retenue", "4", "4", "0"),
        "a-t2.xlsx": ("Remplacée", "4", "4", "0"),
        "b-t2.xlsx": ("Retenue avec anomalies", "3", "2", "1"),
        "c.xlsx": ("Rejetée", "1", "0", "1"),
    }


def test_suivi_figures_to_the_cent(foreign_run: Path) -> None:
    got = {(r["Année"], r["Catégorie"]): (r["Enveloppe AE (€)"], r["AE engagées (€)"], r["CP payés (€)"],
                                          r["AE Chorus (€)"], r["CP Chorus (€)"])
           for r in _rows(foreign_run / "donnees" / "suivi_ae_cp.csv")}
    assert got[("2024", "Cadrage")] == ("1200000.00", "100000.00", "30000.00", "100000.00", "30000.00")
    assert got[("2025", "Cadrage")] == ("1000000.00", "0.00", "20000.00", "0.00", "20000.00")  # avenant in force
    assert got[("2024", "Expérimentation")] == ("1200000.00", "50000.00", "20000.00", "50000.00", "25000.00")
    assert got[("2025", "Généralisation")] == ("3600000.00", "39000.00", "0.00", "30000.00", "0.00")
    assert got[("2025", "Non déclaré")] == ("0.00", "0.00", "0.00", "8000.00", "0.00")
    total_2024 = sum(float(r["Enveloppe AE (€)"]) for r in _rows(foreign_run / "donnees" / "suivi_ae_cp.csv")
                     if r["Année"] == "2024")
    assert total_2024 == 6_000_000


def test_each_ej_gets_its_status(foreign_run: Path) -> None:
    got = {r["N° EJ"]: (r["Identifiant du projet"], r["Statut"])
           for r in _rows(foreign_run / "donnees" / "rapprochement.csv")}
    assert got == {
        "1300000001": ("AP-2024-01", "Concordant"),
        "1300000002": ("AP-2024-01", "Écart"),  # 20 000 declared, 25 000 paid
        "1300000003": ("AP-2024-02", "Concordant"),
        "1300000004": ("AP-2024-02", "Absent de Chorus"),
        "1300000009": ("", "Non déclaré"),
        "1300000077": ("", "Hors dispositif"),
    }


def test_the_bad_cell_is_named(foreign_run: Path) -> None:
    bad = [(r["Fichier"], r["Cellule"], r["Règle"]) for r in _rows(foreign_run / "donnees" / "anomalies.csv")
           if r["Gravité"] == "Bloquant"]
    assert ("b-t2.xlsx", "Consommation!L4", "type-error") in bad
    assert ("c.xlsx", "Projet!B2", "unknown-project") in bad
