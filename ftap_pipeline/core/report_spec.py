"""What a workbook contains, with no IO: sheets, Excel tables, column kinds. Writers render it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd


class ColKind(StrEnum):
    TEXT = "text"
    AMOUNT = "amount"
    INT = "int"
    RATE = "rate"
    RATIO = "ratio"
    DATE = "date"
    #: A number of any unit (indicator values mix euros, counts and ratios): `1 234,56`.
    DECIMAL = "decimal"


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColKind = ColKind.TEXT
    width: int = 16


class Tone(StrEnum):
    """How a highlighted cell looks: an alert (red), a warning (orange), a good mark (green), a Gantt bar."""

    ALERT = "alert"
    WARNING = "warning"
    OK = "ok"
    BAR = "bar"


@dataclass(frozen=True)
class Highlight:
    """Conditional formatting on table columns: a cell is shown in `tone` when it is not empty, or, when
    `values` is given, when it equals one of them (so the alert follows the cell if a reader edits it)."""

    columns: tuple[str, ...]
    tone: Tone = Tone.ALERT
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """A real Excel table: `name` is its ListObject name, `csv` the name of its CSV export."""

    name: str
    columns: tuple[Column, ...]
    rows: pd.DataFrame
    title: str = ""
    csv: str = ""
    highlights: tuple[Highlight, ...] = ()
    #: Rows (0-based, in `rows`) whose numbers are of another kind than their columns' (a line of rates
    #: under amounts).
    row_kinds: tuple[tuple[int, ColKind], ...] = ()

    def frame(self) -> pd.DataFrame:
        return self.rows.reindex(columns=[c.name for c in self.columns])


class ChartKind(StrEnum):
    COLUMN = "column"
    LINE = "line"


@dataclass(frozen=True)
class Series:
    """One series of a chart: a column of a table of the same workbook, drawn as `kind` (default: the chart's)."""

    column: str
    kind: ChartKind | None = None


@dataclass(frozen=True)
class ChartSpec:
    """A native Excel chart drawn from a table of the workbook: categories and series are its columns."""

    title: str
    table: str
    categories: str
    series: tuple[Series, ...]
    kind: ChartKind = ChartKind.COLUMN
    y_title: str = ""


@dataclass(frozen=True)
class SheetSpec:
    name: str
    tables: tuple[TableSpec, ...] = ()
    #: Lines shown above the tables: (label, value) pairs; value may be a number (shown with `kinds`).
    facts: tuple[tuple[str, object, ColKind], ...] = ()
    intro: str = ""
    charts: tuple[ChartSpec, ...] = ()
    #: Printed on a single page (the Synthèse); other sheets print one page wide, as many pages long as needed.
    one_page: bool = False


@dataclass(frozen=True)
class WorkbookSpec:
    title: str
    sheets: tuple[SheetSpec, ...]
    #: Printed at the top of every page, with the period: `Suivi FTAP — 2025-T2`.
    header: str = ""
    #: The document's creation date: the run's cut-off, so that the file does not depend on the clock.
    created: dt.date = dt.date(2000, 1, 1)
    subject: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def tables(self) -> list[TableSpec]:
        return [t for s in self.sheets for t in s.tables]


def cols(*specs: tuple[str, ColKind] | tuple[str, ColKind, int] | str) -> tuple[Column, ...]:
    """Shorthand: `cols("Fichier", ("AE (€)", ColKind.AMOUNT), ...)`."""
    out = []
    for s in specs:
        if isinstance(s, str):
            out.append(Column(s))
        elif len(s) == 2:
            out.append(Column(s[0], s[1], 18 if s[1] is ColKind.AMOUNT else 14))
        else:
            out.append(Column(s[0], s[1], s[2]))
    return tuple(out)
