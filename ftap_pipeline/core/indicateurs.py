"""The contract's §5 and §3 indicators: the `Indicateurs` table of secretariat-v1.

Every value is read from a table the workbook already shows (`SuiviAECP`, `SuiviTranches`, `Economies`,
`Portefeuille`), never recomputed, so the indicator and its source cannot disagree. `Code` is stable: a
program reads it; `Indicateur` is the French label.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract import referentiel as ref
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.roi import TOO_RECENT, PortfolioRatio, ProjectRoi, Ratio, portfolio_ratio

FIRST_YEAR = 2023
TOTAL = "Total"
COLUMNS = ["Code", "Indicateur", "Année", "Détail", "Valeur", "Cible", "Commentaire"]
LABELS = {
    "5.1-AE": "AE FTAP engagées dans l'année (€)",
    "5.1-CP": "CP FTAP payés dans l'année (€)",
    "5.1-TRANCHE-AE": "AE FTAP engagées face à la tranche décidée (€)",
    "5.1-TRANCHE-CP": "CP FTAP payés face à la tranche décidée (€)",
    "5.1-PROJETS": "Projets accompagnés ou en cours dans l'année",
    "5.1-COMITES": "Comités de pilotage du dispositif tenus dans l'année",
    "5.2-ECONOMIES": "Économies réalisées dans l'année (€)",
    "5.2-QUALITE": "Projets améliorant la qualité de service aux usagers",
    "5.2-CONDITIONS": "Projets améliorant les conditions de travail des agents",
    "3-ROI-FTAP": "ROI à 3 ans du portefeuille, réalisé (financement FTAP)",
    "3-ROI-TOTAL": "ROI à 3 ans du portefeuille, réalisé (coût public total)",
    "3-ROI-PREV-FTAP": "ROI à 3 ans du portefeuille, prévisionnel (financement FTAP)",
    "3-ROI-PREV-TOTAL": "ROI à 3 ans du portefeuille, prévisionnel (coût public total)",
}
#: Codes whose target is a ceiling (an envelope, a tranche): exceeding it is the alert, not falling short.
CEILINGS = frozenset({"5.1-AE", "5.1-CP", "5.1-TRANCHE-AE", "5.1-TRANCHE-CP"})
TARGET_MISSED = "objectif non atteint"
CEILING_EXCEEDED = "dépassement"
YEAR_RUNNING = "année en cours"


@dataclass(frozen=True)
class ProjectFacts:
    """What the indicators need of one project with a standing return."""

    debut: dt.date | None
    fin: dt.date | None
    improves_quality: bool
    improves_conditions: bool
    roi: ProjectRoi


def accompanied_in(facts: Mapping[str, ProjectFacts], year: int) -> list[str]:
    """Projects whose accompaniment [Début, Fin] meets the calendar year (an unknown end is still running)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return sorted(pid for pid, f in facts.items()
                  if f.debut is not None and f.debut <= last and (f.fin is None or f.fin >= first))


def _comment(code: str, value: float | None, target: float | None, extra: str = "", running: bool = False) -> str:
    """The rate against the target, and whether it is missed; a year still running is not judged yet."""
    parts = [extra] if extra else []
    if value is not None and target is not None and target > 0:
        parts.append(f"taux : {_percent(value / target)} de la cible")
        if code in CEILINGS and value > target + 0.005:
            parts.append(CEILING_EXCEEDED)
        elif code not in CEILINGS and value < target - 1e-9:
            parts.append(YEAR_RUNNING if running else TARGET_MISSED)
    elif value is not None and target is None and code in CEILINGS and not extra:
        parts.append("aucune cible en vigueur")
    return " ; ".join(parts)


def _percent(share: float) -> str:
    return f"{share * 100:.1f} %".replace(".", ",")


def _row(code: str, year: int | None, detail: str, value: float | None, target: float | None,
         extra: str = "", running: bool = False) -> dict[str, object]:
    return {"Code": code, "Indicateur": LABELS[code], "Année": year, "Détail": detail, "Valeur": value,
            "Cible": target, "Commentaire": _comment(code, value, target, extra, running)}


def _titre_rows(code: str, suivi: pd.DataFrame, year: int, value_col: str, env_col: str) -> list[dict[str, object]]:
    rows = suivi[suivi["annee"] == year]
    shown = rows[(rows["env_ae"].abs() + rows["env_cp"].abs() + rows["ae"].abs() + rows["cp"].abs()
                  + rows["retraits"].abs()) > 0.005]
    out = []
    for titre in sorted({int(t) for t in shown["titre"]}):
        part = rows[rows["titre"] == titre]
        out.append(_row(code, year, f"Titre {titre}", round(float(part[value_col].sum()), 2),
                        round(float(part[env_col].sum()), 2)))
    out.append(_row(code, year, TOTAL, round(float(rows[value_col].sum()), 2), round(float(rows[env_col].sum()), 2)))
    return out


def _ratio_row(code: str, ratio: PortfolioRatio, minimum: float, windows_over: bool) -> dict[str, object]:
    if ratio.value is None:
        why = TOO_RECENT if not windows_over else "non calculable"
        return _row(code, None, "", None, minimum, why)
    counted = f"{ratio.projects} projet{'s' if ratio.projects > 1 else ''} compté{'s' if ratio.projects > 1 else ''}"
    return _row(code, None, "", ratio.value, minimum, counted)


def indicateurs_table(suivi: pd.DataFrame, tranches: pd.DataFrame, economies: pd.DataFrame,
                      facts: Mapping[str, ProjectFacts], referentiel: Referentiel, cutoff: dt.date) -> pd.DataFrame:
    """Every §5.1 and §5.2 row for each year from 2023 to the cut-off's year, then the situation at the cut-off."""
    rows: list[dict[str, object]] = []
    comites = referentiel.comites
    for year in range(FIRST_YEAR, cutoff.year + 1):
        ae = _titre_rows("5.1-AE", suivi, year, "ae", "env_ae")
        cp = _titre_rows("5.1-CP", suivi, year, "cp", "env_cp")
        rows += ae + cp
        tranche = tranches[tranches["annee"] == year]
        tranche_ae = _number(tranche["tranche_ae"]) if not tranche.empty else None
        tranche_cp = _number(tranche["tranche_cp"]) if not tranche.empty else None
        no_tranche = "aucune tranche décidée" if tranche_ae is None else ""
        rows.append(_row("5.1-TRANCHE-AE", year, TOTAL, ae[-1]["Valeur"], tranche_ae, no_tranche))  # type: ignore[arg-type]
        rows.append(_row("5.1-TRANCHE-CP", year, TOTAL, cp[-1]["Valeur"], tranche_cp, no_tranche))  # type: ignore[arg-type]
        running = year == cutoff.year and cutoff < dt.date(year, 12, 31)
        rows.append(_row("5.1-PROJETS", year, "", float(len(accompanied_in(facts, year))),
                         referentiel.parameter(ref.P_PROJETS_AN), running=running))
        held = [d for d in comites["date"] if isinstance(d, dt.date) and d.year == year and d <= cutoff] \
            if not comites.empty else []
        rows.append(_row("5.1-COMITES", year, "", float(len(held)), referentiel.parameter(ref.P_COMITES_AN),
                         running=running))
        rows += _savings_rows(economies, year, running)
    rows.append(_row("5.2-QUALITE", None, "", float(sum(f.improves_quality for f in facts.values())), None))
    rows.append(_row("5.2-CONDITIONS", None, "", float(sum(f.improves_conditions for f in facts.values())), None))
    minimum = referentiel.parameter(ref.P_ROI)
    # A realised ratio waits for a window to be over; a forecast one never does.
    over = any(f.roi.realised_ftap.note != TOO_RECENT for f in facts.values())
    for code, ratio in portfolio_ratios(facts).items():
        rows.append(_ratio_row(code, ratio, minimum, over or code in FORECAST_CODES))
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["Année"] = table["Année"].astype("Int64")
    return table


def _realised_ftap(r: ProjectRoi) -> Ratio:
    return r.realised_ftap


def _realised_total(r: ProjectRoi) -> Ratio:
    return r.realised_total


def _forecast_ftap(r: ProjectRoi) -> Ratio:
    return r.forecast_ftap


def _forecast_total(r: ProjectRoi) -> Ratio:
    return r.forecast_total


FORECAST_CODES = frozenset({"3-ROI-PREV-FTAP", "3-ROI-PREV-TOTAL"})


def portfolio_ratios(facts: Mapping[str, ProjectFacts]) -> dict[str, PortfolioRatio]:
    """The four portfolio ratios, by indicator code, in the table's order (the Synthèse shows the same ones)."""
    return {code: portfolio_ratio(pick(f.roi) for f in facts.values())
            for code, pick in (("3-ROI-FTAP", _realised_ftap), ("3-ROI-TOTAL", _realised_total),
                               ("3-ROI-PREV-FTAP", _forecast_ftap), ("3-ROI-PREV-TOTAL", _forecast_total))}


def _savings_rows(economies: pd.DataFrame, year: int, running: bool) -> list[dict[str, object]]:
    rows = economies[economies["Année"] == year]
    natures = [n for n in enums.NATURES_ECONOMIE if n in set(rows["Nature d'économie"])]
    natures += sorted(set(rows["Nature d'économie"]) - set(natures))
    out = []
    for nature in [*natures, None]:
        part = rows if nature is None else rows[rows["Nature d'économie"] == nature]
        real = round(float(part["Réalisée (€)"].fillna(0.0).sum()), 2)
        target = round(float(part["Prévision de référence (€)"].fillna(0.0).sum()), 2)
        out.append(_row("5.2-ECONOMIES", year, nature or TOTAL, real, target, running=running))
    return out


def _number(values: pd.Series) -> float | None:
    """The first number of a column, rounded to the cent (None when there is none)."""
    for v in values:
        number = _opt(v)
        if number is not None:
            return round(number, 2)
    return None


def series_by_year(indicateurs: pd.DataFrame, code: str, detail: str = "") -> dict[int, tuple[float | None, float | None]]:
    """Value and target of one indicator per year: what the Synthèse charts draw."""
    rows = indicateurs[(indicateurs["Code"] == code) & (indicateurs["Détail"] == detail)]
    return {int(y): (_opt(v), _opt(t)) for y, v, t in zip(rows["Année"], rows["Valeur"], rows["Cible"], strict=True)}


def _opt(value: object) -> float | None:
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value):
        return float(value)
    return None
