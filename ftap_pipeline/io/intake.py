"""Find the inputs of a run and fingerprint them."""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.layout import UNREAD_SHEETS
from ftap_pipeline.contract.model import ParsedReturn, ReturnInput
from ftap_pipeline.core.normalise import parse_return, unreadable_return
from ftap_pipeline.io import parse_cache
from ftap_pipeline.io.file_bytes import fingerprint, read_once
from ftap_pipeline.io.isolation import chunk_size, map_isolated
from ftap_pipeline.io.workbook_reader import ReadOutcome, crashed, read_bytes, read_file, read_isolated

#: Lock and temporary files that office suites leave beside an open workbook.
_LOCK_PREFIXES = ("~$", ".~lock", ".~", "~")


def is_lock_file(path: Path) -> bool:
    return path.name.startswith(_LOCK_PREFIXES) or path.name.startswith(".")


log = logging.getLogger("ftap")


def scan(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The folder's regular files to read, sorted by name, and every other entry with why it is not read.

    Nothing is followed: a symbolic link could lead anywhere on the machine (a password file), so it is refused,
    as are folders, pipes and devices, hidden and lock files, and names that are not valid UTF-8."""
    if not folder.is_dir():
        return [], []
    regular: list[Path] = []
    refused: list[tuple[str, str]] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        name = entry.name
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            refused.append((_shown(name), f"son type ne peut pas être lu ({exc.strerror or exc})"))
            continue
        if stat.S_ISLNK(mode):
            refused.append((_shown(name), "c'est un lien symbolique, qui n'est jamais suivi"))
        elif stat.S_ISDIR(mode):
            refused.append((_shown(name), "c'est un dossier ; les sous-dossiers ne sont pas lus"))
        elif not stat.S_ISREG(mode):
            refused.append((_shown(name), "ce n'est pas un fichier ordinaire (tube, périphérique ou socket)"))
        elif _shown(name) != name:
            refused.append((_shown(name), "son nom n'est pas écrit en UTF-8"))
        elif is_lock_file(Path(name)):
            refused.append((name, "c'est un fichier caché ou un fichier de verrouillage laissé par un tableur"))
        else:
            regular.append(Path(entry.path))
    return regular, refused


def _shown(name: str) -> str:
    """A name as it can be written anywhere: bytes that are not UTF-8 (kept by the OS as surrogates) as `�`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def discover(folder: Path) -> list[Path]:
    """The regular files of the folder (not recursive) a run reads, sorted by name; other entries are logged."""
    regular, refused = scan(folder)
    for name, why in refused:
        log.warning("Attention : %s/%s n'est pas lu : %s.", folder.name, name, why)
    return regular


def refused_returns(refused: Sequence[tuple[str, str]]) -> list[ReturnInput]:
    """The entries of the returns' inbox that `scan` did not keep, each a rejected return with its reason."""
    return [ReturnInput(name, "", error=InputError("inbox-entry-refused", {"fichier": name, "motif": why}))
            for name, why in refused]


def read_returns(paths: Sequence[Path], workers: int = 2) -> list[ReturnInput]:
    """Read return files in isolated worker processes, as a run reads them (`UNREAD_SHEETS` left unbuilt);
    unreadable ones carry their reason."""
    return returns_of(paths, read_isolated(list(paths), workers=workers, unread=UNREAD_SHEETS))


def returns_of(paths: Sequence[Path], outcomes: Sequence[ReadOutcome]) -> list[ReturnInput]:
    """The returns of the files `paths` as their readers left them: a workbook, or the reason there is none."""
    items = []
    for path, outcome in zip(paths, outcomes, strict=True):
        sha = outcome.sha256 or fingerprint(path)
        if outcome.workbook is not None:
            items.append(ReturnInput(path.name, sha, workbook=outcome.workbook))
        else:
            err = outcome.error
            items.append(ReturnInput(path.name, sha, error=err or InputError("file-unreadable",
                                                                             {"motif": "Fichier illisible."})))
    return items



def import_readers() -> None:
    """Import, in this process, the modules that reading workers import on their first file.

    A worker forked while another thread of this process imports a module would wait forever on that
    module's lock if it needed the module too; `pipeline.read_ahead` forks while the main thread imports
    Prefect. After this call a worker reading a return, the référentiel or a restitution imports nothing
    (tests/io/test_intake.py checks it on every file of the demo)."""
    import encodings.ascii  # the codecs of zip entry names, Chorus extracts and .xls sheets
    import encodings.cp437
    import encodings.cp1252
    import encodings.latin_1
    import encodings.utf_16_le  # noqa: F401

    import python_calamine  # noqa: F401
    if sys.platform != "win32":
        import resource  # noqa: F401  # the workers' limits


def parse_file(path: Path) -> ParsedReturn:
    """Read and parse one return, in a worker: only its typed lines and findings travel back, not its cells."""
    return _parsed(path, read_file(path, unread=UNREAD_SHEETS))


def _parsed(path: Path, outcome: ReadOutcome) -> ParsedReturn:
    if outcome.workbook is not None:
        return parse_return(outcome.workbook, path.name, outcome.sha256)
    return unreadable_return(ReturnInput(path.name, outcome.sha256, error=outcome.error))


def _parse_crashed(path: Path) -> ParsedReturn:
    return unreadable_return(ReturnInput(path.name, fingerprint(path), error=crashed(path).error))


def parse_returns(paths: Sequence[Path], workers: int = 2, *, cache: Path | None = None) -> list[ParsedReturn]:
    """Read and parse return files in isolated worker processes, in chunks; an unreadable one carries its reason.

    Parsing where the file is read spreads it over every core, and each chunk sends back a few lists of
    typed values rather than every cell of its workbooks. With a `cache` folder (see `io/parse_cache.py`),
    a file whose parse is cached is only read and hashed, and its parse loaded from the cache."""
    return read_returns_cached(paths, workers, cache).returns


def nothing_to_store() -> None:
    """What is left to store into the cache after a reading that stored its parses itself: nothing."""


@dataclass(frozen=True)
class Intake:
    """The parsed returns, in the order of the paths, and which files went to the parser (the others came
    from the cache); `store` writes the new parses into the cache, when the reading left that for later."""

    returns: list[ParsedReturn]
    parsed: tuple[str, ...]
    store: Callable[[], None] = nothing_to_store


def read_returns_cached(paths: Sequence[Path], workers: int = 2, cache: Path | None = None, *,
                        store_now: bool = True) -> Intake:
    """`parse_returns`, saying which files were parsed: the misses, stored in the cache after the reading,
    or by `Intake.store` when not `store_now` (a reading ahead of the run's lock writes nothing)."""
    paths = list(paths)
    store = parse_cache.open_cache(cache) if paths else None
    if store is None:
        return Intake(_parse_isolated(parse_file, paths, workers), tuple(p.name for p in paths))
    crashed: set[str] = set()

    def on_crash(path: Path) -> ParsedReturn:
        crashed.add(path.name)
        return _parse_crashed(path)

    store.share_with_workers()
    chunk = chunk_size(len(paths), workers)
    first = map_isolated(partial(parse_unless_cached, store.folder, store.generation), paths, on_crash,
                         workers=workers, chunk=chunk)
    loaded = store.load(r.key for r in first if isinstance(r, parse_cache.Hit))
    out: list[ParsedReturn | None] = [loaded.get(r.key) if isinstance(r, parse_cache.Hit) else r for r in first]
    again = [i for i, r in enumerate(out) if r is None]  # a hit the cache could not give back whole
    for i, parsed in zip(again, _parse_isolated(parse_file, [paths[i] for i in again], workers, on_crash),
                         strict=True):
        out[i] = parsed
    returns = [r for r in out if r is not None]
    new = [r for r, f in zip(returns, first, strict=True) if not isinstance(f, parse_cache.Hit) or f.key not in loaded]

    def save() -> None:
        store.save([r for r in new if _cacheable(r, crashed)],
                   seen=[parse_cache.entry_key(r.sha256, r.file) for r in returns if r.sha256])

    parsed_names = tuple(r.file for r in new)
    log.info("Remontées : %d reprise(s) du cache des remontées lues, %d lue(s) et analysée(s).",
             len(returns) - len(parsed_names), len(parsed_names))
    if store_now:
        save()
        return Intake(returns, parsed_names)
    return Intake(returns, parsed_names, save)


def _parse_isolated(fn: Callable[[Path], ParsedReturn], paths: Sequence[Path], workers: int,
                    on_crash: Callable[[Path], ParsedReturn] | None = None) -> list[ParsedReturn]:
    return map_isolated(fn, paths, on_crash or _parse_crashed, workers=workers, chunk=chunk_size(len(paths), workers))


def _cacheable(parsed: ParsedReturn, crashed: set[str]) -> bool:
    """Only what the bytes alone decide: not a file that killed its worker or could not be read at all."""
    return bool(parsed.sha256) and parsed.readable and parsed.file not in crashed


def parse_unless_cached(folder: Path, generation: str, path: Path) -> ParsedReturn | parse_cache.Hit:
    """In a worker: a file whose key the cache's index holds is only read and hashed, the others are parsed
    from the same bytes."""
    read = read_once(path, "file-unreadable", too_large="file-too-large")
    if read.data is not None:
        key = parse_cache.entry_key(read.sha256, path.name)
        if parse_cache.is_known(folder, generation, key):
            return parse_cache.Hit(key, path.name)
    return _parsed(path, read_bytes(path, read, unread=UNREAD_SHEETS))
