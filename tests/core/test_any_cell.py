"""Any value in any cell of any sheet: the assessment and the whole report still complete, and every line read
is either kept or set aside (property test)."""

from __future__ import annotations

import copy
import datetime as dt
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftap_pipeline.contract.model import ReturnInput
from ftap_pipeline.contract.raw import RawWorkbook
from ftap_pipeline.core.assemble import assemble
from ftap_pipeline.core.assess import assess_returns
from ftap_pipeline.core.figures import ReportScope
from ftap_pipeline.core.period import Period
from ftap_pipeline.io.intake import read_returns
from tests import builders as b

#: 60 in CI; `FTAP_PROPERTY_EXAMPLES=2000 pytest tests/core/test_any_cell.py` for the long run.
EXAMPLES = int(os.environ.get("FTAP_PROPERTY_EXAMPLES", "60"))
CELLS = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=5),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1, 1, 1)),
    st.datetimes(),
    st.timedeltas(),
    st.sampled_from(["#REF!", "#DIV/0!", "#N/A", "=SUM(A1:A2)", "Total", "total général", "  ", "\x00\x1b[31m",
                     "1e26", "-0,00", "1 234,567", "31/02/2025", "2025-13-01", "AP-2024-01", "00123"]),
)


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> RawWorkbook:
    path = b.write(tmp_path_factory.mktemp("any-cell"), "remontee.xlsx")
    (item,) = read_returns([path], workers=1)
    assert item.workbook is not None
    return item.workbook


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_value_in_any_cell_completes_and_conserves_lines(valid: RawWorkbook, data: st.DataObject) -> None:
    wb = copy.deepcopy(valid)
    for _ in range(data.draw(st.integers(1, 3), label="cells changed")):
        sheet = data.draw(st.sampled_from(wb.sheets), label="sheet")
        row = data.draw(st.integers(0, max(len(sheet.rows), 1)), label="row")
        width = max((len(r) for r in sheet.rows), default=1)
        col = data.draw(st.integers(0, width), label="col")
        while len(sheet.rows) <= row:
            sheet.rows.append([])
        line = sheet.rows[row]
        while len(line) <= col:
            line.append(None)
        line[col] = data.draw(CELLS, label="value")
    referentiel = b.referentiel()
    scope = ReportScope.quarterly(Period(2025, 2))
    assessment = assess_returns([ReturnInput("remontee.xlsx", "0" * 64, workbook=wb)], referentiel, scope.cutoff)
    for r in assessment.records:
        assert r.lines_read == r.lines_kept + r.lines_rejected
    assert all(f.message for f in assessment.findings)
    report = assemble(assessment, referentiel, [], scope, {})
    assert report.workbook.sheets


def test_the_property_can_fail(tmp_path: Path) -> None:
    """The conservation the property checks is not vacuous: the valid return reads lines and keeps them."""
    (item,) = read_returns([b.write(tmp_path, "remontee.xlsx")], workers=1)
    a = assess_returns([item], b.referentiel(), dt.date(2025, 6, 30))
    (r,) = a.records
    assert r.lines_read == r.lines_kept == 9
