"""One run per outputs folder: a second run is refused at once, and a run that dies frees the folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ftap_pipeline.io.run_lock import LOCK_FILE, RunLockedError, outputs_lock

HOLD = """
import sys, time
from pathlib import Path
from ftap_pipeline.io.run_lock import outputs_lock
with outputs_lock(Path(sys.argv[1]), "rapport 2025-T2"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_run_on_the_same_outputs_is_refused(tmp_path: Path) -> None:
    with outputs_lock(tmp_path, "rapport 2025-T2"):
        with pytest.raises(RunLockedError) as info, outputs_lock(tmp_path, "rapport comite-2025-06-12"):
            pass
        assert "Un autre traitement écrit déjà" in info.value.message
        assert "rapport 2025-T2" in info.value.message
        assert f"processus {os.getpid()}" in info.value.message
    with outputs_lock(tmp_path, "rapport comite-2025-06-12"):  # free again once the first run is over
        assert "comite-2025-06-12" in (tmp_path / LOCK_FILE).read_text(encoding="utf-8")


def test_other_outputs_folders_are_independent(tmp_path: Path) -> None:
    with outputs_lock(tmp_path / "a", "rapport 2025-T2"), outputs_lock(tmp_path / "b", "rapport 2025-T2"):
        pass


def test_a_killed_run_leaves_no_lock_behind(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=f"processus {holder.pid}"), outputs_lock(tmp_path, "x"):
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        holder.kill()
    deadline = time.monotonic() + 5
    while True:
        try:
            with outputs_lock(tmp_path, "rapport 2025-T2"):
                break
        except RunLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
