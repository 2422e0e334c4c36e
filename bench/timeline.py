"""Timeline of one `ftap run`: when each step of the pipeline starts and ends, in seconds since the command began.

    .venv/bin/python bench/timeline.py -- run --period 2025-T2 --inputs DIR --outputs DIR --no-send

The command runs in this process, as `ftap` would run it; the pipeline's steps (reading ahead, the tasks'
bodies, the server's wait, the writers) are wrapped as their modules are imported, so that the order of the
imports, and the early start of the temporary server, stay those of the real command. It prints one line a
step, and, at the end, the CPU time of the process and its waited-for children.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

T0 = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Module → the callables to time in it (`Class.method` for a method).
WATCHED: dict[str, tuple[str, ...]] = {
    "ftap_pipeline.pipeline": ("read_inputs", "ingest", "assess_read", "build", "publish", "send", "read_ahead"),
    "ftap_pipeline.io.intake": ("read_returns_cached",),
    "ftap_pipeline.io.report_writer": ("write_report",),
    "ftap_pipeline.core.validate": ("validate_lines",),
    "flows.temporary_server": ("TemporaryServer.wait", "TemporaryServer.start"),
    "flows.report_flow": ("run_pipeline",),
}


def _say(text: str) -> None:
    name = threading.current_thread().name
    print(f"{time.perf_counter() - T0:7.2f}  {text}" + ("" if name == "MainThread" else f"  [{name}]"),
          file=sys.stderr, flush=True)


def _timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _say(f"> {label}")
        try:
            return fn(*args, **kwargs)
        finally:
            _say(f"< {label}")
    return wrapper


def _wrap(module: ModuleType) -> None:
    for dotted in WATCHED.get(module.__name__, ()):
        owner: Any = module
        *path, name = dotted.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        if owner is not None and callable(getattr(owner, name, None)):
            setattr(owner, name, _timed(dotted, getattr(owner, name)))


class _Finder(importlib.abc.MetaPathFinder):
    """Wraps the watched modules' callables right after each one is executed."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in WATCHED:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_wrap(module: ModuleType) -> None:
            exec_module(module)
            _wrap(module)
            _say(f"  imported {fullname}")

        loader.exec_module = exec_and_wrap  # type: ignore[method-assign]
        return spec


def main() -> int:
    sys.meta_path.insert(0, _Finder())
    argv = sys.argv[1:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    from ftap_pipeline import cli

    try:
        code = cli.main(argv)
    finally:
        mine = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        _say(f"end: CPU {mine.ru_utime + mine.ru_stime:.2f} s here, {children.ru_utime + children.ru_stime:.2f} s in "
             f"waited-for children (pid {os.getpid()})")
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
