"""`ftap run --task-runner dask`: the returns read on a real Dask cluster (a `distributed.LocalCluster` of two
daemonic worker processes), with the tests' real Prefect server, give the report of a local run byte for byte;
a file that kills its reader becomes a rejected return inside the Dask worker.

One Prefect server and one cluster for the module; the runs are `ftap run` in subprocesses, as an operator
types them.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.io import workers as w
from tests.prefect_server import PrefectServer, free_port, start_server

if TYPE_CHECKING:
    from distributed import Client

    from ftap_pipeline.contract.model import ParsedReturn

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "inputs"
REPORT = "2025-T2"
#: The manifest's keys that say which run made the report and how long it took: nothing else may differ.
RUN_KEYS = ("execution", "durees_s")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask-cluster")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    yield from start_server(tmp_path_factory.mktemp("prefect-home"))


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Two worker processes of one thread each, daemonic as Dask starts them, stopped whatever happens."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",  # type: ignore[no-untyped-call]
                           dashboard_address=None)
    try:
        with Client(cluster) as dask_client:  # type: ignore[no-untyped-call]
            yield dask_client
    finally:
        cluster.close()


def _ftap_run(server: PrefectServer, inputs: Path, outputs: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ftap_pipeline", "run", "--inputs", str(inputs), "--outputs",
                           str(outputs), "--period", REPORT, "--no-send", *options], capture_output=True, text=True,
                          env=server.env, cwd=outputs.parent, timeout=300, check=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _without_run_keys(manifest: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(manifest)
    for key in RUN_KEYS:
        data.pop(key, None)
    return data


def _eml_without_date_and_boundary(message: bytes) -> bytes:
    """A `.eml` copy records when it was built (`Date`) and a random MIME boundary: two local runs differ there too."""
    text = re.sub(rb"^Date: .*$", b"Date: -", message, flags=re.MULTILINE)
    for boundary in set(re.findall(rb'boundary="([^"]+)"', text)):
        text = text.replace(boundary, b"BOUNDARY")
    return text


def _poison_on_workers() -> None:
    """On a Dask worker: read with `parse_or_die`, the real parser except that it kills its process on `poison…`."""
    from ftap_pipeline.io import intake

    _REAL.setdefault("parse_file", intake.parse_file)
    intake.parse_file = parse_or_die


def _heal_workers() -> None:
    from ftap_pipeline.io import intake

    intake.parse_file = _REAL.pop("parse_file", intake.parse_file)


_REAL: dict[str, Any] = {}


def parse_or_die(path: Path) -> ParsedReturn:
    """Run by name in the reading subprocess, which imports this module fresh: the real parser there."""
    from ftap_pipeline.io.intake import parse_file

    if path.name.startswith("poison"):
        w.die()
    return parse_file(path)


def _address(client: Client) -> str:
    return str(client.scheduler_info()["address"])


def test_a_run_on_the_cluster_writes_the_same_report_as_a_local_run(server: PrefectServer, client: Client,
                                                                   tmp_path: Path) -> None:
    local = _ftap_run(server, INPUTS, tmp_path / "local")
    assert local.returncode == 0, local.stderr[-3000:]
    address = _address(client)
    dask = _ftap_run(server, INPUTS, tmp_path / "dask", "--task-runner", "dask", "--dask-address", address)
    assert dask.returncode == 0, dask.stderr[-3000:]
    assert f"sur le cluster Dask {address} (2 fil(s) d'exécution), en 8 lot(s)" in dask.stderr
    ours, theirs = _files(tmp_path / "local" / REPORT), _files(tmp_path / "dask" / REPORT)
    assert sorted(ours) == sorted(theirs)
    assert len([name for name in ours if name.endswith(".xlsx")]) > 5
    for name, content in ours.items():
        if name == "manifest.json":
            assert _without_run_keys(content) == _without_run_keys(theirs[name])
            assert json.loads(content)["execution"] != json.loads(theirs[name])["execution"]
        elif name.endswith(".eml"):
            assert _eml_without_date_and_boundary(content) == _eml_without_date_and_boundary(theirs[name]), name
        else:
            assert content == theirs[name], name


def test_a_file_that_kills_its_reader_is_rejected_inside_the_dask_worker(server: PrefectServer, client: Client,
                                                                         tmp_path: Path) -> None:
    inputs = tmp_path / "entrees"
    shutil.copytree(INPUTS, inputs)
    shutil.copy(inputs / "remontees" / "AP-2023-01_2025-T1.xlsx", inputs / "remontees" / "poison.xlsx")
    client.run(_poison_on_workers)
    try:
        dask = _ftap_run(server, inputs, tmp_path / "sorties", "--task-runner", "dask", "--dask-address",
                         _address(client))
    finally:
        client.run(_heal_workers)
    assert dask.returncode == 0, dask.stderr[-3000:]
    report = tmp_path / "sorties" / REPORT
    manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    statuses = {e["fichier"]: e.get("statut") for e in manifest["entrees"]}
    assert statuses["remontees/poison.xlsx"] == "Rejetée"
    assert statuses["remontees/AP-2023-01_2025-T1.xlsx"] == "Retenue"  # its twin, read by the same worker
    with (report / "donnees" / "anomalies.csv").open(encoding="utf-8-sig", newline="") as fh:
        poison = [row for row in csv.DictReader(fh) if row["Fichier"] == "poison.xlsx"]
    assert [(row["Règle"], row["Gravité"]) for row in poison] == [("file-unreadable", "Bloquant")]
    assert "Le classeur a fait échouer le lecteur : il est endommagé ou malveillant." in poison[0]["Message"]


def test_dask_without_an_address_is_refused_before_reading(server: PrefectServer, tmp_path: Path) -> None:
    (tmp_path / "sorties").mkdir()
    proc = _ftap_run(server, INPUTS, tmp_path / "sorties", "--task-runner", "dask")
    assert proc.returncode == 2
    assert "Paramètre « dask_address » obligatoire avec « task_runner » dask" in proc.stderr
    assert "tcp://HÔTE:PORT" in proc.stderr
    assert list((tmp_path / "sorties").iterdir()) == []


def test_a_cluster_that_does_not_answer_is_refused_before_reading(server: PrefectServer, tmp_path: Path) -> None:
    (tmp_path / "sorties").mkdir()
    address = f"tcp://127.0.0.1:{free_port()}"
    proc = _ftap_run(server, INPUTS, tmp_path / "sorties", "--task-runner", "dask", "--dask-address", address)
    assert proc.returncode == 2
    assert f"Le cluster Dask {address} ne répond pas (connexion refusée" in proc.stderr
    assert "Rien n'a été lu ni écrit." in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list((tmp_path / "sorties").iterdir()) == []


def test_both_deployments_take_the_cluster_parameters_described_in_french() -> None:
    from flows.dossier_comite import dossier_comite
    from flows.rapport_trimestriel import rapport_trimestriel

    for flow in (rapport_trimestriel, dossier_comite):
        properties = flow.parameters.properties
        assert "local (défaut, sur cette machine) ou dask" in properties["task_runner"]["description"]
        assert "tcp://HÔTE:PORT" in properties["dask_address"]["description"]
        assert "task_runner" not in flow.parameters.required
