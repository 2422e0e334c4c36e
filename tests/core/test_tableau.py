"""The §2 table three times: as signed, in force with its avenants, and realised (secretariat-v1)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.tableau import RATE_LINE, tableau_financement
from tests.core.test_suivi import _declared

SIGNED, AVENANT = dt.date(2023, 7, 31), dt.date(2025, 1, 15)
CUTOFF = dt.date(2025, 6, 30)


def _ref(avenant_on: dt.date = AVENANT) -> Referentiel:
    env = [{"date_effet": SIGNED, "categorie": c, "titre": 3, "annee": y, "financeur": "FTAP", "ae": a, "cp": a}
           for c, a in (("Cadrage", 100.0), ("Généralisation", 300.0)) for y in (2023, 2024, 2025)]
    # The avenant raises Généralisation 2025 from 300 to 450.
    env.append({"date_effet": avenant_on, "categorie": "Généralisation", "titre": 3, "annee": 2025,
                "financeur": "FTAP", "ae": 450.0, "cp": 450.0})
    return Referentiel(enveloppes=pd.DataFrame(env), tranches=pd.DataFrame(), projets=pd.DataFrame(),
                       comites=pd.DataFrame())


def _by_line(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(["Catégorie", "Ligne"])


def test_the_signed_table_keeps_the_contract_whatever_the_avenants() -> None:
    tab = tableau_financement(_declared([]), _ref(), CUTOFF)
    signed = _by_line(tab.signed)
    assert signed.loc[("GENERALISATION/LOT2", "…dont financement FTAP"), "AE 2025"] == 300.0
    assert signed.loc[("TOTAL", "Total dépenses"), "AE Total"] == 1200.0
    assert signed.loc[("TOTAL", "…dont financement porteur ou co-porteur"), "CP Total"] == 0.0
    assert list(tab.signed["Catégorie"].unique()) == ["CADRAGE", "EXPERIMENTATION/POC/LOT1", "GENERALISATION/LOT2",
                                                      "TOTAL"]
    assert list(tab.signed.columns[2:]) == ["AE 2023", "CP 2023", "AE 2024", "CP 2024", "AE 2025", "CP 2025",
                                            "AE Total", "CP Total"]


def test_the_table_in_force_and_one_line_per_avenant() -> None:
    tab = tableau_financement(_declared([]), _ref(), CUTOFF)
    in_force = tab.in_force
    assert _by_line(in_force.iloc[:12]).loc[("TOTAL", "Total dépenses"), "AE Total"] == 1350.0
    avenant = in_force.iloc[12]
    assert avenant["Catégorie"] == "Avenant du 15/01/2025"
    assert avenant["Ligne"] == "GENERALISATION/LOT2 (FTAP)"
    assert (avenant["AE 2025"], avenant["CP 2025"], avenant["AE 2024"], avenant["AE Total"]) == (150.0, 150.0, 0.0, 150.0)


def test_an_avenant_after_the_cutoff_is_not_in_force() -> None:
    tab = tableau_financement(_declared([]), _ref(avenant_on=dt.date(2025, 9, 1)), CUTOFF)
    assert len(tab.in_force) == 12
    assert _by_line(tab.in_force).loc[("TOTAL", "Total dépenses"), "AE Total"] == 1200.0


def test_realised_on_titre_3_with_rates_against_the_envelopes_in_force() -> None:
    declared = pd.concat([
        _declared([("1", 2025, "Généralisation", 3, 225.0, 90.0), ("2", 2025, "Cadrage", 5, 999.0, 999.0)]),
        _declared([("9", 2025, "Généralisation", 3, 50.0, 10.0)], financeur="Porteur"),
    ], ignore_index=True)
    tab = tableau_financement(declared, _ref(), CUTOFF)
    done = _by_line(tab.realised)
    assert done.loc[("GENERALISATION/LOT2", "…dont financement FTAP"), "AE 2025"] == 225.0
    assert done.loc[("GENERALISATION/LOT2", "…dont financement porteur ou co-porteur"), "AE 2025"] == 50.0
    assert done.loc[("TOTAL", "Total dépenses"), "CP 2025"] == 100.0  # titre 5 is left to Suivi AE-CP
    rate = tab.realised.iloc[-1]
    assert (tab.rate_rows, rate["Ligne"]) == ((len(tab.realised) - 1,), RATE_LINE)
    assert rate["AE 2025"] == round(225.0 / 550.0, 4)  # FTAP engaged ÷ FTAP envelope in force (100 + 450)
    assert rate["AE 2024"] == 0.0


def test_withdrawals_are_not_netted_in_the_realised_table() -> None:
    declared = _declared([("1", 2024, "Cadrage", 3, 100.0, 10.0), ("1", 2025, "Cadrage", 3, -40.0, 0.0)])
    done = _by_line(tableau_financement(declared, _ref(), CUTOFF).realised)
    assert (done.loc[("CADRAGE", "…dont financement FTAP"), "AE 2024"],
            done.loc[("CADRAGE", "…dont financement FTAP"), "AE 2025"]) == (100.0, 0.0)
