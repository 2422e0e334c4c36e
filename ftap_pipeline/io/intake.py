"""Find the inputs of a run and fingerprint them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.model import ReturnInput
from ftap_pipeline.io.hashing import sha256_of
from ftap_pipeline.io.workbook_reader import read_isolated

#: Lock and temporary files that office suites leave beside an open workbook.
_LOCK_PREFIXES = ("~$", ".~lock", ".~", "~")


def is_lock_file(path: Path) -> bool:
    return path.name.startswith(_LOCK_PREFIXES) or path.name.startswith(".")


def discover(folder: Path) -> list[Path]:
    """Every file of the folder (not recursive), lock files and hidden files excluded, sorted by name."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.is_file() and not is_lock_file(p)), key=lambda p: p.name)


def read_returns(paths: Sequence[Path], workers: int = 2) -> list[ReturnInput]:
    """Read return files in isolated worker processes; unreadable ones carry their reason."""
    outcomes = read_isolated(list(paths), workers=workers)
    items = []
    for path, outcome in zip(paths, outcomes, strict=True):
        sha = outcome.sha256 or sha256_of(path)
        if outcome.workbook is not None:
            items.append(ReturnInput(path.name, sha, workbook=outcome.workbook))
        else:
            err = outcome.error
            items.append(ReturnInput(path.name, sha, error=err or InputError("file-unreadable",
                                                                             {"motif": "Fichier illisible."})))
    return items

