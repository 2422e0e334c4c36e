"""Kills at random moments of the publication always leave the previous report or the new one, whole, and the
next run puts right what the killed one left, then succeeds.

A real `pipeline.run` over the demo inputs runs in a subprocess; it is SIGKILLed at a moment hypothesis draws
across its publication (from its « Écriture des classeurs » line to a little past its end). The folder it
leaves is compared, file by file and by content hash, with the previous report and with a reference run of
the new one."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftap_pipeline.core.period import Period
from ftap_pipeline.io.atomic import is_leftover
from ftap_pipeline.pipeline import RunConfig, run
from tests.conftest import INPUTS, ROOT

LABEL = "2025-T2"
#: A return the previous report did not have: the new report differs from it in its workbook and its exports.
LATE_RETURN = "2025-T2_CERT-Nantes_AP-2024-06.xlsx"
CHILD = """
import logging, sys
from pathlib import Path
from ftap_pipeline.core.period import Period
from ftap_pipeline.pipeline import RunConfig, run
handler = logging.StreamHandler(sys.stderr)
logger = logging.getLogger("ftap")
logger.addHandler(handler)
logger.setLevel(logging.INFO)
run(RunConfig.quarterly(Path(sys.argv[1]), Path(sys.argv[2]), Period.parse(sys.argv[3])))
print("fini", file=sys.stderr, flush=True)
"""
PUBLISHING = "Écriture des classeurs"


def state(out: Path) -> dict[str, str] | None:
    """What a reader of the report's folder sees: each file's SHA-256; the manifest by its list of outputs (it
    holds timings), the messages' copies by name (they are dated by the manifest)."""
    if not out.exists():
        return None
    seen: dict[str, str] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = path.relative_to(out).as_posix()
        if name == "manifest.json":
            seen[name] = json.dumps(json.loads(path.read_text(encoding="utf-8"))["sorties"])
        elif path.suffix == ".eml":
            seen[name] = "copie"
        else:
            seen[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


def leftovers(outputs: Path) -> list[str]:
    return sorted(p.relative_to(outputs).as_posix() for p in outputs.rglob("*")
                  if p.name.startswith(".staging-") or is_leftover(p.name))


@dataclass(frozen=True)
class Reference:
    inputs: Path
    previous: Path  # an outputs folder holding the previous report
    old: dict[str, str]
    new: dict[str, str]
    publication_s: float


def _child(inputs: Path, outputs: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(inputs), str(outputs), LABEL], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, cwd=ROOT)


def _wait_for(child: subprocess.Popen[str], line: str) -> None:
    assert child.stderr is not None
    for got in child.stderr:
        if line in got:
            return
    raise AssertionError(f"the run ended (code {child.wait()}) without saying « {line} »")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    root = tmp_path_factory.mktemp("kill")
    old_inputs = root / "old-inputs"
    shutil.copytree(INPUTS, old_inputs)
    (old_inputs / "remontees" / LATE_RETURN).unlink()
    previous = root / "previous"
    run(RunConfig.quarterly(old_inputs, previous, Period.parse(LABEL)))
    fresh = root / "fresh"
    child = _child(INPUTS, fresh)
    _wait_for(child, PUBLISHING)
    started = time.monotonic()
    _wait_for(child, "fini")
    publication_s = time.monotonic() - started
    assert child.wait(timeout=60) == 0
    old, new = state(previous / LABEL), state(fresh / LABEL)
    assert old is not None
    assert new is not None
    assert old != new
    yield Reference(INPUTS, previous, old, new, publication_s)
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=st.floats(min_value=0.0, max_value=1.2))
def test_a_kill_during_publication_leaves_the_previous_report_or_the_new_one(reference: Reference,
                                                                               moment: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        outputs = Path(folder) / "outputs"
        shutil.copytree(reference.previous, outputs)
        child = _child(reference.inputs, outputs)
        try:
            _wait_for(child, PUBLISHING)
            time.sleep(moment * reference.publication_s)
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=60)
        seen = state(outputs / LABEL)
        assert seen == reference.old or seen == reference.new, "a reader would see a mix of two reports"

        again = run(RunConfig.quarterly(reference.inputs, outputs, Period.parse(LABEL)))  # puts right, then succeeds
        assert again.workbook == outputs / LABEL / f"FTAP_suivi_{LABEL}.xlsx"
        assert state(outputs / LABEL) == reference.new
        assert leftovers(outputs) == []
        archives = sorted((outputs / "archives" / LABEL).iterdir())
        assert archives, "the previous report must have been archived"
        assert state(archives[0]) == reference.old  # the previous report is never lost
        for archived in archives[1:]:
            assert state(archived) in (reference.old, reference.new)
