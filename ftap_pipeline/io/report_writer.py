"""Write an assembled report and publish it whole: every file into a staging folder, then one swap.

A reader of `outputs/<rapport>/` sees the previous report or the new one, never the new workbook beside
the previous manifest; the report a rerun replaces goes to `outputs/archives/<rapport>/<AAAAMMJJ-HHMMSS>/`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ftap_pipeline.core.assemble import Report
from ftap_pipeline.io.atomic import write_text
from ftap_pipeline.io.csv_writer import write_csv
from ftap_pipeline.io.excel_writer import write_workbook
from ftap_pipeline.io.forked import side_by_side
from ftap_pipeline.io.staging import IDENTITY, discard, free_name, staging_dir, swap_in
from ftap_pipeline.io.write_errors import writing_into

MANIFEST = IDENTITY
#: Where a rerun puts the report it replaces: `outputs/archives/<rapport>/<AAAAMMJJ-HHMMSS>/`.
ARCHIVES_DIR = "archives"


@dataclass(frozen=True)
class Published:
    """The consolidated workbook's path in the published folder, and where the replaced report went."""

    workbook: Path
    archived: Path | None


def archive_destination(out: Path) -> Path:
    """Where the report in `out` goes when a rerun replaces it, named by when its manifest was written.

    A rerun must not silently destroy the report the secretariat may already have read: the previous set
    (workbook, feedback, exports, messages, manifest) is kept as it was."""
    manifest = out / MANIFEST
    stamp = (manifest if manifest.is_file() else out).stat().st_mtime
    dest = free_name(out.parent / ARCHIVES_DIR / out.name / dt.datetime.fromtimestamp(stamp).strftime("%Y%m%d-%H%M%S"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest


def publish_report(report: Report, outputs: Path, durations: Sequence[tuple[str, float]],
                   execution: Mapping[str, str] | None = None,
                   also: Callable[[Path], object] = lambda _staging: None) -> Published:
    """Write the report into a staging folder, then `also(staging)` (the messages' copies), then swap it in.

    A refusal of the system to write (disk full, read-only, permission) raises `OutputsUnwritableError`, in
    French, with the previous report untouched and the staging folder removed."""
    out = outputs / report.scope.label
    with writing_into(outputs):
        staging = staging_dir(outputs, report.scope.label)
        try:
            write_report(report, staging, durations, execution)
            also(staging)
        except BaseException:
            discard(staging)
            raise
        archived = swap_in(staging, out, archive_destination)
    return Published(out / report.workbook_path, archived)


def write_report(report: Report, out: Path, durations: Sequence[tuple[str, float]],
                 execution: Mapping[str, str] | None = None) -> Path:
    """Write every file of the report into the empty folder `out`; return the consolidated workbook's path.

    The manifest comes last, with the durations of the run's steps, the list of what was written and, for a
    run of the orchestrator, its identifiers (`execution`: the flow run's id, the deployment)."""
    t0 = time.perf_counter()

    def the_rest() -> None:
        for feedback in report.feedback:
            write_workbook(feedback.workbook, out / feedback.path)
        for path, table in report.exports:
            write_csv(table, out / path)

    # The consolidated workbook is half the writing: the porteurs' workbooks and the exports go beside it.
    side_by_side(the_rest, lambda: write_workbook(report.workbook, out / report.workbook_path))
    manifest = report.manifest.as_json()
    manifest["durees_s"] = {k: round(v, 3) for k, v in (*durations, ("ecriture", time.perf_counter() - t0))}
    manifest["sorties"] = sorted(report.paths)
    if execution:
        manifest["execution"] = dict(execution)
    write_text(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n")
    return out / report.workbook_path
