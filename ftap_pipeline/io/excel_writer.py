"""Render a `WorkbookSpec` with xlsxwriter: real Excel tables, numbers as numbers, no formula injection.

Untrusted text (file names, values read from returns) is always written with `write_string`, and the
workbook is opened with `strings_to_formulas` off, so `=HYPERLINK(...)` typed by a porteur stays text.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ftap_pipeline.contract.layout import AMOUNT_FORMAT, DATE_FORMAT
from ftap_pipeline.core.report_spec import ColKind, SheetSpec, TableSpec, WorkbookSpec
from ftap_pipeline.io.atomic import atomic_path

WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                    "nan_inf_to_errors": False}
NUMBER_FORMATS = {ColKind.AMOUNT: AMOUNT_FORMAT, ColKind.RATE: "0.0%", ColKind.RATIO: "0.00", ColKind.INT: "0",
                  ColKind.DATE: DATE_FORMAT}
TABLE_STYLE = "Table Style Medium 2"


def write_workbook(spec: WorkbookSpec, target: Path) -> None:
    """Write the workbook atomically; the same spec always gives the same bytes."""
    with atomic_path(target) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        created = dt.datetime.combine(spec.created, dt.time(0, 0))
        wb.set_properties({"title": spec.title, "subject": spec.subject, "author": "DITP – pipeline FTAP",
                           "company": "DITP", "created": created, "comments": "", "manager": ""})
        formats = _Formats(wb)
        for sheet in spec.sheets:
            _write_sheet(wb, wb.add_worksheet(sheet.name), sheet, formats)
        wb.close()


class _Formats:
    def __init__(self, wb: Any) -> None:
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.label = wb.add_format({"bold": True})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.text = wb.add_format({})
        self.by_kind = {k: wb.add_format({"num_format": f}) for k, f in NUMBER_FORMATS.items()}
        self.by_kind[ColKind.TEXT] = self.text

    def of(self, kind: ColKind) -> Any:
        return self.by_kind[kind]


def _write_sheet(wb: Any, ws: Worksheet, sheet: SheetSpec, f: _Formats) -> None:
    row = 0
    ws.write_string(row, 0, sheet.name, f.title)
    row += 1
    if sheet.intro:
        ws.write_string(row, 0, sheet.intro, f.text)
        row += 1
    if sheet.facts:
        row += 1
        ws.set_column(0, 0, 48)
        ws.set_column(1, 1, 22)
        for label, value, kind in sheet.facts:
            ws.write_string(row, 0, label, f.label)
            _write_value(ws, row, 1, value, kind, f)
            row += 1
    widths: dict[int, int] = {}
    for table in sheet.tables:
        row += 1
        if table.title:
            ws.write_string(row, 0, table.title, f.label)
            row += 1
        row = _write_table(ws, row, table, f, widths)
    for col, width in widths.items():
        if not sheet.facts or col > 1:
            ws.set_column(col, col, width)
    if sheet.tables and not sheet.facts and not sheet.intro:
        ws.freeze_panes(3, 0)


def _write_table(ws: Worksheet, top: int, table: TableSpec, f: _Formats, widths: dict[int, int]) -> int:
    frame = table.frame()
    n = len(frame)
    last_row = top + max(n, 1)
    columns = [{"header": c.name, "format": f.of(c.kind)} for c in table.columns]
    ws.add_table(top, 0, last_row, len(table.columns) - 1,
                 {"name": table.name, "columns": columns, "style": TABLE_STYLE, "autofilter": True})
    for j, c in enumerate(table.columns):
        widths[j] = max(widths.get(j, 0), c.width, min(len(c.name) + 4, 40))
    for i, values in enumerate(frame.itertuples(index=False, name=None)):
        for j, (c, value) in enumerate(zip(table.columns, values, strict=True)):
            _write_value(ws, top + 1 + i, j, value, c.kind, f)
    return last_row + 1


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NaT or (not isinstance(value, str) and pd.isna(value) is True)


def _write_value(ws: Worksheet, r: int, c: int, value: Any, kind: ColKind, f: _Formats) -> None:
    fmt = f.of(kind)
    if _is_missing(value) or value == "":
        ws.write_blank(r, c, None, fmt)
    elif kind is ColKind.DATE and isinstance(value, (dt.date, pd.Timestamp)):
        day = value.date() if isinstance(value, (dt.datetime, pd.Timestamp)) else value
        ws.write_datetime(r, c, dt.datetime.combine(day, dt.time()), fmt)
    elif kind is not ColKind.TEXT and isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(r, c, float(value), fmt)
    else:
        ws.write_string(r, c, str(value), fmt)
