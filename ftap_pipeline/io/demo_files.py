"""The demo's plain file operations: make its folders, and write a damaged copy of a file.

Kept in `io` so that the demo package builds contents and never touches the disk itself.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from ftap_pipeline.io.atomic import write_bytes


def ensure_folder(folder: Path) -> Path:
    """Create `folder` (and its parents) if need be; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_truncated_copy(source: Path, target: Path, kept: Fraction) -> None:
    """Copy the first `kept` share of `source`'s bytes to `target`, as an interrupted download leaves it."""
    data = source.read_bytes()
    write_bytes(target, data[: math.floor(len(data) * kept)])
