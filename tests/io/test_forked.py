"""Two writing jobs side by side: the child's work, its errors and its death all reach the parent."""

from __future__ import annotations

import errno
import logging
import os
import signal
import time
from pathlib import Path

import pytest

from ftap_pipeline.io.forked import computed_beside, side_by_side
from ftap_pipeline.io.isolation import START_METHOD_ENV


def _write_pid(path: Path) -> None:
    path.write_text(str(os.getpid()), encoding="utf-8")


def test_the_side_job_runs_in_a_child_while_the_main_one_runs_here(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    side_by_side(lambda: _write_pid(tmp_path / "side"), lambda: _write_pid(tmp_path / "main"))
    assert int((tmp_path / "main").read_text()) == os.getpid()
    assert int((tmp_path / "side").read_text()) != os.getpid()


def test_under_spawn_both_jobs_run_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(START_METHOD_ENV, "spawn")
    side_by_side(lambda: _write_pid(tmp_path / "side"), lambda: _write_pid(tmp_path / "main"))
    assert int((tmp_path / "side").read_text()) == os.getpid()


def test_an_error_of_the_child_is_raised_here_with_its_errno_and_file(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(START_METHOD_ENV, raising=False)

    def full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "retour.xlsx"))

    with pytest.raises(OSError, match="No space left") as caught:
        side_by_side(full, lambda: _write_pid(tmp_path / "main"))
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(tmp_path / "retour.xlsx")
    assert (tmp_path / "main").is_file()  # the main job ran to its end


def test_a_child_killed_without_a_word_has_its_job_run_again_here(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    parent = os.getpid()

    def side() -> None:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        _write_pid(tmp_path / "side")

    side_by_side(side, lambda: None)
    assert int((tmp_path / "side").read_text()) == parent


def test_an_error_of_the_main_job_stops_the_child_and_is_raised(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    parent = os.getpid()

    def slow_side() -> None:
        time.sleep(30)
        _write_pid(tmp_path / "side")

    def failing_main() -> None:
        raise RuntimeError("classeur")

    began = time.monotonic()
    with pytest.raises(RuntimeError, match="classeur"):
        side_by_side(slow_side, failing_main)
    assert time.monotonic() - began < 10  # the child was not waited for to its end
    assert not (tmp_path / "side").exists()  # killed, not left to finish in the background
    assert os.getpid() == parent


def test_the_child_s_log_records_are_said_here_once_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked child cannot reach the run's log handlers (Prefect's among them): its `ftap` records come back
    with its outcome and are handled here, after the main job's, each once, with their text and level."""
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    seen: list[tuple[int, str, int]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((record.levelno, record.getMessage(), record.process or 0))

    logger = logging.getLogger("ftap")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        def side() -> None:
            logger.info("Lot %d écrit.", 1)
            logger.warning("Le cache n'a pas pu être écrit (%s).", "disque plein")
            raise OSError(errno.ENOSPC, "No space left on device")

        with pytest.raises(OSError, match="No space left"):
            side_by_side(side, lambda: logger.info("Contrôle des remontées…"))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert [(lvl, text) for lvl, text, _ in seen] == [
        (logging.INFO, "Contrôle des remontées…"), (logging.INFO, "Lot 1 écrit."),
        (logging.WARNING, "Le cache n'a pas pu être écrit (disque plein).")]
    assert seen[0][2] == os.getpid() != seen[1][2]  # the last two were logged by the child


def test_a_value_computed_in_the_child_comes_back_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    order: list[str] = []
    value = computed_beside(lambda: {"pid": os.getpid(), "lignes": [1.5, None, "x"]}, lambda: order.append("main"))
    assert value["pid"] != os.getpid()
    assert value["lignes"] == [1.5, None, "x"]
    assert order == ["main"]


def test_a_value_that_does_not_pickle_is_computed_again_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value the child cannot send (a lambda, say) is not lost: the computation runs again here."""
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    parent = os.getpid()
    value = computed_beside(lambda: (os.getpid(), lambda: None), lambda: None)
    assert value[0] == parent


def test_under_spawn_the_value_is_computed_here_after_the_main_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(START_METHOD_ENV, "spawn")
    order: list[str] = []

    def compute() -> int:
        order.append("compute")
        return os.getpid()

    assert computed_beside(compute, lambda: order.append("main")) == os.getpid()
    assert order == ["main", "compute"]
