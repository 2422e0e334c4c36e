"""Run a file parser in worker processes, so that a file which crashes a native reader costs only its worker."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds one file may take when it is retried alone.
ALONE_TIMEOUT_S = 120


def map_isolated(fn: Callable[[Path], T], paths: Sequence[Path], on_crash: Callable[[Path], T], *,
                 workers: int = 2) -> list[T]:
    """`[fn(p) for p in paths]`, computed in forked workers. If a worker dies, the files it left undone
    are retried one by one, each in its own process, and a file that kills that one too gets
    `on_crash(path)`. `fn` must be a module-level function and must not raise for a bad file."""
    if not paths:
        return []
    ctx = multiprocessing.get_context("fork")
    results: dict[int, T] = {}
    try:
        with cf.ProcessPoolExecutor(max_workers=max(1, min(workers, len(paths))), mp_context=ctx) as pool:
            futures = {pool.submit(fn, p): i for i, p in enumerate(paths)}
            for fut in cf.as_completed(futures):
                results[futures[fut]] = fut.result()
    except cf.process.BrokenProcessPool:
        pass
    for i, path in enumerate(paths):
        if i not in results:
            results[i] = _alone(fn, path, on_crash, ctx)
    return [results[i] for i in range(len(paths))]


def _alone(fn: Callable[[Path], T], path: Path, on_crash: Callable[[Path], T], ctx: Any) -> T:
    try:
        with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            return pool.submit(fn, path).result(timeout=ALONE_TIMEOUT_S)
    except (cf.process.BrokenProcessPool, cf.TimeoutError):
        return on_crash(path)
