"""The readers' workers under each start method: `fork` (Linux's default) and `spawn` (Windows, macOS).

Under `spawn` a worker is a fresh interpreter: what it runs must be importable by name and must not count on
the parent's state, and a file that kills its worker must still come back as the French finding."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from ftap_pipeline.cli import main
from ftap_pipeline.io import check_reads, isolation, workbook_reader
from ftap_pipeline.io.isolation import START_METHOD_ENV, map_isolated, start_method
from tests import builders as b
from tests.io import workers as w

METHODS = [pytest.param(m, marks=pytest.mark.skipif(m not in multiprocessing.get_all_start_methods(),
                                                    reason=f"{m} is not available here"))
           for m in ("fork", "spawn")]


@pytest.fixture(params=METHODS)
def method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name: str = request.param
    monkeypatch.setenv(START_METHOD_ENV, name)
    return name


# --- which method ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "expected"), [("linux", "fork"), ("win32", "spawn"), ("darwin", "spawn")])
def test_default_is_fork_on_linux_and_spawn_elsewhere(monkeypatch: pytest.MonkeyPatch, platform: str,
                                                      expected: str) -> None:
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    monkeypatch.setattr(sys, "platform", platform)
    assert start_method() == expected


def test_the_environment_forces_the_method(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(START_METHOD_ENV, " Spawn ")
    assert start_method() == "spawn"


def test_an_unknown_method_is_refused_in_french(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(START_METHOD_ENV, "thread")
    with pytest.raises(ValueError, match="FTAP_START_METHOD vaut « thread » : valeurs possibles"):
        start_method()


def test_the_workers_are_started_with_the_method(method: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(w.PARENT_STATE, "set", True)
    seen = map_isolated(w.sees_parent_state, [tmp_path / "a", tmp_path / "b"], lambda p: False, workers=2)
    assert seen == [method == "fork"] * 2


# --- crashes, bugs and hangs ----------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 4])
def test_crashing_files_cost_only_themselves(method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             chunk: int) -> None:
    """Only the first unfinished files are retried alone: under spawn a process per file would cost seconds.
    With chunks, a dead worker's chunks go back one file at a time before anything runs alone."""
    names = [f"f{i:02d}" for i in range(20)]
    names[3], names[11] = "poison-1", "poison-2"
    alone: list[Path] = []
    real_alone = isolation._alone

    def counted(fn: Callable[[Path], str], path: Path, on_crash: Callable[[Path], str], ctx: object) -> str:
        alone.append(path)
        return real_alone(fn, path, on_crash, ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(isolation, "_alone", counted)
    got = map_isolated(w.name_or_die, [tmp_path / n for n in names], lambda p: f"crash:{p.name}", workers=2,
                       chunk=chunk)
    assert got == [f"crash:{n}" if n.startswith("poison") else n.upper() for n in names]
    assert len(alone) <= 2 * (2 * 2 + 1)


def test_a_bug_in_the_parser_is_raised_not_taken_for_a_crash(method: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bug on a"):
        map_isolated(w.fail, [tmp_path / "a"], lambda p: "crash", workers=1)
    ctx = multiprocessing.get_context(method)
    with pytest.raises(ValueError, match="bug on b"):
        isolation._alone(w.fail, tmp_path / "b", lambda p: "crash", ctx)


def test_a_file_alone_is_stopped_after_its_time(method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "ALONE_TIMEOUT_S", 1)
    ctx = multiprocessing.get_context(method)
    t0 = time.perf_counter()
    assert isolation._alone(w.hang, tmp_path / "lent", lambda p: f"crash:{p.name}", ctx) == "crash:lent"
    assert time.perf_counter() - t0 < 30


def test_a_file_that_spins_is_stopped_by_its_processor_time(method: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop in native code never returns to Python: the OS's processor-time limit stops it all the same,
    in the pool and alone, and the other files are read."""
    monkeypatch.setattr(isolation, "FILE_CPU_S", 1)
    paths = [tmp_path / "a", tmp_path / "poison", tmp_path / "b"]
    t0 = time.perf_counter()
    got = map_isolated(w.spin_poison, paths, lambda p: f"crash:{p.name}", workers=2, chunk=2)
    assert got == ["A", "crash:poison", "B"]
    assert time.perf_counter() - t0 < 60


def test_a_file_that_needs_too_much_memory_fails_in_its_worker(method: str, tmp_path: Path) -> None:
    """The worker's address space is capped: the allocation fails there, and the machine does not swap."""
    (got,) = map_isolated(w.hog, [tmp_path / "a"], lambda p: "crash", workers=1)
    assert got == "MemoryError"


# --- the porteur's command ------------------------------------------------------------------------------


def test_ftap_check_reports_a_crashing_file_in_french(method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    good = b.write(tmp_path, "bonne.xlsx")
    poison = b.write(tmp_path, "poison.xlsx")

    def start_reading(paths: Sequence[Path], *, workers: int = 2, unread: frozenset[str] = frozenset()
                      ) -> isolation.Isolated[workbook_reader.ReadOutcome]:
        return isolation.start_isolated(w.read_or_die, paths, workbook_reader.crashed, workers=workers)

    monkeypatch.setattr(check_reads, "start_reading", start_reading)
    assert main(["check", str(good), str(poison)]) == 1
    out = capsys.readouterr().out
    assert "bonne.xlsx — Retenue — lignes lues 9, retenues 9, rejetées 0" in out
    assert "poison.xlsx — Rejetée" in out
    assert "Le classeur a fait échouer le lecteur : il est endommagé ou malveillant." in out


@pytest.mark.parametrize("entry", ["python -m ftap_pipeline", "ftap"])
def test_the_entry_points_read_under_spawn(tmp_path: Path, entry: str) -> None:
    """A spawned worker re-imports the parent's main module: the entry points must not run again there."""
    if "spawn" not in multiprocessing.get_all_start_methods():
        pytest.skip("spawn is not available here")
    script = Path(sys.executable).with_name("ftap")
    if entry == "ftap" and not script.is_file():
        pytest.skip("the ftap script is not installed beside this interpreter")
    command = [sys.executable, "-m", "ftap_pipeline"] if entry != "ftap" else [str(script)]
    files = [str(b.write(tmp_path, f"r{i}.xlsx", proj=b.projet(project_id=f"AP-2024-0{i + 1}"))) for i in range(3)]
    proc = subprocess.run([*command, "check", *files], capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, START_METHOD_ENV: "spawn"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("— Retenue — lignes lues 9") == 3


def test_a_spawned_reader_imports_no_pandas() -> None:
    """What a spawned worker imports to read a return: the reader alone, without pandas (0.06 s, not 0.6 s)."""
    code = ("import sys\nimport ftap_pipeline.io.workbook_reader\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'pandera', 'numpy', 'prefect'}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
