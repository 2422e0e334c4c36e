"""Each project's standing figures for `Portefeuille`: cost, FTAP share, ROI, outcomes and §4.3 criteria.

Computed once per project, from the kept lines of its standing return; the indicators and the Synthèse
read the same objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Finding
from ftap_pipeline.contract.model import ParsedReturn, ReturnRecord
from ftap_pipeline.core.indicateurs import ProjectFacts
from ftap_pipeline.core.roi import project_roi

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
    rows = indicateurs[indicateurs["axe"] == axe]
    up = (rows["sens"] == "Hausse") & (rows["valeur_mesuree"] > rows["valeur_reference"])
    down = (rows["sens"] == "Baisse") & (rows["valeur_mesuree"] < rows["valeur_reference"])
    return bool((up | down).any())


def _assessable(p: ParsedReturn, column: str, financement: pd.DataFrame, forecast: float | None) -> bool:
    proj = p.projet
    if column in (CRITERIA[0][0], CRITERIA[1][0]):
        return "financement" in p.sheet_names and float(financement["ae"].sum()) > 0
    if column == CRITERIA[2][0]:
        return proj.categorie_porteur is not None
    if column == CRITERIA[3][0]:
        return proj.debut is not None and proj.fin is not None
    if column == CRITERIA[4][0]:
        return proj.debut is not None and proj.date_cadrage is not None
    return "economies" in p.sheet_names and "financement" in p.sheet_names and forecast is not None


def criteria_states(p: ParsedReturn, findings: Sequence[Finding], financement: pd.DataFrame,
                    forecast: float | None) -> tuple[tuple[str, str], ...]:
    """`Respecté`, `Non respecté` or `Non évaluable` per criterion, from the return's own warnings."""
    slugs = {f.slug for f in findings}
    out = []
    for column, failing in CRITERIA:
        if slugs & set(failing):
            out.append((column, NON_RESPECTE))
        elif not _assessable(p, column, financement, forecast):
            out.append((column, NON_EVALUABLE))
        else:
            out.append((column, RESPECTE))
    return tuple(out)


def project_figures(standing: Mapping[str, ReturnRecord], parsed: Mapping[str, ParsedReturn],
                    kept: Mapping[str, Mapping[str, pd.DataFrame]], empty: Mapping[str, pd.DataFrame],
                    cutoff: dt.date) -> dict[str, ProjectFigures]:
    """`kept[sheet][file]`: the kept lines of each return; `empty[sheet]`: an empty frame of the sheet."""
    out = {}
    for pid, record in sorted(standing.items()):
        p = parsed[record.file]

        def lines(sheet: str, file: str = record.file) -> pd.DataFrame:
            return kept[sheet].get(file, empty[sheet])

        fin, eco, cons, ind = lines("financement"), lines("economies"), lines("consommation"), lines("indicateurs")
        total = float(fin["ae"].sum())
        ftap = float(fin.loc[fin["financeur"] == enums.FTAP, "ae"].sum())
        roi = project_roi(p.projet.fin, eco, fin, cons, cutoff)
        facts = ProjectFacts(p.projet.debut, p.projet.fin, improves(ind, enums.AXE_QUALITE),
                             improves(ind, enums.AXE_TRAVAIL), roi)
        out[pid] = ProjectFigures(record, p, total, ftap / total if total else None, facts,
                                  criteria_states(p, record.findings, fin, roi.forecast_ftap.value))
    return out
