"""Return on investment at three years (§3), as contrat.md defines it.

Realised perennial savings of the three calendar years after the end of the accompaniment, over the CP
paid: FTAP CP only (the official ratio) and all CP (FTAP and co-financing, the total public cost the
Cour des comptes used). Until those three years are over the realised figure is "trop récent", and the
same formula on the forecast savings is shown instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract import enums

TOO_RECENT = "trop récent"


@dataclass(frozen=True)
class Roi:
    official: float | None = None
    total_cost: float | None = None
    forecast_official: float | None = None
    forecast_total_cost: float | None = None
    note: str = ""


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den > 0 else None


def three_year_roi(fin: dt.date | None, economies: pd.DataFrame, consommation: pd.DataFrame, cutoff: dt.date) -> Roi:
    """ROI of one project from the kept lines of its standing return."""
    if fin is None:
        return Roi(note="fin de l'accompagnement inconnue")
    years = [fin.year + 1, fin.year + 2, fin.year + 3]
    perennial = economies[(economies["perenne"] == enums.OUI) & economies["annee"].isin(years)]
    realised = float(perennial[perennial["statut"] == enums.REALISEE]["montant"].sum())
    forecast = float(perennial[perennial["statut"] == enums.PREVISIONNELLE]["montant"].sum())
    cp_ftap = float(consommation[consommation["financeur"] == enums.FTAP]["cp"].sum())
    cp_all = float(consommation["cp"].sum())
    forecast_official, forecast_total = _ratio(forecast, cp_ftap), _ratio(forecast, cp_all)
    if cutoff < dt.date(years[-1], 12, 31):
        return Roi(note=TOO_RECENT, forecast_official=forecast_official, forecast_total_cost=forecast_total)
    return Roi(official=_ratio(realised, cp_ftap), total_cost=_ratio(realised, cp_all),
               forecast_official=forecast_official, forecast_total_cost=forecast_total)
