"""Read any accepted workbook into plain rows of cell values, with python-calamine.

Calamine reads cached values and never runs macros. Two things it cannot tell apart from an empty
cell are looked up in the file itself: error cells (`#REF!`…) in OOXML and ODS workbooks, and formulas
that were saved without a cached value in OOXML ones. They come back as `CellFlag`s so the validator can
refuse them. (In a legacy `.xls`, calamine reads an error cell as empty and nothing looks further.)

Parsing runs in worker processes (see `read_isolated`): a hostile file may abort a native reader,
and must take down only its worker, never the run.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

__all__ = ["CellFlag", "RawSheet", "RawWorkbook", "a1", "a1_to_index", "column_letter", "read_isolated",
           "read_workbook", "sniff"]

from defusedxml import ElementTree as SafeET

from ftap_pipeline.contract import preflight
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.preflight import MAX_ROWS
from ftap_pipeline.contract.raw import CellFlag, RawSheet, RawWorkbook, a1, a1_to_index, column_letter
from ftap_pipeline.io.isolation import map_isolated

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
    if data is None:
        data = path.read_bytes()
    container = preflight.check_workbook_head(path.suffix, len(data), data[:preflight.HEAD_BYTES])
    if container is preflight.Container.OLE:
        # An OOXML workbook saved with a password is an OLE container holding an encrypted package.
        encrypted = path.suffix.lower() != ".xls" and _ENCRYPTED_STREAM in data
        preflight.check_ole(path.suffix, encrypted)
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            entries = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise InputError("file-unreadable", {"motif": "Le fichier est endommagé (archive illisible)."}) from exc
    preflight.check_package_kind(path.suffix, {i.filename for i in entries})
    preflight.check_package(sum(i.file_size for i in entries))


def read_workbook(path: Path, data: bytes | None = None) -> RawWorkbook:
    """Read every sheet of a workbook, from A1, as calamine's Python values.

    `data` is the file's content when the caller has read it already: the checks, calamine and the scan of
    the XML then all work on those same bytes, and the file is read once."""
    import python_calamine as pc

    if data is None:
        data = path.read_bytes()
    sniff(path, data)
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
            sheet = wb.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS)
            # Compare with the enum itself: its text, `SheetVisibleEnum.Hidden`, contains "Visible" too.
            visible = meta.visible == pc.SheetVisibleEnum.Visible
            sheets.append(RawSheet(meta.name, [list(r) for r in rows], visible=visible))
    except Exception as exc:
        raise InputError("file-unreadable", {"motif": f"Une feuille du classeur est illisible ({type(exc).__name__})."}) from exc
    finally:
        wb.close()
    raw = RawWorkbook(sheets)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _add_ooxml_facts(data, raw)
    elif path.suffix.lower() == ".ods":
        _add_ods_facts(data, raw)
    for raw_sheet in raw.sheets:
        _cover_flags(raw_sheet)
    return raw


def _cover_flags(sheet: RawSheet) -> None:
    """Make the rows reach every flagged cell.

    Calamine's rows stop at the last cell that has a value, so a trailing line made only of formulas saved
    without their values would fall outside the rows and vanish without a finding. Rows added here are
    empty lists: only the flags say something about them.
    """
    last = max((i for i, _ in sheet.flags if i < MAX_ROWS), default=-1)
    sheet.rows.extend([] for _ in range(last + 1 - len(sheet.rows)))


def _add_ooxml_facts(data: bytes, raw: RawWorkbook) -> None:
    """Find error cells, formulas without cached values, and the 1904 date system, in the XML itself."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            workbook = SafeET.fromstring(zf.read("xl/workbook.xml"))
            pr = workbook.find(f"{_NS_MAIN}workbookPr")
            if pr is not None and pr.get("date1904", "0").lower() in ("1", "true"):
                raw.date1904 = True
            rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels")) if "xl/_rels/workbook.xml.rels" in names \
                else None
            targets = {}
            if rels is not None:
                for rel in rels.iter(f"{_NS_PKG_REL}Relationship"):
                    target = rel.get("Target", "")
                    target = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
                    targets[rel.get("Id")] = target
            by_name = {s.name: s for s in raw.sheets}
            for sh in workbook.iter(f"{_NS_MAIN}sheet"):
                part = targets.get(sh.get(f"{_NS_REL}id"))
                target_sheet = by_name.get(sh.get("name", ""))
                if part and part in names and target_sheet is not None and _may_hide_values(zf, part):
                    target_sheet.flags = _scan_sheet_xml(zf.open(part))
    except (KeyError, zipfile.BadZipFile, SafeET.ParseError, OSError):
        return  # calamine read it; the extra facts are best effort


#: A formula element, or an error-typed cell, with or without a namespace prefix.
_HIDDEN_VALUES = re.compile(rb"<(?:\w+:)?f[\s>/]|\st=\"e\"")


def _may_hide_values(zf: zipfile.ZipFile, part: str) -> bool:
    """Most sheets have neither formulas nor error cells: a byte search spares them the XML parse (90 % of
    the reading time of a return)."""
    with zf.open(part) as stream:
        tail = b""
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            if _HIDDEN_VALUES.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


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


def _add_ods_facts(data: bytes, raw: RawWorkbook) -> None:
    """Find error cells in an ODS workbook: LibreOffice stores them as an empty string, which calamine reads."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf, zf.open("content.xml") as stream:
            found = _scan_ods_content(stream)
    except (KeyError, zipfile.BadZipFile, SafeET.ParseError, OSError, ValueError):
        return  # calamine read it; the extra facts are best effort
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


# --- isolation -------------------------------------------------------------------------------------


@dataclass
class ReadOutcome:
    path: Path
    workbook: RawWorkbook | None = None
    error: InputError | None = None
    #: Fingerprint of the file, computed in the worker beside the parsing.
    sha256: str = ""


def read_file(path: Path) -> ReadOutcome:
    """Read the file's bytes once: the fingerprint and the workbook both come from them."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = f"Le fichier n'a pas pu être lu ({exc.strerror})."
        return ReadOutcome(path, error=InputError("file-unreadable", {"motif": reason}))
    sha = hashlib.sha256(data).hexdigest()
    try:
        return ReadOutcome(path, workbook=read_workbook(path, data), sha256=sha)
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


def read_isolated(paths: Sequence[Path], *, workers: int = 2) -> list[ReadOutcome]:
    """Read files in worker processes; a file that kills its worker is reported, not fatal.

    Under `spawn` (Windows, macOS) each worker imports this module to run `read_file`: its imports stay free
    of pandas, so that a worker starts in a tenth of a second rather than in more than half a second."""
    return map_isolated(read_file, paths, crashed, workers=workers)
