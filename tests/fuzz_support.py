"""Mutations of real return files, and the checks every mutated file must pass through the real reading.

Two families, both driven by hypothesis through plain plans (tuples) so that a failure shrinks to a small plan:

- structural: what a person does in a spreadsheet (rename a sheet or a header, twin a sheet and hide it, type
  another value or another type in a cell, delete or insert rows and columns), applied with openpyxl and saved;
  each such plan also says how many lines the return must still read (`expected_lines`), when it can know;
- bytes: what a mail gateway or a disk does to a file (truncate, flip bits, splice, zero a range), on the raw
  bytes of an `.xlsx`, `.ods` or `.xls`, or inside one decompressed XML entry of the archive, re-zipped.

A case that breaks a rule is saved, with a README line, under `FTAP_FUZZ_FINDINGS` (default
`<tmp>/ftap-fuzz-findings`) so that it can be replayed alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import strategies as st
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.findings import Severity
from ftap_pipeline.contract.labels import normalise_label
from ftap_pipeline.contract.model import ParsedReturn
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.assess import Assessment, assess_parsed
from ftap_pipeline.io.intake import parse_returns
from tests.conftest import soffice

#: Where a case that breaks a rule is copied, with one README line each.
FINDINGS_DIR = Path(os.environ.get("FTAP_FUZZ_FINDINGS", Path(tempfile.gettempdir()) / "ftap-fuzz-findings"))
CUTOFF = dt.date(2025, 6, 30)
TABLE_SHEETS = tuple(s for s in layout.SHEETS if not s.is_form)
SHEET_NAMES = tuple(s.name for s in layout.SHEETS)

Plan = tuple[Any, ...]


# --- Names a person could type for a sheet or a header --------------------------------------------------------

def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


#: Spellings that fold to the same label (case, accents, spacing, decomposed accents, a trailing colon).
SAME_LABEL: dict[str, Callable[[str], str]] = {
    "upper": str.upper, "lower": str.lower, "no-accents": _strip_accents, "padded": lambda s: f"  {s} ",
    "nfd": lambda s: unicodedata.normalize("NFD", s), "nbsp": lambda s: s.replace(" ", "\u00a0"),
    "colon": lambda s: f"{s} :",
}
_SHEET_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="[]:*?/\\'"),
                      min_size=1, max_size=31)
#: A new name: a spelling of a layout name (`same`), another layout name, or any text.
NAMES = st.one_of(
    st.tuples(st.just("same"), st.sampled_from(sorted(SAME_LABEL))),
    st.tuples(st.just("other"), st.sampled_from(SHEET_NAMES)),
    st.tuples(st.just("text"), _SHEET_TEXT),
)


def new_name(current: str, how: tuple[str, str]) -> str:
    kind, arg = how
    if kind == "same":
        return SAME_LABEL[arg](current)
    return arg


# --- Cell values and types --------------------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
VALUES = st.one_of(
    st.none(), _TEXT,
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1)),
    st.sampled_from(["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "=SUM(A1:A2)", "=1/0", "Total", "TOTAL GÉNÉRAL", "  ",
                     "1e26", "-0,00", "1 234,567", "200 000,00 €", "31/02/2025", "2025-13-01", "01/03/2024",
                     "AP-2024-01", "00123", "Oui", "non", "FTAP", "Porteur", "Totalité des demandes"]),
)
#: Another type for the same value, as a person re-types it (a number as text, a date as text…).
RETYPES = ("text", "french-text", "bool", "number", "blank")


def retype(value: object, how: str) -> object:
    if how == "text":
        return None if value is None else str(value)
    if how == "french-text":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{value:,.2f}".replace(",", " ").replace(".", ",")
        if isinstance(value, dt.date):
            return f"{value:%d/%m/%Y}"
        return value
    if how == "bool":
        return bool(value)
    if how == "number":
        if isinstance(value, dt.datetime | dt.date):
            return (dt.datetime(value.year, value.month, value.day) - dt.datetime(1899, 12, 30)).days
        try:
            return float(str(value).replace(" ", "").replace(",", "."))
        except ValueError:
            return 0
    return None


# --- Structural mutations, with openpyxl ----------------------------------------------------------------------

#: One structural change; integers are reduced modulo the size of what they pick, so that any shrinks to 0.
STRUCTURAL = st.one_of(
    st.tuples(st.just("set-cell"), st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6), VALUES),
    st.tuples(st.just("retype-cell"), st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6),
              st.sampled_from(RETYPES)),
    st.tuples(st.just("rename-sheet"), st.integers(0, 10**6), NAMES),
    st.tuples(st.just("rename-header"), st.integers(0, 10**6), st.integers(0, 10**6), NAMES),
    st.tuples(st.just("twin-sheet"), st.integers(0, 10**6), NAMES, st.sampled_from(["hidden", "veryHidden", "visible"]),
              st.booleans()),
    st.tuples(st.just("hide-sheet"), st.integers(0, 10**6), st.sampled_from(["hidden", "veryHidden"])),
    st.tuples(st.just("delete-row"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("insert-row"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("delete-col"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("insert-col"), st.integers(0, 10**6), st.integers(0, 10**6)),
)
STRUCTURAL_PLANS = st.lists(STRUCTURAL, min_size=1, max_size=3)


@dataclass
class _Table:
    """Where a table sheet's header and lines are now, as rows are inserted and deleted (1-based)."""

    header: int
    lines: set[int]
    width: int


@dataclass
class _Tracker:
    """What the mutations left of the seed's lines: None once a change makes the count unknowable."""

    tables: dict[int, _Table] = field(default_factory=dict)
    known: bool = True

    def lines(self) -> int | None:
        return sum(len(t.lines) for t in self.tables.values()) if self.known else None


_LAYOUT_NAMES = {normalise_label(n): n for n in SHEET_NAMES}


def _layout_name(title: str) -> str | None:
    """The layout sheet a title stands for once folded, if any."""
    return _LAYOUT_NAMES.get(normalise_label(title))


def _sheet(wb: Workbook, k: int) -> Worksheet:
    ws = wb.worksheets[k % len(wb.worksheets)]
    assert isinstance(ws, Worksheet)
    return ws


def _track(wb: Workbook) -> _Tracker:
    """The seed's table sheets: header on row 1, a line on every non-empty row below it."""
    tracker = _Tracker()
    for ws in wb.worksheets:
        if ws.title in {s.name for s in TABLE_SHEETS}:
            lines = {r for r in range(2, ws.max_row + 1)
                     if any(c.value not in (None, "") for c in ws[r])}
            tracker.tables[id(ws)] = _Table(1, lines, ws.max_column)
    return tracker


def apply_structural(wb: Workbook, plan: Sequence[Plan]) -> int | None:
    """Apply the plan to the workbook; the number of lines the return must still read, or None if unknown."""
    tracker = _track(wb)
    for op in plan:
        try:
            _apply_one(wb, op, tracker)
        except (ValueError, AttributeError):  # openpyxl refuses it (a title with `:`, a merged cell's value…), as
            continue  # Excel would
    return tracker.lines()


def _apply_one(wb: Workbook, op: Plan, tracker: _Tracker) -> None:
    kind = op[0]
    ws = _sheet(wb, op[1])
    table = tracker.tables.get(id(ws))
    if kind in ("set-cell", "retype-cell"):
        row, col = 1 + op[2] % (ws.max_row + 1), 1 + op[3] % (ws.max_column + 1)
        cell = ws.cell(row, col)
        cell.value = op[4] if kind == "set-cell" else retype(cell.value, op[4])  # type: ignore[assignment]
        if table is not None and (row < table.header or (row not in table.lines and row != table.header)):
            tracker.known = tracker.known and cell.value in (None, "") and row > table.header
    elif kind == "rename-sheet":
        before, after = ws.title, new_name(ws.title, op[2])
        ws.title = "fuzz-renaming"  # openpyxl compares a new title with every title, this sheet's own included
        try:
            ws.title = after
        except ValueError:
            ws.title = before
            raise
        if _layout_name(ws.title) != _layout_name(before):
            tracker.known = False  # a layout sheet gone, or one more: the lines it holds are not the seed's
    elif kind == "rename-header":
        if table is None:
            return
        cell = ws.cell(table.header, 1 + op[2] % max(1, table.width))
        cell.value = new_name(str(cell.value or ""), op[3])
        if op[3][0] != "same":
            tracker.known = False
    elif kind == "twin-sheet":
        twin = wb.copy_worksheet(ws)
        twin.title = new_name(ws.title, op[2])  # a case-only variant is refused (`Consommation1`), as in Excel
        twin.sheet_state = op[3]
        if op[4]:  # the twin says something else, so that reading it instead would show in the figures
            for r in range(2, twin.max_row + 1):
                for c in twin[r]:
                    if isinstance(c.value, int | float) and not isinstance(c.value, bool):
                        c.value = c.value * 2 + 1
        twin_of = _layout_name(twin.title)
        if twin_of is not None and (twin_of != _layout_name(ws.title) or twin.sheet_state == "visible"):
            tracker.known = False  # two sheets could be read for one: refused, or one of them stands
    elif kind == "hide-sheet":
        ws.sheet_state = op[2]
        tracker.known = tracker.known and _layout_name(ws.title) is None
    else:  # delete-row, insert-row, delete-col, insert-col
        action, axis = kind.split("-")
        at = 1 + op[2] % ((ws.max_row if axis == "row" else ws.max_column) + 1)
        getattr(ws, f"{action}_{axis}s")(at)
        if table is None:
            return
        if axis == "row":
            _shift(table, at, -1 if action == "delete" else 1, tracker)
        else:
            table.width = ws.max_column
            # A table whose only identifying columns go may lose its header: only one column at a time is known.
            tracker.known = tracker.known and table.width >= 4


def _shift(table: _Table, row: int, by: int, tracker: _Tracker) -> None:
    if by < 0 and row == table.header:
        tracker.known = False
        return
    if by < 0:
        table.lines.discard(row)
    first_moved = row + 1 if by < 0 else row
    table.lines = {r + by if r >= first_moved else r for r in table.lines}
    if table.header >= row:
        table.header += by
    if table.header > 10:
        tracker.known = False  # the header must sit in the first rows to be found


def structural_case(seed: Path, plan: Sequence[Plan], out: Path) -> int | None:
    """Write the seed mutated by the plan to `out`; the lines it must read (None: unknown)."""
    wb = openpyxl.load_workbook(seed)
    expected = apply_structural(wb, plan)
    wb.save(out)
    return expected


# --- Byte mutations ---------------------------------------------------------------------------------------------

#: Changes to the XML of a sheet, each on the n-th match of a pattern (n modulo the matches): what a broken
#: writer or a hand edit leaves, still well-formed, so that the file reads and its rules run.
XML_EDITS: dict[str, tuple[bytes, tuple[bytes, ...]]] = {
    # OOXML: a cell's type, value, reference; a row's number; a row twice or gone
    "cell-type": (rb' t="[a-zA-Z]+"', (b' t="n"', b' t="b"', b' t="e"', b' t="str"', b' t="inlineStr"', b' t="d"', b"")),
    "cell-value": (rb"<v>[^<]*</v>", (b"<v></v>", b"<v>abc</v>", b"<v>1e400</v>", b"<v>-1</v>", b"<v>NaN</v>",
                                      b"<v>99999</v>", b"<v>1e26</v>", b"<v>2958466</v>", b"<v>#REF!</v>")),
    "cell-ref": (rb' r="[A-Z]+[0-9]+"', (b' r="XFD1048576"', b' r="A1"', b' r="a2"', b' r="B"', b' r="ZZZZ9"', b"")),
    "row-number": (rb'<row r="[0-9]+"', (b'<row r="1"', b'<row r="0"', b'<row r="1048577"', b'<row r="x"', b"<row")),
    "row-twice": (rb"<row [^>]*>.*?</row>", (b"\\g<0>\\g<0>",)),
    "row-gone": (rb"<row [^>]*>.*?</row>", (b"",)),
    # ODS: a value's type and value; repeated rows and columns
    "ods-type": (rb'office:value-type="[a-z]+"', (b'office:value-type="float"', b'office:value-type="date"',
                                                   b'office:value-type="boolean"', b'office:value-type="string"')),
    "ods-value": (rb'office:(?:date-)?value="[^"]*"', (b'office:value="abc"', b'office:value="1e400"',
                                                       b'office:date-value="2025-13-45"', b'office:value=""')),
    "ods-repeat": (rb'number-(?:columns|rows)-repeated="[0-9]+"', (b'number-columns-repeated="1048576"',
                                                                  b'number-rows-repeated="2"', b'number-rows-repeated="0"',
                                                                  b'number-columns-repeated="-1"')),
    "ods-row-twice": (rb"<table:table-row [^>]*>.*?</table:table-row>", (b"\\g<0>\\g<0>",)),
}


def edit_xml(data: bytes, name: str, nth: int, choice: int) -> bytes:
    """Replace the n-th match of an edit's pattern by one of its replacements (nothing when there is no match)."""
    pattern, replacements = XML_EDITS[name]
    matches = list(re.finditer(pattern, data, re.DOTALL))
    if not matches:
        return data
    m = matches[nth % len(matches)]
    return data[:m.start()] + m.expand(replacements[choice % len(replacements)]) + data[m.end():]


BYTE_OPS = st.one_of(
    st.tuples(st.just("xml"), st.sampled_from(sorted(XML_EDITS)), st.integers(0, 10**6), st.integers(0, 100)),
    st.tuples(st.just("truncate"), st.integers(0, 10**9)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 7)), min_size=1, max_size=8)),
    st.tuples(st.just("splice"), st.integers(0, 10**9), st.integers(1, 4096), st.integers(0, 10**9)),
    st.tuples(st.just("overwrite"), st.integers(0, 10**9), st.integers(1, 4096), st.integers(0, 10**9)),
    st.tuples(st.just("zero"), st.integers(0, 10**9), st.integers(1, 4096)),
)
#: Where to mutate: the file's raw bytes, or inside one entry of its archive (index among the XML entries).
WHERE = st.one_of(st.just(("raw",)), st.tuples(st.sampled_from(["entry", "sheet"]), st.integers(0, 10**6)))
#: The entries that hold cells: where a change most often still reads, and so reaches the rules.
_CELL_ENTRIES = re.compile(r"xl/worksheets/[^/]+\.xml|xl/sharedStrings\.xml|content\.xml")
BYTE_PLANS = st.tuples(WHERE, st.lists(BYTE_OPS, min_size=1, max_size=3))


def mutate_bytes(data: bytes, op: Plan) -> bytes:
    size = len(data)
    kind = op[0]
    if kind == "xml":
        return edit_xml(data, op[1], op[2], op[3])
    if kind == "truncate":
        return data[:op[1] % (size + 1)]
    if kind == "flip":
        out = bytearray(data)
        for pos, bit in op[1]:
            if out:
                out[pos % len(out)] ^= 1 << bit
        return bytes(out)
    start = op[1] % (size + 1)
    if kind == "zero":
        return data[:start] + bytes(min(op[2], size - start)) + data[start + op[2]:]
    piece = data[start:start + op[2]]
    at = op[3] % (size + 1)
    if kind == "splice":  # a copy of another part of the file, inserted
        return data[:at] + piece + data[at:]
    return data[:at] + piece + data[at + len(piece):]  # overwrite in place


def xml_entries(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [i.filename for i in zf.infolist() if i.filename.endswith((".xml", ".rels"))]


def mutate_file(data: bytes, plan: tuple[Plan, Sequence[Plan]]) -> bytes:
    """The bytes of a file mutated by the plan: on the raw bytes, or in an XML entry re-zipped (zip formats)."""
    where, ops = plan
    entries = xml_entries(data) if where[0] != "raw" and data[:2] == b"PK" else []
    if where[0] == "sheet":
        entries = [e for e in entries if _CELL_ENTRIES.fullmatch(e)]
    if not entries:
        for op in ops:
            data = mutate_bytes(data, op)
        return data
    name = entries[where[1] % len(entries)]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == name:
                for op in ops:
                    content = mutate_bytes(content, op)
            dst.writestr(info, content, compress_type=info.compress_type)
    return out.getvalue()


# --- LibreOffice ------------------------------------------------------------------------------------------------

def convert(files: Sequence[Path], fmt: str, outdir: Path) -> list[Path]:
    """Convert files with headless LibreOffice in one process, with a profile of its own so that parallel
    tests do not share one (LibreOffice refuses to start on a profile in use)."""
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / ".lo-profile"
    subprocess.run([str(soffice()), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                    "--outdir", str(outdir), *map(str, files)], check=True, capture_output=True, timeout=300)
    shutil.rmtree(profile, ignore_errors=True)
    return [outdir / f"{f.stem}.{fmt.split(':')[0]}" for f in files]


# --- The checks ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One mutated file, how it was made, and the lines it must read when that is known."""

    path: Path
    plan: str
    expected_lines: int | None = None


#: Signs of a raw exception or a value left unformatted, where a person should read a sentence.
_NOT_FRENCH = re.compile(r"Traceback|object at 0x|Errno|\bNone\b")


def problems_of(case: Case, parsed: ParsedReturn, assessment: Assessment) -> list[str]:
    """What is wrong with how one file came through (empty: nothing): a status, a French reason for a
    rejection, and conservation of its lines, counted from the typed lines rather than the record's own sums."""
    out: list[str] = []
    records = [r for r in assessment.records if r.file == parsed.file]
    if not records:
        if not any(p.file == parsed.file for p in assessment.later):
            out.append("no status")
        return out
    (record,) = records
    if record.status not in enums.RETURN_STATUSES:
        out.append(f"unknown status {record.status!r}")
    if record.status == enums.REJETEE:
        blocking = [f for f in record.findings if f.severity is Severity.BLOQUANT]
        if not blocking:
            out.append("Rejetée without a blocking finding")
        for f in blocking:
            if not f.message.strip() or _NOT_FRENCH.search(f.message):
                out.append(f"Rejetée with a reason that is not French text: {f.message!r}")
    read, kept, rejected = record.lines_read, record.lines_kept, record.lines_rejected
    if read != kept + rejected or min(read, kept, rejected) < 0:
        out.append(f"conservation: read {read} != kept {kept} + rejected {rejected}")
    where = [(s.key, row) for s in TABLE_SHEETS for row in _rows_of(assessment, s.key, parsed.file)]
    if len(where) != read:
        out.append(f"typed lines {len(where)} != lines read {read}")
    if len(set(where)) != len(where):
        out.append("a line is counted twice")
    if record.status != enums.REJETEE:
        flagged = sum(_rejected_of(assessment, s.key, parsed.file) for s in TABLE_SHEETS)
        if flagged != rejected:
            out.append(f"lines set aside {flagged} != lines rejected {rejected}")
    if case.expected_lines is not None and parsed.readable:
        totals = sum(1 for f in record.findings if f.slug == "total-row")
        if read + totals != case.expected_lines:
            out.append(f"lines read {read} (+{totals} total rows) != {case.expected_lines} lines in the file")
    return out


def _rows_of(assessment: Assessment, key: str, file: str) -> list[int]:
    frame = assessment.frames[key]
    return [int(r) for r in frame.loc[frame["_file"] == file, "_row"]]


def _rejected_of(assessment: Assessment, key: str, file: str) -> int:
    frame = assessment.frames[key]
    return int(frame.loc[frame["_file"] == file, "_rejected"].astype(bool).sum())


def run_cases(cases: Sequence[Case], referentiel: Referentiel, tally: Counter[str] | None = None,
              findings: Path = FINDINGS_DIR) -> list[str]:
    """Read every case in one `parse_returns` call (workers, isolation), assess each alone; what went wrong.
    `tally` counts the statuses given.

    When something escapes the batch, each file is read again alone to find which."""
    tally = Counter() if tally is None else tally
    try:
        parsed = parse_returns([c.path for c in cases], workers=2)
    except BaseException as exc:  # noqa: BLE001 - whatever escapes is the finding
        if len(cases) == 1:
            return [_save(cases[0], f"parse_returns raised {type(exc).__name__}: {exc}", findings)]
        return [p for c in cases for p in run_cases([c], referentiel, tally, findings)]
    if len(parsed) != len(cases):
        return [f"{len(cases)} files read, {len(parsed)} results"]
    out: list[str] = []
    for case, p in zip(cases, parsed, strict=True):
        if p.file != case.path.name:
            out.append(_save(case, f"result for {p.file}, not {case.path.name}", findings))
            continue
        try:
            assessment = assess_parsed([p], referentiel, CUTOFF)
        except BaseException as exc:  # noqa: BLE001
            out.append(_save(case, f"assess_parsed raised {type(exc).__name__}: {exc}", findings))
            continue
        tally.update(r.status for r in assessment.records)
        tally["after the cut-off"] += len(assessment.later)
        out.extend(_save(case, problem, findings) for problem in problems_of(case, p, assessment))
    return out


def _save(case: Case, problem: str, findings: Path) -> str:
    """Keep the file of a failing case, named by its content, with a README line; the problem, with where."""
    findings.mkdir(parents=True, exist_ok=True)
    data = case.path.read_bytes()
    target = findings / f"{hashlib.sha256(data).hexdigest()[:12]}{case.path.suffix}"
    if not target.exists():
        target.write_bytes(data)
        with (findings / "README").open("a", encoding="utf-8") as fh:
            fh.write(f"{target.name}: {problem} (plan {case.plan})\n")
    return f"{case.path.name}: {problem} [saved as {target}] (plan {case.plan})"
