"""Run two jobs side by side: one that only writes files in a forked child, the other here, on two cores.

Writing a report is pure Python (xlsxwriter), so threads would take turns; a forked child already holds
the assembled report (or the parsed returns) in its memory, and nothing is pickled back but an error and
the child's log records (logger `ftap`), which are re-emitted here, in order, once the child is done: they
reach this process's handlers, the run's logs in Prefect among them, which a forked child cannot reach
itself. Only where workers are forked
(`isolation.start_method()`, Linux): elsewhere, and under `FTAP_START_METHOD=spawn`, both jobs run here,
one after the other, with the same result.

The child writes only files. It dies with the thread that forked it (Linux), so a killed run leaves no
writer behind, and it does not hold the run's lock on the outputs folder (`run_lock`). An error of the
child is raised here, as if its job had run here; a child that dies without saying (killed, out of
memory) has its job run again here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
from collections.abc import Callable

from ftap_pipeline.io.isolation import start_method
from ftap_pipeline.io.parent_death import die_with_parent


def side_by_side(side: Callable[[], object], main: Callable[[], object]) -> None:
    """`side()` in a forked child while `main()` runs here; return when both are done, raising the first
    error (this process's first)."""
    if not hasattr(os, "fork") or start_method() != "fork":
        main()
        side()
        return
    reader, writer = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child, measured by its effects
        _child(side, reader, writer, parent)
    os.close(writer)
    try:
        main()
    except BaseException:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        _reap(pid, reader)
        raise
    error, said, records = _reap(pid, reader)
    for record in records:
        logging.getLogger(record.name).handle(record)
    if error is not None:
        raise error
    if not said:
        side()


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


def _child(side: Callable[[], object], reader: int, writer: int, parent: int) -> None:  # pragma: no cover
    os.close(reader)
    die_with_parent(signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request above: nobody waits for this job
        os._exit(1)
    kept = _Kept()
    logging.getLogger(_LOGGER).addFilter(kept)
    code = 0
    try:
        side()
        outcome: BaseException | None = None
    except BaseException as exc:  # noqa: BLE001 - said to the parent, which raises it
        code, outcome = 1, exc
    try:
        payload = pickle.dumps((outcome, kept.records))
    except Exception:  # noqa: BLE001 - an error that does not pickle travels as its text
        text = RuntimeError(f"{type(outcome).__name__}: {outcome}") if outcome is not None else None
        payload = pickle.dumps((text, [r for r in kept.records if _picklable(r)]))
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


def _reap(pid: int, reader: int) -> tuple[BaseException | None, bool, list[logging.LogRecord]]:
    """Wait for the child: (its error, whether it said how it ended, its log records)."""
    chunks = []
    with os.fdopen(reader, "rb") as pipe:
        while chunk := pipe.read(1 << 16):
            chunks.append(chunk)
    os.waitpid(pid, 0)
    payload = b"".join(chunks)
    if not payload:
        return None, False, []
    try:
        error, records = pickle.loads(payload)  # our own child's words
    except Exception:  # noqa: BLE001 - words cut short: the job is run again here
        return None, False, []
    if error is not None and not isinstance(error, BaseException):
        return None, False, []
    return error, True, [r for r in records if isinstance(r, logging.LogRecord)]
