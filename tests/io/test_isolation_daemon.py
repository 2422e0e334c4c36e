"""The readers' isolation inside a daemonic process (a Dask worker), where `multiprocessing` may not start
children: each file still runs in a process of its own making, within its limits, and a file that kills it
costs only itself.

The parsers here are pickled by name into fresh interpreters: the module imports the reader and the test
builders only in the tests that use them, so that each subprocess starts in a fraction of a second."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ftap_pipeline.io import isolation
from ftap_pipeline.io.isolation import START_METHOD_ENV, in_subprocesses, map_isolated
from tests.io import workers as w

if TYPE_CHECKING:
    from ftap_pipeline.contract.model import ParsedReturn

METHODS = [pytest.param(m, marks=pytest.mark.skipif(m not in multiprocessing.get_all_start_methods(),
                                                    reason=f"{m} is not available here"))
           for m in ("fork", "spawn")]


def shout(path: Path) -> str:
    """A parser that prints on its standard output, as a native library may: the answers must not suffer."""
    print("bruit sur la sortie standard", flush=True)
    return path.name.upper()


class Panic(BaseException):
    """What a native reader's panic looks like from Python: not an `Exception`."""


def panic_on_poison(path: Path) -> str:
    if path.name.startswith("poison"):
        raise Panic(path.name)
    return path.name.upper()


def _crash(path: Path) -> str:
    return f"crash:{path.name}"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many files each reading subprocess was given, in the order they started."""
    sizes: list[int] = []
    real = isolation._streamed

    def streamed(fn: Callable[[Path], object], paths: Sequence[Path]) -> list[object]:
        sizes.append(len(paths))
        return real(fn, paths)

    monkeypatch.setattr(isolation, "_streamed", streamed)
    return sizes


def test_crashing_files_cost_only_themselves(tmp_path: Path, counted: list[int]) -> None:
    """Each subprocess reads its files in order and answers file by file: the file it died on is known, is
    retried alone, and the files after it go to a new subprocess."""
    names = [f"f{i:02d}" for i in range(12)]
    names[2], names[9] = "poison-1", "poison-2"
    got = in_subprocesses(w.name_or_die, [tmp_path / n for n in names], _crash, workers=2)
    assert got == [f"crash:{n}" if n.startswith("poison") else n.upper() for n in names]
    # two runs of 6, each dying once (on its 3rd and 4th file): the culprit alone, then the rest of its run
    assert sorted(counted) == [1, 1, 2, 3, 6, 6]


def test_a_bug_in_the_parser_is_raised_not_taken_for_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bug on a"):
        in_subprocesses(w.fail, [tmp_path / "a"], _crash, workers=1)


def test_a_panic_is_a_crash_of_that_file_only(tmp_path: Path) -> None:
    paths = [tmp_path / n for n in ("a", "poison", "b")]
    assert in_subprocesses(panic_on_poison, paths, _crash, workers=1) == ["A", "crash:poison", "B"]


def test_a_file_that_hangs_is_stopped_after_its_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "ALONE_TIMEOUT_S", 1)
    assert in_subprocesses(w.hang, [tmp_path / "lent"], _crash, workers=1) == ["crash:lent"]


def test_a_file_that_spins_is_stopped_by_its_processor_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "FILE_CPU_S", 1)
    paths = [tmp_path / n for n in ("a", "poison", "b")]
    assert in_subprocesses(w.spin_poison, paths, _crash, workers=1) == ["A", "crash:poison", "B"]


def test_a_file_that_needs_too_much_memory_fails_in_its_subprocess(tmp_path: Path) -> None:
    assert in_subprocesses(w.hog, [tmp_path / "a"], _crash, workers=1) == ["MemoryError"]


def test_what_the_parser_prints_does_not_mix_with_the_answers(tmp_path: Path) -> None:
    assert in_subprocesses(shout, [tmp_path / "a", tmp_path / "b"], _crash, workers=1) == ["A", "B"]


def test_nothing_to_read_starts_nothing(counted: list[int]) -> None:
    assert in_subprocesses(w.name_or_die, [], _crash) == []
    assert counted == []


def test_more_workers_than_files(tmp_path: Path, counted: list[int]) -> None:
    assert in_subprocesses(w.name_or_die, [tmp_path / "a"], _crash, workers=4) == ["A"]
    assert counted == [1]


# --- chosen by itself in a daemonic process ------------------------------------------------------------------


def _names_in_a_daemon(paths: list[Path], sender: Connection) -> None:
    """The body of a daemonic process, as a Dask worker is one: `map_isolated` must find its own way."""
    try:
        sender.send((multiprocessing.current_process().daemon,
                     map_isolated(w.name_or_die, paths, _crash, workers=2, chunk=2)))
    except BaseException as exc:  # noqa: BLE001 - sent back to the test, which shows it
        sender.send((multiprocessing.current_process().daemon, repr(exc)))


def _returns_in_a_daemon(paths: list[Path], sender: Connection) -> None:
    from ftap_pipeline.io import intake

    sender.send(_slugs(intake.parse_returns(paths, 2)))


def _slugs(parsed: Sequence[ParsedReturn]) -> list[tuple[str, str, list[str]]]:
    return [(p.file, p.sha256, [f.slug for f in p.findings]) for p in parsed]


def _in_a_daemon(method: str, target: Callable[[list[Path], Connection], None], paths: list[Path]) -> object:
    ctx = multiprocessing.get_context(method)
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=target, args=(paths, sender), daemon=True)  # type: ignore[attr-defined]
    process.start()
    sender.close()
    try:
        if not receiver.poll(300):
            raise AssertionError("the daemonic process did not answer")
        return receiver.recv()
    finally:
        process.join(60)


@pytest.mark.parametrize("method", METHODS)
def test_a_daemonic_process_reads_through_subprocesses(method: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(START_METHOD_ENV, method)
    names = ["a", "poison", "b", "c", "d"]
    got = _in_a_daemon(method, _names_in_a_daemon, [tmp_path / n for n in names])
    assert got == (True, ["A", "crash:poison", "B", "C", "D"])  # it was daemonic, and read all the same


@pytest.mark.parametrize("method", METHODS)
def test_a_daemonic_process_parses_real_returns(method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real parser, pickled by name into the subprocess: a good return is read, a fake one refused."""
    from ftap_pipeline.io import intake
    from tests import builders as b

    monkeypatch.setenv(START_METHOD_ENV, method)
    good = b.write(tmp_path, "bonne.xlsx")
    fake = tmp_path / "faux.xlsx"
    fake.write_bytes(b"ceci n'est pas un classeur")
    got = _in_a_daemon(method, _returns_in_a_daemon, [good, fake])
    expected = _slugs(intake.parse_returns([good, fake], 1))
    assert got == expected
    assert [slugs for _, _, slugs in expected] == [[], ["file-unreadable"]]


def test_the_parsed_returns_are_the_same_as_from_the_pool(tmp_path: Path) -> None:
    from ftap_pipeline.io import intake
    from tests import builders as b

    paths = [b.write(tmp_path, f"r{i}.xlsx", proj=b.projet(project_id=f"AP-2024-0{i + 1}")) for i in range(3)]
    pooled: list[ParsedReturn] = intake.parse_returns(paths, 2)
    assert in_subprocesses(intake.parse_file, paths, intake._parse_crashed, workers=2) == pooled


def test_the_subprocess_imports_the_package_from_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started from elsewhere, with the parent's own import path: the parser is found by name."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    assert in_subprocesses(w.name_or_die, [tmp_path / "x"], _crash, workers=1) == ["X"]
