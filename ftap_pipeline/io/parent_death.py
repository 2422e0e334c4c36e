"""A child process that ends with its parent: on Linux the kernel signals it when its parent goes.

Used by the temporary Prefect server (SIGTERM, so it shuts down cleanly) and by the forked writer of a
report (SIGKILL: it only writes into a staging folder that the next run sweeps). Elsewhere this does
nothing, and each caller has its own fallback (a watchdog, or a check of the parent's pid).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> None:
    """Ask Linux to send `sig` to this process when the thread that started it ends."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)
