"""The return workbook writer: the template porteurs fill, and filled returns (remontee-v1)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import pandera.pandas as pa
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.dimensions import ColumnDimension
from openpyxl.worksheet.worksheet import Worksheet
from pandera.typing import Series

from ftap_pipeline.contract import enums, layout, schemas
from ftap_pipeline.contract.layout import Field, Kind
from ftap_pipeline.core.normalise import parse_return
from ftap_pipeline.io import return_writer
from ftap_pipeline.io.return_writer import BAD_FILL, INPUT_ROWS, MISSING_FILL, write_return, write_template
from ftap_pipeline.io.workbook_reader import read_workbook
from tests.builders import active

SHEET_ORDER = [layout.INSTRUCTIONS_SHEET, layout.PROJET.name, *(s.name for s in layout.TABLE_SHEETS),
               layout.LISTS_SHEET]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = tmp_path_factory.mktemp("template") / "modele.xlsx"
    write_template(path)
    return openpyxl.load_workbook(path)


def _projet() -> dict[str, Any]:
    return {"project_id": "AP-2024-07", "intitule": "Robotisation des demandes de titres", "period": "2025-T2",
            "date_situation": dt.date(2025, 6, 30), "porteur": "Préfecture de l'Hérault",
            "ministere": "Ministère de l'Intérieur", "categorie_porteur": enums.CAT_DECONCENTRE,
            "concert_etat": "Oui", "financement_etat": "Oui", "region": "Occitanie", "phase": "Expérimentation",
            "date_cadrage": dt.date(2024, 1, 15), "debut": dt.date(2024, 2, 1), "fin": dt.date(2024, 7, 31),
            "numerique": "Oui", "chef_projet": "Anne Martin", "courriel": "anne.martin@herault.gouv.fr", "version": 2}


def _tables() -> dict[str, list[dict[str, Any]]]:
    ftap = {"fournisseur": "Kaizen Public Conseil", "categorie": "Expérimentation", "titre": 3,
            "objet": "Prestations intellectuelles", "financeur": "FTAP", "centre_financier": "0349-CDBU-DITP",
            "domaine_fonctionnel": "0349-01", "activite": "03490101B501"}
    return {
        "financement": [{"annee": 2024, "categorie": "Expérimentation", "titre": 3,
                         "objet": "Prestations intellectuelles", "financeur": "FTAP", "ae": 300000.0, "cp": 250000.5}],
        "consommation": [
            {"ej": "0012345678", "exercice": 2024, "date_ej": dt.date(2024, 3, 1), "ae": 200000.0, "cp": 80000.25,
             **ftap},
            {"ej": "0012345678", "exercice": 2025, "date_ej": dt.date(2024, 3, 1), "ae": -5000.0, "cp": 100000.0,
             "commentaire": "Retrait partiel", **ftap},
        ],
        "economies": [{"annee": 2025, "nature": "Masse salariale", "statut": "Prévisionnelle", "montant": 150000.0,
                       "etp": 3.0, "perenne": "Oui"}],
        "indicateurs": [{"indicateur": "Délai moyen de traitement", "axe": enums.AXE_QUALITE, "unite": "jours",
                         "sens": "Baisse", "valeur_reference": 40.0, "date_reference": dt.date(2024, 1, 10),
                         "valeur_mesuree": 25.5, "date_mesure": dt.date(2025, 6, 20), "cible": 20.0,
                         "methode": "Statistique directe"}],
    }


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("return") / "AP-2024-07_2025-T2.xlsx"
    write_return(path, _projet(), _tables())
    return path


def _validations(ws: Worksheet) -> dict[str, Any]:
    """Data validations by the first cell of their range."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        first = str(dv.sqref).split()[0].split(":")[0]
        out[first] = dv
    return out


def _column(ws: Worksheet, col: int) -> ColumnDimension:
    """The column's dimension; adjacent columns alike are stored as one range."""
    return next(d for d in ws.column_dimensions.values() if d.min is not None and d.max is not None and d.min <= col <= d.max)


def _list_values(wb: openpyxl.Workbook, formula: str) -> list[object]:
    """The values a list validation's source range holds (`'Listes'!$A$2:$A$4`)."""
    sheet, rng = formula.lstrip("=").split("!")
    assert sheet.strip("'") == layout.LISTS_SHEET
    cells = wb[layout.LISTS_SHEET][rng.replace("$", "")]
    return [row[0].value for row in cells]


def _expected_choices(f: Field) -> list[object]:
    return list(enums.OUI_NON) if f.kind is Kind.YESNO else list(f.choices)


# --- the template ------------------------------------------------------------------------------------


def test_template_sheets_in_order_with_lists_hidden(template: openpyxl.Workbook) -> None:
    assert template.sheetnames == SHEET_ORDER
    assert template[layout.LISTS_SHEET].sheet_state == "hidden"
    assert all(template[n].sheet_state == "visible" for n in SHEET_ORDER[:-1])
    assert active(template).title == layout.INSTRUCTIONS_SHEET


def test_template_headers_are_the_layout_labels(template: openpyxl.Workbook) -> None:
    for spec in layout.TABLE_SHEETS:
        ws = template[spec.name]
        assert [c.value for c in ws[1]] == [f.label for f in spec.fields], spec.name
        assert ws.max_row == 1, "a blank template has no data line"
    ws = template[layout.PROJET.name]
    assert [c.value for c in ws[1]] == list(layout.FORM_HEADERS)
    assert [ws.cell(i, 1).value for i in range(2, len(layout.PROJET.fields) + 2)] == \
        [f.label for f in layout.PROJET.fields]
    assert all(ws.cell(i, 2).value is None for i in range(2, len(layout.PROJET.fields) + 2))


def test_every_list_field_has_a_dropdown_fed_by_the_enums(template: openpyxl.Workbook) -> None:
    checked = 0
    for spec in layout.TABLE_SHEETS:
        validations = _validations(template[spec.name])
        for col, f in enumerate(spec.fields, start=1):
            if not _expected_choices(f):
                continue
            dv = validations[f"{get_column_letter(col)}2"]
            assert dv.type == "list"
            assert str(dv.sqref) == f"{get_column_letter(col)}2:{get_column_letter(col)}{INPUT_ROWS + 1}"
            assert _list_values(template, dv.formula1) == _expected_choices(f), (spec.name, f.label)
            checked += 1
    validations = _validations(template[layout.PROJET.name])
    for row, f in enumerate(layout.PROJET.fields, start=2):
        if _expected_choices(f):
            dv = validations[f"B{row}"]
            assert dv.type == "list"
            assert _list_values(template, dv.formula1) == _expected_choices(f), f.label
            checked += 1
    assert checked == 6 + 4 + 4 + 3 + 3  # Projet, Financement, Consommation, Économies, Indicateurs


#: The contract of each typed input column, written out here rather than derived: (type, operator, formula1,
#: formula2) as openpyxl reads them back. None as the operator is OOXML's default, "between".
_AMOUNT = "AND(ISNUMBER({c}),{c}>=0,ROUND({c},2)={c})"
_SIGNED_AMOUNT = "AND(ISNUMBER({c}),ROUND({c},2)={c})"  # Consommation: a withdrawal is negative
_EJ = 'AND(LEN(SUBSTITUTE({c}," ",""))=10,TEXT(--SUBSTITUTE({c}," ",""),"0000000000")=SUBSTITUTE({c}," ",""))'
_DATES = ("date", None, str((dt.date(1990, 1, 1) - dt.date(1899, 12, 30)).days),
          str((dt.date(2100, 12, 31) - dt.date(1899, 12, 30)).days))
_FREE = (None, None, None, None)
_LIST = ("list",)
EXPECTED_VALIDATIONS: dict[str, dict[str, tuple[str | None, ...]]] = {
    "Financement": {"A": ("whole", None, "2023", "2030"), **dict.fromkeys("BCDE", _LIST),
                    "F": ("custom", None, _AMOUNT, None), "G": ("custom", None, _AMOUNT, None)},
    "Consommation": {"A": ("custom", None, _EJ, None), "B": ("whole", None, "2023", "2030"), "C": _DATES,
                     "D": _FREE, **dict.fromkeys("EFGH", _LIST), **dict.fromkeys("IJK", _FREE),
                     "L": ("custom", None, _SIGNED_AMOUNT, None), "M": ("custom", None, _SIGNED_AMOUNT, None),
                     "N": _FREE},
    "Économies": {"A": ("whole", None, "2000", "2100"), "B": _LIST, "C": _LIST,
                  "D": ("custom", None, _AMOUNT, None), "E": ("decimal", "greaterThanOrEqual", "0", None),
                  "F": _LIST, "G": _FREE},
    "Indicateurs": {"A": _FREE, "B": _LIST, "C": _FREE, "D": _LIST,
                    **dict.fromkeys("EGI", ("decimal", None, "-1000000000000", "1000000000000")),
                    "F": _DATES, "H": _DATES, "J": _LIST},
}
#: Columns whose value may stay blank on a line: the schema's nullable columns (imputation only on FTAP lines).
OPTIONAL = {"Consommation": set("IJKN"), "Économies": set("EG"), "Indicateurs": {"I"}}


def _dv_tuple(dv: Any, expected: tuple[str | None, ...]) -> tuple[str | None, ...]:
    return (dv.type, dv.operator, dv.formula1, dv.formula2)[: len(expected)]


def test_every_typed_column_is_validated_over_its_input_rows(template: openpyxl.Workbook) -> None:
    for spec in layout.TABLE_SHEETS:
        ws = template[spec.name]
        validations = _validations(ws)
        expected = EXPECTED_VALIDATIONS[spec.name]
        assert sorted(expected) == [get_column_letter(i) for i in range(1, len(spec.fields) + 1)], spec.name
        assert len(validations) == len(spec.fields), "one validation a column"
        for letter, want in expected.items():
            dv = validations[f"{letter}2"]
            assert str(dv.sqref) == f"{letter}2:{letter}{INPUT_ROWS + 1}", (spec.name, letter)
            want = tuple(w.format(c=f"{letter}2") if w else w for w in want)
            assert _dv_tuple(dv, want) == want, (spec.name, letter)
            assert dv.promptTitle, "every input column explains itself in French"
            assert dv.prompt
            if dv.type is not None:
                assert (dv.showErrorMessage, dv.errorStyle or "stop", dv.allow_blank) == (True, "stop", True)
                assert dv.errorTitle == "Valeur non valide"
                assert dv.error.startswith(("Saisissez", "Choisissez", "Le N° EJ")), dv.error


def test_amount_messages_say_two_decimals_and_the_sign(template: openpyxl.Workbook) -> None:
    fin, conso = _validations(template["Financement"]), _validations(template["Consommation"])
    assert "positif ou nul" in fin["F2"].error
    assert "négatif est admis" in conso["L2"].error
    assert "deux décimales" in fin["F2"].error
    assert "deux décimales" in conso["L2"].error


_PROJET_VALIDATIONS: dict[str, tuple[str | None, ...]] = {
    "project_id": ("custom", None, 'AND(OR(LEN(B2)=10,LEN(B2)=11),LEFT(B2,3)="AP-",MID(B2,8,1)="-",'
                   'TEXT(--MID(B2,4,4),"0000")=MID(B2,4,4),TEXT(--MID(B2,9,3),REPT("0",LEN(B2)-8))=MID(B2,9,3))'),
    "period": ("custom", None, 'AND(LEN(B4)=7,MID(B4,5,2)="-T",TEXT(--LEFT(B4,4),"0000")=LEFT(B4,4),'
               'ISNUMBER(FIND(RIGHT(B4,1),"1234")))'),
    "date_situation": _DATES, "date_cadrage": _DATES, "debut": _DATES, "fin": _DATES,
    "courriel": ("custom",), "version": ("whole", "greaterThanOrEqual", "1", None),
}


def test_every_projet_field_is_validated(template: openpyxl.Workbook) -> None:
    validations = _validations(template[layout.PROJET.name])
    for row, f in enumerate(layout.PROJET.fields, start=2):
        dv = validations[f"B{row}"]
        assert str(dv.sqref) == f"B{row}"
        if _expected_choices(f):
            want: tuple[str | None, ...] = _LIST
        else:
            want = _PROJET_VALIDATIONS.get(f.key, _FREE)
        assert _dv_tuple(dv, want) == want, f.label


def _rules(ws: Worksheet) -> dict[str, list[tuple[str, str]]]:
    """Conditional formats by range: (formula, fill) of each rule, in priority order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for rng in ws.conditional_formatting:
        for rule in sorted(rng.rules, key=lambda r: r.priority):
            assert rule.type == "expression"
            out.setdefault(str(rng.sqref), []).append((rule.formula[0], rule.dxf.fill.bgColor.rgb[-6:]))
    return out


def _bad(cell: str, valid: str | None) -> str:
    """A value the validation refuses, or an error value (#REF!…), which is bad even in a free-text column."""
    if valid is None:
        return f"ISERROR({cell})"
    return f"IFERROR(AND(LEN(TRIM({cell}))>0,NOT(IFERROR({valid},FALSE))),TRUE)"


def _valid_formula(c: str, dv: Any) -> str | None:
    """What the bad-value mark of cell `c` tests: the condition of its validation, whatever its kind."""
    if dv.type is None:
        return None
    if dv.type == "custom":
        return str(dv.formula1)
    if dv.type == "list":
        return f"SUMPRODUCT(--({dv.formula1}={c}))>0"
    if dv.type == "whole" and dv.operator == "greaterThanOrEqual":
        return f"AND(ISNUMBER({c}),INT({c})={c},{c}>={dv.formula1})"
    if dv.type == "whole":
        return f"AND(ISNUMBER({c}),INT({c})={c},{c}>={dv.formula1},{c}<={dv.formula2})"
    if dv.type == "date":
        return f"AND(ISNUMBER({c}),{c}>=DATE(1990,1,1),{c}<=DATE(2100,12,31))"
    if dv.type == "decimal" and dv.operator == "greaterThanOrEqual":
        return f"AND(ISNUMBER({c}),{c}>={dv.formula1})"
    assert dv.type == "decimal"
    return f"AND(ISNUMBER({c}),{c}>={dv.formula1},{c}<={dv.formula2})"


def test_bad_and_missing_values_are_marked_on_every_input_range(template: openpyxl.Workbook) -> None:
    """Light red where the validation would refuse (a paste bypasses it), light orange where a required cell of a
    started line is blank; every table cell from row 2 to the last input row is covered."""
    red, orange = BAD_FILL.lstrip("#"), MISSING_FILL.lstrip("#")
    for spec in layout.TABLE_SHEETS:
        ws = template[spec.name]
        rules, validations = _rules(ws), _validations(ws)
        last = get_column_letter(len(spec.fields))
        for col in range(1, len(spec.fields) + 1):
            letter = get_column_letter(col)
            dv = validations[f"{letter}2"]
            want = [(_bad(f"{letter}2", _valid_formula(f"{letter}2", dv)), red)]
            if letter not in OPTIONAL.get(spec.name, set()):
                want.append((f"AND(COUNTA($A2:${last}2)>0,LEN(TRIM({letter}2))=0)", orange))
            assert rules.get(f"{letter}2:{letter}{INPUT_ROWS + 1}", []) == want, (spec.name, letter)
        assert set(rules) <= {f"{get_column_letter(c)}2:{get_column_letter(c)}{INPUT_ROWS + 1}"
                              for c in range(1, len(spec.fields) + 1)}
    ws = template[layout.PROJET.name]
    rules, validations = _rules(ws), _validations(ws)
    for row, f in enumerate(layout.PROJET.fields, start=2):
        dv, cell = validations[f"B{row}"], f"B{row}"
        want = [(_bad(cell, _valid_formula(cell, dv)), red)]
        if f.required:
            want.append((f"LEN(TRIM({cell}))=0", orange))
        assert rules.get(cell, []) == want, f.label
    for name in (layout.INSTRUCTIONS_SHEET, layout.LISTS_SHEET):
        assert not template[name].conditional_formatting


def test_formulas_stay_within_excels_limits(template: openpyxl.Workbook) -> None:
    """Excel's dialogs take 255 characters of a validation formula; the marks are kept as short. The formulas
    use English function names and commas, as the file format stores them (no localised names, no `;`)."""
    formulas = [dv.formula1 for ws in template for dv in ws.data_validations.dataValidation if dv.type == "custom"]
    formulas += [rule.formula[0] for ws in template for rng in ws.conditional_formatting for rule in rng.rules]
    assert len(formulas) > 50
    for formula in formulas:
        assert len(formula) <= 255, formula
        assert ";" not in formula, formula
        assert not re.search(r"\b(ET|OU|NON|ESTNUM|ARRONDI|SOMMEPROD|NBVAL|SIERREUR|SUPPRESPACE|TEXTE)\(", formula)


def test_amount_columns_carry_the_two_decimal_rule(template: openpyxl.Workbook) -> None:
    """Every amount of every table: the validation and the bad-value mark round to the cent."""
    for spec in layout.TABLE_SHEETS:
        ws = template[spec.name]
        rules, validations = _rules(ws), _validations(ws)
        for col, f in enumerate(spec.fields, start=1):
            if f.kind is Kind.AMOUNT:
                c = f"{get_column_letter(col)}2"
                assert f"ROUND({c},2)={c}" in validations[c].formula1, (spec.name, f.label)
                assert f"ROUND({c},2)={c}" in rules[f"{c}:{c[0]}{INPUT_ROWS + 1}"][0][0], (spec.name, f.label)
                assert (f"{c}>=0" in validations[c].formula1) == (spec.key != "consommation"), (spec.name, f.label)


def test_the_schema_bounds_drive_the_template(monkeypatch: pytest.MonkeyPatch) -> None:
    """The year bounds come from the pandera models (Économies: 2000 to 2100, not the financing years), and a
    check the template cannot draw stops the build instead of going unchecked at input."""
    assert return_writer._schema_bounds("economies", "annee") == return_writer._Bounds(2000, 2100)
    assert return_writer._schema_bounds("consommation", "ae") == return_writer._Bounds()
    assert return_writer._schema_bounds("consommation", "activite").nullable

    class Strange(pa.DataFrameModel):
        ae: Series[float] = pa.Field(notin=[13.0])

    monkeypatch.setitem(schemas.SCHEMAS, "financement", Strange)
    schemas.column_bounds.cache_clear()
    try:
        with pytest.raises(ValueError, match="notin"):
            return_writer._schema_bounds("financement", "ae")
    finally:
        schemas.column_bounds.cache_clear()


def test_formats_widths_protection_and_frozen_header(template: openpyxl.Workbook) -> None:
    for spec in layout.TABLE_SHEETS:
        ws = template[spec.name]
        assert ws.protection.sheet
        assert not ws.protection.password
        assert ws.freeze_panes == "A2"
        for col, f in enumerate(spec.fields, start=1):
            letter = get_column_letter(col)
            header = ws.cell(1, col)
            assert header.protection.locked
            assert header.font.b
            dim = _column(ws, col)
            assert dim.width == pytest.approx(f.width, abs=1)
            assert not dim.protection.locked, f"{spec.name}!{letter} must be an input column"
            if f.kind is Kind.AMOUNT:
                assert dim.number_format == layout.AMOUNT_FORMAT
            if f.kind is Kind.DATE:
                assert dim.number_format == layout.DATE_FORMAT
            if f.kind is Kind.EJ:
                assert dim.number_format == "@"
    ws = template[layout.PROJET.name]
    assert ws.protection.sheet
    assert ws.freeze_panes == "A2"
    for row, f in enumerate(layout.PROJET.fields, start=2):
        assert ws.cell(row, 1).protection.locked
        assert not ws.cell(row, 2).protection.locked
        if f.kind is Kind.DATE:
            assert ws.cell(row, 2).number_format == layout.DATE_FORMAT


def test_every_sheet_is_protected_without_a_password(template: openpyxl.Workbook) -> None:
    for name in SHEET_ORDER:
        protection = template[name].protection
        assert protection.sheet, name
        assert not protection.password, name
        assert protection.formatColumns is False, "widths may be changed"  # False: allowed while protected


def test_every_sheet_prints_a4_one_page_wide(template: openpyxl.Workbook) -> None:
    tables = {s.name for s in layout.TABLE_SHEETS}
    for name in SHEET_ORDER[:-1]:  # the Listes sheet is hidden
        ws = template[name]
        setup = ws.page_setup
        assert setup.paperSize == 9, name  # A4
        assert setup.orientation == ("landscape" if name in tables else "portrait"), name
        fit, footer = ws.sheet_properties.pageSetUpPr, ws.oddFooter
        assert fit is not None
        assert fit.fitToPage, name
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), name  # no fitToWidth: OOXML's default, 1
        assert footer is not None
        assert footer.center.text == "Page &P / &N", name
        assert ws.print_title_rows == (None if name == layout.INSTRUCTIONS_SHEET else "$1:$1"), name
    ws = template[layout.INSTRUCTIONS_SHEET]
    widths = [_column(ws, col).width for col in (1, 2, 3)]
    assert sum(widths) <= 105, "about the width of an A4 portrait page at 100 %"
    assert all(c.alignment.wrap_text for row in ws.iter_rows(min_row=2) for c in row
               if isinstance(c.value, str) and len(c.value) > 40), "long texts wrap"


def test_instructions_explain_the_marks_with_their_colours(template: openpyxl.Workbook) -> None:
    ws = template[layout.INSTRUCTIONS_SHEET]
    cells = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert cells["Rouge clair"].fill.fgColor.rgb[-6:] == BAD_FILL.lstrip("#")
    assert cells["Orange clair"].fill.fgColor.rgb[-6:] == MISSING_FILL.lstrip("#")
    text = " ".join(cells)
    for expected in ("deux décimales", "collée", "ligne commencée", "Oui (colonne)"):
        assert expected in text, expected


def test_instructions_are_french_and_cover_the_rules(template: openpyxl.Workbook) -> None:
    text = " ".join(str(c.value) for row in template[layout.INSTRUCTIONS_SHEET].iter_rows() for c in row if c.value)
    for expected in ("situation cumulée", "0349-CDBU-DITP", "03490101B501", "0349-01", "Version", "ftap check",
                     "jj/mm/aaaa", "10 chiffres", "FTAP", "Remplacée", *(s.name for s in layout.SHEETS)):
        assert expected in text, expected


def test_template_is_byte_identical_across_writes(tmp_path: Path) -> None:
    write_template(tmp_path / "a.xlsx")
    write_template(tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


# --- filled returns ----------------------------------------------------------------------------------


def test_return_has_the_template_layout_and_the_values(filled: Path) -> None:
    wb = openpyxl.load_workbook(filled)
    assert wb.sheetnames == SHEET_ORDER
    ws = wb[layout.PROJET.name]
    values = {ws.cell(i, 1).value: ws.cell(i, 2).value for i in range(2, ws.max_row + 1)}
    assert values["Identifiant du projet"] == "AP-2024-07"
    assert values["Date de situation"] == dt.datetime(2025, 6, 30)
    assert values["Version"] == 2
    conso = wb["Consommation"]
    assert [c.value for c in conso[1]] == [f.label for f in layout.CONSOMMATION.fields]
    assert conso.max_row == 3
    ej, exercice, date_ej = conso["A2"], conso["B2"], conso["C2"]
    assert (ej.value, ej.data_type, ej.number_format) == ("0012345678", "s", "@")
    assert (exercice.value, exercice.data_type) == (2024, "n")
    assert (date_ej.value, date_ej.number_format) == (dt.datetime(2024, 3, 1), layout.DATE_FORMAT)
    ae = conso.cell(3, column_index_from_string("L"))
    assert (ae.value, ae.data_type, ae.number_format) == (-5000, "n", layout.AMOUNT_FORMAT)
    assert conso["M2"].value == pytest.approx(80000.25)
    assert conso["N3"].value == "Retrait partiel"
    assert wb["Financement"]["G2"].value == pytest.approx(250000.5)
    assert wb["Indicateurs"]["F2"].value == dt.datetime(2024, 1, 10)
    assert wb.properties.created == dt.datetime(2025, 6, 30), "the creation date is the situation, not the clock"


def test_return_reads_back_through_the_pipeline_reader(filled: Path) -> None:
    parsed = parse_return(read_workbook(filled), filled.name, "0" * 64)
    assert parsed.findings == ()
    assert parsed.projet.project_id == "AP-2024-07"
    assert parsed.projet.version == 2
    conso = parsed.tables["consommation"].values
    assert list(conso["ej"]) == ["0012345678", "0012345678"]
    assert list(conso["ae"]) == [200000.0, -5000.0]


def test_absent_table_key_omits_the_sheet_and_empty_list_keeps_the_header(tmp_path: Path) -> None:
    path = tmp_path / "partial.xlsx"
    write_return(path, _projet(), {"consommation": [], "financement": _tables()["financement"]})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [layout.INSTRUCTIONS_SHEET, "Projet", "Financement", "Consommation", layout.LISTS_SHEET]
    assert wb["Consommation"].max_row == 1
    assert [c.value for c in wb["Consommation"][1]] == [f.label for f in layout.CONSOMMATION.fields]


def test_values_keep_their_python_type(tmp_path: Path) -> None:
    """Faulty returns are built with raw values: a text in an amount stays a text, a 9-digit EJ stays as typed."""
    path = tmp_path / "faulty.xlsx"
    line = {**_tables()["consommation"][0], "ej": "123456789", "ae": "1 200,50 €", "exercice": "2024"}
    write_return(path, _projet(), {"consommation": [line]})
    ws = openpyxl.load_workbook(path)["Consommation"]
    assert (ws["A2"].value, ws["A2"].data_type) == ("123456789", "s")
    assert (ws["L2"].value, ws["L2"].data_type) == ("1 200,50 €", "s")
    assert ws["B2"].value == "2024"


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown table"):
        write_return(tmp_path / "x.xlsx", _projet(), {"depenses": []})
    with pytest.raises(ValueError, match="unknown Projet"):
        write_return(tmp_path / "x.xlsx", {**_projet(), "budget": 1}, {})
    with pytest.raises(ValueError, match="unknown Consommation"):
        write_return(tmp_path / "x.xlsx", _projet(), {"consommation": [{"montant": 1}]})
