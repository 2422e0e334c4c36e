"""The temporary Prefect server of one `ftap run`, started by the command itself and dying with it.

Prefect's own ephemeral mode starts `uvicorn … prefect.server.api.server:create_app` on first use of the API,
after every import and check, and the server outlives a killed command, holding the caller's terminal or pipe
open. This one is started first, so that its start (7 to 12 s) overlaps the command's imports and checks; it
inherits neither stdout nor stderr (its messages go to `.state/serveur-prefect-temporaire.log`); and it ends
with its parent however the parent ends: on Linux the kernel sends it SIGTERM (`PR_SET_PDEATHSIG`), and
everywhere a watchdog thread in it exits as soon as its parent is gone.

`python -m flows.temporary_server --parent PID --port PORT` is the server's own entry point.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ftap_pipeline.io.parent_death import die_with_parent

if TYPE_CHECKING:
    from fastapi import FastAPI

#: What Prefect's `SubprocessASGIServer` gives its server (no UI, an ephemeral server's settings), less the
#: services that only serve a lasting server: automations (triggers and their actions), the recording of
#: events and task runs for the UI, and the database's clean-up. Nothing can look at a server that dies
#: with its command, and these services cost its start about 0.4 s (a tenth of a run's fixed cost).
#: Nor does it register Prefect's block types at start: that first loads every Prefect collection (prefect-dask,
#: hence `distributed`) to hash them, about 0.4 s of its start. The runs read one block, the SMTP password's
#: Secret, which an operator saves on a lasting server (`exploitation.md`): a Secret saved in the same
#: database is served all the same (saving it registered its type), and a fresh database has none, which its
#: lookup says.
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
              "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
              "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
              **{f"PREFECT_SERVER_SERVICES_{service}_ENABLED": "false"
                 for service in ("TRIGGERS", "EVENT_PERSISTER", "TASK_RUN_RECORDER", "DB_VACUUM")}}
LOG = Path(".state") / "serveur-prefect-temporaire.log"
#: The loopback is never reached through a proxy of the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TemporaryServerError(RuntimeError):
    """The temporary server did not answer in time; the message says so in French."""


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_file() -> int:
    try:
        LOG.parent.mkdir(parents=True, exist_ok=True)
        return os.open(LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError:
        return subprocess.DEVNULL


@dataclass
class TemporaryServer:
    """A server being started, or running, on `port` of the loopback, for the process that started it."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @classmethod
    def start(cls) -> TemporaryServer:
        """Start the server and return at once: `wait` is called when the API is needed."""
        port = _free_port()
        log = _log_file()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "flows.temporary_server", "--parent", str(os.getpid()), "--port", str(port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env={**os.environ, **SERVER_ENV},
                preexec_fn=die_with_parent if sys.platform == "linux" else None)
        finally:
            if isinstance(log, int):
                os.close(log)
        return cls(port, process)

    def wait(self, timeout_s: float) -> None:
        """Return once the server answers its health check; raise `TemporaryServerError` if it cannot."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TemporaryServerError(
                    f"Le serveur Prefect temporaire s'est arrêté au démarrage (code {self.process.returncode}) ; ses "
                    f"messages sont dans {LOG.resolve()}.")
            try:
                with _DIRECT.open(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise TemporaryServerError(
            f"Le serveur Prefect temporaire n'a pas répondu en {timeout_s:.0f} s (machine très chargée ?) ; ses "
            f"messages sont dans {LOG.resolve()}. Relancez, ou configurez un serveur durable (PREFECT_API_URL).")

    def stop(self, *, wait: bool = True) -> None:
        """Ask the server to stop and, with `wait`, wait until it has. At the command's exit it is not
        waited for: it ends on its own within a fraction of a second, and the command returns sooner."""
        if self.process.poll() is None:
            self.process.terminate()
            if not wait:
                return
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _watch(parent: int) -> None:
    """Exit as soon as the parent is gone (its child is then adopted by another process)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.temporary_server")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    if os.getppid() != args.parent:  # the parent died before this process started
        return
    threading.Thread(target=_watch, args=(args.parent,), daemon=True, name="ftap-parent-watchdog").start()
    gc.disable()  # until the app is built (`create_app`)
    import uvicorn

    uvicorn.run("flows.temporary_server:create_app", factory=True, host="127.0.0.1", port=args.port,
                log_level="error", lifespan="on")


def create_app() -> FastAPI:
    """Prefect's server app; then the garbage collector resumes, leaving alone what the start made.

    The server's start is the longest part of a run's fixed cost, the run waits for it, and nearly all it
    makes (modules, models, routes) lives as long as the server: `main` pauses the collector, whose passes
    over those objects cost about 0.4 s of a 3 s start, and they are frozen out of its later passes."""
    from prefect.server.api.server import create_app as prefect_app

    app = prefect_app()
    gc.freeze()
    gc.enable()
    return app


if __name__ == "__main__":
    main()
