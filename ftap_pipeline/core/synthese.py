"""The Synthèse: one printed page for the steering committee, and the tables its three charts draw.

Every figure here is read from a table of the workbook (`Indicateurs`, `SuiviTranches`, `Rapprochement`,
`Economies`), so the page and the detail cannot disagree; the tests hold each pair equal.
"""

from __future__ import annotations

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.core.figures import Figures
from ftap_pipeline.core.indicateurs import TOTAL, portfolio_ratios, series_by_year
from ftap_pipeline.core.portefeuille import NON_RESPECTE
from ftap_pipeline.core.report_spec import ChartKind, ChartSpec, Series, TableSpec, cols
from ftap_pipeline.core.report_spec import ColKind as K
from ftap_pipeline.core.roi import PortfolioRatio

A = K.AMOUNT
Fact = tuple[str, object, K]


def consumption_by_year(figures: Figures) -> pd.DataFrame:
    ae, cp = series_by_year(figures.indicateurs, "5.1-AE", TOTAL), series_by_year(figures.indicateurs, "5.1-CP", TOTAL)
    return pd.DataFrame([{"Année": y, "Enveloppe AE (€)": ae[y][1], "AE engagées (€)": ae[y][0],
                          "Enveloppe CP (€)": cp[y][1], "CP payés (€)": cp[y][0]} for y in sorted(ae)])


def savings_by_year(figures: Figures) -> pd.DataFrame:
    realised = series_by_year(figures.indicateurs, "5.2-ECONOMIES", TOTAL)
    eco = figures.economies
    current = eco.groupby("Année")["Prévisionnelle (€)"].sum() if not eco.empty else pd.Series(dtype=float)
    return pd.DataFrame([{"Année": y, "Prévision de référence (€)": realised[y][1],
                          "Prévision actuelle (€)": round(float(current.get(y, 0.0)), 2),
                          "Réalisées (€)": realised[y][0]} for y in sorted(realised)])


def projects_by_year(figures: Figures) -> pd.DataFrame:
    done = series_by_year(figures.indicateurs, "5.1-PROJETS")
    return pd.DataFrame([{"Année": y, "Projets accompagnés": done[y][0], "Cible (projets par an)": done[y][1]}
                         for y in sorted(done)])


def chorus_by_status(figures: Figures) -> pd.DataFrame:
    if figures.chorus is None:
        return pd.DataFrame(columns=["Statut", "Lignes", "AE déclarées (€)", "AE Chorus (€)", "Écart AE (€)",
                                     "Écart CP (€)"])
    r = figures.chorus.rapprochement
    rows = []
    for status in enums.RECONCILIATION_STATUSES:
        part = r[r["Statut"] == status]
        if part.empty:
            continue
        rows.append({"Statut": status, "Lignes": len(part),
                     "AE déclarées (€)": round(float(part["AE déclarées (€)"].fillna(0.0).sum()), 2),
                     "AE Chorus (€)": round(float(part["AE Chorus (€)"].fillna(0.0).sum()), 2),
                     "Écart AE (€)": round(float(part["Écart AE (€)"].fillna(0.0).sum()), 2),
                     "Écart CP (€)": round(float(part["Écart CP (€)"].fillna(0.0).sum()), 2)})
    return pd.DataFrame(rows)


def _ratio_fact(label: str, ratio: PortfolioRatio, why: str) -> Fact:
    if ratio.value is None:
        return (label, why, K.TEXT)
    return (f"{label} ({ratio.projects} projet{'s' if ratio.projects > 1 else ''})", ratio.value, K.RATIO)


def synthese_facts(figures: Figures) -> tuple[Fact, ...]:
    records, scope = figures.assessment.records, figures.scope
    count = {s: sum(1 for r in records if r.status == s) for s in enums.RETURN_STATUSES}
    year = scope.cutoff.year
    tranche = figures.tranches[figures.tranches["annee"] == year]
    ae, cp = series_by_year(figures.indicateurs, "5.1-AE", TOTAL), series_by_year(figures.indicateurs, "5.1-CP", TOTAL)
    retraits = float(figures.suivi.loc[figures.suivi["annee"] == year, "retraits"].sum())
    titles = figures.referentiel.projets.set_index("project_id")["intitule"].to_dict() \
        if not figures.referentiel.projets.empty else {}
    missing = sorted(figures.missing_projects)
    names = " ; ".join(f"{pid} ({titles.get(pid, '')})" if titles.get(pid) else pid for pid in missing)
    ratios = portfolio_ratios({pid: f.facts for pid, f in figures.projects.items()})
    alerts_eco = int((figures.economies["Alerte"] != "").sum()) if not figures.economies.empty else 0
    criteria = sum(1 for f in figures.projects.values() if any(s == NON_RESPECTE for _, s in f.criteria))
    facts: list[Fact] = [
        ("Rapport", scope.title, K.TEXT),
        ("Période attendue", str(scope.period), K.TEXT),
        ("Date d'arrêté", scope.cutoff, K.DATE),
        ("Remontées prises en compte", len(records), K.INT),
        *((f"Remontées « {s} »", count[s], K.INT) for s in enums.RETURN_STATUSES),
        ("Remontées postérieures à la date d'arrêté (hors rapport)", len(figures.assessment.later), K.INT),
        ("Projets sans remontée retenue pour la période", len(missing), K.INT),
        ("Projets concernés", names or "aucun", K.TEXT),
        (f"Enveloppe AE FTAP {year} en vigueur (€)", ae.get(year, (None, None))[1], A),
        (f"Tranche AE {year} décidée (€)", tranche["tranche_ae"].iloc[0] if not tranche.empty else None, A),
        (f"AE FTAP engagées {year}, hors retraits (€)", ae.get(year, (None, None))[0], A),
        (f"Retraits d'AE d'années antérieures en {year} (€)", round(retraits, 2), A),
        (f"Enveloppe CP FTAP {year} en vigueur (€)", cp.get(year, (None, None))[1], A),
        (f"Tranche CP {year} décidée (€)", tranche["tranche_cp"].iloc[0] if not tranche.empty else None, A),
        (f"CP FTAP payés {year} (€)", cp.get(year, (None, None))[0], A),
        ("Lignes en alerte (Suivi AE-CP)", int((figures.suivi["alerte"] != "").sum()), K.INT),
        ("Écarts d'économies sans explication (§7)", alerts_eco, K.INT),
        ("Projets ne respectant pas un critère §4.3", criteria, K.INT),
        _ratio_fact("ROI à 3 ans réalisé du portefeuille, FTAP", ratios["3-ROI-FTAP"], "trop récent"),
        _ratio_fact("ROI à 3 ans réalisé du portefeuille, coût total", ratios["3-ROI-TOTAL"], "trop récent"),
        _ratio_fact("ROI à 3 ans prévisionnel du portefeuille, FTAP", ratios["3-ROI-PREV-FTAP"], "non calculable"),
        _ratio_fact("ROI à 3 ans prévisionnel du portefeuille, coût total", ratios["3-ROI-PREV-TOTAL"],
                    "non calculable"),
    ]
    if figures.chorus is not None and figures.chorus.undated:
        facts += [("AE Chorus sans année, hors suivi annuel (€)", figures.chorus.undated[0], A),
                  ("CP Chorus sans année, hors suivi annuel (€)", figures.chorus.undated[1], A)]
    return tuple(facts)


def synthese_tables(figures: Figures) -> tuple[TableSpec, ...]:
    tables = [
        TableSpec("SyntheseConsommation", cols(("Année", K.INT, 8), ("Enveloppe AE (€)", A), ("AE engagées (€)", A),
                                               ("Enveloppe CP (€)", A), ("CP payés (€)", A)),
                  consumption_by_year(figures), title="Consommation FTAP face aux enveloppes, par année"),
        TableSpec("SyntheseEconomies", cols(("Année", K.INT, 8), ("Prévision de référence (€)", A),
                                            ("Prévision actuelle (€)", A), ("Réalisées (€)", A)),
                  savings_by_year(figures), title="Économies prévues et réalisées, par année"),
        TableSpec("SyntheseProjets", cols(("Année", K.INT, 8), ("Projets accompagnés", K.INT),
                                          ("Cible (projets par an)", K.INT)),
                  projects_by_year(figures), title="Projets accompagnés par année, face à la cible"),
    ]
    if figures.chorus is not None:
        tables.append(TableSpec("SyntheseChorus", cols(("Statut", K.TEXT, 18), ("Lignes", K.INT), ("AE déclarées (€)", A),
                                                       ("AE Chorus (€)", A), ("Écart AE (€)", A), ("Écart CP (€)", A)),
                                chorus_by_status(figures), title="Rapprochement Chorus par statut"))
    return tuple(tables)


CHARTS = (
    ChartSpec("AE et CP FTAP face aux enveloppes", "SyntheseConsommation", "Année",
              (Series("AE engagées (€)"), Series("CP payés (€)"), Series("Enveloppe AE (€)", ChartKind.LINE),
               Series("Enveloppe CP (€)", ChartKind.LINE)), y_title="€"),
    ChartSpec("Économies prévues et réalisées", "SyntheseEconomies", "Année",
              (Series("Prévision de référence (€)"), Series("Prévision actuelle (€)"), Series("Réalisées (€)")),
              y_title="€"),
    ChartSpec("Projets accompagnés par année", "SyntheseProjets", "Année",
              (Series("Projets accompagnés"), Series("Cible (projets par an)", ChartKind.LINE)), y_title="projets"),
)
