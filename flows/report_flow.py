"""What both deployments run once their parameters are read: the pipeline's stages as four batch tasks,
holding the outputs folder, with the run's logs and artifacts in Prefect.

The pipeline's own progress messages (logger `ftap`) go to the run's logs for the duration of the run; the
flow run's id goes into the manifest, so a report on disk leads back to its run in the UI.

With a Dask cluster (`cluster`, the scheduler's address), the returns are read there, one task per chunk,
through prefect-dask's `DaskTaskRunner`; everything else runs in the flow's process as on this machine.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prefect import runtime
from prefect.artifacts import create_markdown_artifact
from prefect.logging.handlers import APILogHandler

from flows import handoff
from flows.secrets import smtp_password_from_block
from flows.summary import artifact_key, delivery_markdown
from flows.tasks import assess_task, build_task, ingest_task, publish_task, read_chunk_task, scan_task, send_task
from ftap_pipeline import collector, launch, pipeline
from ftap_pipeline.io.delivery import DeliveryOutcome
from ftap_pipeline.io.isolation import chunk_size
from ftap_pipeline.io.run_lock import outputs_lock
from ftap_pipeline.settings import Settings, load_settings

if TYPE_CHECKING:
    from prefect_dask.task_runners import DaskTaskRunner

log = logging.getLogger("ftap")

#: Most returns in one task on a cluster: each task starts a reading subprocess (an interpreter and the
#: parser's imports, most of a second), so its chunks are larger than those of this machine's pool.
CLUSTER_CHUNK_MOST = 256


@dataclass(frozen=True)
class FlowOutcome:
    """What a run returns: the workbook's absolute path and what became of its messages (exit code 4)."""

    workbook: str
    delivery: DeliveryOutcome


def settings() -> Settings:
    """The operator's settings, checked before any work (the password may come from a Prefect Secret block)."""
    return load_settings(password_loader=smtp_password_from_block)


@contextlib.contextmanager
def pipeline_logs_in_the_run() -> Iterator[None]:
    """Send the `ftap` logger's records to the run's logs in Prefect while the block runs."""
    logger = logging.getLogger("ftap")
    handler = APILogHandler()
    previous = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def execution() -> dict[str, str]:
    """The run's identifiers, for the manifest."""
    out = {"flow_run_id": str(runtime.flow_run.id or ""), "flow_run_name": str(runtime.flow_run.name or "")}
    if runtime.deployment.id:
        out["deployment"] = str(runtime.deployment.name)
    return out


def run_pipeline(config: pipeline.RunConfig, cluster: str | None = None) -> FlowOutcome:
    """Read, assemble, write and send one report, as four tasks exchanging keys and small summaries; with
    `cluster`, the reading is spread over that Dask cluster.

    Its messages go through the pipeline's logger, like those of the stages: to the run's logs in Prefect,
    and to the terminal of `ftap run`."""
    key = artifact_key(config.scope.label)
    keys: list[str] = []
    with pipeline_logs_in_the_run():
        for warning in launch.check_inputs(config.inputs):
            log.warning("Attention : %s", warning)
        log.info("Rapport %s, date d'arrêté %s ; entrées %s, sorties %s", config.scope.label,
                 f"{config.scope.cutoff:%d/%m/%Y}", config.inputs, config.out_dir)
        with outputs_lock(config.outputs, f"rapport {config.scope.label}"):
            try:
                if cluster is None:
                    keys.append(ingested := ingest_task(config))
                else:
                    keys.append(ingested := ingest_on_cluster(config, cluster, keys))
                collector.settle()  # imports and reading done: what they made stays to the end (collector.py)
                keys.append(built := build_task(ingested, config))
                published = publish_task(built, ingested, config, execution(), key)
                outcome = send_task(built, config)
            finally:
                handoff.drop(*keys)
        create_markdown_artifact(key=key, markdown=published.summary + delivery_markdown(outcome),
                                 description=f"Synthèse du rapport FTAP {config.scope.label}")
        log.info("Rapport écrit : %s", published.workbook)
        if outcome.undelivered:
            log.warning("Attention : %d courriel(s) n'ont pas pu être remis ; relancez le même rapport pour les "
                        "renvoyer (les autres ne partiront pas deux fois).", outcome.undelivered)
    return FlowOutcome(published.workbook, outcome)


def ingest_on_cluster(config: pipeline.RunConfig, address: str, keys: list[str]) -> str:
    """`ingest_task`, with the returns read on the Dask cluster at `address`, one task per chunk: the same
    `Ingested` as on this machine. The chunks' parsed returns come back to this process, to the handoff,
    and the assessment runs here; `keys` gets every handoff key left, for the flow to drop."""
    from prefect_dask.task_runners import DaskTaskRunner

    with _api_for_the_workers(), DaskTaskRunner(address=address) as runner:
        threads = _cluster_threads(runner, address)  # connected before any file is read
        keys.append(scanned := scan_task(config))
        paths = handoff.get(scanned, pipeline.Scanned).paths
        size = chunk_size(len(paths), threads, most=CLUSTER_CHUNK_MOST)
        chunks = [list(paths[k:k + size]) for k in range(0, len(paths), size)]
        log.info("Lecture de %d remontée(s) sur le cluster Dask %s (%d fil(s) d'exécution), en %d lot(s)…",
                 len(paths), address, threads, len(chunks))
        futures = [runner.submit(read_chunk_task, {"paths": chunk}) for chunk in chunks]
        keys.append(parsed := handoff.put([p for future in futures for p in future.result()]))
    return assess_task(scanned, parsed, config)


def _cluster_threads(runner: DaskTaskRunner, address: str) -> int:
    """How many tasks the cluster runs at once; a scheduler that does not answer as one, or has no worker,
    stops the run in French."""
    try:
        threads = sum(runner.client.nthreads().values())  # type: ignore[no-untyped-call]  # distributed is untyped
    except (OSError, TimeoutError) as exc:
        raise launch.LaunchError(f"Le cluster Dask {address} ne répond pas comme un planificateur Dask "
                                 f"({type(exc).__name__}) : vérifiez l'adresse et le port du planificateur. Rien "
                                 f"n'a été lu ni écrit.") from None
    if threads < 1:
        raise launch.LaunchError(f"Le cluster Dask {address} n'a aucun worker : démarrez-en au moins un "
                                 f"(« dask worker {address} »), puis relancez. Rien n'a été lu ni écrit.")
    return int(threads)


@contextlib.contextmanager
def _api_for_the_workers() -> Iterator[None]:
    """The workers report their task runs to the flow's Prefect API. When that is Prefect's own ephemeral
    server (no `PREFECT_API_URL`), its address is named for them, or each would start a server of its own."""
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    if get_current_settings().api.url:
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the running one, if Prefect started it
    if server.server_process is None:
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield
