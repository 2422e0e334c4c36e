"""The bytes of one input file, read once, and only from a regular file.

A reader hashes and parses the same bytes, so the fingerprint in the manifest is that of what was read.
The file is opened without blocking and checked to be a regular file before any byte is read: a FIFO
would block a reader for ever (no processor time passes, so no limit stops it), a directory or a device
has no content to read.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ftap_pipeline.contract import preflight
from ftap_pipeline.contract.errors import InputError

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileBytes:
    """What was read: the content (None when the file is refused), its SHA-256 (empty when it was not read:
    a file past the size cap is not hashed either), and the reason for a refusal."""

    data: bytes | None
    sha256: str
    error: InputError | None = None


class _NotRegularError(OSError):
    pass


@contextmanager
def _open_regular(path: Path) -> Iterator[tuple[BinaryIO, int]]:
    """The open file and its size; `_NotRegularError` for anything but a regular file."""
    fd = os.open(path, _FLAGS)
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegularError(path)
        yield fh, info.st_size


def read_once(path: Path, slug: str, *, too_large: str | None = None) -> FileBytes:
    """The file's bytes and their SHA-256; a refusal with `slug` (`too_large` for a file past the size cap,
    when the reader has a rule of its own for it) and a French reason, never an exception."""
    size_slug = too_large or slug
    try:
        with _open_regular(path) as (fh, size):
            preflight.check_size(size, slug=size_slug)
            data = fh.read(preflight.MAX_FILE_BYTES + 1)  # a file that grows while it is read stops past the cap
            preflight.check_size(len(data), slug=size_slug)
    except _NotRegularError:
        return FileBytes(None, "", InputError(slug, {"motif": "Ce n'est pas un fichier ordinaire (dossier, tube ou "
                                                              "périphérique) : il n'est pas lu."}))
    except OSError as exc:
        return FileBytes(None, "", InputError(slug, {"motif": f"Le fichier n'a pas pu être lu ({exc.strerror})."}))
    except InputError as exc:
        return FileBytes(None, "", exc)
    return FileBytes(data, hashlib.sha256(data).hexdigest())


def fingerprint(path: Path) -> str:
    """The SHA-256 of a regular file within the size cap, or "" otherwise: for a file whose reader died, in the
    parent process, where nothing may block, raise or take long."""
    try:
        with _open_regular(path) as (fh, size):
            if size > preflight.MAX_FILE_BYTES:
                return ""
            digest = hashlib.sha256()
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
            return digest.hexdigest()
    except OSError:
        return ""
