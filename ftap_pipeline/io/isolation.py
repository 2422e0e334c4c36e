"""Run a file parser in worker processes, so that a file which crashes a native reader costs only its worker.

Workers are started with `start_method()`: `fork` on Linux, where it is the cheapest, `spawn` elsewhere
(Windows has nothing else, and macOS's system libraries are not fork-safe). Under `spawn` a worker is a
fresh interpreter that imports what it runs: the function must be defined at module level, its argument
and result picklable, and it must not count on state set up in the parent after start-up.

A daemonic process (a Dask worker, for one) may not start `multiprocessing` children: there each reading
process is a plain subprocess, `python -m ftap_pipeline.io.isolated_worker`, under the same limits. It
imports what it runs by name, like a spawned worker, so the same rules hold.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import IO, Generic, TypeVar

T = TypeVar("T")

#: Seconds one file may take when it is retried alone.
ALONE_TIMEOUT_S = 120
#: Processor seconds one file may take in a worker: past it the OS stops the worker (SIGXCPU), even inside
#: native code, and the file is retried alone, then reported. A return takes well under a second.
FILE_CPU_S = 60
#: Address space of a worker: a file that would need more makes its allocation fail, not the machine swap.
WORKER_MEMORY_BYTES = 4 << 30
#: Forces the workers' start method (`fork`, `spawn` or `forkserver`), e.g. to test under Windows' method.
START_METHOD_ENV = "FTAP_START_METHOD"
#: The module a daemonic process runs as its reading subprocess.
WORKER_MODULE = "ftap_pipeline.io.isolated_worker"
#: Seconds a reading subprocess may take to start (an interpreter, and the parser's imports).
STARTUP_TIMEOUT_S = 120


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
                 workers: int = 2, chunk: int = 1) -> list[T]:
    """`[fn(p) for p in paths]`, computed in worker processes; a file that kills its worker gets `on_crash(path)`.

    `fn` must be a module-level function and must not raise for a bad file; `on_crash` runs in this process.
    Files go to the workers `chunk` at a time, so that a worker sends back one answer per chunk rather than
    per file. When a worker dies, the pool is lost with every chunk it had not finished: those files go
    to a new pool one by one. When one of those kills a worker again, the files that pool had not finished
    are suspects in order: the first few are retried alone, each in its own process, and the rest go to a
    new pool. Under `spawn` a process costs a fresh interpreter, so retrying every unfinished file alone
    would cost seconds per hundred files.

    In a daemonic process, which may not have `multiprocessing` children, the files go to subprocesses
    instead (`in_subprocesses`).
    """
    return start_isolated(fn, paths, on_crash, workers=workers, chunk=chunk).results()


def start_isolated(fn: Callable[[Path], T], paths: Sequence[Path], on_crash: Callable[[Path], T], *,
                   workers: int = 2, chunk: int = 1) -> Isolated[T]:
    """`map_isolated`, its first workers started now, in this thread; `results()` waits for them.

    A command starts reading this way before it imports what will judge the files (`ftap check` imports
    pandas meanwhile, on the other core). The workers are forked (or spawned) before those imports begin:
    a worker forked while this process is in the middle of an import could find that module half made."""
    return Isolated(fn, paths, on_crash, workers=workers, chunk=chunk)


class Isolated(Generic[T]):
    """The results of `map_isolated`, being computed by workers started at construction."""

    def __init__(self, fn: Callable[[Path], T], paths: Sequence[Path], on_crash: Callable[[Path], T], *,
                 workers: int, chunk: int) -> None:
        self._fn, self._paths, self._on_crash, self._workers = fn, list(paths), on_crash, workers
        self._size = max(1, chunk)
        self._daemonic = bool(multiprocessing.current_process().daemon)
        self._ctx = multiprocessing.get_context(start_method())
        first = range(len(self._paths))
        self._first = None if self._daemonic or not self._paths else _Pool(fn, self._paths, first, self._ctx,
                                                                            workers, self._size)
        self._results: list[T] | None = None

    def results(self) -> list[T]:
        """`fn(p)` for each path, in order (`on_crash(p)` for a file that killed its worker)."""
        if self._results is None:
            self._results = self._computed()
        return self._results

    def _computed(self) -> list[T]:
        if self._daemonic:
            return in_subprocesses(self._fn, self._paths, self._on_crash, workers=self._workers)
        fn, paths, ctx, workers, size = self._fn, self._paths, self._ctx, self._workers, self._size
        results: dict[int, T] = {}
        todo = list(range(len(paths)))
        pool, self._first = self._first, None
        while todo:
            (pool or _Pool(fn, paths, todo, ctx, workers, size)).collect(results)
            pool = None
            todo = [i for i in todo if i not in results]
            if size > 1:
                size = 1
                continue
            suspects, todo = todo[:2 * workers + 1], todo[2 * workers + 1:]
            for i in suspects:
                results[i] = _alone(fn, paths[i], self._on_crash, ctx)
        return [results[i] for i in range(len(paths))]


def chunk_size(files: int, workers: int, *, most: int = 64) -> int:
    """Files per task: about four tasks per worker, so the last ones even out, and at most `most`."""
    return max(1, min(most, -(-files // (4 * max(1, workers)))))


class _Pool(Generic[T]):
    """A pool of workers given the files of `todo` in chunks of `size` at construction (under `fork` its
    workers are forked then); `collect` takes what it finishes before one of its workers dies."""

    def __init__(self, fn: Callable[[Path], T], paths: Sequence[Path], todo: Sequence[int], ctx: BaseContext,
                 workers: int, size: int) -> None:
        parts = [list(todo[k:k + size]) for k in range(0, len(todo), size)]
        self._pool = cf.ProcessPoolExecutor(max_workers=max(1, min(workers, len(parts))), mp_context=ctx)
        self._futures: dict[cf.Future[list[T]], list[int]] = {}
        try:
            for part in parts:
                self._futures[self._pool.submit(_apply, fn, [paths[i] for i in part], FILE_CPU_S)] = part
        except cf.process.BrokenProcessPool:
            pass  # a worker died already: the chunks not submitted are not finished, and go to the next pool

    def collect(self, results: dict[int, T]) -> None:
        """Fill `results` for the files this pool finishes, then shut it down."""
        try:
            for fut in cf.as_completed(self._futures):
                for i, value in zip(self._futures[fut], fut.result(), strict=True):
                    results[i] = value
        except cf.process.BrokenProcessPool:
            pass
        finally:
            self._pool.shutdown(wait=True)


def _apply(fn: Callable[[Path], T], paths: Sequence[Path], cpu_seconds: int = FILE_CPU_S) -> list[T]:
    """The body of one task: `fn` on each file of a chunk, each within its processor time (module level, so
    `spawn` workers can import it)."""
    return list(apply_each(fn, paths, cpu_seconds))


def apply_each(fn: Callable[[Path], T], paths: Sequence[Path], cpu_seconds: int = FILE_CPU_S) -> Iterator[T]:
    """`fn` on each file, one at a time, in a process capped in memory, each file within its processor time."""
    limit_memory()
    for p in paths:
        limit_cpu(cpu_seconds)
        yield fn(p)


def limit_memory(most: int = WORKER_MEMORY_BYTES) -> None:
    """Let this process map `most` bytes beyond what it maps already (a forked worker inherits its parent's
    mappings), where the OS allows it, and never above a cap already set."""
    try:
        import resource
    except ImportError:  # Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = _mapped_bytes() + most
    cap = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _mapped_bytes() -> int:
    """The address space this process maps now (Linux's /proc; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def limit_cpu(seconds: int) -> None:
    """Let this process use `seconds` more of processor time from now, then be stopped by the OS."""
    try:
        import resource
    except ImportError:  # Windows
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used.ru_utime + used.ru_stime) + 1 + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _alone(fn: Callable[[Path], T], path: Path, on_crash: Callable[[Path], T], ctx: BaseContext) -> T:
    """`fn(path)` in a process of its own, stopped after `ALONE_TIMEOUT_S` (a pool cannot stop a hung worker)."""
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_run_alone, args=(fn, path, sender, FILE_CPU_S), daemon=True)  # type: ignore[attr-defined]
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


def _run_alone(fn: Callable[[Path], T], path: Path, sender: Connection, cpu_seconds: int) -> None:
    """The body of an alone process: the result, or the exception `fn` raised (a bug, to surface as such)."""
    try:
        outcome: tuple[bool, object] = (True, _apply(fn, [path], cpu_seconds)[0])
    except Exception as exc:  # noqa: BLE001 - sent back to the parent, which raises it
        outcome = (False, exc)
    sender.send(outcome)
    sender.close()


# --- in a daemonic process: plain subprocesses --------------------------------------------------------------


def in_subprocesses(fn: Callable[[Path], T], paths: Sequence[Path], on_crash: Callable[[Path], T], *,
                    workers: int = 2) -> list[T]:
    """`map_isolated` without `multiprocessing`, which a daemonic process may not use: the files in `workers`
    runs of consecutive files, each read by a subprocess that sends back each file's result as soon as it has it.

    A subprocess reads its files one after the other, so when it dies (a crash, its processor or memory
    limit) or has not answered for `ALONE_TIMEOUT_S`, the file it was reading is known: that file is tried
    again in a subprocess of its own and gets `on_crash(path)` if it fails there too, and the files after it go
    to a new subprocess. Chunks are not needed: a subprocess answers through its own pipe, file by file. A bug
    (an exception `fn` raised) is raised here."""
    if not paths:
        return []
    size = -(-len(paths) // max(1, min(workers, len(paths))))
    runs = [paths[k:k + size] for k in range(0, len(paths), size)]
    with cf.ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = [pool.submit(_read_run, fn, run, on_crash) for run in runs]
        return [value for fut in futures for value in fut.result()]


def _read_run(fn: Callable[[Path], T], paths: Sequence[Path], on_crash: Callable[[Path], T]) -> list[T]:
    """The results of a run of files, the file that stopped a subprocess retried alone, then reported."""
    out: list[T] = []
    while len(out) < len(paths):
        out += _streamed(fn, paths[len(out):])
        if len(out) < len(paths):
            culprit = paths[len(out)]
            alone = _streamed(fn, [culprit])
            out.append(alone[0] if alone else on_crash(culprit))
    return out


def _streamed(fn: Callable[[Path], T], paths: Sequence[Path]) -> list[T]:
    """What one reading subprocess sends back for `paths`, in order, until it ends, dies or stops answering
    (it is then killed)."""
    process = subprocess.Popen([sys.executable, "-m", WORKER_MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               env=_worker_environment())
    stdin, stdout = process.stdin, process.stdout
    if stdin is None or stdout is None:  # never: both are pipes
        raise RuntimeError("reading subprocess without pipes")
    answers: queue.Queue[tuple[str, object]] = queue.Queue()
    reader = threading.Thread(target=_receive, args=(stdout, answers), daemon=True)
    reader.start()
    out: list[T] = []
    try:
        _send_job(stdin, fn, paths)
        timeout = STARTUP_TIMEOUT_S
        while len(out) < len(paths):
            try:
                kind, value = answers.get(timeout=timeout)
            except queue.Empty:
                break  # hung on paths[len(out)]
            if kind == "error" and isinstance(value, BaseException):
                raise value
            if kind == "end":
                break  # died on paths[len(out)]
            if kind == "value":
                out.append(value)  # type: ignore[arg-type]  # what `fn` returned, pickled back
            timeout = ALONE_TIMEOUT_S
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        reader.join()
        stdout.close()
    return out


def _send_job(stdin: IO[bytes], fn: Callable[[Path], T], paths: Sequence[Path]) -> None:
    """Give a reading subprocess this process's import path, then its job; a subprocess already dead is
    seen by the reader of its answers."""
    try:
        pickle.dump(list(sys.path), stdin)
        pickle.dump((fn, list(paths), FILE_CPU_S), stdin)
        stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass


def _receive(stdout: IO[bytes], answers: queue.Queue[tuple[str, object]]) -> None:
    """Queue every answer of a subprocess, then `end` once it has closed its output (or died in the middle
    of an answer)."""
    try:
        while True:
            answers.put(pickle.load(stdout))
    except (EOFError, OSError, pickle.UnpicklingError):
        pass
    answers.put(("end", None))


def _worker_environment() -> dict[str, str]:
    """The environment of a reading subprocess: this one's, and where to import the package from when it is
    not installed (a source checkout); the subprocess then takes this process's whole import path."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    if Path(root).name not in ("site-packages", "dist-packages"):
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env
