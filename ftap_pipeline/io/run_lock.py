"""One run at a time per outputs folder: a scheduled run and a manual one must never write the same files.

The lock is an OS lock on `outputs/.ftap.lock`, held for the whole run. The OS releases it when the process
ends, however it ends, so a killed run never leaves a stale lock behind; the file itself only says who
holds it, for the message the second run gives. Once the lock is held, what a killed run left (staging
folders, temporary files) is put right, before any work (`staging.sweep`).

The lock is taken with `flock`, on an open file description of its own: a second run in the same process is
refused too, and a file removed and created again by someone else would not be the locked one (the lock file
is never removed by the pipeline).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ftap_pipeline.io.staging import sweep
from ftap_pipeline.io.write_errors import writing_into

LOCK_FILE = ".ftap.lock"
log = logging.getLogger("ftap")
#: The descriptors of the locks this process holds.
_held: set[int] = set()


def _let_go_in_child() -> None:
    """A forked child (a reader, a writer) shares its parent's open lock: were the parent killed, the child
    would keep the folder locked until it ended. Its copies are pointed at the null device instead: the
    parent's lock stands, and the numbers stay valid in the child (nothing else gets them)."""
    if not _held:
        return
    null = os.open(os.devnull, os.O_RDWR)
    for fd in _held:
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    os.close(null)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_let_go_in_child)


class RunLockedError(RuntimeError):
    """Another run holds the outputs folder; `message` says which, in French."""

    def __init__(self, outputs: Path, holder: str) -> None:
        self.message = (f"Un autre traitement écrit déjà dans le dossier de sorties {outputs} ({holder or 'détenteur inconnu'}). "
                        f"Attendez qu'il se termine, puis relancez ; rien n'a été écrit.")
        super().__init__(self.message)


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - the porteurs' Windows desks run `ftap check`, not reports
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def is_free(outputs: Path) -> bool:
    """Whether no run holds the outputs folder now; nothing is created (a folder or lock file that does not
    exist yet is free). Only a hint: the run itself takes the lock, and may still be refused it."""
    if sys.platform == "win32":  # pragma: no cover - no report runs on the porteurs' Windows desks
        return True
    import fcntl

    try:
        fd = os.open(outputs / LOCK_FILE, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        os.close(fd)  # closing the descriptor drops the lock this probe took
    return True


@contextlib.contextmanager
def outputs_lock(outputs: Path, what: str) -> Iterator[None]:
    """Hold the outputs folder for the block; raise `RunLockedError` at once if another run holds it.

    `what` says what this run is (`rapport 2025-T2`), for the message a second run would give. A folder the
    system refuses to write (read-only, permission, disk full) raises `OutputsUnwritableError`, in French."""
    with writing_into(outputs):
        outputs.mkdir(parents=True, exist_ok=True)
        handle = (outputs / LOCK_FILE).open("a+", encoding="utf-8")
    try:
        if not _try_lock(handle):
            handle.seek(0)
            raise RunLockedError(outputs.resolve(), handle.read().strip())
        with writing_into(outputs):
            handle.seek(0)
            handle.truncate()
            started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
            handle.write(f"{what}, processus {os.getpid()} sur {socket.gethostname()}, depuis {started}\n")
            handle.flush()
            for done in sweep(outputs):
                log.warning("Reprise après un traitement interrompu : %s.", done)
        _held.add(handle.fileno())
        yield
    finally:
        _held.discard(handle.fileno())
        handle.close()
