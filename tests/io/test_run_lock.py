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


RUN = """
import sys
from pathlib import Path
from ftap_pipeline.core.period import Period
from ftap_pipeline.io.run_lock import RunLockedError
from ftap_pipeline.pipeline import RunConfig, run
config = RunConfig.quarterly(Path(sys.argv[1]), Path(sys.argv[2]), Period.parse("2025-T2"))
print("prêt", flush=True)
sys.stdin.readline()  # everything imported: the run starts the moment it is told to
try:
    print("écrit", run(config).workbook, flush=True)
except RunLockedError as exc:
    print("refusé", exc.message, flush=True)
"""


def _run_process(outputs: Path) -> subprocess.Popen[str]:
    from tests.conftest import INPUTS, ROOT

    process = subprocess.Popen([sys.executable, "-c", RUN, str(INPUTS), str(outputs)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "prêt"
    return process


def _go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.flush()


@pytest.mark.slow
def test_of_two_real_runs_on_the_same_outputs_one_writes_and_the_other_is_refused(tmp_path: Path) -> None:
    first, second = _run_process(tmp_path), _run_process(tmp_path)
    try:
        _go(first)
        deadline = time.monotonic() + 60
        while f"processus {first.pid} " not in ((tmp_path / LOCK_FILE).read_text(encoding="utf-8")
                                                  if (tmp_path / LOCK_FILE).exists() else ""):
            assert time.monotonic() < deadline, "the first run never took the lock"
            time.sleep(0.01)
        _go(second)  # the first run now reads, assembles and writes for seconds
        refused, _ = second.communicate(timeout=120)
        written, _ = first.communicate(timeout=300)
    finally:
        first.kill()
        second.kill()
    assert refused.startswith(f"refusé Un autre traitement écrit déjà dans le dossier de sorties {tmp_path.resolve()} "
                              f"(rapport 2025-T2, processus {first.pid} ")
    assert written.strip() == f"écrit {tmp_path / '2025-T2' / 'FTAP_suivi_2025-T2.xlsx'}"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["2025-T2"]  # one report
    assert not list((tmp_path / "2025-T2").rglob(".*"))  # whole, nothing of the refused run in it


def test_the_same_outputs_reached_by_another_path_are_the_same_lock(tmp_path: Path) -> None:
    (tmp_path / "sorties").mkdir()
    os.symlink(tmp_path / "sorties", tmp_path / "lien")
    with outputs_lock(tmp_path / "sorties", "rapport 2025-T2"):
        with pytest.raises(RunLockedError), outputs_lock(tmp_path / "lien", "rapport 2025-T2"):
            pass
        with pytest.raises(RunLockedError), outputs_lock(tmp_path / "lien" / ".." / "sorties", "rapport 2025-T2"):
            pass


def test_holding_the_lock_puts_right_what_a_killed_run_left(tmp_path: Path) -> None:
    staging = tmp_path / ".staging-2025-T2-999999"
    (staging / "donnees").mkdir(parents=True)
    leftover = tmp_path / "2025-T2" / ".manifest.json.ftap-abcd1234.tmp"
    leftover.parent.mkdir()
    leftover.touch()
    with outputs_lock(tmp_path, "rapport 2025-T2"):
        assert not staging.exists()
        assert not leftover.exists()


def test_a_forked_child_does_not_keep_the_folder_locked_after_its_parent_lets_go(tmp_path: Path) -> None:
    """Readers and writers are forked while the run holds the lock: were the run killed, a child still
    running must not hold the folder for the next run."""
    import os
    import time

    with outputs_lock(tmp_path, "rapport 2025-T2"):
        ready, said = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child says it runs, then waits
            os.write(said, b"1")
            time.sleep(5)
            os._exit(0)
        assert os.read(ready, 1) == b"1"
        os.close(ready)
        os.close(said)
    try:
        with outputs_lock(tmp_path, "rapport 2025-T2"):  # the child is still alive, and the lock is free
            assert os.waitpid(child, os.WNOHANG) == (0, 0)
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)


def test_whether_the_folder_is_free_is_told_without_creating_anything(tmp_path: Path) -> None:
    from ftap_pipeline.io.run_lock import is_free

    assert is_free(tmp_path / "absent")
    assert not (tmp_path / "absent").exists()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert not is_free(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert is_free(tmp_path)
    with outputs_lock(tmp_path, "rapport 2025-T2"):  # the probe left no lock behind
        pass
