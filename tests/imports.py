"""The modules a source file imports, read from its syntax tree (lazy imports inside functions included)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path


def imported_modules(path: Path) -> Iterator[str]:
    """Absolute imports only; `from ftap_pipeline import core` also names `ftap_pipeline.core`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            if node.module == "ftap_pipeline":
                yield from (f"ftap_pipeline.{alias.name}" for alias in node.names)
