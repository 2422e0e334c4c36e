"""Write an assembled report into its output folder: workbooks, CSV exports, then the manifest."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from ftap_pipeline.core.assemble import EXPORTS_DIR, Report
from ftap_pipeline.core.feedback import FEEDBACK_DIR
from ftap_pipeline.io.atomic import write_text
from ftap_pipeline.io.csv_writer import write_csv
from ftap_pipeline.io.excel_writer import write_workbook

MANIFEST = "manifest.json"
#: Where a rerun puts the report it replaces: `outputs/archives/<rapport>/<AAAAMMJJ-HHMMSS>/`.
ARCHIVES_DIR = "archives"


def archive_previous(out: Path) -> Path | None:
    """Move the report a rerun replaces out of the way, whole, into the archives; return where it went.

    A rerun must not silently destroy the report the secretariat may already have read: the previous set
    (workbook, feedback, exports, messages, manifest) is kept as it was, named by when it was written."""
    manifest = out / MANIFEST
    if not manifest.is_file():
        return None
    written = dt.datetime.fromtimestamp(manifest.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
    dest = out.parent / ARCHIVES_DIR / out.name / written
    n = 1
    while dest.exists():
        n += 1
        dest = dest.with_name(f"{written}-{n}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(out, dest)
    return dest


def write_report(report: Report, out: Path, durations: Sequence[tuple[str, float]],
                 execution: Mapping[str, str] | None = None) -> Path:
    """Write every file of the report, each atomically; return the consolidated workbook's path.

    The manifest comes last, with the durations of the run's steps, the list of what was written and, for a
    run of the orchestrator, its identifiers (`execution`: the flow run's id, the deployment)."""
    t0 = time.perf_counter()
    write_workbook(report.workbook, out / report.workbook_path)
    for feedback in report.feedback:
        write_workbook(feedback.workbook, out / feedback.path)
    for path, table in report.exports:
        write_csv(table, out / path)
    written = {out / p for p in report.paths}
    _remove_stale(out, written)
    manifest = report.manifest.as_json()
    manifest["durees_s"] = {k: round(v, 3) for k, v in (*durations, ("ecriture", time.perf_counter() - t0))}
    manifest["sorties"] = sorted(report.paths)
    if execution:
        manifest["execution"] = dict(execution)
    write_text(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n")
    return out / report.workbook_path


def _remove_stale(out: Path, written: set[Path]) -> None:
    """A rerun replaces the previous outputs of the same period: a porteur whose anomalies were corrected
    must not keep an old feedback workbook beside the new report."""
    for folder, pattern in ((FEEDBACK_DIR, "*.xlsx"), (EXPORTS_DIR, "*.csv")):
        for path in (out / folder).glob(pattern):
            if path not in written:
                path.unlink()
