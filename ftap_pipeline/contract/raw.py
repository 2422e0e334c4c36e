"""Raw workbook content as the readers give it: plain cell values from A1, plus what values hide."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Cell = Any  # str | int | float | bool | dt.date | dt.datetime | dt.timedelta | None


@dataclass(frozen=True)
class CellFlag:
    """Something about a cell that its value alone hides."""

    kind: str  # "error" or "formula-without-value"
    detail: str = ""


@dataclass
class RawSheet:
    name: str
    rows: list[list[Cell]]
    visible: bool = True
    #: (row index, column index), both 0-based from A1 → flag.
    flags: dict[tuple[int, int], CellFlag] = field(default_factory=dict)


@dataclass
class RawWorkbook:
    sheets: list[RawSheet]
    date1904: bool = False

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.sheets]


def column_letter(col: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """0-based (row, col) → `B7`."""
    return f"{column_letter(col)}{row + 1}"


def a1_to_index(ref: str) -> tuple[int, int]:
    letters = "".join(c for c in ref if c.isalpha()).upper()
    digits = "".join(c for c in ref if c.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return int(digits) - 1, col - 1
