"""From the rows of a Chorus restitution, as text, to `ChorusRestitution`s: which layout, where the header
is, which column carries which field, and which lines cannot be used.

Pure: `io.chorus_reader` reads the bytes of a CSV file or the cells of a workbook and hands the rows over,
so a test can build a restitution from a few lines of text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from ftap_pipeline.contract.chorus_schema import LAYOUTS, MAX_HEADER_SCAN, ChorusLayout
from ftap_pipeline.contract.columns import LINE
from ftap_pipeline.contract.findings import Finding, finding
from ftap_pipeline.contract.model import ChorusRestitution
from ftap_pipeline.contract.raw import a1, column_letter
from ftap_pipeline.contract.tables import find_header

#: Fewer recognised columns than this, and a row is not worth naming as a near-miss header.
_NEAR_MISS: Final = 3

Rows = list[tuple[int, list[str]]]  # (line or Excel row, 1-based; cells as text)


@dataclass(frozen=True)
class CsvText:
    """A CSV file decoded, not yet split: the delimiter is chosen by where a header is found."""

    text: str


def restitutions(file: str, sha256: str, sheets: Sequence[Rows | CsvText], sheet_names: Sequence[str],
                 date1904: bool = False) -> list[ChorusRestitution]:
    """Every restitution among the sheets of a file (one for a CSV text); never empty: a file without a
    recognised header gives one failed restitution that says what came closest."""
    near_misses: list[tuple[int, ChorusLayout, set[str]]] = []
    reads: list[ChorusRestitution] = []
    for rows, sheet in zip(sheets, sheet_names, strict=True):
        for candidate in _delimiter_variants(rows):
            found = _find_header(candidate, near_misses)
            if found is not None:
                index, layout = found
                reads.append(_build(file, sha256, candidate, index, layout, sheet, date1904))
                break
    return reads or [failed(file, sha256, "chorus-unknown-layout", {"ressemblance": _near_miss(near_misses)})]


def csv_restitution(file: str, sha256: str, text: str) -> ChorusRestitution:
    """The restitution of a CSV file's text."""
    return restitutions(file, sha256, [CsvText(text)], [""])[0]


def _split_csv(text: str, delimiter: str) -> Rows:
    rows: Rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            rows.append((start, [c.strip() for c in cells]))
            start = reader.line_num + 1
    except csv.Error:
        return rows  # a broken quote: the rows before it are all that can be trusted; lines after are lost
    return rows


def _delimiter_variants(rows: Rows | CsvText) -> list[Rows]:
    """A CSV file is split with `;`, then `,`: the right delimiter is the one that reveals a header."""
    if isinstance(rows, CsvText):
        return [_split_csv(rows.text, ";"), _split_csv(rows.text, ",")]
    return [rows]


# --- header and layout -----------------------------------------------------------------------------


def _find_header(rows: Rows, near_misses: list[tuple[int, ChorusLayout, set[str]]]) -> tuple[int, ChorusLayout] | None:
    """The header row and its layout (see `contract.tables`); without one, the near misses, for the message."""
    header = find_header([cells for _, cells in rows], [layout.table for layout in LAYOUTS])
    if header is not None:
        return header.row, next(layout for layout in LAYOUTS if layout.table is header.layout)
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


def _build(file: str, sha256: str, rows: Rows, index: int, layout: ChorusLayout, sheet: str,
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
                file=file, sha256=sha256, row=line, **where,
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
    return ChorusRestitution(file, sha256, layout.key, data, tuple(findings), fields, sheet, date1904)


def failed(file: str, sha256: str, slug: str, values: dict[str, object]) -> ChorusRestitution:
    """A file that gives no restitution, with the finding that says why."""
    return ChorusRestitution(
        file, sha256, None, pd.DataFrame({LINE: pd.Series([], dtype="int64")}),
        (finding(slug, values, file=file, sha256=sha256),),
    )
