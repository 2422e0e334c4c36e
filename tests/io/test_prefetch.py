"""A call started ahead gives its value, its error and its log lines where its result is taken, as if made there."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from ftap_pipeline.io import prefetch


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """What the `ftap` logger lets through, in order."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("ftap")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield seen
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_the_value_and_the_log_lines_come_where_the_result_is_taken(records: list[logging.LogRecord]) -> None:
    started = threading.Event()

    def work() -> int:
        logging.getLogger("ftap").info("Lecture de %d remontée(s)…", 3)
        logging.getLogger("ftap").warning("Attention : %s", "un fichier caché")
        started.set()
        return 42

    prefetch.start("k1", work)
    assert started.wait(10)
    time.sleep(0.05)
    logging.getLogger("ftap").info("pendant ce temps")  # the caller's own line goes through at once
    assert [r.getMessage() for r in records] == ["pendant ce temps"]
    taken = prefetch.claim("k1")
    assert taken is not None
    assert taken.result() == 42
    assert [r.getMessage() for r in records] == ["pendant ce temps", "Lecture de 3 remontée(s)…",
                                                 "Attention : un fichier caché"]
    assert [r.levelno for r in records[1:]] == [logging.INFO, logging.WARNING]
    assert {r.threadName for r in records[1:]} == {threading.current_thread().name}
    assert prefetch.claim("k1") is None  # taken once


def test_an_error_of_the_call_is_raised_where_the_result_is_taken(records: list[logging.LogRecord]) -> None:
    def work() -> None:
        logging.getLogger("ftap").info("avant l'erreur")
        raise ValueError("référentiel illisible")

    prefetch.start("k2", work)
    taken = prefetch.claim("k2")
    assert taken is not None
    with pytest.raises(ValueError, match="référentiel illisible"):
        taken.result()
    assert [r.getMessage() for r in records] == ["avant l'erreur"]


def test_a_call_no_one_takes_is_dropped_with_its_lines(records: list[logging.LogRecord]) -> None:
    done = threading.Event()

    def work() -> int:
        logging.getLogger("ftap").info("jamais montré")
        done.set()
        return 1

    prefetch.start("k3", work)
    assert done.wait(10)
    prefetch.discard("k3")
    assert prefetch.claim("k3") is None
    logging.getLogger("ftap").info("la suite")
    assert [r.getMessage() for r in records] == ["la suite"]
    assert not [f for f in logging.getLogger("ftap").filters if isinstance(f, prefetch._HeldBack)]


def test_a_second_start_under_the_same_key_replaces_the_first(records: list[logging.LogRecord]) -> None:
    prefetch.start("k4", lambda: "premier")
    prefetch.start("k4", lambda: "second")
    taken = prefetch.claim("k4")
    assert taken is not None
    assert taken.result() == "second"
    assert not [f for f in logging.getLogger("ftap").filters if isinstance(f, prefetch._HeldBack)]


def test_the_lines_of_a_helper_thread_named_after_the_call_are_held_back_too(
        records: list[logging.LogRecord]) -> None:
    def work() -> int:
        helper = threading.Thread(target=lambda: logging.getLogger("ftap").info("restitutions Chorus lues"),
                                  name=f"{threading.current_thread().name}/chorus")
        helper.start()
        helper.join()
        return 7

    prefetch.start("k5", work)
    time.sleep(0.2)
    assert records == []
    taken = prefetch.claim("k5")
    assert taken is not None
    assert taken.result() == 7
    assert [r.getMessage() for r in records] == ["restitutions Chorus lues"]


@pytest.mark.skipif(sys.platform != "linux", reason="a thread has its own priority on Linux only")
def test_a_call_started_below_the_caller_s_priority_runs_there_and_so_do_its_children() -> None:
    """The reading ahead yields to the server's start: its thread, and the readers it forks, run `nice` below
    the command; the command's own thread keeps its priority."""
    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def call() -> tuple[int, int]:
        mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        child = subprocess.run([sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"],
                               capture_output=True, text=True, check=True)
        return mine, int(child.stdout)

    expected = min(19, here + 3)
    assert prefetch.Prefetch(call, nice=3).result() == (expected, expected)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == here
    assert prefetch.Prefetch(call).result() == (here, here)
