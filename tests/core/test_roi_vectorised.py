"""The ROI parts of many returns from one pass over their lines, and the group sums they rest on."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ftap_pipeline.core.roi import (
    NOT_COMPUTABLE,
    TOO_RECENT,
    RoiParts,
    group_any,
    group_codes,
    group_sums,
    project_roi,
    roi_parts,
)
from tests.core.test_roi import CONS, ECO, END, FIN

CUTOFF = dt.date(2028, 1, 1)


def _bits(values: list[float]) -> list[str]:
    return [float(v).hex() for v in values]


def test_group_sums_are_series_sums_bit_for_bit() -> None:
    """Every group size, from none to several hundred lines, with NaN and lines of no group in between."""
    rng = np.random.default_rng(349)
    sizes = [0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 127, 128, 129, 300, *rng.integers(0, 40, size=200).tolist()]
    codes = np.repeat(np.arange(len(sizes)), sizes)
    codes = np.concatenate([codes, np.full(50, -1)])
    rng.shuffle(codes)
    values = rng.standard_normal(len(codes)) * 10.0 ** rng.integers(-2, 8, size=len(codes))
    values[rng.random(len(codes)) < 0.05] = np.nan
    expected = [pd.Series(values[codes == g]).sum() for g in range(len(sizes))]
    assert _bits(group_sums(codes, len(sizes), values).tolist()) == _bits(expected)


def test_group_sums_by_hand() -> None:
    # Sequential, as Series.sum adds three values: 0.1 + 0.2 + 0.3 = 0.6000000000000001, not 0.6.
    codes = np.array([0, 1, 0, -1, 0, 2])
    values = [0.1, 5.0, 0.2, 99.0, 0.3, float("nan")]
    assert group_sums(codes, 4, values).tolist() == [0.1 + 0.2 + 0.3, 5.0, 0.0, 0.0]
    assert group_any(codes, 4, [False, True, False, True, True, False]).tolist() == [True, True, False, False]
    assert group_codes(["b", "a", "z", "b"], ["a", "b"]).tolist() == [1, 0, -1, 1]


def test_parts_of_several_returns_at_once() -> None:
    """Three returns' lines interleaved: each gets what `project_roi` gives it alone."""
    other_eco = pd.DataFrame([
        {"annee": 2026, "statut": "Prévisionnelle", "perenne": "Oui", "montant": 90.0},  # 2026-2028 window
        {"annee": 2025, "statut": "Prévisionnelle", "perenne": "Oui", "montant": 7.0},  # year of the end
        {"annee": 2026, "statut": "Réalisée", "perenne": "Oui", "montant": 30.0},
    ])
    other_fin = pd.DataFrame([{"financeur": "FTAP", "ae": 45.0}, {"financeur": "Porteur", "ae": 45.0}])
    other_cons = pd.DataFrame([{"financeur": "FTAP", "cp": 60.0}])
    fins = [END, dt.date(2025, 3, 31), None]

    def stacked(first: pd.DataFrame, second: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        # Lines of the first and second returns alternate; the third return has the first's lines too.
        frame = pd.concat([first, second, first], ignore_index=True)
        codes = np.array([0] * len(first) + [1] * len(second) + [2] * len(first))
        order = np.argsort(np.arange(len(frame)) % 2, kind="stable")
        return frame.iloc[order].reset_index(drop=True), codes[order]

    parts = roi_parts(fins, stacked(ECO, other_eco), stacked(FIN, other_fin), stacked(CONS, other_cons))
    # ECO in 2025-2027: forecast 400; realised 100 + 200 (the 2026 line is not perennial). FIN 160 FTAP of 200.
    assert parts[0] == RoiParts(END, 400.0, 300.0, (160.0, 200.0), (200.0, 300.0))
    assert parts[1] == RoiParts(dt.date(2025, 3, 31), 90.0, 30.0, (45.0, 90.0), (60.0, 60.0))
    # Without an end of accompaniment there is no window, hence no savings.
    assert parts[2] == RoiParts(None, 0.0, 0.0, (160.0, 200.0), (200.0, 300.0))
    assert parts[0].project(CUTOFF) == project_roi(END, ECO, FIN, CONS, CUTOFF)
    roi = parts[1].project(CUTOFF)
    assert (roi.forecast_ftap.value, roi.forecast_total.value) == (2.0, 1.0)
    assert (roi.realised_ftap.shown, roi.realised_total.shown) == (TOO_RECENT, TOO_RECENT)  # window ends in 2028
    assert parts[1].project(dt.date(2029, 1, 1)).realised_ftap.value == 0.5
    assert parts[2].project(CUTOFF).forecast_ftap.shown == NOT_COMPUTABLE


@pytest.mark.parametrize("empty", ["economies", "financement", "consommation"])
def test_a_return_without_lines_in_a_sheet(empty: str) -> None:
    sheets = {"economies": ECO, "financement": FIN, "consommation": CONS}
    sheets[empty] = sheets[empty].iloc[0:0]
    grouped = {k: (v, np.zeros(len(v), dtype=np.int64)) for k, v in sheets.items()}
    parts = roi_parts([END], grouped["economies"], grouped["financement"], grouped["consommation"])[0]
    assert parts.project(CUTOFF) == project_roi(END, sheets["economies"], sheets["financement"],
                                                 sheets["consommation"], CUTOFF)
