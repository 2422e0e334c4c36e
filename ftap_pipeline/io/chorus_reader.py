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
from ftap_pipeline.core.chorus_rows import CsvBytes, Rows, failed, restitutions
from ftap_pipeline.io.file_bytes import fingerprint, read_once
from ftap_pipeline.io.isolation import map_isolated
from ftap_pipeline.io.workbook_reader import read_workbook


def read_chorus_file(path: Path, sha256: str | None = None) -> ChorusRestitution:
    """Read one restitution; a file that cannot be used comes back with a French finding, never an exception."""
    return read_restitutions(path, sha256)[0]


def read_restitutions(path: Path, sha256: str | None = None) -> list[ChorusRestitution]:
    """Every restitution of a file: one for a CSV, one per recognised sheet of a workbook (an export may put
    the engagements and the payments views in two tabs). Never empty: an unusable file gives one failed read.

    The file is read once: its fingerprint (unless `sha256` is given) and its parsing come from the same bytes."""
    read = read_once(path, "chorus-unreadable-file")
    sha = read.sha256 if sha256 is None else sha256
    suffix = path.suffix.lower()
    if suffix not in preflight.CSV_SUFFIXES + preflight.WORKBOOK_SUFFIXES:
        return [failed(path.name, sha, "chorus-unreadable-file",
                       {"motif": f"Les fichiers « {path.suffix or 'sans extension'} » ne sont pas acceptés : déposez "
                                 "la restitution en CSV ou en XLSX."})]
    if read.data is None:
        error = read.error or InputError("chorus-unreadable-file", {"motif": "Le fichier n'a pas pu être lu."})
        return [failed(path.name, sha, "chorus-unreadable-file", {"motif": error.message})]
    if suffix in preflight.CSV_SUFFIXES:
        return restitutions(path.name, sha, [CsvBytes(read.data)], [""])
    try:
        sheets, sheet_names, date1904 = _read_workbook_rows(path, read.data)
    except InputError as exc:
        return [failed(path.name, sha, "chorus-unreadable-file", {"motif": exc.message})]
    return restitutions(path.name, sha, sheets, sheet_names, date1904)


# --- reading rows ----------------------------------------------------------------------------------


def _read_workbook_rows(path: Path, data: bytes) -> tuple[list[Rows | CsvBytes], list[str], bool]:
    try:
        workbook = read_workbook(path, data)
    except InputError as exc:
        raise InputError("chorus-unreadable-file", {"motif": exc.message}) from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a native reader's panic is a BaseException, and a property
        # of the file: it must come back as a finding, not kill the worker's answer
        raise InputError("chorus-unreadable-file",
                         {"motif": f"Le classeur est endommagé ou illisible ({type(exc).__name__})."}) from None
    sheets: list[Rows | CsvBytes] = [
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


# --- in worker processes --------------------------------------------------------------------------


def _crashed(path: Path) -> list[ChorusRestitution]:
    return [failed(path.name, fingerprint(path), "chorus-unreadable-file",
                   {"motif": "La restitution a fait échouer le lecteur : elle est endommagée."})]


def read_chorus_files(paths: Sequence[Path], *, workers: int = 2) -> list[ChorusRestitution]:
    """Read every restitution of every file in isolated worker processes (see `io.isolation`)."""
    return [read for reads in map_isolated(read_restitutions, paths, _crashed, workers=workers) for read in reads]
