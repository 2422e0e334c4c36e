"""A real client: every table of the consolidated workbook, as headless LibreOffice shows it (cached values,
no recalculation), holds the same values as its CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from tests.conftest import INPUTS, soffice
from tests.io.test_libreoffice import convert

pytestmark = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")


def _same(shown: object, exported: str) -> bool:
    if exported == "":
        return shown in (None, "")
    if isinstance(shown, bool):
        return False
    if isinstance(shown, int | float):
        try:
            return abs(float(exported) - float(shown)) < 0.005
        except ValueError:
            return False
    if isinstance(shown, dt.datetime):
        return shown.date().isoformat() == exported
    if isinstance(shown, dt.date):
        return shown.isoformat() == exported
    return str(shown) == exported


def _tables_by_export(out: Path) -> dict[str, str]:
    """CSV export → the Excel table it exports, from the report's own spec (`suivi_ae_cp.csv` ← `SuiviAECP`)."""
    from ftap_pipeline.core.period import Period
    from ftap_pipeline.pipeline import RunConfig, build, ingest

    config = RunConfig.quarterly(INPUTS, out, Period.parse("2025-T2"))
    return {t.csv: t.name for t in build(ingest(config), config).report.workbook.tables() if t.csv}


def test_every_table_in_libreoffice_matches_its_csv_export(demo_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "suivi.xlsx"
    shutil.copy(demo_run / "FTAP_suivi_2025-T2.xlsx", source)
    ods = convert([source], "ods", tmp_path / "out")[0]
    shown = python_calamine.CalamineWorkbook.from_path(str(ods))
    wb = openpyxl.load_workbook(source)
    where = {name: ws.title for ws in wb.worksheets for name in ws.tables}
    exports = sorted((demo_run / "donnees").glob("*.csv"))
    assert len(exports) >= 13
    names = _tables_by_export(tmp_path / "sorties")
    checked = 0
    for path in exports:
        with path.open(encoding="utf-8") as fh:
            header, *rows = list(csv.reader(fh))
        name = names[path.name]
        ws = wb[where[name]]
        top = ws[ws.tables[name].ref][0][0].row - 1
        grid = shown.get_sheet_by_name(ws.title).to_python()
        assert [str(v) for v in grid[top][:len(header)]] == header, path.name
        for i, row in enumerate(rows):
            cells = grid[top + 1 + i]
            for j, exported in enumerate(row):
                value = cells[j] if j < len(cells) else None
                assert _same(value, exported), (path.name, i, header[j], value, exported)
                checked += 1
    assert checked > 1000
