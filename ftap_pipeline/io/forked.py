"""Run two jobs side by side, one in a forked child and the other here, on two cores.

Writing a report is pure Python (xlsxwriter), and so is laying it out: threads would take turns. A forked
child already holds the assembled report (or the parsed returns, or the figures) in its memory; nothing is
pickled back but its error, its log records (logger `ftap`) and, for `computed_beside`, its value, which
must be small. The records are re-emitted here, in order, once the child is done: they reach this
process's handlers, the run's logs in Prefect among them, which a forked child cannot reach itself.

Only where workers are forked (`isolation.start_method()`, Linux): elsewhere, and under
`FTAP_START_METHOD=spawn`, both jobs run here, one after the other, with the same result.

The child writes files or computes a value, nothing else. It dies with the thread that forked it (Linux),
so a killed run leaves no job behind, and it does not hold the run's lock on the outputs folder
(`run_lock`). An error of the child is raised here, as if its job had run here; a child that dies without
saying (killed, out of memory), or whose value does not pickle, has its job run again here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
from collections.abc import Callable
from typing import TypeVar

from ftap_pipeline.io.isolation import start_method
from ftap_pipeline.io.parent_death import die_with_parent

T = TypeVar("T")


def side_by_side(side: Callable[[], object], main: Callable[[], object]) -> None:
    """`side()` in a forked child while `main()` runs here; return when both are done, raising the first
    error (this process's first)."""
    _beside(side, main, want=False)


def computed_beside(compute: Callable[[], T], main: Callable[[], object]) -> T:
    """`compute()` in a forked child while `main()` runs here; its value, pickled back (it must be small
    and picklable), once both are done. Errors as in `side_by_side`."""
    return _beside(compute, main, want=True)


def _beside(side: Callable[[], T], main: Callable[[], object], *, want: bool) -> T:
    if not hasattr(os, "fork") or start_method() != "fork":
        main()
        return side()
    reader, writer = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child, measured by its effects
        _child(side, reader, writer, parent, want)
    os.close(writer)
    try:
        main()
    except BaseException:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        _reap(pid, reader)
        raise
    said = _reap(pid, reader)
    if said is None:
        return side()
    error, records, value = said
    for record in records:
        logging.getLogger(record.name).handle(record)
    if error is not None:
        raise error
    return value  # type: ignore[return-value]  # what `side` returned, pickled back (None unless `want`)


_LOGGER = "ftap"


class _Kept(logging.Filter):
    """In the child: keeps the `ftap` records, made picklable, instead of letting them through."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)
        return False


def _child(side: Callable[[], object], reader: int, writer: int, parent: int, want: bool) -> None:  # pragma: no cover
    os.close(reader)
    die_with_parent(signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request above: nobody waits for this job
        os._exit(1)
    kept = _Kept()
    logging.getLogger(_LOGGER).addFilter(kept)
    code, value = 0, None
    try:
        result = side()
        value = result if want else None
        outcome: BaseException | None = None
    except BaseException as exc:  # noqa: BLE001 - said to the parent, which raises it
        code, outcome = 1, exc
    try:
        payload = pickle.dumps((outcome, kept.records, value))
    except Exception:  # noqa: BLE001 - an error that does not pickle travels as its text; a value, not at all
        text = RuntimeError(f"{type(outcome).__name__}: {outcome}") if outcome is not None else None
        payload = b"" if outcome is None and want else pickle.dumps(
            (text, [r for r in kept.records if _picklable(r)], None))
    with contextlib.suppress(OSError):
        view = memoryview(payload)
        while view:
            view = view[os.write(writer, view):]
    os._exit(code)  # no atexit handler of the parent's (Prefect's among them) runs in the child


def _picklable(record: logging.LogRecord) -> bool:
    try:
        pickle.dumps(record)
    except Exception:  # noqa: BLE001 - what a record holds is the caller's
        return False
    return True


def _reap(pid: int, reader: int) -> tuple[BaseException | None, list[logging.LogRecord], object] | None:
    """Wait for the child: (its error, its log records, its value), or None when it did not say how it ended."""
    chunks = []
    with os.fdopen(reader, "rb") as pipe:
        while chunk := pipe.read(1 << 16):
            chunks.append(chunk)
    os.waitpid(pid, 0)
    payload = b"".join(chunks)
    if not payload:
        return None
    try:
        error, records, value = pickle.loads(payload)  # our own child's words
    except Exception:  # noqa: BLE001 - words cut short: the job is run again here
        return None
    if error is not None and not isinstance(error, BaseException):
        return None
    return error, [r for r in records if isinstance(r, logging.LogRecord)], value
