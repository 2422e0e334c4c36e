"""Render a `WorkbookSpec` with xlsxwriter: real Excel tables, numbers as numbers, no formula injection.

Untrusted text (file names, values read from returns) is always written with `write_string`, and the
workbook is opened with `strings_to_formulas` off, so `=HYPERLINK(...)` typed by a porteur stays text.
No cell formula is written: highlights are conditional formats, charts read the tables' cells.

Print and display (secretariat-v1): every sheet prints A4 landscape, one page wide (a `one_page` sheet on
one page), with its title rows repeated, the workbook's title in the header and `Page X / Y` in the footer.
A sheet is laid out from its spec alone (column widths, where facts, charts and tables go), so a chart can
be drawn, once every sheet is written, from a table of any sheet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ftap_pipeline.contract.layout import AMOUNT_FORMAT, DATE_FORMAT
from ftap_pipeline.core.report_spec import ChartKind, ChartSpec, ColKind, SheetSpec, TableSpec, Tone, WorkbookSpec
from ftap_pipeline.core.safe_text import cell_text
from ftap_pipeline.io.atomic import atomic_path

#: `in_memory`: each sheet's XML is built in memory, not in a temporary file created and removed per sheet
#: (with a hundred workbooks, those removals were a fifth of the writing).
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                    "nan_inf_to_errors": False, "in_memory": True}
NUMBER_FORMATS = {ColKind.AMOUNT: AMOUNT_FORMAT, ColKind.RATE: "0.0%", ColKind.RATIO: "0.00", ColKind.INT: "0",
                  ColKind.DATE: DATE_FORMAT, ColKind.DECIMAL: "#,##0.00"}
#: Chart axes show round figures: the cells' own formats would print cents on every tick.
AXIS_FORMATS = {ColKind.AMOUNT: '#,##0 "€"', ColKind.RATE: "0%", ColKind.RATIO: "0.0", ColKind.INT: "0",
                ColKind.DECIMAL: "#,##0"}
TABLE_STYLE = "Table Style Medium 2"
AUTHOR = "DITP"
A4 = 9
#: Inches; the header and footer sit in the top and bottom margins.
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.75, "bottom": 0.75}
HEADER_MARGIN = 0.3
FOOTER = "&CPage &P / &N"
#: Characters of the workbook's title kept in the page header (Excel refuses a header over 255 characters).
HEADER_TITLE_MAX = 80

#: Column widths, in Excel's units (the width of a digit of the default font).
WIDTH_CAP = 60.0
FACTS_MIN_WIDTH = 8.43  # Excel's default
DIGIT_PX = 7
ROW_PX = 20
LINE_HEIGHT = 15  # points: one line of the default font, Excel's default row height
#: Room for the autofilter button at the right of a table's header cell.
FILTER_BUTTON_PX = 18

#: Native charts, in pixels; they sit right of the facts (columns A–B), in a grid of up to three columns.
CHART_WIDTH, CHART_HEIGHT, CHART_GAP = 480, 288, 12
#: The printable area of an A4 landscape page with `MARGINS`, in pixels at 96 dpi: the chart grid is chosen
#: so that the sheet, scaled to that area, prints as large as it can.
PAGE_PX = ((11.69 - MARGINS["left"] - MARGINS["right"]) * 96, (8.27 - MARGINS["top"] - MARGINS["bottom"]) * 96)

CHART_TYPES = {ChartKind.COLUMN: "column", ChartKind.LINE: "line"}
#: Excel's own "light red fill with dark red text", and its light orange and green; Gantt bars are solid.
TONES: dict[Tone, dict[str, str]] = {
    Tone.ALERT: {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    Tone.WARNING: {"bg_color": "#FCE4D6", "font_color": "#9C5700"},
    Tone.OK: {"bg_color": "#C6EFCE", "font_color": "#006100"},
    Tone.BAR: {"bg_color": "#4472C4", "font_color": "#4472C4"},
}


def write_workbook(spec: WorkbookSpec, target: Path) -> None:
    """Write the workbook atomically; the same spec always gives the same bytes."""
    with atomic_path(target) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        created = dt.datetime.combine(spec.created, dt.time(0, 0))
        wb.set_properties({"title": spec.title, "subject": spec.subject, "author": AUTHOR, "company": AUTHOR,
                           "created": created, "comments": "", "manager": ""})
        formats = _Formats(wb)
        header = page_header(spec.header or spec.title)
        placed: dict[str, _Placed] = {}
        written: list[tuple[Worksheet, SheetSpec, _Layout]] = []
        for sheet in spec.sheets:
            ws = wb.add_worksheet(sheet.name)
            layout = _layout(sheet)
            placed.update(_write_sheet(ws, sheet, layout, formats))
            _set_up_page(ws, sheet, layout, header)
            written.append((ws, sheet, layout))
        for ws, sheet, layout in written:
            for chart, (row, col, x, y) in zip(sheet.charts, layout.charts, strict=True):
                _checked(ws.insert_chart(row, col, _chart(wb, chart, placed), {"x_offset": x, "y_offset": y}),
                         f"chart {chart.title!r}")
        wb.close()


class _Formats:
    def __init__(self, wb: Any) -> None:
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.intro = wb.add_format({})
        self.label = wb.add_format({"bold": True, "valign": "top"})
        self.label_wrap = wb.add_format({"bold": True, "valign": "top", "text_wrap": True})
        # Bold is the table style's too, but LibreOffice does not draw table styles.
        self.header = wb.add_format({"bold": True, "text_wrap": True})
        self.by_kind = {k: wb.add_format({"num_format": f, "valign": "top"}) for k, f in NUMBER_FORMATS.items()}
        self.by_kind[ColKind.TEXT] = wb.add_format({"valign": "top"})
        self.wrap = wb.add_format({"valign": "top", "text_wrap": True})
        self.tones = {t: wb.add_format(dict(f)) for t, f in TONES.items()}

    def of(self, kind: ColKind, wrap: bool = False) -> Any:
        return self.wrap if wrap and kind is ColKind.TEXT else self.by_kind[kind]


@dataclass(frozen=True)
class _Placed:
    """Where a table was written: charts of any sheet point at its cells."""

    sheet: str
    header_row: int
    last_row: int
    columns: dict[str, tuple[int, ColKind]]


@dataclass(frozen=True)
class _Layout:
    """Where things go on a sheet, decided from its spec before anything is written."""

    widths: dict[int, float]
    #: Columns holding prose wider than `WIDTH_CAP`: it wraps (rows made as tall as it needs) rather than hide.
    wrapped: frozenset[int]
    #: The first row of the facts and of the chart grid.
    block_row: int
    #: Each chart's anchor: (row, column, x offset, y offset) in pixels.
    charts: tuple[tuple[int, int, int, int], ...]
    #: The row just below the facts and the charts, where the first table's block starts.
    tables_row: int

    def header_row(self, sheet: SheetSpec) -> int | None:
        """The first table's header row: print titles end there and panes freeze below it."""
        if not sheet.tables:
            return None
        return self.tables_row + 1 + (1 if sheet.tables[0].title else 0)


# --- text widths ----------------------------------------------------------------------------------------------

#: Advance widths of Calibri (the default font), in 1/2048 em: text widths are estimated without reading a font.
_CALIBRI = dict(zip(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;'\"-_()/%&@#€«»–—…!?+=*[]",
    (981, 1076, 866, 1076, 1019, 625, 964, 1076, 470, 490, 931, 470, 1636, 1076, 1080, 1076, 1076, 714, 801, 686,
     1076, 925, 1464, 887, 927, 809, 1185, 1114, 1092, 1260, 1000, 941, 1292, 1276, 516, 653, 1064, 861, 1751, 1322,
     1356, 1058, 1378, 1112, 941, 998, 1314, 1162, 1822, 1063, 998, 959, *(1038,) * 10, 463, 517, 511, 548, 548,
     452, 821, 627, 1020, 621, 621, 791, 1469, 1399, 1831, 1020, 1038, 1024, 1024, 1020, 2048, 1417, 546, 949,
     1038, 1038, 1038, 621, 621), strict=True))
#: Calibri 11 at 96 dpi is 14.67 px to the em; a little more for rounding (other fonts scale with the columns:
#: LibreOffice measures widths with its own font).
_PX_PER_UNIT = 14.67 / 2048 * 1.03


class _Advances(dict[str, int]):
    """Each character's advance width, `_CALIBRI`'s or, for a character it lacks, its base letter's (an accented
    letter is as wide as its letter) or a digit's; found once per character, then looked up."""

    def __missing__(self, ch: str) -> int:
        width = self[ch] = _CALIBRI.get(unicodedata.normalize("NFD", ch)[:1], 1038)
        return width


_ADVANCES = _Advances(_CALIBRI)


def _text_px(text: str, bold: bool = False) -> float:
    """The text's width in pixels, estimated from Calibri's advances. Deterministic: no font is read."""
    return sum(map(_ADVANCES.__getitem__, text)) * _PX_PER_UNIT * (1.05 if bold else 1.0)


def _units(px: float) -> float:
    """Pixels of text to a column width (with the cell's padding), to the half unit."""
    return math.ceil((px + 10) / DIGIT_PX * 2) / 2


def _line_count(text: str, width: float, bold: bool = False) -> int:
    """The lines `text` takes once wrapped in a column `width` wide (a word longer than a line is broken)."""
    room = width * DIGIT_PX + 5 - 10
    space = _text_px(" ", bold)
    lines = 0
    for paragraph in text.splitlines() or [""]:
        lines += 1
        used = 0.0
        for word in paragraph.split(" "):
            w = _text_px(word, bold)
            if used and used + space + w > room:
                lines += 1
                used = 0.0
            if w > room:
                lines += math.ceil(w / room) - 1
                used = w % room
            else:
                used += (space if used else 0.0) + w
    return lines


def _rendered(value: Any, kind: ColKind) -> str | None:
    """The text a cell shows, as `_write_value` writes it (None for an empty cell)."""
    if _is_missing(value) or value == "":
        return None
    if kind is ColKind.DATE and isinstance(value, (dt.date, pd.Timestamp)):
        return "00/00/0000"
    if kind is not ColKind.TEXT and isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        if not math.isfinite(number):
            return None
        return {ColKind.AMOUNT: f"{number:,.2f} €", ColKind.RATE: f"{number * 100:.1f}%",
                ColKind.RATIO: f"{number:.2f}", ColKind.DECIMAL: f"{number:,.2f}"}.get(kind, f"{number:.0f}")
    return str(value)


def _header_widths(name: str) -> tuple[float, float]:
    """The header's width on one line, and on two lines at most (split between words)."""
    one = _units(_text_px(name, bold=True) + FILTER_BUTTON_PX)
    words = name.split(" ")
    two = min((max(_text_px(" ".join(words[:i]), True), _text_px(" ".join(words[i:]), True))
               for i in range(1, len(words))), default=_text_px(name, True))
    return one, _units(two + FILTER_BUTTON_PX)


# --- layout ---------------------------------------------------------------------------------------------------

def _fact_cells(sheet: SheetSpec) -> Iterator[tuple[int, int, Any, ColKind]]:
    """The facts as cells: labels in column A, values in column B."""
    for i, (label, value, kind) in enumerate(sheet.facts):
        yield i, 0, label, ColKind.TEXT
        yield i, 1, value, kind


@functools.lru_cache(maxsize=1 << 16)
def _text_fit(text: str, bold: bool) -> tuple[float, bool]:
    """The width a text needs (its widest line), and whether it should wrap: wider than `WIDTH_CAP` with
    words that fit. Remembered: a report repeats the same statuses, codes and labels thousands of times."""
    width, wraps = 0.0, False
    for line in text.splitlines():
        units = _units(_text_px(line, bold))
        width = max(width, units)
        if units > WIDTH_CAP and max(_units(_text_px(w, bold)) for w in line.split(" ")) <= WIDTH_CAP:
            wraps = True
    return width, wraps


def _column_widths(sheet: SheetSpec) -> tuple[dict[int, float], frozenset[int]]:
    """Widths that fit each column's header (on two lines at most) and longest value, at least its hint and at
    most `WIDTH_CAP`. A column with text wider than that wraps when its words fit: a digest stays on one line,
    cut at the column's edge (the cell holds all of it)."""
    need: dict[int, float] = {}
    prose: set[int] = set()

    def measure(j: int, value: Any, kind: ColKind, bold: bool = False) -> None:
        text = _rendered(value, kind)
        if text is None:
            return
        width, wraps = _text_fit(text, bold)
        need[j] = max(need.get(j, 0.0), width)
        if wraps:
            prose.add(j)

    if sheet.facts:
        need[0] = need[1] = FACTS_MIN_WIDTH
        for _, j, value, kind in _fact_cells(sheet):
            measure(j, value, kind, bold=j == 0)
    for table in sheet.tables:
        frame = table.frame()
        row_kinds = dict(table.row_kinds)
        for j, c in enumerate(table.columns):
            need[j] = max(need.get(j, 0.0), float(c.width), _header_widths(c.name)[1])
            numeric = c.kind not in (ColKind.TEXT, ColKind.DATE)
            extremes = None if row_kinds and numeric else _widest_numbers(frame.iloc[:, j], c.kind)
            if extremes is not None:
                for value in extremes:
                    measure(j, value, c.kind)
                continue
            values = frame.iloc[:, j].tolist()
            if row_kinds and numeric:
                kinds = [row_kinds.get(i, c.kind) for i in range(len(values))]
            else:
                kinds = [c.kind] * len(values)
            for value, kind in _distinct(values, kinds):
                measure(j, value, kind)
    return {j: min(WIDTH_CAP, w) for j, w in need.items()}, frozenset(prose)


def _widest_numbers(column: pd.Series, kind: ColKind) -> tuple[float, ...] | None:
    """The values of a column of plain numbers that show widest, when those are enough to size it.

    Digits are all as wide, and a number of a kind is shown with the same pattern whatever its value, so the
    widest text is the largest positive's or the most negative's (the sign bit tells `-0.0`). That holds
    while no number is wider than `WIDTH_CAP` (past it a text may wrap); otherwise, or for a column that is
    not of plain numbers, None: every distinct value is measured."""
    if kind in (ColKind.TEXT, ColKind.DATE) or column.dtype.kind not in "iuf":
        return None
    values = column.to_numpy(dtype=float, na_value=np.nan)  # pandas 2.2 will not turn a nullable NA alone
    values = values[np.isfinite(values)]
    if kind is ColKind.RATE and values.size and np.abs(values).max() > sys.float_info.max / 100:
        return None  # shown as a percentage it overflows (`inf%`): the largest is then not the widest
    negative = np.signbit(values)
    extremes = tuple(float(v.max() if not sign else v.min()) for sign, v in
                     ((False, values[~negative]), (True, values[negative])) if v.size)
    shown = (_rendered(v, kind) for v in extremes)
    if any(_text_fit(text, False)[0] >= WIDTH_CAP for text in shown if text is not None):
        return None
    return extremes


def _distinct(values: list[Any], kinds: list[ColKind]) -> Iterator[tuple[Any, ColKind]]:
    """Each (value, kind) once, in order: a column repeats its statuses, codes and amounts thousands of times.

    Values are told apart by type and, for floats, by their exact bits: `1`, `1.0` and `True`, or `0.0` and
    `-0.0`, are equal in Python but show differently."""
    seen: set[tuple[type, Any, ColKind]] = set()
    for value, kind in zip(values, kinds, strict=True):
        try:
            key = (type(value), value.hex() if type(value) is float else value, kind)
            if key in seen:
                continue
            seen.add(key)
        except TypeError:  # an unhashable value is measured each time
            pass
        yield value, kind


def _layout(sheet: SheetSpec) -> _Layout:
    widths, wrapped = _column_widths(sheet)
    block_row = 1 + (1 if sheet.intro else 0) + (1 if sheet.facts or sheet.charts else 0)
    chart_col = 2 if sheet.facts else 0
    left_px = sum(widths.get(j, FACTS_MIN_WIDTH) * DIGIT_PX + 5 for j in range(chart_col))
    per_row = _charts_per_row(sheet, left_px, block_row, widths)
    charts = tuple((block_row, chart_col, CHART_GAP + (k % per_row) * (CHART_WIDTH + CHART_GAP),
                    (k // per_row) * (CHART_HEIGHT + CHART_GAP)) for k in range(len(sheet.charts)))
    grid_px = math.ceil(len(sheet.charts) / per_row) * (CHART_HEIGHT + CHART_GAP)
    tables_row = max(block_row + len(sheet.facts), block_row + math.ceil(grid_px / ROW_PX))
    return _Layout(widths, wrapped, block_row, charts, tables_row)


def _charts_per_row(sheet: SheetSpec, left_px: float, top_rows: int, widths: dict[int, float]) -> int:
    """How many charts side by side: the grid that lets the sheet print largest on a landscape page."""
    if not sheet.charts:
        return 1
    table_rows = sum(2 + (1 if t.title else 0) + max(len(t.rows), 1) for t in sheet.tables)
    table_px = sum(widths[j] * DIGIT_PX + 5 for j in range(max((len(t.columns) for t in sheet.tables), default=0)))

    def scale(per_row: int) -> float:
        grid_px = math.ceil(len(sheet.charts) / per_row) * (CHART_HEIGHT + CHART_GAP)
        width = max(left_px + per_row * (CHART_WIDTH + CHART_GAP), table_px)
        height = (top_rows + table_rows) * ROW_PX + max(len(sheet.facts) * ROW_PX, grid_px)
        return min(PAGE_PX[0] / width, PAGE_PX[1] / height)

    return max(range(1, min(3, len(sheet.charts)) + 1), key=lambda n: (scale(n), -n))


# --- page set-up ----------------------------------------------------------------------------------------------

def page_header(title: str) -> str:
    """The page header: the workbook's title on the left, the sheet's name on the right.

    `&` starts a header code in Excel (`&P`, `&"font"`, `&12`…), so a title's `&` is doubled, and control
    characters become spaces. xlsxwriter also reads `&G` and `&[Picture]` as image placeholders and drops a
    header whose placeholders have no image: a zero-width space keeps a doubled `&` from reaching `G` or `[`."""
    text = "".join(" " if ord(ch) < 32 or ch == "\x7f" else ch for ch in title)
    if len(text) > HEADER_TITLE_MAX:
        text = text[:HEADER_TITLE_MAX - 1] + "…"
    escaped = "".join(("&&\u200b" if text[i + 1:i + 2] in ("G", "[") else "&&") if ch == "&" else ch
                      for i, ch in enumerate(text))
    return f"&L{escaped}&R&A"


def _set_up_page(ws: Worksheet, sheet: SheetSpec, layout: _Layout, header: str) -> None:
    ws.set_landscape()
    ws.set_paper(A4)
    ws.set_margins(**MARGINS)
    ws.set_header(header, {"margin": HEADER_MARGIN})
    ws.set_footer(FOOTER, {"margin": HEADER_MARGIN})
    ws.fit_to_pages(1, 1 if sheet.one_page else 0)
    header_row = layout.header_row(sheet)
    if header_row is not None:
        ws.repeat_rows(0, header_row)
        if not sheet.one_page:
            ws.freeze_panes(header_row + 1, 0)


# --- cells ----------------------------------------------------------------------------------------------------

def _write_sheet(ws: Worksheet, sheet: SheetSpec, layout: _Layout, f: _Formats) -> dict[str, _Placed]:
    ws.write_string(0, 0, sheet.name, f.title)
    if sheet.intro:
        ws.write_string(1, 0, sheet.intro, f.intro)
    for j, width in sorted(layout.widths.items()):
        ws.set_column(j, j, width)
    lines: dict[int, int] = {}
    for i, j, value, kind in _fact_cells(sheet):
        row = layout.block_row + i
        if j == 0:
            ws.write_string(row, 0, value, f.label_wrap if 0 in layout.wrapped else f.label)
        else:
            _write_value(ws, row, 1, value, kind, f.of(kind, 1 in layout.wrapped))
        _count_lines(lines, row, j, value, kind, layout, bold=j == 0)
    _set_heights(ws, lines)
    placed = {}
    row = layout.tables_row
    for table in sheet.tables:
        row += 1
        if table.title:
            ws.write_string(row, 0, table.title, f.label)
            row += 1
        placed[table.name] = _write_table(ws, sheet.name, row, table, layout, f)
        row = placed[table.name].last_row + 1
    return placed


def _count_lines(lines: dict[int, int], row: int, j: int, value: Any, kind: ColKind, layout: _Layout,
                 bold: bool = False) -> None:
    text = _rendered(value, kind) if j in layout.wrapped else None
    if text is not None:
        lines[row] = max(lines.get(row, 1), _line_count(text, layout.widths[j], bold))


def _set_heights(ws: Worksheet, lines: dict[int, int]) -> None:
    """Rows of wrapped prose get their height: LibreOffice does not size rows on opening a file."""
    for row, n in sorted(lines.items()):
        if n > 1:
            ws.set_row(row, min(409, n * LINE_HEIGHT))


#: Rows of an Excel sheet (0-based: the last row is `EXCEL_ROWS - 1`).
EXCEL_ROWS = 1_048_576


def _fitted(table: TableSpec, top: int) -> tuple[TableSpec, int]:
    """The table cut to what a sheet holds below `top` (one row kept for the note that says so), and how many
    rows were left out: a run with more findings than Excel has rows must still write its workbook, and say where
    the rest is (the CSV export of the same table is whole)."""
    room = EXCEL_ROWS - top - 3  # the header, the note, and a 0-based last row
    if len(table.rows) <= room:
        return table, 0
    return dataclasses.replace(table, rows=table.rows.iloc[:room]), len(table.rows) - room


def _write_table(ws: Worksheet, sheet: str, top: int, table: TableSpec, layout: _Layout, f: _Formats) -> _Placed:
    table, left_out = _fitted(table, top)
    last_row = top + max(len(table.rows), 1)
    if left_out:
        csv = f" (fichier donnees/{table.csv})" if table.csv else ""
        ws.write_string(last_row + 1, 0, f"Tableau tronqué : {left_out} ligne(s) de plus ne tiennent pas dans une feuille "
                                         f"Excel ; la liste complète est dans l'export CSV de ce tableau{csv}.", f.label)
    columns = [{"header": c.name, "format": f.of(c.kind, j in layout.wrapped), "header_format": f.header}
               for j, c in enumerate(table.columns)]
    _checked(ws.add_table(top, 0, last_row, len(table.columns) - 1,
                          {"name": table.name, "columns": columns, "style": TABLE_STYLE, "autofilter": True}),
             f"table {table.name}")
    if any(_header_widths(c.name)[0] > layout.widths[j] for j, c in enumerate(table.columns)):
        ws.set_row(top, 2 * LINE_HEIGHT)
    _set_heights(ws, _write_cells(ws, top + 1, table, layout, f))
    index = {c.name: (j, c.kind) for j, c in enumerate(table.columns)}
    for highlight in table.highlights:
        for name in highlight.columns:
            if name not in index:
                raise ValueError(f"highlight on {name!r}: no such column in table {table.name}")
            j = index[name][0]
            for rule in _highlight_rules(highlight.values, f.tones[highlight.tone]):
                _checked(ws.conditional_format(top + 1, j, last_row, j, rule), f"highlight of {table.name}")
    return _Placed(sheet, top, last_row, index)


def _highlight_rules(values: tuple[str, ...], fmt: Any) -> list[dict[str, Any]]:
    """A non-empty cell, or a cell equal to one of `values`: plain comparisons, never a formula of ours."""
    if not values:
        return [{"type": "no_blanks", "format": fmt}]
    return [{"type": "cell", "criteria": "==", "value": '"' + v.replace('"', '""') + '"', "format": fmt}
            for v in values]


def _checked(code: int, what: str) -> None:
    """xlsxwriter warns and carries on when it refuses an option: a refused one is a bug here."""
    if code != 0:
        raise ValueError(f"xlsxwriter refused the {what} (code {code})")


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NaT or (not isinstance(value, str) and pd.isna(value) is True)


def _write_cells(ws: Worksheet, first_row: int, table: TableSpec, layout: _Layout, f: _Formats) -> dict[int, int]:
    """Write the table's data cells from `first_row` on, row by row (strings keep their order of first use);
    return the lines each row of wrapped prose needs. What depends on the column alone is decided once."""
    kinds = [c.kind for c in table.columns]
    wrapped = [j in layout.wrapped for j in range(len(kinds))]
    formats = [f.of(kind, wrap) for kind, wrap in zip(kinds, wrapped, strict=True)]
    numeric = [kind not in (ColKind.TEXT, ColKind.DATE) for kind in kinds]
    row_kinds = dict(table.row_kinds)
    frame = table.frame()
    lines: dict[int, int] = {}
    columns = [frame.iloc[:, j].tolist() for j in range(len(kinds))]
    for i, values in enumerate(zip(*columns, strict=True)):
        r = first_row + i
        special = row_kinds.get(i) if row_kinds else None
        for j, value in enumerate(values):
            if special is not None and numeric[j]:
                kind, fmt = special, f.of(special, wrapped[j])
            else:
                kind, fmt = kinds[j], formats[j]
            _write_value(ws, r, j, value, kind, fmt)
            if wrapped[j]:
                _count_lines(lines, r, j, value, kind, layout)
    return lines


def _write_value(ws: Worksheet, r: int, c: int, value: Any, kind: ColKind, fmt: Any) -> None:
    """`_write_any`, with the common cells (text, floats: a report writes a million) decided first."""
    t = type(value)
    if t is str:
        if value:
            ws.write_string(r, c, cell_text(value), fmt)
        else:
            ws.write_blank(r, c, None, fmt)
        return
    if t is float and kind is not ColKind.TEXT:
        if math.isfinite(value):
            ws.write_number(r, c, value, fmt)
        else:
            ws.write_blank(r, c, None, fmt)
        return
    _write_any(ws, r, c, value, kind, fmt)


def _write_any(ws: Worksheet, r: int, c: int, value: Any, kind: ColKind, fmt: Any) -> None:
    """A cell as its column's kind shows it: empty, a date, a finite number, or text (never a formula)."""
    if _is_missing(value) or value == "":
        ws.write_blank(r, c, None, fmt)
    elif kind is ColKind.DATE and isinstance(value, (dt.date, pd.Timestamp)):
        day = value.date() if isinstance(value, (dt.datetime, pd.Timestamp)) else value
        ws.write_datetime(r, c, dt.datetime.combine(day, dt.time()), fmt)
    elif kind is not ColKind.TEXT and isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            ws.write_number(r, c, number, fmt)
        else:  # a sheet holds no infinity: empty, as `_rendered` measures it
            ws.write_blank(r, c, None, fmt)
    else:
        ws.write_string(r, c, cell_text(str(value)), fmt)


# --- charts ---------------------------------------------------------------------------------------------------

#: xlsxwriter takes a chart or axis title that looks like `Sheet!A1` for a cell reference.
_LOOKS_LIKE_REFERENCE = re.compile(r"^=?[^!]+!\$?[A-Z]+\$?\d+")


def _chart_text(text: str) -> str:
    """A zero-width space after the `!` keeps such a title the text it is."""
    return text.replace("!", "!\u200b", 1) if _LOOKS_LIKE_REFERENCE.match(text) else text


def _chart(wb: Any, spec: ChartSpec, placed: dict[str, _Placed]) -> Any:
    """A native chart: one series per column, a series of another kind drawn over it (bars and a line)."""
    table = placed.get(spec.table)
    if table is None:
        raise ValueError(f"chart {spec.title!r}: no table {spec.table} in the workbook")
    if not spec.series:
        raise ValueError(f"chart {spec.title!r}: no series")
    for name in (spec.categories, *(s.column for s in spec.series)):
        if name not in table.columns:
            raise ValueError(f"chart {spec.title!r}: no column {name!r} in table {spec.table}")
    groups: dict[ChartKind, list[str]] = {}
    for s in spec.series:
        groups.setdefault(s.kind or spec.kind, []).append(s.column)
    kinds = sorted(groups, key=lambda k: (k is not spec.kind, list(ChartKind).index(k)))
    charts = [wb.add_chart({"type": CHART_TYPES[k]}) for k in kinds]
    first, last = table.header_row + 1, table.last_row
    cat = table.columns[spec.categories][0]
    for kind, chart in zip(kinds, charts, strict=True):
        for name in groups[kind]:
            j = table.columns[name][0]
            series: dict[str, Any] = {"name": [table.sheet, table.header_row, j],
                                      "categories": [table.sheet, first, cat, last, cat],
                                      "values": [table.sheet, first, j, last, j]}
            if kind is ChartKind.LINE:
                series["marker"] = {"type": "circle"}
            chart.add_series(series)
    main = charts[0]
    if len(charts) > 1:
        main.combine(charts[1])
    main.set_title({"name": _chart_text(spec.title), "name_font": {"size": 12}})
    y_axis: dict[str, Any] = {"major_gridlines": {"visible": True}}
    if spec.y_title:
        y_axis["name"] = _chart_text(spec.y_title)
    axis_format = AXIS_FORMATS.get(table.columns[spec.series[0].column][1])
    if axis_format:
        y_axis["num_format"] = axis_format
    main.set_y_axis(y_axis)
    main.set_legend({"position": "bottom"})
    main.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
    return main
