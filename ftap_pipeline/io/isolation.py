"""Run a file parser in worker processes, so that a file which crashes a native reader costs only its worker.

Workers are started with `start_method()`: `fork` on Linux, where it is the cheapest, `spawn` elsewhere
(Windows has nothing else, and macOS's system libraries are not fork-safe). Under `spawn` a worker is a
fresh interpreter that imports what it runs: the function must be defined at module level, its argument
and result picklable, and it must not count on state set up in the parent after start-up.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: Seconds one file may take when it is retried alone.
ALONE_TIMEOUT_S = 120
#: Forces the workers' start method (`fork`, `spawn` or `forkserver`), e.g. to test under Windows' method.
START_METHOD_ENV = "FTAP_START_METHOD"


def start_method() -> str:
    """The start method of the workers: `FTAP_START_METHOD` when set (the only place it is read), else
    `fork` on Linux and `spawn` elsewhere."""
    available = multiprocessing.get_all_start_methods()
    forced = os.environ.get(START_METHOD_ENV, "").strip().lower()
    if forced:
        if forced not in available:
            raise ValueError(f"{START_METHOD_ENV} vaut « {forced} » : valeurs possibles sur ce système : "
                             f"{', '.join(available)}.")
        return forced
    return "fork" if sys.platform.startswith("linux") else "spawn"


def map_isolated(fn: Callable[[Path], T], paths: Sequence[Path], on_crash: Callable[[Path], T], *,
                 workers: int = 2) -> list[T]:
    """`[fn(p) for p in paths]`, computed in worker processes; a file that kills its worker gets `on_crash(path)`.

    `fn` must be a module-level function and must not raise for a bad file; `on_crash` runs in this process.
    When a worker dies, the pool is lost with every file it had not finished. Workers take the files in
    order, so the one that killed it is among the first few unfinished: those are retried one by one, each
    in its own process, and the rest go to a new pool. Under `spawn` a process costs a fresh interpreter,
    so retrying every unfinished file alone would cost seconds per hundred files.
    """
    ctx = multiprocessing.get_context(start_method())
    results: dict[int, T] = {}
    todo = list(range(len(paths)))
    while todo:
        _pooled(fn, paths, todo, results, ctx, workers)
        todo = [i for i in todo if i not in results]
        suspects, todo = todo[:2 * workers + 1], todo[2 * workers + 1:]
        for i in suspects:
            results[i] = _alone(fn, paths[i], on_crash, ctx)
    return [results[i] for i in range(len(paths))]


def _pooled(fn: Callable[[Path], T], paths: Sequence[Path], todo: Sequence[int], results: dict[int, T],
            ctx: BaseContext, workers: int) -> None:
    """Fill `results` for the files of `todo` that a pool finishes before one of its workers dies."""
    try:
        with cf.ProcessPoolExecutor(max_workers=max(1, min(workers, len(todo))), mp_context=ctx) as pool:
            futures = {pool.submit(fn, paths[i]): i for i in todo}
            for fut in cf.as_completed(futures):
                results[futures[fut]] = fut.result()
    except cf.process.BrokenProcessPool:
        pass


def _alone(fn: Callable[[Path], T], path: Path, on_crash: Callable[[Path], T], ctx: BaseContext) -> T:
    """`fn(path)` in a process of its own, stopped after `ALONE_TIMEOUT_S` (a pool cannot stop a hung worker)."""
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_run_alone, args=(fn, path, sender), daemon=True)  # type: ignore[attr-defined]
    process.start()
    sender.close()
    try:
        if receiver.poll(ALONE_TIMEOUT_S):
            ok, value = receiver.recv()
            if ok:
                return value  # type: ignore[no-any-return]
            raise value
    except EOFError:
        pass  # the process died without an answer
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    return on_crash(path)


def _run_alone(fn: Callable[[Path], T], path: Path, sender: Connection) -> None:
    """The body of an alone process: the result, or the exception `fn` raised (a bug, to surface as such)."""
    try:
        outcome: tuple[bool, object] = (True, fn(path))
    except Exception as exc:  # noqa: BLE001 - sent back to the parent, which raises it
        outcome = (False, exc)
    sender.send(outcome)
    sender.close()
