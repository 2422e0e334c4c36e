"""Start a slow call in a background thread now, and take its result later, where it would have been made.

`ftap run` reads its inputs while Prefect's temporary server starts and the flow's run is created: a
second or more of waiting on the server, during which a core is idle. The flow's reading step then takes
the result instead of reading again (`pipeline.ingest`).

The call's log records (logger `ftap`) are held back and re-emitted where the result is taken, in their
order: the progress lines read as if the call had been made there, and they reach the run's logs in
Prefect, which do not exist yet when the call starts. An error of the call is raised there too.

The call runs in a thread of a process whose main thread may be importing modules: a call that forks
worker processes must first import, in the main thread, every module those workers use
(`intake.import_readers`), or a worker could wait forever on a module's import lock.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sys
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

_LOGGER = "ftap"
_lock = threading.Lock()
_pending: dict[Hashable, Prefetch[object]] = {}
_names = itertools.count(1)


class _HeldBack(logging.Filter):
    """Keeps the records logged from one thread and the threads it names after itself, instead of letting
    them through."""

    def __init__(self, thread_name: str) -> None:
        super().__init__()
        self.thread_name = thread_name
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        # The call's own helper threads are named after it: `ftap-prefetch-1/chorus`.
        name = record.threadName or ""
        if name == self.thread_name or name.startswith(self.thread_name + "/"):
            self.records.append(record)
            return False
        return True


class Prefetch(Generic[T]):
    """`fn()` running in a background thread; `result()` waits for it and re-emits its held-back records.

    With `nice`, the thread runs that much below this process's priority, and so do the processes it forks
    (on Linux, where a thread has its own priority and a child inherits its parent thread's)."""

    def __init__(self, fn: Callable[[], T], *, nice: int = 0) -> None:
        self._fn = fn
        self._nice = nice
        self._value: T | None = None
        self._error: BaseException | None = None
        name = f"ftap-prefetch-{next(_names)}"
        self._held = _HeldBack(name)
        logging.getLogger(_LOGGER).addFilter(self._held)
        # A daemon: a command that stops before taking the result does not wait for it at exit.
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self._nice > 0:
            _lower_this_thread(self._nice)
        try:
            self._value = self._fn()
        except BaseException as exc:  # noqa: BLE001 - taken back and raised by `result`, in the caller's thread
            self._error = exc

    def result(self) -> T:
        """The call's value, once it is done (its error raised here), after its log records."""
        self._thread.join()
        logger = logging.getLogger(_LOGGER)
        logger.removeFilter(self._held)
        for record in self._held.records:
            record.threadName = threading.current_thread().name
            logger.handle(record)
        self._held.records.clear()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set by `_run` when there is no error

    def discard(self) -> None:
        """Forget the call: its records are dropped, and it ends on its own (its thread is a daemon)."""
        logging.getLogger(_LOGGER).removeFilter(self._held)
        self._held.records.clear()


def _lower_this_thread(nice: int) -> None:
    """Lower the calling thread's priority by `nice` (Linux only: elsewhere a priority is the whole process's)."""
    if sys.platform != "linux":
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):  # a container may forbid it: the call then runs as it would have
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))


def start(key: Hashable, fn: Callable[[], T], *, nice: int = 0) -> Prefetch[T]:
    """Start `fn()` now, for the first `claim(key)` (`nice`: see `Prefetch`); a call already pending under
    `key` is discarded."""
    prefetch = Prefetch(fn, nice=nice)
    with _lock:
        previous = _pending.pop(key, None)
        _pending[key] = prefetch  # type: ignore[assignment]  # the registry holds calls of any result type
    if previous is not None:
        previous.discard()
    return prefetch


def claim(key: Hashable) -> Prefetch[object] | None:
    """The call started under `key`, taken out of the registry; None when there is none."""
    with _lock:
        return _pending.pop(key, None)


def discard(key: Hashable) -> None:
    """Drop the call pending under `key`, if no one took it (the run stopped before reading)."""
    prefetch = claim(key)
    if prefetch is not None:
        prefetch.discard()
