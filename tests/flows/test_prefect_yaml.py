"""The deployment file points at the real flows, with their parameters, on the `ftap` pool; `flows.serve`
serves the same deployments. The server-side behaviour is in test_deployments.py."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

from flows import deployment_steps

ROOT = Path(__file__).resolve().parents[2]
SPEC: dict[str, Any] = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
DEPLOYMENTS = {d["name"]: d for d in SPEC["deployments"]}


def _flow(entrypoint: str) -> Any:
    module, name = entrypoint.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def test_both_deployments_are_module_entrypoints_of_the_installed_flows() -> None:
    assert set(DEPLOYMENTS) == {"rapport-trimestriel", "dossier-comite"}
    assert _flow(DEPLOYMENTS["rapport-trimestriel"]["entrypoint"]).name == "rapport_trimestriel"
    assert _flow(DEPLOYMENTS["dossier-comite"]["entrypoint"]).name == "dossier_comite"
    for d in DEPLOYMENTS.values():
        assert ":" not in d["entrypoint"]  # no file path: nothing depends on the worker's folder
        assert d["work_pool"]["name"] == "ftap"
        assert d["concurrency_limit"] == 1


def test_the_quarterly_schedule_is_in_paris_time_after_each_quarter() -> None:
    (schedule,) = DEPLOYMENTS["rapport-trimestriel"]["schedules"]
    assert schedule["timezone"] == "Europe/Paris"
    minute, hour, day, months, weekday = schedule["cron"].split()
    assert (minute, hour, months, weekday) == ("0", "7", "1,4,7,10", "*")
    assert 1 <= int(day) <= 10
    assert "schedules" not in DEPLOYMENTS["dossier-comite"]


def test_the_committee_date_is_a_required_parameter() -> None:
    flow = _flow(DEPLOYMENTS["dossier-comite"]["entrypoint"])
    assert flow.parameters.required == ["date"]
    assert {"inputs", "outputs", "send", "renvoyer"} <= set(flow.parameters.properties)
    quarterly = _flow(DEPLOYMENTS["rapport-trimestriel"]["entrypoint"])
    assert quarterly.parameters.required == []
    assert {"inputs", "outputs", "period", "send", "renvoyer"} <= set(quarterly.parameters.properties)
    # The UI shows each parameter's French description, from the flow's docstring.
    assert "AAAA-MM-JJ" in flow.parameters.properties["date"]["description"]


def test_the_pull_step_enters_the_checkout_the_flows_come_from(tmp_path: Path, monkeypatch: Any) -> None:
    assert SPEC["pull"] == [{"flows.deployment_steps.enter_project": {}}]
    monkeypatch.chdir(tmp_path)
    assert deployment_steps.enter_project() == {"directory": str(ROOT)}
    assert Path.cwd() == ROOT


def test_serve_offers_the_deployments_of_the_file() -> None:
    from flows.serve import deployments

    served = {d.name: d for d in deployments()}
    assert set(served) == set(DEPLOYMENTS)
    schedules = served["rapport-trimestriel"].schedules
    assert schedules is not None
    (schedule,) = schedules
    assert schedule.schedule.cron == DEPLOYMENTS["rapport-trimestriel"]["schedules"][0]["cron"]  # type: ignore[union-attr]
    assert schedule.schedule.timezone == "Europe/Paris"  # type: ignore[union-attr]
    assert served["dossier-comite"].schedules in (None, [])
