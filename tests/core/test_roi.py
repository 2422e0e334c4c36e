"""ROI at three years (contrat.md): one window, official and total-cost ratios, realised and forecast."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ftap_pipeline.core.roi import NOT_COMPUTABLE, TOO_RECENT, Ratio, portfolio_ratio, project_roi, window_over

ECO = pd.DataFrame([
    {"annee": 2024, "statut": "Réalisée", "perenne": "Oui", "montant": 999.0},  # year of the end: not counted
    {"annee": 2025, "statut": "Réalisée", "perenne": "Oui", "montant": 100.0},
    {"annee": 2026, "statut": "Réalisée", "perenne": "Non", "montant": 500.0},  # not perennial
    {"annee": 2027, "statut": "Réalisée", "perenne": "Oui", "montant": 200.0},
    {"annee": 2025, "statut": "Prévisionnelle", "perenne": "Oui", "montant": 400.0},
    {"annee": 2028, "statut": "Réalisée", "perenne": "Oui", "montant": 999.0},  # fourth year: not counted
])
CONS = pd.DataFrame([{"financeur": "FTAP", "cp": 200.0}, {"financeur": "Porteur", "cp": 100.0}])
FIN = pd.DataFrame([{"financeur": "FTAP", "ae": 160.0}, {"financeur": "Co-porteur", "ae": 40.0}])
END = dt.date(2024, 6, 30)


def test_realised_roi_once_the_three_years_are_over() -> None:
    roi = project_roi(END, ECO, FIN, CONS, dt.date(2028, 1, 1))
    assert (roi.realised_ftap.value, roi.realised_total.value) == (1.5, 1.0)
    # The forecast divides by the planned AE (Financement), not by the CP paid so far.
    assert (roi.forecast_ftap.value, roi.forecast_total.value) == (2.5, 2.0)


def test_the_window_is_over_only_after_its_last_31_december() -> None:
    assert not window_over(END, dt.date(2027, 12, 31))
    assert window_over(END, dt.date(2028, 1, 1))
    roi = project_roi(END, ECO, FIN, CONS, dt.date(2027, 12, 31))
    assert (roi.realised_ftap.shown, roi.realised_total.shown) == (TOO_RECENT, TOO_RECENT)
    assert roi.forecast_ftap.shown == 2.5


def test_a_zero_denominator_is_not_computable_never_zero_or_infinite() -> None:
    roi = project_roi(END, ECO, FIN.iloc[0:0], CONS.iloc[0:0], dt.date(2030, 1, 1))
    assert {roi.realised_ftap.shown, roi.forecast_ftap.shown, roi.forecast_total.shown} == {NOT_COMPUTABLE}
    unknown_end = project_roi(None, ECO, FIN, CONS, dt.date(2030, 1, 1))
    assert unknown_end.realised_ftap.shown == NOT_COMPUTABLE


def test_portfolio_sums_numerators_and_denominators_over_existing_ratios() -> None:
    p = portfolio_ratio([Ratio(150.0, 100.0, 1.5), Ratio(30.0, 100.0, 0.3), Ratio(9.0, 0.0, None, NOT_COMPUTABLE)])
    assert (p.value, p.projects) == (0.9, 2)
    assert portfolio_ratio([Ratio(0.0, 5.0, None, TOO_RECENT)]).value is None
