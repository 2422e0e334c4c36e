"""Lay out the consolidated workbook and the porteurs' workbooks (sorties-v1) from the figures: pure, no IO."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.columns import FILE, REJECTED
from ftap_pipeline.contract.findings import Finding, Severity
from ftap_pipeline.contract.labels import normalise_label
from ftap_pipeline.contract.model import Projet, ReturnRecord
from ftap_pipeline.core.figures import Figures
from ftap_pipeline.core.report_spec import ColKind as K
from ftap_pipeline.core.report_spec import SheetSpec, TableSpec, WorkbookSpec, cols
from ftap_pipeline.core.roi import project_roi

A = K.AMOUNT

REMONTEES_COLUMNS = cols(("Fichier", K.TEXT, 34), ("SHA-256", K.TEXT, 20), ("Identifiant du projet", K.TEXT, 14),
                         ("Période", K.TEXT, 10), ("Statut", K.TEXT, 22), ("Lignes lues", K.INT),
                         ("Lignes retenues", K.INT), ("Lignes rejetées", K.INT), ("Anomalies", K.INT),
                         ("Version", K.INT), ("Date de situation", K.DATE), ("Porteur du projet", K.TEXT, 30))
ANOMALIES_COLUMNS = cols(("Fichier", K.TEXT, 34), ("Feuille", K.TEXT, 14), ("Cellule", K.TEXT, 18),
                         ("Champ", K.TEXT, 22), ("Valeur lue", K.TEXT, 20), ("Règle", K.TEXT, 26),
                         ("Gravité", K.TEXT, 14), ("Message", K.TEXT, 70), ("Que faire", K.TEXT, 60),
                         ("Identifiant du projet", K.TEXT, 14))


_CELL = re.compile(r"^(?:(?P<sheet>.*)!)?(?P<col>[A-Z]+)(?P<row>\d+)")


_SHEET_ORDER = {normalise_label(s.name): i for i, s in enumerate(layout.SHEETS)}


def finding_sort_key(f: Finding) -> tuple[object, ...]:
    """Sort findings by file, then sheet (the return's order, whatever the sheet's spelling), then cell."""
    order = _SHEET_ORDER.get(normalise_label(f.sheet), len(_SHEET_ORDER)) if f.sheet else -1
    m = _CELL.match(f.cell or "")
    position = (int(m.group("row")), len(m.group("col")), m.group("col")) if m else (0, 0, "")
    return (f.file, order, *position, f.slug)


def _finding_rows(findings: Sequence[Finding]) -> pd.DataFrame:
    rows = [{"Fichier": f.file, "Feuille": f.sheet, "Cellule": f.cell, "Champ": f.field, "Valeur lue": f.value,
             "Règle": f.slug, "Gravité": str(f.severity), "Message": f.message, "Que faire": f.action,
             "Identifiant du projet": f.project_id}
            for f in sorted(findings, key=finding_sort_key)]
    return pd.DataFrame(rows, columns=[c.name for c in ANOMALIES_COLUMNS])


def remontees_table(records: Sequence[ReturnRecord]) -> TableSpec:
    rows = [{"Fichier": r.file, "SHA-256": r.sha256, "Identifiant du projet": r.project_id, "Période": r.period,
             "Statut": r.status, "Lignes lues": r.lines_read, "Lignes retenues": r.lines_kept,
             "Lignes rejetées": r.lines_rejected,
             "Anomalies": sum(1 for f in r.findings if f.severity is not Severity.INFORMATION),
             "Version": r.version, "Date de situation": r.date_situation, "Porteur du projet": r.porteur}
            for r in sorted(records, key=lambda r: r.file)]
    return TableSpec("Remontees", REMONTEES_COLUMNS, pd.DataFrame(rows), csv="remontees.csv")


def anomalies_table(findings: Sequence[Finding]) -> TableSpec:
    return TableSpec("Anomalies", ANOMALIES_COLUMNS, _finding_rows(findings), csv="anomalies.csv")


def suivi_table(suivi: pd.DataFrame, with_chorus: bool) -> TableSpec:
    df = pd.DataFrame({
        "Année": suivi["annee"], "Catégorie": suivi["categorie"], "Titre": suivi["titre"],
        "Enveloppe AE (€)": suivi["env_ae"], "Enveloppe CP (€)": suivi["env_cp"],
        "AE engagées (€)": suivi["ae"], "CP payés (€)": suivi["cp"], "Taux AE": suivi["taux_ae"],
        "Taux CP": suivi["taux_cp"], "Alerte": suivi["alerte"],
        "Retraits d'AE antérieures (€)": suivi["retraits"],
        "Enveloppe AE cumulée (€)": suivi["env_ae_cum"], "Enveloppe CP cumulée (€)": suivi["env_cp_cum"],
        "AE nettes cumulées (€)": suivi["ae_cum"], "CP payés cumulés (€)": suivi["cp_cum"],
    })
    columns = cols(("Année", K.INT, 8), ("Catégorie", K.TEXT, 16), ("Titre", K.INT, 7), ("Enveloppe AE (€)", A),
                   ("Enveloppe CP (€)", A), ("AE engagées (€)", A), ("CP payés (€)", A), ("Taux AE", K.RATE, 9),
                   ("Taux CP", K.RATE, 9), ("Alerte", K.TEXT, 40), ("Retraits d'AE antérieures (€)", A),
                   ("Enveloppe AE cumulée (€)", A), ("Enveloppe CP cumulée (€)", A), ("AE nettes cumulées (€)", A),
                   ("CP payés cumulés (€)", A))
    if with_chorus:
        df["AE Chorus (€)"] = suivi["ae_chorus"]
        df["CP Chorus (€)"] = suivi["cp_chorus"]
        df["Retraits Chorus (€)"] = suivi["retraits_chorus"]
        columns = columns + cols(("AE Chorus (€)", A), ("CP Chorus (€)", A), ("Retraits Chorus (€)", A))
    return TableSpec("SuiviAECP", columns, df, title="Consommation FTAP par année, catégorie et titre",
                     csv="suivi_ae_cp.csv")


def tranches_table(tranches: pd.DataFrame) -> TableSpec:
    df = pd.DataFrame({
        "Année": tranches["annee"], "Date de décision": tranches["date_decision"],
        "Tranche AE (€)": tranches["tranche_ae"], "Tranche CP (€)": tranches["tranche_cp"],
        "Enveloppe AE (€)": tranches["env_ae"], "Enveloppe CP (€)": tranches["env_cp"],
        "AE engagées (€)": tranches["ae"], "CP payés (€)": tranches["cp"],
        "Taux AE": tranches["taux_ae"], "Taux CP": tranches["taux_cp"], "Alerte": tranches["alerte"],
    })
    columns = cols(("Année", K.INT, 8), ("Date de décision", K.DATE, 14), ("Tranche AE (€)", A), ("Tranche CP (€)", A),
                   ("Enveloppe AE (€)", A), ("Enveloppe CP (€)", A), ("AE engagées (€)", A), ("CP payés (€)", A),
                   ("Taux AE", K.RATE, 9), ("Taux CP", K.RATE, 9), ("Alerte", K.TEXT, 40))
    return TableSpec("SuiviTranches", columns, df, title="Consommation FTAP par année, face à la tranche décidée",
                     csv="suivi_tranches.csv")


def financement_table(tableau: pd.DataFrame) -> TableSpec:
    columns: list[tuple[str, K, int]] = [("Catégorie", K.TEXT, 28), ("Ligne", K.TEXT, 40)]
    columns += [(c, A, 16) for c in tableau.columns if c.startswith(("AE ", "CP "))]
    columns += [("Source", K.TEXT, 30)]
    return TableSpec("TableauFinancement", cols(*columns), tableau, csv="tableau_financement.csv",
                     title="Tableau de financement du contrat (§2) et réalisé, programme 349")


def improves(indicateurs: pd.DataFrame, axe: str) -> bool:
    """At least one row of the axis with a measured value strictly better than its reference."""
    rows = indicateurs[indicateurs["axe"] == axe]
    up = (rows["sens"] == "Hausse") & (rows["valeur_mesuree"] > rows["valeur_reference"])
    down = (rows["sens"] == "Baisse") & (rows["valeur_mesuree"] < rows["valeur_reference"])
    return bool((up | down).any())


def portefeuille_table(figures: Figures) -> TableSpec:
    assessment, standing, cutoff = figures.assessment, figures.standing, figures.scope.cutoff
    missing = figures.missing_projects
    parsed = {p.file: p for p in assessment.parsed}
    frames = assessment.frames
    rows = []
    for ref in figures.referentiel.projets.sort_values("project_id").itertuples():
        record = standing.get(str(ref.project_id))
        p = parsed.get(record.file) if record else None
        proj = p.projet if p else Projet()
        row: dict[str, object] = {"Identifiant du projet": ref.project_id, "Intitulé du projet": ref.intitule,
                                  "Porteur du projet": ref.porteur, "Ministère": ref.ministere,
                                  "Phase": proj.phase, "Début de l'accompagnement": proj.debut,
                                  "Fin de l'accompagnement": proj.fin,
                                  "Dernière remontée": record.period if record else None}
        if p is not None and record is not None:
            fin = frames["financement"]
            fin = fin[(fin[FILE] == p.file) & ~fin[REJECTED]]
            total = float(fin["ae"].sum())
            ftap = float(fin[fin["financeur"] == enums.FTAP]["ae"].sum())
            ind = frames["indicateurs"]
            ind = ind[(ind[FILE] == p.file) & ~ind[REJECTED]]
            eco = frames["economies"]
            cons = frames["consommation"]
            roi = project_roi(proj.fin, eco[(eco[FILE] == p.file) & ~eco[REJECTED]], fin,
                              cons[(cons[FILE] == p.file) & ~cons[REJECTED]], cutoff)
            criteria = sorted({f.rule.title for f in record.findings if f.slug.startswith("criterion-")
                               and f.severity is Severity.AVERTISSEMENT})
            row.update({"Coût total (€)": total, "Part FTAP": ftap / total if total else None,
                        "ROI à 3 ans": roi.realised_ftap.shown, "ROI à 3 ans (coût total)": roi.realised_total.shown,
                        "ROI prévisionnel à 3 ans": roi.forecast_ftap.shown,
                        "ROI prévisionnel (coût total)": roi.forecast_total.shown,
                        "Qualité de service améliorée": enums.OUI if improves(ind, enums.AXE_QUALITE) else enums.NON,
                        "Conditions de travail améliorées": enums.OUI if improves(ind, enums.AXE_TRAVAIL)
                        else enums.NON,
                        "Critères §4.3": " ; ".join(criteria) if criteria else "Respectés",
                        "Statut de la dernière remontée": record.status})
        row["Remontée manquante"] = enums.OUI if ref.project_id in missing else enums.NON
        rows.append(row)
    columns = cols(("Identifiant du projet", K.TEXT, 14), ("Intitulé du projet", K.TEXT, 40),
                   ("Porteur du projet", K.TEXT, 30), ("Ministère", K.TEXT, 20), ("Phase", K.TEXT, 14),
                   ("Début de l'accompagnement", K.DATE, 14), ("Fin de l'accompagnement", K.DATE, 14),
                   ("Dernière remontée", K.TEXT, 12), ("Coût total (€)", A), ("Part FTAP", K.RATE, 10),
                   ("ROI à 3 ans", K.RATIO, 10), ("Qualité de service améliorée", K.TEXT, 12),
                   ("Conditions de travail améliorées", K.TEXT, 12), ("Critères §4.3", K.TEXT, 50),
                   ("Remontée manquante", K.TEXT, 12), ("Statut de la dernière remontée", K.TEXT, 22),
                   ("ROI à 3 ans (coût total)", K.RATIO, 10), ("ROI prévisionnel à 3 ans", K.RATIO, 10),
                   ("ROI prévisionnel (coût total)", K.RATIO, 10), ("Note ROI", K.TEXT, 14))
    return TableSpec("Portefeuille", columns, pd.DataFrame(rows), csv="portefeuille.csv")


def synthese_facts(figures: Figures) -> tuple[tuple[str, object, K], ...]:
    records, suivi, scope = figures.assessment.records, figures.suivi, figures.scope
    undated_chorus = figures.chorus.undated if figures.chorus else None
    count = {s: sum(1 for r in records if r.status == s) for s in enums.RETURN_STATUSES}
    year = scope.cutoff.year
    this_year = suivi[suivi["annee"] == year]
    return (
        ("Période", str(scope.period), K.TEXT),
        ("Date d'arrêté", scope.cutoff, K.DATE),
        ("Remontées reçues", len(records), K.INT),
        *((f"Remontées « {s} »", count[s], K.INT) for s in enums.RETURN_STATUSES),
        ("Projets sans remontée retenue pour la période", len(figures.missing_projects), K.INT),
        (f"Enveloppe AE FTAP {year} (€)", float(this_year["env_ae"].sum()), K.AMOUNT),
        (f"AE FTAP engagées {year} (€)", float(this_year["ae"].sum()), K.AMOUNT),
        (f"CP FTAP payés {year} (€)", float(this_year["cp"].sum()), K.AMOUNT),
        ("AE FTAP engagées depuis le début (€)", float(suivi["ae"].sum() + suivi["retraits"].sum()), K.AMOUNT),
        ("CP FTAP payés depuis le début (€)", float(suivi["cp"].sum()), K.AMOUNT),
        ("Lignes en alerte (Suivi AE-CP)", int((suivi["alerte"] != "").sum()), K.INT),
        *((("AE Chorus sans année, hors suivi annuel (restitutions cumulées) (€)", undated_chorus[0], K.AMOUNT),
           ("CP Chorus sans année, hors suivi annuel (restitutions cumulées) (€)", undated_chorus[1], K.AMOUNT))
          if undated_chorus else ()),
    )


def rapprochement_table(rapprochement: pd.DataFrame) -> TableSpec:
    columns = cols(("Identifiant du projet", K.TEXT, 14), ("N° EJ", K.TEXT, 13), ("AE déclarées (€)", A),
                   ("AE Chorus (€)", A), ("CP déclarés (€)", A), ("CP Chorus (€)", A), ("Écart AE (€)", A),
                   ("Écart CP (€)", A), ("Statut", K.TEXT, 18), ("Porteur du projet", K.TEXT, 30),
                   ("Fournisseur", K.TEXT, 28), ("Reste à payer déclaré (€)", A), ("Reste à payer Chorus (€)", A),
                   ("Commentaire", K.TEXT, 50))
    return TableSpec("Rapprochement", columns, rapprochement, csv="rapprochement.csv")


def consolidated_workbook(figures: Figures, about: Sequence[tuple[str, str]]) -> WorkbookSpec:
    """The secretariat's workbook; `about` are the run's facts (inputs, versions) for its last sheet."""
    scope = figures.scope
    sheets = [
        SheetSpec("Synthèse", facts=synthese_facts(figures),
                  intro=f"Suivi du dispositif FTAP « Lean management – services déconcentrés », programme 349, "
                        f"arrêté au {scope.cutoff:%d/%m/%Y}."),
        SheetSpec("Tableau de financement", tables=(financement_table(figures.tableau),)),
        SheetSpec("Suivi AE-CP", tables=(suivi_table(figures.suivi, figures.chorus is not None),
                                          tranches_table(figures.tranches))),
    ]
    if figures.chorus is not None:
        sheets.append(SheetSpec("Rapprochement Chorus", tables=(rapprochement_table(figures.chorus.rapprochement),)))
    sheets += [
        SheetSpec("Portefeuille", tables=(portefeuille_table(figures),)),
        SheetSpec("Remontées", tables=(remontees_table(figures.assessment.records),)),
        SheetSpec("Anomalies", tables=(anomalies_table([*figures.assessment.findings, *figures.missing,
                                                         *figures.chorus_findings]),)),
        SheetSpec("À propos", facts=tuple((k, v, K.TEXT) for k, v in about)),
    ]
    return WorkbookSpec(title=f"Suivi FTAP — {scope.label}", sheets=tuple(sheets), created=scope.cutoff,
                        subject="Suivi AE/CP du programme 349 — dispositif DITP")
