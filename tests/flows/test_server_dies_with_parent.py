"""The temporary Prefect server of `ftap run` ends with the command, however the command ends, and never holds
the caller's output open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import INPUTS, ROOT

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="processes are found through /proc")


def _server_of(parent: int, timeout_s: float) -> tuple[int, int]:
    """The pid and port of the temporary server started by `parent`, found by its command line."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            try:
                argv = (entry / "cmdline").read_bytes().decode().split("\0")
            except OSError:
                continue
            if "flows.temporary_server" in argv and argv[argv.index("--parent") + 1] == str(parent):
                return int(entry.name), int(argv[argv.index("--port") + 1])
        time.sleep(0.1)
    raise AssertionError(f"no temporary server of process {parent} after {timeout_s} s")


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended: only its entry waits to be reaped


def _gone_within(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _end(pid: int) -> None:
    """After a failed assertion, the server this test started is not left running."""
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


def _healthy(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the temporary server on port {port} never answered")


def _reaches_eof(pipe: object, timeout_s: float) -> bool:
    """True when reading the pipe to its end returns within the delay (nobody holds its writing end)."""
    done = threading.Event()

    def read() -> None:
        pipe.read()  # type: ignore[attr-defined]
        done.set()

    threading.Thread(target=read, daemon=True).start()
    return done.wait(timeout_s)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return {**env, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
def test_a_killed_ftap_run_takes_its_temporary_server_with_it(tmp_path: Path) -> None:
    run = subprocess.Popen([sys.executable, "-m", "ftap_pipeline", "run", "--period", "2025-T2", "--inputs", str(INPUTS),
                            "--outputs", str(tmp_path / "out"), "--no-send"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp_path, env=_env(tmp_path))
    try:
        pid, port = _server_of(run.pid, timeout_s=60)
        _healthy(port, timeout_s=120)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        assert _gone_within(pid, timeout_s=10), "the temporary server outlived the killed command"
        assert _reaches_eof(run.stdout, timeout_s=10), "something still holds the command's output open"
    finally:
        run.kill()
        run.wait()
        if "pid" in locals():
            _end(pid)
    assert (tmp_path / ".state" / "serveur-prefect-temporaire.log").is_file()  # its messages, not the caller's


PARENT = """
import subprocess, sys, time
server = subprocess.Popen([sys.executable, "-m", "flows.temporary_server", "--parent", str(__import__("os").getpid()),
                           "--port", sys.argv[1]], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
print(server.pid, flush=True)
time.sleep(600)
"""


def test_without_the_kernel_s_help_the_watchdog_ends_an_orphaned_server(tmp_path: Path) -> None:
    """The portable fallback alone: a server started with no parent-death signal exits once its parent is gone."""
    from flows.temporary_server import _free_port

    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(_free_port())], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env=_env(tmp_path))
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        time.sleep(1.0)  # the watchdog starts before the server's imports
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert _gone_within(pid, timeout_s=10)
    finally:
        parent.kill()
        parent.wait()
        if "pid" in locals():
            _end(pid)
