"""The quarterly run on the committed demo inputs: golden workbooks, statuses, conservation, sums."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest

from ftap_pipeline.contract.labels import normalise_label
from tests.conftest import GOLDEN, INPUTS
from tests.workbook_compare import check_golden

EXPECTED_TABLES = {
    "Synthèse": ["SyntheseChorus", "SyntheseConsommation", "SyntheseEconomies", "SyntheseProjets"],
    "Évolutions": ["Evolutions"],
    "Indicateurs": ["Indicateurs"],
    "Tableau de financement": ["TableauFinancement", "TableauFinancementRealise", "TableauFinancementVigueur"],
    "Économies": ["Economies"],
    "Planning": ["Planning"],
    "Suivi AE-CP": ["SuiviAECP", "SuiviTranches"],
    "Rapprochement Chorus": ["Rapprochement"],
    "Portefeuille": ["Portefeuille"],
    "Remontées": ["Remontees"],
    "Anomalies": ["Anomalies"],
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_consolidated_workbook_matches_golden(demo_run: Path, regen_golden: bool) -> None:
    check_golden(demo_run / "FTAP_suivi_2025-T2.xlsx", GOLDEN / "FTAP_suivi_2025-T2.xlsx", regen_golden)


def test_a_feedback_workbook_matches_golden(demo_run: Path, regen_golden: bool) -> None:
    name = "Cour_d_appel_de_Douai_2025-T2.xlsx"
    check_golden(demo_run / "anomalies" / name, GOLDEN / "anomalies" / name, regen_golden)


def test_tables_are_real_excel_tables_with_core_columns(demo_run: Path) -> None:
    wb = openpyxl.load_workbook(demo_run / "FTAP_suivi_2025-T2.xlsx")
    for sheet, names in EXPECTED_TABLES.items():
        assert sorted(wb[sheet].tables) == sorted(names)
    suivi = wb["Suivi AE-CP"].tables["SuiviAECP"]
    headers = [c.name for c in suivi.tableColumns]
    assert headers[:10] == ["Année", "Catégorie", "Titre", "Enveloppe AE (€)", "Enveloppe CP (€)", "AE engagées (€)",
                            "CP payés (€)", "Taux AE", "Taux CP", "Alerte"]
    ws = wb["Suivi AE-CP"]
    first = ws[suivi.ref.split(":")[0]].row + 1
    amount = ws.cell(first, 6)
    assert isinstance(amount.value, (int, float))
    assert amount.number_format == '#,##0.00 "€"'
    rap = wb["Rapprochement Chorus"]
    ej = rap.cell(rap[rap.tables["Rapprochement"].ref.split(":")[0]].row + 1, 2)
    assert isinstance(ej.value, str)
    assert len(ej.value) in (10, len("(sans EJ)"))


def test_statuses_and_conservation(demo_run: Path) -> None:
    rows = {r["Fichier"]: r for r in _rows(demo_run / "donnees" / "remontees.csv")}
    assert len(rows) == len(list((INPUTS / "remontees").iterdir()))
    blocked = _blocked_lines(demo_run)
    for r in rows.values():
        if r["Statut"] == "Rejetée":
            continue
        # Counted again from the file itself and from the anomalies, not from the run's own arithmetic.
        read = _data_lines(INPUTS / "remontees" / r["Fichier"])
        rejected = len({line for line in blocked if line[0] == r["Fichier"]})
        assert (int(r["Lignes lues"]), int(r["Lignes rejetées"]), int(r["Lignes retenues"])) == (
            read, rejected, read - rejected), r["Fichier"]
    statuses = defaultdict(list)
    for r in rows.values():
        statuses[r["Statut"]].append(r["Fichier"])
    assert sorted(statuses["Rejetée"]) == ["AP-2025-30_2025-T2.xlsx", "DDFiP33_remontee_FTAP_2025-T1 (2).xlsx"]
    assert statuses["Remplacée"] == ["Remontee FTAP - SAR Douai - 2025-T2.xlsx"]
    assert statuses["Retenue avec anomalies"] == ["AP-2023-03_2025-T2.xlsx"]
    bad = rows["AP-2023-03_2025-T2.xlsx"]
    assert (bad["Lignes lues"], bad["Lignes retenues"], bad["Lignes rejetées"]) == ("42", "36", "6")
    assert rows["AP-2025-30_2025-T2.xlsx"]["Lignes rejetées"] == rows["AP-2025-30_2025-T2.xlsx"]["Lignes lues"]


def _data_lines(path: Path) -> int:
    """The non-empty lines under the header of the four table sheets, read with openpyxl."""
    wb = openpyxl.load_workbook(path, data_only=True)
    count = 0
    for name in ("Financement", "Consommation", "Économies", "Indicateurs"):
        if name in wb.sheetnames:
            count += sum(1 for row in wb[name].iter_rows(min_row=2, values_only=True)
                         if any(v is not None and str(v).strip() for v in row))
    return count


def _blocked_lines(demo_run: Path) -> set[tuple[str, str, int]]:
    """(file, sheet, row) of every line a blocking finding of the Anomalies export points at."""
    return {(a["Fichier"], a["Cellule"].split("!")[0], int("".join(ch for ch in a["Cellule"].split("!")[1] if ch.isdigit())))
            for a in _rows(demo_run / "donnees" / "anomalies.csv")
            if a["Gravité"] == "Bloquant" and "!" in a["Cellule"] and a["Feuille"] != "Projet"}


def _float(value: object) -> float:
    """A cell read as `float()` reads it: a number or numeric text."""
    assert isinstance(value, int | float | str), f"not a number: {value!r}"
    return float(value)


def _int(value: object) -> int:
    """A cell read as `int()` reads it: a number or integer text."""
    assert isinstance(value, int | float | str), f"not an integer: {value!r}"
    return int(value)


def _independent_ftap_sums(demo_run: Path) -> dict[tuple[int, str, int], tuple[float, float]]:
    """FTAP AE (withdrawals apart) and CP per year × category × titre, read with openpyxl straight from the
    standing returns, leaving out the rows the run reported as blocking."""
    returns = _rows(demo_run / "donnees" / "remontees.csv")
    kept = [r for r in returns if r["Statut"] in ("Retenue", "Retenue avec anomalies")]
    standing: dict[str, dict[str, str]] = {}
    for r in kept:
        best = standing.get(r["Identifiant du projet"])
        if best is None or r["Période"] > best["Période"]:
            standing[r["Identifiant du projet"]] = r
    blocked = _blocked_lines(demo_run)
    sums: dict[tuple[int, str, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in standing.values():
        ws = openpyxl.load_workbook(INPUTS / "remontees" / r["Fichier"], data_only=True)["Consommation"]
        header = [normalise_label(c.value) for c in ws[1]]
        col = {k: header.index(normalise_label(k)) for k in ("N° EJ", "Exercice", "Catégorie", "Titre", "Financeur",
                                                              "AE engagées", "CP payés")}
        lines = [(i, row) for i, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2)
                 if any(v is not None for v in row) and (r["Fichier"], "Consommation", i) not in blocked]
        first_year: dict[str, int] = {}
        for _, row in lines:
            if row[col["Financeur"]] == "FTAP" and _float(row[col["AE engagées"]]) > 0:
                ej, year = str(row[col["N° EJ"]]), _int(row[col["Exercice"]])
                first_year[ej] = min(first_year.get(ej, year), year)
        for _, row in lines:
            if row[col["Financeur"]] != "FTAP":
                continue
            ej, year, ae = str(row[col["N° EJ"]]), _int(row[col["Exercice"]]), _float(row[col["AE engagées"]])
            withdrawal = ae < 0 and ej in first_year and year > first_year[ej]
            key = (year, str(row[col["Catégorie"]]), _int(row[col["Titre"]]))
            sums[key][0] += 0.0 if withdrawal else ae
            sums[key][1] += _float(row[col["CP payés"]])
    return {k: (round(v[0], 2), round(v[1], 2)) for k, v in sums.items()}


def test_suivi_figures_equal_independent_sums(demo_run: Path) -> None:
    expected = _independent_ftap_sums(demo_run)
    got = {(int(r["Année"]), r["Catégorie"], int(r["Titre"])): (float(r["AE engagées (€)"]), float(r["CP payés (€)"]))
           for r in _rows(demo_run / "donnees" / "suivi_ae_cp.csv")}
    assert {k: v for k, v in got.items() if v != (0.0, 0.0)} == expected


def test_envelopes_reproduce_the_contract(demo_run: Path) -> None:
    env: dict[int, float] = defaultdict(float)
    for r in _rows(demo_run / "donnees" / "suivi_ae_cp.csv"):
        env[int(r["Année"])] += float(r["Enveloppe AE (€)"])
    assert env[2023] == 3_000_000
    assert env[2024] == 6_000_000


def test_manifest_records_every_input(demo_run: Path) -> None:
    manifest = json.loads((demo_run / "manifest.json").read_text(encoding="utf-8"))
    files = {e["fichier"] for e in manifest["entrees"]}
    assert "reference/referentiel.xlsx" in files
    assert {f"remontees/{p.name}" for p in (INPUTS / "remontees").iterdir()} <= files
    assert all(len(e["sha256"]) == 64 for e in manifest["entrees"])
    assert manifest["date_arrete"] == "2025-06-30"
    assert "FTAP_suivi_2025-T2.xlsx" in manifest["sorties"]


def test_same_inputs_give_identical_bytes(demo_run: Path, tmp_path: Path) -> None:
    from ftap_pipeline.core.period import Period
    from ftap_pipeline.pipeline import RunConfig, run_report

    again = run_report(RunConfig.quarterly(INPUTS, tmp_path, Period.parse("2025-T2")))
    assert again.read_bytes() == (demo_run / "FTAP_suivi_2025-T2.xlsx").read_bytes()


@pytest.mark.slow
def test_ftap_run_through_prefect(tmp_path: Path, demo_run: Path) -> None:
    """The README's main job, through the CLI and the Prefect flow, gives the same workbook."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "run", "--inputs", str(INPUTS), "--outputs",
                           str(tmp_path / "out"), "--period", "2025-T2"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    produced = tmp_path / "out" / "2025-T2" / "FTAP_suivi_2025-T2.xlsx"
    assert produced.read_bytes() == (demo_run / "FTAP_suivi_2025-T2.xlsx").read_bytes()
    assert "Rapport écrit" in proc.stderr


def test_chorus_statuses_are_those_the_demo_injected(demo_run: Path, tmp_path: Path) -> None:
    from ftap_pipeline.demo import write_demo

    summary = write_demo(tmp_path / "demo")
    got = {r["N° EJ"]: r["Statut"] for r in _rows(demo_run / "donnees" / "rapprochement.csv")}
    injected = dict(summary.reconciliation)
    assert {ej: got.get(ej) for ej in injected} == injected
    assert {s for ej, s in got.items() if ej not in injected} == {"Concordant"}
    expected = {f: s for f, s in summary.expected_statuses.items()}
    statuses = {r["Fichier"]: r["Statut"] for r in _rows(demo_run / "donnees" / "remontees.csv")}
    assert statuses == expected


def test_committed_demo_inputs_are_what_the_generator_writes(tmp_path: Path) -> None:
    from ftap_pipeline.demo import write_demo

    write_demo(tmp_path / "demo")
    for path in sorted((tmp_path / "demo").rglob("*")):
        if path.is_file():
            committed = INPUTS / path.relative_to(tmp_path / "demo")
            assert committed.read_bytes() == path.read_bytes(), committed


def test_committee_run_cuts_every_input_at_its_date(tmp_path: Path) -> None:
    import datetime as dt

    from ftap_pipeline.pipeline import RunConfig, run_report

    path = run_report(RunConfig.committee(INPUTS, tmp_path, dt.date(2025, 3, 14)))
    assert path == tmp_path / "comite-2025-03-14" / "FTAP_suivi_comite-2025-03-14.xlsx"
    out = path.parent / "donnees"
    suivi = {(int(r["Année"]), r["Catégorie"]): float(r["Enveloppe AE (€)"]) for r in _rows(out / "suivi_ae_cp.csv")}
    assert suivi[(2025, "Expérimentation")] == 1_200_000  # the avenant of 2025-03-15 is not in force yet
    returns = _rows(out / "remontees.csv")
    # Returns dated after the committee are outside the run: in no table, named in the manifest only.
    manifest = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))
    later = [e for e in manifest["entrees"] if e.get("statut") == "postérieure à la date d'arrêté"]
    assert sorted({e["periode"] for e in later}) == ["2025-T1", "2025-T2"]
    assert len(later) == 24
    assert not {e["fichier"].removeprefix("remontees/") for e in later} & {r["Fichier"] for r in returns}
    assert all(r["Période"] < "2025-T1" for r in returns if r["Période"])
    kept_periods = {r["Période"] for r in returns if r["Statut"].startswith("Retenue")}
    assert max(kept_periods) == "2024-T4"
    facts = {r[0]: r[1] for r in openpyxl.load_workbook(path)["Synthèse"].iter_rows(values_only=True) if r[0]}
    assert facts["Remontées postérieures à la date d'arrêté (hors rapport)"] == 24
    assert facts["Rapport"] == "comité de pilotage du 14/03/2025"


def test_rerun_replaces_stale_outputs(tmp_path: Path) -> None:
    from ftap_pipeline.core.period import Period
    from ftap_pipeline.io.delivery import EML_DIR
    from ftap_pipeline.pipeline import RunConfig, run_report

    config = RunConfig.quarterly(INPUTS, tmp_path, Period.parse("2025-T2"))
    stale = config.out_dir / "anomalies" / "Ancien_porteur_2025-T2.xlsx"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    run_report(config)
    assert not stale.exists()
    manifest = json.loads((config.out_dir / "manifest.json").read_text(encoding="utf-8"))
    # The manifest lists the report's files; the `.eml` copies of its messages are published with it, apart.
    assert sorted(manifest["sorties"]) == sorted(str(p.relative_to(config.out_dir)) for p in config.out_dir.rglob("*")
                                                  if p.is_file() and p.name != "manifest.json"
                                                  and p.parent.name != EML_DIR)


def test_undated_aife_extracts_are_reconciled_and_said_apart(tmp_path: Path) -> None:
    import shutil

    import openpyxl

    from ftap_pipeline.core.period import Period
    from ftap_pipeline.pipeline import RunConfig, run_report

    inputs = tmp_path / "inputs"
    shutil.copytree(INPUTS, inputs)
    shutil.copy(Path(__file__).parent / "fixtures" / "chorus" / "aife-ae.csv", inputs / "chorus")
    path = run_report(RunConfig.quarterly(inputs, tmp_path / "out", Period.parse("2025-T2")))
    facts = {r[0]: r[1] for r in openpyxl.load_workbook(path)["Synthèse"].iter_rows(values_only=True) if r[0]}
    sans_annee = facts["AE Chorus sans année, hors suivi annuel (€)"]
    assert isinstance(sans_annee, int | float)
    assert sans_annee > 0
    years = {r["Année"] for r in _rows(path.parent / "donnees" / "suivi_ae_cp.csv")}
    assert years == {"2023", "2024", "2025"}


def test_a_rerun_keeps_the_report_it_replaces(tmp_path: Path) -> None:
    from ftap_pipeline.core.period import Period
    from ftap_pipeline.io.report_writer import ARCHIVES_DIR
    from ftap_pipeline.pipeline import RunConfig, run_report

    config = RunConfig.quarterly(INPUTS, tmp_path, Period.parse("2025-T2"))
    first = run_report(config)
    before = {p.relative_to(config.out_dir): p.read_bytes() for p in config.out_dir.rglob("*") if p.is_file()}
    again = run_report(config)
    assert again == first
    (archived,) = (tmp_path / ARCHIVES_DIR / "2025-T2").iterdir()
    assert {p.relative_to(archived): p.read_bytes() for p in archived.rglob("*") if p.is_file()} == before
    assert again.read_bytes() == before[Path("FTAP_suivi_2025-T2.xlsx")]  # same inputs, same workbook


def test_a_committee_before_any_chorus_movement_is_reported(tmp_path: Path) -> None:
    """Restitutions are read, but nothing in them is dated by the cut-off: the Chorus columns read 0, no crash."""
    import datetime as dt

    from ftap_pipeline.pipeline import RunConfig, run_report

    path = run_report(RunConfig.committee(INPUTS, tmp_path, dt.date(2023, 2, 1)))
    header = (path.parent / "donnees" / "suivi_ae_cp.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "AE Chorus (€)" in header
    assert all(float(r["AE Chorus (€)"]) == 0.0 for r in _rows(path.parent / "donnees" / "suivi_ae_cp.csv"))
    assert all(r["Statut"] != "Concordant" for r in _rows(path.parent / "donnees" / "rapprochement.csv"))
