"""The quarterly report, as a Prefect flow (deployment `rapport-trimestriel`, on a schedule)."""

from __future__ import annotations

from prefect import flow

from flows.report_flow import FlowOutcome, run_pipeline, settings
from ftap_pipeline import launch


@flow(name="rapport_trimestriel", log_prints=False, persist_result=False, validate_parameters=False)
def rapport_trimestriel(inputs: str | None = None, outputs: str | None = None, period: str | None = None,
                        send: bool | None = None, renvoyer: bool = False, task_runner: str | None = None,
                        dask_address: str | None = None) -> FlowOutcome:
    """Rapport trimestriel FTAP : ingestion, contrôle, rapprochement AE/CP, classeurs et courriels.

    Args:
        inputs: dossier des entrées (défaut : FTAP_INPUTS, sinon inputs/ du dossier de travail).
        outputs: dossier des sorties (défaut : FTAP_OUTPUTS, sinon outputs/ du dossier de travail).
        period: trimestre AAAA-Tn (défaut : le dernier trimestre achevé, au moment du lancement).
        send: envoyer les courriels (défaut : oui si FTAP_SMTP_HOST est défini).
        renvoyer: renvoyer aussi les courriels déjà remis.
        task_runner: où lire les remontées : local (défaut, sur cette machine) ou dask (sur un cluster Dask).
        dask_address: adresse du planificateur du cluster Dask, tcp://HÔTE:PORT (avec task_runner dask).
    """
    config = launch.quarterly_config(settings(), inputs, outputs, period, send, renvoyer)
    return run_pipeline(config, launch.cluster(task_runner, dask_address))
