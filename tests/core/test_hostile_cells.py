"""One typed cell must never stop a run: empty dates, numbers past what a 64-bit column or exact decimals carry.

Each such cell is a finding on its own cell, its line is set aside, and the rest of the return stands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.columns import ROW
from ftap_pipeline.core.parsing import display
from tests import builders as b


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
