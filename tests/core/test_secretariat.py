"""The secretariat's figures (secretariat-v1) on a small, hand-checked portfolio: one project, two quarters.

Every expected value below is worked out by hand from the lines written, not read back from the code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ftap_pipeline.core.assemble import changes_since_previous, previous_standing
from ftap_pipeline.core.evolutions import standing_of
from ftap_pipeline.core.figures import Figures, ReportScope, compute_figures
from ftap_pipeline.core.period import Period
from ftap_pipeline.core.roi import TOO_RECENT
from tests import builders as b

CUTOFF = dt.date(2025, 6, 30)


def _eco(year: int, nature: str, statut: str, amount: float, explication: str | None = None) -> dict[str, Any]:
    return {"annee": year, "nature": nature, "statut": statut, "montant": amount, "etp": None, "perenne": "Oui",
            "explication": explication}


def _tables(economies: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    tabs = b.tables()
    tabs["economies"] = economies
    return tabs


QUARTER = ReportScope.quarterly(Period(2025, 2))


def _figures(tmp_path: Path, scope: ReportScope = QUARTER) -> Figures:
    t1 = b.write(tmp_path, "t1.xlsx", b.projet(period="2025-T1", date_situation=dt.date(2025, 3, 31)), _tables([
        _eco(2024, "Masse salariale", "Prévisionnelle", 100000.0),
        _eco(2024, "Masse salariale", "Réalisée", 60000.0),  # below forecast, unexplained: §7 alert
        _eco(2025, "Masse salariale", "Prévisionnelle", 150000.0),
    ]))
    t2 = b.write(tmp_path, "t2.xlsx", b.projet(), _tables([
        _eco(2024, "Masse salariale", "Prévisionnelle", 80000.0),  # the forecast is cut after the fact
        _eco(2024, "Masse salariale", "Réalisée", 60000.0, "Recrutements décalés"),
        _eco(2025, "Masse salariale", "Prévisionnelle", 150000.0),
        _eco(2026, "Fonctionnement", "Prévisionnelle", 50000.0),
    ]))
    ref = b.referentiel()
    ref = dataclasses.replace(
        ref, economies_reference=pd.DataFrame([{"project_id": "AP-2024-01", "annee": 2025, "nature": "Masse salariale",
                                                "montant": 160000.0, "source": "Comité du 14/03/2024"}]),
        comites=pd.DataFrame({"date": [dt.date(2024, 3, 14), dt.date(2024, 6, 20), dt.date(2025, 4, 15),
                                       dt.date(2025, 9, 1)], "instance": ["Comité"] * 4, "objet": [""] * 4}))
    assessment = b.assess_files([t1, t2], ref, scope.cutoff)
    return compute_figures(assessment, ref, [], scope)


@pytest.fixture
def figures(tmp_path: Path) -> Figures:
    return _figures(tmp_path)


def _indicator(f: Figures, code: str, year: int | None, detail: str = "") -> tuple[object, object, str]:
    ind = f.indicateurs
    year_match = ind["Année"].isna() if year is None else ind["Année"] == year
    rows = ind[(ind["Code"] == code) & year_match & (ind["Détail"] == detail)]
    assert len(rows) == 1, (code, year, detail)
    row = rows.iloc[0]
    return _none(row["Valeur"]), _none(row["Cible"]), str(row["Commentaire"])


def _none(value: object) -> object:
    return None if pd.isna(value) else value  # type: ignore[call-overload]


def _economies(f: Figures) -> dict[tuple[object, ...], dict[Hashable, Any]]:
    """The Économies rows by project, year and nature, as plain dicts."""
    return {(r["Identifiant du projet"], r["Année"], r["Nature d'économie"]): r
            for r in f.economies.to_dict("records")}


def test_economies_rows_against_reference_and_initial_forecast(figures: Figures) -> None:
    eco = _economies(figures)
    past = eco[("AP-2024-01", 2024, "Masse salariale")]
    assert (past["Prévisionnelle (€)"], past["Réalisée (€)"], past["Écart (€)"]) == (80000.0, 60000.0, -20000.0)
    assert (past["Prévision de référence (€)"], past["Source de la prévision"]) == (100000.0, "Première remontée")
    assert (past["Prévision initiale (€)"], past["Explication de l'écart"], past["Alerte"]) == (
        100000.0, "Recrutements décalés", "")
    assert past["Pérenne réalisée (€)"] == 60000.0
    current = eco[("AP-2024-01", 2025, "Masse salariale")]
    assert _none(current["Écart (€)"]) is None  # the cut-off's year is not over
    assert (current["Prévision de référence (€)"], current["Source de la prévision"]) == (160000.0, "Comité du 14/03/2024")
    later = eco[("AP-2024-01", 2026, "Fonctionnement")]
    assert (later["Prévisionnelle (€)"], later["Prévision initiale (€)"], later["Prévision de référence (€)"]) == (
        50000.0, 0.0, 0.0)
    assert list(figures.economies.columns) == [
        "Identifiant du projet", "Année", "Nature d'économie", "Prévisionnelle (€)", "Réalisée (€)", "Écart (€)",
        "Explication de l'écart", "Pérenne réalisée (€)", "Prévision de référence (€)", "Source de la prévision",
        "Prévision initiale (€)", "Alerte"]


def test_the_alert_is_the_standing_returns_gap_finding(tmp_path: Path) -> None:
    f = _figures(tmp_path, ReportScope.quarterly(Period(2025, 1)))
    row = _economies(f)[("AP-2024-01", 2024, "Masse salariale")]
    assert row["Alerte"] == "Explication manquante"
    assert "missing-gap-explanation" in {x.slug for x in f.standing["AP-2024-01"].findings}


def test_indicators_by_year(figures: Figures) -> None:
    assert _indicator(figures, "5.1-AE", 2024, "Titre 3") == (200000.0, 6000000.0, "taux : 3,3 % de la cible")
    assert _indicator(figures, "5.1-AE", 2024, "Total")[:2] == (200000.0, 6000000.0)
    assert _indicator(figures, "5.1-CP", 2025, "Total")[:2] == (100000.0, 6000000.0)
    assert _indicator(figures, "5.1-TRANCHE-AE", 2024, "Total")[:2] == (200000.0, 6e6)
    value, target, comment = _indicator(figures, "5.1-TRANCHE-AE", 2025, "Total")
    assert (value, target, comment) == (0.0, None, "aucune tranche décidée")
    assert _indicator(figures, "5.1-PROJETS", 2024)[:2] == (1.0, 10.0)
    assert _indicator(figures, "5.1-PROJETS", 2025)[0] == 0.0  # the accompaniment ended in July 2024
    assert _indicator(figures, "5.1-COMITES", 2024)[:2] == (2.0, 3.0)
    assert _indicator(figures, "5.1-COMITES", 2025)[0] == 1.0  # the September committee is after the cut-off
    assert _indicator(figures, "5.2-ECONOMIES", 2024, "Masse salariale")[:2] == (60000.0, 100000.0)
    assert _indicator(figures, "5.2-ECONOMIES", 2024, "Total")[2] == "taux : 60,0 % de la cible ; objectif non atteint"
    assert _indicator(figures, "5.2-ECONOMIES", 2025, "Total")[:2] == (0.0, 160000.0)
    assert _indicator(figures, "5.2-QUALITE", None)[0] == 1.0
    assert _indicator(figures, "5.2-CONDITIONS", None)[0] == 0.0
    assert sorted(set(figures.indicateurs["Année"].dropna())) == [2023, 2024, 2025]


def test_portfolio_roi_is_the_projects_roi(figures: Figures) -> None:
    roi = figures.projects["AP-2024-01"].facts.roi
    # Window 2025–2027: forecast perennial 150 000 + 50 000, over the planned FTAP AE (300 000) and all AE (600 000).
    assert roi.forecast_ftap.value == pytest.approx(2 / 3)
    assert roi.forecast_total.value == pytest.approx(1 / 3)
    assert (roi.realised_ftap.shown, roi.realised_total.shown) == (TOO_RECENT, TOO_RECENT)
    assert _indicator(figures, "3-ROI-PREV-FTAP", None)[:2] == (pytest.approx(2 / 3), 1.0)
    value, _, comment = _indicator(figures, "3-ROI-FTAP", None)
    assert (value, comment) == (None, TOO_RECENT)
    criteria = dict(figures.projects["AP-2024-01"].criteria)
    assert criteria["Critère ROI prévisionnel à 3 ans"] == "Non respecté"
    assert criteria["Critère cofinancement"] == "Respecté"
    roi_finding = next(x for x in figures.standing["AP-2024-01"].findings if x.slug == "criterion-roi")
    assert roi_finding.value == f"{2 / 3:.4f}"  # the §4.3 check and the Portefeuille give one figure


def test_planning_state_and_months(figures: Figures) -> None:
    row = figures.planning.set_index("Identifiant du projet").loc["AP-2024-01"]
    assert row["État"] == "Terminé"
    months = [c for c in figures.planning.columns if c[:2] == "20"]
    assert (months[0], months[-1]) == ("2024-02", "2024-07")
    assert all(row[m] == "■" for m in months)


def test_evolutions_against_the_previous_quarter(figures: Figures) -> None:
    changes = changes_since_previous(figures, [])
    assert changes is not None
    kinds = list(zip(changes["Type"], changes["Objet"], strict=True))
    assert ("Nouvelle remontée", "t2.xlsx (2025-T2)") in kinds
    resolved = [o for t, o in kinds if t == "Anomalie résolue"]
    # T1's unexplained 2024 gap is explained in T2; T1's ROI warning (0,50) gives way to T2's (0,67).
    assert [o.split(" : ")[0] for o in resolved] == ["ROI prévisionnel à 3 ans inférieur au minimum (§3)",
                                                      "Écart aux économies prévues non expliqué (§7)"]
    assert any("Masse salariale" in o and "2024" in o for o in resolved)
    new = [o for t, o in kinds if t == "Nouvelle anomalie"]
    assert len(new) == 1
    assert "0,67" in new[0]
    assert not any(t == "Montant modifié" for t, _ in kinds)  # the same consumption both quarters


def test_the_previous_cut_off_comes_back_whole_from_another_process(figures: Figures) -> None:
    """A run computes the previous cut-off's figures in a forked child, which pickles back only their
    `Standing`: it must survive the trip (a value that does not pickle is computed again, doubling the work)."""
    import pickle

    before = previous_standing(figures.assessment, figures.referentiel, [], figures.scope)
    assert before is not None
    assert before.returns
    assert before.findings
    assert pickle.loads(pickle.dumps(before)) == before
    now = standing_of(figures)
    assert {file for _, file, *_ in now.returns} - {file for _, file, *_ in before.returns} == {"t2.xlsx"}


def test_the_first_period_has_nothing_to_compare_with(tmp_path: Path) -> None:
    f = _figures(tmp_path, ReportScope.quarterly(Period(2025, 1)))
    assert changes_since_previous(f, []) is None


def test_a_committee_compares_with_the_previous_committee(tmp_path: Path) -> None:
    f = _figures(tmp_path, ReportScope.committee_of(dt.date(2025, 9, 1)))
    assert f.scope.previous([dt.date(2024, 3, 14), dt.date(2025, 4, 15), dt.date(2025, 9, 1)]) == \
        ReportScope.committee_of(dt.date(2025, 4, 15))
    assert ReportScope.committee_of(dt.date(2024, 3, 14)).previous([dt.date(2024, 3, 14)]) is None
    changes = changes_since_previous(f, [])
    assert changes is not None
    assert "t2.xlsx (2025-T2)" in set(changes["Objet"])
