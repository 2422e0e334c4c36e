"""ROI at three years (contrat.md), official and total-cost ratios."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ftap_pipeline.core.roi import TOO_RECENT, three_year_roi

ECO = pd.DataFrame([
    {"annee": 2024, "statut": "Réalisée", "perenne": "Oui", "montant": 999.0},  # year of the end: not counted
    {"annee": 2025, "statut": "Réalisée", "perenne": "Oui", "montant": 100.0},
    {"annee": 2026, "statut": "Réalisée", "perenne": "Non", "montant": 500.0},  # not perennial
    {"annee": 2027, "statut": "Réalisée", "perenne": "Oui", "montant": 200.0},
    {"annee": 2025, "statut": "Prévisionnelle", "perenne": "Oui", "montant": 400.0},
    {"annee": 2028, "statut": "Réalisée", "perenne": "Oui", "montant": 999.0},  # fourth year: not counted
])
CONS = pd.DataFrame([{"financeur": "FTAP", "cp": 200.0}, {"financeur": "Porteur", "cp": 100.0}])


def test_realised_roi_once_the_three_years_are_over() -> None:
    roi = three_year_roi(dt.date(2024, 6, 30), ECO, CONS, dt.date(2027, 12, 31))
    assert (roi.official, roi.total_cost, roi.note) == (1.5, 1.0, "")
    assert (roi.forecast_official, roi.forecast_total_cost) == (2.0, 1.3333)


def test_too_recent_shows_the_forecast_only() -> None:
    roi = three_year_roi(dt.date(2024, 6, 30), ECO, CONS, dt.date(2027, 12, 30))
    assert (roi.official, roi.total_cost, roi.note, roi.forecast_official) == (None, None, TOO_RECENT, 2.0)


def test_no_cp_paid_gives_no_ratio() -> None:
    roi = three_year_roi(dt.date(2024, 6, 30), ECO, CONS.iloc[0:0], dt.date(2030, 1, 1))
    assert roi.official is None
