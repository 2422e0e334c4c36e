"""The porteur's feedback workbook reads as advice: titles, formats, cells, Chorus gaps, what to do."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import RULES, finding
from ftap_pipeline.contract.model import Projet, ReturnRecord
from ftap_pipeline.core.feedback import expected_format, feedback_workbook
from ftap_pipeline.core.figures import ReportScope
from ftap_pipeline.core.period import Period
from ftap_pipeline.core.rapprochement import COLUMNS
from ftap_pipeline.core.report import finding_sort_key
from ftap_pipeline.core.report_spec import SheetSpec, TableSpec, WorkbookSpec
from tests import builders as b

SCOPE = ReportScope.quarterly(Period.parse("2025-T2"))
PORTEUR = "Préfecture de l'Hérault"


def _retour(wb: WorkbookSpec) -> SheetSpec:
    return next(s for s in wb.sheets if s.name == "Retour")


def _table(wb: WorkbookSpec, name: str) -> TableSpec:
    return next(t for t in wb.tables() if t.name == name)


def _facts(wb: WorkbookSpec) -> dict[str, object]:
    return {label: value for label, value, _ in _retour(wb).facts}


def _bad_tables() -> dict[str, list[dict[str, Any]]]:
    tabs = b.tables()
    tabs["financement"][0]["ae"] = "1,234"  # Financement!F2: too many decimals
    tabs["financement"][1]["categorie"] = "Pilote"  # Financement!B3: not in the list
    tabs["consommation"][0]["date_ej"] = "01/03/24"  # Consommation!C2: two-digit year
    tabs["consommation"][2]["ej"] = "13000000"  # Consommation!A4: eight digits
    tabs["economies"][0]["annee"] = 1990  # Économies!A2: out of range
    return tabs


@pytest.fixture
def bad(tmp_path: Path) -> WorkbookSpec:
    records = b.assess_one(tmp_path, tabs=_bad_tables()).records
    return feedback_workbook(PORTEUR, records, SCOPE)


def _anomalies(wb: WorkbookSpec) -> pd.DataFrame:
    return _table(wb, "Anomalies").frame()


def test_the_rule_title_sits_next_to_its_code(bad: WorkbookSpec) -> None:
    names = [c.name for c in _table(bad, "Anomalies").columns]
    assert names == ["Fichier", "Feuille", "Cellule", "Champ", "Valeur lue", "Règle", "Intitulé de la règle",
                     "Gravité", "Message", "Format attendu", "Que faire"]
    rows = _anomalies(bad)
    assert not rows.empty
    for slug, title in zip(rows["Règle"], rows["Intitulé de la règle"], strict=True):
        assert title == RULES[slug].title
    by_cell = rows.set_index("Cellule")
    assert by_cell.at["Financement!F2", "Intitulé de la règle"] == "Montant à plus de deux décimales"


def test_the_format_expected_is_spelled_out_for_each_bad_cell(bad: WorkbookSpec) -> None:
    formats = dict(zip(_anomalies(bad)["Cellule"], _anomalies(bad)["Format attendu"], strict=True))
    assert formats["Financement!F2"] == "Nombre décimal ≥ 0, deux décimales au plus (ex. 1 200 000,50)"
    assert formats["Financement!B3"] == "Une valeur parmi : Cadrage, Expérimentation, Généralisation"
    assert formats["Consommation!C2"] == "Date jj/mm/aaaa"
    assert formats["Consommation!A4"] == "10 chiffres (ex. 0101234567)"
    assert formats["Économies!A2"] == "Nombre entier de 2000 à 2100"


@pytest.mark.parametrize(("sheet", "field", "expected"), [
    ("consommation", "AE engagées (€)", "Nombre décimal (négatif admis), deux décimales au plus (ex. 1 200 000,50)"),
    ("ECONOMIES", "etp", "Nombre décimal ≥ 0 (ex. 12,5)"),
    ("Projet", "Conduit de concert avec l'État", "Oui ou Non"),
    ("Projet", "Fin de l'accompagnement", "Date jj/mm/aaaa"),
    ("Projet", "Période de remontée", "Trimestre au format AAAA-Tn (ex. 2025-T2)"),
    ("Consommation", "Titre", "Une valeur parmi : 3, 5, 6"),
    ("Consommation", "Centre financier",
     "Texte. Pour une ligne FTAP : le centre financier du référentiel (0349-CDBU-DITP)."),
    ("Feuil1", "N° EJ", "10 chiffres (ex. 0101234567)"),  # unknown sheet: the only field of that label
    ("Feuil1", "Année", ""),  # unknown sheet, a label of several sheets: no guess
    ("Projet", "", ""),  # about no field
])
def test_format_from_the_field_whatever_its_spelling(sheet: str, field: str, expected: str) -> None:
    f = finding("type-error", {"motif": "x"}, file="a.xlsx", sheet=sheet, field=field)
    assert expected_format(f) == expected


def test_no_sha256_anywhere_in_the_feedback_workbook(tmp_path: Path) -> None:
    records = b.assess_one(tmp_path, tabs=_bad_tables()).records
    wb = feedback_workbook(PORTEUR, records, SCOPE, _discrepancies())
    sha = records[0].sha256
    assert sha
    for sheet in wb.sheets:
        assert all("SHA" not in str(label) and sha not in str(value) for label, value, _ in sheet.facts)
        assert sha not in sheet.intro
        for table in sheet.tables:
            assert all("SHA" not in c.name for c in table.columns)
            assert not table.frame().astype(str).apply(lambda col: col.str.contains(sha)).any().any()
    assert [c.name for c in _table(wb, "Remontees").columns] == [
        "Fichier", "Identifiant du projet", "Période", "Version", "Date de situation", "Statut", "Lignes lues",
        "Lignes retenues", "Lignes rejetées", "Anomalies"]


def _discrepancies() -> pd.DataFrame:
    rows = [("AP-2024-01", "1300000001", 200000.0, 199000.0, 180000.0, 180000.0, 1000.0, 0.0, enums.ECART, PORTEUR,
             "Cabinet Conseil SAS", 20000.0, 19000.0, ""),
            ("AP-2024-01", "1300000009", 0.0, 5000.0, 0.0, 2500.0, -5000.0, -2500.0, enums.NON_DECLARE, "",
             "Robots SA", 0.0, 2500.0, "")]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def test_the_summary_counts_the_chorus_discrepancies(tmp_path: Path) -> None:
    records = b.assess_one(tmp_path).records
    wb = feedback_workbook(PORTEUR, records, SCOPE, _discrepancies())
    facts = _facts(wb)
    assert facts["Remontées examinées"] == 1
    assert (facts["Anomalies bloquantes"], facts["Avertissements"]) == (0, 0)
    assert facts["EJ en écart avec Chorus"] == 2
    assert facts["Écarts AE avec Chorus, en valeur absolue (€)"] == 6000.0
    assert facts["Écarts CP avec Chorus, en valeur absolue (€)"] == 2500.0
    assert facts["remontee.xlsx"] == "Retenue — 9 lignes retenues sur 9 lues"
    assert [s.name for s in wb.sheets] == ["Retour", "Rapprochement Chorus"]


def test_without_chorus_the_summary_says_the_reconciliation_was_not_made(tmp_path: Path) -> None:
    wb = feedback_workbook(PORTEUR, b.assess_one(tmp_path, tabs=_bad_tables()).records, SCOPE)
    assert _facts(wb)["EJ en écart avec Chorus"] == "non évalué : aucune restitution Chorus pour ce traitement"
    assert [s.name for s in wb.sheets] == ["Retour"]


def test_blocking_findings_on_cells_ask_to_correct_them_and_resend(bad: WorkbookSpec) -> None:
    intro = _retour(bad).intro
    assert intro.startswith("Retour de la DITP sur vos remontées FTAP de la période 2025-T2. ")
    assert "corrigez les cellules indiquées" in intro
    assert "renvoyez le fichier avec un numéro de version supérieur (champ « Version » de la feuille Projet)" in intro


def test_warnings_only_keep_the_return_and_ask_for_no_correction(tmp_path: Path) -> None:
    records = b.assess_one(tmp_path, proj=b.projet(fin=dt.date(2024, 9, 1))).records
    assert {f.slug for f in records[0].findings if f.severity == "Avertissement"} == {"criterion-duration"}
    intro = _retour(feedback_workbook(PORTEUR, records, SCOPE)).intro
    assert "vos données sont retenues telles que déclarées, sans correction ni nouvel envoi à faire" in intro
    assert "Vérifiez les points signalés en avertissement" in intro
    assert "cellule" not in intro
    assert "version supérieur" not in intro


def test_chorus_discrepancies_only_send_the_porteur_to_the_service_financier(tmp_path: Path) -> None:
    records = b.assess_one(tmp_path).records
    intro = _retour(feedback_workbook(PORTEUR, records, SCOPE, _discrepancies())).intro
    assert "Vos remontées ne comportent aucune anomalie à corriger. En revanche, 2 EJ de vos projets ne concordent " \
           "pas avec Chorus" in intro
    assert "vérifiez avec votre service financier les montants déclarés" in intro
    assert "l'imputation des EJ dans Chorus" in intro
    assert "cellule" not in intro
    assert "version supérieur" not in intro


def _record(file: str, status: str, version: int, *findings: Any) -> ReturnRecord:
    projet = Projet(project_id="AP-2024-01", period="2025-T2", version=version)
    return ReturnRecord(file=file, sha256="0" * 64, projet=projet, status=status, lines_read=9, lines_kept=9,
                        lines_rejected=0, findings=tuple(findings))


def test_a_blocking_finding_without_a_cell_asks_for_no_cell() -> None:
    unreadable = finding("file-unreadable", {"motif": "Archive endommagée."}, file="a.xlsx")
    intro = _retour(feedback_workbook(PORTEUR, [_record("a.xlsx", enums.REJETEE, 1, unreadable)], SCOPE)).intro
    assert "suivez la colonne « Que faire », puis renvoyez le fichier" in intro
    assert "cellule" not in intro


def test_findings_of_a_return_already_resent_call_for_no_correction() -> None:
    bad_cell = finding("type-error", {"motif": "x"}, file="v1.xlsx", sheet="Consommation", cell="Consommation!L2")
    records = [_record("v1.xlsx", enums.REMPLACEE, 1, bad_cell), _record("v2.xlsx", enums.RETENUE, 2)]
    intro = _retour(feedback_workbook(PORTEUR, records, SCOPE)).intro
    assert "portent sur des fichiers remplacés depuis par une version retenue" in intro
    assert "corrigez les cellules" not in intro
    rejected_then_resent = [_record("v1.xlsx", enums.REJETEE, 1, bad_cell), _record("v2.xlsx", enums.RETENUE, 2)]
    assert "corrigez les cellules" not in _retour(feedback_workbook(PORTEUR, rejected_then_resent, SCOPE)).intro


# --- criteria warnings point at the cells they are about ---------------------------------------------------


def _cells(tmp_path: Path, slug: str, **kwargs: Any) -> list[tuple[str, str, str]]:
    a = b.assess_one(tmp_path, **kwargs)
    return [(f.sheet, f.cell, f.field) for f in a.findings if f.slug == slug]


def test_cost_and_cofinancing_criteria_point_at_the_ae_cells(tmp_path: Path) -> None:
    ref = b.referentiel(**{"Plafond coût projet (€)": 500000.0, "Part de cofinancement visée": 0.6})
    assert _cells(tmp_path, "criterion-cost-cap", ref=ref) == [("Financement", "Financement!F2:F3", "AE (€)")]
    assert _cells(tmp_path, "criterion-cofinancing-share", ref=ref) == [("Financement", "Financement!F2:F3", "AE (€)")]
    tabs = b.tables()
    tabs["financement"] = tabs["financement"][:1]
    assert _cells(tmp_path, "criterion-cofinancing-missing", tabs=tabs) == [("Financement", "Financement!F2", "AE (€)")]


def test_roi_criterion_points_at_the_forecast_perennial_savings(tmp_path: Path) -> None:
    tabs = b.tables()
    tabs["economies"][1]["perenne"] = "Non"
    tabs["economies"][2]["montant"] = 149999.0  # 299 999 / 300 000 < 1, from rows 2 and 4
    tabs["economies"].append({"annee": 2025, "nature": "Fonctionnement", "statut": "Réalisée", "montant": 10.0,
                              "etp": None, "perenne": "Oui", "explication": None})
    assert _cells(tmp_path, "criterion-roi", tabs=tabs) == [("Économies", "Économies!D2:D4", "Montant (€)")]


def test_date_criteria_point_at_the_projet_date_cells(tmp_path: Path) -> None:
    proj = b.projet(fin=dt.date(2024, 9, 1), date_cadrage=dt.date(2024, 2, 2))
    assert _cells(tmp_path, "criterion-duration", proj=proj) == [("Projet", "Projet!B15", "Fin de l'accompagnement")]
    assert _cells(tmp_path, "criterion-cadrage-date", proj=proj) == [
        ("Projet", "Projet!B13", "Date du document de cadrage")]


def test_a_range_sorts_by_its_first_cell() -> None:
    ranged = finding("criterion-cost-cap", {"cout": "1", "plafond": "0"}, file="a.xlsx", sheet="Financement",
                     cell="Financement!F2:F9")
    after = finding("type-error", {"motif": "x"}, file="a.xlsx", sheet="Financement", cell="Financement!A3")
    before = finding("type-error", {"motif": "x"}, file="a.xlsx", sheet="Financement", cell="Financement!G1")
    assert sorted([after, ranged, before], key=finding_sort_key) == [before, ranged, after]


def test_an_unreadable_file_reads_in_good_french() -> None:
    unreadable = finding("file-unreadable", {"motif": "Archive endommagée."}, file="a.xlsx")
    record = dataclasses.replace(_record("a.xlsx", enums.REJETEE, 1, unreadable), lines_read=0, lines_kept=0)
    wb = feedback_workbook(PORTEUR, [record], SCOPE)
    assert _facts(wb)["a.xlsx"] == "Rejetée — 0 ligne retenue sur 0 lue"
    assert _anomalies(wb).iloc[0]["Format attendu"] == ""


def test_a_replaced_return_says_its_lines_count_for_nothing() -> None:
    wb = feedback_workbook(PORTEUR, [_record("v1.xlsx", enums.REMPLACEE, 1), _record("v2.xlsx", enums.RETENUE, 2)], SCOPE)
    assert _facts(wb)["v1.xlsx"] == "Remplacée — 9 lignes lues, non comptées : une version plus récente fait foi"
    assert _facts(wb)["v2.xlsx"] == "Retenue — 9 lignes retenues sur 9 lues"


# --- routing: whose workbook a return lands in ------------------------------------------------------------


def _feedback_of(tmp_path: Path, returns: list[tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]],
                 projets: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Porteur → the files of its feedback workbook, for returns written and assessed as a run would."""
    from ftap_pipeline.core.feedback import feedback_workbooks
    from ftap_pipeline.core.figures import compute_figures

    ref = b.referentiel()
    ref = dataclasses.replace(ref, projets=pd.DataFrame([
        {"project_id": pid, "intitule": "Projet", "porteur": porteur, "ministere": "Intérieur",
         "date_selection": dt.date(2024, 1, 10), "cycle": "2024-1"} for pid, porteur in projets]))
    paths = [b.write(tmp_path, f"r{i}.xlsx", proj, tabs) for i, (proj, tabs) in enumerate(returns)]
    assessment = b.assess_files(paths, ref)
    figures = compute_figures(assessment, ref, [], ReportScope.quarterly(Period(2025, 2)))
    out = {}
    for f in feedback_workbooks(figures):
        files = _table(f.workbook, "Remontees").frame()["Fichier"].tolist()
        out[f.porteur] = sorted(files)
        assert f.path.startswith("anomalies/")
    assert len({f.path for f in feedback_workbooks(figures)}) == len(out)
    return out


def test_feedback_follows_the_referentiel_not_the_name_typed(tmp_path: Path) -> None:
    bad = _bad_tables()
    returns = [(b.projet(project_id="AP-2024-01", porteur="DDETS du Nord (saisi à la main)"), bad),
               (b.projet(project_id="AP-2024-09", porteur="Préfecture de l'Hérault"), bad)]
    got = _feedback_of(tmp_path, returns, [("AP-2024-01", "Préfecture de l'Hérault")])
    # The return of an unknown project that claims the Hérault is not in the Hérault's workbook.
    assert got == {"Préfecture de l'Hérault": ["r0.xlsx"], "Porteur inconnu": ["r1.xlsx"]}


def test_two_long_porteur_names_never_share_a_workbook(tmp_path: Path) -> None:
    head = "Direction départementale de l'emploi, du travail et des solidarités de la"
    one, two = f"{head} Haute-Garonne", f"{head} Haute-Savoie"
    bad = _bad_tables()
    returns = [(b.projet(project_id="AP-2024-01", porteur=one), bad), (b.projet(project_id="AP-2024-02", porteur=two), bad)]
    got = _feedback_of(tmp_path, returns, [("AP-2024-01", one), ("AP-2024-02", two)])
    assert got == {one: ["r0.xlsx"], two: ["r1.xlsx"]}


def test_keys_are_unique_even_when_names_fold_alike() -> None:
    from ftap_pipeline.core.feedback import KEY_LENGTH, porteur_key, unique_keys

    keys = unique_keys(["DDETS de l'Ain", "DDETS de l Ain", "DDFiP de l'Hérault"])
    assert len(set(keys.values())) == 3
    assert keys["DDFiP de l'Hérault"] == "DDFiP_de_l_Herault"
    assert all(len(k) <= KEY_LENGTH for k in keys.values())
    long_name = "Direction " * 20
    assert len(porteur_key(long_name)) <= KEY_LENGTH
    assert porteur_key(long_name) != porteur_key(long_name + "x")
