"""Which Prefect server `ftap run` uses: the operator's, when a profile or `PREFECT_API_URL` names one, or a
temporary local one started for the run.

A configured server that does not answer is said in French, with what to do, before any work: Prefect
itself would retry for a minute and then fail in English. The temporary server is started by the command
itself, first, and dies with it (`flows/temporary_server.py`).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
from collections.abc import Iterator
from typing import Any

from flows.temporary_server import TemporaryServer


def local_defaults() -> None:
    """What a temporary server needs on a machine with no network and no Prefect set-up; nothing the
    operator configured is overridden (their profile, `PREFECT_HOME`, `PREFECT_API_URL` stand)."""
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
    # The temporary server takes 7–12 s to start on an idle machine; Prefect's 20 s give up on a busy one.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def mute_console() -> None:
    """Silence Prefect's console handler (English, with tracebacks) in the terminal; its records still reach
    the run's logs on the server through their own handler."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            handler.setLevel(logging.CRITICAL + 1)


def start_early() -> TemporaryServer | None:
    """Start the temporary server before Prefect is imported, unless the environment names a server.

    Whether the operator's profile names one is known only from Prefect's settings, a second of imports
    later, and the server's start is the longest wait of a run: it is started on the likely answer, and
    the command stops it at once when the profile names a server after all."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    return start_temporary()


def start_temporary() -> TemporaryServer:
    """Start the temporary server now, before the command's heavy imports and checks, which its start overlaps;
    it ends with the command, however the command ends (see `flows/temporary_server.py`). Registered with
    `atexit` before Prefect is imported, its stop runs after Prefect's own exit handlers, which still send the
    run's last logs and events to it."""
    server = TemporaryServer.start()
    atexit.register(functools.partial(server.stop, wait=False))
    return server


@contextlib.contextmanager
def run_settings(temporary_server: bool | TemporaryServer) -> Iterator[None]:
    """Prefect's settings for the runs of `ftap run`: on a `TemporaryServer`, its API once it answers (True leaves
    Prefect to start its own, as `bench/` does). On a temporary server, no flow-run heartbeats: they tell
    a lasting server that a run has crashed, and nothing watches a server that dies with the command; their
    thread costs each run up to a second at its end (it sleeps by whole seconds and is joined)."""
    if temporary_server is False:
        yield
        return
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    updates: dict[Any, Any] = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    if isinstance(temporary_server, TemporaryServer):
        temporary_server.wait(float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
        updates[PREFECT_API_URL] = temporary_server.api_url
    with temporary_settings(updates=updates):  # the server stops at exit, after Prefect has sent its last logs
        yield


def configured_api_url() -> str | None:
    """The API of the active profile or of the environment; None means a temporary server."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def unreachable(url: str, timeout_s: float = 5.0) -> str | None:
    """None when the server answers its health check; otherwise the French message for the operator."""
    import httpx
    from prefect.settings import get_current_settings

    headers = {}
    key = get_current_settings().api.key
    if key is not None:
        headers["Authorization"] = f"Bearer {key.get_secret_value()}"
    try:
        response = httpx.get(url.rstrip("/") + "/health", timeout=timeout_s, headers=headers)
    except httpx.HTTPError as exc:
        reason = type(exc).__name__
    else:
        if response.status_code == 200:
            return None
        reason = f"réponse HTTP {response.status_code}"
    return (f"Le serveur Prefect configuré ({url}) ne répond pas ({reason}). Démarrez-le (« prefect server start »), "
            f"ou vérifiez PREFECT_API_URL et le profil actif (« prefect profile inspect ») ; pour travailler sans "
            f"serveur, retirez PREFECT_API_URL (« prefect config unset PREFECT_API_URL ») : « ftap run » démarre "
            f"alors un serveur temporaire local. Rien n'a été lu ni écrit.")
