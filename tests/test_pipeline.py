"""The pipeline's steps on two cores (`io/forked.py`: the cache stored beside the assessment, the previous
cut-off's figures beside the porteurs' workbooks, the writers side by side) write exactly what the same
steps write one after the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftap_pipeline import pipeline
from ftap_pipeline.core.period import Period
from ftap_pipeline.io.isolation import START_METHOD_ENV
from tests.io.test_parse_cache import _outputs, _without_durations

INPUTS = Path(__file__).resolve().parent.parent / "inputs"


def _run(outputs: Path) -> dict[str, object]:
    config = pipeline.RunConfig.quarterly(INPUTS, outputs, Period.parse("2025-T2"))
    pipeline.read_ahead(config)  # as `ftap run` does: the new parses are then stored by `ingest`
    pipeline.run(config)
    files: dict[str, object] = dict(_outputs(config.out_dir))
    files["manifest.json"] = _without_durations(files["manifest.json"])  # type: ignore[arg-type]
    return files


def test_the_steps_on_two_cores_write_what_they_write_in_turn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    forked = _run(tmp_path / "forked")
    monkeypatch.setenv(START_METHOD_ENV, "spawn")  # every job of `io/forked.py` then runs here, in turn
    in_turn = _run(tmp_path / "in-turn")
    assert forked == in_turn
    assert "FTAP_suivi_2025-T2.xlsx" in forked
    for run in ("forked", "in-turn"):  # the new parses were stored, from the child or here
        assert list((tmp_path / run / ".etat" / "cache-remontees").glob("*.parquet")), run
