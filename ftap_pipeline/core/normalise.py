"""Turn one raw workbook into typed lines and cell-level findings (remontee-v1).

Labels are matched tolerantly, values parsed with the French parsers, and every value that cannot be
read becomes a finding on its A1 cell. Range and list checks are left to the pandera schemas, which run
once on the lines of all returns concatenated (see `validate.py`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from ftap_pipeline.contract import layout
from ftap_pipeline.contract.columns import FILE, ROW
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.findings import Scope
from ftap_pipeline.contract.labels import choice_index, normalise_label
from ftap_pipeline.contract.layout import Field, Kind, SheetLayout
from ftap_pipeline.contract.model import Lines, ParsedReturn, Projet, ReturnInput
from ftap_pipeline.contract.raw import RawSheet, RawWorkbook, a1, column_letter
from ftap_pipeline.contract.tables import find_header
from ftap_pipeline.core import parsing

#: How many rows from the top are searched for a table's header row.
HEADER_SEARCH_ROWS = 10


@dataclass
class _Draft:
    """What one return says, while its sheets are being read; frozen into a `ParsedReturn` at the end."""

    file: str
    sha256: str
    projet: dict[str, Any] = field(default_factory=dict)
    projet_cells: dict[str, str] = field(default_factory=dict)
    projet_errors: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    tables: dict[str, Lines] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    sheet_names: dict[str, str] = field(default_factory=dict)
    found: list[tuple[str | InputError, dict[str, object], dict[str, Any]]] = field(default_factory=list)
    unreadable: set[tuple[str, int, str]] = field(default_factory=set)

    def add(self, slug: str, values: dict[str, object], **where: Any) -> None:
        self.found.append((slug, values, where))

    def add_error(self, error: InputError, **where: Any) -> None:
        self.found.append((error, {}, where))

    def freeze(self) -> ParsedReturn:
        projet = Projet.from_values(self.projet)
        shell = ParsedReturn(file=self.file, sha256=self.sha256, projet=projet)
        return ParsedReturn(
            file=self.file, sha256=self.sha256, projet=projet, projet_cells=self.projet_cells,
            projet_errors=self.projet_errors, tables=self.tables, columns=self.columns, sheet_names=self.sheet_names,
            findings=tuple(shell.finding_of(what, **where) if isinstance(what, InputError)
                           else shell.finding(what, values, **where) for what, values, where in self.found),
            unreadable=frozenset(self.unreadable), content_key=content_key(self.projet, self.tables),
        )


def content_key(projet: Mapping[str, Any], tables: Mapping[str, Lines]) -> str:
    """A fingerprint of what a return says (not of its bytes): re-saving a file does not change it.

    The values are hashed column by column as they were parsed, through `repr`: the parsers give plain
    Python values (text, numbers, dates, None), whose `repr` tells their type apart (`'1'`, `1`, `1.0`,
    `True`, `datetime.date(…)`). No frame is built for it. The key is compared within a run only (two
    versions of a return that tie), never stored apart from the parse it belongs to."""
    digest = hashlib.sha256()
    digest.update(json.dumps({k: str(v) for k, v in sorted(projet.items())}, ensure_ascii=False).encode())
    for key, lines in sorted(tables.items()):
        digest.update(f"\x1e{key}\x1f{len(lines)}".encode())
        for column, values in lines.values.items():
            digest.update(f"\x1d{column}".encode())
            digest.update(repr(values).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def unreadable_return(item: ReturnInput) -> ParsedReturn:
    """A file that could not be opened: a return with no sheet, and the reason as its one finding."""
    shell = ParsedReturn(file=item.file, sha256=item.sha256)
    error = item.error or InputError("file-unreadable", {"motif": "Fichier illisible."})
    return dataclasses.replace(shell, findings=(shell.finding_of(error),))


def _remembered(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`parse`, remembering what each text or number gave: a column repeats its statuses, codes, suppliers
    and amounts on every line. Texts and floats are remembered apart (`1.0` is not `"1.0"`), zeros and NaN
    not at all (`-0.0` equals `0.0` but reads differently), and only what parsed: a refused value is refused
    again, with its cell."""
    texts: dict[str, Any] = {}
    numbers: dict[float, Any] = {}

    def parsed(raw: Any) -> Any:
        kind = type(raw)
        if kind is str:
            known: dict[Any, Any] = texts
        elif kind is float and raw and raw == raw:
            known = numbers
        else:
            return parse(raw)
        try:
            return known[raw]
        except KeyError:
            value = known[raw] = parse(raw)
            return value

    return parsed


@functools.cache
def _parser(f: Field, date1904: bool) -> Callable[[Any], Any]:
    """The parser of a field's kind (one per field and date system, built once: every return asks for all)."""
    if f.kind is Kind.CHOICE:
        index = choice_index(f.choices)
        return lambda raw: parsing.parse_choice(raw, index)
    simple: dict[Kind, Callable[[Any], Any]] = {
        Kind.TEXT: parsing.parse_text,
        Kind.INT: parsing.parse_int,
        Kind.AMOUNT: parsing.parse_amount,
        Kind.NUMBER: parsing.parse_number,
        Kind.YESNO: parsing.parse_yesno,
        Kind.TITRE: parsing.parse_titre,
        Kind.EJ: parsing.parse_ej,
        Kind.EMAIL: parsing.parse_email,
        Kind.PROJECT_ID: parsing.parse_project_id,
        Kind.PERIOD: parsing.parse_period,
    }
    if f.kind is Kind.DATE:
        return lambda raw: parsing.parse_date(raw, date1904=date1904)
    return simple[f.kind]


_KNOWN_EXTRA: Final = frozenset(normalise_label(n) for n in layout.KNOWN_EXTRA_SHEETS)


def match_sheets(workbook: RawWorkbook) -> tuple[dict[str, RawSheet], list[RawSheet]]:
    """Pair the workbook's sheets with the layout's (tolerant names); return the rest as extras.

    Of two sheets whose names fold alike, the visible one stands (`sheet_twins` says what was set aside)."""
    known_extra = _KNOWN_EXTRA
    found = {key: sheets[0] for key, sheets in _candidates(workbook).items()}
    chosen = {id(s) for s in found.values()}
    extras = [s for s in workbook.sheets if id(s) not in chosen and _layout_key(s) is None
              and normalise_label(s.name) not in known_extra]
    return found, extras


def _layout_key(sheet: RawSheet) -> str | None:
    return _WANTED.get(normalise_label(sheet.name))


_WANTED: Final = {normalise_label(s.name): s.key for s in layout.SHEETS}


def _candidates(workbook: RawWorkbook) -> dict[str, list[RawSheet]]:
    """The sheets that could be each layout sheet, visible ones first, in workbook order."""
    out: dict[str, list[RawSheet]] = {}
    for sheet in sorted(workbook.sheets, key=lambda s: not s.visible):
        key = _layout_key(sheet)
        if key is not None:
            out.setdefault(key, []).append(sheet)
    return out


def _report_twins(workbook: RawWorkbook, out: _Draft) -> None:
    """A hidden sheet named like a visible one is set aside, and said; two candidates of the same visibility
    cannot be told apart, and the return is refused rather than read from a guess."""
    for sheets in _candidates(workbook).values():
        if len(sheets) < 2:
            continue
        first, rest = sheets[0], sheets[1:]
        same = [s for s in rest if s.visible == first.visible]
        if same:
            names = ", ".join(f"« {s.name} »" for s in (first, *same))
            out.add("ambiguous-sheet", {"feuille": first.name, "feuilles": names}, sheet=first.name)
        for twin in (s for s in rest if s.visible != first.visible):
            out.add("hidden-twin-sheet", {"feuille": twin.name, "visible": first.name}, sheet=twin.name)


def parse_return(workbook: RawWorkbook, file: str, sha256: str) -> ParsedReturn:
    """Read the five sheets of a return; structural problems and unreadable cells become findings."""
    out = _Draft(file=file, sha256=sha256)
    found, extras = match_sheets(workbook)
    _report_twins(workbook, out)
    for extra in extras:
        if any(not parsing.is_empty(c) for r in extra.rows for c in r):
            out.add("extra-sheet", {"feuille": extra.name}, sheet=extra.name)
    for spec in layout.SHEETS:
        sheet = found.get(spec.key)
        if sheet is None:
            slug = "missing-sheet" if spec.blocking else "missing-optional-sheet"
            out.add(slug, {"feuille": spec.name}, sheet=spec.name)
            continue
        out.sheet_names[spec.key] = sheet.name
        if spec.is_form:
            _parse_form(sheet, spec, out, workbook.date1904)
        else:
            _parse_table(sheet, spec, out, workbook.date1904)
    return out.freeze()


def _read_cell(sheet: RawSheet, i: int, j: int, f: Field, parse: Callable[[Any], Any]) -> Any:
    flag = sheet.flags.get((i, j))
    if flag is not None:
        if flag.kind == "error":
            raise InputError("error-cell", {"erreur": flag.detail or "erreur"})
        raise InputError("formula-without-value")
    row = sheet.rows[i]
    return parse(row[j] if j < len(row) else None)


def _parse_form(sheet: RawSheet, spec: SheetLayout, out: _Draft, date1904: bool) -> None:
    """`Projet` is a key/value form: a label, then its value in the `Valeur` column when the form has that
    header (so a note typed further right is not taken for an empty field's value), else in the next
    non-empty cell of the row (forms typed without headers, labels merged over several columns)."""
    index = spec.label_index
    headers = {normalise_label(h) for h in layout.FORM_HEADERS}
    value_header = normalise_label(layout.FORM_HEADERS[1])
    value_col = next((j for r in sheet.rows[:HEADER_SEARCH_ROWS] for j, c in enumerate(r)
                      if normalise_label(c) == value_header), None)
    for i, row in enumerate(sheet.rows):
        cells = [(j, c) for j, c in enumerate(row) if not parsing.is_empty(c) or (i, j) in sheet.flags]
        if not cells:
            continue
        j0, label = cells[0]
        folded = normalise_label(label)
        f = index.get(folded)
        if f is None:
            if folded not in headers:
                out.add("extra-column", {"motif": f"Le champ « {parsing.display(label)} » n'est pas prévu ; il est ignoré."},
                        sheet=sheet.name, cell=f"{sheet.name}!{a1(i, j0)}", value=parsing.display(label))
            continue
        if f.key in out.projet_cells:
            continue  # first occurrence wins; a repeated label is most likely a copy
        if value_col is not None and value_col > j0:
            j = value_col
        else:
            j = cells[1][0] if len(cells) > 1 else j0 + 1
        ref = f"{sheet.name}!{a1(i, j)}"
        out.projet_cells[f.key] = ref
        raw = row[j] if j < len(row) else None
        try:
            out.projet[f.key] = _read_cell(sheet, i, j, f, _parser(f, date1904))
        except InputError as exc:
            out.projet[f.key] = None
            out.projet_errors[f.key] = (exc.slug, exc.message, parsing.display(raw))
    for f in spec.fields:
        out.projet.setdefault(f.key, None)


#: What a total row's first cell says, folded (case, accents, spacing, a colon): by its exact label only, so that
#: `TotalEnergies` or « Totalité des demandes » stay lines of the return.
TOTAL_LABELS: Final = frozenset({"total", "total general", "totaux", "sous-total", "sous total"})


def _is_total_row(row: list[Any]) -> bool:
    first = next((c for c in row if not parsing.is_empty(c)), None)
    return isinstance(first, str) and normalise_label(first) in TOTAL_LABELS


def _parse_table(sheet: RawSheet, spec: SheetLayout, out: _Draft, date1904: bool) -> None:
    header = find_header(sheet.rows, (spec.table,))
    keys = [f.key for f in spec.fields]
    scope = Scope.RETURN if spec.blocking else Scope.LINE
    if header is None:
        out.add("missing-column", {"motif": f"Ligne d'en-tête introuvable dans la feuille « {sheet.name} » : aucune des colonnes "
                                  "attendues n'a été reconnue ; aucune de ses lignes ne peut être lue."},
                sheet=sheet.name, cell=f"{sheet.name}!A1", scope=scope)
        # The lines are still counted (and all rejected): nothing is dropped silently.
        counted = [i + 1 for i, r in enumerate(sheet.rows) if any(not parsing.is_empty(c) for c in r)
                   and not _is_total_row(r)]
        out.tables[spec.key] = Lines(counted, {k: [None] * len(counted) for k in keys})
        return
    h, positions = header.row, header.positions
    extras = [(j, parsing.display(sheet.rows[h][j])) for j, _ in header.extras]
    out.columns[spec.key] = {k: column_letter(j) for k, j in positions.items()}
    for j, text in extras:
        out.add("extra-column", {"motif": f"La colonne « {text} » n'est pas prévue ; elle est ignorée."},
                sheet=sheet.name, cell=f"{sheet.name}!{a1(h, j)}", value=text)
    _report_headerless_columns(sheet, h, set(positions.values()) | {j for j, _ in extras}, out)
    for f in spec.fields:
        if f.required and f.key not in positions:
            out.add("missing-column", {"motif": f"La colonne obligatoire « {f.label} » est absente de la feuille "
                                                f"« {sheet.name} » ; ses lignes ne peuvent pas être retenues."},
                    sheet=sheet.name, cell=f"{sheet.name}!{a1(h, 0)}", field=f.label, scope=scope)
    parsers: list[tuple[Field, int | None, Callable[[Any], Any]]] = [
        (f, positions.get(f.key), _remembered(_parser(f, date1904))) for f in spec.fields]
    used_columns = list(positions.values())
    flags = sheet.flags
    flagged_rows = {i for i, _ in flags}
    rows: list[int] = []
    values: dict[str, list[Any]] = {k: [] for k in keys}
    columns = [values[k] for k in keys]
    for i in range(h + 1, len(sheet.rows)):
        row = sheet.rows[i]
        width = len(row)
        flagged = i in flagged_rows
        if not any((j < width and not parsing.is_empty(row[j])) or (flagged and (i, j) in flags)
                   for j in used_columns):
            continue
        if _is_total_row(row):
            label_at = next(j for j, c in enumerate(row) if not parsing.is_empty(c))
            out.add("total-row", {"ligne": i + 1},
                    sheet=sheet.name, cell=f"{sheet.name}!{a1(i, label_at)}")
            continue
        rows.append(i + 1)
        for (f, at, parse), column in zip(parsers, columns, strict=True):
            if at is None:
                column.append(None)
                continue
            try:
                column.append(_read_cell(sheet, i, at, f, parse) if flagged else parse(row[at] if at < width else None))
            except InputError as exc:
                column.append(None)
                out.unreadable.add((spec.key, i + 1, f.key))
                out.add_error(exc, sheet=sheet.name, cell=f"{sheet.name}!{a1(i, at)}", field=f.label,
                              value=parsing.display(row[at] if at < width else None), row=i + 1)
    out.tables[spec.key] = Lines(rows, values)


def _report_headerless_columns(sheet: RawSheet, h: int, named: set[int], out: _Draft) -> None:
    """Values typed in a column without a header are ignored, but said once: nothing is dropped silently."""
    seen: set[int] = set()
    for i in range(h + 1, len(sheet.rows)):
        for j, c in enumerate(sheet.rows[i]):
            if j not in named and j not in seen and not parsing.is_empty(c):
                seen.add(j)
                out.add("extra-column", {"motif": f"La colonne {column_letter(j)} n'a pas d'en-tête mais contient des valeurs "
                                        f"(première en {a1(i, j)}) ; elle est ignorée."},
                        sheet=sheet.name, cell=f"{sheet.name}!{a1(i, j)}", value=parsing.display(c))


def _as_int(value: Any) -> int | None:
    """An integer cell as the parsers gave it. A line whose year or titre could not be read holds None, and
    pandas then stores the whole column as floats (2024 → 2024.0): those are still the other lines' integers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def typed_frame(tables: Sequence[tuple[str, Lines]], spec: SheetLayout) -> pd.DataFrame:
    """Concatenate the lines of one sheet across returns (file name, lines), with one dtype per kind, for the
    schemas: one frame per sheet, built from plain lists."""
    files: list[str] = []
    rows: list[int] = []
    columns: dict[str, list[Any]] = {f.key: [] for f in spec.fields}
    for file, lines in tables:
        files.extend([file] * len(lines))
        rows.extend(lines.rows)
        for key, column in columns.items():
            column.extend(lines.values.get(key, [None] * len(lines)))
    index = pd.RangeIndex(len(rows))
    df = pd.DataFrame({FILE: pd.Series(files, index=index, dtype=object),
                       ROW: pd.Series(rows, index=index, dtype="int64")})
    for f in spec.fields:
        df[f.key] = _typed_column(columns[f.key], f.kind, index)
    return df


def _typed_column(values: list[Any], kind: Kind, index: pd.RangeIndex) -> pd.Series:
    """One column with its kind's dtype: nullable integers, floats, datetimes or text (None when empty)."""
    if kind in (Kind.INT, Kind.TITRE):
        # `type(v) is int` first: the parsers' integers, spared `_as_int`'s checks (a bool is not an int here).
        return pd.Series(pd.array([v if type(v) is int else _as_int(v) for v in values], dtype="Int64"), index=index)
    if kind in (Kind.AMOUNT, Kind.NUMBER):
        return pd.Series(pd.to_numeric(pd.Series(values, index=index, dtype=object), errors="coerce"),
                         index=index).astype("float64")
    if kind is Kind.DATE:
        return pd.Series(pd.to_datetime(pd.Series([v if isinstance(v, dt.date) else None for v in values],
                                                  index=index, dtype=object)), index=index)
    # A text that is not blank is kept as it is (`str` of a `str` is itself); the rest goes through `is_empty`.
    blank = parsing.BLANK_CHARS
    return pd.Series([v if type(v) is str and v.strip(blank) else None if parsing.is_empty(v) else str(v)
                      for v in values], index=index, dtype=object)
