"""Consumption against envelopes and tranches, with hand-computed expectations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import pytest

from ftap_pipeline.contract.columns import FILE
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.suivi import suivi_aecp, suivi_tranches

CUTOFF = dt.date(2026, 6, 30)


def _ref(extra_env: Sequence[dict[str, object]] = ()) -> Referentiel:
    env = [{"date_effet": dt.date(2023, 7, 31), "categorie": "Cadrage", "titre": 3, "annee": y, "financeur": "FTAP",
            "ae": a, "cp": a} for y, a in ((2024, 1000.0), (2025, 1000.0))]
    env += list(extra_env)
    tranches = [{"annee": 2025, "date_decision": dt.date(2025, 2, 1), "ae": 900.0, "cp": 900.0},
                {"annee": 2025, "date_decision": dt.date(2026, 9, 1), "ae": 5.0, "cp": 5.0}]
    return Referentiel(enveloppes=pd.DataFrame(env), tranches=pd.DataFrame(tranches), projets=pd.DataFrame(),
                       comites=pd.DataFrame())


def _declared(lines: list[tuple[str, int, str, int, float, float]], financeur: str = "FTAP") -> pd.DataFrame:
    from ftap_pipeline.core.suivi import _withdrawals

    df = pd.DataFrame([{FILE: "r.xlsx", "ej": ej, "exercice": y, "categorie": c, "titre": t, "financeur": financeur,
                        "ae": ae, "cp": cp} for ej, y, c, t, ae, cp in lines],
                      columns=[FILE, "ej", "exercice", "categorie", "titre", "financeur", "ae", "cp"])
    df["withdrawal"] = _withdrawals(df)
    return df


def _row(df: pd.DataFrame, year: int, cat: str = "Cadrage", titre: int = 3) -> pd.Series:
    return df[(df["annee"] == year) & (df["categorie"] == cat) & (df["titre"] == titre)].iloc[0]


def test_rates_and_an_overrun() -> None:
    declared = _declared([("1", 2024, "Cadrage", 3, 600.0, 100.0), ("2", 2024, "Cadrage", 3, 500.5, 0.0)])
    df = suivi_aecp(declared, _ref(), CUTOFF)
    r = _row(df, 2024)
    assert (r["env_ae"], r["ae"], r["cp"], r["taux_ae"], r["taux_cp"]) == (1000.0, 1100.5, 100.0, 1.1005, 0.1)
    assert r["alerte"] == "Dépassement de l'enveloppe AE"


def test_withdrawal_of_an_earlier_year_is_apart_and_not_netted() -> None:
    declared = _declared([("1", 2024, "Cadrage", 3, 600.0, 100.0), ("1", 2025, "Cadrage", 3, -200.0, 50.0),
                          ("2", 2025, "Cadrage", 3, 300.0, 0.0), ("2", 2025, "Cadrage", 3, -10.0, 0.0)])
    r = _row(suivi_aecp(declared, _ref(), CUTOFF), 2025)
    # EJ 2's -10 is a correction within its own first year: netted. EJ 1's -200 gives back 2024 AE: apart.
    assert (r["ae"], r["retraits"], r["cp"]) == (290.0, -200.0, 50.0)
    assert r["ae_cum"] == pytest.approx(600.0 + 290.0 - 200.0)


def test_ae_without_envelope_and_cp_on_earlier_ae() -> None:
    declared = _declared([("1", 2025, "Cadrage", 3, 800.0, 0.0), ("1", 2026, "Cadrage", 3, 0.0, 700.0),
                          ("3", 2025, "Cadrage", 5, 40.0, 0.0)])
    df = suivi_aecp(declared, _ref(), CUTOFF)
    assert _row(df, 2025, titre=5)["alerte"] == "AE engagées sans enveloppe"
    # 2026 has no envelope, but CP paid on 2025 AE stay within the cumulative envelope (2 000): no alert.
    r = _row(df, 2026)
    assert (r["env_cp"], r["env_cp_cum"], r["cp_cum"], r["alerte"]) == (0.0, 2000.0, 700.0, "")


def test_cp_beyond_cumulative_envelope_and_above_ae() -> None:
    declared = _declared([("1", 2024, "Cadrage", 3, 900.0, 900.0), ("2", 2024, "Cadrage", 3, 100.0, 0.0),
                          ("2", 2026, "Cadrage", 3, 0.0, 1200.0)])
    r = _row(suivi_aecp(declared, _ref(), CUTOFF), 2026)
    assert r["alerte"] == "CP payés au-delà de l'enveloppe cumulée ; CP cumulés supérieurs aux AE cumulées"


def test_avenant_replaces_earlier_rows_from_its_date() -> None:
    avenant = [{"date_effet": dt.date(2025, 3, 15), "categorie": "Cadrage", "titre": 3, "annee": 2025,
                "financeur": "FTAP", "ae": 1500.0, "cp": 1400.0}]
    before = suivi_aecp(_declared([]), _ref(avenant), dt.date(2025, 3, 14))
    after = suivi_aecp(_declared([]), _ref(avenant), dt.date(2025, 3, 15))
    assert _row(before, 2025)["env_ae"] == 1000.0
    assert (_row(after, 2025)["env_ae"], _row(after, 2025)["env_cp"]) == (1500.0, 1400.0)


def test_tranche_in_force_at_the_cutoff() -> None:
    declared = _declared([("1", 2025, "Cadrage", 3, 950.0, 10.0)])
    tr = suivi_tranches(suivi_aecp(declared, _ref(), CUTOFF), _ref(), CUTOFF)
    r = tr[tr["annee"] == 2025].iloc[0]
    assert (r["tranche_ae"], r["ae"], r["alerte"]) == (900.0, 950.0, "Dépassement de la tranche AE")
