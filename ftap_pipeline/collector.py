"""Python's garbage collector in the `ftap` command's own process: paused while the command imports its
modules and reads its inputs, then told to leave what it made then alone.

A full pass of the collector walks every object still alive. A run imports Prefect, pandas and pandera and
reads every return before it computes anything, and those objects live until it ends: at 1,000 returns the
passes over them took about 1 s of an 8 s run, to find a few dozen objects to free each time. Paused, then
frozen (`gc.freeze`), they are walked no more; what the run makes afterwards is collected as usual. Frozen
objects are still freed when their last reference goes; only reference cycles among them would wait for the
process to end, which is soon.

Only the command's own process does this (`start_command`, called by `cli.command`): in a process that goes
on after a command (a test calling `cli.main`, a Prefect worker running the flow) every call here does
nothing. `ftap run` pauses at its start and settles once its inputs are read (`flows/report_flow.py`);
`ftap check` pauses for its imports only.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_standalone = False


def start_command() -> None:
    """Mark this process as the `ftap` command's own, one that ends with the command."""
    global _standalone
    _standalone = True


def pause() -> None:
    """Pause the collector until `settle`, in the command's own process: its imports and its reading follow."""
    if _standalone:
        gc.disable()


def settle() -> None:
    """The imports and the reading done: freeze what they made out of the collector's passes and resume it,
    in the command's own process."""
    if _standalone:
        gc.freeze()
        gc.enable()


def end_command() -> None:
    """Before the interpreter's exit, which would walk every object still alive once more: 0.1 to 0.2 s."""
    if _standalone:
        gc.freeze()


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """`pause`, a block of imports (they make long-lived objects only), then `settle`."""
    pause()
    try:
        yield
    finally:
        settle()
