"""Return on investment at three years (§3), with the one definition of contrat.md.

Window: the three calendar years after the year of `Fin de l'accompagnement`. Numerator: the perennial
savings of the window in the project's standing return (`Réalisée` for the realised ratio, `Prévisionnelle`
for the forecast). Denominators: the FTAP money (the official ratio) and all financers' (the total public
cost the Cour des comptes used) — CP paid for the realised ratio, planned AE (`Financement`) for the
forecast. The same figure serves the §4.3 check on a return, `Portefeuille` and `Indicateurs`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.enums import PREVISIONNELLE, REALISEE

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
    return float(perennial_savings_by_group(economies, _one(economies), [fin], statut)[0])


def forecast_roi(fin: dt.date | None, economies: pd.DataFrame, financement: pd.DataFrame) -> tuple[Ratio, Ratio]:
    """Forecast ratios (FTAP, total cost): forecast perennial savings over the planned AE."""
    return roi_parts([fin], (economies, _one(economies)), (financement, _one(financement)))[0].forecast()


def realised_roi(fin: dt.date | None, economies: pd.DataFrame, consommation: pd.DataFrame,
                 cutoff: dt.date) -> tuple[Ratio, Ratio]:
    """Realised ratios (FTAP, total cost): realised perennial savings over the CP paid, all exercices.

    They exist only once the window is over at the cut-off; before that they are `trop récent`."""
    parts = roi_parts([fin], (economies, _one(economies)), consommation=(consommation, _one(consommation)))[0]
    return parts.realised(cutoff)


def project_roi(fin: dt.date | None, economies: pd.DataFrame, financement: pd.DataFrame,
                consommation: pd.DataFrame, cutoff: dt.date) -> ProjectRoi:
    """The four ratios of one project, from the kept lines of its standing return."""
    return roi_parts([fin], (economies, _one(economies)), (financement, _one(financement)),
                     (consommation, _one(consommation)))[0].project(cutoff)


# --- every return at once ------------------------------------------------------------------------------
#
# The figures of many returns from one pass over all their lines, not a few masks per return. A return is
# a group: each line carries its group's number (`codes`, -1 for a line of none).

Codes = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
#: Lines with the group of each: a sheet's kept lines of every return, and the return of each line.
Grouped = tuple[pd.DataFrame, Codes]

#: Below this many values numpy adds them one after the other; from it on, pairwise by blocks of eight.
_SEQUENTIAL: Final = 8


def group_sums(codes: Codes, groups: int, values: npt.ArrayLike) -> Floats:
    """Σ of the values of each group, bit for bit the float `Series.sum()` of the group's lines gives (NaN
    skipped, 0.0 for no line), so that no figure moves in its last digit for being summed with the others.

    A pandas group-by sums with a compensation that can change the last bits; numpy's own sum of a group's
    values in line order is `Series.sum()`. Small groups (the rule) are added value after value for all
    groups at once, as numpy adds fewer than eight values; a larger group is summed by numpy itself."""
    codes = np.asarray(codes, dtype=np.int64)
    amounts = np.asarray(values, dtype=np.float64)
    order = np.argsort(codes, kind="stable")
    order = order[codes[order] >= 0]
    ordered = amounts[order]
    ordered = np.where(np.isnan(ordered), 0.0, ordered)
    counts = np.bincount(codes[order], minlength=groups)[:groups]
    starts = np.cumsum(counts) - counts
    out = np.zeros(groups, dtype=np.float64)
    small = counts < _SEQUENTIAL
    for k in range(_SEQUENTIAL - 1):
        at = small & (counts > k)
        out[at] += ordered[starts[at] + k]
    for g in np.flatnonzero(~small).tolist():
        out[g] = ordered[starts[g]:starts[g] + counts[g]].sum()
    return out


def group_any(codes: Codes, groups: int, flags: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether any line of each group is flagged."""
    codes = np.asarray(codes, dtype=np.int64)
    hit = codes[np.asarray(flags, dtype=bool) & (codes >= 0)]
    return np.bincount(hit, minlength=groups)[:groups] > 0


def group_codes(keys: Iterable[object], names: Sequence[object]) -> Codes:
    """Each line's group: the position of its key in `names`, -1 when it is not there."""
    position = {name: i for i, name in enumerate(names)}
    return np.fromiter((position.get(k, -1) for k in keys), dtype=np.int64)


def ngroup_codes(ngroup: pd.Series) -> Codes:
    """A group-by's `ngroup()` as group numbers, -1 for a line of no group (a missing key)."""
    return np.asarray(np.nan_to_num(ngroup.to_numpy(dtype=np.float64, na_value=np.nan), nan=-1.0), dtype=np.int64)


def _one(lines: pd.DataFrame) -> Codes:
    """Every line in the one group 0."""
    return np.zeros(len(lines), dtype=np.int64)


@dataclass(frozen=True)
class RoiParts:
    """What the ratios of one return are made of: the perennial savings of its window (forecast and
    realised), the planned AE (`Financement`) and the CP paid (`Consommation`), FTAP then all financers'."""

    fin: dt.date | None
    forecast_savings: float = 0.0
    realised_savings: float = 0.0
    planned: tuple[float, float] = (0.0, 0.0)
    paid: tuple[float, float] = (0.0, 0.0)

    def forecast(self) -> tuple[Ratio, Ratio]:
        """Forecast ratios (FTAP, total cost): forecast perennial savings over the planned AE."""
        return self._ratios(self.forecast_savings, self.planned)

    def realised(self, cutoff: dt.date) -> tuple[Ratio, Ratio]:
        """Realised ratios (FTAP, total cost): realised perennial savings over the CP paid, `trop récent` until
        the window is over at the cut-off."""
        pending = None if window_over(self.fin, cutoff) else TOO_RECENT
        return self._ratios(self.realised_savings, self.paid, pending)

    def project(self, cutoff: dt.date) -> ProjectRoi:
        return ProjectRoi(*self.forecast(), *self.realised(cutoff))

    def _ratios(self, savings: float, denominators: tuple[float, float],
                pending: str | None = None) -> tuple[Ratio, Ratio]:
        """The official and total-cost ratios of one numerator; `pending` says why they do not exist yet."""
        if self.fin is None:
            none = Ratio(0.0, 0.0, None, NOT_COMPUTABLE)
            return none, none
        ftap, every = denominators
        if pending is not None:
            return Ratio(savings, ftap, None, pending), Ratio(savings, every, None, pending)
        return ratio(savings, ftap), ratio(savings, every)


def roi_parts(fins: Sequence[dt.date | None], economies: Grouped, financement: Grouped | None = None,
              consommation: Grouped | None = None) -> list[RoiParts]:
    """The parts of each group's ratios, group `i` ending its accompaniment on `fins[i]`: one pass per sheet."""
    groups = len(fins)
    planned = ftap_and_all_by_group(*financement, groups, "ae") if financement is not None else None
    paid = ftap_and_all_by_group(*consommation, groups, "cp") if consommation is not None else None
    forecast = perennial_savings_by_group(*economies, fins, PREVISIONNELLE)
    realised = perennial_savings_by_group(*economies, fins, REALISEE)
    return [RoiParts(fin, float(forecast[i]), float(realised[i]),
                     (float(planned[0][i]), float(planned[1][i])) if planned is not None else (0.0, 0.0),
                     (float(paid[0][i]), float(paid[1][i])) if paid is not None else (0.0, 0.0))
            for i, fin in enumerate(fins)]


def perennial_savings_by_group(economies: pd.DataFrame, codes: Codes, fins: Sequence[dt.date | None],
                               statut: str) -> Floats:
    """The perennial savings of `statut` in each group's window (none without `Fin de l'accompagnement`)."""
    if economies.empty or not len(fins):
        return np.zeros(len(fins), dtype=np.float64)
    fin_year = np.array([np.nan if fin is None else float(fin.year) for fin in fins], dtype=np.float64)
    codes = np.asarray(codes, dtype=np.int64)
    line_fin = np.where(codes >= 0, fin_year[np.maximum(codes, 0)], np.nan)
    year = economies["annee"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    in_window = np.zeros(len(year), dtype=bool)
    for i in range(1, WINDOW_YEARS + 1):
        in_window |= year == line_fin + i
    counted = in_window & (economies["perenne"] == enums.OUI).to_numpy(dtype=bool) \
        & (economies["statut"] == statut).to_numpy(dtype=bool)
    return group_sums(np.where(counted, codes, -1), len(fins), economies["montant"])


def ftap_and_all_by_group(lines: pd.DataFrame, codes: Codes, groups: int, amount: str) -> tuple[Floats, Floats]:
    """A column summed over each group's FTAP lines, then over all its lines (the two denominators)."""
    if lines.empty:
        return np.zeros(groups, dtype=np.float64), np.zeros(groups, dtype=np.float64)
    ftap = (lines["financeur"] == enums.FTAP).to_numpy(dtype=bool)
    codes = np.asarray(codes, dtype=np.int64)
    return (group_sums(np.where(ftap, codes, -1), groups, lines[amount]),
            group_sums(codes, groups, lines[amount]))


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
