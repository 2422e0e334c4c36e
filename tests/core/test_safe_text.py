"""Input text written out (terminal, CSV, workbook cells) carries no control character or bidi override."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from ftap_pipeline.contract.findings import finding
from ftap_pipeline.core.report_spec import ColKind, TableSpec, cols
from ftap_pipeline.core.safe_text import cell_text, printable
from ftap_pipeline.io.csv_writer import write_csv

HOSTILE = "AP\x1b[31m-2024\x00-01\u202eexe.xlsx\r\n\x0b\x85fin"


def _unsafe(text: str, keep: str = "") -> list[str]:
    return [c for c in text if c not in keep and (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F
                                                  or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069)]


@given(st.text())
def test_printable_leaves_no_control_and_keeps_the_length(text: str) -> None:
    assert _unsafe(printable(text)) == []
    assert len(printable(text)) == len(text)
    assert _unsafe(cell_text(text), keep="\n\t") == []


def test_printable_keeps_ordinary_text() -> None:
    assert printable("DDFiP de l'Hérault — 1 234,56 €") == "DDFiP de l'Hérault — 1 234,56 €"
    assert printable(HOSTILE) == "AP [31m-2024 -01 exe.xlsx    fin"


def test_csv_fields_carry_no_control_character_nor_a_formula(tmp_path: Path) -> None:
    table = TableSpec("T", cols(("Texte", ColKind.TEXT, 10)),
                      pd.DataFrame({"Texte": [HOSTILE, "\t=HYPERLINK(\"http://x\")", "ordinaire"]}))
    write_csv(table, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text(encoding="utf-8")
    assert _unsafe(text, keep="\n") == []
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1:] == [[printable(HOSTILE)], ["' =HYPERLINK(\"http://x\")"], ["ordinaire"]]


def test_ftap_check_shows_no_escape_from_a_value() -> None:
    from ftap_pipeline.check import render_findings

    f = finding("type-error", {"motif": f"« {HOSTILE} » n'est pas un nombre lisible."}, file="r.xlsx",
                sheet="Consommation", cell="Consommation!L2", value=HOSTILE)
    shown = render_findings([f])
    assert _unsafe(shown, keep="\n") == []
    assert "[31m" in shown  # what was typed stays visible, harmless


def test_workbook_cells_carry_no_control_character(tmp_path: Path) -> None:
    import openpyxl

    from ftap_pipeline.core.report_spec import SheetSpec, WorkbookSpec
    from ftap_pipeline.io.excel_writer import write_workbook

    table = TableSpec("T", cols(("Texte", ColKind.TEXT, 10)), pd.DataFrame({"Texte": [HOSTILE, "deux\nlignes"]}))
    write_workbook(WorkbookSpec("Essai", (SheetSpec("Feuille", tables=(table,)),)), tmp_path / "t.xlsx")
    values = [c.value for row in openpyxl.load_workbook(tmp_path / "t.xlsx")["Feuille"].iter_rows() for c in row
              if isinstance(c.value, str)]
    assert cell_text(HOSTILE) in values
    assert "deux\nlignes" in values
    assert all(_unsafe(v, keep="\n\t") == [] for v in values)

