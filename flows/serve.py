"""Both deployments served by one long-running process, for a machine with no work pool or worker:
`python -m flows.serve` (a systemd unit keeps it running; docs/exploitation.md).

The deployments are those of prefect.yaml (names, descriptions, tags, schedule), read from it, so the two
ways of deploying cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml
from prefect import Flow, serve
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment

from flows.dossier_comite import dossier_comite
from flows.rapport_trimestriel import rapport_trimestriel

PREFECT_YAML = Path(__file__).resolve().parent.parent / "prefect.yaml"
FLOWS: dict[str, Flow[..., Any]] = {"flows.rapport_trimestriel.rapport_trimestriel": rapport_trimestriel,
         "flows.dossier_comite.dossier_comite": dossier_comite}


def deployments(spec_path: Path = PREFECT_YAML) -> list[RunnerDeployment]:
    """prefect.yaml's deployments, bound to the flows of this process."""
    spec: dict[str, Any] = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    out = []
    for d in spec["deployments"]:
        schedules = [CronSchedule(cron=s["cron"], timezone=s["timezone"]) for s in d.get("schedules") or []]
        out.append(cast(RunnerDeployment, FLOWS[d["entrypoint"]].to_deployment(
            name=d["name"], description=d.get("description"), tags=d.get("tags"), schedules=schedules,
            concurrency_limit=d.get("concurrency_limit"), parameters=d.get("parameters"))))
    return out


def main() -> None:
    serve(*deployments())


if __name__ == "__main__":
    main()
