"""A real Prefect server on loopback, started for the tests that need one and stopped after them.

Its state (SQLite database, profiles) lives in a temporary `PREFECT_HOME`, so the tests never touch the
user's Prefect set-up; `env` is what a client of this server (a CLI call, a worker) must be given.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class PrefectServer:
    url: str
    home: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_API_URL": self.url,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}

    def prefect(self, *args: str, cwd: Path | None = None, timeout: float = 180,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`prefect …` against this server; the caller checks the return code."""
        return subprocess.run([str(BIN / "prefect"), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                              env={**self.env, **(env or {})}, check=False)

    def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        response = httpx.request(method, self.url + path, timeout=30, **kwargs)  # type: ignore[arg-type]
        response.raise_for_status()
        return response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, timeout_s: float = 120) -> Iterator[PrefectServer]:
    """Start `prefect server start` on a free loopback port; yield once it answers its health check."""
    port = free_port()
    server = PrefectServer(f"http://127.0.0.1:{port}/api", home)
    env = {**server.env}
    env.pop("PREFECT_API_URL")
    log = (home / "server.log").open("w")
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited: {(home / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(server.url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not start: {(home / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield server
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        log.close()
