"""Which return stands (remontee-v1): versions, identical copies, ambiguity, missing returns."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Finding
from ftap_pipeline.contract.model import Lines, ParsedReturn, Projet, ReturnRecord
from ftap_pipeline.core.normalise import content_key
from ftap_pipeline.core.period import Period
from ftap_pipeline.core.select import missing_returns, select_returns, standing_returns


def _ret(file: str, version: int | None, amount: float = 1.0, project: str = "AP-2024-01", period: str = "2025-T2",
         situation: dt.date = dt.date(2025, 6, 30)) -> ParsedReturn:
    values = {"project_id": project, "period": period, "date_situation": situation, "version": version}
    tables = {"consommation": Lines([2], {"ae": [amount]})}
    return ParsedReturn(file=file, sha256=file * 4, projet=Projet.from_values(values), tables=tables,
                        sheet_names={"projet": "Projet", "consommation": "Consommation"},
                        content_key=content_key(values, tables))


def _select(returns: list[ParsedReturn], *found: Finding) -> tuple[ReturnRecord, ...]:
    by_file: dict[str, list[Finding]] = {p.file: list(p.findings) for p in returns}
    for f in found:
        by_file[f.file].append(f)
    return select_returns(returns, by_file, {}).records


def _status(returns: list[ParsedReturn], *found: Finding) -> dict[str, str]:
    return {r.file: r.status for r in _select(returns, *found)}


def test_highest_version_stands_whatever_the_file_names() -> None:
    assert _status([_ret("z-v1.xlsx", 1), _ret("a-v3.xlsx", 3, 3.0), _ret("m-v2.xlsx", 2, 2.0)]) == {
        "z-v1.xlsx": enums.REMPLACEE, "a-v3.xlsx": enums.RETENUE, "m-v2.xlsx": enums.REMPLACEE}


def test_missing_version_counts_as_one() -> None:
    assert _status([_ret("a.xlsx", None), _ret("b.xlsx", 2, 2.0)]) == {"a.xlsx": enums.REMPLACEE,
                                                                        "b.xlsx": enums.RETENUE}


def test_identical_copies_one_stands_the_other_is_replaced() -> None:
    statuses = _status([_ret("copie.xlsx", 2), _ret("original.xlsx", 2)])
    assert sorted(statuses.values()) == [enums.REMPLACEE, enums.RETENUE]


def test_same_highest_version_with_different_content_is_ambiguous() -> None:
    returns = [_ret("a.xlsx", 2, 1.0), _ret("b.xlsx", 2, 5.0), _ret("c.xlsx", 1, 9.0)]
    records = _select(returns)
    assert {r.file: r.status for r in records} == {"a.xlsx": enums.REJETEE, "b.xlsx": enums.REJETEE,
                                                   "c.xlsx": enums.RETENUE}
    assert {f.slug for f in records[0].findings} == {"ambiguous-version"}
    assert returns[0].findings == ()  # the parsed return itself is never changed


def test_rejected_highest_version_lets_the_next_one_stand() -> None:
    broken = _ret("v2.xlsx", 2)
    assert _status([broken, _ret("v1.xlsx", 1)], broken.finding("unknown-project", {"projet": "AP-2024-01"})) == {
        "v2.xlsx": enums.REJETEE, "v1.xlsx": enums.RETENUE}


def test_replaced_returns_keep_their_line_counts() -> None:
    records = _select([_ret("v1.xlsx", 1), _ret("v2.xlsx", 2, 2.0)])
    assert [(r.lines_read, r.lines_kept, r.lines_rejected) for r in records] == [(1, 1, 0), (1, 1, 0)]


def test_standing_return_is_the_newest_kept_one_up_to_the_cutoff() -> None:
    records = _select([_ret("t1.xlsx", 1, period="2025-T1", situation=dt.date(2025, 3, 31)),
                              _ret("t2.xlsx", 1, period="2025-T2")])
    assert standing_returns(records, dt.date(2025, 6, 30))["AP-2024-01"].file == "t2.xlsx"
    assert standing_returns(records, dt.date(2025, 3, 31))["AP-2024-01"].file == "t1.xlsx"


def test_missing_return_for_a_project_started_by_the_end_of_the_period_only() -> None:
    records = _select([_ret("t1.xlsx", 1, period="2025-T1", situation=dt.date(2025, 3, 31))])
    projets = pd.DataFrame({"project_id": ["AP-2024-01", "AP-2025-09", "AP-2025-10", "AP-2025-11"],
                            "date_selection": [dt.date(2024, 1, 1), dt.date(2025, 9, 1), dt.date(2025, 1, 1),
                                               dt.date(2025, 1, 1)]})
    # AP-2025-10 starts the day after the period ends (its return says so); AP-2025-11 on its last day.
    starts = {"AP-2024-01": dt.date(2024, 2, 1), "AP-2025-10": dt.date(2025, 7, 1), "AP-2025-11": dt.date(2025, 6, 30)}
    found = missing_returns(records, projets, starts, Period(2025, 2))
    assert [(f.project_id, f.period) for f in found] == [("AP-2024-01", "2025-T2"), ("AP-2025-11", "2025-T2")]
    assert found[0].slug == "missing-return"
