"""The workbook and CSV writers: real tables, typed cells, no formula injection, atomic and reproducible;
print set-up, frozen panes, fitted columns, highlights and native charts."""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ftap_pipeline.core.report_spec import (
    ChartKind,
    ChartSpec,
    ColKind,
    Column,
    Highlight,
    Series,
    SheetSpec,
    TableSpec,
    Tone,
    WorkbookSpec,
    cols,
)
from ftap_pipeline.core.report_spec import ColKind as K
from ftap_pipeline.io.csv_writer import write_csv
from ftap_pipeline.io.excel_writer import page_header, write_workbook
from tests.workbook_compare import charts_by_sheet, differences, print_setup, snapshot

HOSTILE = '=HYPERLINK("http://example.invalid","clic")'
#: xlsxwriter stores a column `w` wide as `w` plus the cell padding (5 px of a 7 px digit, rounded).
PADDING = 0.7109375


def _width(ws: Worksheet, column: int) -> float:
    """A column's width as set: xlsxwriter writes neighbours of the same width as one `<col min max>`."""
    (dim,) = [d for d in ws.column_dimensions.values() if d.min is not None and d.min <= column <= (d.max or d.min)]
    return float(dim.width) - PADDING


def _spec(rows: pd.DataFrame) -> WorkbookSpec:
    table = TableSpec("Essai", cols(("Fournisseur", K.TEXT), ("Montant (€)", K.AMOUNT), ("Date", K.DATE),
                                    ("Taux", K.RATE)), rows, csv="essai.csv")
    return WorkbookSpec("Essai", (SheetSpec("Feuille", tables=(table,)),), created=dt.date(2025, 6, 30))


ROWS = pd.DataFrame({"Fournisseur": [HOSTILE, "+33 1 00", None], "Montant (€)": [1234.5, float("nan"), -2.0],
                     "Date": [dt.date(2025, 6, 30), None, pd.Timestamp("2024-01-02")], "Taux": [0.5, None, 1.25]})

YEARS = pd.DataFrame({"Année": [2023, 2024, 2025], "AE engagées (€)": [1.0e6, 2.5e6, 0.5e6],
                      "CP payés (€)": [0.8e6, 2.0e6, 0.2e6], "Enveloppe AE (€)": [3.0e6, 3.0e6, 3.5e6]})
YEAR_COLUMNS = cols(("Année", K.INT, 8), ("AE engagées (€)", K.AMOUNT), ("CP payés (€)", K.AMOUNT),
                    ("Enveloppe AE (€)", K.AMOUNT))
CONSUMPTION = ChartSpec("Consommation face à l'enveloppe", "Suivi", "Année",
                        (Series("AE engagées (€)"), Series("CP payés (€)"), Series("Enveloppe AE (€)", ChartKind.LINE)),
                        y_title="Montant (€)")
FACTS = (("Période", "2025-T2", K.TEXT), ("AE engagées (€)", 4.0e6, K.AMOUNT), ("Remontées", 12, K.INT))


def _report(charts: tuple[ChartSpec, ...] = (CONSUMPTION,), title: str = "Suivi FTAP — 2025-T2") -> WorkbookSpec:
    """A Synthèse on one page with charts drawn from a table of another sheet, and that sheet."""
    synthese = SheetSpec("Synthèse", facts=FACTS, intro="Arrêté au 30/06/2025.", charts=charts, one_page=True)
    suivi = SheetSpec("Suivi AE-CP", intro="Par année.", facts=(("Année en cours", 2025, K.INT),),
                      tables=(TableSpec("Suivi", YEAR_COLUMNS, YEARS, title="Consommation par année"),))
    return WorkbookSpec(title, (synthese, suivi), header=title, created=dt.date(2025, 6, 30),
                        subject="Suivi AE/CP")


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


def test_reproducible_bytes_and_document_properties(tmp_path: Path) -> None:
    write_workbook(_spec(ROWS), tmp_path / "a.xlsx")
    write_workbook(_spec(ROWS), tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    write_workbook(_report(), tmp_path / "c.xlsx")
    write_workbook(_report(), tmp_path / "d.xlsx")
    assert (tmp_path / "c.xlsx").read_bytes() == (tmp_path / "d.xlsx").read_bytes()
    props = openpyxl.load_workbook(tmp_path / "c.xlsx").properties
    assert (props.creator, props.title, props.subject) == ("DITP", "Suivi FTAP — 2025-T2", "Suivi AE/CP")
    assert props.created == dt.datetime(2025, 6, 30)
    assert not list(tmp_path.glob(".*.tmp"))


def test_csv_neutralises_formulas_and_keeps_numbers_machine_readable(tmp_path: Path) -> None:
    table = _spec(ROWS).tables()[0]
    write_csv(table, tmp_path / "essai.csv")
    lines = (tmp_path / "essai.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Fournisseur,Montant (€),Date,Taux"
    assert lines[1] == "\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"clic\"\")\",1234.50,2025-06-30,0.5"
    assert lines[2] == "'+33 1 00,,,"
    assert lines[3] == ",-2.00,2024-01-02,1.25"


# --- print and display ----------------------------------------------------------------------------------------

def test_every_sheet_prints_a4_landscape_one_page_wide_with_title_and_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "suivi.xlsx"
    write_workbook(_report(), path)
    wb = openpyxl.load_workbook(path)
    setups = {ws.title: print_setup(ws) for ws in wb.worksheets}
    common = {"orientation": "landscape", "paper": 9, "fit to page": True, "pages wide": 1, "title columns": None,
              "header": ("Suivi FTAP — 2025-T2", None, "&A"), "footer": (None, "Page &P / &N", None)}
    # The Synthèse on one page; other sheets one page wide, as many pages long as they need.
    assert setups == {"Synthèse": {**common, "pages tall": 1, "title rows": None},
                      "Suivi AE-CP": {**common, "pages tall": 0, "title rows": "$1:$7"}}
    assert all(ws.page_margins.left == pytest.approx(0.4) for ws in wb.worksheets)


def test_print_titles_and_frozen_panes_end_at_the_first_table_header(tmp_path: Path) -> None:
    spec = _report()
    other = SheetSpec("Essai", tables=(TableSpec("Essai", cols("Fournisseur"), ROWS[["Fournisseur"]]),))
    one_page = SheetSpec("Une page", tables=(TableSpec("Court", cols("Fournisseur"), ROWS[["Fournisseur"]]),),
                         one_page=True)
    path = tmp_path / "suivi.xlsx"
    write_workbook(WorkbookSpec(spec.title, (*spec.sheets, other, one_page)), path)
    wb = openpyxl.load_workbook(path)
    # Suivi AE-CP: title, intro, blank, one fact, blank, the table's title, then its header on row 7.
    ws = wb["Suivi AE-CP"]
    assert ws.tables["Suivi"].ref == "A7:D10"
    assert ws.print_title_rows == "$1:$7"
    assert ws.freeze_panes == "A8"
    assert (wb["Essai"].print_title_rows, wb["Essai"].freeze_panes) == ("$1:$3", "A4")
    # A sheet without a table repeats nothing; a one-page sheet does not freeze.
    assert (wb["Synthèse"].print_title_rows, wb["Synthèse"].freeze_panes) == (None, None)
    assert (wb["Une page"].print_title_rows, wb["Une page"].freeze_panes) == ("$1:$3", None)


@pytest.mark.parametrize(("title", "left"), [
    ("Retour — R&D — 2025-T2", "Retour — R&&D — 2025-T2"),
    ("A&B &P &N &12 &\"Arial\" &&", "A&&B &&P &&N &&12 &&\"Arial\" &&&&"),
    # xlsxwriter would take `&G` / `&[Picture]` for image placeholders and drop the whole header.
    ("AT&G &[Picture]", "AT&&\u200bG &&\u200b[Picture]"),
    ("ligne\nsuivante\t!", "ligne suivante !"),
])
def test_header_text_cannot_inject_header_codes(tmp_path: Path, title: str, left: str) -> None:
    path = tmp_path / "titre.xlsx"
    write_workbook(WorkbookSpec(title, _report().sheets, header=title), path)
    with zipfile.ZipFile(path) as zf:
        raw = re.search(r"<oddHeader>(.*)</oddHeader>", zf.read("xl/worksheets/sheet1.xml").decode())
    assert raw is not None
    header = html.unescape(raw.group(1))
    assert header == f"&L{left}&R&A"
    # Once each `&&` (a literal `&`) is set aside, the only codes left are the sections' and the sheet name's.
    assert re.findall(r"&(.)", header.replace("&&", "")) == ["L", "R", "A"]


def test_a_title_with_an_ampersand_prints_it(tmp_path: Path) -> None:
    path = tmp_path / "titre.xlsx"
    write_workbook(WorkbookSpec("R&D", _report().sheets, header="Suivi R&D — 2025-T2"), path)
    assert print_setup(openpyxl.load_workbook(path)["Suivi AE-CP"])["header"][0] == "Suivi R&&D — 2025-T2"


def test_a_long_title_is_cut_to_fit_excels_header_limit() -> None:
    header = page_header("&" * 300)
    assert len(header) <= 255
    assert header.startswith("&L&&&&")
    assert header.endswith("…&R&A")


def test_columns_fit_their_header_and_longest_value(tmp_path: Path) -> None:
    prose = "Le coût total déclaré dépasse le plafond du dispositif : justifiez l'écart auprès de la DITP. " * 2
    digest = "a3f5" * 16
    rows = pd.DataFrame({"Id": ["AP-1", "AP-2"], "Montant (€)": [12_345_678.9, 1.0], "Message": [prose, "court"],
                         "SHA-256": [digest, digest], "Commentaire": ["", ""],
                         "Qualité de service améliorée": ["Oui", "Non"]})
    columns = (Column("Id", K.TEXT, 4), Column("Montant (€)", K.AMOUNT, 6), Column("Message", K.TEXT, 20),
               Column("SHA-256", K.TEXT, 20), Column("Commentaire", K.TEXT, 30),
               Column("Qualité de service améliorée", K.TEXT, 6))
    path = tmp_path / "largeurs.xlsx"
    write_workbook(WorkbookSpec("Essai", (SheetSpec("Feuille", tables=(TableSpec("T", columns, rows),)),)), path)
    ws = openpyxl.load_workbook(path)["Feuille"]
    width = {get_column_letter(j): _width(ws, j) for j in range(1, 7)}
    assert 6 <= width["A"] <= 10  # the header with its filter button, not the 4 of the hint
    assert width["B"] >= len("12,345,678.90 €")  # a number too narrow would show ####
    assert width["C"] == pytest.approx(60, abs=0.1)  # capped
    assert width["D"] == pytest.approx(60, abs=0.1)
    assert width["E"] == pytest.approx(30, abs=0.1)  # the hint is a floor
    assert 14 <= width["F"] < len("Qualité de service améliorée")  # its header on two lines
    # Prose wider than the cap wraps and its row grows; a digest does not wrap (no word to break at).
    assert ws["C4"].alignment.wrap_text is True
    assert ws.row_dimensions[4].height >= 45
    assert not ws["D4"].alignment.wrap_text
    assert ws.row_dimensions[5].height is None
    assert ws.row_dimensions[3].height == 30  # the two-line header row
    assert ws["F3"].alignment.wrap_text is True


def test_row_kinds_give_a_row_of_rates_under_amounts_their_format(tmp_path: Path) -> None:
    rows = pd.DataFrame({"Ligne": ["AE", "Taux"], "2025": [1000.0, 0.25]})
    table = TableSpec("T", cols(("Ligne", K.TEXT), ("2025", K.AMOUNT)), rows, row_kinds=((1, K.RATE),))
    path = tmp_path / "taux.xlsx"
    write_workbook(WorkbookSpec("Essai", (SheetSpec("Feuille", tables=(table,)),)), path)
    ws = openpyxl.load_workbook(path)["Feuille"]
    assert (ws["B4"].number_format, ws["B5"].number_format) == ('#,##0.00 "€"', "0.0%")
    assert (ws["A5"].value, ws["A5"].number_format) == ("Taux", "General")


def test_highlights_are_conditional_formats_over_the_data_rows(tmp_path: Path) -> None:
    rows = pd.DataFrame({"Projet": ["AP-1", "AP-2", "AP-3"], "Alerte": ["", "Dépassement", ""],
                         "Statut": ["Concordant", "Écart", 'Non "rapproché"'], "Janv.": ["", "■", "■"]})
    table = TableSpec("Suivi", cols("Projet", "Alerte", "Statut", "Janv."), rows, highlights=(
        Highlight(("Alerte",)),
        Highlight(("Statut",), Tone.WARNING, ("Écart", 'Non "rapproché"')),
        Highlight(("Statut",), Tone.OK, ("Concordant",)),
        Highlight(("Janv.",), Tone.BAR)))
    empty = TableSpec("Vide", cols("Projet", "Alerte"), rows.iloc[0:0][["Projet", "Alerte"]],
                      highlights=(Highlight(("Alerte",)),))
    path = tmp_path / "alertes.xlsx"
    write_workbook(WorkbookSpec("Essai", (SheetSpec("Feuille", tables=(table,)), SheetSpec("Vide", tables=(empty,)))),
                   path)
    assert snapshot(path)["Feuille"]["conditional"] == [
        ("B4:B6", "notContainsBlanks", None, ("LEN(TRIM(B4))>0",), "FFFFC7CE", "FF9C0006"),
        ("C4:C6", "cellIs", "equal", ('"Concordant"',), "FFC6EFCE", "FF006100"),
        ("C4:C6", "cellIs", "equal", ('"Non ""rapproché"""',), "FFFCE4D6", "FF9C5700"),
        ("C4:C6", "cellIs", "equal", ('"Écart"',), "FFFCE4D6", "FF9C5700"),
        ("D4:D6", "notContainsBlanks", None, ("LEN(TRIM(D4))>0",), "FF4472C4", "FF4472C4"),
    ]
    assert snapshot(path)["Vide"]["conditional"] == [
        ("B4", "notContainsBlanks", None, ("LEN(TRIM(B4))>0",), "FFFFC7CE", "FF9C0006")]


def test_a_highlight_on_a_missing_column_is_an_error(tmp_path: Path) -> None:
    table = TableSpec("T", cols("Projet"), pd.DataFrame({"Projet": ["AP-1"]}), highlights=(Highlight(("Alerte",)),))
    with pytest.raises(ValueError, match="Alerte"):
        write_workbook(WorkbookSpec("Essai", (SheetSpec("Feuille", tables=(table,)),)), tmp_path / "x.xlsx")


# --- charts ---------------------------------------------------------------------------------------------------

def _chart_xml(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [zf.read(n).decode() for n in sorted(zf.namelist()) if re.match(r"xl/charts/chart\d+\.xml$", n)]


def test_a_chart_draws_from_a_table_of_another_sheet(tmp_path: Path) -> None:
    path = tmp_path / "graphique.xlsx"
    write_workbook(_report(), path)
    # The table's header is on row 7 of « Suivi AE-CP », its years on rows 8 to 10.
    assert charts_by_sheet(path) == {"Synthèse": [{
        "anchor": "C4", "title": "Consommation face à l'enveloppe", "plots": ["barChart col", "lineChart"],
        "series": [
            ("barChart col", "'Suivi AE-CP'!$B$7", "'Suivi AE-CP'!$A$8:$A$10", "'Suivi AE-CP'!$B$8:$B$10"),
            ("barChart col", "'Suivi AE-CP'!$C$7", "'Suivi AE-CP'!$A$8:$A$10", "'Suivi AE-CP'!$C$8:$C$10"),
            ("lineChart", "'Suivi AE-CP'!$D$7", "'Suivi AE-CP'!$A$8:$A$10", "'Suivi AE-CP'!$D$8:$D$10")]}]}
    (xml,) = _chart_xml(path)
    assert '<c:barDir val="col"/>' in xml
    assert '<c:legendPos val="b"/>' in xml
    assert "<a:t>Montant (€)</a:t>" in xml  # the y axis' title
    assert '<c:pt idx="1"><c:v>2500000</c:v></c:pt>' in xml  # cached values, for readers that do not recompute


def test_charts_sit_right_of_the_facts_and_tables_below_them(tmp_path: Path) -> None:
    line = ChartSpec("Taux", "Local", "Année", (Series("AE engagées (€)"),), kind=ChartKind.LINE)
    column_then_line = ChartSpec("Enveloppe seule", "Suivi", "Année",
                                 (Series("Enveloppe AE (€)", ChartKind.LINE), Series("AE engagées (€)", ChartKind.COLUMN)),
                                 kind=ChartKind.LINE)
    spec = _report(charts=(CONSUMPTION, line, column_then_line))
    synthese = replace(spec.sheets[0], tables=(TableSpec("Local", YEAR_COLUMNS, YEARS),))
    path = tmp_path / "graphiques.xlsx"
    write_workbook(replace(spec, sheets=(synthese, spec.sheets[1])), path)
    charts = charts_by_sheet(path)["Synthèse"]
    assert [c["title"] for c in charts] == ["Consommation face à l'enveloppe", "Taux", "Enveloppe seule"]
    # The facts fill A–B from row 4: the charts start at C4, two side by side, the third below the first.
    assert [c["anchor"] for c in charts] == ["C4", "H4", "C19"]
    assert charts[2]["plots"] == ["lineChart", "barChart col"]  # the chart's own kind first
    with zipfile.ZipFile(path) as zf:
        drawing = zf.read("xl/drawings/drawing1.xml").decode()
    bottom = max(int(r) for r in re.findall(r"<xdr:to><xdr:col>\d+</xdr:col><xdr:colOff>\d+</xdr:colOff>"
                                            r"<xdr:row>(\d+)</xdr:row>", drawing))
    ws = openpyxl.load_workbook(path)["Synthèse"]
    top = ws[ws.tables["Local"].ref.split(":")[0]].row
    assert bottom + 1 < top  # the table starts below the charts, not under them
    assert charts[1]["series"] == [("lineChart", f"Synthèse!$B${top}", f"Synthèse!$A${top + 1}:$A${top + 3}",
                                    f"Synthèse!$B${top + 1}:$B${top + 3}")]
    assert (print_setup(ws)["pages wide"], print_setup(ws)["pages tall"]) == (1, 1)


def test_chart_titles_stay_text(tmp_path: Path) -> None:
    """xlsxwriter reads a title shaped like `Sheet!A1` as a cell reference."""
    path = tmp_path / "titre.xlsx"
    write_workbook(_report(charts=(ChartSpec("Total!A1", "Suivi", "Année", (Series("CP payés (€)"),)),)), path)
    (chart,) = charts_by_sheet(path)["Synthèse"]
    assert chart["title"] == "Total!\u200bA1"


def test_a_chart_of_a_missing_table_or_column_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Inconnue"):
        write_workbook(_report(charts=(ChartSpec("X", "Inconnue", "Année", (Series("CP payés (€)"),)),)),
                       tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match="Taux"):
        write_workbook(_report(charts=(ChartSpec("X", "Suivi", "Année", (Series("Taux"),)),)), tmp_path / "y.xlsx")


# --- golden comparison ----------------------------------------------------------------------------------------

def test_golden_comparison_reports_charts_print_set_up_and_highlights(tmp_path: Path) -> None:
    write_workbook(_report(), tmp_path / "golden.xlsx")
    changed = _report(charts=(ChartSpec(CONSUMPTION.title, "Suivi", "Année", (Series("CP payés (€)"),)),),
                      title="Suivi FTAP — 2025-T3")
    suivi = changed.sheets[1]
    table = replace(suivi.tables[0], highlights=(Highlight(("Année",)),))
    changed = replace(changed, sheets=(changed.sheets[0], replace(suivi, tables=(table,), one_page=True)))
    write_workbook(changed, tmp_path / "actual.xlsx")
    diffs = differences(tmp_path / "actual.xlsx", tmp_path / "golden.xlsx", limit=100)
    assert diffs == [
        "Synthèse charts[0] plots: ['barChart col'] != golden ['barChart col', 'lineChart']",
        "Synthèse charts[0] series: [('barChart col', \"'Suivi AE-CP'!$C$7\", \"'Suivi AE-CP'!$A$8:$A$10\", "
        "\"'Suivi AE-CP'!$C$8:$C$10\")] != golden [('barChart col', \"'Suivi AE-CP'!$B$7\", "
        "\"'Suivi AE-CP'!$A$8:$A$10\", \"'Suivi AE-CP'!$B$8:$B$10\"), ('barChart col', \"'Suivi AE-CP'!$C$7\", "
        "\"'Suivi AE-CP'!$A$8:$A$10\", \"'Suivi AE-CP'!$C$8:$C$10\"), ('lineChart', \"'Suivi AE-CP'!$D$7\", "
        "\"'Suivi AE-CP'!$A$8:$A$10\", \"'Suivi AE-CP'!$D$8:$D$10\")]",
        "Synthèse print header: ('Suivi FTAP — 2025-T3', None, '&A') != golden ('Suivi FTAP — 2025-T2', None, '&A')",
        "Suivi AE-CP print header: ('Suivi FTAP — 2025-T3', None, '&A') != golden ('Suivi FTAP — 2025-T2', None, '&A')",
        "Suivi AE-CP print pages tall: 1 != golden 0",
        "Suivi AE-CP freeze: None != golden 'A8'",
        "Suivi AE-CP conditional[0]: ('A8:A10', 'notContainsBlanks', None, ('LEN(TRIM(A8))>0',), 'FFFFC7CE', "
        "'FF9C0006') not in golden",
    ]
    assert differences(tmp_path / "golden.xlsx", tmp_path / "golden.xlsx") == []


def test_a_table_longer_than_a_sheet_is_cut_and_says_where_the_rest_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Findings past Excel's last row: the workbook is still written, with a note; the CSV keeps every line.
    (The sheet's size is lowered for the test: a million rows would take minutes to write.)"""
    from ftap_pipeline.io import excel_writer
    from ftap_pipeline.io.csv_writer import write_csv

    monkeypatch.setattr(excel_writer, "EXCEL_ROWS", 60)
    table = TableSpec("Anomalies", (Column("N", K.INT, 6),), pd.DataFrame({"N": range(100)}), csv="anomalies.csv")
    excel_writer.write_workbook(WorkbookSpec("Essai", (SheetSpec("Anomalies", tables=(table,)),)), tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["Anomalies"]
    numbers = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, int)]
    notes = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "tronqué" in c.value]
    assert numbers == list(range(len(numbers)))
    assert 40 < len(numbers) < 60
    assert notes == [f"Tableau tronqué : {100 - len(numbers)} ligne(s) de plus ne tiennent pas dans une feuille Excel ; "
                     "la liste complète est dans l'export CSV de ce tableau (fichier donnees/anomalies.csv)."]
    write_csv(table, tmp_path / "anomalies.csv")
    assert len((tmp_path / "anomalies.csv").read_text(encoding="utf-8").splitlines()) == 101


# --- column widths from each distinct value ---------------------------------------------------------------------

_CELL = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.sampled_from([0.0, -0.0, 1.0, 1, True]),
                  st.floats(allow_nan=True, allow_infinity=True, width=32), st.text(max_size=40),
                  st.sampled_from(["Retenue", "Retenue avec anomalies", "AP-2025-01", "mot " * 30]),
                  st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 1, 1)))


def _cells(table: TableSpec) -> list[tuple[int, object, ColKind]]:
    """Every data cell (column, value, kind), a row of `row_kinds` changing its numbers' kind."""
    row_kinds = dict(table.row_kinds)
    cells = []
    for i, values in enumerate(table.frame().itertuples(index=False, name=None)):
        for j, (c, value) in enumerate(zip(table.columns, values, strict=True)):
            numeric = c.kind not in (ColKind.TEXT, ColKind.DATE)
            cells.append((j, value, row_kinds[i] if i in row_kinds and numeric else c.kind))
    return cells


@given(kinds=st.lists(st.sampled_from(list(ColKind)), min_size=1, max_size=4),
       rows=st.lists(st.lists(_CELL, min_size=4, max_size=4), max_size=25),
       special=st.dictionaries(st.integers(0, 24), st.sampled_from(list(ColKind)), max_size=3))
@example(kinds=[ColKind.TEXT], rows=[[1, 0, 0, 0], [1.0, 0, 0, 0]], special={})
@example(kinds=[ColKind.AMOUNT], rows=[[True, 0, 0, 0], [1.0, 0, 0, 0]], special={})
@example(kinds=[ColKind.AMOUNT], rows=[[0.0, 0, 0, 0], [-0.0, 0, 0, 0]], special={})
@example(kinds=[ColKind.AMOUNT], rows=[[0.5, 0, 0, 0], [0.5, 0, 0, 0]], special={1: ColKind.RATE})
def test_column_widths_from_distinct_values_equal_those_measured_cell_by_cell(
        kinds: list[ColKind], rows: list[list[object]], special: dict[int, ColKind]) -> None:
    """The widths are measured once per distinct (value, kind): exactly what measuring every cell gives."""
    from ftap_pipeline.io import excel_writer as ew

    columns = tuple(Column(f"C{j}", kind, width=1) for j, kind in enumerate(kinds))  # the values decide
    frame = pd.DataFrame([r[:len(kinds)] for r in rows], columns=[c.name for c in columns], dtype=object)
    table = TableSpec("T", columns, frame, row_kinds=tuple((i, k) for i, k in special.items() if i < len(rows)))
    sheet = SheetSpec("Feuille", (table,))
    need: dict[int, float] = {}
    prose: set[int] = set()
    for j, c in enumerate(columns):
        need[j] = max(float(c.width), ew._header_widths(c.name)[1])
    for j, value, kind in _cells(table):
        text = ew._rendered(value, kind)
        if text is not None:
            width, wraps = ew._text_fit(text, False)
            need[j] = max(need[j], width)
            if wraps:
                prose.add(j)
    assert ew._column_widths(sheet) == ({j: min(ew.WIDTH_CAP, w) for j, w in need.items()}, frozenset(prose))


_NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0.0, -0.0, 999.995, -0.001, 0.0049, 1e300, -1e300, 123456789.125]))


@given(kind=st.sampled_from([K.AMOUNT, K.INT, K.RATE, K.RATIO, K.DECIMAL]),
       values=st.one_of(st.lists(_NUMBER, max_size=30), st.lists(st.integers(-10**18, 10**18), max_size=30)))
@example(kind=K.AMOUNT, values=[0.0, -0.0])
@example(kind=K.RATE, values=[-0.0004])
@example(kind=K.AMOUNT, values=[1e45, 1.0])
@example(kind=K.RATE, values=[100000.0, 1.797693134862316e+306])  # the largest overflows as a percentage
def test_a_column_of_numbers_is_as_wide_as_measuring_every_value(kind: K, values: list[float]) -> None:
    """A float or integer column is sized from its two widest numbers only: the same widths, and the same
    wrapped columns, as measuring each of them (numbers past the cap measured one by one)."""
    from ftap_pipeline.io import excel_writer as ew

    column = Column("Montant", kind, width=1)
    table = TableSpec("T", (column,), pd.DataFrame({"Montant": values}))
    assert table.rows["Montant"].dtype.kind in "if"
    need = max(1.0, ew._header_widths(column.name)[1])
    prose = set()
    for value in values:
        text = ew._rendered(value, kind)
        if text is not None:
            width, wraps = ew._text_fit(text, False)
            need = max(need, width)
            if wraps:
                prose.add(0)
    assert ew._column_widths(SheetSpec("Feuille", (table,))) == ({0: min(ew.WIDTH_CAP, need)}, frozenset(prose))


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date")  # a huge number under a date format, read back
@given(cells=st.lists(st.tuples(_CELL, st.sampled_from(list(ColKind))), min_size=1, max_size=20))
@example(cells=[(float("nan"), K.AMOUNT), ("", K.TEXT), (1.5, K.TEXT), (2.0, K.DATE), ("\x07x", K.INT)])
def test_the_writers_shortcuts_write_what_the_general_rules_write(cells: list[tuple[object, ColKind]]) -> None:
    """Text and floats skip the general rules (a million cells a report): each cell must come out the same,
    value, type and format, as through them."""
    import io

    import xlsxwriter

    from ftap_pipeline.io import excel_writer as ew

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {**ew.WORKBOOK_OPTIONS, "in_memory": True})
    ws = wb.add_worksheet("Feuille")
    formats = ew._Formats(wb)
    for i, (value, kind) in enumerate(cells):
        ew._write_value(ws, i, 0, value, kind, formats.of(kind))
        ew._write_any(ws, i, 1, value, kind, formats.of(kind))
    wb.close()
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["Feuille"]
    for fast, general in sheet.iter_rows(min_row=1, max_row=len(cells), max_col=2):
        assert (fast.value, fast.data_type, fast.number_format) == (general.value, general.data_type,
                                                                     general.number_format)


def test_a_nullable_integer_column_is_written_as_numbers(tmp_path: Path) -> None:
    """Years held as pandas' `Int64` (a missing year is `<NA>`) are numbers in the workbook, not text."""
    years = pd.DataFrame({"Année": pd.array([2023, None, 2025], dtype="Int64")})
    table = TableSpec("Annees", cols(("Année", K.INT, 8)), years)
    write_workbook(WorkbookSpec("Essai", (SheetSpec("Feuille", tables=(table,)),), created=dt.date(2025, 6, 30)),
                   tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["Feuille"]
    assert [ws.cell(row, 1).value for row in (4, 5, 6)] == [2023, None, 2025]
    assert ws["A4"].number_format == "0"


def test_an_infinite_number_is_an_empty_cell(tmp_path: Path) -> None:
    """A sheet cannot hold an infinity (xlsxwriter refuses it): the cell is left empty, as its width is measured."""
    rows = pd.DataFrame({"Taux": [float("inf"), 0.25, float("-inf")], "Libellé": ["a", "b", "c"]})
    table = TableSpec("Taux", cols(("Taux", K.RATE), ("Libellé", K.TEXT)), rows)
    write_workbook(WorkbookSpec("Essai", (SheetSpec("Feuille", tables=(table,)),), created=dt.date(2025, 6, 30)),
                   tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["Feuille"]
    assert [(ws.cell(row, 1).value, ws.cell(row, 2).value) for row in (4, 5, 6)] == [(None, "a"), (0.25, "b"), (None, "c")]
