"""A report's folder is replaced whole, and what a killed run leaves is put right by the next one.

The states a kill leaves are built here by hand, one per moment of the swap; `tests/test_kill_during_publication.py`
kills real runs at random moments."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftap_pipeline.io.atomic import atomic_path, is_leftover, write_text
from ftap_pipeline.io.staging import IDENTITY, exchange, staging_dir, swap_in, sweep


def _set(folder: Path, tag: str) -> dict[str, str]:
    """A report set: a workbook, an export and the manifest last; returns its files' contents."""
    files = {"FTAP_suivi.xlsx": f"classeur {tag}", "donnees/remontees.csv": f"csv {tag}",
             f"anomalies/seulement_{tag}.xlsx": tag, IDENTITY: json.dumps({"set": tag})}
    for name, text in files.items():
        write_text(folder / name, text)
    return files


def _contents(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file()}


def _archive(out: Path) -> Path:
    dest = out.parent / "archives" / out.name / "20250705-070012"
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest


def test_a_first_report_is_renamed_into_place(tmp_path: Path) -> None:
    staging = staging_dir(tmp_path, "2025-T2")
    new = _set(staging, "new")
    assert swap_in(staging, tmp_path / "2025-T2", _archive) is None
    assert _contents(tmp_path / "2025-T2") == new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-T2"]


@pytest.mark.parametrize("atomic", [True, False], ids=["exchange", "two-renames"])
def test_a_rerun_replaces_the_whole_set_and_archives_the_previous_one(tmp_path: Path, atomic: bool) -> None:
    out = tmp_path / "2025-T2"
    old = _set(out, "old")
    staging = staging_dir(tmp_path, "2025-T2")
    new = _set(staging, "new")
    archived = swap_in(staging, out, _archive, atomic=atomic)
    assert archived == tmp_path / "archives" / "2025-T2" / "20250705-070012"
    assert _contents(out) == new  # the previous feedback workbook is not left beside the new report
    assert _contents(archived) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-T2", "archives"]  # no staging, no journal


@pytest.mark.skipif(sys.platform != "linux", reason="renameat2 is Linux's")
def test_two_folders_are_exchanged_in_one_step(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "from-a").touch()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "from-b").touch()
    assert exchange(tmp_path / "a", tmp_path / "b")
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["from-b"]
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["from-a"]


def _journal(staging: Path, new_manifest: Path, archive: str) -> None:
    record = {"label": "2025-T2", "manifest_sha256": hashlib.sha256(new_manifest.read_bytes()).hexdigest(),
              "archive": archive}
    staging.with_name(staging.name + ".swap").write_text(json.dumps(record), encoding="utf-8")


def test_killed_before_its_journal_the_staging_folder_is_deleted(tmp_path: Path) -> None:
    old = _set(tmp_path / "2025-T2", "old")
    _set(tmp_path / ".staging-2025-T2-4242", "half")
    done = sweep(tmp_path)
    assert done == ["dossier provisoire .staging-2025-T2-4242 d'un traitement interrompu avant la publication supprimé"]
    assert _contents(tmp_path / "2025-T2") == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-T2"]


def test_killed_after_its_journal_but_before_the_swap_the_new_set_is_deleted(tmp_path: Path) -> None:
    old = _set(tmp_path / "2025-T2", "old")
    staging = tmp_path / ".staging-2025-T2-4242"
    _set(staging, "new")
    _journal(staging, staging / IDENTITY, "archives/2025-T2/20250705-070012")
    sweep(tmp_path)
    assert _contents(tmp_path / "2025-T2") == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-T2"]


def test_killed_between_the_exchange_and_the_archiving_the_previous_set_is_archived(tmp_path: Path) -> None:
    new = _set(tmp_path / "2025-T2", "new")
    staging = tmp_path / ".staging-2025-T2-4242"
    old = _set(staging, "old")  # what the exchange left at the staging folder's name
    _journal(staging, tmp_path / "2025-T2" / IDENTITY, "archives/2025-T2/20250705-070012")
    (done,) = sweep(tmp_path)
    assert done.startswith("rapport précédent de 2025-T2, remplacé par un traitement interrompu, archivé dans ")
    assert _contents(tmp_path / "2025-T2") == new
    assert _contents(tmp_path / "archives" / "2025-T2" / "20250705-070012") == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-T2", "archives"]


def test_killed_between_two_renames_the_previous_set_is_put_back(tmp_path: Path) -> None:
    archive = tmp_path / "archives" / "2025-T2" / "20250705-070012"
    old = _set(archive, "old")
    staging = tmp_path / ".staging-2025-T2-4242"
    _set(staging, "new")
    _journal(staging, staging / IDENTITY, "archives/2025-T2/20250705-070012")
    (done,) = sweep(tmp_path)
    assert done == f"rapport précédent de 2025-T2 remis en place depuis {archive}"
    assert _contents(tmp_path / "2025-T2") == old
    assert not archive.exists()
    assert not staging.exists()


def test_only_our_leftovers_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "2025-T2"
    _set(out, "old")
    ours = [out / ".FTAP_suivi.xlsx.ftap-k2j3h4g5.tmp", out / "donnees" / ".remontees.csv.ab_c1234.tmp",
            tmp_path / ".envois.sqlite.ftap-00000000.tmp", tmp_path / "archives" / "x" / ".manifest.json.zzzzzzzz.tmp"]
    theirs = [out / ".notes.tmp", out / "brouillon.tmp", out / ".photo.png.abcdefgh.tmp", tmp_path / ".staging-notes",
              tmp_path / "envois.sqlite-journal", tmp_path / ".ftap.lock", tmp_path / ".staging-2025-T2-12.swapfile"]
    for path in (*ours, *theirs):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (elsewhere / "kept").touch()
    os.symlink(elsewhere, tmp_path / ".staging-2025-T2-77")  # never followed nor removed through a link
    assert sweep(tmp_path) == ["4 fichier(s) temporaire(s) supprimé(s)"]
    assert not any(p.exists() for p in ours)
    assert all(p.exists() for p in theirs)
    assert (elsewhere / "kept").exists()


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="/\\\0"), min_size=1, max_size=40))
def test_every_temporary_name_atomic_path_makes_is_recognised(name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / name
        if target.name != name or len(os.fsencode(name)) > 200:
            return
        with atomic_path(target) as tmp:
            assert is_leftover(tmp.name)


@given(st.from_regex(r"[^/\0]{1,30}", fullmatch=True))
def test_a_name_without_our_mark_or_kind_of_file_is_never_a_leftover(name: str) -> None:
    if ".ftap-" in name or any(f".{kind}." in name for kind in ("xlsx", "csv", "json", "eml")):
        return
    assert not is_leftover(name)
