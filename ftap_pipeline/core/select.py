"""Which return stands: statuses, versions, conservation of lines, missing returns (remontee-v1)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Finding, Scope, Severity, finding
from ftap_pipeline.core.normalise import FILE, ROW, ParsedReturn
from ftap_pipeline.core.period import Period
from ftap_pipeline.core.projet_checks import version_of
from ftap_pipeline.core.validate import rejected_rows


@dataclass
class ReturnRecord:
    """One return's fate: its status and its line counts (read = kept + rejected)."""

    file: str
    sha256: str
    project_id: str | None
    period: str | None
    date_situation: dt.date | None
    version: int
    status: str
    lines_read: int
    lines_kept: int
    lines_rejected: int
    content_key: str = ""
    porteur: str | None = None
    courriel: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def kept(self) -> bool:
        return self.status in (enums.RETENUE, enums.RETENUE_AVEC_ANOMALIES)


def content_key(p: ParsedReturn) -> str:
    """A fingerprint of what a return says (not of its bytes): re-saving a file does not change it.
    Computed once per return: selection compares it for every tie."""
    if p.content_key is None:
        payload = {
            "projet": {k: str(v) for k, v in sorted(p.projet.items())},
            "tables": {k: t.drop(columns=[FILE, ROW]).to_numpy().tolist() for k, t in sorted(p.tables.items())},
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        p.content_key = hashlib.sha256(text.encode()).hexdigest()
    return p.content_key


def _is_rejected(p: ParsedReturn) -> bool:
    return any(f.severity is Severity.BLOQUANT and f.effective_scope is Scope.RETURN for f in p.findings)


def _record(p: ParsedReturn, status: str) -> ReturnRecord:
    read = p.lines_read
    rejected = read if status == enums.REJETEE else sum(len(r) for r in rejected_rows(p).values())
    situation = p.projet.get("date_situation")
    return ReturnRecord(
        file=p.file, sha256=p.sha256, project_id=p.projet.get("project_id"), period=p.projet.get("period"),
        date_situation=situation if isinstance(situation, dt.date) else None, version=version_of(p), status=status,
        lines_read=read, lines_kept=read - rejected, lines_rejected=rejected, content_key=content_key(p),
        porteur=p.projet.get("porteur"), courriel=p.projet.get("courriel"), findings=p.findings,
    )


def select_returns(parsed: Sequence[ParsedReturn]) -> list[ReturnRecord]:
    """Give every return its status. Among the returns of one project × period the highest version that
    is not rejected stands; identical copies are `Remplacée`; two different returns of the same highest
    version are both rejected as ambiguous, and the next version down is considered."""
    records: dict[str, ReturnRecord] = {}
    by_key: dict[tuple[str, str], list[ParsedReturn]] = {}
    for p in parsed:
        if _is_rejected(p):
            records[p.file] = _record(p, enums.REJETEE)
        else:
            by_key.setdefault((str(p.projet["project_id"]), str(p.projet["period"])), []).append(p)
    for group in by_key.values():
        remaining = sorted(group, key=lambda q: (-version_of(q), q.file))
        standing: ParsedReturn | None = None
        while remaining and standing is None:
            top = version_of(remaining[0])
            tied = [q for q in remaining if version_of(q) == top]
            remaining = remaining[len(tied):]
            if len({content_key(q) for q in tied}) > 1:
                names = ", ".join(q.file for q in tied)
                for q in tied:
                    q.add("ambiguous-version", f"Plusieurs remontées de version {top} et de contenu différent pour ce "
                                               f"projet et cette période ({names}) : aucune ne peut être retenue.")
                    records[q.file] = _record(q, enums.REJETEE)
                continue
            standing = tied[0]
            for q in tied[1:] + remaining:
                q.add("superseded-return", f"Remplacée par {standing.file} (version {top}).")
            remaining = tied[1:] + remaining
        if standing is not None:
            has_rejected_lines = any(rejected_rows(standing).values())
            records[standing.file] = _record(standing,
                                             enums.RETENUE_AVEC_ANOMALIES if has_rejected_lines else enums.RETENUE)
        for q in remaining:
            records[q.file] = _record(q, enums.REMPLACEE)
    return [records[p.file] for p in parsed]


def standing_returns(records: Sequence[ReturnRecord], cutoff: dt.date) -> dict[str, ReturnRecord]:
    """Each project's newest kept return whose situation is on or before the cut-off."""
    best: dict[str, ReturnRecord] = {}
    for r in records:
        if not r.kept or r.project_id is None or r.date_situation is None or r.date_situation > cutoff:
            continue
        current = best.get(r.project_id)
        if current is None or (r.period or "", r.date_situation) > (current.period or "", current.date_situation):
            best[r.project_id] = r
    return best


def missing_returns(records: Sequence[ReturnRecord], projets: pd.DataFrame, starts: dict[str, dt.date | None],
                    period: Period, cutoff: dt.date) -> list[Finding]:
    """Projects whose accompaniment has started by the cut-off and that have no kept return for the period."""
    have = {r.project_id for r in records if r.kept and r.period == str(period)}
    out: list[Finding] = []
    for row in projets.sort_values("project_id").to_dict("records"):
        project_id = str(row["project_id"])
        start = starts.get(project_id) or row.get("date_selection")
        if not isinstance(start, dt.date) or start > cutoff or project_id in have:
            continue
        out.append(finding("missing-return", f"Aucune remontée retenue du projet {project_id} pour {period} ; "
                                             "la dernière remontée retenue est utilisée.", value=project_id))
    return out
