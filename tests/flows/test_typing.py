"""Type checking reaches through Prefect's decorators: a task called with its arguments swapped is an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
from flows.tasks import build_task, ingest_task
from ftap_pipeline.launch import quarterly_config
from ftap_pipeline.settings import Settings
config = quarterly_config(Settings(None, None, None), "inputs", "outputs", "2025-T2", False)
built = build_task(ingest_task(config), config)
"""
SWAPPED = GOOD.replace("build_task(ingest_task(config), config)", "build_task(config, ingest_task(config))")


def _errors(program: str, tmp_path: Path, name: str) -> list[str]:
    """mypy's errors on a snippet, with the project's strictness (one cache for both runs, so the second is quick)."""
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n[mypy-xlsxwriter,xlsxwriter.*]\nignore_missing_imports = True\n")
    snippet = tmp_path / f"{name}.py"
    snippet.write_text(program)
    out, _, _ = api.run(["--config-file", str(config), "--cache-dir", str(tmp_path / "cache"), str(snippet)])
    return [line for line in out.splitlines() if line.startswith(str(snippet)) and ": error:" in line]


def test_mypy_sees_the_task_signatures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert _errors(GOOD, tmp_path, "in_order") == []
    swapped = _errors(SWAPPED, tmp_path, "swapped")
    assert len(swapped) == 1
    assert "build_task" in swapped[0] or "Task" in swapped[0], swapped
