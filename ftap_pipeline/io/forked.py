"""Run two writing jobs side by side: one in a forked child, the other here, on two cores.

Writing a report is pure Python (xlsxwriter), so threads would take turns; a forked child already holds
the assembled report in its memory, and nothing is pickled but an error. Only where workers are forked
(`isolation.start_method()`, Linux): elsewhere, and under `FTAP_START_METHOD=spawn`, both jobs run here,
one after the other, with the same result.

The child writes only files. It dies with the thread that forked it (Linux), so a killed run leaves no
writer behind, and it does not hold the run's lock on the outputs folder (`run_lock`). An error of the
child is raised here, as if its job had run here; a child that dies without saying (killed, out of
memory) has its job run again here.
"""

from __future__ import annotations

import contextlib
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
    error, said = _reap(pid, reader)
    if error is not None:
        raise error
    if not said:
        side()


def _child(side: Callable[[], object], reader: int, writer: int, parent: int) -> None:  # pragma: no cover
    os.close(reader)
    die_with_parent(signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request above: nobody waits for this job
        os._exit(1)
    code = 0
    try:
        side()
        payload = b"ok"
    except BaseException as exc:  # noqa: BLE001 - said to the parent, which raises it
        code = 1
        try:
            payload = pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an error that does not pickle travels as its text
            payload = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
    with contextlib.suppress(OSError):
        view = memoryview(payload)
        while view:
            view = view[os.write(writer, view):]
    os._exit(code)  # no atexit handler of the parent's (Prefect's among them) runs in the child


def _reap(pid: int, reader: int) -> tuple[BaseException | None, bool]:
    """Wait for the child: (its error, whether it said how it ended)."""
    chunks = []
    with os.fdopen(reader, "rb") as pipe:
        while chunk := pipe.read(1 << 16):
            chunks.append(chunk)
    os.waitpid(pid, 0)
    payload = b"".join(chunks)
    if payload == b"ok":
        return None, True
    if not payload:
        return None, False
    try:
        error = pickle.loads(payload)  # our own child's words
    except Exception:  # noqa: BLE001 - words cut short: the job is run again here
        return None, False
    return (error, True) if isinstance(error, BaseException) else (None, False)
