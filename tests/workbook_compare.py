"""Cell-by-cell comparison of workbooks, for golden-file tests."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import openpyxl

#: Rows of « À propos » that record the run's environment (`Version de pandas`…), not its result: their value
#: follows whatever is installed, so a golden file compares only that the row is there.
_ENVIRONMENT_ROW = "Version de "


def snapshot(path: Path) -> dict[str, dict[str, Any]]:
    """Every non-empty cell (value and number format) and every Excel table (name → range) of each sheet."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, dict[str, Any]] = {}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            environment = isinstance(row[0].value, str) and row[0].value.startswith(_ENVIRONMENT_ROW)
            for c in row:
                if c.value is not None:
                    value = c.value.replace(microsecond=0) if isinstance(c.value, dt.datetime) else c.value
                    if environment and c.column > 1:
                        value = "<installed version>"
                    cells[c.coordinate] = (value, c.number_format)
        # types-openpyxl leaves TableList.items() unannotated; it returns [(name, ref), ...].
        out[ws.title] = {"cells": cells, "tables": dict(ws.tables.items())}  # type: ignore[no-untyped-call]
    return out


def differences(actual: Path, golden: Path, limit: int = 30) -> list[str]:
    a, g = snapshot(actual), snapshot(golden)
    diffs: list[str] = []
    if list(a) != list(g):
        diffs.append(f"sheets: {list(a)} != {list(g)}")
    for sheet in g:
        if sheet not in a:
            continue
        if a[sheet]["tables"] != g[sheet]["tables"]:
            diffs.append(f"{sheet} tables: {a[sheet]['tables']} != {g[sheet]['tables']}")
        ca, cg = a[sheet]["cells"], g[sheet]["cells"]
        for ref in sorted(set(ca) | set(cg), key=lambda r: (len(r), r)):
            if ca.get(ref) != cg.get(ref):
                diffs.append(f"{sheet}!{ref}: {ca.get(ref)!r} != golden {cg.get(ref)!r}")
    return diffs[:limit]


def check_golden(actual: Path, golden: Path, regen: bool) -> None:
    if regen:
        golden.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(actual, golden)
        return
    assert golden.exists(), f"no golden file {golden.name}: run pytest --regen-golden once and commit it"
    diffs = differences(actual, golden)
    assert not diffs, "workbook differs from its golden file (pytest --regen-golden to accept):\n" + "\n".join(diffs)
