"""Prefect flow of the quarterly report: three batch tasks over the pipeline's stages, nothing else.

Tasks are few and coarse on purpose (a local Prefect server drops task history past ~1,000 tasks and
each task costs ~20 ms): reading and validating all returns is one task, not one task per file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from ftap_pipeline import pipeline
from ftap_pipeline.core.period import Period


@task(name="ingestion", cache_policy=NO_CACHE, persist_result=False)
def ingest_task(config: pipeline.RunConfig) -> pipeline.Ingested:
    return pipeline.ingest(config)


@task(name="rapprochement-et-mise-en-forme", cache_policy=NO_CACHE, persist_result=False)
def build_task(ingested: pipeline.Ingested, config: pipeline.RunConfig) -> pipeline.Built:
    return pipeline.build(ingested, config)


@task(name="publication", cache_policy=NO_CACHE, persist_result=False)
def publish_task(built: pipeline.Built, ingested: pipeline.Ingested, config: pipeline.RunConfig) -> str:
    return str(pipeline.publish(built, ingested, config))


def run_config(inputs: str, outputs: str, period: str | None, committee_date: str | None = None) -> pipeline.RunConfig:
    if committee_date:
        return pipeline.RunConfig.committee(Path(inputs), Path(outputs), dt.date.fromisoformat(committee_date))
    chosen = Period.parse(period) if period else Period.last_finished(dt.date.today())
    return pipeline.RunConfig.quarterly(Path(inputs), Path(outputs), chosen)


@flow(name="rapport_trimestriel", log_prints=False, persist_result=False)
def rapport_trimestriel(inputs: str = "inputs", outputs: str = "outputs", period: str | None = None,
                        committee_date: str | None = None) -> str:
    """Ingest, validate, reconcile and report for one period (default: the last finished quarter)."""
    config = run_config(inputs, outputs, period, committee_date)
    logger = get_run_logger()
    logger.info("Rapport %s, date d'arrêté %s", config.scope.label, config.scope.cutoff.isoformat())
    ingested = ingest_task(config)
    built = build_task(ingested, config)
    path = publish_task(built, ingested, config)
    logger.info("Classeur écrit : %s", path)
    return path
