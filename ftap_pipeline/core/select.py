"""Which return stands: statuses, versions, conservation of lines, missing returns (remontee-v1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Finding, Scope, Severity, finding
from ftap_pipeline.contract.model import ParsedReturn, ReturnRecord
from ftap_pipeline.core.period import Period


@dataclass(frozen=True)
class Selection:
    """Every return's record, in the order given, and what the selection itself found."""

    records: tuple[ReturnRecord, ...]
    findings: tuple[Finding, ...]


def _is_rejected(findings: Sequence[Finding]) -> bool:
    return any(f.severity is Severity.BLOQUANT and f.effective_scope is Scope.RETURN for f in findings)


def _record(p: ParsedReturn, status: str, findings: Sequence[Finding], rejected_lines: int) -> ReturnRecord:
    read = p.lines_read
    rejected = read if status == enums.REJETEE else rejected_lines
    return ReturnRecord(file=p.file, sha256=p.sha256, projet=p.projet, status=status, lines_read=read,
                        lines_kept=read - rejected, lines_rejected=rejected, content_key=p.content_key,
                        findings=tuple(findings))


def select_returns(parsed: Sequence[ParsedReturn], found: Mapping[str, Sequence[Finding]],
                   rejected_lines: Mapping[str, int]) -> Selection:
    """Give every return its status, from the findings of the earlier stages (`found`, by file) and the number
    of its lines the validation left out (`rejected_lines`, by file; absent means none).

    Among the returns of one project × period the highest version that is not rejected stands; identical
    copies are `Remplacée`; two different returns of the same highest version are both rejected as
    ambiguous, and the next version down is considered."""
    status: dict[str, str] = {}
    added: dict[str, list[Finding]] = {p.file: [] for p in parsed}
    by_key: dict[tuple[str, str], list[ParsedReturn]] = {}
    for p in parsed:
        if _is_rejected(found.get(p.file, ())):
            status[p.file] = enums.REJETEE
        else:
            by_key.setdefault((str(p.projet.project_id), str(p.projet.period)), []).append(p)
    for group in by_key.values():
        remaining = sorted(group, key=lambda q: (-q.projet.version_number, q.file))
        standing: ParsedReturn | None = None
        while remaining and standing is None:
            top = remaining[0].projet.version_number
            tied = [q for q in remaining if q.projet.version_number == top]
            remaining = remaining[len(tied):]
            if len({q.content_key for q in tied}) > 1:
                names = ", ".join(q.file for q in tied)
                for q in tied:
                    added[q.file].append(q.finding("ambiguous-version", {"version": top, "fichiers": names}))
                    status[q.file] = enums.REJETEE
                continue
            standing = tied[0]
            for q in tied[1:] + remaining:
                added[q.file].append(q.finding("superseded-return", {"fichier": standing.file, "version": top}))
            remaining = tied[1:] + remaining
        if standing is not None:
            has_rejected_lines = rejected_lines.get(standing.file, 0) > 0
            status[standing.file] = enums.RETENUE_AVEC_ANOMALIES if has_rejected_lines else enums.RETENUE
        for q in remaining:
            status[q.file] = enums.REMPLACEE
    records = tuple(_record(p, status[p.file], [*found.get(p.file, ()), *added[p.file]], rejected_lines.get(p.file, 0))
                    for p in parsed)
    return Selection(records, tuple(f for p in parsed for f in added[p.file]))


def kept_returns(records: Sequence[ReturnRecord], cutoff: dt.date) -> dict[str, list[ReturnRecord]]:
    """Each project's kept returns whose situation is on or before the cut-off, oldest first."""
    out: dict[str, list[ReturnRecord]] = {}
    for r in records:
        if r.kept and r.project_id is not None and r.date_situation is not None and r.date_situation <= cutoff:
            out.setdefault(r.project_id, []).append(r)
    for kept in out.values():
        kept.sort(key=lambda r: (r.period or "", r.date_situation))
    return out


def standing_returns(records: Sequence[ReturnRecord], cutoff: dt.date) -> dict[str, ReturnRecord]:
    """Each project's newest kept return whose situation is on or before the cut-off: where its figures come from."""
    return {pid: kept[-1] for pid, kept in kept_returns(records, cutoff).items()}


def first_kept_returns(records: Sequence[ReturnRecord], cutoff: dt.date) -> dict[str, ReturnRecord]:
    """Each project's earliest kept return on or before the cut-off: where its initial forecast is read."""
    return {pid: kept[0] for pid, kept in kept_returns(records, cutoff).items()}


def missing_returns(records: Sequence[ReturnRecord], projets: pd.DataFrame, starts: Mapping[str, dt.date | None],
                    period: Period) -> list[Finding]:
    """Projects whose accompaniment started by the last day of the period and that have no kept return for it.

    The start is the standing return's `Début de l'accompagnement`, else the project's selection date."""
    have = {r.project_id for r in records if r.kept and r.period == str(period)}
    out: list[Finding] = []
    for row in projets.sort_values("project_id").to_dict("records"):
        project_id = str(row["project_id"])
        start = starts.get(project_id) or row.get("date_selection")
        if not isinstance(start, dt.date) or start > period.last_day or project_id in have:
            continue
        out.append(finding("missing-return", {"projet": project_id, "periode": period},
                           project_id=project_id, period=str(period), value=project_id))
    return out
