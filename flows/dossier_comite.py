"""The steering committee's dossier, as a Prefect flow (deployment `dossier-comite`, run by hand)."""

from __future__ import annotations

from prefect import flow

from flows.report_flow import FlowOutcome, run_pipeline, settings
from ftap_pipeline import launch


@flow(name="dossier_comite", log_prints=False, persist_result=False, validate_parameters=False)
def dossier_comite(date: str, inputs: str | None = None, outputs: str | None = None, send: bool | None = None,
                   renvoyer: bool = False, task_runner: str | None = None,
                   dask_address: str | None = None) -> FlowOutcome:
    """Dossier d'un comité de pilotage : les mêmes données, arrêtées à la date du comité.

    Args:
        date: date du comité, AAAA-MM-JJ (obligatoire) ; sorties dans outputs/comite-AAAA-MM-JJ/.
        inputs: dossier des entrées (défaut : FTAP_INPUTS, sinon inputs/ du dossier de travail).
        outputs: dossier des sorties (défaut : FTAP_OUTPUTS, sinon outputs/ du dossier de travail).
        send: envoyer les courriels (défaut : oui si FTAP_SMTP_HOST est défini).
        renvoyer: renvoyer aussi les courriels déjà remis.
        task_runner: où lire les remontées : local (défaut, sur cette machine) ou dask (sur un cluster Dask).
        dask_address: adresse du planificateur du cluster Dask, tcp://HÔTE:PORT (avec task_runner dask).
    """
    config = launch.committee_config(settings(), inputs, outputs, date, send, renvoyer)
    return run_pipeline(config, launch.cluster(task_runner, dask_address))
