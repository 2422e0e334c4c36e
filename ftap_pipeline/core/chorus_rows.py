"""From the rows of a Chorus restitution, as text, to `ChorusRestitution`s: which layout, where the header
is, which column carries which field, and which lines cannot be used.

Pure: `io.chorus_reader` reads the bytes of a CSV file or the cells of a workbook and hands them over, so a
test can build a restitution from a few lines of text. A CSV file is split by `core.chorus_csv`, strictly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from ftap_pipeline.contract.chorus_schema import CSV_DELIMITERS, LAYOUTS, MAX_HEADER_SCAN, ChorusLayout
from ftap_pipeline.contract.columns import LINE
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.findings import Finding, finding
from ftap_pipeline.contract.model import ChorusRestitution
from ftap_pipeline.contract.preflight import check_text
from ftap_pipeline.contract.raw import a1, column_letter
from ftap_pipeline.contract.tables import find_header
from ftap_pipeline.core import chorus_csv

#: Fewer recognised columns than this, and a row is not worth naming as a near-miss header.
_NEAR_MISS: Final = 3

Rows = list[tuple[int, list[str]]]  # (line or Excel row, 1-based; cells as text)


@dataclass(frozen=True)
class CsvBytes:
    """A CSV file's bytes, not yet decoded nor split: its encoding and separator are found once, on its header
    (see `core.chorus_csv`)."""

    data: bytes


def restitutions(file: str, sha256: str, sheets: Sequence[Rows | CsvBytes], sheet_names: Sequence[str],
                 date1904: bool = False) -> list[ChorusRestitution]:
    """Every restitution among the sheets of a file (one for a CSV file); never empty: a file without a
    recognised header gives one failed restitution that says what came closest."""
    near_misses: list[tuple[int, ChorusLayout, set[str]]] = []
    reads: list[ChorusRestitution] = []
    for rows, sheet in zip(sheets, sheet_names, strict=True):
        read = (_csv_read(file, sha256, rows.data, near_misses) if isinstance(rows, CsvBytes)
                else _sheet_read(file, sha256, rows, sheet, date1904, near_misses))
        if read is not None:
            reads.append(read)
    if reads:
        return reads
    for rows in sheets:
        problem = _not_text(rows.data) if isinstance(rows, CsvBytes) else None
        if problem is not None:
            return [failed(file, sha256, "chorus-unreadable-file", {"motif": problem})]
    return [failed(file, sha256, "chorus-unknown-layout", {"ressemblance": _near_miss(near_misses)})]


def csv_restitution(file: str, sha256: str, text: str) -> ChorusRestitution:
    """The restitution of a CSV file's text (as UTF-8 bytes)."""
    return restitutions(file, sha256, [CsvBytes(text.encode("utf-8"))], [""])[0]


def _not_text(data: bytes) -> str | None:
    """Why a file without a header is not a CSV text at all (empty, binary, unknown encoding), if it is not."""
    try:
        check_text(data, slug="chorus-unreadable-file")
    except InputError as exc:
        return exc.message
    return None


def _csv_read(file: str, sha256: str, data: bytes, near_misses: list[tuple[int, ChorusLayout, set[str]]]
              ) -> ChorusRestitution | None:
    """A CSV restitution read with the dialect of its header: each line below it is kept or refused alone."""
    physical = chorus_csv.physical_lines(data)
    head = [chorus_csv.decode_any(raw) for raw in physical.lines[:MAX_HEADER_SCAN]]
    for delimiter in CSV_DELIMITERS:
        rows: Rows = [(i + 1, (chorus_csv.split_line(text, delimiter) or []) if text is not None else [])
                      for i, text in enumerate(head)]
        found = _find_header(rows, near_misses)
        if found is None:
            continue
        index, layout = found
        header = _trimmed(rows[index][1])
        encoding = chorus_csv.file_encoding(physical, physical.lines[index])
        dialect = chorus_csv.Dialect(delimiter, encoding, tuple(header))
        kept: Rows = []
        findings: list[Finding] = []
        last = len(physical.lines) - 1
        for i in range(index + 1, len(physical.lines)):
            outcome = chorus_csv.read_line(physical.lines[i], i + 1, dialect,
                                           last_unterminated=i == last and not physical.terminated)
            if isinstance(outcome, chorus_csv.Refusal):
                findings.append(finding(outcome.slug, outcome.values, file=file, sha256=sha256, row=outcome.line,
                                        cell=f"ligne {outcome.line}"))
            elif outcome is not None:
                kept.append((i + 1, outcome))
        return _build(file, sha256, header, kept, findings, layout, "", False)
    return None


def _sheet_read(file: str, sha256: str, rows: Rows, sheet: str, date1904: bool,
                near_misses: list[tuple[int, ChorusLayout, set[str]]]) -> ChorusRestitution | None:
    """A worksheet's restitution: its cells are already apart, so only a row wider than the header is refused."""
    found = _find_header(rows, near_misses)
    if found is None:
        return None
    index, layout = found
    header = _trimmed(rows[index][1])
    kept: Rows = []
    findings: list[Finding] = []
    for line, cells in rows[index + 1:]:
        if not any(cells):
            continue  # blank and trailing empty rows
        if any(cells[len(header):]):
            findings.append(finding(
                "chorus-wrong-field-count", {"ligne": line, "valeurs": len(cells), "colonnes": len(header)},
                file=file, sha256=sha256, row=line, sheet=sheet, cell=f"{sheet}!{a1(line - 1, len(header))}",
            ))
            continue
        kept.append((line, cells[:len(header)] + [""] * (len(header) - len(cells))))
    return _build(file, sha256, header, kept, findings, layout, sheet, date1904)


def _trimmed(header: list[str]) -> list[str]:
    """A header without its empty cells past the last named column (a used range often runs further)."""
    end = len(header)
    while end and not header[end - 1]:
        end -= 1
    return header[:end]


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


def _build(file: str, sha256: str, header: list[str], kept: Rows, findings: list[Finding], layout: ChorusLayout,
           sheet: str, date1904: bool) -> ChorusRestitution:
    """The restitution of the rows kept: one text column per header cell, and the field each column carries."""
    names = _column_names(header)
    data = pd.DataFrame([cells for _, cells in kept], columns=names, dtype=str) if kept else pd.DataFrame(
        {n: pd.Series([], dtype=str) for n in names})
    data[LINE] = pd.Series([line for line, _ in kept], dtype="int64")
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
