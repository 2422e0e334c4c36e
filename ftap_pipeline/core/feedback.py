"""The porteurs' feedback workbooks: who gets one, what it says, where it is written. Pure, no IO."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Severity
from ftap_pipeline.contract.model import ReturnRecord
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.figures import Figures, ReportScope
from ftap_pipeline.core.report import ANOMALIES_COLUMNS, _finding_rows, rapprochement_table, remontees_table
from ftap_pipeline.core.report_spec import ColKind as K
from ftap_pipeline.core.report_spec import SheetSpec, TableSpec, WorkbookSpec

FEEDBACK_DIR = "anomalies"
UNKNOWN_PORTEUR = "Porteur inconnu"


@dataclass(frozen=True)
class Feedback:
    """One porteur's workbook, and the addresses it is meant for (the returns' `Courriel` fields)."""

    porteur: str
    path: str
    recipients: tuple[str, ...]
    workbook: WorkbookSpec


def porteur_key(name: str) -> str:
    """A file-name-safe form of a porteur's name (`DDFiP de l'Hérault` → `DDFiP_de_l_Herault`)."""
    folded = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_")[:60] or "porteur_inconnu"


def _porteur_of(record: ReturnRecord, referentiel: Referentiel) -> str:
    if record.porteur:
        return record.porteur
    projets = referentiel.projets
    match = projets[projets["project_id"] == record.project_id]
    return str(match["porteur"].iloc[0]) if not match.empty else UNKNOWN_PORTEUR


def feedback_workbooks(figures: Figures) -> tuple[Feedback, ...]:
    """One workbook per porteur with anomalies in this period's returns or discrepancies on its EJs.

    Returns of earlier periods were answered then; a file whose period cannot be read is answered now."""
    scope = figures.scope
    groups: dict[str, list[ReturnRecord]] = {}
    names: dict[str, str] = {}
    for r in figures.assessment.records:
        if r.period not in (None, str(scope.period)):
            continue
        name = _porteur_of(r, figures.referentiel)
        key = porteur_key(name)
        names[key] = name
        groups.setdefault(key, []).append(r)
    rapprochement = figures.chorus.rapprochement if figures.chorus is not None else None
    out = []
    for key, group in sorted(groups.items()):
        projects = {r.project_id for r in group if r.project_id}
        gaps = pd.DataFrame() if rapprochement is None else rapprochement[
            rapprochement["Identifiant du projet"].isin(projects)
            & ~rapprochement["Statut"].isin([enums.CONCORDANT, enums.HORS_DISPOSITIF])]
        if gaps.empty and not any(f.severity is not Severity.INFORMATION for r in group for f in r.findings):
            continue
        recipients = tuple(sorted({r.courriel for r in group if r.courriel}))
        out.append(Feedback(porteur=names[key], path=f"{FEEDBACK_DIR}/{key}_{scope.label}.xlsx", recipients=recipients,
                            workbook=feedback_workbook(names[key], group, scope, gaps)))
    return tuple(out)



def feedback_workbook(porteur: str, records: Sequence[ReturnRecord], scope: ReportScope,
                      discrepancies: pd.DataFrame | None = None) -> WorkbookSpec:
    """The porteur's own workbook: a summary on top, then each finding with its cell and what to do."""
    findings = [f for r in records for f in r.findings]
    bloquant = sum(1 for f in findings if f.severity is Severity.BLOQUANT)
    warnings = sum(1 for f in findings if f.severity is Severity.AVERTISSEMENT)
    facts: list[tuple[str, object, K]] = [("Porteur", porteur, K.TEXT), ("Période", str(scope.period), K.TEXT),
                                          ("Remontées examinées", len(records), K.INT),
                                          ("Anomalies bloquantes", bloquant, K.INT),
                                          ("Avertissements", warnings, K.INT)]
    facts += [(f"{r.file}", f"{r.status} — {r.lines_kept}/{r.lines_read} lignes retenues", K.TEXT) for r in records]
    sheet = SheetSpec("Retour", facts=tuple(facts),
                      intro="Retour de la DITP sur vos remontées FTAP : corrigez les cellules indiquées puis renvoyez "
                            "le fichier avec un numéro de version supérieur.",
                      tables=(TableSpec("Anomalies", ANOMALIES_COLUMNS, _finding_rows(findings),
                                        title="Anomalies, par remontée, feuille et cellule"),
                              remontees_table(records)))
    sheets = [sheet]
    if discrepancies is not None and not discrepancies.empty:
        table = rapprochement_table(discrepancies)
        sheets.append(SheetSpec("Rapprochement Chorus", tables=(table,),
                                intro="EJ de vos projets dont la déclaration ne concorde pas avec Chorus : vérifiez les "
                                      "montants déclarés et l'imputation dans Chorus."))
    return WorkbookSpec(title=f"Retour sur les remontées FTAP — {porteur} — {scope.period}", sheets=tuple(sheets),
                        created=scope.cutoff, subject="Anomalies des remontées FTAP")
