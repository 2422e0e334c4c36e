"""Read any accepted workbook into plain rows of cell values, with python-calamine.

Calamine reads cached values and never runs macros. Two things it cannot tell apart from an empty
cell (it gives an error cell as `""`) are looked up in the same bytes: error cells (`#REF!`…) in OOXML,
ODS and `.xls` workbooks (in the last, from the BIFF cell records), and formulas that were saved without
a cached value in OOXML ones. They come back as `CellFlag`s so the validator can refuse them.

Before calamine sees a byte, `contract.preflight` judges the container (sizes, ratios, entry names, local
headers against the central directory) and each sheet's size: a file too large is refused whole, never cut.

Parsing runs in worker processes (see `read_isolated`): a hostile file may abort a native reader,
and must take down only its worker, never the run.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Final

__all__ = ["CellFlag", "RawSheet", "RawWorkbook", "a1", "a1_to_index", "column_letter", "read_isolated",
           "read_workbook", "sniff"]

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ftap_pipeline.contract import preflight
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.labels import normalise_label
from ftap_pipeline.contract.preflight import MAX_ROWS
from ftap_pipeline.contract.raw import CellFlag, RawSheet, RawWorkbook, a1, a1_to_index, column_letter
from ftap_pipeline.io.file_bytes import FileBytes, read_once
from ftap_pipeline.io.isolation import Isolated, start_isolated

ACCEPTED_SUFFIXES: Final = preflight.WORKBOOK_SUFFIXES

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_NS_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_NS_ODS_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_NS_ODS_CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
#: Name of the stream that holds a password-protected OOXML package, as it appears in the OLE directory.
_ENCRYPTED_STREAM: Final = "EncryptedPackage".encode("utf-16-le")


def sniff(path: Path, data: bytes | None = None) -> None:
    """Refuse, before parsing, what is not an accepted workbook (see `contract.preflight`)."""
    package = _preflight(path, path.read_bytes() if data is None else data)
    if package is not None:
        package.close()


def _preflight(path: Path, data: bytes) -> zipfile.ZipFile | None:
    """The checks of `contract.preflight` on the file's bytes, before any XML is parsed; a zip package comes
    back open, for the scans that follow (one opening of the archive for the whole read)."""
    container = preflight.check_workbook_head(path.suffix, len(data), data[:preflight.HEAD_BYTES])
    if container is preflight.Container.OLE:
        # An OOXML workbook saved with a password is an OLE container holding an encrypted package.
        encrypted = path.suffix.lower() != ".xls" and _ENCRYPTED_STREAM in data
        preflight.check_ole(path.suffix, encrypted)
        preflight.check_ole_header(data)
        return None
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        entries = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InputError("file-unreadable", {"motif": "Le fichier est endommagé (archive illisible)."}) from exc
    try:
        preflight.check_package_kind(path.suffix, {i.filename for i in entries})
        preflight.check_zip([preflight.ZipEntry(i.orig_filename, i.header_offset, i.compress_size, i.file_size,
                                                i.flag_bits) for i in entries], data)
    except InputError:
        package.close()
        raise
    return package


def read_workbook(path: Path, data: bytes | None = None, *, unread: frozenset[str] = frozenset()) -> RawWorkbook:
    """Read every sheet of a workbook, from A1, as calamine's Python values.

    `data` is the file's content when the caller has read it already: the checks, calamine and the scan of
    the XML then all work on those same bytes, and the file is read once. A sheet whose folded name is in
    `unread` (one the caller ignores, such as a return's instructions) comes back with its name and
    visibility only: neither calamine nor the survey of `_ooxml_sheets` reads its XML."""
    if data is None:
        data = path.read_bytes()
    package = _preflight(path, data)
    try:
        return _read(path, data, package, unread)
    finally:
        if package is not None:
            package.close()


def _read(path: Path, data: bytes, package: zipfile.ZipFile | None, unread: frozenset[str]) -> RawWorkbook:
    import python_calamine as pc

    suffix = path.suffix.lower()
    # Before calamine builds its cells: how tall each sheet's XML is, and which sheets may hide values.
    ooxml = _ooxml_sheets(package, unread) if package is not None and suffix in (".xlsx", ".xlsm") else None
    if package is not None and suffix == ".ods":
        _check_ods_size(package)
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError as exc:
        raise InputError("file-encrypted") from exc
    except Exception as exc:  # calamine raises many kinds for damaged files
        raise InputError("file-unreadable", {"motif": f"Le classeur est endommagé ou illisible ({type(exc).__name__})."}) from exc
    sheets: list[RawSheet] = []
    try:
        for meta in wb.sheets_metadata:
            if str(meta.typ) not in ("SheetTypeEnum.WorkSheet", "WorkSheet"):
                continue
            # Compare with the enum itself: its text, `SheetVisibleEnum.Hidden`, contains "Visible" too.
            visible = meta.visible == pc.SheetVisibleEnum.Visible
            if _left_unread(meta.name, unread):
                sheets.append(RawSheet(meta.name, [], visible=visible))
                continue
            try:
                sheet = wb.get_sheet_by_name(meta.name)
            except Exception as exc:
                raise InputError("file-unreadable", {"motif": f"La feuille « {meta.name} » du classeur est illisible "
                                                              f"({type(exc).__name__})."}) from exc
            # Rows and columns from A1, as `to_python` would give them, before any Python value is built.
            height, width = (sheet.end[0] + 1, sheet.end[1] + 1) if sheet.end is not None else (0, 0)
            preflight.check_sheet_size(meta.name, height, height * width)
            try:
                rows = sheet.to_python(skip_empty_area=False)
            except Exception as exc:
                raise InputError("file-unreadable", {"motif": f"La feuille « {meta.name} » du classeur est illisible "
                                                              f"({type(exc).__name__})."}) from exc
            sheets.append(RawSheet(meta.name, [list(r) for r in rows], visible=visible))
    finally:
        wb.close()
    raw = RawWorkbook(sheets)
    if package is not None and ooxml is not None:
        _add_ooxml_facts(package, ooxml, raw)
    elif package is not None and suffix == ".ods":
        _add_ods_facts(package, raw)
    elif suffix == ".xls":
        _add_xls_facts(data, raw)
    for raw_sheet in raw.sheets:
        _cover_flags(raw_sheet)
    return raw


def _left_unread(sheet: str, unread: frozenset[str]) -> bool:
    return bool(unread) and normalise_label(sheet) in unread


def _cover_flags(sheet: RawSheet) -> None:
    """Make the rows reach every flagged cell.

    Calamine's rows stop at the last cell that has a value, so a trailing line made only of formulas saved
    without their values would fall outside the rows and vanish without a finding. Rows added here are
    empty lists: only the flags say something about them.
    """
    last = max((i for i, _ in sheet.flags if i < MAX_ROWS), default=-1)
    sheet.rows.extend([] for _ in range(last + 1 - len(sheet.rows)))


@dataclass
class _OoxmlSheets:
    """What the workbook part says before calamine reads it: the date system, each sheet's part, and which
    parts may hide values (formulas or error cells)."""

    date1904: bool = False
    #: Sheet name → its part in the package.
    parts: dict[str, str] = field(default_factory=dict)
    #: Parts with a formula or an error cell somewhere.
    hiding: set[str] = field(default_factory=set)


def _damaged(exc: BaseException) -> InputError:
    if isinstance(exc, DefusedXmlException):
        return _forbidden_xml()
    return InputError("file-unreadable", {"motif": "Le fichier est endommagé (archive illisible)."})


def _forbidden_xml() -> InputError:
    return InputError("file-suspicious", {"motif": "Le classeur contient des déclarations XML interdites (DTD, "
                                                   "entités) : il n'a pas été écrit par un tableur ordinaire."})


def _ooxml_sheets(zf: zipfile.ZipFile, unread: frozenset[str] = frozenset()) -> _OoxmlSheets:
    """Read the workbook part and its relations (small XML, through defusedxml), then stream each sheet part
    once: its rows and cells are counted, so that a sheet too large is refused before calamine builds it,
    and a byte search tells the sheets that may hide values (most have neither formulas nor error cells:
    the search spares them the XML parse, 90 % of the reading time of a return). The part of a sheet left
    unread (`read_workbook`) is not surveyed: neither calamine nor this module parses it.

    Reading through `zipfile` bounds each part to its declared size and checks its CRC: a part that lies
    about its size is refused here."""
    names = set(zf.namelist())
    out = _OoxmlSheets()
    try:
        workbook = SafeET.fromstring(zf.read("xl/workbook.xml"))
        pr = workbook.find(f"{_NS_MAIN}workbookPr")
        out.date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
        rels_part = "xl/_rels/workbook.xml.rels"
        rels = SafeET.fromstring(zf.read(rels_part)) if rels_part in names else None
    except KeyError:
        return out  # calamine says what is missing
    except (SafeET.ParseError, zipfile.BadZipFile, zlib.error, EOFError, DefusedXmlException) as exc:
        raise _damaged(exc) from exc
    targets = {}
    if rels is not None:
        for rel in rels.iter(f"{_NS_PKG_REL}Relationship"):
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else _in_xl(target)
            targets[rel.get("Id")] = target
    for sh in workbook.iter(f"{_NS_MAIN}sheet"):
        part = targets.get(sh.get(f"{_NS_REL}id"))
        if part and part in names:
            out.parts[sh.get("name", "")] = part
    for name, part in out.parts.items():
        if _left_unread(name, unread):
            continue
        try:
            rows, cells, hiding = _survey(zf, part)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise _damaged(exc) from exc
        preflight.check_sheet_size(name, rows, cells)
        if hiding:
            out.hiding.add(part)
    return out


#: A formula element (`<f>`, `<f …>`, `<f/>`), and the attribute of an error-typed cell (`t="e"` after a
#: space, a tab or a line end). A regular expression that begins with a literal runs at memory speed; one that
#: may start at every space (`\st="e"`) took 6 s over a 100 Mo sheet, so the attribute's four spellings are
#: searched as plain bytes, and only in a sheet where `t="e"` appears at all.
_FORMULA: Final = re.compile(rb"<f[> /]")
_ERROR_TYPE: Final = re.compile(rb't="e"')
_ERROR_TYPES: Final = (b' t="e"', b'\tt="e"', b'\nt="e"', b'\rt="e"')
#: A document type declaration or an entity, which no spreadsheet writes.
_DECLARATION: Final = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
#: The same elements written with a namespace prefix (`<x:c>`): rare, searched only in a sheet whose root
#: element has one.
_PREFIXED_ROOT = re.compile(rb"<\w+:worksheet[\s>]")
_PREFIXED_HIDDEN = re.compile(rb"<\w+:f[\s>/]")
_PREFIXED_ROW = re.compile(rb"<\w+:row[\s>/]")
_PREFIXED_CELL = re.compile(rb"<\w+:c[\s>/]")
_TAIL = 16
#: A part this small cannot exceed the sheet limits, whatever it holds: a counted row (`<row ` or `<row>`)
#: takes at least 5 bytes and a cell (`<c ` or `<c>`) 3, and matches do not overlap. Its rows and cells are
#: not counted (four passes over its bytes spared); `zipfile` holds the part to this declared size.
_UNCOUNTED_BYTES: Final = min(5 * preflight.MAX_ROWS, 3 * preflight.MAX_CELLS)


def _count(text: bytes, prefixed: bool) -> tuple[int, int]:
    rows = text.count(b"<row ") + text.count(b"<row>")
    cells = text.count(b"<c ") + text.count(b"<c>")
    if prefixed:
        rows += len(_PREFIXED_ROW.findall(text))
        cells += len(_PREFIXED_CELL.findall(text))
    return rows, cells


def _hides(text: bytes, prefixed: bool) -> bool:
    """Whether the bytes hold a formula element or an error-typed cell (plain, or prefixed when `prefixed`)."""
    if _FORMULA.search(text) is not None:
        return True
    if _ERROR_TYPE.search(text) is not None and any(m in text for m in _ERROR_TYPES):
        return True
    return prefixed and _PREFIXED_HIDDEN.search(text) is not None


@functools.lru_cache(maxsize=1024)
def _in_xl(target: str) -> str:
    """A relation's target, relative to the workbook part's folder (the same few in every workbook)."""
    return str(PurePosixPath("xl") / target)


def _survey(zf: zipfile.ZipFile, part: str) -> tuple[int, int, bool]:
    """Rows and cells of a sheet part, and whether it may hide values, from one pass over its bytes. A
    document type declaration is refused: no spreadsheet writes one, and it is how XML entities attack.

    A part too small to pass the limits is not counted (its counts come back as 0)."""
    rows = cells = 0
    hiding = prefixed = False
    counted = zf.getinfo(part).file_size > _UNCOUNTED_BYTES
    with zf.open(part) as stream:
        tail = b""
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            window = tail + chunk
            if not tail:
                head = window[:4096]
                prefixed = b":worksheet" in head and _PREFIXED_ROOT.search(head) is not None
            if _DECLARATION.search(window) is not None:
                raise _forbidden_xml()
            if counted:
                # A match wholly inside the tail was counted with the previous chunk.
                (r, c), (tr, tc) = _count(window, prefixed), _count(tail, prefixed)
                rows, cells = rows + r - tr, cells + c - tc
            hiding = hiding or _hides(window, prefixed)
            if rows > preflight.MAX_ROWS or cells > preflight.MAX_CELLS:
                break
            tail = chunk[-_TAIL:]
    return rows, cells, hiding


def _add_ooxml_facts(zf: zipfile.ZipFile, sheets: _OoxmlSheets, raw: RawWorkbook) -> None:
    """Find error cells and formulas without cached values in the XML of the sheets that may hide them."""
    raw.date1904 = sheets.date1904
    by_name = {s.name: s for s in raw.sheets}
    for name, part in sheets.parts.items():
        target_sheet = by_name.get(name)
        if target_sheet is not None and part in sheets.hiding:
            try:
                with zf.open(part) as stream:
                    target_sheet.flags = _scan_sheet_xml(stream)
            except (SafeET.ParseError, zipfile.BadZipFile, zlib.error, EOFError, DefusedXmlException) as exc:
                raise _damaged(exc) from exc


def _scan_sheet_xml(stream: Any) -> dict[tuple[int, int], CellFlag]:
    flags: dict[tuple[int, int], CellFlag] = {}
    # `r` is optional on rows and cells (some writers leave it out): a cell without it follows the previous one.
    row, col = -1, -1
    for event, elem in SafeET.iterparse(stream, events=("start", "end")):
        if elem.tag == f"{_NS_MAIN}row":
            if event == "start":
                r = elem.get("r", "")
                row, col = (int(r) - 1 if r.isdigit() else row + 1), -1
            else:
                elem.clear()
            continue
        if event != "end" or elem.tag != f"{_NS_MAIN}c":
            continue
        ref = elem.get("r")
        row, col = a1_to_index(ref) if ref else (row, col + 1)
        kind = elem.get("t")
        formula = elem.find(f"{_NS_MAIN}f")
        value = elem.find(f"{_NS_MAIN}v")
        if kind == "e":
            flags[(row, col)] = CellFlag("error", value.text or "" if value is not None else "")
        elif formula is not None and (value is None or (not value.text and kind != "str")):
            # A formula saved without its result (written by a library, never recalculated).
            flags[(row, col)] = CellFlag("formula-without-value", formula.text or "")
    return flags


def _check_ods_size(zf: zipfile.ZipFile) -> None:
    """An ODS workbook holds all its sheets in `content.xml`: its cell elements are counted before calamine
    reads it (a repeated cell counts once here; calamine's dimensions then judge what the repeats claim),
    and a document type declaration is refused, as in `_survey`."""
    cells = 0
    try:
        with zf.open("content.xml") as stream:
            tail = b""
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                if b"<!DOCTYPE" in tail + chunk or b"<!ENTITY" in tail + chunk:
                    raise _forbidden_xml()
                cells += (tail + chunk).count(b"<table:table-cell") - tail.count(b"<table:table-cell")
                if cells > preflight.MAX_CELLS:
                    break
                tail = chunk[-_TAIL:]
    except KeyError:
        return  # the kind check has refused a package without content.xml
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise _damaged(exc) from exc
    preflight.check_sheet_size("", 0, cells)


def _add_ods_facts(zf: zipfile.ZipFile, raw: RawWorkbook) -> None:
    """Find error cells in an ODS workbook: LibreOffice stores them as an empty string, which calamine reads."""
    try:
        with zf.open("content.xml") as stream:
            found = _scan_ods_content(stream)
    except KeyError:
        return
    except (SafeET.ParseError, zipfile.BadZipFile, zlib.error, EOFError, OSError, DefusedXmlException) as exc:
        raise _damaged(exc) from exc
    except ValueError:
        return  # a repeat count that is not a number: calamine read the sheet as it could
    for sheet in raw.sheets:
        sheet.flags = found.get(sheet.name, {})


def _scan_ods_content(stream: Any) -> dict[str, dict[tuple[int, int], CellFlag]]:
    """Error cells of each sheet of an ODS `content.xml`, at their A1 position.

    Rows and cells may be repeated (`number-rows-repeated`, `number-columns-repeated`, a million times for
    the empty rest of a sheet), and a merged area's hidden cells are `covered-table-cell`s that still take
    their place. An error is LibreOffice's `calcext:value-type="error"`; other writers store the error text
    as a string, which the parsers refuse. At most `MAX_ROWS` flags a sheet, whatever the repeats claim.
    """
    table, row_tag = f"{_NS_ODS_TABLE}table", f"{_NS_ODS_TABLE}table-row"
    cell_tags = (f"{_NS_ODS_TABLE}table-cell", f"{_NS_ODS_TABLE}covered-table-cell")
    rows_repeated, cols_repeated = f"{_NS_ODS_TABLE}number-rows-repeated", f"{_NS_ODS_TABLE}number-columns-repeated"
    out: dict[str, dict[tuple[int, int], CellFlag]] = {}
    flags: dict[tuple[int, int], CellFlag] = {}
    row = col = repeat = 0
    for event, elem in SafeET.iterparse(stream, events=("start", "end")):
        if event == "start":
            if elem.tag == table:
                flags, row = out.setdefault(elem.get(f"{_NS_ODS_TABLE}name", ""), {}), 0
            elif elem.tag == row_tag:
                col, repeat = 0, int(elem.get(rows_repeated, "1"))
            continue
        if elem.tag in cell_tags:
            span = int(elem.get(cols_repeated, "1"))
            if elem.get(f"{_NS_ODS_CALCEXT}value-type") == "error":
                shown = elem.find(f"{_NS_ODS_TEXT}p")
                flag = CellFlag("error", "".join(shown.itertext()) if shown is not None else "")
                _flag_area(flags, range(row, min(row + repeat, MAX_ROWS)), range(col, col + span), flag)
            col += span
        elif elem.tag == row_tag:
            row += repeat
            elem.clear()
    return out


def _flag_area(flags: dict[tuple[int, int], CellFlag], rows: range, cols: range, flag: CellFlag) -> None:
    for i in rows:
        for j in cols:
            if len(flags) >= MAX_ROWS:
                return
            flags[(i, j)] = flag


# --- .xls: error cells from the BIFF records ------------------------------------------------------

#: BIFF error codes (MS-XLS 2.5.97), as Excel shows them.
_BIFF_ERRORS: Final = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
                       0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
_FREE_SECTOR: Final = 0xFFFFFFFA  # at or above: end of chain, free, FAT or DIFAT sector


def _add_xls_facts(data: bytes, raw: RawWorkbook) -> None:
    """Find error cells in a `.xls`: calamine reads them as empty, so that a line of `#REF!` would vanish
    from the count. They are taken from the same bytes, in the `Workbook` stream's cell records."""
    try:
        stream = _ole_stream(data, ("Workbook", "Book"))
        found = _biff_errors(stream) if stream else {}
    except (struct.error, IndexError, ValueError, KeyError):
        return  # calamine read it; what it could not say stays unsaid, as before
    for sheet in raw.sheets:
        sheet.flags = found.get(sheet.name, {})


def _ole_stream(data: bytes, names: Sequence[str]) -> bytes:
    """The content of the first named stream of an OLE compound file (the header was checked in the
    pre-flight). Every sector chain is bounded by the file's sector count, so a loop cannot run forever."""
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    size, mini_size = 1 << shift, 1 << mini_shift
    count = len(data) // size
    dir_start, = struct.unpack_from("<I", data, 0x30)
    cutoff, minifat_start, _, difat_start, difat_count = struct.unpack_from("<IIIII", data, 0x38)
    difat = list(struct.unpack_from("<109I", data, 0x4C))
    sector = difat_start
    for _ in range(min(difat_count, count)):
        if sector >= _FREE_SECTOR:
            break
        words = struct.unpack_from(f"<{size // 4}I", data, (sector + 1) * size)
        difat.extend(words[:-1])
        sector = words[-1]
    fat: list[int] = []
    for s in difat:
        if s < _FREE_SECTOR and s < count:
            fat.extend(struct.unpack_from(f"<{size // 4}I", data, (s + 1) * size))

    def chain(start: int) -> list[int]:
        out: list[int] = []
        seen: set[int] = set()
        while start < _FREE_SECTOR and start < len(fat) and start not in seen and len(out) <= count:
            seen.add(start)
            out.append(start)
            start = fat[start]
        return out

    def read(start: int) -> bytes:
        return b"".join(data[(s + 1) * size:(s + 2) * size] for s in chain(start))

    directory = read(dir_start)
    entries = [directory[i:i + 128] for i in range(0, len(directory) - 127, 128)]
    root = entries[0]
    for entry in entries:
        name_len, kind = struct.unpack_from("<HB", entry, 64)
        name = entry[:max(0, name_len - 2)].decode("utf-16-le", errors="replace")
        if kind != 2 or name not in names:
            continue
        start, length = struct.unpack_from("<II", entry, 116)
        if length >= cutoff:
            return read(start)[:length]
        mini_stream = read(struct.unpack_from("<I", root, 116)[0])
        minifat = [w for s in chain(minifat_start)
                   for w in struct.unpack_from(f"<{size // 4}I", data, (s + 1) * size)]
        out, mini, seen = [], start, set()
        while mini < _FREE_SECTOR and mini < len(minifat) and mini not in seen:
            seen.add(mini)
            out.append(mini_stream[mini * mini_size:(mini + 1) * mini_size])
            mini = minifat[mini]
        return b"".join(out)[:length]
    return b""


def _biff_errors(stream: bytes) -> dict[str, dict[tuple[int, int], CellFlag]]:
    """Error cells of each worksheet of a BIFF8 `Workbook` stream, by sheet name: a `BOOLERR` record that
    holds an error, or a `FORMULA` record whose cached result is one."""
    sheets: list[tuple[int, str]] = []
    for kind, at, length in _records(stream, 0):
        if kind == 0x002F:  # FILEPASS: the records that follow are encrypted
            return {}
        if kind == 0x0085 and length >= 8:  # BOUNDSHEET8
            position, _, sheet_type, chars, high = struct.unpack_from("<IBBBB", stream, at)
            if sheet_type == 0:
                text = stream[at + 8:at + 8 + chars * (2 if high & 1 else 1)]
                sheets.append((position, text.decode("utf-16-le" if high & 1 else "latin-1", errors="replace")))
        elif kind == 0x000A:  # EOF of the globals
            break
    out: dict[str, dict[tuple[int, int], CellFlag]] = {}
    for position, name in sheets:
        flags = out.setdefault(name, {})
        for kind, at, length in _records(stream, position):
            if kind == 0x000A:
                break
            if kind == 0x0205 and length >= 8:  # BOOLERR
                row, col, _, value, is_error = struct.unpack_from("<HHHBB", stream, at)
                if is_error == 1:
                    flags[(row, col)] = CellFlag("error", _BIFF_ERRORS.get(value, "#ERREUR"))
            elif kind == 0x0006 and length >= 14:  # FORMULA: an error result is 02 00 code … FF FF
                row, col = struct.unpack_from("<HH", stream, at)
                result = stream[at + 6:at + 14]
                if result[0] == 2 and result[6:8] == b"\xff\xff":
                    flags[(row, col)] = CellFlag("error", _BIFF_ERRORS.get(result[2], "#ERREUR"))
    return out


def _records(stream: bytes, start: int) -> Iterator[tuple[int, int, int]]:
    """(record type, offset of its data, data length), from `start` to the end of the stream."""
    at = start
    while at + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, at)
        yield kind, at + 4, length
        at += 4 + length


# --- isolation -------------------------------------------------------------------------------------


@dataclass
class ReadOutcome:
    path: Path
    workbook: RawWorkbook | None = None
    error: InputError | None = None
    #: Fingerprint of the file, computed in the worker beside the parsing.
    sha256: str = ""


def read_file(path: Path, *, unread: frozenset[str] = frozenset()) -> ReadOutcome:
    """Read the file's bytes once: the fingerprint and the workbook both come from them."""
    return read_bytes(path, read_once(path, "file-unreadable", too_large="file-too-large"), unread=unread)


def read_bytes(path: Path, read: FileBytes, *, unread: frozenset[str] = frozenset()) -> ReadOutcome:
    """The workbook of bytes already read (and hashed) by `file_bytes.read_once` (`unread`: see `read_workbook`)."""
    if read.data is None:
        return ReadOutcome(path, error=read.error, sha256=read.sha256)
    data, sha = read.data, read.sha256
    try:
        return ReadOutcome(path, workbook=read_workbook(path, data, unread=unread), sha256=sha)
    except InputError as exc:
        return ReadOutcome(path, error=exc, sha256=sha)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - any reader failure is a property of the file: a native
        # reader's panic is a BaseException, and could not even be sent back to the parent
        message = f"Le classeur est illisible ({type(exc).__name__})."
        return ReadOutcome(path, error=InputError("file-unreadable", {"motif": message}), sha256=sha)


def crashed(path: Path) -> ReadOutcome:
    """What is known of a file that killed its worker (its fingerprint is taken apart, see `intake`)."""
    return ReadOutcome(path, error=InputError(
        "file-unreadable", {"motif": "Le classeur a fait échouer le lecteur : il est endommagé ou malveillant."}))


def read_isolated(paths: Sequence[Path], *, workers: int = 2, unread: frozenset[str] = frozenset()
                  ) -> list[ReadOutcome]:
    """Read files in worker processes (`unread`: see `read_workbook`); a file that kills its worker is
    reported, not fatal."""
    return start_reading(paths, workers=workers, unread=unread).results()


def start_reading(paths: Sequence[Path], *, workers: int = 2, unread: frozenset[str] = frozenset()
                  ) -> Isolated[ReadOutcome]:
    """`read_isolated`, its workers started now (`isolation.start_isolated`).

    Under `spawn` (Windows, macOS) each worker imports this module to run `read_file`: its imports stay free
    of pandas, so that a worker starts in a tenth of a second rather than in more than half a second, and
    `ftap check` can start reading before it imports pandas."""
    fn = functools.partial(read_file, unread=unread) if unread else read_file
    return start_isolated(fn, paths, crashed, workers=workers)
