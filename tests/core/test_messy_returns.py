"""Returns written by other software, the way people really fill them in.

Every workbook here is built with openpyxl (never with the project's own writer), from the values of
`tests/builders.py`. A legal variant must say exactly what the clean return written by `builders.write` says:
same status, same line counts, same FTAP AE/CP to the cent, same typed content. An illegal value must be
refused on its own cell with its own slug, and only its line left out.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.columns import ROW
from ftap_pipeline.contract.layout import Kind
from ftap_pipeline.contract.model import ReturnInput
from ftap_pipeline.core import parsing
from ftap_pipeline.core.assess import Assessment, assess_returns
from ftap_pipeline.io.workbook_reader import read_workbook
from tests import builders as b
from tests.conftest import soffice

Tables = dict[str, list[dict[str, Any]]]
Label = Callable[[str], str]

# --- the values --------------------------------------------------------------------------------------


def cents_tables() -> Tables:
    """`builders.tables()` with cents in the amounts and decimals in the numbers, so that every decimal
    spelling is exercised. Still valid: per EJ, cumulative CP ≤ cumulative AE."""
    tabs = b.tables()
    tabs["financement"][0].update(cp=250000.05)
    tabs["financement"][1].update(cp=299999.99)
    tabs["consommation"][0].update(ae=200000.5, cp=80000.25)
    tabs["consommation"][1].update(cp=100000.1)
    tabs["consommation"][2].update(ae=50000.99, cp=50000.99)
    tabs["economies"][0].update(montant=150000.75, etp=2.5)
    tabs["indicateurs"][0].update(valeur_reference=30.5, valeur_mesuree=12.25)
    return tabs


def fields_of(kinds: tuple[Kind, ...]) -> list[tuple[str, str]]:
    """(sheet key, field key) of every table field of these kinds, from the contract."""
    return [(s.key, f.key) for s in layout.TABLE_SHEETS for f in s.fields if f.kind in kinds]


def map_values(tabs: Tables, kinds: tuple[Kind, ...], fn: Callable[[Any], Any]) -> Tables:
    """Apply `fn` to every non-empty value of the fields of these kinds."""
    wanted = set(fields_of(kinds))
    return {sheet: [{k: (fn(v) if (sheet, k) in wanted and v is not None else v) for k, v in line.items()}
                    for line in lines] for sheet, lines in tabs.items()}


def french(value: float, *, group: str = " ", decimals: str = ",", suffix: str = "", short: bool = False) -> str:
    """`1200000.5` → `1 200 000,50` (or `1.200.000,50`, `1200000,5`, `1200000.5`… according to the options)."""
    text = f"{Decimal(repr(value)).quantize(Decimal('0.01')):,}"  # 1,200,000.50
    whole, frac = text.split(".")
    if decimals == ".":  # the spec's `1200000.5`: no grouping, a dot, no trailing zero
        group, short = "", True
    if short:
        frac = frac.rstrip("0")
    return whole.replace(",", group) + (decimals + frac if frac else "") + suffix


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# --- an openpyxl return --------------------------------------------------------------------------------


def _same(text: str) -> str:
    return text


def _put(ws: Worksheet, row: int, col: int, value: Any) -> None:
    """Write a value as openpyxl types it: str stays str (a leading `=` makes a formula), dates get a date format."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, Serial):
        cell.value = value.number
        cell.number_format = "General"
    else:
        cell.value = value


@dataclass(frozen=True)
class Serial:
    """A date typed as its bare Excel serial number (General format), in the workbook's date system."""

    number: int

    @classmethod
    def of(cls, day: dt.date, *, date1904: bool = False) -> Serial:
        epoch = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
        return cls((day - epoch).days)


def build(proj: dict[str, Any] | None = None, tabs: Tables | None = None, *, label: Label = _same,
          sheet_name: Label = _same, projet_order: list[str] | None = None, origin: str = "A1",
          date1904: bool = False) -> Workbook:
    """A return workbook as another program would write it: `Projet` label in A and value in B from row 2,
    each table's header at `origin` and its lines below. Headers and labels go through `label`, sheet
    names through `sheet_name`."""
    proj = b.projet() if proj is None else proj
    tabs = cents_tables() if tabs is None else tabs
    wb = openpyxl.Workbook()
    if date1904:
        wb.epoch = CALENDAR_MAC_1904
    ws = b.active(wb)
    ws.title = sheet_name(layout.PROJET.name)
    for col, text in enumerate(layout.FORM_HEADERS, start=1):
        ws.cell(row=1, column=col, value=label(text))
    order = projet_order or [f.key for f in layout.PROJET.fields]
    for row, key in enumerate(order, start=2):
        ws.cell(row=row, column=1, value=label(layout.PROJET.field(key).label))
        _put(ws, row, 2, proj.get(key))
    col0, row0 = coordinate_from_string(origin)
    c0 = column_index_from_string(col0)
    for spec in layout.TABLE_SHEETS:
        if spec.key not in tabs:
            continue
        ws = wb.create_sheet(sheet_name(spec.name))
        for j, f in enumerate(spec.fields):
            ws.cell(row=row0, column=c0 + j, value=label(f.label))
        for i, line in enumerate(tabs[spec.key], start=1):
            for j, f in enumerate(spec.fields):
                if line.get(f.key) is not None:
                    _put(ws, row0 + i, c0 + j, line[f.key])
    return wb


def save(wb: Workbook, folder: Path, name: str = "remontee.xlsx") -> Path:
    path = folder / name
    wb.save(path)
    return path


def col_of(sheet_key: str, field_key: str, origin: str = "A1") -> str:
    """Column letter of a table field when the table's header starts at `origin`."""
    spec = layout.SHEETS_BY_KEY[sheet_key]
    index = [f.key for f in spec.fields].index(field_key)
    return get_column_letter(column_index_from_string(coordinate_from_string(origin)[0]) + index)


# --- what a return says ----------------------------------------------------------------------------------


def facts(a: Assessment) -> dict[str, Any]:
    """What must not change between a clean return and a messy one."""
    (r,) = a.records
    cons = a.frames["consommation"]
    ftap = cons[~cons["_rejected"] & (cons["financeur"] == enums.FTAP)]
    return {
        "status": r.status,
        "counts": (r.lines_read, r.lines_kept, r.lines_rejected),
        "ftap_ae_cp": (round(Decimal(repr(float(ftap["ae"].sum()))), 2), round(Decimal(repr(float(ftap["cp"].sum()))), 2)),
        "content": r.content_key,
        "not_information": sorted(f.slug for f in r.findings if f.severity != "Information"),
    }


def information(a: Assessment) -> Counter[str]:
    return Counter(f.slug for f in a.findings if f.severity == "Information")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Counter[str]]:
    """The reference: the same values written by the project's own writer."""
    a = b.assess_files([b.write(tmp_path_factory.mktemp("clean"), "remontee.xlsx", b.projet(), cents_tables())])
    assert a.records[0].status == enums.RETENUE
    assert facts(a)["ftap_ae_cp"] == (Decimal("200000.50"), Decimal("180000.35"))
    return facts(a), information(a)


def assess_inprocess(path: Path) -> Assessment:
    """`assess_files` without the worker processes, for property tests that write many files."""
    item = ReturnInput(path.name, "0" * 64, workbook=read_workbook(path))
    return assess_returns([item], b.referentiel(), dt.date(2025, 6, 30))


# --- legal variants ------------------------------------------------------------------------------------


def amounts_as_text(group: str, decimals: str = ",", suffix: str = "", short: bool = False) -> Callable[[Path], Path]:
    """Every amount and number typed as French text; the currency `suffix` on amounts only."""
    def make(tmp: Path) -> Path:
        tabs = map_values(cents_tables(), (Kind.AMOUNT,),
                          lambda v: french(v, group=group, decimals=decimals, suffix=suffix, short=short))
        tabs = map_values(tabs, (Kind.NUMBER,), lambda v: french(v, group=group, decimals=decimals, short=short))
        return save(build(tabs=tabs), tmp)
    return make


def numbers_as_text(tmp: Path) -> Path:
    """Every number typed as text: years, titres, version, amounts without grouping; the EJ as a number."""
    tabs = map_values(cents_tables(), (Kind.INT, Kind.TITRE, Kind.AMOUNT, Kind.NUMBER), lambda v: str(v))
    tabs = map_values(tabs, (Kind.EJ,), int)
    return save(build(b.projet(version="1"), tabs), tmp)


def spaces_everywhere(tmp: Path) -> Path:
    """Non-breaking and narrow non-breaking spaces in amounts, labels, list values and around values."""
    tabs = map_values(cents_tables(), (Kind.AMOUNT,), lambda v: "\u00a0" + french(v, group="\u202f", suffix="\u00a0€"))
    tabs = map_values(tabs, (Kind.NUMBER,), lambda v: french(v, group="\u00a0") + "\u202f")
    tabs = map_values(tabs, (Kind.CHOICE, Kind.TEXT), lambda v: v.replace(" ", "\u00a0") + "\u202f")
    proj = {k: (v.replace(" ", "\u00a0") if isinstance(v, str) else v) for k, v in b.projet().items()}
    return save(build(proj, tabs, label=lambda s: s.replace(" ", "\u00a0")), tmp)


def _text_dates(fmt: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        tabs = map_values(cents_tables(), (Kind.DATE,), lambda d: d.strftime(fmt))
        proj = {k: (v.strftime(fmt) if isinstance(v, dt.date) else v) for k, v in b.projet().items()}
        return save(build(proj, tabs), tmp)
    return make


def dates_as_datetimes(tmp: Path) -> Path:
    def as_datetime(d: dt.date) -> dt.datetime:
        return dt.datetime.combine(d, dt.time(0, 0))
    tabs = map_values(cents_tables(), (Kind.DATE,), as_datetime)
    proj = {k: (as_datetime(v) if isinstance(v, dt.date) else v) for k, v in b.projet().items()}
    return save(build(proj, tabs), tmp)


def dates_1904(tmp: Path) -> Path:
    """A workbook in the 1904 date system: dates with a date format (openpyxl stores 1904 serials), and the
    `Projet` dates and `Indicateurs` dates as bare 1904 serials in General format."""
    proj = {k: (Serial.of(v, date1904=True) if isinstance(v, dt.date) else v) for k, v in b.projet().items()}
    tabs = cents_tables()
    for line in tabs["indicateurs"]:
        for key in ("date_reference", "date_mesure"):
            line[key] = Serial.of(line[key], date1904=True)
    return save(build(proj, tabs, date1904=True), tmp)


def dates_as_1900_serials(tmp: Path) -> Path:
    tabs = map_values(cents_tables(), (Kind.DATE,), Serial.of)
    proj = {k: (Serial.of(v) if isinstance(v, dt.date) else v) for k, v in b.projet().items()}
    return save(build(proj, tabs), tmp)


def yes_no_cases(tmp: Path) -> Path:
    proj = b.projet(concert_etat="NON", financement_etat="non", numerique="OUI")
    tabs = cents_tables()
    for line, spelling in zip(tabs["economies"], ("oui", "OUI", " Oui "), strict=True):
        line["perenne"] = spelling
    return save(build(proj, tabs), tmp)


_VARIANTS: tuple[Label, ...] = (
    str.upper,
    strip_accents,
    lambda s: "  " + s.replace(" ", "  ") + " ",
    lambda s: s + " :",
    lambda s: strip_accents(s).lower().replace("'", "’") + ":",
    lambda s: s.replace(" ", "\n", 1),  # a header wrapped with Alt+Entrée
)


def varied_label(text: str) -> str:
    """One of the spec's tolerated variants, chosen by the label (stable), with `(EUR)` for `(€)`."""
    return _VARIANTS[sum(map(ord, text)) % len(_VARIANTS)](text.replace("(€)", "(EUR)"))


#: Sheet names cannot hold `:`: case, accents and a trailing space.
_SHEET_VARIANTS: tuple[Label, ...] = (str.upper, str.lower, strip_accents, lambda s: strip_accents(s).upper() + " ")


def labels_and_sheet_names(tmp: Path) -> Path:
    names = {"Projet": "PROJET", "Financement": "financement", "Consommation": "CONSOMMATION",
             "Économies": "ECONOMIES", "Indicateurs": "Indicateurs "}
    wb = build(label=varied_label, sheet_name=names.__getitem__)
    # A header typed with part of it in bold: a rich-text cell, its runs stored apart.
    wb["CONSOMMATION"]["L1"] = CellRichText("AE engagées ", TextBlock(InlineFont(b=True), "(€)"))
    return save(wb, tmp)


def decomposed_unicode(tmp: Path) -> Path:
    """Sheet names, labels and list values in decomposed Unicode (NFD), as some Mac software writes them."""
    def nfd(text: str) -> str:
        return unicodedata.normalize("NFD", text)
    tabs = map_values(cents_tables(), (Kind.CHOICE,), nfd)
    proj = b.projet()
    for key in ("categorie_porteur", "region", "phase"):
        proj[key] = nfd(proj[key])
    return save(build(proj, tabs, label=nfd, sheet_name=nfd), tmp)


def saved_as_xlsm(tmp: Path) -> Path:
    return save(build(), tmp, "remontee.xlsm")


def shuffled_projet(tmp: Path) -> Path:
    order = [f.key for f in layout.PROJET.fields]
    random.Random(2025).shuffle(order)
    return save(build(projet_order=order), tmp)


def extras(tmp: Path) -> Path:
    """An extra column inside `Consommation`, one after `Financement`, an extra `Projet` field, an extra sheet
    with content, an empty extra sheet, and the template's own `Instructions`."""
    wb = build()
    cons = wb["Consommation"]
    cons.insert_cols(5)
    cons["E1"] = "Remarques"
    cons["E3"] = "relance du fournisseur"
    fin = wb["Financement"]
    fin.cell(row=1, column=len(layout.FINANCEMENT.fields) + 1, value="Code interne")
    fin.cell(row=2, column=len(layout.FINANCEMENT.fields) + 1, value="X-12")
    wb["Projet"].append(["Observations", "RAS"])
    wb.create_sheet("Notes")["B2"] = "Rappel : envoyer avant le 15"
    wb.create_sheet("Feuil1")
    wb.create_sheet("Instructions")["A1"] = "Mode d'emploi"
    return save(wb, tmp)


def hidden_sheets(tmp: Path) -> Path:
    wb = build()
    wb["Consommation"].sheet_state = "hidden"
    wb["Indicateurs"].sheet_state = "veryHidden"
    return save(wb, tmp)


def merged_projet(tmp: Path) -> Path:
    """`Projet` with each label merged over A:B and its value in C."""
    wb = build()
    ws = wb["Projet"]
    ws.insert_cols(2)
    for row in range(1, ws.max_row + 1):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    return save(wb, tmp)


def total_rows(tmp: Path) -> Path:
    """A `Total` line typed under `Financement`, a `TOTAL :` under `Consommation` after an empty row, and a
    `Sous-total` under `Économies` whose label sits beside its amount."""
    tabs = cents_tables()
    wb = build(tabs=tabs)
    fin = wb["Financement"]
    fin.append(["Total", None, None, None, None, sum(x["ae"] for x in tabs["financement"]),
                sum(x["cp"] for x in tabs["financement"])])
    cons = wb["Consommation"]
    row = 6  # row 5 left empty
    cons.cell(row=row, column=1, value="TOTAL :")
    cons.cell(row=row, column=12, value=sum(x["ae"] for x in tabs["consommation"]))
    cons.cell(row=row, column=13, value=sum(x["cp"] for x in tabs["consommation"]))
    eco = wb["Économies"]  # the label beside the sum it names, not in the first column
    eco["C6"] = "Sous-total"
    eco["D6"] = sum(x["montant"] for x in tabs["economies"])
    return save(wb, tmp)


def empty_rows(tmp: Path) -> Path:
    """Empty rows in the middle of each table, and trailing rows that are empty, blank text or formatted only."""
    wb = build()
    for spec in layout.TABLE_SHEETS:
        ws = wb[spec.name]
        ws.insert_rows(3, amount=2)
        ws.cell(row=3, column=2, value="   ")
        last = ws.max_row
        ws.cell(row=last + 3, column=1, value="\u00a0")
        ws.cell(row=last + 40, column=3).number_format = "dd/mm/yyyy"
    return save(wb, tmp)


def table_off_a1(tmp: Path) -> Path:
    """Tables whose header starts at C4, under a title line; `Projet` unchanged."""
    wb = build(origin="C4")
    for spec in layout.TABLE_SHEETS:
        wb[spec.name]["A1"] = f"{spec.name} — situation au 30/06/2025"
    return save(wb, tmp)


LEGAL: dict[str, tuple[Callable[[Path], Path], Counter[str]]] = {
    "amounts-space-grouped": (amounts_as_text(" "), Counter()),
    "amounts-with-euro-sign": (amounts_as_text(" ", suffix=" €"), Counter()),
    "amounts-dot-grouped": (amounts_as_text("."), Counter()),
    "amounts-short-comma": (amounts_as_text("", short=True), Counter()),
    "amounts-dot-decimal": (amounts_as_text("", decimals="."), Counter()),
    "amounts-nbsp": (amounts_as_text("\u00a0", suffix="\u00a0€"), Counter()),
    "amounts-narrow-nbsp": (amounts_as_text("\u202f", suffix=" EUR"), Counter()),
    "numbers-as-text": (numbers_as_text, Counter()),
    "nbsp-everywhere": (spaces_everywhere, Counter()),
    "dates-1904": (dates_1904, Counter()),
    "dates-1900-serials": (dates_as_1900_serials, Counter()),
    "dates-dd/mm/yyyy-text": (_text_dates("%d/%m/%Y"), Counter()),
    "dates-iso-text": (_text_dates("%Y-%m-%d"), Counter()),
    "dates-datetimes": (dates_as_datetimes, Counter()),
    "oui-non-case": (yes_no_cases, Counter()),
    "labels-and-sheet-names": (labels_and_sheet_names, Counter()),
    "decomposed-unicode": (decomposed_unicode, Counter()),
    "saved-as-xlsm": (saved_as_xlsm, Counter()),
    "shuffled-projet": (shuffled_projet, Counter()),
    "extra-columns-and-sheets": (extras, Counter({"extra-column": 3, "extra-sheet": 1})),
    "hidden-sheets": (hidden_sheets, Counter()),
    "merged-projet-labels": (merged_projet, Counter()),
    "total-rows": (total_rows, Counter({"total-row": 3})),
    "empty-rows": (empty_rows, Counter()),
    "table-off-a1": (table_off_a1, Counter()),
}


@pytest.mark.parametrize("case", list(LEGAL))
def test_legal_variant_says_what_the_clean_return_says(tmp_path: Path, clean: tuple[dict[str, Any], Counter[str]],
                                                       case: str) -> None:
    make, extra_information = LEGAL[case]
    a = b.assess_files([make(tmp_path)])
    reference, reference_information = clean
    assert facts(a) == reference
    assert information(a) == reference_information + extra_information


def test_total_row_is_said_once_on_its_cell(tmp_path: Path) -> None:
    a = b.assess_files([total_rows(tmp_path)])
    found = sorted(f.cell for f in a.findings if f.slug == "total-row")
    assert found == ["Consommation!A6", "Financement!A4", "Économies!C6"]


def test_finding_cells_follow_the_table_where_it_is(tmp_path: Path) -> None:
    """A table starting at C4: an unreadable amount is reported on its own A1 cell, not on A1-relative guesses."""
    wb = build(origin="C4")
    cell = f"{col_of('consommation', 'ae', 'C4')}6"  # second line
    wb["Consommation"][cell] = "1.200"
    a = b.assess_files([save(wb, tmp_path)])
    assert [(f.slug, f.cell) for f in a.findings if f.severity == "Bloquant"] == [("ambiguous-number",
                                                                                   f"Consommation!{cell}")]
    assert cell == "N6"


# --- formulas with their values (LibreOffice computes and stores them) ---------------------------------

needs_soffice = [pytest.mark.libreoffice,
                 pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")]


def recalculated(wb: Workbook, tmp: Path, fmt: str = "xlsx") -> Path:
    """Save with openpyxl (formulas, no values), then let LibreOffice recalculate and save as `fmt`."""
    from tests.io.test_libreoffice import convert

    source = save(wb, tmp, "formules.xlsx")
    (out,) = convert([source], fmt, tmp / "out")
    return out


def _formula_count(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(zf.read(n).count(b"<f") for n in zf.namelist() if n.startswith("xl/worksheets/"))


def formulas_workbook() -> Workbook:
    """Formulas where people put them: sums and differences for amounts, `DATE()`, text built with `&`,
    and a `Total` line of `SUM()`s."""
    wb = build()
    proj = wb["Projet"]
    row_of = {layout.PROJET.fields[i].key: i + 2 for i in range(len(layout.PROJET.fields))}
    proj.cell(row=row_of["date_situation"], column=2, value="=DATE(2025,6,30)").number_format = "dd/mm/yyyy"
    proj.cell(row=row_of["period"], column=2, value='="2025-T"&(1+1)')
    proj.cell(row=row_of["version"], column=2, value="=2-1")
    cons = wb["Consommation"]
    cons["A2"] = '="13000000"&"01"'
    cons["B2"] = "=2023+1"
    cons["C2"] = "=DATE(2024,3,1)"
    cons["C2"].number_format = "dd/mm/yyyy"
    cons["L2"] = "=100000.25*2"
    cons["M2"] = "=L2-120000.25"
    cons["M3"] = "=100000+0.1"
    cons["A6"] = "Total"
    cons["L6"] = "=SUM(L2:L4)"
    cons["M6"] = "=SUM(M2:M4)"
    fin = wb["Financement"]
    fin["F2"] = "=600000/2"
    fin["G2"] = "=F2-49999.95"
    eco = wb["Économies"]
    eco["D2"] = "=150000+0.75"
    eco["E2"] = "=5/2"
    return wb


@pytest.mark.parametrize("fmt", [pytest.param(f, marks=needs_soffice) for f in ("xlsx", "ods", "xls")])
def test_formulas_with_cached_values_are_read_as_their_values(tmp_path: Path, clean: tuple[dict[str, Any],
                                                              Counter[str]], fmt: str) -> None:
    path = recalculated(formulas_workbook(), tmp_path, fmt)
    if fmt == "xlsx":
        assert _formula_count(path) == 15  # the formulas are still there, with their values
    raw = read_workbook(path)
    assert not any(s.flags for s in raw.sheets)
    a = b.assess_files([path])
    reference, reference_information = clean
    assert facts(a) == reference
    assert information(a) == reference_information + Counter({"total-row": 1})


@pytest.mark.parametrize("fmt", [pytest.param(f, marks=needs_soffice) for f in ("xlsx", "ods", "xls")])
def test_formula_computed_to_an_error_is_refused_on_its_cell(tmp_path: Path, fmt: str) -> None:
    """In a `.xls`, calamine reads an error cell as empty: the reader finds it in the BIFF records."""
    wb = build()
    wb["Consommation"]["M3"] = "=1/0"
    wb["Économies"]["D3"] = "=Z99/0"
    wb["Économies"]["E4"] = "=NA()"  # ETP: an optional column, where an error read as empty would pass unseen
    a = b.assess_files([recalculated(wb, tmp_path, fmt)])
    blocking = sorted((f.slug, f.cell) for f in a.findings if f.severity == "Bloquant")
    assert blocking == [("error-cell", "Consommation!M3"), ("error-cell", "Économies!D3"), ("error-cell", "Économies!E4")]
    assert "#DIV/0!" in next(f.message for f in a.findings if f.cell == "Consommation!M3")
    r = a.records[0]
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.RETENUE_AVEC_ANOMALIES, 9, 6, 3)


# --- illegal values: refused on their cell, only their line left out -----------------------------------


def _cell(sheet: str, ref: str, value: Any, data_type: str | None = None) -> Callable[[Workbook], None]:
    def mutate(wb: Workbook) -> None:
        cell = wb[sheet][ref]
        cell.value = value
        if data_type is not None:
            cell.data_type = data_type
    return mutate


ILLEGAL = [
    ("formula-without-value", _cell("Consommation", "L2", "=1+1"), "Consommation!L2"),
    ("formula-without-value", _cell("Consommation", "D3", '=UPPER("cabinet")'), "Consommation!D3"),
    ("formula-without-value", _cell("Financement", "F3", "=SUM(F2:F2)"), "Financement!F3"),
    ("error-cell", _cell("Financement", "F2", "#DIV/0!", "e"), "Financement!F2"),
    ("error-cell", _cell("Économies", "D3", "#REF!", "e"), "Économies!D3"),
    ("error-cell", _cell("Consommation", "D4", "#REF!", "e"), "Consommation!D4"),
    ("error-cell", _cell("Indicateurs", "E2", "#N/A", "e"), "Indicateurs!E2"),
    ("ambiguous-date", _cell("Consommation", "C4", "03/04/24"), "Consommation!C4"),
    ("ambiguous-date", _cell("Indicateurs", "H2", "31/05/25"), "Indicateurs!H2"),
    ("ambiguous-number", _cell("Consommation", "M4", "1.200"), "Consommation!M4"),
    ("ambiguous-number", _cell("Économies", "E2", "2.500"), "Économies!E2"),
    # An unreadable integer must not turn the other lines' integers into floats, and then into missing values.
    ("type-error", _cell("Consommation", "B2", "deux mille vingt-quatre"), "Consommation!B2"),
    ("ambiguous-number", _cell("Financement", "A3", "2.024"), "Financement!A3"),
    ("not-in-list", _cell("Consommation", "F3", "Titre X"), "Consommation!F3"),
    ("error-cell", _cell("Économies", "A4", "#VALUE!", "e"), "Économies!A4"),
]


@pytest.mark.parametrize(("slug", "mutate", "cell"), ILLEGAL, ids=[f"{s}-{c}" for s, _, c in ILLEGAL])
def test_illegal_value_is_refused_on_its_cell(tmp_path: Path, slug: str, mutate: Callable[[Workbook], None],
                                              cell: str) -> None:
    wb = build()
    mutate(wb)
    a = b.assess_files([save(wb, tmp_path)])
    r = a.records[0]
    assert [(f.slug, f.cell) for f in a.findings if f.severity == "Bloquant"] == [(slug, cell)]
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.RETENUE_AVEC_ANOMALIES, 9, 8, 1)
    assert r.lines_read == r.lines_kept + r.lines_rejected
    sheet, ref = cell.split("!")
    key = next(s.key for s in layout.TABLE_SHEETS if s.name == sheet)
    frame = a.frames[key]
    assert frame.loc[frame["_rejected"], ROW].tolist() == [int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))]


def test_a_last_line_made_only_of_formulas_without_values_is_counted_and_refused(tmp_path: Path) -> None:
    """Nothing in that line has a value for calamine to read; it must not vanish from the count."""
    wb = build()
    cons = wb["Consommation"]
    for col in range(1, len(layout.CONSOMMATION.fields) + 1):
        cons.cell(row=5, column=col, value=f"=Feuil2!{get_column_letter(col)}1")
    a = b.assess_files([save(wb, tmp_path)])
    r = a.records[0]
    blocking = [f for f in a.findings if f.severity == "Bloquant"]
    assert {(f.slug, f.row) for f in blocking} == {("formula-without-value", 5)}
    assert "Consommation!A5" in {f.cell for f in blocking}
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.RETENUE_AVEC_ANOMALIES, 10, 9, 1)


def test_unreadable_blocking_projet_field_rejects_with_the_cell_reason(tmp_path: Path) -> None:
    wb = build()
    wb["Projet"]["B5"] = "=DATE(2025,6,30)"  # Date de situation, never calculated
    wb["Projet"]["B11"] = "#REF!"  # Région: a warning only
    a = b.assess_files([save(wb, tmp_path)])
    r = a.records[0]
    by_cell = {f.cell: f for f in a.findings}
    assert by_cell["Projet!B5"].slug == "invalid-situation-date"
    assert "formule" in by_cell["Projet!B5"].message
    assert by_cell["Projet!B11"].slug == "invalid-project-field"
    assert "#REF!" in by_cell["Projet!B11"].message
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.REJETEE, 9, 0, 9)


# --- properties ----------------------------------------------------------------------------------------

_CURRENCY = st.sampled_from(["", "€", " €", "\u00a0€", " EUR", " euros", " Euros"])
_GROUP = st.sampled_from(["", " ", "\u00a0", "\u202f", "."])
_PAD = st.sampled_from(["", " ", "\u00a0", "  "])


@st.composite
def french_amounts(draw: st.DrawFn) -> tuple[str, Decimal]:
    """An amount with at most two decimals, and one of the ways a French user may type it as text."""
    cents = draw(st.integers(min_value=0, max_value=10**11))
    value = Decimal(cents).scaleb(-2)
    group = draw(_GROUP)
    whole, frac = f"{value:,.2f}".split(".")
    digits = whole.replace(",", "")
    style = draw(st.sampled_from(["comma", "short-comma", "dot-decimal"] if not group else ["comma", "short-comma"]))
    grouped = whole.replace(",", group)
    if style == "comma":
        text = f"{grouped},{frac}"
    elif style == "short-comma":  # `1200000,5`, or no decimals at all
        frac = frac.rstrip("0")
        text = grouped + (f",{frac}" if frac else "")
        if group == "." and not frac and whole.count(",") < 2:
            text = f"{grouped},00"  # `1.200` alone is ambiguous: dot grouping needs decimals or two dots
    else:  # `1200000.5`
        frac = frac.rstrip("0")
        text = digits + (f".{frac}" if frac else "")
    return draw(_PAD) + text + draw(_CURRENCY) + draw(_PAD), value


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spelling=french_amounts())
def test_french_amount_typed_as_text_in_a_cell_reads_as_its_value(spelling: tuple[str, Decimal]) -> None:
    text, value = spelling
    tabs = cents_tables()
    tabs["financement"][1]["ae"] = text  # a co-financing line: no rule ties its amount to another
    with tempfile.TemporaryDirectory() as tmp:
        a = assess_inprocess(save(build(tabs=tabs), Path(tmp)))
    fin = a.frames["financement"]
    assert not fin["_rejected"].any(), [f.message for f in a.findings if f.severity == "Bloquant"]
    assert Decimal(repr(float(fin.loc[fin[ROW] == 3, "ae"].iloc[0]))) == value


_DAY = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(day=_DAY, date1904=st.booleans(), sep=st.sampled_from(["/", ".", "-"]), zero_pad=st.booleans())
def test_every_legal_way_of_writing_a_date_in_a_cell_gives_that_date(day: dt.date, date1904: bool, sep: str,
                                                                     zero_pad: bool) -> None:
    dmy = f"{day.day:02d}{sep}{day.month:02d}{sep}{day.year}" if zero_pad else f"{day.day}{sep}{day.month}{sep}{day.year}"
    forms = [day, dt.datetime.combine(day, dt.time(0, 0)), dmy, day.isoformat(), f" {day.isoformat()}\u00a0"]
    wb = openpyxl.Workbook()
    if date1904:
        wb.epoch = CALENDAR_MAC_1904
    ws = b.active(wb)
    for col, form in enumerate([*forms, Serial.of(day, date1904=date1904)], start=1):
        _put(ws, 1, col, form)
    with tempfile.TemporaryDirectory() as tmp:
        raw = read_workbook(save(wb, Path(tmp)))
    assert raw.date1904 is date1904
    read = [parsing.parse_date(v, date1904=raw.date1904) for v in raw.sheets[0].rows[0]]
    assert read == [day] * (len(forms) + 1)


def spec_label_variant(text: str, rng: random.Random) -> str:
    """A random combination of the variations the spec tolerates, each at most once: case, accents, doubled
    and surrounding spaces (ordinary or non-breaking), a trailing `:`, `(EUR)` for `(€)`, and a typographic
    apostrophe."""
    out = text.replace("(€)", rng.choice(["(€)", "(EUR)", "(eur)", "( € )"]))
    if rng.random() < 0.5:
        out = strip_accents(out)
    out = rng.choice([_same, str.upper, str.lower, str.title])(out)
    out = out.replace(" ", rng.choice([" ", "  ", "\u00a0", " \u202f"]))
    out = out.replace("'", rng.choice(["'", "’"]))
    out += rng.choice(["", ":", " :", " : "])
    return rng.choice(["", " ", "\u00a0"]) + out + rng.choice(["", " ", "  "])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_random_label_and_sheet_name_variants_read_the_same(seed: int) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wb = build(label=lambda s: spec_label_variant(s, rng), sheet_name=lambda s: rng.choice(_SHEET_VARIANTS)(s))
        messy = assess_inprocess(save(wb, folder, "messy.xlsx"))
        reference = assess_inprocess(save(build(), folder, "clean.xlsx"))
    assert facts(messy) == facts(reference)
