"""The secretariat's workbook on the demo run: each figure shown twice is one figure, the order of rows
that need action, and committee runs that do not depend on what arrived after their date."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.conftest import INPUTS
from tests.workbook_compare import differences


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _num(text: str) -> float:
    return float(text) if text else 0.0


def _facts(path: Path) -> dict[str, Any]:
    rows = openpyxl.load_workbook(path)["Synthèse"].iter_rows(max_col=2, values_only=True)
    return {str(r[0]): r[1] for r in rows if r[0]}


def _table(path: Path, sheet: str, name: str) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path)[sheet]
    header, *rows = ws[ws.tables[name].ref]
    return [{h.value: c.value for h, c in zip(header, row, strict=True)} for row in rows]


def _indicator(rows: list[dict[str, str]], code: str, year: int, detail: str = "Total") -> dict[str, str]:
    [row] = [r for r in rows if r["Code"] == code and r["Année"] == str(year) and r["Détail"] == detail]
    return row


@pytest.fixture(scope="module")
def exports(demo_run: Path) -> Path:
    return demo_run / "donnees"


def test_consumption_is_one_figure_in_suivi_indicators_synthese_and_the_realised_table(demo_run: Path,
                                                                                      exports: Path) -> None:
    suivi = _rows(exports / "suivi_ae_cp.csv")
    indicators = _rows(exports / "indicateurs.csv")
    realised = {(r["Catégorie"], r["Ligne"]): r for r in _rows(exports / "tableau_financement_realise.csv")}
    facts = _facts(demo_run / "FTAP_suivi_2025-T2.xlsx")
    for year in (2023, 2024, 2025):
        ae = round(sum(_num(r["AE engagées (€)"]) for r in suivi if r["Année"] == str(year)), 2)
        cp = round(sum(_num(r["CP payés (€)"]) for r in suivi if r["Année"] == str(year)), 2)
        assert _num(_indicator(indicators, "5.1-AE", year)["Valeur"]) == ae
        assert _num(_indicator(indicators, "5.1-CP", year)["Valeur"]) == cp
        assert _num(_indicator(indicators, "5.1-TRANCHE-AE", year)["Valeur"]) == ae
        t3 = round(sum(_num(r["AE engagées (€)"]) for r in suivi if r["Année"] == str(year) and r["Titre"] == "3"), 2)
        assert _num(realised[("TOTAL", "…dont financement FTAP")][f"AE {year}"]) == t3
    assert facts["AE FTAP engagées 2025, hors retraits (€)"] == _num(_indicator(indicators, "5.1-AE", 2025)["Valeur"])
    assert facts["CP FTAP payés 2025 (€)"] == _num(_indicator(indicators, "5.1-CP", 2025)["Valeur"])
    assert facts["Tranche AE 2025 décidée (€)"] == _num(_indicator(indicators, "5.1-TRANCHE-AE", 2025)["Cible"])
    chart = _table(demo_run / "FTAP_suivi_2025-T2.xlsx", "Synthèse", "SyntheseConsommation")
    assert [(r["Année"], r["AE engagées (€)"], r["Enveloppe AE (€)"]) for r in chart] == [
        (y, _num(_indicator(indicators, "5.1-AE", y)["Valeur"]), _num(_indicator(indicators, "5.1-AE", y)["Cible"]))
        for y in (2023, 2024, 2025)]


def test_savings_indicators_are_the_economies_table_summed(demo_run: Path, exports: Path) -> None:
    economies = _rows(exports / "economies.csv")
    indicators = _rows(exports / "indicateurs.csv")
    realised: dict[int, float] = defaultdict(float)
    reference: dict[int, float] = defaultdict(float)
    for r in economies:
        realised[int(r["Année"])] += _num(r["Réalisée (€)"])
        reference[int(r["Année"])] += _num(r["Prévision de référence (€)"])
    for year in (2023, 2024, 2025):
        row = _indicator(indicators, "5.2-ECONOMIES", year)
        assert (_num(row["Valeur"]), _num(row["Cible"])) == (round(realised[year], 2), round(reference[year], 2))
    chart = _table(demo_run / "FTAP_suivi_2025-T2.xlsx", "Synthèse", "SyntheseEconomies")
    assert [r["Réalisées (€)"] for r in chart] == [round(realised[y], 2) for y in (2023, 2024, 2025)]


def test_the_signed_table_is_the_contract(exports: Path) -> None:
    signed = {(r["Catégorie"], r["Ligne"]): r for r in _rows(exports / "tableau_financement.csv")}
    assert _num(signed[("TOTAL", "Total dépenses")]["AE Total"]) == 15_000_000  # contrat.md §2, before any avenant
    assert _num(signed[("GENERALISATION/LOT2", "…dont financement FTAP")]["CP 2024"]) == 3_600_000
    assert _num(signed[("TOTAL", "…dont financement porteur ou co-porteur")]["AE Total"]) == 0
    in_force = _rows(exports / "tableau_financement_vigueur.csv")
    assert _num(next(r for r in in_force if r["Catégorie"] == "TOTAL" and r["Ligne"] == "Total dépenses")["AE Total"]) \
        == 15_300_000
    assert [r["Catégorie"] for r in in_force if r["Catégorie"].startswith("Avenant")] == ["Avenant du 15/03/2025"]


def test_portefeuille_ratios_are_numbers_or_say_why_not(exports: Path) -> None:
    rows = _rows(exports / "portefeuille.csv")
    for column in ("ROI prévisionnel à 3 ans (FTAP)", "ROI prévisionnel à 3 ans (coût total)", "ROI à 3 ans (FTAP)",
                   "ROI à 3 ans (coût total)"):
        for r in rows:
            value = r[column]
            assert value in ("", "trop récent", "non calculable") or float(value) >= 0, (column, value)
    assert all(r["ROI à 3 ans (FTAP)"] in ("", "trop récent") for r in rows)  # no window is over in 2025-T2
    states = {r[c] for r in rows for c in r if c.startswith("Critère ")}
    assert states <= {"", "Respecté", "Non respecté", "Non évaluable"}


def test_rows_needing_action_come_first(exports: Path) -> None:
    statuses = [r["Statut"] for r in _rows(exports / "rapprochement.csv")]
    first_ok = statuses.index("Concordant")
    assert first_ok > 0
    assert "Concordant" not in statuses[:first_ok]
    assert all(s in ("Concordant", "Hors dispositif") for s in statuses[first_ok:])
    periods = [r["Période"] for r in _rows(exports / "anomalies.csv")]
    this = [p in ("2025-T2", "") for p in periods]
    assert this[0]
    assert this == sorted(this, reverse=True)


def test_synthese_names_the_projects_without_a_return(demo_run: Path) -> None:
    facts = _facts(demo_run / "FTAP_suivi_2025-T2.xlsx")
    missing = [r for r in _rows(demo_run / "donnees" / "portefeuille.csv") if r["Remontée manquante"] == "Oui"]
    assert facts["Projets sans remontée retenue pour la période"] == len(missing) > 0
    assert all(r["Identifiant du projet"] in facts["Projets concernés"] for r in missing)
    assert facts["Remontées postérieures à la date d'arrêté (hors rapport)"] == 0


def _committee(inputs: Path, out: Path) -> Path:
    from ftap_pipeline.pipeline import RunConfig, run_report

    return run_report(RunConfig.committee(inputs, out, dt.date(2025, 3, 14)))


def test_a_committee_rerun_does_not_depend_on_later_returns(tmp_path: Path) -> None:
    """Before next quarter's returns arrived and after: the same workbook, but for the count of later returns."""
    after = _committee(INPUTS, tmp_path / "out-apres")
    manifest = json.loads((after.parent / "manifest.json").read_text(encoding="utf-8"))
    later = [e["fichier"] for e in manifest["entrees"] if e.get("statut") == "postérieure à la date d'arrêté"]
    before_inputs = tmp_path / "avant"
    shutil.copytree(INPUTS, before_inputs)
    for name in later:
        (before_inputs / name).unlink()
    before = _committee(before_inputs, tmp_path / "out-avant")
    diffs = differences(after, before, limit=100)
    assert len(diffs) == 1, diffs
    assert "Synthèse!B" in diffs[0]
    assert "24" in diffs[0]
    facts = _facts(after)
    assert facts["Rapport"] == "comité de pilotage du 14/03/2025"
    anomalies = _rows(after.parent / "donnees" / "anomalies.csv")
    assert any(r["Règle"] == "committee-date-unknown" and "14/03/2025" in r["Message"] for r in anomalies)
