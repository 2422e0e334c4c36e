"""The deployment file points at the real flow, with the quarterly schedule in Paris time."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_quarterly_deployment_targets_the_flow() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    (deployment,) = spec["deployments"]
    module_path, name = deployment["entrypoint"].split(":")
    module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, name)
    assert flow.name == "rapport_trimestriel"
    assert set(deployment["parameters"]) <= set(flow.parameters.properties)
    (schedule,) = deployment["schedules"]
    assert schedule["timezone"] == "Europe/Paris"
    fields = schedule["cron"].split()
    assert fields[3] == "1,4,7,10"  # the months that follow each quarter
    assert fields[4] == "*"
