"""The one header finder, for every table the pipeline reads: the return's sheets, the référentiel's,
and the Chorus restitutions.

People and systems put title lines above a table, spell its headers their way, and add columns. A
`TableLayout` says which labels name which column; `find_header` finds the header row among the first
rows and maps each column key to its position. Cells are compared after `normalise_label`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from ftap_pipeline.contract.labels import normalise_label


class Pick(StrEnum):
    """Which of the rows that qualify is the header."""

    FIRST = "first"  # the first one (title lines above may mention a label in passing)
    BEST = "best"  # the one that names the most columns (a form above the table may name one or two)


@dataclass(frozen=True)
class TableLayout:
    """The header of one kind of table."""

    name: str
    #: Column key → the labels that name it (the first is the official one).
    labels: Mapping[str, tuple[str, ...]]
    #: Keys a header row must name to qualify.
    required: frozenset[str] = frozenset()
    #: A qualifying row names at least this many recognised cells.
    min_hits: int = 1
    #: How many rows from the top are searched.
    search_rows: int = 10
    pick: Pick = Pick.FIRST

    @cached_property
    def index(self) -> dict[str, str]:
        """Folded label → column key."""
        index: dict[str, str] = {}
        for key, labels in self.labels.items():
            for label in labels:
                index.setdefault(normalise_label(label), key)
        return index

    @cached_property
    def text_only(self) -> bool:
        """Whether only a text cell can name a column: no folded label reads like what `str` gives of a
        number, a boolean, a date or a duration (a digit or a sign first, `true`, `nan`…)."""
        return not any(k[:1].isdigit() or k[:1] in "-+." or k in ("true", "false", "nan", "inf") for k in self.index)

    def key_of(self, cell: object) -> str | None:
        return self.index.get(normalise_label(cell))

    def matched(self, cells: Sequence[object]) -> set[str]:
        """The column keys a row names."""
        return {k for k in (self.key_of(c) for c in cells) if k is not None}


@dataclass(frozen=True)
class Header:
    """A header row found: its index (0-based) in the rows given, where each column key sits, and the
    non-empty header cells that name no column of the layout (extra columns, or a column named twice)."""

    layout: TableLayout
    row: int
    positions: Mapping[str, int]
    extras: tuple[tuple[int, str], ...]


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def read_header(cells: Sequence[object], layout: TableLayout, row: int) -> Header:
    """Map one row's cells to the layout's column keys; the first cell naming a key wins."""
    positions: dict[str, int] = {}
    extras: list[tuple[int, str]] = []
    for j, cell in enumerate(cells):
        key = layout.key_of(cell)
        if key is not None and key not in positions:
            positions[key] = j
        elif not _is_blank(cell):
            extras.append((j, str(cell).strip()))
    return Header(layout, row, positions, tuple(extras))


def _score(cells: Sequence[object], layout: TableLayout) -> int | None:
    """How many cells of the row name a column (None when the row does not qualify)."""
    # `key_of`, inlined: every cell of the first rows of every sheet comes here, numbers of the lines included.
    index = layout.index
    if layout.text_only:
        keys = [k for c in cells if isinstance(c, str) and (k := index.get(normalise_label(c))) is not None]
    else:
        keys = [k for c in cells if c is not None and (k := index.get(normalise_label(c))) is not None]
    if len(keys) < layout.min_hits or not layout.required <= set(keys):
        return None
    return len(keys) if layout.pick is Pick.BEST else len(set(keys))


def find_header(rows: Sequence[Sequence[object]], layouts: Sequence[TableLayout]) -> Header | None:
    """The header row of a table, and the layout it fits, or None.

    With several layouts (the Chorus restitutions), a row fits the one whose header it completes with the
    most columns, the first layout winning a tie. The layouts given together share `search_rows` and `pick`."""
    if not layouts:
        return None
    search_rows, pick = layouts[0].search_rows, layouts[0].pick
    best: tuple[int, int, TableLayout] | None = None  # (score, row, layout)
    for i, cells in enumerate(rows[:search_rows]):
        scored = [(s, layout) for layout in layouts if (s := _score(cells, layout)) is not None]
        if not scored:
            continue
        score, layout = max(scored, key=lambda sl: sl[0])  # max keeps the first of equals
        if best is None or score > best[0]:
            best = (score, i, layout)
        if pick is Pick.FIRST:
            break
    if best is None:
        return None
    _, i, layout = best
    return read_header(rows[i], layout, i)
