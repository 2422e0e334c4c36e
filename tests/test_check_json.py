"""`ftap check --format json` keeps its schema: the keys and types of docs/ligne-de-commande.md, versioned.

Programs of the porteurs read this output: a key is only ever added (with the documentation and this test),
never renamed, removed or retyped without a new `version_schema`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ftap_pipeline.check import JSON_SCHEMA_VERSION
from ftap_pipeline.cli import main
from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Severity
from tests import builders as b
from tests.conftest import INPUTS, ROOT

#: Every key of the output, with the JSON types its value may take.
TOP = {"version_schema": (int,), "referentiel": (bool,), "fichiers": (list,)}
FICHIER = {"fichier": (str,), "sha256": (str,), "statut": (str,), "projet": (str, type(None)),
           "periode": (str, type(None)), "lignes_lues": (int,), "lignes_retenues": (int,), "lignes_rejetees": (int,),
           "referentiel_source": (str,), "anomalies": (list,)}
ANOMALIE = {"gravite": (str,), "regle": (str,), "feuille": (str,), "cellule": (str,), "champ": (str,),
            "valeur_lue": (str,), "message": (str,), "que_faire": (str,)}


def _check_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    main(["check", *args, "--format", "json"])
    payload: dict[str, Any] = json.loads(capsys.readouterr().out)
    return payload


def _assert_shape(obj: dict[str, Any], keys: Mapping[str, tuple[type, ...]]) -> None:
    assert list(obj) == list(keys)
    for key, types in keys.items():
        assert isinstance(obj[key], types), (key, obj[key])
        # bool is an int in Python, never in JSON: an int key must not hold true/false.
        assert bool in types or not isinstance(obj[key], bool), (key, obj[key])


def test_every_key_and_its_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tabs = b.tables()
    tabs["consommation"][0]["ae"] = "deux cents"
    faulty = b.write(tmp_path, "fautive.xlsx", tabs=tabs)
    unreadable = tmp_path / "illisible.xlsx"
    unreadable.write_text("pas un classeur", encoding="utf-8")
    payload = _check_json(capsys, str(faulty), str(unreadable), "--referentiel",
                          str(INPUTS / "reference" / "referentiel.xlsx"))
    _assert_shape(payload, TOP)
    assert payload["version_schema"] == JSON_SCHEMA_VERSION == 1
    assert [f["fichier"] for f in payload["fichiers"]] == ["fautive.xlsx", "illisible.xlsx"]
    for fichier in payload["fichiers"]:
        _assert_shape(fichier, FICHIER)
        assert fichier["statut"] in enums.RETURN_STATUSES
        assert len(fichier["sha256"]) == 64
        assert fichier["lignes_lues"] == fichier["lignes_retenues"] + fichier["lignes_rejetees"]
        assert fichier["anomalies"]
        for anomalie in fichier["anomalies"]:
            _assert_shape(anomalie, ANOMALIE)
            assert anomalie["gravite"] in {str(s) for s in Severity}
    fautive, illisible = payload["fichiers"]
    assert (fautive["projet"], fautive["periode"]) == ("AP-2024-01", "2025-T2")
    assert (illisible["projet"], illisible["periode"], illisible["statut"]) == (None, None, enums.REJETEE)


def test_without_a_referentiel_the_output_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = _check_json(capsys, str(b.write(tmp_path, "bonne.xlsx")))
    _assert_shape(payload, TOP)
    assert payload["referentiel"] is False


def test_the_documentation_names_every_key() -> None:
    """Each key appears, in backquotes, in the `--format json` section of the command-line page."""
    page = (ROOT / "docs" / "ligne-de-commande.md").read_text(encoding="utf-8")
    section = page.split("### Le format JSON", 1)[1].split("\n## ", 1)[0]
    for key in [*TOP, *FICHIER, *ANOMALIE]:
        assert f"| `{key}` |" in section, key
    assert f"`version_schema` vaut {JSON_SCHEMA_VERSION}" in section
