"""Parameters and folders of a run, checked before any work, with French messages."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest

from ftap_pipeline import launch
from ftap_pipeline.core.period import Period
from ftap_pipeline.settings import Settings


def test_period_defaults_to_the_last_finished_quarter_in_paris() -> None:
    assert launch.parse_period(None) == Period.last_finished(launch.today_in_paris())
    assert launch.parse_period(" ") == Period.last_finished(launch.today_in_paris())
    assert launch.parse_period("2025-t2") == Period(2025, 2)


@pytest.mark.parametrize("text", ["2025-Q2", "2025-T5", "T2-2025", "2025"])
def test_a_bad_period_names_the_parameter_and_the_format(text: str) -> None:
    with pytest.raises(launch.LaunchError, match="Paramètre « period »") as info:
        launch.parse_period(text)
    assert "AAAA-Tn" in info.value.message


@pytest.mark.parametrize("text", [None, "", "2025-13-01", "14/03/2025", "demain"])
def test_the_committee_date_is_required_and_iso(text: str | None) -> None:
    with pytest.raises(launch.LaunchError, match="Paramètre « date »") as info:
        launch.parse_committee_date(text)
    assert "AAAA-MM-JJ" in info.value.message


def test_committee_date_is_read() -> None:
    assert launch.parse_committee_date(" 2025-03-14 ") == dt.date(2025, 3, 14)


def test_folders_are_made_absolute_and_come_from_the_settings_when_not_given(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert launch.folder(None, None, "inputs", "inputs") == tmp_path / "inputs"
    assert launch.folder(None, Path("/srv/ftap/entrees"), "inputs", "inputs") == Path("/srv/ftap/entrees")
    assert launch.folder("ailleurs", Path("/srv/ftap/entrees"), "inputs", "inputs") == tmp_path / "ailleurs"
    with pytest.raises(launch.LaunchError, match="« outputs » vide"):
        launch.folder("  ", None, "outputs", "outputs")


def test_a_missing_inputs_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(launch.LaunchError) as info:
        launch.check_inputs(tmp_path / "absent")
    assert f"Le dossier des entrées {tmp_path / 'absent'} n'existe pas" in info.value.message
    (tmp_path / "fichier").write_text("x")
    with pytest.raises(launch.LaunchError, match="n'est pas un dossier"):
        launch.check_inputs(tmp_path / "fichier")


def test_an_inputs_folder_without_returns_or_chorus_warns(tmp_path: Path) -> None:
    warnings = launch.check_inputs(tmp_path)
    assert len(warnings) == 2
    assert "remontees/" in warnings[0]
    assert "chorus/" in warnings[1]
    (tmp_path / "remontees").mkdir()
    (tmp_path / "chorus").mkdir()
    assert launch.check_inputs(tmp_path) == ()


def test_sending_follows_the_relay_unless_told() -> None:
    none = Settings(smtp=None, inputs=None, outputs=None)
    assert launch.mailing(none, None, False).send is False
    assert launch.mailing(none, False, False).send is False
    with pytest.raises(launch.LaunchError, match="FTAP_SMTP_HOST"):
        launch.mailing(none, True, False)


def test_a_flag_that_is_not_a_boolean_is_refused() -> None:
    none = Settings(smtp=None, inputs=None, outputs=None)
    with pytest.raises(launch.LaunchError, match="« send » : « oui » n'est pas un booléen"):
        launch.mailing(none, "oui", False)  # type: ignore[arg-type]  # a deployment's parameters are JSON


def test_an_inputs_folder_that_cannot_be_examined_is_refused_in_french(tmp_path: Path) -> None:
    """The OS refusing to look (here, a name too long for it; elsewhere, a folder without the right to read it)
    is said in French, not raised mid-run."""
    with pytest.raises(launch.LaunchError, match="n'est pas accessible"):
        launch.check_inputs(tmp_path / ("entrees" * 60))


# --- where the returns are read: this machine, or a Dask cluster ---------------------------------------------


def test_by_default_the_returns_are_read_on_this_machine() -> None:
    assert launch.parse_cluster(None, None) is None
    assert launch.parse_cluster(" Local ", "") is None


def test_dask_takes_the_scheduler_address_and_an_address_alone_means_dask() -> None:
    assert launch.parse_cluster("dask", " tcp://10.0.0.5:8786 ") == "tcp://10.0.0.5:8786"
    assert launch.parse_cluster(None, "tls://planificateur.example.fr:8786") == "tls://planificateur.example.fr:8786"
    assert launch.parse_cluster("dask", "tcp://[::1]:8786") == "tcp://[::1]:8786"


@pytest.mark.parametrize(("runner", "address", "expected"), [
    ("dask", None, "Paramètre « dask_address » obligatoire avec « task_runner » dask"),
    ("dask", "  ", "Paramètre « dask_address » obligatoire avec « task_runner » dask"),
    ("local", "tcp://10.0.0.5:8786", "« dask_address » (tcp://10.0.0.5:8786) donné avec « task_runner » local"),
    ("thread", None, "« task_runner » : « thread » n'est pas un exécuteur connu ; valeurs possibles : local, dask"),
    ("dask", "10.0.0.5:8786", "« 10.0.0.5:8786 » n'est pas l'adresse d'un planificateur Dask"),
    ("dask", "tcp://10.0.0.5", "« tcp://10.0.0.5 » n'est pas l'adresse d'un planificateur Dask"),
    ("dask", "tcp://10.0.0.5:99999", "« tcp://10.0.0.5:99999 » n'est pas l'adresse d'un planificateur Dask"),
    ("dask", "tcp://:8786", "« tcp://:8786 » n'est pas l'adresse d'un planificateur Dask"),
    ("dask", "http://10.0.0.5:8786", "« http://10.0.0.5:8786 » n'est pas l'adresse d'un planificateur Dask"),
    ("dask", 8786, "« dask_address » : « 8786 » n'est pas un texte"),
])
def test_a_wrong_cluster_parameter_is_refused_in_french(runner: str, address: object, expected: str) -> None:
    with pytest.raises(launch.LaunchError) as info:
        launch.parse_cluster(runner, address)  # type: ignore[arg-type]  # a deployment's parameters are JSON
    assert expected in info.value.message


def test_a_cluster_that_does_not_answer_is_refused_before_any_work() -> None:
    with socket.socket() as s:  # a port just freed: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(launch.LaunchError) as info:
        launch.cluster("dask", f"tcp://127.0.0.1:{port}")
    assert info.value.message.startswith(f"Le cluster Dask tcp://127.0.0.1:{port} ne répond pas (connexion refusée")
    assert info.value.message.endswith("Rien n'a été lu ni écrit.")


def test_a_cluster_that_listens_is_accepted() -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        address = f"tcp://127.0.0.1:{listening.getsockname()[1]}"
        assert launch.cluster("dask", address) == address
