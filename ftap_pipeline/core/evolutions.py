"""What changed since the previous cut-off: the `Évolutions` table (the committee reads it first).

"Before" is the same pipeline run on the same inputs at the previous cut-off (the previous quarter, or the
previous committee). The cut-off rules make that run exact, so no earlier output is stored or read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Standing:
    """What `Évolutions` compares of the figures at one cut-off. Small and picklable: the previous cut-off's
    figures can be computed in another process, which sends back only this."""

    #: Every return known at the cut-off, in the assessment's order: (project, file, period, status, SHA-256).
    returns: tuple[tuple[str | None, str, str | None, str, str], ...]
    #: The missing returns, in their order: (project, period).
    missing: tuple[tuple[str, str], ...]
    declared: dict[tuple[str, str, int], float]
    findings: dict[tuple[str, str, str], Finding]
    statuses: dict[tuple[str, str], str]


def standing_of(figures: Figures) -> Standing:
    return Standing(
        returns=tuple((r.project_id, r.file, r.period, r.status, r.sha256) for r in figures.assessment.records),
        missing=tuple((f.project_id, f.period) for f in figures.missing),
        declared=_declared(figures), findings=open_findings(figures), statuses=_statuses(figures))


def evolutions_table(current: Standing, previous: Standing) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    before_files = {(file, sha256) for _, file, _, _, sha256 in previous.returns}
    for project_id, file, period, status, sha256 in sorted(current.returns, key=lambda r: (r[0] or "", r[1])):
        if (file, sha256) not in before_files:
            rows.append(_row(NEW_RETURN, project_id, f"{file} ({period or 'période illisible'})", None, status))
    before_missing = set(previous.missing)
    for project_id, period in current.missing:
        if (project_id, period) not in before_missing:
            rows.append(_row(MISSING, project_id, f"Période {period}"))
    old, new = previous.declared, current.declared
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if abs((b or 0.0) - (a or 0.0)) > EPS:
            pid, kind, year = key
            label = "AE FTAP déclarées" if kind == "AE" else "CP FTAP déclarés"
            rows.append(_row(AMOUNT, pid, f"{label} {year}", a, b, round((b or 0.0) - (a or 0.0), 2)))
    was, now = previous.findings, current.findings
    for known in sorted(set(now) - set(was)):
        f = now[known]
        rows.append(_row(NEW_FINDING, f.project_id, f"{f.rule.title} : {f.message}", None, str(f.severity)))
    for known in sorted(set(was) - set(now)):
        f = was[known]
        rows.append(_row(RESOLVED, f.project_id, f"{f.rule.title} : {f.message}", str(f.severity), None))
    s_old, s_new = previous.statuses, current.statuses
    for ej in sorted(set(s_old) | set(s_new)):
        if s_old.get(ej) != s_new.get(ej):
            rows.append(_row(STATUS, ej[0], f"EJ {ej[1]}", s_old.get(ej), s_new.get(ej)))
    order = {t: i for i, t in enumerate(TYPES)}
    rows.sort(key=lambda r: order[str(r["Type"])])
    return pd.DataFrame(rows, columns=COLUMNS)
