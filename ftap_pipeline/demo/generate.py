"""Write the demo inputs and say what a run on them should find.

The one place that sequences the job: simulate, inject the faults, then write the référentiel,
the returns and the Chorus extracts through `ftap_pipeline.io`. The order matters: the Chorus
noise is drawn from the simulation's generator after everything else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from ftap_pipeline.demo import chorus, faults, referentiel
from ftap_pipeline.demo.faults import DamagedCopy
from ftap_pipeline.demo.model import Project
from ftap_pipeline.demo.returns import ftap_ae_engagements
from ftap_pipeline.demo.simulation import simulate
from ftap_pipeline.demo.specs import MISSING_PROJECT, PERIOD, RETENUE
from ftap_pipeline.io.demo_files import ensure_folder, write_truncated_copy
from ftap_pipeline.io.return_writer import write_return


@dataclass(frozen=True)
class DemoSummary:
    """What `write_demo` wrote, and what a run on it should find (for tests and the README)."""

    root: Path
    referentiel: Path
    returns: tuple[Path, ...]
    chorus: tuple[Path, ...]
    #: The period the demo is built for (`ftap run --period`).
    period: str
    #: Expected status of every return file, by file name.
    expected_statuses: Mapping[str, str]
    #: (project, period) pairs with no return: `Remontée manquante`.
    missing_returns: tuple[tuple[str, str], ...]
    #: Expected reconciliation status of the injected Chorus discrepancies, by N° EJ (or `(sans EJ)`).
    reconciliation: Mapping[str, str]
    #: FTAP AE engaged (withdrawals left out) by (exercice, catégorie), as the returns standing at the period say.
    ftap_ae: Mapping[tuple[int, str], float]

    @property
    def n_returns(self) -> int:
        return len(self.returns)

    @property
    def faulty(self) -> dict[str, str]:
        """The return files whose expected status is not a plain `Retenue`."""
        return {name: status for name, status in self.expected_statuses.items() if status != RETENUE}


def _write_returns(folder: Path, projects: Sequence[Project]) -> tuple[dict[str, str], dict[tuple[int, str], float]]:
    """Every quarterly return, then the faulty files; returns the expected statuses and the FTAP AE declared."""
    ensure_folder(folder)
    statuses: dict[str, str] = {}
    ftap_ae: dict[tuple[int, str], float] = defaultdict(float)
    for project in projects:
        periods = faults.reported_periods(project)
        for period in periods:
            for file in faults.period_files(project, period):
                if isinstance(file, DamagedCopy):
                    write_truncated_copy(folder / file.source, folder / file.name, file.kept)
                else:
                    write_return(folder / file.name, file.projet, file.tables)
                statuses[file.name] = file.status
        for key, cents in ftap_ae_engagements(project, periods[-1].last_day):
            ftap_ae[key] += cents / 100
    return statuses, {k: round(v, 2) for k, v in sorted(ftap_ae.items())}


def write_demo(dest: Path) -> DemoSummary:
    """Write the demo inputs under `dest` (reference/, remontees/, chorus/) and say what a run should find."""
    projects, sim = simulate()
    expected = faults.inject_movements(projects)
    referentiel_path = dest / "reference" / "referentiel.xlsx"
    referentiel.write(referentiel_path, projects)
    statuses, ftap_ae = _write_returns(dest / "remontees", projects)
    chorus_paths, chorus_expected = chorus.write_chorus(dest / "chorus", projects, sim.rng)
    expected.update(chorus_expected)
    returns = tuple(sorted(dest / "remontees" / name for name in statuses))
    return DemoSummary(
        root=dest,
        referentiel=referentiel_path,
        returns=returns,
        chorus=tuple(chorus_paths),
        period=str(PERIOD),
        expected_statuses=MappingProxyType(dict(sorted(statuses.items()))),
        missing_returns=((MISSING_PROJECT, str(PERIOD)),),
        reconciliation=MappingProxyType(expected),
        ftap_ae=MappingProxyType(ftap_ae),
    )
