"""A file that kills its reader costs only its worker: neighbours are read, the culprit is reported."""

from __future__ import annotations

import faulthandler
import os
from pathlib import Path

from ftap_pipeline.io.isolation import map_isolated


def _read_or_die(path: Path) -> str:
    if path.name == "poison":
        faulthandler.disable()  # keep the test log quiet: the crash is the point
        os.abort()  # what a native reader does on some hostile files
    return path.name.upper()


def test_a_crashing_file_is_isolated(tmp_path: Path) -> None:
    paths = [tmp_path / n for n in ("a", "poison", "b", "c")]
    assert map_isolated(_read_or_die, paths, lambda p: f"crash:{p.name}", workers=2) == ["A", "crash:poison", "B", "C"]


def test_nothing_to_read() -> None:
    assert map_isolated(_read_or_die, [], lambda p: "x") == []
