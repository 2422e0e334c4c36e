"""Return on investment at three years (§3), with the one definition of contrat.md.

Window: the three calendar years after the year of `Fin de l'accompagnement`. Numerator: the perennial
savings of the window in the project's standing return (`Réalisée` for the realised ratio, `Prévisionnelle`
for the forecast). Denominators: the FTAP money (the official ratio) and all financers' (the total public
cost the Cour des comptes used) — CP paid for the realised ratio, planned AE (`Financement`) for the
forecast. The same figure serves the §4.3 check on a return, `Portefeuille` and `Indicateurs`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract import enums

TOO_RECENT = "trop récent"
NOT_COMPUTABLE = "non calculable"
WINDOW_YEARS = 3


@dataclass(frozen=True)
class Ratio:
    """One ratio with its parts, so a portfolio can sum numerators and denominators."""

    numerator: float
    denominator: float
    #: None when the ratio does not exist; `note` then says why (`trop récent`, `non calculable`).
    value: float | None
    note: str = ""

    @property
    def shown(self) -> float | str:
        """What a sheet shows: the number, or the text that says why there is none (never 0 or infinite)."""
        return self.value if self.value is not None else self.note


def ratio(numerator: float, denominator: float, note_if_none: str = NOT_COMPUTABLE) -> Ratio:
    if denominator > 0:
        return Ratio(numerator, denominator, numerator / denominator)
    return Ratio(numerator, denominator, None, note_if_none)


@dataclass(frozen=True)
class ProjectRoi:
    forecast_ftap: Ratio
    forecast_total: Ratio
    realised_ftap: Ratio
    realised_total: Ratio


def window(fin: dt.date | None) -> tuple[int, ...] | None:
    """The three calendar years that follow the year the accompaniment ends."""
    return None if fin is None else tuple(fin.year + i for i in range(1, WINDOW_YEARS + 1))


def window_over(fin: dt.date | None, cutoff: dt.date) -> bool:
    """The window is over once the cut-off is after 31 December of its last year."""
    years = window(fin)
    return years is not None and cutoff > dt.date(years[-1], 12, 31)


def perennial_savings(economies: pd.DataFrame, fin: dt.date | None, statut: str) -> float:
    years = window(fin)
    if years is None or economies.empty:
        return 0.0
    rows = economies[(economies["perenne"] == enums.OUI) & economies["annee"].isin(years)
                     & (economies["statut"] == statut)]
    return float(rows["montant"].sum())


def _ftap_and_all(lines: pd.DataFrame, amount: str) -> tuple[float, float]:
    """A column summed over the FTAP lines, then over all financers' (the two denominators)."""
    if lines.empty:
        return 0.0, 0.0
    return float(lines.loc[lines["financeur"] == enums.FTAP, amount].sum()), float(lines[amount].sum())


def _ratios(fin: dt.date | None, savings_of: str, economies: pd.DataFrame, denominators: tuple[float, float],
            pending: str | None = None) -> tuple[Ratio, Ratio]:
    """The official and total-cost ratios of one numerator; `pending` says why they do not exist yet."""
    if fin is None:
        none = Ratio(0.0, 0.0, None, NOT_COMPUTABLE)
        return none, none
    savings = perennial_savings(economies, fin, savings_of)
    ftap, every = denominators
    if pending is not None:
        return Ratio(savings, ftap, None, pending), Ratio(savings, every, None, pending)
    return ratio(savings, ftap), ratio(savings, every)


def forecast_roi(fin: dt.date | None, economies: pd.DataFrame, financement: pd.DataFrame) -> tuple[Ratio, Ratio]:
    """Forecast ratios (FTAP, total cost): forecast perennial savings over the planned AE."""
    return _ratios(fin, enums.PREVISIONNELLE, economies, _ftap_and_all(financement, "ae"))


def realised_roi(fin: dt.date | None, economies: pd.DataFrame, consommation: pd.DataFrame,
                 cutoff: dt.date) -> tuple[Ratio, Ratio]:
    """Realised ratios (FTAP, total cost): realised perennial savings over the CP paid, all exercices.

    They exist only once the window is over at the cut-off; before that they are `trop récent`."""
    pending = None if window_over(fin, cutoff) else TOO_RECENT
    return _ratios(fin, enums.REALISEE, economies, _ftap_and_all(consommation, "cp"), pending)


def project_roi(fin: dt.date | None, economies: pd.DataFrame, financement: pd.DataFrame,
                consommation: pd.DataFrame, cutoff: dt.date) -> ProjectRoi:
    """The four ratios of one project, from the kept lines of its standing return."""
    forecast_ftap, forecast_total = forecast_roi(fin, economies, financement)
    realised_ftap, realised_total = realised_roi(fin, economies, consommation, cutoff)
    return ProjectRoi(forecast_ftap, forecast_total, realised_ftap, realised_total)


@dataclass(frozen=True)
class PortfolioRatio:
    """Σ numerators ÷ Σ denominators over the projects whose ratio exists, and how many they are."""

    value: float | None
    projects: int
    numerator: float
    denominator: float


def portfolio_ratio(ratios: Iterable[Ratio]) -> PortfolioRatio:
    existing = [r for r in ratios if r.value is not None]
    num = sum(r.numerator for r in existing)
    den = sum(r.denominator for r in existing)
    return PortfolioRatio(num / den if den > 0 else None, len(existing), num, den)
