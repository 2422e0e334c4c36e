"""The personal template: `ftap check` on it, with no référentiel, gives the central run's verdict."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from ftap_pipeline.check import NONE, TEMPLATE, check_files
from ftap_pipeline.cli import main
from ftap_pipeline.contract import enums, inbox, layout
from ftap_pipeline.contract.model import ReturnRecord
from ftap_pipeline.core.period import Period
from ftap_pipeline.io.referentiel_reader import read_referentiel
from ftap_pipeline.io.return_writer import write_personal_template
from ftap_pipeline.pipeline import RunConfig, ingest
from tests import builders as b
from tests.conftest import INPUTS, soffice

REFERENTIEL = INPUTS / inbox.REFERENCE_FILE
#: Findings that compare a return with the others: a single file checked alone cannot have them.
ACROSS_RETURNS = {"superseded-return", "ambiguous-version"}
PERIODS = {"2025-T2", "2025-T1"}


def _verdict(r: ReturnRecord) -> tuple[object, ...]:
    status = r.status
    if status == enums.REMPLACEE:  # alone, a replaced return is judged on its own lines
        status = enums.RETENUE_AVEC_ANOMALIES if r.lines_rejected else enums.RETENUE
    return (status, r.lines_read, r.lines_kept, r.lines_rejected,
            sorted((f.slug, f.cell, f.message) for f in r.findings if f.slug not in ACROSS_RETURNS))


def _fill(template: Path, source: Path, target: Path) -> None:
    """Type a return's content into a personal template, cell by cell, as a porteur would."""
    wb = openpyxl.load_workbook(template)
    src = openpyxl.load_workbook(source)
    for name in (s.name for s in layout.SHEETS):
        if name not in src.sheetnames:
            del wb[name]
            continue
        ws, from_ws = wb[name], src[name]
        for row in from_ws.iter_rows():
            for c in row:
                if c.value is not None:
                    ws.cell(c.row, c.column, c.value)
    wb.save(target)


def test_check_on_a_filled_personal_template_gives_the_central_verdict(tmp_path: Path) -> None:
    config = RunConfig.quarterly(INPUTS, tmp_path / "out", Period(2025, 2))
    central = {r.file: r for r in ingest(config).assessment.records}
    referentiel = read_referentiel(REFERENTIEL)
    compared = 0
    files = [p for p in sorted((INPUTS / inbox.RETURNS_DIR).glob("*.xlsx")) if central[p.name].period in PERIODS]
    fills = []
    for path in files:
        record = central[path.name]
        if any(f.slug == "ambiguous-version" for f in record.findings):
            continue
        try:
            openpyxl.load_workbook(path, read_only=True).close()
        except Exception:  # noqa: BLE001 - the demo's damaged files cannot be typed into a template
            continue
        if record.project_id not in referentiel.project_ids:
            continue
        template = tmp_path / f"modele_{record.project_id}.xlsx"
        if not template.exists():
            write_personal_template(template, referentiel, str(record.project_id))
        filled = tmp_path / path.name
        _fill(template, path, filled)
        fills.append(filled)
    result = check_files(fills, None)  # one call, several projects: each file against its own snapshot
    assert set(result.sources.values()) == {TEMPLATE}
    for r in result.records:
        assert _verdict(r) == _verdict(central[r.file]), r.file
        assert not any(f.slug == "extra-sheet" for f in r.findings)  # the snapshot sheet is read past silently
        compared += 1
    assert compared >= 12


def test_the_personal_template_is_made_for_its_project(tmp_path: Path) -> None:
    out = tmp_path / "modele.xlsx"
    assert main(["template", "--projet", "AP-2024-03", "--referentiel", str(REFERENTIEL), str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    projet = wb[layout.PROJET.name]
    values = {projet.cell(r, 1).value: projet.cell(r, 2) for r in range(2, projet.max_row + 1)}
    identity = values["Identifiant du projet"]
    assert identity.value == "AP-2024-03"
    assert identity.protection.locked
    assert values["Période de remontée"].value is None
    assert not values["Période de remontée"].protection.locked
    assert values["Porteur du projet"].value == "Cour d'appel de Douai"
    snapshot = wb[layout.SNAPSHOT_SHEET]
    assert snapshot.sheet_state == "hidden"
    assert snapshot.protection.sheet
    rows = {(r[0], r[1]): r[2] for r in snapshot.iter_rows(min_row=2, values_only=True)}
    assert rows[("Modèle", "SHA-256 du référentiel")] == read_referentiel(REFERENTIEL).sha256
    assert rows[("Paramètre", "Ratio ROI minimal à 3 ans")] == "1.0"
    assert rows[("Nomenclature", "Activité")] == "03490101B501"


def test_an_unknown_project_is_refused_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template", "--projet", "AP-2099-99", "--referentiel", str(REFERENTIEL), str(tmp_path / "x.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "AP-2099-99 n'est pas dans la feuille Projets du référentiel" in err
    assert not (tmp_path / "x.xlsx").exists()
    assert main(["template", "--projet", "projet 7", "--referentiel", str(REFERENTIEL)]) == 2


def test_without_referentiel_nor_snapshot_the_check_says_what_it_did_not_do(tmp_path: Path) -> None:
    path = b.write(tmp_path, "remontee.xlsx")
    result = check_files([path], None)
    assert result.sources == {"remontee.xlsx": NONE}
    offline = sorted(f.message for f in result.records[0].findings if f.slug == "not-checked-offline")
    assert len(offline) == 2
    assert all(m.startswith("Sans référentiel, ce contrôle n'a pas lieu ici") for m in offline)
    assert not any(f.slug == "criterion-not-assessable" for f in result.records[0].findings)


def test_a_snapshot_older_than_the_given_referentiel_is_said(tmp_path: Path) -> None:
    import dataclasses

    referentiel = read_referentiel(REFERENTIEL)
    older = dataclasses.replace(referentiel, sha256="0" * 64)
    template = tmp_path / "ancien.xlsx"
    write_personal_template(template, older, "AP-2024-03", created=dt.datetime(2024, 1, 1))
    result = check_files([template], REFERENTIEL)
    assert len(result.notes) == 1
    assert "ce modèle a été établi avec un autre référentiel" in result.notes[0]
    assert result.sources == {"ancien.xlsx": "fourni"}


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_personal_template(tmp_path: Path) -> None:
    import python_calamine

    from tests.io.test_libreoffice import convert

    template = tmp_path / "modele.xlsx"
    write_personal_template(template, read_referentiel(REFERENTIEL), "AP-2024-03")
    ods = convert([template], "ods", tmp_path / "lo")[0]
    wb = python_calamine.CalamineWorkbook.from_path(str(ods))
    assert layout.SNAPSHOT_SHEET in wb.sheet_names
    rows = wb.get_sheet_by_name(layout.PROJET.name).to_python()
    assert ["Identifiant du projet", "AP-2024-03"] in [r[:2] for r in rows]
    # Resaved by LibreOffice, the template still carries its snapshot: the check still uses it.
    assert check_files([ods], None).sources == {ods.name: TEMPLATE}
