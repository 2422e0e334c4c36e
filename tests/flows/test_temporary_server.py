"""The temporary server of `ftap run`, started as the command starts it, on a Prefect home never used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PROGRAM = """
from flows.temporary_server import TemporaryServer
from prefect.settings import PREFECT_API_URL, temporary_settings

server = TemporaryServer.start()
try:
    server.wait(120)
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        from flows.secrets import smtp_password_from_block
        from prefect.client.orchestration import get_client

        print("mot de passe", smtp_password_from_block())
        with get_client(sync_client=True) as client:
            print("types de blocs", len(client.read_block_types()))
finally:
    server.stop()
"""


def test_a_fresh_server_registers_no_block_type_and_the_password_lookup_finds_none(tmp_path: Path) -> None:
    """Registering the block types would cost its start 0.4 s: the one block a run reads, the SMTP
    password's Secret, is then simply absent, as it is on any database where no one saved it."""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PYTHONPATH": str(ROOT)}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == ["mot de passe None", "types de blocs 0"]


APP = """
import gc
gc.disable()  # as the server's `main` leaves it
from flows.temporary_server import create_app
app = create_app()
print(type(app).__name__, gc.isenabled(), gc.get_freeze_count() > 10_000)
"""


def test_the_servers_app_resumes_the_collector_with_its_start_frozen(tmp_path: Path) -> None:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", APP], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["FastAPI", "True", "True"]
