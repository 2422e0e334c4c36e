"""Criteria, §7 gap explanations and the Portefeuille figures of several returns, each computed from one pass
over all returns' lines: every figure and cell by hand, return by return."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.columns import FILE, REJECTED
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.assess import Assessment
from ftap_pipeline.core.criteria import check_criteria, check_gap_explanations, kept_by_file
from ftap_pipeline.core.portefeuille import NON_EVALUABLE, NON_RESPECTE, RESPECTE, project_figures
from ftap_pipeline.core.select import standing_returns
from tests import builders as b

CUTOFF = dt.date(2025, 6, 30)
NNBSP = "\u202f"
SHEETS = ("financement", "consommation", "economies", "indicateurs")


def _realised(year: int, nature: str, montant: float, explication: str | None = None) -> dict[str, Any]:
    return {"annee": year, "nature": nature, "statut": "Réalisée", "montant": montant, "etp": None, "perenne": "Oui",
            "explication": explication}


def _referentiel() -> Referentiel:
    ref = b.referentiel(**{"Plafond coût projet (€)": 500000.0, "Part de cofinancement visée": 0.6})
    projets = pd.DataFrame([{"project_id": f"AP-2024-0{i}", "intitule": f"Projet {i}", "porteur": f"Porteur {i}",
                             "ministere": "Intérieur", "date_selection": dt.date(2024, 1, 10), "cycle": "2024-1"}
                            for i in (1, 2, 3)])
    return dataclasses.replace(ref, projets=projets)


@pytest.fixture(scope="module")
def assessment(tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    tmp = tmp_path_factory.mktemp("returns")
    # 1: the builders' return (600 000 of AE, half of it FTAP), a 2024 forecast realised short, unexplained.
    one = b.tables()
    one["economies"][0]["annee"] = 2024
    one["economies"].append(_realised(2024, "Masse salariale", 100000.0))
    # 2: FTAP money only; 2024 realised short but explained, and above a forecast of nothing.
    two = b.tables()
    two["financement"] = two["financement"][:1]
    two["economies"][0]["annee"] = 2024
    two["economies"] += [_realised(2024, "Masse salariale", 100000.0, "Recrutement décalé"),
                         _realised(2024, "Fonctionnement", 10.0)]
    two["indicateurs"][0]["axe"] = enums.AXE_TRAVAIL
    # 3: the 2026 forecast not perennial, 149 999 forecast for 2027; two realised lines of 2024, none explained;
    # its indicator got worse.
    three = b.tables()
    three["economies"][0]["annee"] = 2024
    three["economies"][1]["perenne"] = "Non"
    three["economies"][2]["montant"] = 149999.0
    three["economies"] += [_realised(2024, "Masse salariale", 70000.0), _realised(2024, "Masse salariale", 50000.0)]
    three["indicateurs"][0]["valeur_mesuree"] = 31.0
    paths = [b.write(tmp, f"{i}.xlsx", b.projet(project_id=f"AP-2024-0{i}"), tabs)
             for i, tabs in ((1, one), (2, two), (3, three))]
    return b.assess_files(paths, _referentiel(), CUTOFF)


def _by_file(a: Assessment) -> dict[str, Any]:
    return {p.file: p for p in a.parsed}


def test_gap_explanations_of_several_returns(assessment: Assessment) -> None:
    found = check_gap_explanations(assessment.frames.economies, _by_file(assessment))
    assert [(f.file, f.cell, f.row, f.message) for f in found] == [
        ("1.xlsx", "Économies!G5", 5, f"Masse salariale 2024 : réalisé 100{NNBSP}000,00 € pour un prévisionnel de "
                                      f"150{NNBSP}000,00 €, sans explication."),
        # Two realised lines: their sum, on the first one's cell.
        ("3.xlsx", "Économies!G5", 5, f"Masse salariale 2024 : réalisé 120{NNBSP}000,00 € pour un prévisionnel de "
                                      f"150{NNBSP}000,00 €, sans explication."),
    ]


def test_criteria_of_several_returns(assessment: Assessment) -> None:
    found = check_criteria(assessment.parsed, assessment.frames, _referentiel())
    criteria = [(f.file, f.slug, f.cell, f.value) for f in found if f.slug.startswith("criterion-")]
    assert criteria == [
        ("1.xlsx", "criterion-cost-cap", "Financement!F2:F3", f"600{NNBSP}000,00 €"),
        ("1.xlsx", "criterion-cofinancing-share", "Financement!F2:F3", "0.5000"),
        ("2.xlsx", "criterion-cofinancing-missing", "Financement!F2", ""),
        # The window 2025-2027 holds 149 999 of perennial forecast (2024 is out, 2026 not perennial) for 300 000
        # of FTAP AE; the cells are those of every perennial forecast line, 2 and 4.
        ("3.xlsx", "criterion-cost-cap", "Financement!F2:F3", f"600{NNBSP}000,00 €"),
        ("3.xlsx", "criterion-cofinancing-share", "Financement!F2:F3", "0.5000"),
        ("3.xlsx", "criterion-roi", "Économies!D2:D4", f"{149999 / 300000:.4f}"),
    ]


def test_criteria_without_referentiel_are_not_checked(assessment: Assessment) -> None:
    found = check_criteria(assessment.parsed, assessment.frames, None)
    assert [(f.file, f.slug) for f in found] == [(f"{i}.xlsx", "not-checked-offline") for i in (1, 2, 3)]


def test_kept_lines_are_each_returns_kept_lines(assessment: Assessment) -> None:
    for sheet in SHEETS:
        frame = assessment.frames[sheet]
        kept = kept_by_file(frame)
        expected = {str(f): g for f, g in frame[~frame[REJECTED]].groupby(FILE, sort=False)}
        assert list(kept) == list(expected)
        assert len(kept) == len(expected)
        assert "absent.xlsx" not in kept
        assert kept.get("absent.xlsx") is None
        for file, lines in expected.items():
            pd.testing.assert_frame_equal(kept[file], lines)


@pytest.mark.parametrize("split", ["kept_by_file", "dict"])
def test_portefeuille_figures_of_several_projects(assessment: Assessment, split: str) -> None:
    frames = assessment.frames
    if split == "kept_by_file":
        kept: dict[str, Any] = {sheet: kept_by_file(frames[sheet]) for sheet in SHEETS}
    else:  # any mapping of each return's lines gives the same figures
        kept = {sheet: dict(kept_by_file(frames[sheet])) for sheet in SHEETS}
    empty = {sheet: frames[sheet].iloc[0:0] for sheet in SHEETS}
    standing = standing_returns(assessment.records, CUTOFF)
    figures = project_figures(standing, _by_file(assessment), kept, empty, CUTOFF)
    assert list(figures) == ["AP-2024-01", "AP-2024-02", "AP-2024-03"]
    one, two, three = figures.values()
    assert (one.cost, one.ftap_share, two.cost, two.ftap_share, three.cost) == (600000.0, 0.5, 300000.0, 1.0, 600000.0)
    # Forecast savings in 2025-2027 (end 31/07/2024): 200 000 + 150 000 for 1 and 2 (their 2024 line is out),
    # 149 999 for 3 (its 2026 line is not perennial); over 300 000 of FTAP AE, 600 000 or 300 000 in all.
    assert [f.facts.roi.forecast_ftap.value for f in figures.values()] == [350000 / 300000, 350000 / 300000,
                                                                          149999 / 300000]
    assert [f.facts.roi.forecast_total.value for f in figures.values()] == [350000 / 600000, 350000 / 300000,
                                                                           149999 / 600000]
    # CP paid: 80 000 + 100 000 FTAP, 50 000 by the porteur; the window is not over.
    assert (one.facts.roi.realised_ftap.numerator, one.facts.roi.realised_ftap.denominator,
            one.facts.roi.realised_total.denominator) == (0.0, 180000.0, 230000.0)
    assert [(f.facts.improves_quality, f.facts.improves_conditions) for f in figures.values()] == [
        (True, False), (False, True), (False, False)]
    states = {pid: dict(f.criteria) for pid, f in figures.items()}
    assert states["AP-2024-01"]["Critère coût total < plafond"] == NON_RESPECTE
    assert states["AP-2024-02"]["Critère coût total < plafond"] == RESPECTE
    assert states["AP-2024-02"]["Critère cofinancement"] == NON_RESPECTE
    assert states["AP-2024-03"]["Critère ROI prévisionnel à 3 ans"] == NON_RESPECTE
    assert states["AP-2024-01"]["Critère ROI prévisionnel à 3 ans"] == RESPECTE
    assert NON_EVALUABLE not in {s for f in figures.values() for _, s in f.criteria}


def test_portefeuille_figures_without_lines(tmp_path: Path) -> None:
    """A return whose table sheets have no kept line: nothing to sum, criteria not assessable."""
    tabs: dict[str, list[dict[str, Any]]] = {sheet: [] for sheet in SHEETS}
    a = b.assess_files([b.write(tmp_path, "vide.xlsx", b.projet(), tabs)], b.referentiel(), CUTOFF)
    frames = a.frames
    figures = project_figures(standing_returns(a.records, CUTOFF), _by_file(a),
                              {s: kept_by_file(frames[s]) for s in SHEETS}, {s: frames[s].iloc[0:0] for s in SHEETS},
                              CUTOFF)
    (only,) = figures.values()
    assert (only.cost, only.ftap_share, only.facts.roi.forecast_ftap.value) == (0.0, None, None)
    assert dict(only.criteria)["Critère coût total < plafond"] == NON_EVALUABLE
