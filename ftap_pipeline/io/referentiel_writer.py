"""Write a référentiel workbook (referentiel.md): one sheet per table, header on row 1.

Dates are written as dates, amounts (columns whose header has `€`) as numbers in the amount
format, integers as numbers and anything else as text, so codes such as "0349-01" stay codes.
The creation date is the caller's, never the clock: equal inputs give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from ftap_pipeline.contract.layout import AMOUNT_FORMAT, DATE_FORMAT
from ftap_pipeline.io.return_writer import new_workbook

#: A sheet: its headers and its rows.
Sheet = tuple[Sequence[str], Sequence[Sequence[object]]]

_HEADER_STYLE = {"bold": True, "font_color": "#FFFFFF", "bg_color": "#000091", "text_wrap": True}


def write_referentiel(path: Path, sheets: Mapping[str, Sheet], *, created: dt.datetime, title: str) -> None:
    """Write `sheets` in their order to the workbook `path` (its folder is created if need be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = new_workbook(path, created=created, title=title)
    header = workbook.add_format(_HEADER_STYLE)
    date_format = workbook.add_format({"num_format": DATE_FORMAT})
    amount_format = workbook.add_format({"num_format": AMOUNT_FORMAT})
    for name, (headers, rows) in sheets.items():
        ws = workbook.add_worksheet(name)
        for col, label in enumerate(headers):
            ws.write_string(0, col, label, header)
            width = max([len(label)] + [len(str(r[col])) for r in rows if not isinstance(r[col], dt.date)])
            ws.set_column(col, col, min(70, max(12, width + 2)))
        for i, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if isinstance(value, dt.date):
                    ws.write_datetime(i, col, value, date_format)
                elif isinstance(value, float):
                    ws.write_number(i, col, value, amount_format if "€" in headers[col] else None)
                elif isinstance(value, int):
                    ws.write_number(i, col, value)
                else:
                    ws.write_string(i, col, str(value))
        ws.freeze_panes(1, 0)
    workbook.close()
