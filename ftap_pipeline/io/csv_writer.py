"""CSV exports of the report's tables, for BI tools and archives (UTF-8, comma, dot decimals, ISO dates)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ftap_pipeline.core.report_spec import ColKind, TableSpec
from ftap_pipeline.core.safe_text import printable
from ftap_pipeline.io.atomic import write_text

#: A text cell starting with one of these would be run as a formula by a spreadsheet opening the CSV.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any, kind: ColKind) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return (value.date() if isinstance(value, (dt.datetime, pd.Timestamp)) else value).isoformat()
    if kind is not ColKind.TEXT and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{float(value):.2f}" if kind is ColKind.AMOUNT else repr(value) if isinstance(value, float) else str(value)
    text = printable(str(value))
    return "'" + text if text.lstrip(" ").startswith(_FORMULA_START) else text


def write_csv(table: TableSpec, target: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.name for c in table.columns])
    for values in table.frame().itertuples(index=False, name=None):
        writer.writerow([_cell(v, c.kind) for c, v in zip(table.columns, values, strict=True)])
    write_text(target, buf.getvalue())
