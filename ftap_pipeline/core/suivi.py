"""AE/CP consumption on programme 349 against the contract's envelopes and the decided tranches.

Declared figures are the FTAP lines of each project's standing return, by the lines' `Exercice`.
Withdrawals of AE engaged in an earlier year are reported apart, never netted (contrat.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
from pandera.typing import DataFrame

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.columns import FILE, REJECTED
from ftap_pipeline.contract.enums import NON_DECLARE
from ftap_pipeline.contract.model import ReturnRecord
from ftap_pipeline.contract.referentiel import Nomenclature, Referentiel
from ftap_pipeline.contract.schemas import ConsommationSchema
from ftap_pipeline.core.imputation import mismatches

EPS = 0.005
#: The contract is the financing decision of its first year (§6).
CONTRACT_DECISION_YEAR = 2023
KEYS = ["annee", "categorie", "titre"]


def declared_lines(consommation: DataFrame[ConsommationSchema], standing: Mapping[str, ReturnRecord],
                   nomenclature: Nomenclature) -> pd.DataFrame:
    """Kept lines of each project's standing return, with the project, porteur and situation date."""
    files = {r.file: r for r in standing.values()}
    df = consommation[consommation[FILE].isin(files) & ~consommation[REJECTED]].copy()
    df["project_id"] = df[FILE].map(lambda f: files[f].project_id)
    df["porteur"] = df[FILE].map(lambda f: files[f].porteur)
    df["date_situation"] = df[FILE].map(lambda f: files[f].date_situation)
    df["file"] = df[FILE]
    df["exercice"] = df["exercice"].astype("int64")
    df["titre"] = df["titre"].astype("int64")
    df["imputation_ok"] = ~mismatches(df, nomenclature).any(axis=1) if not df.empty else pd.Series(dtype=bool)
    df["withdrawal"] = _withdrawals(df)
    return df.reset_index(drop=True)


def _withdrawals(df: pd.DataFrame) -> pd.Series:
    """A negative AE on an EJ already engaged in an earlier exercice gives back earlier years' AE."""
    if df.empty:
        return pd.Series(dtype=bool)
    first_year = df[df["ae"] > 0].groupby([FILE, "ej"])["exercice"].min()
    keys = pd.MultiIndex.from_arrays([df[FILE], df["ej"]])
    first = pd.Series(first_year.reindex(keys).to_numpy(), index=df.index)
    return (df["ae"] < 0) & first.notna() & (df["exercice"] > first)


def consumption(declared: pd.DataFrame) -> pd.DataFrame:
    """FTAP AE engaged, withdrawals and CP paid per year × category × titre."""
    ftap = declared[declared["financeur"] == enums.FTAP]
    if ftap.empty:
        return pd.DataFrame(columns=[*KEYS, "ae", "retraits", "cp"])
    work = pd.DataFrame({
        "annee": ftap["exercice"], "categorie": ftap["categorie"], "titre": ftap["titre"],
        "ae": ftap["ae"].where(~ftap["withdrawal"], 0.0),
        "retraits": ftap["ae"].where(ftap["withdrawal"], 0.0),
        "cp": ftap["cp"],
    })
    return work.groupby(KEYS, as_index=False)[["ae", "retraits", "cp"]].sum()


def _rate(num: pd.Series, den: pd.Series) -> pd.Series:
    out = num / den.where(den.abs() > EPS)
    return out.round(4)


def suivi_aecp(declared: pd.DataFrame, referentiel: Referentiel, cutoff: dt.date,
               chorus_totals: pd.DataFrame | None = None) -> pd.DataFrame:
    """The `SuiviAECP` table: one row per year × category × titre with an envelope or a consumption."""
    env = referentiel.enveloppes_at(cutoff)
    env = env[env["financeur"] == enums.FTAP].groupby(KEYS, as_index=False)[["ae", "cp"]].sum() \
        .rename(columns={"ae": "env_ae", "cp": "env_cp"})
    cons = consumption(declared)
    df = env.merge(cons, on=KEYS, how="outer")
    for col in ("env_ae", "env_cp", "ae", "retraits", "cp"):
        df[col] = df[col].astype("float64").fillna(0.0)
    if chorus_totals is not None and not chorus_totals.empty:
        ch = chorus_totals.groupby(KEYS, as_index=False)[["ae_chorus", "cp_chorus", "retraits_chorus"]].sum()
        df = df.merge(ch, on=KEYS, how="outer")
        for col in ("env_ae", "env_cp", "ae", "retraits", "cp", "ae_chorus", "cp_chorus", "retraits_chorus"):
            df[col] = df[col].astype("float64").fillna(0.0)
    elif chorus_totals is not None:  # restitutions read, but no movement by the cut-off (an early rerun)
        df = df.assign(ae_chorus=0.0, cp_chorus=0.0, retraits_chorus=0.0)
    df["annee"] = df["annee"].astype("int64")
    df["titre"] = df["titre"].astype("int64")
    order = {c: i for i, c in enumerate(enums.CATEGORIES)}
    df["_order"] = df["categorie"].map(lambda c: order.get(c, len(order)))
    df = df.sort_values(["annee", "_order", "titre"]).drop(columns="_order").reset_index(drop=True)
    grouped = df.groupby(["categorie", "titre"], sort=False)
    df["env_ae_cum"] = grouped["env_ae"].cumsum()
    df["env_cp_cum"] = grouped["env_cp"].cumsum()
    df["ae_cum"] = grouped["ae"].cumsum() + grouped["retraits"].cumsum()
    df["cp_cum"] = grouped["cp"].cumsum()
    amounts = [c for c in df.columns if c not in KEYS]
    df[amounts] = df[amounts].round(2)
    df["taux_ae"] = _rate(df["ae"], df["env_ae"])
    df["taux_cp"] = _rate(df["cp"], df["env_cp"])
    df["alerte"] = [_alerts(r) for r in df.to_dict("records")]
    return df


def _alerts(r: Mapping[Any, Any]) -> str:
    a: list[str] = []
    if r["ae"] > EPS and r["env_ae"] <= EPS:
        a.append("AE engagées sans enveloppe")
    elif r["ae"] > r["env_ae"] + EPS:
        a.append("Dépassement de l'enveloppe AE")
    if r["cp"] > EPS and r["env_cp"] <= EPS:
        # CP of a year without envelope pay earlier years' AE: judged against the cumulative envelope.
        if r["cp_cum"] > r["env_cp_cum"] + EPS:
            a.append("CP payés au-delà de l'enveloppe cumulée")
    elif r["cp"] > r["env_cp"] + EPS:
        a.append("Dépassement de l'enveloppe CP")
    if r["cp_cum"] > r["ae_cum"] + EPS:
        a.append("CP cumulés supérieurs aux AE cumulées")
    if r["categorie"] == NON_DECLARE and (r.get("ae_chorus", 0.0) > EPS or r.get("cp_chorus", 0.0) > EPS):
        a.append("Dépenses enregistrées dans Chorus et déclarées par aucune remontée")
    return " ; ".join(a)


def suivi_tranches(suivi: pd.DataFrame, referentiel: Referentiel, cutoff: dt.date) -> pd.DataFrame:
    """Per year: what was engaged and paid on the FTAP against the tranche the secretariat decided."""
    tr = referentiel.tranches_at(cutoff).rename(columns={"ae": "tranche_ae", "cp": "tranche_cp"})
    if CONTRACT_DECISION_YEAR not in set(tr["annee"]) and CONTRACT_DECISION_YEAR in set(suivi["annee"]):
        # For 2023 the contract itself is the financing decision (§6): its envelope is the tranche.
        first = suivi[suivi["annee"] == CONTRACT_DECISION_YEAR]
        contract = pd.DataFrame([{"annee": CONTRACT_DECISION_YEAR, "date_decision": None,
                                  "tranche_ae": float(first["env_ae"].sum()), "tranche_cp": float(first["env_cp"].sum())}])
        tr = pd.concat([contract, tr], ignore_index=True) if not tr.empty else contract
    years = suivi.groupby("annee", as_index=False)[["ae", "retraits", "cp", "env_ae", "env_cp"]].sum()
    df = years.merge(tr, on="annee", how="outer").sort_values("annee").reset_index(drop=True)
    for col in ("ae", "retraits", "cp", "env_ae", "env_cp"):
        df[col] = df[col].astype("float64").fillna(0.0)
    df["taux_ae"] = _rate(df["ae"], df["tranche_ae"].astype("float64"))
    df["taux_cp"] = _rate(df["cp"], df["tranche_cp"].astype("float64"))

    def alert(r: Mapping[Any, Any]) -> str:
        a = []
        if pd.isna(r["tranche_ae"]):
            if r["ae"] > EPS:
                a.append("Aucune tranche décidée pour l'année")
        else:
            if r["ae"] > r["tranche_ae"] + EPS:
                a.append("Dépassement de la tranche AE")
            if r["cp"] > r["tranche_cp"] + EPS:
                a.append("Dépassement de la tranche CP")
        return " ; ".join(a)

    df["alerte"] = [alert(r) for r in df.to_dict("records")]
    return df
