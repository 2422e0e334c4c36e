"""Atomic file writes: a reader never sees a half-written output.

A temporary file is named `.<target>.ftap-<random>.tmp`, beside its target: a run killed while writing one
leaves it behind, and the next run recognises it by that name (`is_leftover`) and removes it, never a file of
anyone else.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: `.<target>.ftap-<8 characters of mkstemp>.tmp`; before the `ftap-` mark, `.<target>.<8>.tmp` for the
#: outputs' own kinds of file only.
_LEFTOVER = re.compile(r"\..+\.ftap-[a-z0-9_]{8}\.tmp|\..+\.(?:xlsx|csv|json|eml)\.[a-z0-9_]{8}\.tmp", re.DOTALL)


def is_leftover(name: str) -> bool:
    """True for the name of a temporary file this module writes (and an earlier version of it wrote)."""
    return _LEFTOVER.fullmatch(name) is not None


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; move it into place only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.ftap-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))
