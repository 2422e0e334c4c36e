"""Assess a batch of returns: the one code path behind both `ftap run` and `ftap check`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from ftap_pipeline.contract.findings import Finding, Scope, Severity, finding
from ftap_pipeline.contract.model import ParsedReturn, ReturnInput, ReturnRecord
from ftap_pipeline.contract.referentiel import (
    DEFAULT_PARAMETERS,
    P_ANOMALIES_MAX,
    P_LIGNES_MAX,
    Nomenclature,
    Referentiel,
)
from ftap_pipeline.contract.schemas import TypedLines
from ftap_pipeline.core.criteria import check_criteria, check_gap_explanations, check_imputation
from ftap_pipeline.core.french_text import number
from ftap_pipeline.core.normalise import parse_return, unreadable_return
from ftap_pipeline.core.projet_checks import check_projet
from ftap_pipeline.core.select import select_returns
from ftap_pipeline.core.validate import validate_returns


@dataclass(frozen=True)
class Assessment:
    """Every return parsed, checked and given its status; nothing is dropped."""

    parsed: tuple[ParsedReturn, ...]
    records: tuple[ReturnRecord, ...]
    #: Typed lines of each table sheet across all returns, with `REJECTED`.
    frames: TypedLines
    #: Returns whose `Date de situation` is after the cut-off: outside the run, neither kept nor rejected,
    #: named only in the manifest (remontee-v1, "Which return stands").
    later: tuple[ParsedReturn, ...] = ()
    #: Each return's findings before the selection, and its lines the validation left out, by file: every
    #: rule but the selection judges a return alone, so an earlier cut-off needs only a new selection.
    found: Mapping[str, Sequence[Finding]] = field(default_factory=dict)
    rejected_lines: Mapping[str, int] = field(default_factory=dict)
    #: Findings listed per return at most (`Anomalies max. par remontée`); the rest are counted in one finding.
    findings_cap: int = int(DEFAULT_PARAMETERS[P_ANOMALIES_MAX])

    def as_of(self, cutoff: dt.date) -> Assessment:
        """The same assessment at an earlier cut-off: the returns dated after it set apart, then selected again.

        It equals `assess_parsed` at that cut-off (the per-return rules do not depend on it), for the cost of
        a selection, which is what lets `Évolutions` rerun the pipeline at the previous cut-off."""
        parsed = tuple(p for p in self.parsed if not after_cutoff(p, cutoff))
        later = (*(p for p in self.parsed if after_cutoff(p, cutoff)), *self.later)
        selection = select_returns(parsed, self.found, self.rejected_lines)
        records = cap_findings(selection.records, selection.findings, self.findings_cap)
        return replace(self, parsed=parsed, records=records, later=later)

    @property
    def findings(self) -> list[Finding]:
        """All findings of all returns, return by return, each in the order its stages found them."""
        return [f for r in self.records for f in r.findings]


def _by_file(parsed: Sequence[ParsedReturn], *stages: Iterable[Finding]) -> dict[str, list[Finding]]:
    """Gather each return's findings, stage after stage, so that a return's findings keep their order."""
    out: dict[str, list[Finding]] = {p.file: list(p.findings) for p in parsed}
    for stage in stages:
        for f in stage:
            out[f.file].append(f)
    return out


def parse_returns(inputs: Sequence[ReturnInput]) -> tuple[ParsedReturn, ...]:
    """Every file parsed; an unreadable one becomes a return with its reason (it will be rejected)."""
    return tuple(parse_return(i.workbook, i.file, i.sha256) if i.workbook is not None else unreadable_return(i)
                 for i in inputs)


def after_cutoff(p: ParsedReturn, cutoff: dt.date | None) -> bool:
    situation = p.projet.date_situation
    return cutoff is not None and situation is not None and situation > cutoff


def assess_returns(inputs: Sequence[ReturnInput], referentiel: Referentiel | None,
                   cutoff: dt.date | None) -> Assessment:
    """Parse, check and select every return. An unreadable file is a rejected return."""
    return assess_parsed(parse_returns(inputs), referentiel, cutoff)


def assess_parsed(every: Sequence[ParsedReturn], referentiel: Referentiel | None,
                  cutoff: dt.date | None) -> Assessment:
    """Check and select the parsed returns as of the cut-off (None: no cut-off, as in `ftap check`).

    Returns dated after the cut-off are set apart before any rule runs, so that a rerun at an old cut-off
    gives the same statuses whatever arrived since (a later version cannot replace an earlier one)."""
    later = tuple(p for p in every if after_cutoff(p, cutoff))
    parsed = tuple(p for p in every if not after_cutoff(p, cutoff))
    parameters = referentiel.parameters if referentiel is not None else DEFAULT_PARAMETERS
    lines_cap = int(parameters.get(P_LIGNES_MAX, DEFAULT_PARAMETERS[P_LIGNES_MAX]))
    findings_cap = int(parameters.get(P_ANOMALIES_MAX, DEFAULT_PARAMETERS[P_ANOMALIES_MAX]))
    # A return too long for a return is refused before its lines are checked: hours of work and a
    # hundred thousand findings would tell its porteur nothing more.
    too_long = {p.file: f for p in parsed if (f := too_many_lines(p, lines_cap)) is not None}
    checked = [p for p in parsed if p.file not in too_long]
    known = referentiel.project_ids if referentiel is not None else None
    readable = [p for p in parsed if p.readable]
    projet = [f for p in readable for f in check_projet(p, known_projects=known)]
    validated = validate_returns(checked)
    frames = validated.lines
    by_file = {p.file: p for p in checked}
    nomenclature = referentiel.nomenclature if referentiel is not None else Nomenclature()
    imputation = check_imputation(frames.consommation, by_file, nomenclature)
    gaps = check_gap_explanations(frames.economies, by_file)
    criteria = check_criteria([p for p in readable if p.file not in too_long], frames, referentiel)
    # The order of the stages is the order of a return's findings before sorting (ties keep it); the refusal
    # of a return too long comes first.
    found = _by_file(parsed, projet, validated.findings, imputation, gaps, criteria)
    for file, refusal in too_long.items():
        found[file].insert(0, refusal)
    rejected_lines = validated.rejected_lines()
    selection = select_returns(parsed, found, rejected_lines)
    records = cap_findings(selection.records, selection.findings, findings_cap)
    return Assessment(parsed=parsed, records=records, frames=frames, later=later, found=found,
                      rejected_lines=rejected_lines, findings_cap=findings_cap)


def too_many_lines(p: ParsedReturn, cap: int) -> Finding | None:
    """The refusal of a return one of whose table sheets has more lines than `Lignes max. par remontée`."""
    if not p.tables:
        return None
    key, lines = max(p.tables.items(), key=lambda item: len(item[1]))
    if len(lines) <= cap:
        return None
    sheet = p.sheet_name(key)
    return p.finding("too-many-lines", {"feuille": sheet, "lignes": number(len(lines), 0),
                                        "plafond": number(cap, 0)}, sheet=sheet)


def cap_findings(records: Sequence[ReturnRecord], selection: Sequence[Finding], cap: int) -> tuple[ReturnRecord, ...]:
    """List at most `cap` findings per return, and one more that counts the rest, so that the Anomalies sheet
    and a porteur's feedback stay readable. The status and line counts were decided on all of them, and the
    findings that say the status (a refusal of the whole return, the selection's verdict) are always listed."""
    decisive = {id(f) for f in selection}
    out: list[ReturnRecord] = []
    for r in records:
        if len(r.findings) <= cap:
            out.append(r)
            continue
        must = [f for f in r.findings if id(f) in decisive
                or (f.severity is Severity.BLOQUANT and f.effective_scope is Scope.RETURN)]
        room = max(cap - len(must), 0)
        must_ids = {id(f) for f in must}
        others = [f for f in r.findings if id(f) not in must_ids][:room]
        kept = {id(f) for f in (*must, *others)}
        listed = [f for f in r.findings if id(f) in kept]
        more = finding("findings-not-listed", {"nombre": number(len(r.findings) - len(listed), 0),
                                               "plafond": number(cap, 0)},
                       file=r.file, sha256=r.sha256, project_id=r.project_id or "", period=r.period or "")
        out.append(replace(r, findings=(*listed, more)))
    return tuple(out)
