"""Write the return workbook (remontee-v1): the blank template porteurs fill, and filled returns.

Both come from one builder so that a filled return is exactly the template with values in it: same
sheets, headers, drop-down lists and formats. Everything is driven by `contract.layout` (labels,
kinds, formats, widths) and `contract.enums` (lists), so a label or a list value is written once.
The output is deterministic: no clock, a fixed document creation date, so equal inputs give
byte-identical files.
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
from xlsxwriter.utility import quote_sheetname, xl_range_abs

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.layout import Field, Kind, SheetLayout
from ftap_pipeline.contract.referentiel import Nomenclature
from ftap_pipeline.core.parsing import DATE_MAX, DATE_MIN

#: Never let xlsxwriter reinterpret a text: an EJ "0123456789" or a code "0349-01" stays what it is.
WORKBOOK_OPTIONS: Final = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
#: Input rows under each table header that carry the drop-down lists and checks (formats and unlocking
#: are set on whole columns, so lines added below still get them).
INPUT_ROWS: Final = 200
#: Creation date of the blank template: the format's reference date (the contract's signature), not the clock.
TEMPLATE_CREATED: Final = dt.datetime(2023, 7, 31)
FORMAT_VERSION: Final = "Format de remontée v1"

_HEADER_COLOUR: Final = "#000091"  # the State's blue
_INPUT_COLOUR: Final = "#FFF9E6"
_AMOUNT_LIMIT: Final = 1e12
_TITLE_MAX: Final = 32  # Excel's limit for validation titles
_MESSAGE_MAX: Final = 255  # Excel's limit for validation messages
#: (sheet key, field key) of amounts and numbers that cannot be negative (remontee-v1).
_NON_NEGATIVE: Final = frozenset({
    ("financement", "ae"), ("financement", "cp"), ("economies", "montant"), ("economies", "etp"),
})
_YEAR_FIELDS: Final = frozenset({"annee", "exercice"})

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
    "title": {"bold": True, "font_size": 14, "font_color": _HEADER_COLOUR, "locked": True},
    "heading": {"bold": True, "font_size": 12, "font_color": _HEADER_COLOUR, "bottom": 1, "locked": True},
    "text": {"text_wrap": True, "valign": "top", "locked": True},
    "small": {"text_wrap": True, "valign": "top", "font_color": "#3A3A3A", "locked": True},
    "list_header": {"bold": True, "locked": True},
    "plain": {"locked": True},
}


def _write(path: Path, projet: Mapping[str, object], tables: Mapping[str, Sequence[Mapping[str, object]]], *,
           created: dt.datetime, title: str) -> None:
    workbook = new_workbook(path, created=created, title=title)
    formats = _Formats(workbook)
    lists = _ListColumns.from_layout()
    _write_instructions(workbook.add_worksheet(layout.INSTRUCTIONS_SHEET), formats)
    _write_form(workbook.add_worksheet(layout.PROJET.name), projet, formats, lists)
    for spec in layout.TABLE_SHEETS:
        if spec.key in tables:
            _write_table(workbook.add_worksheet(spec.name), spec, tables[spec.key], formats, lists)
    _write_lists(workbook.add_worksheet(layout.LISTS_SHEET), lists, formats)
    workbook.close()


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


def _validation(spec_key: str, f: Field, lists: _ListColumns) -> dict[str, object]:
    """The data validation of a field's input cells, with French messages."""
    title = f.label if len(f.label) <= _TITLE_MAX else f.label[: _TITLE_MAX - 1] + "…"
    base: dict[str, object] = {"input_title": title, "input_message": f.description[:_MESSAGE_MAX],
                               "error_type": "stop", "error_title": "Valeur non valide"}
    source = lists.source(f)
    if source is not None:
        return {**base, "validate": "list", "source": source,
                "error_message": "Choisissez une valeur dans la liste déroulante."}
    if f.kind is Kind.INT and f.key in _YEAR_FIELDS:
        return {**base, "validate": "integer", "criteria": "between", "minimum": enums.ANNEE_MIN,
                "maximum": enums.ANNEE_MAX,
                "error_message": f"Saisissez une année entre {enums.ANNEE_MIN} et {enums.ANNEE_MAX}."}
    if f.kind is Kind.INT:
        return {**base, "validate": "integer", "criteria": ">=", "value": 1,
                "error_message": "Saisissez un nombre entier supérieur ou égal à 1."}
    if f.kind in (Kind.AMOUNT, Kind.NUMBER):
        what = "un montant en euros" if f.kind is Kind.AMOUNT else "un nombre"
        if (spec_key, f.key) in _NON_NEGATIVE:
            return {**base, "validate": "decimal", "criteria": ">=", "value": 0,
                    "error_message": f"Saisissez {what} positif ou nul (ex. 1 200 000,50)."}
        return {**base, "validate": "decimal", "criteria": "between", "minimum": -_AMOUNT_LIMIT,
                "maximum": _AMOUNT_LIMIT, "error_message": f"Saisissez {what} (ex. 1 200 000,50 ; -5 000 pour un retrait)."}
    if f.kind is Kind.DATE:
        return {**base, "validate": "date", "criteria": "between", "minimum": DATE_MIN, "maximum": DATE_MAX,
                "error_message": "Saisissez une date au format jj/mm/aaaa (année sur quatre chiffres)."}
    if f.kind is Kind.EJ:
        return {**base, "validate": "length", "criteria": "==", "value": 10,
                "error_message": "Le N° EJ compte exactement 10 chiffres (saisi en texte, zéros de tête compris)."}
    return {**base, "validate": "any"}


def _add_validation(ws: _Worksheet, first_row: int, col: int, last_row: int, options: dict[str, object]) -> None:
    if ws.data_validation(first_row, col, last_row, col, options) != 0:
        raise ValueError(f"data validation refused by xlsxwriter: {options}")


def _protect(ws: _Worksheet) -> None:
    """Protect without a password: structure and headers stay put, input cells stay editable."""
    ws.protect("", {"format_columns": True, "format_rows": True})


def _write_value(ws: _Worksheet, row: int, col: int, f: Field, value: object, formats: _Formats, *,
                 shaded: bool) -> None:
    """Write a value with the type it has (a number stays a number); an EJ is always text."""
    num_format = _num_format(f)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if shaded:
            ws.write_blank(row, col, None, formats.cell(num_format, shaded=shaded))
    elif f.kind is Kind.EJ:
        text = str(int(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
        ws.write_string(row, col, text, formats.cell("@", shaded=shaded))
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, formats.cell(num_format, shaded=shaded))
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), formats.cell(num_format, shaded=shaded))
    elif isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(row, col, value, formats.cell(layout.DATE_FORMAT, shaded=shaded))
    else:
        ws.write_string(row, col, str(value), formats.cell(num_format, shaded=shaded))


def _write_form(ws: _Worksheet, projet: Mapping[str, object], formats: _Formats, lists: _ListColumns) -> None:
    """`Projet`: one field a row, its label in A and its value in B."""
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
        _write_value(ws, i, 1, f, projet.get(f.key), formats, shaded=True)
        _add_validation(ws, i, 1, i, _validation(layout.PROJET.key, f, lists))
    ws.freeze_panes(1, 0)
    _protect(ws)


def _write_table(ws: _Worksheet, spec: SheetLayout, rows: Sequence[Mapping[str, object]], formats: _Formats,
                 lists: _ListColumns) -> None:
    """A table sheet: the header on row 1 (locked), one line per row from row 2, input columns unlocked."""
    keys = {f.key for f in spec.fields}
    last = max(INPUT_ROWS, len(rows))
    for col, f in enumerate(spec.fields):
        ws.set_column(col, col, f.width, formats.cell(_num_format(f), shaded=False))
        ws.write_string(0, col, f.label, formats.named("header"))
        _add_validation(ws, 1, col, last, _validation(spec.key, f, lists))
    ws.set_row(0, 32)
    for i, row in enumerate(rows, start=1):
        unknown = set(row) - keys
        if unknown:
            raise ValueError(f"unknown {spec.name} column key(s): {sorted(unknown)}")
        for col, f in enumerate(spec.fields):
            _write_value(ws, i, col, f, row.get(f.key), formats, shaded=False)
    ws.freeze_panes(1, 0)
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

_INSTRUCTION_WIDTHS: Final = (34, 13, 95)
_CHARS_PER_LINE: Final = 120


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
        ("text", "Une ligne par champ : le libellé en colonne A, la valeur en colonne B (fond jaune pâle). "
                 "L'identifiant du projet (AP-AAAA-NN) est celui attribué par le comité de pilotage ; la période s'écrit AAAA-Tn "
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
        ("heading", "7. Versions et renvoi"),
        ("text", "Le champ Version vaut 1 pour le premier envoi. Pour corriger une remontée déjà envoyée, renvoyez "
                 "le classeur complet avec une version supérieure (2, 3…) : la version la plus élevée fait foi, "
                 "les autres sont « Remplacée ». Deux fichiers de même version et de contenus différents sont "
                 "tous deux rejetés. Le nom du fichier ne compte pas ; nommez-le de préférence "
                 "AP-AAAA-NN_AAAA-Tn.xlsx."),
        ("heading", "8. Vérifier, puis envoyer"),
        ("text", "Avant l'envoi, vérifiez le fichier avec la commande « ftap check mon_fichier.xlsx » : elle rend "
                 "le même verdict et les mêmes messages que le traitement central de la DITP. Envoyez ensuite le "
                 "classeur à votre correspondant DITP du dispositif, au format .xlsx (ou .xlsm, .ods, .xls), sans "
                 "mot de passe d'ouverture."),
        ("text", "Chaque remontée reçoit un statut : « Retenue », « Retenue avec anomalies » (des lignes sont "
                 "écartées), « Rejetée » (le fichier entier est écarté) ou « Remplacée ». Les anomalies sont "
                 "envoyées au courriel du chef de projet, avec la cellule en cause et l'action attendue."),
        ("heading", "9. Détail des champs"),
    ]


def _row_height(text: str, chars_per_line: int) -> float:
    lines = sum(max(1, math.ceil(len(part) / chars_per_line)) for part in text.split("\n"))
    return 15.0 * lines + 3


def _write_instructions(ws: _Worksheet, formats: _Formats) -> None:
    """The instructions sheet: the rules of remontee-v1 in plain French, then every field of every sheet."""
    for col, width in enumerate(_INSTRUCTION_WIDTHS):
        ws.set_column(col, col, width)
    last_col = len(_INSTRUCTION_WIDTHS) - 1
    row = 0
    for style, text in _instructions():
        if style in ("text", "small"):
            ws.merge_range(row, 0, row, last_col, text, formats.named(style))
            ws.set_row(row, _row_height(text, _CHARS_PER_LINE))
        else:
            ws.write_string(row, 0, text, formats.named(style))
            ws.set_row(row, 22 if style == "title" else 20)
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
            ws.write_string(row, 0, f.label, formats.named("text"))
            ws.write_string(row, 1, "Oui" if f.required else "Non", formats.named("text"))
            ws.write_string(row, 2, rule, formats.named("text"))
            ws.set_row(row, _row_height(rule, _INSTRUCTION_WIDTHS[2]))
            row += 1
    ws.activate()
    _protect(ws)
