"""The workbook and CSV writers: real tables, typed cells, no formula injection, atomic and reproducible."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd

from ftap_pipeline.core.report_spec import ColKind as K
from ftap_pipeline.core.report_spec import SheetSpec, TableSpec, WorkbookSpec, cols
from ftap_pipeline.io.csv_writer import write_csv
from ftap_pipeline.io.excel_writer import write_workbook

HOSTILE = '=HYPERLINK("http://example.invalid","clic")'


def _spec(rows: pd.DataFrame) -> WorkbookSpec:
    table = TableSpec("Essai", cols(("Fournisseur", K.TEXT), ("Montant (€)", K.AMOUNT), ("Date", K.DATE),
                                    ("Taux", K.RATE)), rows, csv="essai.csv")
    return WorkbookSpec("Essai", (SheetSpec("Feuille", tables=(table,)),), created=dt.date(2025, 6, 30))


ROWS = pd.DataFrame({"Fournisseur": [HOSTILE, "+33 1 00", None], "Montant (€)": [1234.5, float("nan"), -2.0],
                     "Date": [dt.date(2025, 6, 30), None, pd.Timestamp("2024-01-02")], "Taux": [0.5, None, 1.25]})


def test_untrusted_text_stays_text_and_cells_are_typed(tmp_path: Path) -> None:
    path = tmp_path / "essai.xlsx"
    write_workbook(_spec(ROWS), path)
    with zipfile.ZipFile(path) as zf:
        assert "<f>" not in zf.read("xl/worksheets/sheet1.xml").decode()
    ws = openpyxl.load_workbook(path)["Feuille"]
    assert ws.tables["Essai"].ref == "A3:D6"
    assert [c.value for c in ws[4]] == [HOSTILE, 1234.5, dt.datetime(2025, 6, 30), 0.5]
    assert ws["B4"].number_format == '#,##0.00 "€"'
    assert ws["C4"].number_format == "dd/mm/yyyy"
    assert [c.value for c in ws[5]] == ["+33 1 00", None, None, None]
    assert ws["A6"].value is None
    assert ws["C6"].value == dt.datetime(2024, 1, 2)


def test_empty_table_is_still_a_valid_table(tmp_path: Path) -> None:
    path = tmp_path / "vide.xlsx"
    write_workbook(_spec(ROWS.iloc[0:0]), path)
    ws = openpyxl.load_workbook(path)["Feuille"]
    assert ws.tables["Essai"].ref == "A3:D4"


def test_reproducible_bytes_and_document_date(tmp_path: Path) -> None:
    write_workbook(_spec(ROWS), tmp_path / "a.xlsx")
    write_workbook(_spec(ROWS), tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert openpyxl.load_workbook(tmp_path / "a.xlsx").properties.created == dt.datetime(2025, 6, 30)
    assert not list(tmp_path.glob(".*.tmp"))


def test_csv_neutralises_formulas_and_keeps_numbers_machine_readable(tmp_path: Path) -> None:
    table = _spec(ROWS).tables()[0]
    write_csv(table, tmp_path / "essai.csv")
    lines = (tmp_path / "essai.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Fournisseur,Montant (€),Date,Taux"
    assert lines[1] == "\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"clic\"\")\",1234.50,2025-06-30,0.5"
    assert lines[2] == "'+33 1 00,,,"
    assert lines[3] == ",-2.00,2024-01-02,1.25"
