"""The flow's batch tasks: one per stage of the pipeline, exchanging keys and small summaries only.

Tasks are few and coarse on purpose (a local Prefect server drops task history past ~1,000 tasks and each
task costs ~20 ms): reading and validating all returns is one task, not one task per file. Their large
results stay in `flows.handoff`, so Prefect never walks an `Ingested` or a `Built`.

On a Dask cluster the reading is split: the référentiel and the inbox's list in the flow, one task per
chunk of returns on the cluster's workers (which send back only the chunk's parsed returns), then the
assessment in the flow, as `pipeline.ingest` does in one go.

Retries: none on reading, assembling or writing, which give the same result when tried again; the e-mail
step retries inside the sender, on the replies that can recover (4xx, a dropped connection), and the ledger
keeps a retried run from sending twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prefect import task
from prefect.artifacts import create_link_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows import handoff
from flows.summary import report_markdown
from ftap_pipeline import pipeline
from ftap_pipeline.contract.model import ParsedReturn
from ftap_pipeline.io.delivery import DeliveryOutcome


@task(name="lecture-et-controle", cache_policy=NO_CACHE, persist_result=False)
def ingest_task(config: pipeline.RunConfig) -> str:
    return handoff.put(pipeline.ingest(config))


@task(name="referentiel-et-boite-des-remontees", cache_policy=NO_CACHE, persist_result=False)
def scan_task(config: pipeline.RunConfig) -> str:
    return handoff.put(pipeline.scan_inputs(config))


@task(name="lecture-d-un-lot", cache_policy=NO_CACHE, persist_result=False)
def read_chunk_task(paths: list[Path]) -> list[ParsedReturn]:
    """Runs on a Dask worker: one reading subprocess for the chunk, since the worker's threads already run
    chunks side by side. Its result travels back to the flow, which keeps it in the handoff."""
    return pipeline.read_chunk(paths, 1)


@task(name="controle", cache_policy=NO_CACHE, persist_result=False)
def assess_task(scanned: str, parsed: str, config: pipeline.RunConfig) -> str:
    return handoff.put(pipeline.assess_inputs(config, handoff.get(scanned, pipeline.Scanned),
                                              handoff.get(parsed, list)))


@task(name="rapprochement-et-mise-en-forme", cache_policy=NO_CACHE, persist_result=False)
def build_task(ingested: str, config: pipeline.RunConfig) -> str:
    return handoff.put(pipeline.build(handoff.get(ingested, pipeline.Ingested), config))


@dataclass(frozen=True)
class Published:
    """What the flow keeps of the publication: the workbook's absolute path and the run's summary."""

    workbook: str
    summary: str


@task(name="publication", cache_policy=NO_CACHE, persist_result=False)
def publish_task(built: str, ingested: str, config: pipeline.RunConfig, execution: Mapping[str, str],
                 artifact_key: str) -> Published:
    """Write the outputs; post the table of the returns and the link to the workbook."""
    assembled = handoff.get(built, pipeline.Built)
    report = assembled.report
    path = pipeline.publish(assembled, handoff.get(ingested, pipeline.Ingested), config, execution).resolve()
    rows = [{k: v for k, v in e.as_json().items() if k != "sha256"}
            for e in report.manifest.entries if e.record is not None or e.later is not None]
    if rows:
        create_table_artifact(key=f"{artifact_key}-remontees", table=rows,
                              description=f"Remontées lues par le rapport {config.scope.label} et leur statut.")
    create_link_artifact(key=f"{artifact_key}-classeur", link=path.as_uri(), link_text=str(path),
                         description=f"Classeur consolidé du rapport {config.scope.label}.")
    return Published(str(path), report_markdown(report, path))


@task(name="envoi-des-courriels", cache_policy=NO_CACHE, persist_result=False)
def send_task(built: str, config: pipeline.RunConfig) -> DeliveryOutcome:
    return pipeline.send(handoff.get(built, pipeline.Built), config)
