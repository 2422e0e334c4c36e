"""Assess a batch of returns: the one code path behind both `ftap run` and `ftap check`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from ftap_pipeline.contract.findings import Finding, finding
from ftap_pipeline.contract.referentiel import Nomenclature, Referentiel
from ftap_pipeline.core.criteria import check_criteria, check_gap_explanations, check_imputation
from ftap_pipeline.core.normalise import ParsedReturn, parse_return
from ftap_pipeline.core.projet_checks import check_projet
from ftap_pipeline.core.raw import RawWorkbook
from ftap_pipeline.core.select import ReturnRecord, select_returns
from ftap_pipeline.core.validate import validate_returns


@dataclass(frozen=True)
class ReturnInput:
    """One file of the inbox as read: its workbook, or why it could not be read."""

    file: str
    sha256: str
    workbook: RawWorkbook | None = None
    error_slug: str = ""
    error_message: str = ""


@dataclass
class Assessment:
    parsed: list[ParsedReturn]
    records: list[ReturnRecord]
    #: Typed lines of each table sheet across all returns, with `_rejected`.
    frames: dict[str, pd.DataFrame]
    extra_findings: list[Finding] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for p in self.parsed for f in p.findings] + self.extra_findings


def assess_returns(inputs: Sequence[ReturnInput], referentiel: Referentiel | None,
                   cutoff: dt.date | None) -> Assessment:
    """Parse, check and select every return. Nothing is dropped: an unreadable file is a rejected return."""
    parsed: list[ParsedReturn] = []
    for item in inputs:
        if item.workbook is None:
            p = ParsedReturn(file=item.file, sha256=item.sha256)
            p.findings.append(finding(item.error_slug or "file-unreadable", item.error_message, file=item.file,
                                      sha256=item.sha256))
        else:
            p = parse_return(item.workbook, item.file, item.sha256)
        parsed.append(p)
    known = referentiel.project_ids if referentiel is not None else None
    readable = [p for p in parsed if p.sheet_names or p.tables]
    for p in readable:
        check_projet(p, known_projects=known, cutoff=cutoff)
    frames = validate_returns(parsed)
    by_file = {p.file: p for p in parsed}
    nomenclature = referentiel.nomenclature if referentiel is not None else Nomenclature()
    check_imputation(frames["consommation"], by_file, nomenclature)
    check_gap_explanations(frames["economies"], by_file)
    check_criteria(readable, frames, referentiel)
    records = select_returns(parsed)
    return Assessment(parsed=parsed, records=records, frames=frames)
