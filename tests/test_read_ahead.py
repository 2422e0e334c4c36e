"""`ftap run` reads its inputs ahead, while Prefect's server starts: the run takes that reading as if it had
read itself — same outputs, same messages, same errors — and only a reading of the same run."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from ftap_pipeline import pipeline
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.core.period import Period
from ftap_pipeline.io import prefetch
from tests.io.test_parse_cache import _outputs, _without_durations

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"
LABEL = "2025-T2"


def _config(inputs: Path, outputs: Path) -> pipeline.RunConfig:
    return pipeline.RunConfig.quarterly(inputs, outputs, Period.parse(LABEL))


def _compared(outputs: Path) -> dict[str, object]:
    files: dict[str, object] = dict(_outputs(outputs / LABEL))
    files["manifest.json"] = _without_durations(files["manifest.json"])  # type: ignore[arg-type]
    return files


def test_a_run_that_read_ahead_writes_what_a_run_that_reads_itself_writes(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    plain = _config(INPUTS, tmp_path / "plain")
    pipeline.run(plain)
    ahead = _config(INPUTS, tmp_path / "ahead")
    caplog.set_level(logging.INFO, logger="ftap")
    pipeline.read_ahead(ahead)
    pipeline.run(ahead)
    assert prefetch.claim(pipeline._ahead_key(ahead)) is None  # the run took it
    assert _compared(tmp_path / "ahead") == _compared(tmp_path / "plain")
    messages = [r.getMessage() for r in caplog.records]
    reading = [m for m in messages if m.startswith("Lecture de ")]
    assert reading == [f"Lecture de {len(list((INPUTS / 'remontees').iterdir()))} remontée(s) et des "
                       f"restitutions Chorus…"]
    assert messages.index(reading[0]) < messages.index("Contrôle des remontées…")


def test_a_reading_of_other_inputs_is_not_taken(tmp_path: Path) -> None:
    other = tmp_path / "autres"
    shutil.copytree(INPUTS, other)
    for extra in sorted((other / "remontees").iterdir())[1:]:
        extra.unlink()
    pipeline.read_ahead(_config(other, tmp_path / "out"))
    ingested = pipeline.ingest(_config(INPUTS, tmp_path / "out"))
    assert len(ingested.assessment.parsed) == len(list((INPUTS / "remontees").iterdir()))
    pipeline.forget_read_ahead(_config(other, tmp_path / "out"))
    assert prefetch.claim(pipeline._ahead_key(_config(other, tmp_path / "out"))) is None


def test_an_error_of_the_reading_ahead_stops_the_run_where_it_would_have(tmp_path: Path) -> None:
    broken = tmp_path / "entrees"
    shutil.copytree(INPUTS, broken)
    (broken / "reference" / "referentiel.xlsx").write_bytes(b"pas un classeur")
    config = _config(broken, tmp_path / "out")
    pipeline.read_ahead(config)
    with pytest.raises(InputError) as caught:
        pipeline.run(config)
    assert caught.value.slug.startswith("referentiel")
    assert not (tmp_path / "out" / LABEL).exists()


def test_a_reading_ahead_writes_nothing_until_the_run_takes_it(tmp_path: Path) -> None:
    """It runs before the run holds the outputs folder: even the cache of parsed returns waits for the run."""
    config = _config(INPUTS, tmp_path / "out")
    pipeline.read_ahead(config)
    pending = prefetch._pending[pipeline._ahead_key(config)]
    pending._thread.join(120)
    assert not (tmp_path / "out").exists()
    pipeline.run(config)
    assert (config.cache / "index.json").is_file()


@pytest.mark.parametrize("command", ["run", "comite"])
def test_the_flow_rebuilds_the_configuration_the_command_read_ahead_for(command: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`ftap run` reads ahead for its configuration, then hands the flow its folders and period as text: the
    flow's configuration must give the same key, or the reading would be done twice."""
    from ftap_pipeline import launch
    from ftap_pipeline.settings import Settings

    monkeypatch.chdir(ROOT)
    settings = Settings(smtp=None, inputs=None, outputs=None)
    if command == "comite":
        typed = launch.committee_config(settings, "inputs", None, "2025-06-12", None)
        again = launch.committee_config(settings, str(typed.inputs), str(typed.outputs),
                                        typed.scope.cutoff.isoformat(), typed.mailing.send)
    else:
        typed = launch.quarterly_config(settings, "inputs", None, LABEL, None)
        again = launch.quarterly_config(settings, str(typed.inputs), str(typed.outputs), str(typed.scope.period),
                                        typed.mailing.send)
    assert pipeline._ahead_key(again) == pipeline._ahead_key(typed)
