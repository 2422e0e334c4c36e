"""Lay out the consolidated workbook and the porteurs' workbooks (sorties-v1) from the figures: pure, no IO."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.findings import Finding, Severity
from ftap_pipeline.contract.labels import normalise_label
from ftap_pipeline.contract.model import ReturnRecord
from ftap_pipeline.core import secretariat_tables as st
from ftap_pipeline.core.figures import Figures, ReportScope
from ftap_pipeline.core.report_spec import ColKind as K
from ftap_pipeline.core.report_spec import Column, Highlight, SheetSpec, TableSpec, Tone, WorkbookSpec, cols
from ftap_pipeline.core.synthese import CHARTS, synthese_facts, synthese_tables

A = K.AMOUNT

REMONTEES_COLUMNS = cols(("Fichier", K.TEXT, 34), ("SHA-256", K.TEXT, 20), ("Identifiant du projet", K.TEXT, 14),
                         ("Période", K.TEXT, 10), ("Statut", K.TEXT, 22), ("Lignes lues", K.INT),
                         ("Lignes retenues", K.INT), ("Lignes rejetées", K.INT), ("Anomalies", K.INT),
                         ("Version", K.INT), ("Date de situation", K.DATE), ("Porteur du projet", K.TEXT, 30))
ANOMALIES_COLUMNS = cols(("Fichier", K.TEXT, 34), ("Feuille", K.TEXT, 14), ("Cellule", K.TEXT, 18),
                         ("Champ", K.TEXT, 22), ("Valeur lue", K.TEXT, 20), ("Règle", K.TEXT, 26),
                         ("Gravité", K.TEXT, 14), ("Message", K.TEXT, 70), ("Que faire", K.TEXT, 60),
                         ("Identifiant du projet", K.TEXT, 14))


ANOMALIES_TABLE_COLUMNS = (*ANOMALIES_COLUMNS[:2], Column("Période", K.TEXT, 10), *ANOMALIES_COLUMNS[2:])

_CELL = re.compile(r"^(?:(?P<sheet>.*)!)?(?P<col>[A-Z]+)(?P<row>\d+)")


_SHEET_ORDER = {normalise_label(s.name): i for i, s in enumerate(layout.SHEETS)}


def finding_sort_key(f: Finding) -> tuple[object, ...]:
    """Sort findings by file, then sheet (the return's order, whatever the sheet's spelling), then cell."""
    order = _SHEET_ORDER.get(normalise_label(f.sheet), len(_SHEET_ORDER)) if f.sheet else -1
    m = _CELL.match(f.cell or "")
    position = (int(m.group("row")), len(m.group("col")), m.group("col")) if m else (0, 0, "")
    return (f.file, order, *position, f.slug)


def _finding_rows(findings: Sequence[Finding], sort: bool = True) -> pd.DataFrame:
    rows = [{"Fichier": f.file, "Feuille": f.sheet, "Cellule": f.cell, "Champ": f.field, "Valeur lue": f.value,
             "Règle": f.slug, "Gravité": str(f.severity), "Message": f.message, "Que faire": f.action,
             "Identifiant du projet": f.project_id}
            for f in (sorted(findings, key=finding_sort_key) if sort else findings)]
    return pd.DataFrame(rows, columns=[c.name for c in ANOMALIES_COLUMNS])


def remontees_table(records: Sequence[ReturnRecord]) -> TableSpec:
    rows = [{"Fichier": r.file, "SHA-256": r.sha256, "Identifiant du projet": r.project_id, "Période": r.period,
             "Statut": r.status, "Lignes lues": r.lines_read, "Lignes retenues": r.lines_kept,
             "Lignes rejetées": r.lines_rejected,
             "Anomalies": sum(1 for f in r.findings if f.severity is not Severity.INFORMATION),
             "Version": r.version, "Date de situation": r.date_situation, "Porteur du projet": r.porteur}
            for r in sorted(records, key=lambda r: r.file)]
    return TableSpec("Remontees", REMONTEES_COLUMNS, pd.DataFrame(rows), csv="remontees.csv",
                     highlights=(Highlight(("Statut",), Tone.ALERT, (enums.REJETEE,)),
                                 Highlight(("Statut",), Tone.WARNING, (enums.RETENUE_AVEC_ANOMALIES,))))


def anomalies_table(findings: Sequence[Finding], period: str) -> TableSpec:
    """This period's anomalies first (earlier quarters' were answered then), each group by file and cell."""
    ordered = sorted(findings, key=lambda f: (f.period not in (period, None, ""), finding_sort_key(f)))
    rows = _finding_rows(ordered, sort=False)
    rows.insert(2, "Période", [f.period or "" for f in ordered])
    return TableSpec("Anomalies", ANOMALIES_TABLE_COLUMNS, rows, csv="anomalies.csv",
                     highlights=(Highlight(("Gravité",), Tone.ALERT, (str(Severity.BLOQUANT),)),
                                 Highlight(("Gravité",), Tone.WARNING, (str(Severity.AVERTISSEMENT),))))


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
                     highlights=(Highlight(("Alerte",)),),
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
                     highlights=(Highlight(("Alerte",)),),
                     csv="suivi_tranches.csv")


def rapprochement_table(rapprochement: pd.DataFrame) -> TableSpec:
    columns = cols(("Identifiant du projet", K.TEXT, 14), ("N° EJ", K.TEXT, 13), ("AE déclarées (€)", A),
                   ("AE Chorus (€)", A), ("CP déclarés (€)", A), ("CP Chorus (€)", A), ("Écart AE (€)", A),
                   ("Écart CP (€)", A), ("Statut", K.TEXT, 18), ("Porteur du projet", K.TEXT, 30),
                   ("Fournisseur", K.TEXT, 28), ("Reste à payer déclaré (€)", A), ("Reste à payer Chorus (€)", A),
                   ("Commentaire", K.TEXT, 50))
    # Lines needing action first: every status but `Concordant`, in the order in which the rules apply.
    needs_action = [status for status in enums.RECONCILIATION_STATUSES if status != enums.CONCORDANT]
    order = {status: i for i, status in enumerate([*needs_action, enums.CONCORDANT])}
    ranked = rapprochement.assign(_rank=rapprochement["Statut"].map(order)) if not rapprochement.empty else rapprochement
    if not ranked.empty:
        ranked = ranked.sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)
    problems = tuple(status for status in needs_action if status != enums.HORS_DISPOSITIF)
    return TableSpec("Rapprochement", columns, ranked, csv="rapprochement.csv",
                     highlights=(Highlight(("Statut",), Tone.ALERT, problems),
                                 Highlight(("Statut",), Tone.WARNING, (enums.HORS_DISPOSITIF,))))


def consolidated_workbook(figures: Figures, about: Sequence[tuple[str, str]],
                          evolutions: pd.DataFrame | None) -> WorkbookSpec:
    """The secretariat's workbook. `about` are the run's facts (inputs, versions) for its last sheet;
    `evolutions` the changes since the previous cut-off (None: there is none to compare with)."""
    scope = figures.scope
    title = f"Suivi FTAP — {scope.title}"
    changes = evolutions if evolutions is not None else pd.DataFrame()
    sheets = [
        SheetSpec("Synthèse", facts=synthese_facts(figures), tables=synthese_tables(figures), charts=CHARTS,
                  intro=f"Dispositif FTAP « Lean management – services déconcentrés », programme 349 : "
                        f"{scope.title}, arrêté au {scope.cutoff:%d/%m/%Y}.", one_page=True),
        SheetSpec("Évolutions", tables=(st.evolutions_table(changes),),
                  intro=_evolutions_intro(scope, evolutions)),
        SheetSpec("Indicateurs", tables=(st.indicateurs_table(figures),)),
        SheetSpec("Tableau de financement", tables=st.financement_tables(figures.tableau)),
        SheetSpec("Suivi AE-CP", tables=(suivi_table(figures.suivi, figures.chorus is not None),
                                          tranches_table(figures.tranches))),
    ]
    if figures.chorus is not None:
        sheets.append(SheetSpec("Rapprochement Chorus", tables=(rapprochement_table(figures.chorus.rapprochement),)))
    sheets += [
        SheetSpec("Économies", tables=(st.economies_table(figures),)),
        SheetSpec("Portefeuille", tables=(st.portefeuille_table(figures),)),
        SheetSpec("Planning", tables=(st.planning_table(figures),)),
        SheetSpec("Remontées", tables=(remontees_table(figures.assessment.records),)),
        SheetSpec("Anomalies", tables=(anomalies_table([*figures.assessment.findings, *figures.missing,
                                                         *figures.chorus_findings], str(scope.period)),)),
        SheetSpec("À propos", facts=tuple((k, v, K.TEXT) for k, v in about)),
    ]
    return WorkbookSpec(title=title, sheets=tuple(sheets), created=scope.cutoff,
                        header=f"{title} — arrêté au {scope.cutoff:%d/%m/%Y}",
                        subject="Suivi AE/CP du programme 349, indicateurs du contrat de transformation — DITP")


def _evolutions_intro(scope: ReportScope, evolutions: pd.DataFrame | None) -> str:
    if evolutions is None:
        return ("Première période : il n'y a pas de situation antérieure à laquelle comparer celle-ci."
                if not scope.committee else
                "Premier comité du référentiel : il n'y a pas de comité antérieur auquel comparer cette situation.")
    since = "le comité précédent" if scope.committee else "le trimestre précédent"
    if evolutions.empty:
        return f"Aucun changement depuis {since}."
    return f"Ce qui a changé depuis {since}, la même chaîne de traitement appliquée aux mêmes entrées à sa date."
