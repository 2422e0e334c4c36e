"""What both deployments run once their parameters are read: the pipeline's stages as four batch tasks,
holding the outputs folder, with the run's logs and artifacts in Prefect.

The pipeline's own progress messages (logger `ftap`) go to the run's logs for the duration of the run; the
flow run's id goes into the manifest, so a report on disk leads back to its run in the UI.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from prefect import runtime
from prefect.artifacts import create_markdown_artifact
from prefect.logging.handlers import APILogHandler

from flows import handoff
from flows.secrets import smtp_password_from_block
from flows.summary import artifact_key, delivery_markdown
from flows.tasks import build_task, ingest_task, publish_task, send_task
from ftap_pipeline import launch, pipeline
from ftap_pipeline.io.delivery import DeliveryOutcome
from ftap_pipeline.io.run_lock import outputs_lock
from ftap_pipeline.settings import Settings, load_settings

log = logging.getLogger("ftap")


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


def run_pipeline(config: pipeline.RunConfig) -> FlowOutcome:
    """Read, assemble, write and send one report, as four tasks exchanging keys and small summaries.

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
                keys.append(ingested := ingest_task(config))
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
