"""Ordering of findings, as porteurs read them."""

from __future__ import annotations

from ftap_pipeline.contract.findings import finding
from ftap_pipeline.core.report import finding_sort_key


def test_findings_sorted_by_file_sheet_then_cell_whatever_the_sheet_spelling() -> None:
    found = [finding("type-error", {"motif": "x"}, file="b.xlsx", sheet="Projet", cell="Projet!B2"),
             finding("type-error", {"motif": "x"}, file="a.xlsx", sheet="ECONOMIES", cell="ECONOMIES!A2"),
             finding("type-error", {"motif": "x"}, file="a.xlsx", sheet="consommation", cell="consommation!AA10"),
             finding("type-error", {"motif": "x"}, file="a.xlsx", sheet="consommation", cell="consommation!K9"),
             finding("type-error", {"motif": "x"}, file="a.xlsx", sheet="consommation", cell="consommation!B10"),
             finding("missing-sheet", {"feuille": "Feuil1"}, file="a.xlsx", sheet="Feuil1"),
             finding("file-unreadable", {"motif": "x"}, file="a.xlsx")]
    assert [(f.file, f.cell or f.sheet) for f in sorted(found, key=finding_sort_key)] == [
        ("a.xlsx", ""), ("a.xlsx", "consommation!K9"), ("a.xlsx", "consommation!B10"),
        ("a.xlsx", "consommation!AA10"), ("a.xlsx", "ECONOMIES!A2"), ("a.xlsx", "Feuil1"), ("b.xlsx", "Projet!B2")]
