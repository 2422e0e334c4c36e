"""Find the inputs of a run and fingerprint them."""

from __future__ import annotations

import logging
import os
import stat
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


log = logging.getLogger("ftap")


def scan(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The folder's regular files to read, sorted by name, and every other entry with why it is not read.

    Nothing is followed: a symbolic link could lead anywhere on the machine (a password file), so it is refused,
    as are folders, pipes and devices, hidden and lock files, and names that are not valid UTF-8."""
    if not folder.is_dir():
        return [], []
    regular: list[Path] = []
    refused: list[tuple[str, str]] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        name = entry.name
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            refused.append((_shown(name), f"son type ne peut pas être lu ({exc.strerror or exc})"))
            continue
        if stat.S_ISLNK(mode):
            refused.append((_shown(name), "c'est un lien symbolique, qui n'est jamais suivi"))
        elif stat.S_ISDIR(mode):
            refused.append((_shown(name), "c'est un dossier ; les sous-dossiers ne sont pas lus"))
        elif not stat.S_ISREG(mode):
            refused.append((_shown(name), "ce n'est pas un fichier ordinaire (tube, périphérique ou socket)"))
        elif _shown(name) != name:
            refused.append((_shown(name), "son nom n'est pas écrit en UTF-8"))
        elif is_lock_file(Path(name)):
            refused.append((name, "c'est un fichier caché ou un fichier de verrouillage laissé par un tableur"))
        else:
            regular.append(Path(entry.path))
    return regular, refused


def _shown(name: str) -> str:
    """A name as it can be written anywhere: bytes that are not UTF-8 (kept by the OS as surrogates) as `�`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def discover(folder: Path) -> list[Path]:
    """The regular files of the folder (not recursive) a run reads, sorted by name; other entries are logged."""
    regular, refused = scan(folder)
    for name, why in refused:
        log.warning("Attention : %s/%s n'est pas lu : %s.", folder.name, name, why)
    return regular


def refused_returns(refused: Sequence[tuple[str, str]]) -> list[ReturnInput]:
    """The entries of the returns' inbox that `scan` did not keep, each a rejected return with its reason."""
    return [ReturnInput(name, "", error=InputError("inbox-entry-refused", {"fichier": name, "motif": why}))
            for name, why in refused]


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

