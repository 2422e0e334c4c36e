"""Figures written as a French reader expects them in plain text (a mail body, a run summary):
`1 234 567,89 €`, `12,5 %`, `14/03/2025`. The workbooks format numbers themselves; this is for text only."""

from __future__ import annotations

import datetime as dt
import math

from ftap_pipeline.core.report_spec import ColKind

#: The narrow no-break space French typography puts between thousands and before `€` and `%`.
NNBSP = "\u202f"


def number(value: float, decimals: int = 2) -> str:
    """`1234567.891` → `1 234 567,89`; integers keep no decimals."""
    if float(value).is_integer() and decimals == 0:
        return f"{int(value):,}".replace(",", NNBSP)
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", NNBSP)


def value_text(value: object, kind: ColKind) -> str:
    """One figure of a table or a fact, in words a reader takes in: a missing one reads `—`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if kind is ColKind.AMOUNT:
        return f"{number(value)}{NNBSP}€"
    if kind is ColKind.INT:
        return number(value, 0) if float(value).is_integer() else number(value)
    if kind is ColKind.RATE:
        return f"{number(100 * value, 1)}{NNBSP}%"
    return number(value)
