"""The report's figures, computed once from what was read: standing returns, missing returns, the AE/CP
follow-up and, when Chorus restitutions were given, the reconciliation.

Every sheet that shows a figure takes it from here, so two sheets cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract.findings import Finding, finding
from ftap_pipeline.contract.model import ChorusRestitution, ReturnRecord
from ftap_pipeline.contract.referentiel import P_TOLERANCE, Referentiel
from ftap_pipeline.core.assess import Assessment
from ftap_pipeline.core.chorus import AllMovements, all_movements
from ftap_pipeline.core.criteria import kept_by_file
from ftap_pipeline.core.economies import economies_table
from ftap_pipeline.core.indicateurs import indicateurs_table
from ftap_pipeline.core.period import Period
from ftap_pipeline.core.planning import planning_table
from ftap_pipeline.core.portefeuille import ProjectFigures, project_figures
from ftap_pipeline.core.rapprochement import chorus_totals, reconcile_ejs
from ftap_pipeline.core.select import first_kept_returns, missing_returns, standing_returns
from ftap_pipeline.core.suivi import declared_lines, suivi_aecp, suivi_tranches
from ftap_pipeline.core.tableau import TableauFinancement, tableau_financement


@dataclass(frozen=True)
class ReportScope:
    """What a run reports on: the period expected, the cut-off date, and the label of its outputs."""

    period: Period
    cutoff: dt.date
    label: str  # `2025-T2` or `comite-2025-03-14`
    committee: bool = False

    @classmethod
    def quarterly(cls, period: Period) -> ReportScope:
        return cls(period, period.last_day, str(period))

    @classmethod
    def committee_of(cls, day: dt.date) -> ReportScope:
        """The data as of a steering committee: cut at its date; the period expected is the last finished one."""
        return cls(Period.last_finished(day), day, f"comite-{day.isoformat()}", committee=True)

    @property
    def title(self) -> str:
        """How the report names what it covers: the quarter, or the committee it is for."""
        if self.committee:
            return f"comité de pilotage du {self.cutoff:%d/%m/%Y}"
        return f"trimestre {self.period}"

    def previous(self, comites: Sequence[dt.date]) -> ReportScope | None:
        """The cut-off `Évolutions` compares with: the previous quarter, or the previous committee of the
        référentiel's `Comités` (None for the first one)."""
        if not self.committee:
            return ReportScope.quarterly(self.period.previous())
        earlier = sorted(d for d in comites if d < self.cutoff)
        return ReportScope.committee_of(earlier[-1]) if earlier else None


@dataclass(frozen=True)
class ChorusFigures:
    """The three-way reconciliation, when at least one restitution was recognised."""

    rapprochement: pd.DataFrame
    #: Chorus AE and CP of restitutions without any date (cumulative AIFE files): reconciled per EJ, but
    #: outside the yearly follow-up. None when every restitution is dated.
    undated: tuple[float, float] | None


@dataclass(frozen=True)
class Figures:
    """Everything the consolidated workbook and the porteurs' workbooks show."""

    assessment: Assessment
    referentiel: Referentiel
    scope: ReportScope
    standing: Mapping[str, ReturnRecord]
    missing: tuple[Finding, ...]
    suivi: pd.DataFrame
    tranches: pd.DataFrame
    tableau: TableauFinancement
    chorus: ChorusFigures | None
    #: Findings no return holds: on the restitutions, the reconciliation and the run itself (a committee date).
    chorus_findings: tuple[Finding, ...]
    projects: Mapping[str, ProjectFigures]
    economies: pd.DataFrame
    indicateurs: pd.DataFrame
    planning: pd.DataFrame

    @property
    def missing_projects(self) -> frozenset[str]:
        return frozenset(f.project_id for f in self.missing)


def compute_figures(assessment: Assessment, referentiel: Referentiel, chorus: Sequence[ChorusRestitution],
                    scope: ReportScope, movements: AllMovements | None = None) -> Figures:
    """Select the standing returns, find the missing ones, and reconcile AE/CP three ways.

    `movements` are the restitutions' movements when the caller has them already (`all_movements`)."""
    cutoff = scope.cutoff
    standing = standing_returns(assessment.records, cutoff)
    parsed = {p.file: p for p in assessment.parsed}
    starts = {pid: parsed[r.file].projet.debut for pid, r in standing.items()}
    missing = missing_returns(assessment.records, referentiel.projets, starts, scope.period)
    declared = declared_lines(assessment.frames.consommation, standing, referentiel.nomenclature)
    chorus_findings = [f for c in chorus for f in c.findings]
    figures: ChorusFigures | None = None
    totals: pd.DataFrame | None = None
    if any(c.layout for c in chorus):
        every = movements if movements is not None else all_movements(list(chorus), referentiel)
        up_to = every.up_to(cutoff)
        rapprochement, reconciled = reconcile_ejs(declared, up_to, referentiel, referentiel.parameter(P_TOLERANCE))
        chorus_findings += [*every.findings, *reconciled]
        totals = chorus_totals(up_to, declared)
        figures = ChorusFigures(rapprochement, _undated(totals))
    if scope.committee and cutoff not in committee_dates(referentiel):
        chorus_findings.append(finding("committee-date-unknown", {"date": f"{cutoff:%d/%m/%Y}"}))
    suivi = suivi_aecp(declared, referentiel, cutoff, totals)
    tranches = suivi_tranches(suivi, referentiel, cutoff)
    frames = assessment.frames
    sheets = ("financement", "consommation", "economies", "indicateurs")
    kept = {sheet: kept_by_file(frames[sheet]) for sheet in sheets}
    empty = {sheet: frames[sheet].iloc[0:0] for sheet in sheets}
    projects = project_figures(standing, parsed, kept, empty, cutoff)
    economies = economies_table(standing, first_kept_returns(assessment.records, cutoff), frames.economies,
                                referentiel.economies_reference, cutoff)
    facts = {pid: f.facts for pid, f in projects.items()}
    return Figures(
        assessment=assessment, referentiel=referentiel, scope=scope, standing=standing, missing=tuple(missing),
        suivi=suivi, tranches=tranches, tableau=tableau_financement(declared, referentiel, cutoff), chorus=figures,
        chorus_findings=tuple(chorus_findings), projects=projects, economies=economies,
        indicateurs=indicateurs_table(suivi, tranches, economies, facts, referentiel, cutoff),
        planning=planning_table(referentiel.projets, {pid: f.parsed.projet for pid, f in projects.items()}, cutoff),
    )


def committee_dates(referentiel: Referentiel) -> list[dt.date]:
    comites = referentiel.comites
    return [d for d in comites["date"] if isinstance(d, dt.date)] if not comites.empty else []


def _undated(totals: pd.DataFrame) -> tuple[float, float] | None:
    """Cumulative AIFE files carry no year: their totals go to the reconciliation, not the yearly follow-up."""
    without_year = totals[totals["annee"].isna()]
    if without_year.empty:
        return None
    return float(without_year["ae_chorus"].sum()), float(without_year["cp_chorus"].sum())
