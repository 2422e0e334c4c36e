"""The deployments, as an operator uses them: a real Prefect server on loopback, `prefect deploy --all`, a
process worker of the `ftap` pool, and `ftap run` against that server.

One server for the module (it takes 7–12 s to start); the tests share it in one xdist group.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.prefect_server import BIN, PrefectServer, free_port, start_server

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "inputs"
PARIS = ZoneInfo("Europe/Paris")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    yield from start_server(tmp_path_factory.mktemp("prefect-home"))


@pytest.fixture(scope="module")
def deployed(server: PrefectServer) -> PrefectServer:
    """The operator's three commands of prefect.yaml's header, but the worker (started per test)."""
    created = server.prefect("work-pool", "create", "ftap", "--type", "process")
    assert created.returncode == 0, created.stdout + created.stderr
    deploy = server.prefect("deploy", "--all", cwd=ROOT)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    return server


def _deployments(server: PrefectServer) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in server.api("POST", "/deployments/filter", json={}).json()}


def _run_with_worker(server: PrefectServer, deployment: str, parameters: dict[str, object]) -> dict[str, Any]:
    """Create a run of `deployment`, let a process worker of the pool pick it up, return the run once over."""
    dep = _deployments(server)[deployment]
    run = server.api("POST", f"/deployments/{dep['id']}/create_flow_run", json={"parameters": parameters}).json()
    worker = subprocess.run([str(BIN / "prefect"), "worker", "start", "--pool", "ftap", "--type", "process",
                             "--run-once"], capture_output=True, text=True, env=server.env, timeout=600,
                            cwd=Path("/"), check=False)
    deadline = time.monotonic() + 120
    while True:
        state = server.api("GET", f"/flow_runs/{run['id']}").json()
        if state["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") or time.monotonic() > deadline:
            break
        time.sleep(1)
    state["worker_output"] = worker.stdout + worker.stderr
    return dict(state)


def _logs(server: PrefectServer, run_id: str, until: str = "") -> list[str]:
    """The run's log messages; logs reach the server in batches, so wait (a little) for one containing `until`."""
    deadline = time.monotonic() + 20
    while True:
        found = server.api("POST", "/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}},
                                                         "limit": 200}).json()
        messages = [entry["message"] for entry in found]
        if any(until in m for m in messages) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def _artifacts(server: PrefectServer, run_id: str) -> dict[str, dict[str, Any]]:
    found = server.api("POST", "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}).json()
    return {a["key"]: a for a in found}


def test_deploy_registers_both_deployments_on_the_process_pool(deployed: PrefectServer) -> None:
    deployments = _deployments(deployed)
    assert set(deployments) == {"rapport-trimestriel", "dossier-comite"}
    for d in deployments.values():
        assert d["work_pool_name"] == "ftap"
        assert d["pull_steps"] == [{"flows.deployment_steps.enter_project": {}}]
    assert deployments["dossier-comite"]["schedules"] == []
    assert deployments["dossier-comite"]["parameter_openapi_schema"]["required"] == ["date"]
    pool = deployed.api("GET", "/work_pools/ftap").json()
    assert pool["type"] == "process"


def test_the_schedule_falls_on_the_5th_after_each_quarter_at_7_in_paris(deployed: PrefectServer) -> None:
    from prefect.server.schemas.schedules import CronSchedule

    (schedule,) = _deployments(deployed)["rapport-trimestriel"]["schedules"]
    cron = CronSchedule(**schedule["schedule"])
    start = dt.datetime(2026, 12, 1, tzinfo=PARIS)
    dates = [d.astimezone(PARIS) for d in cron._get_dates_generator(n=5, start=start)]
    assert [(d.date(), d.hour, d.minute) for d in dates] == [
        (dt.date(2027, 1, 5), 7, 0), (dt.date(2027, 4, 5), 7, 0), (dt.date(2027, 7, 5), 7, 0),
        (dt.date(2027, 10, 5), 7, 0), (dt.date(2028, 1, 5), 7, 0)]
    # 07:00 in Paris is 06:00 UTC in winter and 05:00 UTC in summer: the time zone is Paris's, not UTC's.
    assert [d.astimezone(dt.UTC).hour for d in dates[:2]] == [6, 5]


def test_a_process_worker_runs_the_committee_dossier(deployed: PrefectServer, tmp_path: Path) -> None:
    out = tmp_path / "sorties"
    run = _run_with_worker(deployed, "dossier-comite", {"date": "2025-03-14", "inputs": str(INPUTS),
                                                        "outputs": str(out), "send": False})
    assert run["state"]["type"] == "COMPLETED", run["worker_output"][-3000:]
    folder = out / "comite-2025-03-14"
    workbook = folder / "FTAP_suivi_comite-2025-03-14.xlsx"
    assert workbook.is_file()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["execution"]["flow_run_id"] == run["id"]
    assert manifest["execution"]["deployment"] == "dossier-comite"
    artifacts = _artifacts(deployed, run["id"])
    summary = artifacts["ftap-comite-2025-03-14"]
    assert summary["type"] == "markdown"
    assert "comité de pilotage du 14/03/2025" in summary["data"]
    assert "Projets sans remontée retenue" in summary["data"]
    link = artifacts["ftap-comite-2025-03-14-classeur"]  # Prefect keeps a link as a markdown `[text](url)`
    assert f"]({workbook.resolve().as_uri()})" in link["data"]
    table = artifacts["ftap-comite-2025-03-14-remontees"]
    assert table["type"] == "table"
    rows = json.loads(table["data"])
    assert len(rows) == sum(1 for e in manifest["entrees"] if "statut" in e)
    logs = _logs(deployed, run["id"], until=str(workbook.resolve()))
    assert any("Rapprochement AE/CP" in m for m in logs), logs  # the pipeline's own progress messages
    assert any(f"Rapport écrit : {workbook.resolve()}" in m for m in logs), logs


def test_a_bad_date_fails_the_run_with_a_french_message(deployed: PrefectServer, tmp_path: Path) -> None:
    run = _run_with_worker(deployed, "dossier-comite", {"date": "2025-13-01", "inputs": str(INPUTS),
                                                        "outputs": str(tmp_path / "sorties")})
    assert run["state"]["type"] == "FAILED"
    assert any("n'est pas une date au format AAAA-MM-JJ" in m for m in _logs(deployed, run["id"], until="AAAA-MM-JJ"))
    assert not (tmp_path / "sorties").exists()


def test_ftap_run_uses_the_configured_server(deployed: PrefectServer, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "run", "--inputs", str(INPUTS), "--outputs",
                           str(tmp_path / "out"), "--period", "2025-T2", "--no-send"], capture_output=True, text=True,
                          env=deployed.env, cwd=tmp_path, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert deployed.url in proc.stderr
    manifest = json.loads((tmp_path / "out" / "2025-T2" / "manifest.json").read_text(encoding="utf-8"))
    run_id = manifest["execution"]["flow_run_id"]
    assert deployed.api("GET", f"/flow_runs/{run_id}").json()["state"]["type"] == "COMPLETED"
    assert "ftap-2025-t2" in _artifacts(deployed, run_id)


def test_ftap_run_with_the_server_down_says_what_to_do(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "run", "--inputs", str(INPUTS), "--outputs",
                           str(tmp_path / "out"), "--period", "2025-T2"], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "PREFECT_HOME": str(tmp_path / "p"), "PREFECT_API_URL": url},
                          timeout=120, check=False)
    assert proc.returncode == 2
    assert f"Le serveur Prefect configuré ({url}) ne répond pas" in proc.stderr
    assert "prefect server start" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_second_run_on_the_same_outputs_stops_in_french(deployed: PrefectServer, tmp_path: Path) -> None:
    from ftap_pipeline.io.run_lock import outputs_lock

    with outputs_lock(tmp_path / "out", "rapport 2025-T2 (planifié)"):
        proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "run", "--inputs", str(INPUTS), "--outputs",
                               str(tmp_path / "out"), "--period", "2025-T2", "--no-send"], capture_output=True,
                              text=True, env=deployed.env, cwd=tmp_path, timeout=300, check=False)
    assert proc.returncode == 1
    assert "Un autre traitement écrit déjà dans le dossier de sorties" in proc.stderr
    assert "rapport 2025-T2 (planifié)" in proc.stderr
    assert "Traceback" not in proc.stderr  # Prefect's own account stays in the run's logs, on the server
    assert not (tmp_path / "out" / "2025-T2").exists()


def test_the_password_can_come_from_the_prefect_secret_block(server: PrefectServer) -> None:
    """Read through the settings as a run reads them: absent block, then the block the operator saved."""
    program = (
        "from flows.secrets import smtp_password_from_block\n"
        "from ftap_pipeline.settings import SettingsError, load_settings\n"
        "env = {'FTAP_SMTP_HOST': 'relais.example.fr', 'FTAP_SMTP_USER': 'ftap', 'FTAP_MAIL_FROM': 'ftap@ditp.example.fr',"
        " 'FTAP_MAIL_SECRETARIAT': 'secretariat@ditp.example.fr'}\n"
        "try:\n"
        "    load_settings(env, password_loader=smtp_password_from_block)\n"
        "except SettingsError as exc:\n"
        "    print('refus', exc.variable)\n"
        "from prefect.blocks.system import Secret\n"
        "Secret(value='Pw-bloc-93kd').save('ftap-smtp-password', overwrite=True)\n"
        "smtp = load_settings(env, password_loader=smtp_password_from_block).smtp\n"
        "print('lu', smtp.password.reveal() == 'Pw-bloc-93kd', repr(smtp.password))\n")
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=server.env, cwd=ROOT,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines() == ["refus FTAP_SMTP_PASSWORD", "lu True ********"]
