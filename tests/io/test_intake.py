"""The returns' inbox is untrusted: only regular files are read; every other entry is listed as refused, never
followed or dropped in silence."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ftap_pipeline.io.intake import refused_returns, scan
from tests import builders as b

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "inputs"


def _hostile_inbox(folder: Path) -> dict[str, str]:
    """Entries that are not returns, by name, with a word of the reason each must give."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lien.xlsx").symlink_to("/etc/passwd")
    (folder / "lien-casse.xlsx").symlink_to(folder / "absent.xlsx")
    (folder / "dossier.xlsx").mkdir()
    os.mkfifo(folder / "tube.xlsx")
    (folder / ".cachee.xlsx").write_bytes(b"PK")
    (folder / "~$verrou.xlsx").write_bytes(b"x")
    os.close(os.open(os.fsencode(folder) + b"/nom-\xe9.xlsx", os.O_CREAT | os.O_WRONLY, 0o644))
    return {"lien.xlsx": "lien symbolique", "lien-casse.xlsx": "lien symbolique", "dossier.xlsx": "dossier",
            "tube.xlsx": "pas un fichier ordinaire", ".cachee.xlsx": "caché", "~$verrou.xlsx": "verrouillage",
            "nom-\ufffd.xlsx": "UTF-8"}


def test_only_regular_files_are_read_and_the_rest_is_refused_with_a_reason(tmp_path: Path) -> None:
    expected = _hostile_inbox(tmp_path / "remontees")
    good = b.write(tmp_path / "remontees", "AP-2024-01_2025-T2.xlsx")
    regular, refused = scan(tmp_path / "remontees")
    assert regular == [good]
    assert {name for name, _ in refused} == set(expected)
    for name, why in refused:
        assert expected[name] in why, (name, why)
    items = refused_returns(refused)
    assert all(i.error is not None and i.error.slug == "inbox-entry-refused" and i.sha256 == "" for i in items)


@pytest.mark.slow
def test_a_run_lists_every_refused_entry_and_reads_nothing_through_a_link(tmp_path: Path, demo_run: Path) -> None:
    from ftap_pipeline.core.period import Period
    from ftap_pipeline.pipeline import RunConfig, run_report

    inputs = tmp_path / "inputs"
    shutil.copytree(INPUTS, inputs)
    expected = _hostile_inbox(inputs / "remontees")
    path = run_report(RunConfig.quarterly(inputs, tmp_path / "out", Period.parse("2025-T2")))
    manifest = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))
    entries = {e["fichier"].removeprefix("remontees/"): e for e in manifest["entrees"]}
    for name in expected:
        assert entries[name]["statut"] == "Rejetée", name
        assert entries[name]["sha256"] == ""  # not read, so not fingerprinted: /etc/passwd stays unread
    # The good returns beside them keep their fate, as in the demo run without these entries.
    demo = json.loads((demo_run / "manifest.json").read_text(encoding="utf-8"))
    assert [e for e in manifest["entrees"] if e["fichier"].removeprefix("remontees/") not in expected] == demo["entrees"]


def test_parsing_in_chunks_gives_what_parsing_each_file_here_gives(tmp_path: Path) -> None:
    """The workers parse chunks of files and send back typed lines: the same returns, in the same order, as
    reading and parsing every file in this process, a damaged one included."""
    from ftap_pipeline.io.intake import parse_file, parse_returns

    paths = sorted((INPUTS / "remontees").iterdir())[:12]
    broken = tmp_path / "tronque.xlsx"
    broken.write_bytes(paths[0].read_bytes()[:3000])
    paths.append(broken)
    here = [parse_file(p) for p in paths]
    pooled = parse_returns(paths, workers=2)
    assert [p.file for p in pooled] == [p.name for p in paths]
    assert pooled == here
    assert pooled[-1].findings[0].slug == "file-unreadable"
    assert sum(p.lines_read for p in pooled) > 100


def test_a_return_read_without_its_template_sheets_parses_alike(tmp_path: Path) -> None:
    """The run does not build the cells of the template's instructions and lists, which a return's parsing
    ignores: every demo return, a personal template among them, parses exactly as from the whole workbook,
    and the snapshot of the personal template is still read (`ftap check` needs it)."""
    from ftap_pipeline.cli import main
    from ftap_pipeline.contract.labels import normalise_label
    from ftap_pipeline.contract.layout import UNREAD_SHEETS
    from ftap_pipeline.contract.model import ReturnInput
    from ftap_pipeline.core.normalise import parse_return, unreadable_return
    from ftap_pipeline.io.intake import parse_file
    from ftap_pipeline.io.workbook_reader import read_file

    personal = tmp_path / "modele-personnel.xlsx"
    assert main(["template", "--projet", "AP-2023-01", "--referentiel", str(INPUTS / "reference" / "referentiel.xlsx"),
                 str(personal)]) == 0
    paths = [*sorted((INPUTS / "remontees").iterdir()), personal]
    skipped: list[str] = []
    for path in paths:
        whole = read_file(path)
        if whole.workbook is None:
            assert parse_file(path) == unreadable_return(ReturnInput(path.name, whole.sha256, error=whole.error))
            continue
        assert parse_file(path) == parse_return(whole.workbook, path.name, whole.sha256), path.name
        lean = read_file(path, unread=UNREAD_SHEETS).workbook
        assert lean is not None
        for full, thin in zip(whole.workbook.sheets, lean.sheets, strict=True):
            assert (thin.name, thin.visible) == (full.name, full.visible)
            unread = normalise_label(full.name) in UNREAD_SHEETS
            assert thin.rows == ([] if unread else full.rows), (path.name, full.name)
            if unread and full.rows:
                skipped.append(full.name)
    assert len(skipped) > len(paths)  # instructions and lists in nearly every return
    personal_lean = read_file(personal, unread=UNREAD_SHEETS).workbook
    assert personal_lean is not None
    snapshot = personal_lean.sheets[personal_lean.sheet_names().index("Référentiel du projet")]
    assert snapshot.rows


IMPORT_PROBE = """
import json, sys
from pathlib import Path
from ftap_pipeline import pipeline  # what a run has imported when it reads ahead
from ftap_pipeline.io import chorus_reader, intake, isolation, parse_cache, referentiel_file
intake.import_readers()
before = set(sys.modules)
inputs, extra, cache = Path(sys.argv[1]), [Path(p) for p in sys.argv[3:]], Path(sys.argv[2])
returns = sorted((inputs / "remontees").iterdir()) + extra
list(isolation.apply_each(intake.parse_file, returns, 600))  # a worker's body, limits included
store = parse_cache.open_cache(cache)
store.share_with_workers()
for path in returns:
    intake.parse_unless_cached(store.folder, store.generation, path)
referentiel_file.read_in_worker(inputs / "reference" / "referentiel.xlsx")
for path in sorted((inputs / "chorus").iterdir()):
    chorus_reader.read_restitutions(path)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_once_the_readers_are_imported_a_reading_worker_imports_nothing(tmp_path: Path) -> None:
    """`pipeline.read_ahead` forks readers while the main thread imports Prefect: a reader that imported a
    module then could wait forever on its lock. Every kind of file the demo and LibreOffice give is read."""
    from tests.conftest import soffice
    from tests.fuzz_support import convert

    extra: list[Path] = []
    if soffice() is not None:
        seeds = sorted((INPUTS / "remontees").iterdir())[:2]
        extra = [*convert(seeds[:1], "ods", tmp_path / "ods"), *convert(seeds[1:], "xls", tmp_path / "xls")]
    done = subprocess.run([sys.executable, "-c", IMPORT_PROBE, str(INPUTS), str(tmp_path / "cache"),
                           *map(str, extra)], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
