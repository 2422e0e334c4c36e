"""The contract's §2 financing table, three times (secretariat-v1): as signed, in force at the cut-off with
the avenants that changed it, and what was engaged and paid, with its consumption rates.

The three share one layout (the contract's four blocks × three lines, `AE <année>`/`CP <année>`, totals), so
a reader can set them side by side line for line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.referentiel import Referentiel

CONTRACT_YEARS = (2023, 2024, 2025)
TOTAL = "TOTAL"
LINES = (("Total dépenses", None), ("…dont financement porteur ou co-porteur", True), ("…dont financement FTAP", False))
RATE_LINE = "Taux de consommation FTAP (enveloppes en vigueur)"
REALISED_TITRE = 3


@dataclass(frozen=True)
class TableauFinancement:
    signed: pd.DataFrame
    in_force: pd.DataFrame
    realised: pd.DataFrame
    #: Index of the rate rows in `realised` (shown as percentages, not euros).
    rate_rows: tuple[int, ...]
    years: tuple[int, ...]


def _blocks(frame: pd.DataFrame, years: tuple[int, ...]) -> list[dict[str, object]]:
    """The four blocks × three lines of §2, from rows with categorie, annee, porteur (bool), ae, cp."""
    rows: list[dict[str, object]] = []
    for cat in (*enums.CATEGORIES, None):
        part = frame if cat is None else frame[frame["categorie"] == cat]
        label = TOTAL if cat is None else enums.CONTRACT_CATEGORY_LABELS[cat]
        for line, porteur in LINES:
            sub = part if porteur is None else part[part["porteur"] == porteur]
            rows.append({"Catégorie": label, "Ligne": line, **_amounts(sub, years)})
    return rows


def _amounts(sub: pd.DataFrame, years: tuple[int, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    by_year = sub.groupby("annee")[["ae", "cp"]].sum()
    years_in = [int(y) for y in by_year.index]
    ae = dict(zip(years_in, map(float, by_year["ae"]), strict=True)) if not sub.empty else {}
    cp = dict(zip(years_in, map(float, by_year["cp"]), strict=True)) if not sub.empty else {}
    for y in years:
        out[f"AE {y}"] = round(ae.get(y, 0.0), 2)
        out[f"CP {y}"] = round(cp.get(y, 0.0), 2)
    out["AE Total"] = round(float(sub["ae"].sum()), 2) if not sub.empty else 0.0
    out["CP Total"] = round(float(sub["cp"].sum()), 2) if not sub.empty else 0.0
    return out


def _envelopes(env: pd.DataFrame) -> pd.DataFrame:
    return env.assign(porteur=~env["financeur"].eq(enums.FTAP)) if not env.empty else \
        pd.DataFrame(columns=["categorie", "annee", "porteur", "ae", "cp"])


def signed_envelopes(referentiel: Referentiel) -> pd.DataFrame:
    """The envelopes of the earliest `Date d'effet`: the contract as signed, whatever avenants came later."""
    env = referentiel.enveloppes
    if env.empty:
        return env
    signed: pd.DataFrame = env[env["date_effet"] == env["date_effet"].min()].reset_index(drop=True)
    return signed


def avenant_dates(referentiel: Referentiel, cutoff: dt.date) -> list[dt.date]:
    """Every later `Date d'effet` on or before the cut-off: each is an avenant (§8)."""
    env = referentiel.enveloppes
    if env.empty:
        return []
    dates = sorted({d for d in env["date_effet"] if d <= cutoff})
    return dates[1:]


def _avenant_row(referentiel: Referentiel, day: dt.date, years: tuple[int, ...]) -> dict[str, object]:
    """What an avenant changed: the envelopes in force from its date, less those in force the day before."""
    keys = ["categorie", "annee", "financeur"]
    after = referentiel.enveloppes_at(day).groupby(keys)[["ae", "cp"]].sum()
    before = referentiel.enveloppes_at(day - dt.timedelta(days=1)).groupby(keys)[["ae", "cp"]].sum()
    delta = after.sub(before, fill_value=0.0).reset_index()
    changed = delta[(delta["ae"].abs() > 0.005) | (delta["cp"].abs() > 0.005)]
    what = sorted({f"{enums.CONTRACT_CATEGORY_LABELS.get(str(c), str(c))} ({f})"
                   for c, f in zip(changed["categorie"], changed["financeur"], strict=True)})
    return {"Catégorie": f"Avenant du {day:%d/%m/%Y}", "Ligne": " ; ".join(what) or "sans changement de montant",
            **_amounts(changed, years)}


def tableau_financement(declared: pd.DataFrame, referentiel: Referentiel, cutoff: dt.date) -> TableauFinancement:
    """The three tables. `declared` are the kept lines of the standing returns (suivi.declared_lines)."""
    signed = _envelopes(signed_envelopes(referentiel))
    in_force = _envelopes(referentiel.enveloppes_at(cutoff))
    t3 = declared[declared["titre"] == REALISED_TITRE]
    done = pd.DataFrame({"categorie": t3["categorie"], "annee": t3["exercice"],
                         "porteur": ~t3["financeur"].eq(enums.FTAP),
                         # Withdrawals of earlier years' AE are reported apart, never netted (contrat.md).
                         "ae": t3["ae"].where(~t3["withdrawal"].astype(bool), 0.0), "cp": t3["cp"]})
    env_years = {int(y) for y in referentiel.enveloppes["annee"]} if not referentiel.enveloppes.empty else set()
    years = tuple(sorted(env_years | {int(y) for y in done["annee"]} | set(CONTRACT_YEARS)))
    in_force_rows = _blocks(in_force, years)
    in_force_rows += [_avenant_row(referentiel, d, years) for d in avenant_dates(referentiel, cutoff)]
    realised_rows = _blocks(done, years)
    ftap_env = next(r for r in in_force_rows if r["Catégorie"] == TOTAL and r["Ligne"] == LINES[2][0])
    ftap_done = next(r for r in realised_rows if r["Catégorie"] == TOTAL and r["Ligne"] == LINES[2][0])
    rate: dict[str, object] = {"Catégorie": TOTAL, "Ligne": RATE_LINE}
    for col in ftap_env:
        if col.startswith(("AE ", "CP ")):
            env_value, done_value = float(ftap_env[col]), float(ftap_done[col])  # type: ignore[arg-type]
            rate[col] = round(done_value / env_value, 4) if env_value > 0.005 else None
    realised_rows.append(rate)
    return TableauFinancement(signed=pd.DataFrame(_blocks(signed, years)), in_force=pd.DataFrame(in_force_rows),
                              realised=pd.DataFrame(realised_rows), rate_rows=(len(realised_rows) - 1,), years=years)
