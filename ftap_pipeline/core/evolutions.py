"""What changed since the previous cut-off: the `Évolutions` table (the committee reads it first).

"Before" is the same pipeline run on the same inputs at the previous cut-off (the previous quarter, or the
previous committee). The cut-off rules make that run exact, so no earlier output is stored or read.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.columns import FILE, REJECTED
from ftap_pipeline.contract.findings import Finding, Severity
from ftap_pipeline.core.figures import Figures

NEW_RETURN, MISSING, AMOUNT, NEW_FINDING, RESOLVED, STATUS = (
    "Nouvelle remontée", "Remontée manquante", "Montant modifié", "Nouvelle anomalie", "Anomalie résolue",
    "Statut de rapprochement modifié")
TYPES = (NEW_RETURN, MISSING, AMOUNT, NEW_FINDING, RESOLVED, STATUS)
COLUMNS = ["Type", "Identifiant du projet", "Objet", "Avant", "Après", "Écart"]
EPS = 0.005


def _row(kind: str, project: str | None, what: str, before: object = None, after: object = None,
         gap: float | None = None) -> dict[str, object]:
    return {"Type": kind, "Identifiant du projet": project, "Objet": what, "Avant": before, "Après": after,
            "Écart": gap}


def _declared(figures: Figures) -> dict[tuple[str, str, int], float]:
    """Declared FTAP AE and CP per project × year, from the standing returns' kept lines."""
    out: dict[tuple[str, str, int], float] = {}
    lines = figures.assessment.frames.consommation
    lines = lines[~lines[REJECTED] & (lines["financeur"] == enums.FTAP)]
    files = {f.record.file: pid for pid, f in figures.projects.items()}
    mine = lines[lines[FILE].isin(files)]
    sums = mine.groupby([FILE, "exercice"])[["ae", "cp"]].sum()
    for (file, year), ae, cp in zip(sums.index, sums["ae"], sums["cp"], strict=True):
        out[(files[str(file)], "AE", int(year))] = round(float(ae), 2)
        out[(files[str(file)], "CP", int(year))] = round(float(cp), 2)
    return out


def open_findings(figures: Figures) -> dict[tuple[str, str, str], Finding]:
    """The anomalies standing at a cut-off: those of each project's standing return, of this period's rejected
    returns, and of the reconciliation. A finding is known by its project, rule and message, not by its file,
    so a new version that repeats it does not make it new."""
    period = str(figures.scope.period)
    records = [*figures.standing.values(),
               *(r for r in figures.assessment.records if r.status == enums.REJETEE and r.period == period)]
    found: Iterable[Finding] = [*(f for r in records for f in r.findings), *figures.chorus_findings]
    return {(f.project_id or "", f.slug, f.message): f for f in found if f.severity is not Severity.INFORMATION}


def _statuses(figures: Figures) -> dict[tuple[str, str], str]:
    if figures.chorus is None:
        return {}
    r = figures.chorus.rapprochement
    return {(str(p), str(e)): str(s) for p, e, s in zip(r["Identifiant du projet"], r["N° EJ"], r["Statut"], strict=True)}


def evolutions_table(current: Figures, previous: Figures) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    before_files = {(r.file, r.sha256) for r in previous.assessment.records}
    for r in sorted(current.assessment.records, key=lambda r: (r.project_id or "", r.file)):
        if (r.file, r.sha256) not in before_files:
            rows.append(_row(NEW_RETURN, r.project_id, f"{r.file} ({r.period or 'période illisible'})", None, r.status))
    before_missing = {(f.project_id, f.period) for f in previous.missing}
    for f in current.missing:
        if (f.project_id, f.period) not in before_missing:
            rows.append(_row(MISSING, f.project_id, f"Période {f.period}"))
    old, new = _declared(previous), _declared(current)
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if abs((b or 0.0) - (a or 0.0)) > EPS:
            pid, kind, year = key
            label = "AE FTAP déclarées" if kind == "AE" else "CP FTAP déclarés"
            rows.append(_row(AMOUNT, pid, f"{label} {year}", a, b, round((b or 0.0) - (a or 0.0), 2)))
    was, now = open_findings(previous), open_findings(current)
    for known in sorted(set(now) - set(was)):
        f = now[known]
        rows.append(_row(NEW_FINDING, f.project_id, f"{f.rule.title} : {f.message}", None, str(f.severity)))
    for known in sorted(set(was) - set(now)):
        f = was[known]
        rows.append(_row(RESOLVED, f.project_id, f"{f.rule.title} : {f.message}", str(f.severity), None))
    s_old, s_new = _statuses(previous), _statuses(current)
    for ej in sorted(set(s_old) | set(s_new)):
        if s_old.get(ej) != s_new.get(ej):
            rows.append(_row(STATUS, ej[0], f"EJ {ej[1]}", s_old.get(ej), s_new.get(ej)))
    order = {t: i for i, t in enumerate(TYPES)}
    rows.sort(key=lambda r: order[str(r["Type"])])
    return pd.DataFrame(rows, columns=COLUMNS)
