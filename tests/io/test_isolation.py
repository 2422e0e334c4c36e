"""A file that kills its reader costs only its worker: neighbours are read, the culprit is reported."""

from __future__ import annotations

import faulthandler
import os
import time
from pathlib import Path

import pytest

from ftap_pipeline.io.isolation import START_METHOD_ENV, map_isolated, start_isolated


def _read_or_die(path: Path) -> str:
    if path.name == "poison":
        faulthandler.disable()  # keep the test log quiet: the crash is the point
        os.abort()  # what a native reader does on some hostile files
    return path.name.upper()


def test_a_crashing_file_is_isolated(tmp_path: Path) -> None:
    paths = [tmp_path / n for n in ("a", "poison", "b", "c")]
    assert map_isolated(_read_or_die, paths, lambda p: f"crash:{p.name}", workers=2) == ["A", "crash:poison", "B", "C"]


def test_nothing_to_read() -> None:
    assert map_isolated(_read_or_die, [], lambda p: "x") == []


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_started_workers_read_before_the_results_are_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                method: str) -> None:
    """`start_isolated` starts the workers at once (`ftap check` imports pandas meanwhile): every file is read
    while this process does something else, and `results()` then gives them in order."""
    from tests.io.workers import leave_a_mark

    monkeypatch.setenv(START_METHOD_ENV, method)
    paths = [tmp_path / n for n in ("a", "b", "c")]
    started = start_isolated(leave_a_mark, paths, lambda p: f"crash:{p.name}", workers=2)
    deadline = time.monotonic() + 60
    while not all(p.with_name(p.name + ".lu").exists() for p in paths) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(p.name for p in tmp_path.glob("*.lu")) == ["a.lu", "b.lu", "c.lu"]
    assert started.results() == ["A", "B", "C"]


def test_a_started_reading_isolates_a_crash_too(tmp_path: Path) -> None:
    paths = [tmp_path / n for n in ("a", "poison", "b")]
    started = start_isolated(_read_or_die, paths, lambda p: f"crash:{p.name}", workers=2)
    assert started.results() == ["A", "crash:poison", "B"]


def test_the_results_are_computed_once(tmp_path: Path) -> None:
    from tests.io.workers import leave_a_mark

    path = tmp_path / "a"
    started = start_isolated(leave_a_mark, [path], lambda p: "crash", workers=1)
    assert started.results() == ["A"]
    path.with_name("a.lu").unlink()
    assert started.results() == ["A"]
    assert not path.with_name("a.lu").exists()
