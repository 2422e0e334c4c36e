"""Read a Chorus restitution (CSV or workbook) as it comes out of the system, into rows of text.

Everything is kept as text so that identifiers keep their digits (an EJ is ten digits, never a number)
and so that the core parses amounts and dates with one set of French rules, whatever the file type.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from ftap_pipeline.contract import preflight
from ftap_pipeline.contract.chorus_schema import LAYOUTS, MAX_HEADER_SCAN, ChorusLayout
from ftap_pipeline.contract.columns import LINE
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.findings import Finding, finding
from ftap_pipeline.contract.model import ChorusRestitution
from ftap_pipeline.contract.tables import find_header
from ftap_pipeline.io.hashing import sha256_of
from ftap_pipeline.io.isolation import map_isolated
from ftap_pipeline.io.workbook_reader import (
    a1,
    column_letter,
    read_workbook,
)

#: Fewer recognised columns than this, and a row is not worth naming as a near-miss header.
_NEAR_MISS: Final = 3


def read_chorus_file(path: Path, sha256: str) -> ChorusRestitution:
    """Read one restitution; a file that cannot be used comes back with a French finding, never an exception."""
    return read_restitutions(path, sha256)[0]


def read_restitutions(path: Path, sha256: str) -> list[ChorusRestitution]:
    """Every restitution of a file: one for a CSV, one per recognised sheet of a workbook (an export may put
    the engagements and the payments views in two tabs). Never empty: an unusable file gives one failed read."""
    sheets: list[_Rows | _TextRows]
    try:
        if path.suffix.lower() in preflight.CSV_SUFFIXES:
            sheets, sheet_names, date1904 = [_read_csv_rows(path)], [""], False
        elif path.suffix.lower() in preflight.WORKBOOK_SUFFIXES:
            sheets, sheet_names, date1904 = _read_workbook_rows(path)
        else:
            raise InputError("chorus-unreadable-file", {"motif": f"Les fichiers « {path.suffix or 'sans extension'} » ne sont "
                                                      "pas acceptés : déposez la restitution en CSV ou en XLSX."})
    except InputError as exc:
        return [_failed(path, sha256, "chorus-unreadable-file", {"motif": exc.message})]
    except OSError as exc:
        return [_failed(path, sha256, "chorus-unreadable-file", {"motif": f"Le fichier n'a pas pu être lu ({exc.strerror})."})]

    near_misses: list[tuple[int, ChorusLayout, set[str]]] = []
    reads: list[ChorusRestitution] = []
    for rows, sheet in zip(sheets, sheet_names, strict=True):
        for candidate in _delimiter_variants(rows):
            found = _find_header(candidate, near_misses)
            if found is not None:
                index, layout = found
                reads.append(_build(path, sha256, candidate, index, layout, sheet, date1904))
                break
    return reads or [_failed(path, sha256, "chorus-unknown-layout", {"rapprochement": _near_miss(near_misses)})]


# --- reading rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TextRows:
    """A CSV file decoded, not yet split: the delimiter is chosen by where a header is found."""

    text: str


_Rows = list[tuple[int, list[str]]]  # (line or Excel row, 1-based; cells as text)


def _read_csv_rows(path: Path) -> _TextRows:
    slug = "chorus-unreadable-file"
    preflight.check_size(path.stat().st_size, slug=slug)
    return _TextRows(preflight.check_text(path.read_bytes(), slug=slug))


def _split_csv(text: str, delimiter: str) -> _Rows:
    rows: _Rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            rows.append((start, [c.strip() for c in cells]))
            start = reader.line_num + 1
    except csv.Error:
        return rows  # a broken quote: the rows before it are all that can be trusted; lines after are lost
    return rows


def _delimiter_variants(rows: _Rows | _TextRows) -> list[_Rows]:
    """A CSV file is split with `;`, then `,`: the right delimiter is the one that reveals a header."""
    if isinstance(rows, _TextRows):
        return [_split_csv(rows.text, ";"), _split_csv(rows.text, ",")]
    return [rows]


def _read_workbook_rows(path: Path) -> tuple[list[_Rows | _TextRows], list[str], bool]:
    try:
        workbook = read_workbook(path)
    except InputError as exc:
        raise InputError("chorus-unreadable-file", {"motif": exc.message}) from exc
    sheets: list[_Rows | _TextRows] = [
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


def _find_header(rows: _Rows, near_misses: list[tuple[int, ChorusLayout, set[str]]]) -> tuple[int, ChorusLayout] | None:
    """The header row and its layout (see `contract.tables`); without one, the near misses, for the message."""
    header = find_header([cells for _, cells in rows], [layout.table for layout in LAYOUTS])
    if header is not None:
        assert isinstance(header.layout.tag, ChorusLayout)
        return header.row, header.layout.tag
    for line, cells in rows[:MAX_HEADER_SCAN]:
        for layout in LAYOUTS:
            matched = layout.table.matched(cells)
            if len(matched) >= _NEAR_MISS:
                near_misses.append((line, layout, matched))
    return None


def _near_miss(near_misses: list[tuple[int, ChorusLayout, set[str]]]) -> str:
    """The row that came closest to a header, and what it lacks (empty when none came close)."""
    if not near_misses:
        return ""
    line, layout, matched = max(near_misses, key=lambda m: (len(m[2]), -m[0]))
    missing = sorted(layout.required - matched, key=list(layout.labels).index)
    names = ", ".join(f"« {layout.labels[f][0]} »" for f in missing)
    return f" La ligne {line} ressemble à l'en-tête d'une restitution {layout.title}, mais il y manque : {names}."


def _column_names(header: list[str]) -> list[str]:
    """Unique column names: an unnamed column after a named one is its label (Chorus writes code, then label)."""
    names: list[str] = []
    for i, text in enumerate(header):
        name = text or (f"{names[-1]} (libellé)" if names and not names[-1].endswith("(libellé)")
                        else f"Colonne {column_letter(i)}")
        base, k = name, 2
        while name in names:
            name, k = f"{base} ({k})", k + 1
        names.append(name)
    return names


def _build(path: Path, sha256: str, rows: _Rows, index: int, layout: ChorusLayout, sheet: str,
           date1904: bool) -> ChorusRestitution:
    header = rows[index][1]
    while header and not header[-1]:
        header = header[:-1]  # a workbook's used range often runs past the last column
    names = _column_names(header)
    findings: list[Finding] = []
    records: list[list[str]] = []
    lines: list[int] = []
    for line, cells in rows[index + 1:]:
        if not any(cells):
            continue  # blank and trailing empty lines
        if any(cells[len(names):]):
            where = {"cell": f"ligne {line}"} if not sheet else {"sheet": sheet, "cell": f"{sheet}!{a1(line - 1, len(names))}"}
            findings.append(finding(
                "chorus-unreadable-line",
                {"motif": f"La ligne {line} compte {len(cells)} valeurs pour {len(names)} colonnes d'en-tête : ses colonnes "
                "sont décalées, elle n'est pas prise en compte."},
                file=path.name, sha256=sha256, row=line, **where,
            ))
            continue
        records.append(cells + [""] * (len(names) - len(cells)))
        lines.append(line)
    data = pd.DataFrame(records, columns=names, dtype=str) if records else pd.DataFrame(
        {n: pd.Series([], dtype=str) for n in names})
    data[LINE] = pd.Series(lines, dtype="int64")
    fields: dict[str, str] = {}
    for i, name in enumerate(names):
        key = layout.field_of(header[i]) if header[i] else None
        if key is not None and key not in fields:
            fields[key] = name
            if i + 1 < len(names) and names[i + 1] == f"{name} (libellé)":
                fields[f"{key}_libelle"] = names[i + 1]
    return ChorusRestitution(path.name, sha256, layout.key, data, tuple(findings), fields, sheet, date1904)


def _failed(path: Path, sha256: str, slug: str, values: dict[str, object]) -> ChorusRestitution:
    return ChorusRestitution(
        path.name, sha256, None, pd.DataFrame({LINE: pd.Series([], dtype="int64")}),
        (finding(slug, values, file=path.name, sha256=sha256),),
    )


def _read_path(path: Path) -> list[ChorusRestitution]:
    return read_restitutions(path, sha256_of(path))


def _crashed(path: Path) -> list[ChorusRestitution]:
    return [_failed(path, sha256_of(path), "chorus-unreadable-file",
                    {"motif": "La restitution a fait échouer le lecteur : elle est endommagée."})]


def read_chorus_files(paths: Sequence[Path], *, workers: int = 2) -> list[ChorusRestitution]:
    """Read every restitution of every file in isolated worker processes (see `io.isolation`)."""
    return [read for reads in map_isolated(_read_path, paths, _crashed, workers=workers) for read in reads]
