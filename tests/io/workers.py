"""What the start-method tests run in worker processes.

A spawned worker imports the module of the function it runs: kept to the standard library here (the reader
is imported only where it is used), so that each worker costs an interpreter, not pandas."""

from __future__ import annotations

import faulthandler
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ftap_pipeline.io.workbook_reader import ReadOutcome

#: Set by the parent while a test runs: a forked worker sees it, a spawned one does not.
PARENT_STATE: dict[str, bool] = {}


def die() -> None:
    faulthandler.disable()  # keep the test log quiet: the crash is the point
    os.abort()  # what a native reader does on some hostile files


def name_or_die(path: Path) -> str:
    if path.name.startswith("poison"):
        die()
    return path.name.upper()


def sees_parent_state(path: Path) -> bool:
    return bool(PARENT_STATE)


def read_or_die(path: Path) -> ReadOutcome:
    """The real reading of a file, except that a file named `poison…` kills its worker."""
    from ftap_pipeline.io.workbook_reader import read_file

    if path.name.startswith("poison"):
        die()
    return read_file(path)


def fail(path: Path) -> str:
    raise ValueError(f"bug on {path.name}")


def hang(path: Path) -> str:
    time.sleep(600)
    return path.name


def spin_poison(path: Path) -> str:
    """A parser stuck in a loop that never sleeps on a `poison…` file (as a native reader on some hostile files)."""
    while path.name.startswith("poison"):
        pass
    return path.name.upper()


def hog(path: Path) -> str:
    """A parser that asks for far more memory than any return needs, and says how that ended."""
    try:
        return str(len(bytearray(16 << 30)))
    except MemoryError:
        return "MemoryError"


def leave_a_mark(path: Path) -> str:
    """Write `<path>.lu` as it is read: the parent sees when a worker got to the file."""
    path.with_name(path.name + ".lu").write_text("", encoding="ascii")
    return path.name.upper()
