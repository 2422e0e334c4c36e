"""The run's stages, wiring the pure core to its IO adapters. Prefect flows and the CLI call these.

Each stage is a plain function of plain values, so a flow can make it a task and a test can call it.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import logging
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ftap_pipeline import __version__
from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Severity
from ftap_pipeline.contract.referentiel import P_TOLERANCE, Referentiel
from ftap_pipeline.core import report as rpt
from ftap_pipeline.core.assess import Assessment, assess_returns
from ftap_pipeline.core.chorus import normalise_movements
from ftap_pipeline.core.period import Period
from ftap_pipeline.core.rapprochement import chorus_totals, reconcile_ejs
from ftap_pipeline.core.report_spec import WorkbookSpec
from ftap_pipeline.core.select import ReturnRecord, missing_returns, standing_returns
from ftap_pipeline.core.suivi import declared_lines, suivi_aecp, suivi_tranches, tableau_financement
from ftap_pipeline.io import intake
from ftap_pipeline.io.atomic import write_text
from ftap_pipeline.io.chorus_reader import ChorusRead, read_chorus_files
from ftap_pipeline.io.csv_writer import write_csv
from ftap_pipeline.io.excel_writer import write_workbook
from ftap_pipeline.io.intake import read_returns
from ftap_pipeline.io.referentiel_reader import read_referentiel

log = logging.getLogger("ftap")

RETURNS_DIR, CHORUS_DIR, REFERENCE_FILE = "remontees", "chorus", Path("reference") / "referentiel.xlsx"
PACKAGES = ("ftap-pipeline", "pandas", "pandera", "openpyxl", "xlsxwriter", "python-calamine", "prefect")


@dataclass(frozen=True)
class RunConfig:
    inputs: Path
    outputs: Path
    period: Period
    cutoff: dt.date
    label: str
    workers: int = 2

    @classmethod
    def quarterly(cls, inputs: Path, outputs: Path, period: Period, workers: int = 2) -> RunConfig:
        return cls(inputs, outputs, period, period.last_day, str(period), workers)

    @classmethod
    def committee(cls, inputs: Path, outputs: Path, day: dt.date, workers: int = 2) -> RunConfig:
        """The data as of a steering committee: cut at its date; the period expected is the last finished one."""
        return cls(inputs, outputs, Period.last_finished(day), day, f"comite-{day.isoformat()}", workers)

    @property
    def out_dir(self) -> Path:
        return self.outputs / self.label


@dataclass
class Ingested:
    referentiel: Referentiel
    assessment: Assessment
    chorus: list[ChorusRead]
    inputs: list[dict[str, object]]
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Built:
    workbook: WorkbookSpec
    feedback: dict[str, WorkbookSpec]
    manifest: dict[str, object]


def ingest(config: RunConfig) -> Ingested:
    """Read the référentiel and every return, then assess them all at once."""
    t0 = time.perf_counter()
    referentiel = read_referentiel(config.inputs / REFERENCE_FILE)
    paths = intake.discover(config.inputs / RETURNS_DIR)
    log.info("Lecture de %d remontée(s) et des restitutions Chorus…", len(paths))
    items = read_returns(paths, config.workers)
    chorus = read_chorus_files(intake.discover(config.inputs / CHORUS_DIR), workers=config.workers)
    log.info("Contrôle des remontées…")
    t1 = time.perf_counter()
    assessment = assess_returns(items, referentiel, config.cutoff)
    t2 = time.perf_counter()
    inputs: list[dict[str, object]] = [{"fichier": f"{RETURNS_DIR}/{i.file}", "sha256": i.sha256} for i in items]
    inputs += [{"fichier": f"{CHORUS_DIR}/{c.file}", "sha256": c.sha256, "format": c.layout,
                **({"feuille": c.sheet} if c.sheet else {})} for c in chorus]
    inputs.append({"fichier": str(REFERENCE_FILE), "sha256": referentiel.sha256})
    return Ingested(referentiel, assessment, chorus, inputs, {"lecture": t1 - t0, "validation": t2 - t1})


def porteur_key(name: str) -> str:
    """A file-name-safe form of a porteur's name (`DDFiP de l'Hérault` → `DDFiP_de_l_Herault`)."""
    folded = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_")[:60] or "porteur_inconnu"


def _porteur_of(record: ReturnRecord, referentiel: Referentiel) -> str:
    if record.porteur:
        return record.porteur
    projets = referentiel.projets
    match = projets[projets["project_id"] == record.project_id]
    return str(match["porteur"].iloc[0]) if not match.empty else "Porteur inconnu"


def build(ingested: Ingested, config: RunConfig) -> Built:
    """Reconcile and lay out every output, in memory."""
    t0 = time.perf_counter()
    log.info("Rapprochement AE/CP (enveloppes, déclarations, Chorus)…")
    ref, assessment = ingested.referentiel, ingested.assessment
    standing = standing_returns(assessment.records, config.cutoff)
    parsed = {p.file: p for p in assessment.parsed}
    starts = {pid: _date_or_none(parsed[r.file].projet.get("debut")) for pid, r in standing.items()}
    missing = missing_returns(assessment.records, ref.projets, starts, config.period, config.cutoff)
    declared = declared_lines(assessment.frames["consommation"], standing, ref.nomenclature)
    rapprochement: pd.DataFrame | None = None
    totals: pd.DataFrame | None = None
    undated: tuple[float, float] | None = None
    chorus_findings = [f for c in ingested.chorus for f in c.findings]
    if any(c.layout for c in ingested.chorus):
        movements, more = normalise_movements(ingested.chorus, ref, config.cutoff)
        rapprochement, reconciled = reconcile_ejs(declared, movements, ref, ref.parameter(P_TOLERANCE))
        chorus_findings += more + reconciled
        totals = chorus_totals(movements, declared)
        without_year = totals[totals["annee"].isna()]
        if not without_year.empty:  # cumulative AIFE files: in the reconciliation, not in the yearly follow-up
            undated = (float(without_year["ae_chorus"].sum()), float(without_year["cp_chorus"].sum()))
    suivi = suivi_aecp(declared, ref, config.cutoff, totals)
    tranches = suivi_tranches(suivi, ref, config.cutoff)
    tableau = tableau_financement(declared, ref, config.cutoff)
    manifest = _manifest(ingested, config)
    run = rpt.RunInfo(label=config.label, period=str(config.period), cutoff=config.cutoff,
                      manifest_lines=_manifest_lines(manifest))
    workbook = rpt.consolidated_workbook(assessment=assessment, referentiel=ref, run=run, suivi=suivi,
                                         tranches=tranches, tableau=tableau, standing=standing,
                                         missing_findings=missing, rapprochement=rapprochement,
                                         chorus_findings=chorus_findings, undated_chorus=undated)
    feedback = _feedback(assessment.records, ref, run, rapprochement)
    ingested.timings["rapprochement"] = time.perf_counter() - t0
    return Built(workbook, feedback, manifest)


def _date_or_none(value: object) -> dt.date | None:
    return value if isinstance(value, dt.date) else None


def _feedback(records: Sequence[ReturnRecord], ref: Referentiel, run: rpt.RunInfo,
              rapprochement: pd.DataFrame | None) -> dict[str, WorkbookSpec]:
    """One workbook per porteur with anomalies in this period's returns or discrepancies on its EJs.

    Returns of earlier periods were answered then; a file whose period cannot be read is answered now."""
    groups: dict[str, list[ReturnRecord]] = {}
    names: dict[str, str] = {}
    for r in records:
        if r.period not in (None, run.period):
            continue
        name = _porteur_of(r, ref)
        key = porteur_key(name)
        names[key] = name
        groups.setdefault(key, []).append(r)
    out = {}
    for key, group in sorted(groups.items()):
        projects = {r.project_id for r in group if r.project_id}
        gaps = pd.DataFrame() if rapprochement is None else rapprochement[
            rapprochement["Identifiant du projet"].isin(projects)
            & ~rapprochement["Statut"].isin([enums.CONCORDANT, enums.HORS_DISPOSITIF])]
        if gaps.empty and not any(f.severity is not Severity.INFORMATION for r in group for f in r.findings):
            continue
        out[key] = rpt.feedback_workbook(names[key], group, run, gaps)
    return out


def _manifest(ingested: Ingested, config: RunConfig) -> dict[str, object]:
    records = {r.file: r for r in ingested.assessment.records}
    files = []
    for item in ingested.inputs:
        name = str(item["fichier"]).split("/", 1)[-1]
        r = records.get(name)
        entry = dict(item)
        if r is not None:
            entry.update({"statut": r.status, "projet": r.project_id, "periode": r.period, "lignes_lues": r.lines_read,
                          "lignes_retenues": r.lines_kept, "lignes_rejetees": r.lines_rejected})
        files.append(entry)
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = "absent"
    return {"rapport": config.label, "periode": str(config.period), "date_arrete": config.cutoff.isoformat(),
            "version_pipeline": __version__,
            "referentiel": {"fichier": ingested.referentiel.source, "sha256": ingested.referentiel.sha256},
            "entrees": files, "versions": versions}


def _manifest_lines(manifest: dict[str, object]) -> tuple[tuple[str, str], ...]:
    ref = manifest["referentiel"]
    assert isinstance(ref, dict)
    entries = manifest["entrees"]
    assert isinstance(entries, list)
    versions = manifest["versions"]
    assert isinstance(versions, dict)
    lines = [("Rapport", str(manifest["rapport"])), ("Date d'arrêté", str(manifest["date_arrete"])),
             ("Version du pipeline", str(manifest["version_pipeline"])),
             ("Référentiel", f"{ref['fichier']} (SHA-256 {ref['sha256']})"),
             ("Fichiers en entrée", str(len(entries)))]
    lines += [(f"Entrée : {e['fichier']}", f"SHA-256 {e['sha256']}") for e in entries]
    lines += [(f"Version de {k}", str(v)) for k, v in versions.items()]
    return tuple(lines)


def publish(built: Built, ingested: Ingested, config: RunConfig) -> Path:
    """Write the workbook, the porteurs' workbooks, the CSV exports and the manifest, each atomically."""
    t0 = time.perf_counter()
    out = config.out_dir
    log.info("Écriture des classeurs dans %s…", out)
    workbook_path = out / f"FTAP_suivi_{config.label}.xlsx"
    written = [workbook_path]
    write_workbook(built.workbook, workbook_path)
    for key, spec in built.feedback.items():
        written.append(out / "anomalies" / f"{key}_{config.label}.xlsx")
        write_workbook(spec, written[-1])
    for table in built.workbook.tables():
        if table.csv:
            written.append(out / "donnees" / table.csv)
            write_csv(table, written[-1])
    _remove_stale(out, set(written))
    ingested.timings["ecriture"] = time.perf_counter() - t0
    manifest = dict(built.manifest)
    manifest["durees_s"] = {k: round(v, 3) for k, v in ingested.timings.items()}
    manifest["sorties"] = sorted(str(p.relative_to(out)) for p in written)
    write_text(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n")
    return workbook_path


def _remove_stale(out: Path, written: set[Path]) -> None:
    """A rerun replaces the previous outputs of the same period: a porteur whose anomalies were corrected
    must not keep an old feedback workbook beside the new report."""
    for folder, pattern in (("anomalies", "*.xlsx"), ("donnees", "*.csv")):
        for path in (out / folder).glob(pattern):
            if path not in written:
                path.unlink()


def run_report(config: RunConfig) -> Path:
    """The whole quarterly run, without Prefect (the flow calls the same stages as tasks)."""
    ingested = ingest(config)
    built = build(ingested, config)
    return publish(built, ingested, config)

__all__ = ["Built", "Ingested", "RunConfig", "build", "ingest", "publish", "run_report"]
