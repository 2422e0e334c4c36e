"""A report's folder replaced whole: the new set is written into a staging folder beside it, then swapped in.

A reader of `outputs/<rapport>/` sees the previous set or the new one, never a mix. On Linux the two folders
are exchanged by one `renameat2(RENAME_EXCHANGE)`, so the folder is never absent; elsewhere (or on a file
system without it) the previous set is renamed away and the new one renamed in, and the folder is absent
between the two renames, for microseconds.

Before the swap, a journal (`.staging-<rapport>-<pid>.swap`) records the SHA-256 of the new manifest and where
the previous set goes. A run killed at any moment leaves only names of ours, and the next run, under the lock,
puts things right with `sweep`: a staging folder that was swapped in holds the previous set and goes to the
archives; one that was not is deleted; a folder left absent between the two renames gets its previous set back.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from ftap_pipeline.io.atomic import is_leftover, write_text

#: The file written last into a set, whose bytes identify it.
IDENTITY = "manifest.json"
PREFIX = ".staging-"
JOURNAL_SUFFIX = ".swap"
_STAGING = re.compile(r"\.staging-(?P<label>.+)-(?P<pid>\d+)")
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def staging_dir(outputs: Path, label: str) -> Path:
    """A new, empty staging folder for `label`, on the file system of `outputs` (a rename never copies)."""
    staging = outputs / f"{PREFIX}{label}-{os.getpid()}"
    discard(staging)
    staging.mkdir(parents=True)
    return staging


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def free_name(dest: Path) -> Path:
    """`dest`, or `dest-2`, `dest-3`… when it is taken: an archive never overwrites another."""
    n, free = 1, dest
    while free.exists():
        n += 1
        free = dest.with_name(f"{dest.name}-{n}")
    return free


def _journal(staging: Path) -> Path:
    return staging.with_name(staging.name + JOURNAL_SUFFIX)


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux `renameat2`); False where the system cannot, having done nothing."""
    if sys.platform != "linux":
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:  # a C library older than glibc 2.28
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_in(staging: Path, out: Path, archive_to: Callable[[Path], Path], atomic: bool = True) -> Path | None:
    """Put the complete set in `staging` in place of `out`; the previous set goes to `archive_to(out)`, which is
    returned (None when there was none). `atomic=False` takes the two-rename way, as on a system without
    an exchange."""
    if not out.exists():
        try:
            os.rename(staging, out)
        except BaseException:
            discard(staging)
            raise
        return None
    journal = _journal(staging)
    try:
        dest = archive_to(out)
        record = {"label": out.name, "manifest_sha256": _sha256(staging / IDENTITY),
                  "archive": str(dest.relative_to(out.parent))}
        write_text(journal, json.dumps(record, ensure_ascii=False) + "\n")
        swapped = atomic and exchange(staging, out)
    except BaseException:
        discard(staging)
        journal.unlink(missing_ok=True)
        raise
    if swapped:
        os.rename(staging, dest)  # staging now holds the previous set; if this fails, `sweep` archives it
    else:
        os.rename(out, dest)
        try:
            os.rename(staging, out)
        except OSError:
            os.rename(dest, out)
            discard(staging)
            journal.unlink(missing_ok=True)
            raise
    journal.unlink()
    return dest


def sweep(outputs: Path) -> list[str]:
    """Put right what killed runs left in `outputs` (staging folders, journals, temporary files), to be called
    holding the outputs' lock; return what was done, in French. Only names of ours are touched."""
    done: list[str] = []
    if not outputs.is_dir():
        return done
    for entry in sorted(outputs.iterdir()):
        if _STAGING.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            done.append(_recover(outputs, entry))
    for entry in sorted(outputs.iterdir()):
        if entry.name.endswith(JOURNAL_SUFFIX) and _STAGING.fullmatch(entry.name.removesuffix(JOURNAL_SUFFIX)):
            entry.unlink(missing_ok=True)
    removed = 0
    for root, _dirs, files in os.walk(outputs):
        for name in files:
            if is_leftover(name):
                (Path(root) / name).unlink(missing_ok=True)
                removed += 1
    if removed:
        done.append(f"{removed} fichier(s) temporaire(s) supprimé(s)")
    return done


def _recover(outputs: Path, staging: Path) -> str:
    journal = _journal(staging)
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        out, dest = outputs / str(record["label"]), outputs / str(record["archive"])
        new = record["manifest_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        discard(staging)
        return f"dossier provisoire {staging.name} d'un traitement interrompu avant la publication supprimé"
    try:
        if new is not None and _sha256(out / IDENTITY) == new:
            dest = free_name(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staging, dest)
            return f"rapport précédent de {out.name}, remplacé par un traitement interrompu, archivé dans {dest}"
        if not out.exists() and dest.is_dir():
            os.rename(dest, out)
            discard(staging)
            return f"rapport précédent de {out.name} remis en place depuis {dest}"
        discard(staging)
        return f"dossier provisoire {staging.name} d'un traitement interrompu avant la publication supprimé"
    finally:
        journal.unlink(missing_ok=True)


def written_at(folder: Path) -> dt.datetime | None:
    """When the set in `folder` was written (its manifest's time), for the date of its messages."""
    try:
        return dt.datetime.fromtimestamp((folder / IDENTITY).stat().st_mtime).astimezone()
    except OSError:
        return None
