"""The return workbook writer: the template porteurs fill, and filled returns (remontee-v1)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.dimensions import ColumnDimension
from openpyxl.worksheet.worksheet import Worksheet

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.layout import Field, Kind
from ftap_pipeline.core.normalise import parse_return
from ftap_pipeline.io.return_writer import INPUT_ROWS, write_return, write_template
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


def test_numeric_and_date_validations(template: openpyxl.Workbook) -> None:
    fin = _validations(template["Financement"])
    assert (fin["A2"].type, fin["A2"].operator or "between", fin["A2"].formula1, fin["A2"].formula2) == \
        ("whole", "between", str(enums.ANNEE_MIN), str(enums.ANNEE_MAX))
    assert (fin["F2"].type, fin["F2"].operator, fin["F2"].formula1) == ("decimal", "greaterThanOrEqual", "0")
    conso = _validations(template["Consommation"])
    assert conso["A2"].type == "textLength"
    assert conso["A2"].formula1 == "10"
    assert conso["C2"].type == "date"
    assert conso["L2"].type == "decimal"
    assert float(conso["L2"].formula1) < 0, "a withdrawal is a negative AE"
    projet = _validations(template[layout.PROJET.name])
    assert projet["B5"].type == "date"  # Date de situation
    assert projet["B19"].type == "whole"  # Version
    for dv in [*fin.values(), *conso.values()]:
        assert dv.promptTitle, "every input column explains itself in French"
        assert dv.prompt
        if dv.type not in (None, "none"):
            assert dv.showErrorMessage
            assert dv.error


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
    conso = parsed.tables["consommation"]
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
