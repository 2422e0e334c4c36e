"""The pure assembly: from what was read to the whole report, as frozen specs ready to be written.

`assemble` decides everything a run produces (which workbooks, their content, their file names, who each
porteur's workbook is for, the messages to send, the manifest); the pipeline only reads before and writes after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import pandas as pd

from ftap_pipeline.contract.model import ChorusRestitution
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core import report as rpt
from ftap_pipeline.core.assess import Assessment
from ftap_pipeline.core.chorus import AllMovements, all_movements
from ftap_pipeline.core.courriels import Courrier, plan_courriers
from ftap_pipeline.core.evolutions import Standing, evolutions_table, standing_of
from ftap_pipeline.core.feedback import Feedback, feedback_workbooks, porteur_key
from ftap_pipeline.core.figures import Figures, ReportScope, committee_dates, compute_figures
from ftap_pipeline.core.manifest import Manifest, manifest_of
from ftap_pipeline.core.report_spec import TableSpec, WorkbookSpec
from ftap_pipeline.core.synthese import Fact, synthese_facts

EXPORTS_DIR = "donnees"

T = TypeVar("T")


class Beside(Protocol):
    """Runs `compute` and `main`, in any order or side by side, and gives `compute`'s value."""

    def __call__(self, compute: Callable[[], T], main: Callable[[], object], /) -> T: ...


def in_turn(compute: Callable[[], T], main: Callable[[], object], /) -> T:
    """`Beside` in this process: `main`, then `compute`."""
    main()
    return compute()


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
    #: What the run sends, in order: the secretariat's mail, the feedback workbooks, the reminders.
    courriers: tuple[Courrier, ...]
    #: The Synthèse's facts, for a summary outside the workbook (the run's artifact).
    facts: tuple[Fact, ...]

    @property
    def paths(self) -> list[str]:
        """Every file of the report but the manifest, which lists them."""
        return [self.workbook_path, *(f.path for f in self.feedback), *(p for p, _ in self.exports)]


def assemble(assessment: Assessment, referentiel: Referentiel, chorus: Sequence[ChorusRestitution],
             scope: ReportScope, versions: Mapping[str, str], movements: AllMovements | None = None, *,
             beside: Beside = in_turn) -> Report:
    """Reconcile and lay out every output. `versions` are the software versions the manifest records;
    `movements` are `all_movements(chorus, referentiel)` when the caller has them already.

    The figures at the previous cut-off (for `Évolutions`) do not depend on this cut-off's, nor on the porteurs'
    workbooks: `beside` may compute them on another core meanwhile (the pipeline forks; see `io/forked.py`)."""
    if movements is None and any(c.layout for c in chorus):
        movements = all_movements(list(chorus), referentiel)
    laid_out: list[tuple[Figures, tuple[Feedback, ...]]] = []

    def this_cutoff() -> None:
        figures = compute_figures(assessment, referentiel, chorus, scope, movements)
        laid_out.append((figures, feedback_workbooks(figures)))

    previous = beside(lambda: previous_standing(assessment, referentiel, chorus, scope, movements), this_cutoff)
    ((figures, feedback),) = laid_out
    changes = None if previous is None else evolutions_table(standing_of(figures), previous)
    manifest = manifest_of(assessment.records, assessment.later, chorus, referentiel, scope, versions)
    workbook = rpt.consolidated_workbook(figures, manifest.lines(), changes)
    exports = tuple((f"{EXPORTS_DIR}/{t.csv}", t) for t in workbook.tables() if t.csv)
    workbook_path = f"FTAP_suivi_{scope.label}.xlsx"
    return Report(scope=scope, workbook_path=workbook_path, workbook=workbook, feedback=feedback, exports=exports,
                  manifest=manifest, courriers=plan_courriers(figures, feedback, workbook_path),
                  facts=synthese_facts(figures))


def previous_standing(assessment: Assessment, referentiel: Referentiel, chorus: Sequence[ChorusRestitution],
                      scope: ReportScope, movements: AllMovements | None = None) -> Standing | None:
    """The same assessment and figures at the previous cut-off, reduced to what `Évolutions` compares.

    None when there is nothing to compare with: the first committee, or no return dated by the previous
    cut-off."""
    previous_scope = scope.previous(committee_dates(referentiel))
    if previous_scope is None:
        return None
    before = assessment.as_of(previous_scope.cutoff)
    if not before.records:
        return None
    return standing_of(compute_figures(before, referentiel, chorus, previous_scope, movements))


def changes_since_previous(figures: Figures, chorus: Sequence[ChorusRestitution],
                           movements: AllMovements | None = None) -> pd.DataFrame | None:
    """`Évolutions`: these figures compared with the same assessment's at the previous cut-off (None: nothing
    to compare with)."""
    previous = previous_standing(figures.assessment, figures.referentiel, chorus, figures.scope, movements)
    return None if previous is None else evolutions_table(standing_of(figures), previous)


__all__ = ["Beside", "Courrier", "Feedback", "Report", "assemble", "in_turn", "porteur_key"]
