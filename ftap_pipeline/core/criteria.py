"""Warnings that keep the line: imputation codes, the §4.3/§4.1 selection criteria, §7 gap explanations.

Thresholds come from the référentiel's `Paramètres`. Without a référentiel (`ftap check` on a porteur's
desk) the criteria say they could not be assessed rather than guessing a threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import pandas as pd
from pandera.typing import DataFrame

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract import referentiel as ref
from ftap_pipeline.contract.columns import FILE, REJECTED, ROW
from ftap_pipeline.contract.findings import Finding
from ftap_pipeline.contract.model import ParsedReturn
from ftap_pipeline.contract.referentiel import Nomenclature, Referentiel
from ftap_pipeline.contract.schemas import ConsommationSchema, EconomiesSchema, TypedLines
from ftap_pipeline.core.imputation import CODES, expected_code, mismatches
from ftap_pipeline.core.parsing import format_eur
from ftap_pipeline.core.period import add_months
from ftap_pipeline.core.roi import forecast_roi


def check_imputation(consommation: DataFrame[ConsommationSchema], by_file: Mapping[str, ParsedReturn],
                     nomenclature: Nomenclature) -> list[Finding]:
    """An FTAP line whose codes differ from the référentiel's is kept, with a warning."""
    out: list[Finding] = []
    ftap = consommation[(consommation["financeur"] == enums.FTAP) & ~consommation[REJECTED]]
    wrong = mismatches(ftap, nomenclature)
    for i in wrong.index[wrong.any(axis=1)]:
        p = by_file[str(ftap.at[i, FILE])]
        row = int(cast(int, ftap.at[i, ROW]))
        for key in CODES:
            if wrong.at[i, key]:
                value = str(ftap.at[i, key] or "")
                f = layout.CONSOMMATION.field(key)
                out.append(p.finding("imputation-mismatch", {"champ": f.label, "valeur": value,
                                                             "attendu": expected_code(nomenclature, key)},
                                     sheet=p.sheet_names["consommation"], cell=p.cell("consommation", row, key),
                                     field=f.label, value=value, row=row))
    return out


def kept_by_file(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The kept lines of a sheet, split by return once (not filtered again for every return)."""
    kept = frame[~frame[REJECTED]]
    return {str(file): group for file, group in kept.groupby(FILE, sort=False)}


def _kept(split: Mapping[str, pd.DataFrame], like: pd.DataFrame, file: str) -> pd.DataFrame:
    return split.get(file, like.iloc[0:0])


def check_criteria(parsed: Sequence[ParsedReturn], frames: TypedLines,
                   referentiel: Referentiel | None) -> list[Finding]:
    """§4.3 and §4.1 criteria on each usable return, as warnings."""
    out: list[Finding] = []
    split = {key: kept_by_file(frames[key]) for key in ("financement", "economies")}
    kept = {key: {p.file: _kept(split[key], frames[key], p.file) for p in parsed} for key in split}
    for p in parsed:
        if "projet" not in p.sheet_names or "consommation" not in p.sheet_names:
            continue
        if referentiel is None:
            out.append(p.finding("not-checked-offline",
                                 {"controle": "les critères de sélection (§4.3), dont les seuils sont au référentiel"},
                                 sheet=p.sheet_names["projet"]))
            continue
        out += _criteria_of(p, kept["financement"][p.file], kept["economies"][p.file], referentiel)
    return out


def _where(p: ParsedReturn, key: str) -> dict[str, object]:
    return {"sheet": p.sheet_names["projet"], "cell": p.projet_cells.get(key, ""),
            "field": layout.PROJET.field(key).label}


def _column_cells(p: ParsedReturn, sheet_key: str, field_key: str, rows: pd.Series) -> str:
    """A column's cells over the lines a criterion sums (`Financement!F2:F9`), so the porteur sees where it comes
    from; empty when there is no such line or column."""
    letter = p.columns.get(sheet_key, {}).get(field_key, "")
    if rows.empty or not letter:
        return ""
    first, last = int(rows.min()), int(rows.max())
    return p.cell(sheet_key, first, field_key) + (f":{letter}{last}" if last > first else "")


def _criteria_of(p: ParsedReturn, fin: pd.DataFrame, eco: pd.DataFrame, referentiel: Referentiel) -> list[Finding]:
    out: list[Finding] = []
    proj = p.projet
    if "financement" in p.sheet_names:
        total = float(fin["ae"].sum())
        cofin = float(fin[fin["financeur"].isin(enums.CO_FINANCEURS)]["ae"].sum())
        cap = referentiel.parameter(ref.P_PLAFOND)
        share = referentiel.parameter(ref.P_COFINANCEMENT)
        where = {"sheet": p.sheet_names["financement"], "cell": _column_cells(p, "financement", "ae", fin[ROW]),
                 "field": layout.FINANCEMENT.field("ae").label}
        if total >= cap:
            out.append(p.finding("criterion-cost-cap", {"cout": format_eur(total), "plafond": format_eur(cap)},
                                 value=format_eur(total), **where))
        if total > 0 and cofin <= 0:
            out.append(p.finding("criterion-cofinancing-missing", **where))
        elif total > 0 and cofin / total < share:
            out.append(p.finding("criterion-cofinancing-share", {"part": _percent(cofin / total), "visee": _percent(share)},
                                 value=f"{cofin / total:.4f}", **where))
    else:
        out.append(p.finding("criterion-not-assessable",
                             {"motif": "Sans feuille Financement, le coût total et le cofinancement (§4.3) ne sont pas "
                                       "évalués."}, sheet=layout.FINANCEMENT.name))
    cat = proj.categorie_porteur
    if cat in (enums.CAT_APUL, enums.CAT_ASSO) and proj.concert_etat != enums.OUI:
        out.append(p.finding("criterion-porteur-category",
                             {"categorie": cat, "condition": "le projet doit être conduit de concert avec l'État"},
                             value=str(proj.concert_etat or ""), **_where(p, "concert_etat")))
    elif cat == enums.CAT_PRIVE and proj.financement_etat != enums.OUI:
        out.append(p.finding("criterion-porteur-category",
                             {"categorie": cat, "condition": "l'organisme doit être majoritairement financé par l'État"},
                             value=str(proj.financement_etat or ""), **_where(p, "financement_etat")))
    debut, fin_acc, cadrage = proj.debut, proj.fin, proj.date_cadrage
    months = int(referentiel.parameter(ref.P_DUREE))
    if debut is not None and fin_acc is not None and fin_acc > add_months(debut, months):
        out.append(p.finding("criterion-duration",
                             {"debut": f"{debut:%d/%m/%Y}", "fin": f"{fin_acc:%d/%m/%Y}", "mois": months},
                             value=f"{fin_acc:%d/%m/%Y}", **_where(p, "fin")))
    if debut is not None and cadrage is not None and cadrage > debut:
        out.append(p.finding("criterion-cadrage-date", {"cadrage": f"{cadrage:%d/%m/%Y}", "debut": f"{debut:%d/%m/%Y}"},
                             value=f"{cadrage:%d/%m/%Y}", **_where(p, "date_cadrage")))
    if "economies" in p.sheet_names and "financement" in p.sheet_names:
        roi = forecast_roi(proj.fin, eco, fin)[0].value
        minimum = referentiel.parameter(ref.P_ROI)
        if roi is None:
            out.append(p.finding("criterion-not-assessable",
                                 {"motif": "ROI prévisionnel à 3 ans non calculable (fin d'accompagnement ou financement "
                                           "FTAP prévu manquant)."}, sheet=p.sheet_names["economies"]))
        elif roi < minimum:
            shown, floor = f"{roi:.2f}".replace(".", ","), f"{minimum:g}".replace(".", ",")
            out.append(p.finding("criterion-roi", {"roi": shown, "minimum": floor}, value=f"{roi:.4f}",
                                 sheet=p.sheet_names["economies"], field=layout.ECONOMIES.field("montant").label,
                                 cell=_column_cells(p, "economies", "montant", eco[
                                     (eco["statut"] == enums.PREVISIONNELLE) & (eco["perenne"] == enums.OUI)][ROW])))
    else:
        out.append(p.finding("criterion-not-assessable",
                             {"motif": "Sans feuilles Économies et Financement, le ROI prévisionnel n'est pas évalué."},
                             sheet=layout.ECONOMIES.name))
    return out


def _percent(share: float) -> str:
    """`0.5` → `50 %`, with the space French puts before the sign."""
    return f"{share:.0%}".replace("%", " %")


def check_gap_explanations(economies: DataFrame[EconomiesSchema], by_file: Mapping[str, ParsedReturn]) -> list[Finding]:
    """§7: for a past year, a realised amount below the forecast of the same year and nature needs an explanation."""
    out: list[Finding] = []
    eco = economies[~economies[REJECTED]]
    for (file, year, nature), group in eco.groupby([FILE, "annee", "nature"], sort=True):
        p = by_file[str(file)]
        situation = p.projet.date_situation
        if situation is None or int(cast(int, year)) >= situation.year:
            continue
        forecast = float(group[group["statut"] == enums.PREVISIONNELLE]["montant"].sum())
        realised_rows = group[group["statut"] == enums.REALISEE]
        realised = float(realised_rows["montant"].sum())
        if realised_rows.empty or realised >= forecast - 0.005:
            continue
        if realised_rows["explication"].notna().any():
            continue
        row = int(realised_rows[ROW].iloc[0])
        out.append(p.finding("missing-gap-explanation", {"nature": nature, "annee": year, "realise": format_eur(realised),
                                                         "prevision": format_eur(forecast)},
                             sheet=p.sheet_names["economies"], cell=p.cell("economies", row, "explication"),
                             field=layout.ECONOMIES.field("explication").label, row=row))
    return out
