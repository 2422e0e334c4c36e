"""The référentiel's problems are findings with their sheet and cell, all of them, and they stop the run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.io.referentiel_reader import read_referentiel

DEMO = Path(__file__).resolve().parents[2] / "inputs" / "reference" / "referentiel.xlsx"


def _broken(tmp_path: Path, edit: dict[str, dict[str, str | int | None]], drop: tuple[str, ...] = ()) -> Path:
    path = tmp_path / "referentiel.xlsx"
    shutil.copy(DEMO, path)
    wb = openpyxl.load_workbook(path)
    for sheet, cells in edit.items():
        for ref, value in cells.items():
            wb[sheet][ref] = value
    for sheet in drop:
        del wb[sheet]
    wb.save(path)
    return path


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        read_referentiel(path)
    return info.value


def test_the_demo_referentiel_is_read_whole() -> None:
    ref = read_referentiel(DEMO)
    assert len(ref.projets) == 12
    assert ref.source == "referentiel.xlsx"
    assert len(ref.sha256) == 64


def test_every_bad_cell_is_a_finding_with_its_cell(tmp_path: Path) -> None:
    path = _broken(tmp_path, {"Enveloppes": {"F2": "beaucoup", "C3": 4}, "Projets": {"A3": None}})
    error = _error(path)
    assert error.slug == "referentiel-invalid"
    found = sorted((f.slug, f.cell, f.field) for f in error.findings)
    assert found == [("referentiel-invalid-value", "Enveloppes!C3", "Titre"),
                     ("referentiel-invalid-value", "Enveloppes!F2", "AE (€)"),
                     ("referentiel-invalid-value", "Projets!A3", "Identifiant du projet")]
    assert {f.file for f in error.findings} == {"referentiel.xlsx"}
    assert all(f.severity == "Bloquant" and f.action for f in error.findings)
    assert "3 anomalie(s)" in error.message


def test_a_missing_sheet_and_a_duplicate_project(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(DEMO)
    first_id = wb["Projets"]["A2"].value
    error = _error(_broken(tmp_path, {}, drop=("Tranches",)))
    assert [(f.slug, f.sheet) for f in error.findings] == [("referentiel-missing-sheet", "Tranches")]
    error = _error(_broken(tmp_path, {"Projets": {"A3": first_id}}))
    assert [(f.slug, f.value) for f in error.findings] == [("referentiel-duplicate-project", first_id)]


def test_a_missing_file_is_said_in_french(tmp_path: Path) -> None:
    error = _error(tmp_path / "absent.xlsx")
    assert error.slug == "referentiel-missing"
    assert "introuvable" in error.message


def test_an_input_error_pickles_with_its_findings(tmp_path: Path) -> None:
    import pickle

    error = _error(_broken(tmp_path, {"Enveloppes": {"F2": "beaucoup"}}))
    again = pickle.loads(pickle.dumps(error))
    assert (again.slug, again.message, again.findings) == (error.slug, error.message, error.findings)


def test_an_unknown_parameter_and_a_missing_code(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(DEMO)
    nomenclature = wb["Nomenclature"]
    code_row = next(r for r in range(2, nomenclature.max_row + 1) if nomenclature.cell(r, 1).value == "Activité")
    parametres = wb["Paramètres"]
    error = _error(_broken(tmp_path, {"Nomenclature": {f"A{code_row}": "Activité principale"},
                                      "Paramètres": {f"A{parametres.max_row + 1}": "Seuil inventé",
                                                     f"B{parametres.max_row + 1}": 3}}))
    assert sorted((f.slug, f.value) for f in error.findings) == [
        ("referentiel-missing-code", "Activité"), ("referentiel-unknown-parameter", "Seuil inventé")]


def test_a_damaged_file_is_a_finding_too(tmp_path: Path) -> None:
    path = tmp_path / "referentiel.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    error = _error(path)
    assert error.slug == "referentiel-unreadable"
    assert [f.slug for f in error.findings] == ["referentiel-unreadable"]


def test_a_missing_column_is_said_on_its_header_row(tmp_path: Path) -> None:
    error = _error(_broken(tmp_path, {"Tranches": {"D1": "Crédits"}}))
    assert [(f.slug, f.cell, f.field) for f in error.findings] == [
        ("referentiel-missing-column", "Tranches!A1", "CP (€)")]


def _with_row_repeated(tmp_path: Path, sheet: str, row: int) -> Path:
    path = tmp_path / "referentiel.xlsx"
    shutil.copy(DEMO, path)
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    ws.append([c.value for c in ws[row]])
    wb.save(path)
    return path


@pytest.mark.parametrize("sheet", ["Enveloppes", "Tranches", "Paramètres", "Nomenclature"])
def test_a_row_typed_twice_is_an_error_of_the_referentiel(tmp_path: Path, sheet: str) -> None:
    """An envelope (or a tranche, a parameter, a code) entered twice would count twice: no report from it."""
    path = _with_row_repeated(tmp_path, sheet, 2)
    last = openpyxl.load_workbook(path)[sheet].max_row
    error = _error(path)
    assert [(f.slug, f.cell) for f in error.findings] == [("referentiel-duplicate-row", f"{sheet}!A{last}")]
    assert f"La ligne {last} répète la ligne 2 (" in error.findings[0].message


def test_rows_that_differ_by_their_key_are_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "referentiel.xlsx"
    shutil.copy(DEMO, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Enveloppes"]
    values = [c.value for c in ws[2]]
    values[3] = 2029  # another year: another envelope
    ws.append(values)
    wb.save(path)
    assert len(read_referentiel(path).enveloppes) == len(read_referentiel(DEMO).enveloppes) + 1


@pytest.mark.parametrize(("parameter", "value", "says"), [
    ("Part de cofinancement visée", 50, "une part s'écrit en fraction"),
    ("Durée max. d'accompagnement (mois)", 200_000, "un nombre entre 1 et 120"),
    ("Comités par an minimum", 0, "un nombre entre 1 et 52"),
    ("Tolérance de rapprochement (€)", -1, "un nombre entre 0 et 1000000"),
])
def test_an_absurd_parameter_is_refused_with_the_referentiel(tmp_path: Path, parameter: str, value: float,
                                                             says: str) -> None:
    path = tmp_path / "referentiel.xlsx"
    shutil.copy(DEMO, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Paramètres"]
    (row,) = [r for r in ws.iter_rows(min_row=2) if r[0].value == parameter]
    row[1].value = value
    wb.save(path)
    (problem,) = _error(path).findings
    assert problem.slug == "referentiel-invalid-value"
    assert problem.field == parameter
    assert says in problem.message


# --- read in a worker process ------------------------------------------------------------------------


def _far_apart_cell(tmp_path: Path) -> Path:
    """A référentiel with one cell at the far corner of a sheet: calamine asks for 512 Gio for its grid and
    aborts the process that reads it (SIGABRT), whatever its memory limit."""
    path = tmp_path / "referentiel.xlsx"
    wb = openpyxl.load_workbook(DEMO)
    wb["Projets"]["XFD1048576"] = "loin"
    wb.save(path)
    return path


def _with_dtd(tmp_path: Path) -> Path:
    """The demo référentiel whose workbook part declares a DTD with an entity (what no spreadsheet writes)."""
    import zipfile

    path = tmp_path / "referentiel.xlsx"
    with zipfile.ZipFile(DEMO) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE workbook [<!ENTITY e "boom">]>', 1)
            target.writestr(info, data)
    return path


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_referentiel_that_kills_its_reader_is_a_french_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               method: str) -> None:
    """It used to abort the run itself; the worker dies instead, and the run stops with the référentiel's error."""
    from ftap_pipeline.io.isolation import START_METHOD_ENV

    monkeypatch.setenv(START_METHOD_ENV, method)
    path = _far_apart_cell(tmp_path)

    error = _error(path)

    assert error.slug == "referentiel-unreadable"
    assert error.message.startswith("Référentiel illisible (referentiel.xlsx) : ")
    assert [(f.slug, f.file, f.severity) for f in error.findings] == [
        ("referentiel-unreadable", "referentiel.xlsx", "Bloquant")]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_worker_that_dies_becomes_the_referentiel_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          method: str) -> None:
    """What `read_referentiel` gets back for a worker that dies however it dies (here `os.abort`)."""
    import hashlib

    from ftap_pipeline.io import referentiel_file
    from ftap_pipeline.io.isolation import START_METHOD_ENV, map_isolated
    from tests.io.workers import name_or_die

    monkeypatch.setenv(START_METHOD_ENV, method)
    path = tmp_path / "poison.xlsx"
    shutil.copy(DEMO, path)

    [outcome] = map_isolated(name_or_die, [path], referentiel_file.crashed, workers=1)

    assert isinstance(outcome, InputError)
    assert outcome.slug == "referentiel-unreadable"
    assert outcome.message == ("Référentiel illisible (poison.xlsx) : Le classeur a fait échouer le lecteur (arrêt "
                               "brutal, mémoire ou temps de calcul épuisés) : il est endommagé ou malveillant.")
    assert outcome.findings[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_dtd_entity_is_refused_in_french(tmp_path: Path) -> None:
    error = _error(_with_dtd(tmp_path))
    assert error.slug == "referentiel-unreadable"
    assert error.message.startswith("Référentiel illisible (referentiel.xlsx) : ")
    assert [f.slug for f in error.findings] == ["referentiel-unreadable"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_pipe_in_place_of_the_referentiel_is_refused_without_waiting(tmp_path: Path) -> None:
    path = tmp_path / "referentiel.xlsx"
    os.mkfifo(path)
    error = _error(path)
    assert error.slug == "referentiel-unreadable"
    assert "n'est pas un fichier ordinaire" in error.message


def test_the_fingerprint_is_that_of_the_bytes_read() -> None:
    import hashlib

    assert read_referentiel(DEMO).sha256 == hashlib.sha256(DEMO.read_bytes()).hexdigest()
