"""Write the return workbook (remontee-v1): the blank template porteurs fill, and filled returns.

Both come from one builder so that a filled return is exactly the template with values in it: same
sheets, headers, drop-down lists and formats. Everything is driven by `contract.layout` (labels,
kinds, formats, widths), `contract.enums` (lists) and `contract.schemas` (bounds, required values), so
a rule is written once: each input cell gets a data validation (checked as one types) and the same test as
a conditional format (a paste bypasses validation, not the marks). The output is deterministic: no clock,
a fixed document creation date, so equal inputs give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_range_abs, xl_rowcol_to_cell

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.layout import Field, Kind, SheetLayout
from ftap_pipeline.contract.referentiel import Nomenclature, Referentiel
from ftap_pipeline.contract.schemas import EJ_PATTERN, column_bounds
from ftap_pipeline.core import snapshot
from ftap_pipeline.core.parsing import DATE_MAX, DATE_MIN
from ftap_pipeline.io.excel_writer import A4, FOOTER, HEADER_MARGIN, MARGINS

#: Never let xlsxwriter reinterpret a text: an EJ "0123456789" or a code "0349-01" stays what it is.
WORKBOOK_OPTIONS: Final = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
#: Input rows under each table header that carry the drop-down lists and checks (formats and unlocking
#: are set on whole columns, so lines added below still get them).
INPUT_ROWS: Final = 200
#: Creation date of the blank template: the format's reference date (the contract's signature), not the clock.
TEMPLATE_CREATED: Final = dt.datetime(2023, 7, 31)
FORMAT_VERSION: Final = "Format de remontée v1"
PERSONAL_SNAPSHOT_HEADER: Final = snapshot.HEADER

#: Fill of a cell whose value the template refuses (typed past the check, or pasted): light red.
BAD_FILL: Final = "#FFC7CE"
#: Fill of a required cell left blank, on a started line of a table or on the Projet form: light orange.
MISSING_FILL: Final = "#FFCC99"

_HEADER_COLOUR: Final = "#000091"  # the State's blue
_INPUT_COLOUR: Final = "#FFF9E6"
#: Bounds of a number the contract does not bound (indicators): a validation needs some, these say "a number".
_NUMBER_LIMIT: Final = 10**12
_TITLE_MAX: Final = 32  # Excel's limit for validation titles
_MESSAGE_MAX: Final = 255  # Excel's limit for validation messages
_YEAR_FIELDS: Final = frozenset({"annee", "exercice"})
#: Bounds of the Projet form's numbers, which no pandera model checks (the form is read by `projet_checks`).
_FORM_BOUNDS: Final[dict[str, tuple[int | None, int | None]]] = {"version": (1, None)}

_Workbook = Any  # xlsxwriter.Workbook: untyped for mypy
_Worksheet = Any
_Format = Any


def new_workbook(path: Path, *, created: dt.datetime, title: str) -> _Workbook:
    """An xlsxwriter workbook with the pipeline's options and a fixed creation date (byte-identical output)."""
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    workbook.set_properties({"title": title, "author": "DITP", "company": "DITP", "created": created})
    return workbook


def write_template(path: Path, *, created: dt.datetime = TEMPLATE_CREATED) -> None:
    """Write the blank return workbook porteurs fill in (command `ftap template`)."""
    tables: dict[str, Sequence[Mapping[str, object]]] = {s.key: [] for s in layout.TABLE_SHEETS}
    _write(path, {}, tables, created=created, title=f"Modèle de remontée FTAP — {FORMAT_VERSION}")


def write_personal_template(path: Path, referentiel: Referentiel, project_id: str, *,
                            created: dt.datetime = TEMPLATE_CREATED) -> None:
    """The template made for one project (`ftap template --projet`): its identity pre-filled and locked, and a
    hidden sheet with what `ftap check` needs of the référentiel to give the central verdict offline.

    Raises KeyError when the référentiel does not know the project."""
    rows = snapshot.snapshot_rows(referentiel, project_id, FORMAT_VERSION)
    record = {label: value for section, label, value in rows if section == snapshot.PROJECT}
    identity = {"project_id": project_id, "intitule": record["Intitulé du projet"] or None,
                "porteur": record["Porteur du projet"] or None, "ministere": record["Ministère"] or None}
    tables: dict[str, Sequence[Mapping[str, object]]] = {s.key: [] for s in layout.TABLE_SHEETS}
    _write(path, identity, tables, created=created, title=f"Modèle de remontée FTAP — {project_id} — {FORMAT_VERSION}",
           locked=frozenset(identity), snapshot=rows)


def write_return(
    path: Path,
    projet: Mapping[str, object],
    tables: Mapping[str, Sequence[Mapping[str, object]]],
    *,
    created: dt.datetime | None = None,
) -> None:
    """Write a filled return: the template with `projet` in the form and one line per row of each table.

    A table key absent from `tables` leaves its sheet out (to build faulty returns); an empty list
    writes the header only. The creation date defaults to the return's `Date de situation`.
    """
    unknown = set(tables) - {s.key for s in layout.TABLE_SHEETS}
    if unknown:
        raise ValueError(f"unknown table sheet key(s): {sorted(unknown)}")
    if created is None:
        created = _as_datetime(projet.get("date_situation")) or TEMPLATE_CREATED
    title = f"Remontée FTAP {projet.get('project_id') or ''} {projet.get('period') or ''}".strip()
    _write(path, projet, tables, created=created, title=title)


# --- the builder -------------------------------------------------------------------------------------


@dataclass
class _Formats:
    """Formats created on first use: xlsxwriter wants one object per distinct style."""

    workbook: _Workbook
    cache: dict[tuple[str, bool, bool], _Format] = field(default_factory=dict)
    styles: dict[str, _Format] = field(default_factory=dict)

    def cell(self, num_format: str, *, locked: bool = False, shaded: bool = True) -> _Format:
        key = (num_format, locked, shaded)
        if key not in self.cache:
            props: dict[str, object] = {"locked": locked, "valign": "top"}
            if num_format:
                props["num_format"] = num_format
            if shaded and not locked:
                props["bg_color"] = _INPUT_COLOUR
                props["border"] = 1
                props["border_color"] = "#D9D9D9"
            self.cache[key] = self.workbook.add_format(props)
        return self.cache[key]

    def named(self, name: str) -> _Format:
        if name not in self.styles:
            self.styles[name] = self.workbook.add_format(_NAMED_STYLES[name])
        return self.styles[name]


_NAMED_STYLES: Final[dict[str, dict[str, object]]] = {
    "header": {"bold": True, "font_color": "#FFFFFF", "bg_color": _HEADER_COLOUR, "text_wrap": True,
               "valign": "vcenter", "border": 1, "locked": True},
    "label": {"bold": True, "bg_color": "#E3E3FD", "border": 1, "valign": "top", "text_wrap": True, "locked": True},
    "title": {"bold": True, "font_size": 14, "font_color": _HEADER_COLOUR, "text_wrap": True, "valign": "top",
              "locked": True},
    "heading": {"bold": True, "font_size": 12, "font_color": _HEADER_COLOUR, "bottom": 1, "locked": True},
    "text": {"text_wrap": True, "valign": "top", "locked": True},
    "small": {"text_wrap": True, "valign": "top", "font_color": "#3A3A3A", "locked": True},
    "list_header": {"bold": True, "locked": True},
    "plain": {"locked": True},
    # Conditional formats (only the fill and the font count) and their samples on the Instructions sheet.
    "bad": {"bg_color": BAD_FILL, "font_color": "#9C0006"},
    "missing": {"bg_color": MISSING_FILL},
    "bad_sample": {"bg_color": BAD_FILL, "font_color": "#9C0006", "border": 1, "valign": "top", "locked": True},
    "missing_sample": {"bg_color": MISSING_FILL, "border": 1, "valign": "top", "locked": True},
}


def _write(path: Path, projet: Mapping[str, object], tables: Mapping[str, Sequence[Mapping[str, object]]], *,
           created: dt.datetime, title: str, locked: frozenset[str] = frozenset(),
           snapshot: Sequence[tuple[str, str, str]] = ()) -> None:
    workbook = new_workbook(path, created=created, title=title)
    formats = _Formats(workbook)
    lists = _ListColumns.from_layout()
    _write_instructions(workbook.add_worksheet(layout.INSTRUCTIONS_SHEET), formats)
    _write_form(workbook.add_worksheet(layout.PROJET.name), projet, formats, lists, locked)
    for spec in layout.TABLE_SHEETS:
        if spec.key in tables:
            _write_table(workbook.add_worksheet(spec.name), spec, tables[spec.key], formats, lists)
    _write_lists(workbook.add_worksheet(layout.LISTS_SHEET), lists, formats)
    if snapshot:
        _write_snapshot(workbook.add_worksheet(layout.SNAPSHOT_SHEET), snapshot, formats)
    workbook.close()


def _write_snapshot(ws: _Worksheet, rows: Sequence[tuple[str, str, str]], formats: _Formats) -> None:
    """The personal template's référentiel snapshot: text only, hidden and protected (`ftap check` reads it)."""
    for col, text in enumerate(PERSONAL_SNAPSHOT_HEADER):
        ws.write_string(0, col, text, formats.named("list_header"))
    for i, row in enumerate(rows, start=1):
        for col, text in enumerate(row):
            ws.write_string(i, col, text, formats.named("plain"))
    ws.set_column(0, 1, 34)
    ws.set_column(2, 2, 70)
    ws.hide()
    _protect(ws)


def _as_datetime(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return None


def _num_format(f: Field) -> str:
    if f.number_format:
        return f.number_format
    return {Kind.DATE: layout.DATE_FORMAT, Kind.AMOUNT: layout.AMOUNT_FORMAT, Kind.INT: "0", Kind.EJ: "@"}.get(
        f.kind, "")


def _choices(f: Field) -> tuple[str, ...] | tuple[int, ...]:
    if f.kind is Kind.YESNO:
        return enums.OUI_NON
    return f.choices


@dataclass(frozen=True)
class _ListColumns:
    """Where each enumeration sits on the hidden `Listes` sheet: the drop-downs read their values there."""

    #: choices → (column index, header)
    columns: dict[tuple[object, ...], tuple[int, str]]

    @classmethod
    def from_layout(cls) -> _ListColumns:
        labels: dict[tuple[object, ...], list[str]] = {}
        for spec in layout.SHEETS:
            for f in spec.fields:
                values = _choices(f)
                if values:
                    names = labels.setdefault(tuple(values), [])
                    name = "Oui / Non" if f.kind is Kind.YESNO else f.label
                    if name not in names:
                        names.append(name)
        return cls({values: (i, " / ".join(names)) for i, (values, names) in enumerate(labels.items())})

    def source(self, f: Field) -> str | None:
        values = tuple(_choices(f))
        if not values:
            return None
        col = self.columns[values][0]
        return f"={quote_sheetname(layout.LISTS_SHEET)}!{xl_range_abs(1, col, len(values), col)}"


@dataclass(frozen=True)
class _Bounds:
    """What the contract says of a column's values: inclusive bounds, and whether a blank is accepted."""

    low: int | float | None = None
    high: int | float | None = None
    nullable: bool = False


def _schema_bounds(sheet_key: str, field_key: str) -> _Bounds:
    """A column's bounds, from its pandera model (`contract.schemas.column_bounds`), so the template cannot drift
    from the checks. A check the template cannot express fails here, rather than go unchecked at input."""
    bounds = column_bounds(sheet_key)[field_key]
    if bounds.exclusive:
        raise ValueError(f"{sheet_key}.{field_key}: only inclusive ranges are drawn in the template")
    for name in bounds.other_checks:
        if name == "str_matches" and bounds.pattern == EJ_PATTERN:
            continue  # the EJ kind's own rule
        if name != "isin":  # lists come from the same enums through `layout`
            raise ValueError(f"{sheet_key}.{field_key}: pandera check {name!r} has no template rule")
    return _Bounds(bounds.low, bounds.high, bounds.nullable)


def _bounds(spec: SheetLayout, f: Field) -> _Bounds:
    if spec.is_form:
        low, high = _FORM_BOUNDS.get(f.key, (None, None))
        return _Bounds(low, high, nullable=not f.required)
    return _schema_bounds(spec.key, f.key)


@dataclass(frozen=True)
class _Rule:
    """One field's check, said twice from one source: the data validation of its input cells, and `valid`,
    the same test as a formula on the first input cell (TRUE when a non-blank value is acceptable), which the
    conditional formats reuse. `valid` is None when any value is accepted (free text)."""

    validation: dict[str, object]
    valid: str | None
    required: bool


def _bound_terms(cell: str, b: _Bounds) -> list[str]:
    return ([f"{cell}>={b.low}"] if b.low is not None else []) + ([f"{cell}<={b.high}"] if b.high is not None else [])


def _between(b: _Bounds) -> dict[str, object]:
    """xlsxwriter's criteria for inclusive bounds, at least one of them set."""
    if b.low is not None and b.high is not None:
        return {"criteria": "between", "minimum": b.low, "maximum": b.high}
    return {"criteria": ">=", "value": b.low} if b.low is not None else {"criteria": "<=", "value": b.high}


def _bounds_text(b: _Bounds) -> str:
    if b.low is not None and b.high is not None:
        return "" if (b.low, b.high) == (-_NUMBER_LIMIT, _NUMBER_LIMIT) else f" entre {b.low} et {b.high}"
    if b.low is not None:
        return " positif ou nul" if b.low == 0 else f" supérieur ou égal à {b.low}"
    return f" inférieur ou égal à {b.high}"


def _excel_date(d: dt.date) -> str:
    return f"DATE({d.year},{d.month},{d.day})"


def _rule(spec: SheetLayout, f: Field, lists: _ListColumns, cell: str) -> _Rule:
    """The check of a field whose first input cell is `cell` (A1), with French messages.

    The formulas use Excel's English function names and commas, as the file format stores them; LibreOffice
    reads them alike. They never raise on a value of the right kind; on text where a number is expected they
    may, which a validation takes as a refusal and the marks wrap in IFERROR."""
    title = f.label if len(f.label) <= _TITLE_MAX else f.label[: _TITLE_MAX - 1] + "…"
    base: dict[str, object] = {"input_title": title, "input_message": f.description[:_MESSAGE_MAX],
                               "error_type": "stop", "error_title": "Valeur non valide"}
    b = _bounds(spec, f)
    required = not b.nullable
    c = cell
    source = lists.source(f)
    if source is not None:
        return _Rule({**base, "validate": "list", "source": source,
                      "error_message": "Choisissez une valeur dans la liste déroulante."},
                     f"SUMPRODUCT(--({source.lstrip('=')}={c}))>0", required)
    if f.kind in (Kind.INT, Kind.NUMBER):
        if b.low is None and b.high is None:  # a number validation needs bounds: these only say "a number"
            b = _Bounds(-_NUMBER_LIMIT, _NUMBER_LIMIT, b.nullable)
        whole = f.kind is Kind.INT
        if whole and f.key in _YEAR_FIELDS:
            message = f"Saisissez une année{_bounds_text(b)}."
        else:
            message = f"Saisissez un nombre{' entier' if whole else ''}{_bounds_text(b)} (ex. {'2' if whole else '2,5'})."
        terms = [f"ISNUMBER({c})", *([f"INT({c})={c}"] if whole else []), *_bound_terms(c, b)]
        return _Rule({**base, "validate": "integer" if whole else "decimal", **_between(b), "error_message": message},
                     f"AND({','.join(terms)})", required)
    if f.kind is Kind.AMOUNT:
        # A decimal validation cannot say "at most two decimals": a formula can.
        valid = f"AND({','.join([f'ISNUMBER({c})', *_bound_terms(c, b), f'ROUND({c},2)={c}'])})"
        if b.low is None:
            message = ("Saisissez un montant en euros avec au plus deux décimales (ex. 1 200 000,50) ; un montant "
                       "négatif est admis (retrait ou correction, ex. -5 000).")
        else:
            message = f"Saisissez un montant en euros{_bounds_text(b)}, avec au plus deux décimales (ex. 1 200 000,50)."
        return _Rule({**base, "validate": "custom", "value": f"={valid}", "error_message": message}, valid, required)
    if f.kind is Kind.DATE:
        return _Rule({**base, "validate": "date", "criteria": "between", "minimum": DATE_MIN, "maximum": DATE_MAX,
                      "error_message": "Saisissez une date au format jj/mm/aaaa (année sur quatre chiffres)."},
                     f"AND(ISNUMBER({c}),{c}>={_excel_date(DATE_MIN)},{c}<={_excel_date(DATE_MAX)})", required)
    if f.kind is Kind.EJ:
        # Ten digits, spaces allowed as the reader allows them: TEXT(n, "0…0") gives back only a run of digits.
        digits = f'SUBSTITUTE({c}," ","")'
        valid = f'AND(LEN({digits})=10,TEXT(--{digits},"0000000000")={digits})'
        message = "Le N° EJ compte exactement 10 chiffres (saisi en texte, zéros de tête compris)."
    elif f.kind is Kind.PROJECT_ID:
        # AP-AAAA-NN or AP-AAAA-NNN, as `parsing.parse_project_id` reads it.
        valid = (f'AND(OR(LEN({c})=10,LEN({c})=11),LEFT({c},3)="AP-",MID({c},8,1)="-",'
                 f'TEXT(--MID({c},4,4),"0000")=MID({c},4,4),TEXT(--MID({c},9,3),REPT("0",LEN({c})-8))=MID({c},9,3))')
        message = "Saisissez l'identifiant au format AP-AAAA-NN ou AP-AAAA-NNN (ex. AP-2024-07)."
    elif f.kind is Kind.PERIOD:
        valid = (f'AND(LEN({c})=7,MID({c},5,2)="-T",TEXT(--LEFT({c},4),"0000")=LEFT({c},4),'
                 f'ISNUMBER(FIND(RIGHT({c},1),"1234")))')
        message = "Saisissez le trimestre au format AAAA-Tn (ex. 2025-T2)."
    elif f.kind is Kind.EMAIL:
        valid = (f'AND(ISERROR(FIND(" ",{c})),LEN({c})-LEN(SUBSTITUTE({c},"@",""))=1,FIND("@",{c})>1,'
                 f'ISNUMBER(FIND(".",{c},FIND("@",{c})+2)),ISERROR(FIND(".",RIGHT({c},2))))')
        message = "Saisissez une adresse électronique (ex. prenom.nom@ministere.gouv.fr)."
    else:
        return _Rule({**base, "validate": "any"}, None, required)
    return _Rule({**base, "validate": "custom", "value": f"={valid}", "error_message": message}, valid, required)


def _add_validation(ws: _Worksheet, first_row: int, col: int, last_row: int, options: dict[str, object]) -> None:
    if ws.data_validation(first_row, col, last_row, col, options) != 0:
        raise ValueError(f"data validation refused by xlsxwriter: {options}")


def _add_marks(ws: _Worksheet, first_row: int, col: int, last_row: int, rule: _Rule, formats: _Formats, *,
               started: str | None) -> None:
    """Mark a bad value light red and a missing required one light orange. `started` is the test, on the first
    row, that the line has begun (a table line with any value); None on the form, where every field is due.
    An error value (#REF!, #DIV/0!…) is bad in any column, free text included: the reader rejects it."""
    cell = xl_rowcol_to_cell(first_row, col)
    if rule.valid is None:
        bad = f"=ISERROR({cell})"
    else:
        bad = f"=IFERROR(AND(LEN(TRIM({cell}))>0,NOT(IFERROR({rule.valid},FALSE))),TRUE)"
    _add_format(ws, first_row, col, last_row, bad, formats.named("bad"))
    if rule.required:
        blank = f"LEN(TRIM({cell}))=0"
        _add_format(ws, first_row, col, last_row, f"=AND({started},{blank})" if started else f"={blank}",
                    formats.named("missing"))


def _add_format(ws: _Worksheet, first_row: int, col: int, last_row: int, formula: str, fmt: _Format) -> None:
    if ws.conditional_format(first_row, col, last_row, col, {"type": "formula", "criteria": formula,
                                                             "format": fmt}) != 0:
        raise ValueError(f"conditional format refused by xlsxwriter: {formula}")


def _protect(ws: _Worksheet) -> None:
    """Protect without a password: structure and headers stay put, input cells stay editable."""
    ws.protect("", {"format_columns": True, "format_rows": True})


def _set_up_page(ws: _Worksheet, *, landscape: bool, repeat_header: bool) -> None:
    """A4, one page wide, page numbers in the footer, as the consolidated workbook prints."""
    ws.set_paper(A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(**MARGINS)
    ws.set_header("&L&A", {"margin": HEADER_MARGIN})
    ws.set_footer(FOOTER, {"margin": HEADER_MARGIN})
    ws.fit_to_pages(1, 0)
    if repeat_header:
        ws.repeat_rows(0)


def _write_value(ws: _Worksheet, row: int, col: int, f: Field, value: object, formats: _Formats, *,
                 shaded: bool, locked: bool = False) -> None:
    """Write a value with the type it has (a number stays a number); an EJ is always text."""
    num_format = _num_format(f)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if shaded:
            ws.write_blank(row, col, None, formats.cell(num_format, shaded=shaded, locked=locked))
    elif f.kind is Kind.EJ:
        text = str(int(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
        ws.write_string(row, col, text, formats.cell("@", shaded=shaded, locked=locked))
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, formats.cell(num_format, shaded=shaded, locked=locked))
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), formats.cell(num_format, shaded=shaded, locked=locked))
    elif isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(row, col, value, formats.cell(layout.DATE_FORMAT, shaded=shaded, locked=locked))
    else:
        ws.write_string(row, col, str(value), formats.cell(num_format, shaded=shaded, locked=locked))


def _write_form(ws: _Worksheet, projet: Mapping[str, object], formats: _Formats, lists: _ListColumns,
                locked: frozenset[str] = frozenset()) -> None:
    """`Projet`: one field a row, its label in A and its value in B; the `locked` fields cannot be edited."""
    unknown = set(projet) - {f.key for f in layout.PROJET.fields}
    if unknown:
        raise ValueError(f"unknown Projet field key(s): {sorted(unknown)}")
    ws.set_column(0, 0, 36)
    ws.set_column(1, 1, 60)
    for col, text in enumerate(layout.FORM_HEADERS):
        ws.write_string(0, col, text, formats.named("header"))
    ws.set_row(0, 22)
    for i, f in enumerate(layout.PROJET.fields, start=1):
        ws.write_string(i, 0, f.label, formats.named("label"))
        _write_value(ws, i, 1, f, projet.get(f.key), formats, shaded=True, locked=f.key in locked)
        rule = _rule(layout.PROJET, f, lists, xl_rowcol_to_cell(i, 1))
        _add_validation(ws, i, 1, i, rule.validation)
        _add_marks(ws, i, 1, i, rule, formats, started=None)
    ws.freeze_panes(1, 0)
    _set_up_page(ws, landscape=False, repeat_header=True)
    _protect(ws)


def _write_table(ws: _Worksheet, spec: SheetLayout, rows: Sequence[Mapping[str, object]], formats: _Formats,
                 lists: _ListColumns) -> None:
    """A table sheet: the header on row 1 (locked), one line per row from row 2, input columns unlocked."""
    keys = {f.key for f in spec.fields}
    last = max(INPUT_ROWS, len(rows))
    started = f"COUNTA($A2:${xl_col_to_name(len(spec.fields) - 1)}2)>0"
    for col, f in enumerate(spec.fields):
        ws.set_column(col, col, f.width, formats.cell(_num_format(f), shaded=False))
        ws.write_string(0, col, f.label, formats.named("header"))
        rule = _rule(spec, f, lists, xl_rowcol_to_cell(1, col))
        _add_validation(ws, 1, col, last, rule.validation)
        _add_marks(ws, 1, col, last, rule, formats, started=started)
    ws.set_row(0, 32)
    for i, row in enumerate(rows, start=1):
        unknown = set(row) - keys
        if unknown:
            raise ValueError(f"unknown {spec.name} column key(s): {sorted(unknown)}")
        for col, f in enumerate(spec.fields):
            _write_value(ws, i, col, f, row.get(f.key), formats, shaded=False)
    ws.freeze_panes(1, 0)
    _set_up_page(ws, landscape=True, repeat_header=True)
    _protect(ws)


def _write_lists(ws: _Worksheet, lists: _ListColumns, formats: _Formats) -> None:
    """The hidden sheet the drop-down lists read: one enumeration a column, straight from `enums`."""
    for values, (col, header) in lists.columns.items():
        ws.set_column(col, col, max(12, min(60, max(len(str(v)) for v in values) + 2)))
        ws.write_string(0, col, header, formats.named("list_header"))
        for i, value in enumerate(values, start=1):
            if isinstance(value, int):
                ws.write_number(i, col, value, formats.named("plain"))
            else:
                ws.write_string(i, col, str(value), formats.named("plain"))
    ws.hide()
    _protect(ws)


# --- the instructions sheet ---------------------------------------------------------------------------

#: Columns of the Instructions sheet: about 100 characters, the width of an A4 portrait page at 100 %.
_INSTRUCTION_WIDTHS: Final = (28, 13, 60)
#: Characters a line of a paragraph merged over the three columns holds, counted short so no line is cut.
_CHARS_PER_LINE: Final = 95
_LINE_HEIGHT: Final = 15.0


def _instructions() -> list[tuple[str, str]]:
    """The instructions, as (style, text) paragraphs; the codes come from the référentiel's defaults."""
    nom = Nomenclature()
    domaines = " ou ".join(nom.domaines_fonctionnels)
    return [
        ("title", "Remontée trimestrielle des projets accompagnés par la DITP et financés par le FTAP "
                  "(programme 349)"),
        ("small", f"{FORMAT_VERSION}. Ce classeur est le modèle officiel : ne renommez ni les feuilles ni les "
                  "colonnes, n'en supprimez pas. Les feuilles sont protégées sans mot de passe : seules les cellules "
                  "à saisir sont modifiables. Les listes déroulantes donnent les valeurs admises."),
        ("heading", "1. Principe"),
        ("text", "Un classeur = un projet × un trimestre. Renseignez une remontée par trimestre civil pour chaque "
                 "projet, à partir du trimestre où commence l'accompagnement, et jusqu'à ce que la DITP vous "
                 "indique que le suivi est terminé. Les montants sont en euros TTC, tels que Chorus les "
                 "enregistre (« HT2 » dans le contrat signifie « hors titre 2 », c'est-à-dire sans dépenses de "
                 "personnel, et non « hors taxes »)."),
        ("text", "Les feuilles Consommation, Économies et Indicateurs décrivent une situation cumulée à la date "
                 "de situation, et non les seuls mouvements du trimestre : chaque trimestre, reprenez toutes les "
                 "lignes depuis le début du projet, mises à jour. La DITP calcule elle-même les évolutions d'un "
                 "trimestre à l'autre."),
        ("heading", "2. Feuille Projet"),
        ("text", "Une ligne par champ : le libellé en colonne A, la valeur en colonne B (fond jaune pâle, "
                 "orange clair tant qu'un champ obligatoire est vide). "
                 "L'identifiant du projet (AP-AAAA-NN, ou AP-AAAA-NNN au-delà de 99 projets) est celui attribué par le "
                 "comité de pilotage ; la période s'écrit AAAA-Tn "
                 "(ex. 2025-T2) ; la date de situation tombe dans ce trimestre, normalement son dernier jour. "
                 "Le courriel du chef de projet reçoit le retour d'anomalies."),
        ("heading", "3. Feuille Financement"),
        ("text", "Le plan de financement du projet (besoins de financement) : une ligne par année × catégorie × "
                 "titre × objet × financeur, en AE et en CP. Le coût total, la part FTAP et la part de "
                 "cofinancement (porteur et co-porteur) sont calculés à partir de cette feuille. Rappel des "
                 "critères (§4.3 du contrat) : coût total inférieur à 2 M€, cofinancement du porteur attendu "
                 "(50 % paraît pertinent)."),
        ("heading", "4. Feuille Consommation"),
        ("text", "Une ligne par engagement juridique (N° EJ) et par exercice, pour tous les exercices depuis le "
                 "début du projet. « AE engagées » : ce qui a été engagé sur l'EJ dans l'exercice (un retrait "
                 "s'écrit en négatif) ; « CP payés » : ce qui a été payé sur l'EJ dans l'exercice. Pour chaque EJ, "
                 "les CP payés cumulés ne peuvent pas dépasser les AE engagées cumulées. Un même couple "
                 "(N° EJ, exercice) ne doit figurer qu'une fois."),
        ("text", "Seules les lignes dont le financeur est « FTAP » relèvent du programme 349 : elles sont "
                 "comparées aux enveloppes du contrat et à Chorus. Elles portent l'imputation du dispositif : "
                 f"centre financier {nom.centre_financier}, domaine fonctionnel {domaines}, activité "
                 f"{nom.activite}. Les lignes de cofinancement (Porteur, Co-porteur) peuvent porter vos propres "
                 "imputations ou les laisser vides."),
        ("heading", "5. Feuilles Économies et Indicateurs"),
        ("text", "Économies : par année et par nature, le prévisionnel et le réalisé, pérenne ou non (seules les "
                 "économies pérennes comptent pour le retour sur investissement : 1 € d'économies pérennes à "
                 "trois ans pour 1 € investi par le FTAP). Quand le réalisé d'une année passée est inférieur au "
                 "prévisionnel, expliquez l'écart dans la colonne prévue (§7 du contrat)."),
        ("text", "Indicateurs : qualité de service aux usagers et conditions de travail des agents, avec une "
                 "valeur de référence datée, la dernière valeur mesurée datée (après la référence), le sens "
                 "d'amélioration et la méthode de mesure."),
        ("heading", "6. Nombres et dates"),
        ("text", "Saisissez les montants comme des nombres, la virgule comme séparateur décimal, au plus deux "
                 "décimales (ex. 1 200 000,50). N'écrivez pas « 1.200 » : le point est ambigu. Les dates "
                 "s'écrivent jj/mm/aaaa, l'année sur quatre chiffres. Le N° EJ compte 10 chiffres et reste en "
                 "texte : ses zéros de tête doivent être conservés. Pas de formule sans valeur ni de cellule en "
                 "erreur (#REF!, #DIV/0!…) : une valeur illisible écarte la ligne."),
        ("heading", "7. Contrôles à la saisie"),
        ("text", "Chaque cellule à saisir est contrôlée dès la saisie : une valeur refusée ouvre un message qui dit "
                 "quoi saisir (valeur de la liste déroulante, année dans les bornes de la feuille, montant en euros "
                 "avec au plus deux décimales, positif ou nul sauf dans la feuille Consommation, date jj/mm/aaaa, "
                 "N° EJ à 10 chiffres). Une valeur qui échappe à ce contrôle, collée par exemple, est signalée par "
                 "la couleur de sa cellule :"),
        ("bad_sample", "valeur non valide : hors de la liste, hors des bornes, plus de deux décimales, ou un texte "
                       "à la place d'un nombre ou d'une date."),
        ("missing_sample", "valeur obligatoire manquante : sur une ligne commencée d'un tableau, ou dans la "
                           "feuille Projet."),
        ("text", "Ces couleurs aident à la saisie ; le verdict est celui de « ftap check » et du traitement central "
                 "(section 9)."),
        ("heading", "8. Versions et renvoi"),
        ("text", "Le champ Version vaut 1 pour le premier envoi. Pour corriger une remontée déjà envoyée, renvoyez "
                 "le classeur complet avec une version supérieure (2, 3…) : la version la plus élevée fait foi, "
                 "les autres sont « Remplacée ». Deux fichiers de même version et de contenus différents sont "
                 "tous deux rejetés. Le nom du fichier ne compte pas ; nommez-le de préférence "
                 "AP-AAAA-NN_AAAA-Tn.xlsx."),
        ("heading", "9. Vérifier, puis envoyer"),
        ("text", "Avant l'envoi, vérifiez le fichier avec la commande « ftap check mon_fichier.xlsx » : elle rend "
                 "le même verdict et les mêmes messages que le traitement central de la DITP. Envoyez ensuite le "
                 "classeur à votre correspondant DITP du dispositif, au format .xlsx (ou .xlsm, .ods, .xls), sans "
                 "mot de passe d'ouverture."),
        ("text", "Chaque remontée reçoit un statut : « Retenue », « Retenue avec anomalies » (des lignes sont "
                 "écartées), « Rejetée » (le fichier entier est écarté) ou « Remplacée ». Les anomalies sont "
                 "envoyées au courriel du chef de projet, avec la cellule en cause et l'action attendue."),
        ("heading", "10. Détail des champs"),
    ]


_SAMPLE_NAMES: Final = {"bad_sample": "Rouge clair", "missing_sample": "Orange clair"}


def _lines(text: str, chars_per_line: int) -> int:
    return sum(max(1, math.ceil(len(part) / chars_per_line)) for part in text.split("\n"))


def _row_height(*cells: tuple[str, int]) -> float:
    """The height of a row of wrapped cells, (text, characters a line), set by hand: Excel does not fit merged
    cells, and LibreOffice would fit them differently."""
    return _LINE_HEIGHT * max(_lines(text, width) for text, width in cells) + 3


def _required_label(spec: SheetLayout, f: Field) -> str:
    """« Oui (colonne) » when the column must exist but a line may leave it blank (the imputation codes)."""
    if not f.required:
        return "Non"
    return "Oui (colonne)" if _bounds(spec, f).nullable else "Oui"


def _write_instructions(ws: _Worksheet, formats: _Formats) -> None:
    """The instructions sheet: the rules of remontee-v1 in plain French, then every field of every sheet.
    A4 portrait, one page wide: the paragraphs are merged over the three columns and wrapped."""
    for col, width in enumerate(_INSTRUCTION_WIDTHS):
        ws.set_column(col, col, width)
    last_col = len(_INSTRUCTION_WIDTHS) - 1
    row = 0
    for style, text in _instructions():
        if style in ("text", "small"):
            ws.merge_range(row, 0, row, last_col, text, formats.named(style))
            ws.set_row(row, _row_height((text, _CHARS_PER_LINE)))
        elif style in _SAMPLE_NAMES:
            ws.write_string(row, 0, _SAMPLE_NAMES[style], formats.named(style))
            ws.merge_range(row, 1, row, last_col, text, formats.named("text"))
            ws.set_row(row, _row_height((text, _CHARS_PER_LINE - _INSTRUCTION_WIDTHS[0])))
        elif style == "title":
            ws.merge_range(row, 0, row, last_col, text, formats.named(style))
            ws.set_row(row, 2 * 20)
        else:
            ws.write_string(row, 0, text, formats.named(style))
            ws.set_row(row, 20)
        row += 1
    for spec in layout.SHEETS:
        row += 1
        ws.write_string(row, 0, f"Feuille {spec.name}", formats.named("label"))
        ws.write_string(row, 1, "Obligatoire", formats.named("label"))
        ws.write_string(row, 2, "Règle", formats.named("label"))
        row += 1
        for f in spec.fields:
            rule = f.description
            values = _choices(f)
            if values:
                rule += " Valeurs : " + " ; ".join(str(v) for v in values) + "."
            required = _required_label(spec, f)
            ws.write_string(row, 0, f.label, formats.named("text"))
            ws.write_string(row, 1, required, formats.named("text"))
            ws.write_string(row, 2, rule, formats.named("text"))
            ws.set_row(row, _row_height(*zip((f.label, required, rule), _INSTRUCTION_WIDTHS, strict=True)))
            row += 1
    _set_up_page(ws, landscape=False, repeat_header=False)
    ws.activate()
    _protect(ws)
