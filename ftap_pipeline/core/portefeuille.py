"""Each project's standing figures for `Portefeuille`: cost, FTAP share, ROI, outcomes and §4.3 criteria.

Computed once per project, from the kept lines of its standing return; the indicators and the Synthèse
read the same objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Finding
from ftap_pipeline.contract.model import ParsedReturn, ReturnRecord
from ftap_pipeline.core.criteria import KeptLines
from ftap_pipeline.core.indicateurs import ProjectFacts
from ftap_pipeline.core.roi import Codes, Grouped, group_any, roi_parts

RESPECTE, NON_RESPECTE, NON_EVALUABLE = "Respecté", "Non respecté", "Non évaluable"

#: Each §4.3/§4.1 criterion: its column, the slugs that say it is not met, and what it needs to be judged.
CRITERIA: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Critère coût total < plafond", ("criterion-cost-cap",)),
    ("Critère cofinancement", ("criterion-cofinancing-missing", "criterion-cofinancing-share")),
    ("Critère catégorie de porteur", ("criterion-porteur-category",)),
    ("Critère durée d'accompagnement", ("criterion-duration",)),
    ("Critère document de cadrage", ("criterion-cadrage-date",)),
    ("Critère ROI prévisionnel à 3 ans", ("criterion-roi",)),
)


@dataclass(frozen=True)
class ProjectFigures:
    record: ReturnRecord
    parsed: ParsedReturn
    cost: float
    ftap_share: float | None
    facts: ProjectFacts
    criteria: tuple[tuple[str, str], ...]


def improves(indicateurs: pd.DataFrame, axe: str) -> bool:
    """At least one row of the axis with a measured value strictly better than its reference (remontee-v1)."""
    return bool(improves_by_group(indicateurs, np.zeros(len(indicateurs), dtype=np.int64), 1, axe)[0])


def improves_by_group(indicateurs: pd.DataFrame, codes: Codes, groups: int, axe: str) -> npt.NDArray[np.bool_]:
    """`improves` of each group of rows."""
    if indicateurs.empty:
        return np.zeros(groups, dtype=bool)
    sens = indicateurs["sens"]
    measured, reference = indicateurs["valeur_mesuree"], indicateurs["valeur_reference"]
    up = (sens == "Hausse") & (measured > reference)
    down = (sens == "Baisse") & (measured < reference)
    return group_any(codes, groups, ((indicateurs["axe"] == axe) & (up | down)).to_numpy(dtype=bool))


def _assessable(p: ParsedReturn, column: str, planned: float, forecast: float | None) -> bool:
    proj = p.projet
    if column in (CRITERIA[0][0], CRITERIA[1][0]):
        return "financement" in p.sheet_names and planned > 0
    if column == CRITERIA[2][0]:
        return proj.categorie_porteur is not None
    if column == CRITERIA[3][0]:
        return proj.debut is not None and proj.fin is not None
    if column == CRITERIA[4][0]:
        return proj.debut is not None and proj.date_cadrage is not None
    return "economies" in p.sheet_names and "financement" in p.sheet_names and forecast is not None


def criteria_states(p: ParsedReturn, findings: Sequence[Finding], planned: float,
                    forecast: float | None) -> tuple[tuple[str, str], ...]:
    """`Respecté`, `Non respecté` or `Non évaluable` per criterion, from the return's own warnings; `planned` is
    the AE of its `Financement` lines, `forecast` its forecast FTAP ROI."""
    slugs = {f.slug for f in findings}
    out = []
    for column, failing in CRITERIA:
        if slugs & set(failing):
            out.append((column, NON_RESPECTE))
        elif not _assessable(p, column, planned, forecast):
            out.append((column, NON_EVALUABLE))
        else:
            out.append((column, RESPECTE))
    return tuple(out)


def _grouped(split: Mapping[str, pd.DataFrame], files: Sequence[str], empty: pd.DataFrame) -> Grouped:
    """The lines of `files` with the position of each one's file: taken from all returns' lines at once when
    the split keeps them (`kept_by_file`), else put end to end."""
    if isinstance(split, KeptLines):
        return split.grouped(files)
    frames = [split.get(file, empty) for file in files]
    if not frames:
        return empty, np.zeros(0, dtype=np.int64)
    codes = np.repeat(np.arange(len(frames), dtype=np.int64), [len(f) for f in frames])
    return pd.concat(frames), codes


def project_figures(standing: Mapping[str, ReturnRecord], parsed: Mapping[str, ParsedReturn],
                    kept: Mapping[str, Mapping[str, pd.DataFrame]], empty: Mapping[str, pd.DataFrame],
                    cutoff: dt.date) -> dict[str, ProjectFigures]:
    """`kept[sheet][file]`: the kept lines of each return; `empty[sheet]`: an empty frame of the sheet.

    Each sheet is read once for all standing returns: every figure is a sum or a test by return."""
    pids = sorted(standing)
    files = list(dict.fromkeys(standing[pid].file for pid in pids))
    groups = len(files)
    fin, fin_codes = _grouped(kept["financement"], files, empty["financement"])
    eco, eco_codes = _grouped(kept["economies"], files, empty["economies"])
    cons, cons_codes = _grouped(kept["consommation"], files, empty["consommation"])
    ind, ind_codes = _grouped(kept["indicateurs"], files, empty["indicateurs"])
    parts = roi_parts([parsed[file].projet.fin for file in files], (eco, eco_codes), (fin, fin_codes),
                      (cons, cons_codes))
    quality = improves_by_group(ind, ind_codes, groups, enums.AXE_QUALITE)
    conditions = improves_by_group(ind, ind_codes, groups, enums.AXE_TRAVAIL)
    position = {file: i for i, file in enumerate(files)}
    out = {}
    for pid in pids:
        record = standing[pid]
        p = parsed[record.file]
        i = position[record.file]
        ftap, total = parts[i].planned
        roi = parts[i].project(cutoff)
        facts = ProjectFacts(p.projet.debut, p.projet.fin, bool(quality[i]), bool(conditions[i]), roi)
        out[pid] = ProjectFigures(record, p, total, ftap / total if total else None, facts,
                                  criteria_states(p, record.findings, total, roi.forecast_ftap.value))
    return out
