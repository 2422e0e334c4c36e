"""One typed cell must never stop a run: empty dates, numbers past what a 64-bit column or exact decimals carry.

Each such cell is a finding on its own cell, its line is set aside, and the rest of the return stands."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl.workbook.workbook import Workbook

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.columns import ROW
from ftap_pipeline.contract.preflight import MAX_ROWS
from ftap_pipeline.contract.referentiel import P_ANOMALIES_MAX, P_LIGNES_MAX
from ftap_pipeline.core.parsing import display
from tests import builders as b
from tests.core.test_messy_returns import build, needs_soffice, recalculated, save


def _with_line(sheet: str, index: int, **changes: Any) -> dict[str, list[dict[str, Any]]]:
    tabs = b.tables()
    tabs[sheet][index].update(changes)
    return tabs


CASES = [
    ("missing-value", _with_line("consommation", 0, date_ej=None), "Consommation!C2"),
    ("missing-value", _with_line("indicateurs", 0, date_mesure=None), "Indicateurs!H2"),
    ("out-of-range", _with_line("consommation", 0, ae=1e26), "Consommation!L2"),
    ("out-of-range", _with_line("consommation", 0, ae=1e300), "Consommation!L2"),
    ("out-of-range", _with_line("consommation", 0, ae=-1e15), "Consommation!L2"),
    ("out-of-range", _with_line("consommation", 0, exercice=10**20), "Consommation!B2"),
    ("out-of-range", _with_line("consommation", 0, titre=10**20), "Consommation!F2"),
    ("out-of-range", _with_line("economies", 0, annee=10**20), "Économies!A2"),
]


@pytest.mark.parametrize(("slug", "tabs", "cell"), CASES, ids=[f"{c[0]}@{c[2]}" for c in CASES])
def test_a_hostile_cell_is_a_finding_on_its_cell(tmp_path: Path, slug: str, tabs: dict[str, Any], cell: str) -> None:
    a = b.assess_one(tmp_path, tabs=tabs)
    (record,) = a.records
    found = [(f.slug, f.cell) for f in a.findings if f.cell == cell]
    assert (slug, cell) in found, [(f.slug, f.cell, f.message) for f in a.findings]
    assert record.lines_read == record.lines_kept + record.lines_rejected == 9  # nothing lost
    assert record.lines_rejected >= 1
    assert record.status in (enums.RETENUE_AVEC_ANOMALIES, enums.RETENUE)


def test_the_largest_admitted_amount_is_kept_to_the_cent(tmp_path: Path) -> None:
    a = b.assess_one(tmp_path, tabs=_with_line("consommation", 0, ae="999 999 999 999,99"))
    consommation = a.frames.consommation
    assert not any(f.cell == "Consommation!L2" and f.slug == "out-of-range" for f in a.findings)
    assert float(consommation.loc[consommation[ROW] == 2, "ae"].iloc[0]) == 999_999_999_999.99


@pytest.mark.parametrize("value", [None, float("nan"), float("inf"), 1e26])
def test_display_never_fails(value: object) -> None:
    import pandas as pd

    assert isinstance(display(value), str)
    assert display(pd.NaT) == ""
    assert display(1e26) == "1e+26"


@pytest.mark.parametrize("label", ["Totalité des demandes traitées", "TotalEnergies", "Total des délais"])
def test_a_line_that_only_starts_with_total_is_a_line(tmp_path: Path, label: str) -> None:
    a = b.assess_one(tmp_path, tabs=_with_line("indicateurs", 0, indicateur=label))
    (record,) = a.records
    assert record.lines_read == record.lines_kept == 9
    assert not [f for f in a.findings if f.slug == "total-row"]
    assert list(a.frames.indicateurs["indicateur"]) == [label]


def _with_twin(path: Path, *, hidden: bool, first: bool) -> Path:
    """A copy of `Consommation` named `CÔNSOMMATION` (Excel refuses names that differ by case only), its amounts
    doubled, hidden or not, placed first or last."""
    def change(wb: Any) -> None:
        twin = wb.copy_worksheet(wb["Consommation"])
        twin.title = "CÔNSOMMATION"
        for row in twin.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, float):
                    cell.value *= 2
        if hidden:
            twin.sheet_state = "hidden"
        if first:
            wb.move_sheet(twin, offset=-len(wb.sheetnames) + 1)
    b.edit_workbook(path, change)
    return path


@pytest.mark.parametrize("first", [True, False], ids=["twin-first", "twin-last"])
def test_a_hidden_twin_sheet_is_set_aside_and_said(tmp_path: Path, first: bool) -> None:
    (tmp_path / "clean").mkdir()
    clean = b.assess_one(tmp_path / "clean")
    path = _with_twin(b.write(tmp_path, "remontee.xlsx"), hidden=True, first=first)
    a = b.assess_files([path])
    (record,) = a.records
    assert [(f.slug, f.sheet) for f in a.findings if f.slug == "hidden-twin-sheet"] == [("hidden-twin-sheet", "CÔNSOMMATION")]
    assert record.status == clean.records[0].status
    assert a.frames.consommation["ae"].sum() == clean.frames.consommation["ae"].sum()  # the visible sheet's figures


def test_two_visible_twin_sheets_make_the_return_ambiguous(tmp_path: Path) -> None:
    path = _with_twin(b.write(tmp_path, "remontee.xlsx"), hidden=False, first=False)
    a = b.assess_files([path])
    (record,) = a.records
    assert record.status == enums.REJETEE
    (ambiguous,) = [f for f in a.findings if f.slug == "ambiguous-sheet"]
    assert "« Consommation », « CÔNSOMMATION »" in ambiguous.message


# --- a line of error cells, and the caps per return ------------------------------------------------------


@pytest.mark.parametrize("fmt", [pytest.param("xlsx"), *(pytest.param(f, marks=needs_soffice) for f in ("ods", "xls"))])
def test_a_line_made_only_of_error_cells_is_counted_and_refused(tmp_path: Path, fmt: str) -> None:
    """Calamine reads an error cell as empty: a line of them looked blank and vanished from the count."""
    wb = build()
    width = len(layout.CONSOMMATION.fields)
    for col in range(1, width + 1):
        wb["Consommation"].cell(row=4, column=col, value="=1/0")
    path = recalculated(wb, tmp_path, fmt) if fmt != "xlsx" else _errors_in_place(wb, tmp_path, width)
    a = b.assess_files([path])
    (r,) = a.records
    errors = [f for f in a.findings if f.row == 4 and f.sheet == "Consommation"]
    assert {f.slug for f in errors} == {"error-cell"}
    assert len(errors) == width
    assert "#DIV/0!" in errors[0].message
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.RETENUE_AVEC_ANOMALIES, 9, 8, 1)


def _errors_in_place(wb: Workbook, folder: Path, width: int) -> Path:
    """An `.xlsx` with the error cells stored as such (`t="e"`), as Excel saves a formula that failed."""
    for col in range(1, width + 1):
        cell = wb["Consommation"].cell(row=4, column=col)
        cell.value, cell.data_type = "#DIV/0!", "e"
    return save(wb, folder)


def test_a_return_longer_than_the_lines_cap_is_refused_before_its_lines_are_checked(tmp_path: Path) -> None:
    tabs = b.tables()
    tabs["consommation"] += [b.conso(f"13000001{i:02d}", 2024, "pas un montant", 0.0) for i in range(3)]
    ref = b.referentiel(**{P_LIGNES_MAX: 5.0})
    a = b.assess_one(tmp_path, tabs=tabs, ref=ref)
    (r,) = a.records
    assert r.findings[0].slug == "too-many-lines"
    assert r.findings[0].message == ("La feuille « Consommation » compte 6 lignes, au-delà des 5 lignes admises par "
                                     "remontée : la remontée n'est pas contrôlée.")
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.REJETEE, 12, 0, 12)
    # Its lines were not validated one by one: no schema finding, no line in the typed frames.
    assert not [f for f in r.findings if f.slug in ("out-of-range", "missing-value", "not-in-list")]
    assert r.file not in set(a.frames.consommation["_file"])
    # Within the cap, the same return is checked line by line.
    a = b.assess_one(tmp_path, tabs=tabs, ref=b.referentiel(**{P_LIGNES_MAX: 6.0}))
    assert "too-many-lines" not in {f.slug for f in a.findings}
    assert a.records[0].status == enums.RETENUE_AVEC_ANOMALIES


def test_a_sheet_past_the_reader_ceiling_is_refused_not_cut(tmp_path: Path) -> None:
    """100 001 rows: refused from the count of its rows, before calamine builds a cell (the ceiling used to
    cut the sheet at 100 000 rows without a word)."""
    import xlsxwriter

    path = tmp_path / "enorme.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Consommation")
    for i in range(MAX_ROWS + 1):
        ws.write_number(i, 0, i)
    wb.close()
    a = b.assess_files([path])
    (r,) = a.records
    assert [f.slug for f in r.findings] == ["file-too-large"]
    assert r.findings[0].message == ("La feuille « Consommation » compte plus de 100\u202f000 lignes, la limite admise : "
                                     "le fichier n'est pas lu.")
    assert r.status == enums.REJETEE


def test_rows_repeated_past_the_ceiling_are_refused_from_calamine_s_dimensions(tmp_path: Path) -> None:
    """An ODS row repeated 200 000 times is one element in the XML: calamine's dimensions give it away, before
    any cell becomes a Python value."""
    path = tmp_path / "repetee.ods"
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
               '<office:spreadsheet><table:table table:name="Consommation">'
               '<table:table-row table:number-rows-repeated="200000"><table:table-cell office:value-type="float" '
               'office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
               '</table:table></office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry '
                    'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                    '</manifest:manifest>')
    a = b.assess_files([path])
    (r,) = a.records
    assert [f.slug for f in r.findings] == ["file-too-large"]
    assert "compte plus de 100\u202f000 lignes" in r.findings[0].message


def test_past_the_findings_cap_findings_are_counted_not_listed(tmp_path: Path) -> None:
    tabs = b.tables()
    tabs["consommation"] += [b.conso(f"13000001{i:02d}", 2024, "pas un montant", 0.0) for i in range(30)]
    full = b.assess_one(tmp_path, tabs=tabs)
    (everything,) = full.records
    assert len(everything.findings) == 30
    capped = b.assess_one(tmp_path, tabs=tabs, ref=b.referentiel(**{P_ANOMALIES_MAX: 10.0}))
    (r,) = capped.records
    assert [f.slug for f in r.findings] == ["type-error"] * 10 + ["findings-not-listed"]
    assert r.findings[:10] == everything.findings[:10]
    assert r.findings[-1].message == ("20 autres anomalies de cette remontée ne sont pas listées : seules les 10 "
                                      "premières le sont.")
    # The status and the counts are those of all the findings.
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == \
        (everything.status, everything.lines_read, everything.lines_kept, everything.lines_rejected)
    assert capped.as_of(dt.date(2025, 6, 30)).records[0].findings == r.findings


def test_the_findings_that_decide_the_status_are_always_listed(tmp_path: Path) -> None:
    tabs = b.tables()
    tabs["consommation"] += [b.conso(f"13000001{i:02d}", 2024, "pas un montant", 0.0) for i in range(30)]
    a = b.assess_one(tmp_path, b.projet(project_id="AP-2099-99"), tabs, ref=b.referentiel(**{P_ANOMALIES_MAX: 10.0}))
    (r,) = a.records
    assert r.status == enums.REJETEE
    assert "unknown-project" in {f.slug for f in r.findings[:10]}
    assert len(r.findings) == 11


def test_a_personal_template_made_before_the_caps_keeps_its_snapshot() -> None:
    """Templates already sent to porteurs have no row for the two caps: their snapshot still reads, with defaults."""
    from ftap_pipeline.core import snapshot

    rows = snapshot.snapshot_rows(b.referentiel(**{P_LIGNES_MAX: 42.0}), "AP-2024-01", "remontee-v1")
    current = snapshot.from_rows([("", "", ""), *rows])
    assert current is not None
    assert current.referentiel.parameter(P_LIGNES_MAX) == 42.0
    older = [r for r in rows if r[1] not in (P_LIGNES_MAX, P_ANOMALIES_MAX)]
    old = snapshot.from_rows([("", "", ""), *older])
    assert old is not None
    assert (old.referentiel.parameter(P_LIGNES_MAX), old.referentiel.parameter(P_ANOMALIES_MAX)) == (5000.0, 500.0)
