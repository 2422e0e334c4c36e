"""The header finder: a row names columns by its text cells; a layout whose labels could read like a number,
a date or a boolean matches those cells too."""

from __future__ import annotations

import datetime as dt

from ftap_pipeline.contract.tables import Pick, TableLayout, find_header

TEXT = TableLayout("Consommation", {"ej": ("N° EJ",), "annee": ("Année",), "montant": ("Montant",)}, min_hits=2,
                   pick=Pick.BEST)
YEARS = TableLayout("Tranches", {"libelle": ("Libellé",), "y2024": ("2024",), "y2025": ("2025",)}, min_hits=3)


def test_a_layout_of_text_labels_looks_only_at_text_cells_and_finds_the_same_header() -> None:
    assert TEXT.text_only
    rows: list[list[object]] = [["Suivi", None, None], [2024, 1234.5, dt.date(2024, 1, 2)], [" n° ej ", "ANNÉE :", "Montant (€)"],
            ["1300000001", 2024.0, 10.0]]
    header = find_header(rows, (TEXT,))
    assert header is not None
    assert (header.row, dict(header.positions)) == (2, {"ej": 0, "annee": 1, "montant": 2})


def test_a_layout_with_labels_that_read_like_numbers_still_matches_number_cells() -> None:
    """A year typed as a number (`2024` from a spreadsheet) names its column: the row qualifies only with it."""
    assert not YEARS.text_only
    header = find_header([["Libellé", 2024, "2025"]], (YEARS,))
    assert header is not None
    assert dict(header.positions) == {"libelle": 0, "y2024": 1, "y2025": 2}
