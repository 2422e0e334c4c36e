"""The planning of current and upcoming projects (§4.1: sent to the secretariat after each committee).

One row per project of the référentiel, its state at the cut-off, and one column per month from the
earliest start to the latest end, marked where the project runs: a Gantt chart a spreadsheet can filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from ftap_pipeline.contract.model import Projet

UPCOMING, RUNNING, DONE = "À venir", "En cours", "Terminé"
MARK = "■"
BASE_COLUMNS = ["Identifiant du projet", "Intitulé du projet", "Porteur du projet", "Phase",
                "Début de l'accompagnement", "Fin de l'accompagnement", "État"]


def state_at(debut: dt.date | None, fin: dt.date | None, cutoff: dt.date) -> str:
    if debut is None:
        return ""
    if debut > cutoff:
        return UPCOMING
    if fin is not None and fin < cutoff:
        return DONE
    return RUNNING


def month_label(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


def _months(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    out, (y, m) = [], (first.year, first.month)
    while (y, m) <= (last.year, last.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def planning_table(projets: pd.DataFrame, standing: Mapping[str, Projet], cutoff: dt.date) -> pd.DataFrame:
    """`projets` is the référentiel's list; `standing` each project's identity in its standing return."""
    starts = [p.debut for p in standing.values() if p.debut is not None]
    ends = [p.fin or p.debut for p in standing.values() if p.debut is not None]
    months = _months(min(starts), max(e for e in ends if e is not None)) if starts else []
    rows = []
    for r in projets.sort_values("project_id").to_dict("records"):
        pid = str(r["project_id"])
        proj = standing.get(pid, Projet())
        row: dict[str, object] = {"Identifiant du projet": pid, "Intitulé du projet": r.get("intitule"),
                                  "Porteur du projet": r.get("porteur"), "Phase": proj.phase,
                                  "Début de l'accompagnement": proj.debut, "Fin de l'accompagnement": proj.fin,
                                  "État": state_at(proj.debut, proj.fin, cutoff)}
        for y, m in months:
            first, last = dt.date(y, m, 1), (dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1))
            runs = proj.debut is not None and proj.debut <= last and (proj.fin or proj.debut) >= first
            row[month_label(y, m)] = MARK if runs else ""
        rows.append(row)
    return pd.DataFrame(rows, columns=[*BASE_COLUMNS, *(month_label(y, m) for y, m in months)])
