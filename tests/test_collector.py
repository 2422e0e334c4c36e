"""The garbage collector is paused and frozen in the `ftap` command's own process only, and a run made that
way writes the same report."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftap_pipeline import collector
from tests.conftest import GOLDEN, INPUTS
from tests.workbook_compare import differences

ROOT = Path(__file__).resolve().parent.parent

STATES = """
import gc, json
from ftap_pipeline import collector
seen = {"before": gc.isenabled()}
collector.start_command()
collector.pause()
seen["paused"] = gc.isenabled()
collector.settle()
seen["settled"], seen["frozen"] = gc.isenabled(), gc.get_freeze_count() > 0
with collector.paused():
    seen["in_block"] = gc.isenabled()
seen["after_block"] = gc.isenabled()
print(json.dumps(seen))
"""

RUN = """
import gc, json, sys
from ftap_pipeline import cli, collector
collector.start_command()  # what `cli.command` does first; its exit's freeze is left out, to see the run's
code = cli.main(sys.argv[1:])
print(json.dumps({"code": code, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


def test_outside_the_commands_process_nothing_changes() -> None:
    frozen, enabled = gc.get_freeze_count(), gc.isenabled()
    collector.pause()
    assert gc.isenabled() == enabled
    with collector.paused():
        assert gc.isenabled() == enabled
    collector.settle()
    collector.end_command()
    assert (gc.get_freeze_count(), gc.isenabled()) == (frozen, enabled)


def test_in_the_commands_process_the_collector_pauses_then_resumes_frozen() -> None:
    done = subprocess.run([sys.executable, "-c", STATES], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(done.stdout) == {"before": True, "paused": False, "settled": True, "frozen": True,
                                       "in_block": False, "after_block": True}


@pytest.mark.slow
def test_a_run_of_the_command_resumes_its_collector_and_writes_the_golden_report(tmp_path: Path) -> None:
    """The real command, its own server and all: the collector is running again once the inputs are read,
    and the report is the golden one, cell by cell."""
    env = {**{k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}, "PREFECT_HOME": str(tmp_path / "p"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(ROOT)}
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", RUN, "run", "--period", "2025-T2", "--inputs", str(INPUTS),
                           "--outputs", str(out), "--no-send"], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["code"] == 0
    assert state["enabled"] is True  # resumed once the inputs were read (`collector.settle` in the flow)
    assert state["frozen"] > 100_000  # and what the imports and the reading made, frozen then
    report = "FTAP_suivi_2025-T2.xlsx"
    assert differences(out / "2025-T2" / report, GOLDEN / report) == []
