"""Read any accepted workbook into plain rows of cell values, with python-calamine.

Calamine reads cached values and never runs macros. Two things it cannot tell apart from an empty
cell are looked up in the file itself for OOXML workbooks: error cells (`#REF!`…) and formulas that
were saved without a cached value. They come back as `CellFlag`s so the validator can refuse them.

Parsing runs in worker processes (see `read_isolated`): a hostile file may abort a native reader,
and must take down only its worker, never the run.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

__all__ = ["CellFlag", "RawSheet", "RawWorkbook", "ReadError", "a1", "a1_to_index", "column_letter", "read_isolated",
           "read_workbook", "sniff"]

from defusedxml import ElementTree as SafeET

from ftap_pipeline.core.raw import CellFlag, RawSheet, RawWorkbook, a1, a1_to_index, column_letter
from ftap_pipeline.io.isolation import map_isolated

#: Largest accepted input file; above it the file is refused before any parsing.
MAX_FILE_BYTES: Final = 50 * 1024 * 1024
#: Largest total uncompressed size of an OOXML/ODS package (zip bombs).
MAX_UNCOMPRESSED_BYTES: Final = 500 * 1024 * 1024
#: Rows read per sheet at most: a return has tens of lines, a declared dimension can claim millions.
MAX_ROWS: Final = 100_000

ACCEPTED_SUFFIXES: Final = (".xlsx", ".xlsm", ".ods", ".xls")

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC: Final = b"PK\x03\x04"

class ReadError(Exception):
    """A file that cannot be read as a workbook; carries the finding slug and a French message."""

    def __init__(self, slug: str, message: str) -> None:
        super().__init__(message)
        self.slug = slug
        self.message = message

    def __reduce__(self) -> tuple[type[ReadError], tuple[str, str]]:
        # Crosses the worker process boundary: rebuild with both arguments.
        return ReadError, (self.slug, self.message)


def sniff(path: Path) -> None:
    """Refuse, before parsing, what is not an accepted workbook."""
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ReadError("file-too-large", f"Le fichier pèse {size / 2**20:.0f} Mo, au-delà de la limite de "
                                          f"{MAX_FILE_BYTES / 2**20:.0f} Mo.")
    with path.open("rb") as fh:
        head = fh.read(8)
    if suffix not in ACCEPTED_SUFFIXES:
        raise ReadError("file-unsupported", f"Les fichiers « {suffix or 'sans extension'} » ne sont pas acceptés "
                                            "(formats acceptés : .xlsx, .xlsm, .ods, .xls).")
    if size == 0:
        raise ReadError("file-unreadable", "Le fichier est vide.")
    if head.startswith(_OLE_MAGIC):
        if suffix != ".xls":
            # An OOXML workbook saved with a password is an OLE container holding an encrypted package.
            raise ReadError("file-encrypted", "Le classeur est protégé par un mot de passe d'ouverture.")
        return
    if not head.startswith(_ZIP_MAGIC):
        raise ReadError("file-unreadable", "Le fichier n'est pas un classeur : son contenu ne correspond pas à son "
                                           "extension, ou il est endommagé.")
    if suffix == ".xls":
        raise ReadError("file-unreadable",
                        "Le fichier porte l'extension .xls mais n'est pas un classeur Excel 97-2003.")
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ReadError("file-unreadable", "Le fichier est endommagé (archive illisible).") from exc
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ReadError("file-too-large", "Le classeur décompressé dépasse la taille admise.")


def read_workbook(path: Path) -> RawWorkbook:
    """Read every sheet of a workbook, from A1, as calamine's Python values."""
    import python_calamine as pc

    sniff(path)
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError as exc:
        raise ReadError("file-encrypted", "Le classeur est protégé par un mot de passe d'ouverture.") from exc
    except Exception as exc:  # calamine raises many kinds for damaged files
        raise ReadError("file-unreadable", f"Le classeur est endommagé ou illisible ({type(exc).__name__}).") from exc
    sheets: list[RawSheet] = []
    try:
        for meta in wb.sheets_metadata:
            if str(meta.typ) not in ("SheetTypeEnum.WorkSheet", "WorkSheet"):
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS)
            sheets.append(RawSheet(meta.name, [list(r) for r in rows], visible="Visible" in str(meta.visible)))
    except Exception as exc:
        raise ReadError("file-unreadable", f"Une feuille du classeur est illisible ({type(exc).__name__}).") from exc
    finally:
        wb.close()
    raw = RawWorkbook(sheets)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _add_ooxml_facts(path, raw)
    return raw


def _add_ooxml_facts(path: Path, raw: RawWorkbook) -> None:
    """Find error cells, formulas without cached values, and the 1904 date system, in the XML itself."""
    try:
        with zipfile.ZipFile(path) as zf:
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
                if part and part in names and target_sheet is not None:
                    target_sheet.flags = _scan_sheet_xml(zf.open(part))
    except (KeyError, zipfile.BadZipFile, SafeET.ParseError, OSError):
        return  # calamine read it; the extra facts are best effort


def _scan_sheet_xml(stream: Any) -> dict[tuple[int, int], CellFlag]:
    flags: dict[tuple[int, int], CellFlag] = {}
    for _event, elem in SafeET.iterparse(stream, events=("end",)):
        if elem.tag != f"{_NS_MAIN}c":
            if elem.tag == f"{_NS_MAIN}row":
                elem.clear()
            continue
        ref = elem.get("r")
        kind = elem.get("t")
        formula = elem.find(f"{_NS_MAIN}f")
        value = elem.find(f"{_NS_MAIN}v")
        if ref:
            pos = a1_to_index(ref)
            if kind == "e":
                flags[pos] = CellFlag("error", value.text or "" if value is not None else "")
            elif formula is not None and (value is None or (not value.text and kind != "str")):
                # A formula saved without its result (written by a library, never recalculated).
                flags[pos] = CellFlag("formula-without-value", formula.text or "")
    return flags


# --- isolation -------------------------------------------------------------------------------------


@dataclass
class ReadOutcome:
    path: Path
    workbook: RawWorkbook | None = None
    error: ReadError | None = None


def _read_one(path: Path) -> ReadOutcome:
    try:
        return ReadOutcome(path, workbook=read_workbook(path))
    except ReadError as exc:
        return ReadOutcome(path, error=exc)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a property of the file
        message = f"Le classeur est illisible ({type(exc).__name__})."
        return ReadOutcome(path, error=ReadError("file-unreadable", message))


def _crashed(path: Path) -> ReadOutcome:
    return ReadOutcome(path, error=ReadError(
        "file-unreadable", "Le classeur a fait échouer le lecteur : il est endommagé ou malveillant."))


def read_isolated(paths: Sequence[Path], *, workers: int = 2) -> list[ReadOutcome]:
    """Read files in worker processes; a file that kills its worker is reported, not fatal."""
    return map_isolated(_read_one, paths, _crashed, workers=workers)
