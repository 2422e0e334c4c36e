"""The pure assembly: from what was read to the whole report, as frozen specs ready to be written.

`assemble` decides everything a run produces (which workbooks, their content, their file names, who each
porteur's workbook is for, the manifest); the pipeline only reads before and writes after.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Severity
from ftap_pipeline.contract.model import ChorusRestitution, ReturnRecord
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core import report as rpt
from ftap_pipeline.core.assess import Assessment
from ftap_pipeline.core.figures import Figures, ReportScope, compute_figures
from ftap_pipeline.core.manifest import Manifest, manifest_of
from ftap_pipeline.core.report_spec import TableSpec, WorkbookSpec

FEEDBACK_DIR, EXPORTS_DIR = "anomalies", "donnees"
UNKNOWN_PORTEUR = "Porteur inconnu"


@dataclass(frozen=True)
class Feedback:
    """One porteur's workbook, and the addresses it is meant for (the returns' `Courriel` fields)."""

    porteur: str
    path: str
    recipients: tuple[str, ...]
    workbook: WorkbookSpec


@dataclass(frozen=True)
class Report:
    """Everything a run writes, with paths relative to its output folder."""

    scope: ReportScope
    workbook_path: str
    workbook: WorkbookSpec
    feedback: tuple[Feedback, ...]
    #: CSV exports: path → the table it exports.
    exports: tuple[tuple[str, TableSpec], ...]
    manifest: Manifest

    @property
    def paths(self) -> list[str]:
        """Every file of the report but the manifest, which lists them."""
        return [self.workbook_path, *(f.path for f in self.feedback), *(p for p, _ in self.exports)]


def assemble(assessment: Assessment, referentiel: Referentiel, chorus: Sequence[ChorusRestitution],
             scope: ReportScope, versions: Mapping[str, str]) -> Report:
    """Reconcile and lay out every output. `versions` are the software versions the manifest records."""
    figures = compute_figures(assessment, referentiel, chorus, scope)
    manifest = manifest_of(assessment.records, chorus, referentiel, scope, versions)
    workbook = rpt.consolidated_workbook(figures, manifest.lines())
    exports = tuple((f"{EXPORTS_DIR}/{t.csv}", t) for t in workbook.tables() if t.csv)
    return Report(scope=scope, workbook_path=f"FTAP_suivi_{scope.label}.xlsx", workbook=workbook,
                  feedback=feedback_workbooks(figures), exports=exports, manifest=manifest)


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
                            workbook=rpt.feedback_workbook(names[key], group, scope, gaps)))
    return tuple(out)


__all__ = ["Feedback", "Report", "assemble", "porteur_key"]
