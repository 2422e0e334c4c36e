"""Read a Chorus restitution (CSV or workbook) as it comes out of the system, into rows of text.

Everything is kept as text so that identifiers keep their digits (an EJ is ten digits, never a number)
and so that the core parses amounts and dates with one set of French rules, whatever the file type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from ftap_pipeline.contract import preflight
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.model import ChorusRestitution
from ftap_pipeline.core.chorus_rows import CsvText, Rows, failed, restitutions
from ftap_pipeline.io.hashing import sha256_of
from ftap_pipeline.io.isolation import map_isolated
from ftap_pipeline.io.workbook_reader import read_workbook


def read_chorus_file(path: Path, sha256: str) -> ChorusRestitution:
    """Read one restitution; a file that cannot be used comes back with a French finding, never an exception."""
    return read_restitutions(path, sha256)[0]


def read_restitutions(path: Path, sha256: str) -> list[ChorusRestitution]:
    """Every restitution of a file: one for a CSV, one per recognised sheet of a workbook (an export may put
    the engagements and the payments views in two tabs). Never empty: an unusable file gives one failed read."""
    sheets: list[Rows | CsvText]
    try:
        if path.suffix.lower() in preflight.CSV_SUFFIXES:
            sheets, sheet_names, date1904 = [_read_csv_rows(path)], [""], False
        elif path.suffix.lower() in preflight.WORKBOOK_SUFFIXES:
            sheets, sheet_names, date1904 = _read_workbook_rows(path)
        else:
            raise InputError("chorus-unreadable-file", {"motif": f"Les fichiers « {path.suffix or 'sans extension'} » "
                                                                 "ne sont pas acceptés : déposez la restitution en CSV "
                                                                 "ou en XLSX."})
    except InputError as exc:
        return [failed(path.name, sha256, "chorus-unreadable-file", {"motif": exc.message})]
    except OSError as exc:
        reason = f"Le fichier n'a pas pu être lu ({exc.strerror})."
        return [failed(path.name, sha256, "chorus-unreadable-file", {"motif": reason})]
    return restitutions(path.name, sha256, sheets, sheet_names, date1904)


# --- reading rows ----------------------------------------------------------------------------------


def _read_csv_rows(path: Path) -> CsvText:
    slug = "chorus-unreadable-file"
    preflight.check_size(path.stat().st_size, slug=slug)
    return CsvText(preflight.check_text(path.read_bytes(), slug=slug))


def _read_workbook_rows(path: Path) -> tuple[list[Rows | CsvText], list[str], bool]:
    try:
        workbook = read_workbook(path)
    except InputError as exc:
        raise InputError("chorus-unreadable-file", {"motif": exc.message}) from exc
    sheets: list[Rows | CsvText] = [
        [(i + 1, [_as_text(c) for c in row]) for i, row in enumerate(sheet.rows)] for sheet in workbook.sheets
    ]
    return sheets, [s.name for s in workbook.sheets], workbook.date1904


def _as_text(value: object) -> str:
    """A workbook value as the text a CSV export would carry; numbers never pass through `float` formatting."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


# --- header and layout -----------------------------------------------------------------------------


def _read_path(path: Path) -> list[ChorusRestitution]:
    return read_restitutions(path, sha256_of(path))


def _crashed(path: Path) -> list[ChorusRestitution]:
    return [failed(path.name, sha256_of(path), "chorus-unreadable-file",
                    {"motif": "La restitution a fait échouer le lecteur : elle est endommagée."})]


def read_chorus_files(paths: Sequence[Path], *, workers: int = 2) -> list[ChorusRestitution]:
    """Read every restitution of every file in isolated worker processes (see `io.isolation`)."""
    return [read for reads in map_isolated(_read_path, paths, _crashed, workers=workers) for read in reads]
