"""Read the référentiel's workbook in a worker process, without pandas: the reading `referentiel_reader` judges.

The worker only reads the file (its bytes, their SHA-256, its cells), the part where a hostile file can
abort the native reader or exhaust memory; the parent makes the `Referentiel` of it. Kept apart from
pandas so that `ftap check` can start this reading before it imports pandas (`io.check_reads`), and so
that a spawned worker starts in a tenth of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.findings import Finding, finding
from ftap_pipeline.contract.raw import RawWorkbook
from ftap_pipeline.io.file_bytes import fingerprint, read_once
from ftap_pipeline.io.isolation import Isolated, start_isolated
from ftap_pipeline.io.workbook_reader import read_workbook


@dataclass(frozen=True)
class RawReferentiel:
    """The référentiel's cells and the SHA-256 of the bytes they were read from (the file is read once)."""

    workbook: RawWorkbook
    sha256: str


class Problems:
    """The référentiel's findings, as they are found: each with its sheet and cell."""

    def __init__(self, path: Path, sha256: str) -> None:
        self.file, self.sha256 = path.name, sha256
        self.found: list[Finding] = []

    def add(self, slug: str, values: dict[str, object], *, sheet: str = "", cell: str = "", field: str = "",
            value: str = "") -> None:
        self.found.append(finding(slug, values, file=self.file, sha256=self.sha256, sheet=sheet,
                                  cell=f"{sheet}!{cell}" if sheet and cell else cell, field=field, value=value))

    def raise_if_any(self) -> None:
        if self.found:
            raise InputError("referentiel-invalid", {"fichier": self.file, "nombre": len(self.found)},
                             findings=tuple(self.found))


def start_reading(path: Path) -> Isolated[RawReferentiel | InputError]:
    """Start reading the référentiel in a worker under the limits of `io.isolation`; a file that aborts the
    reader, exhausts the worker's memory or processor time, or makes it panic, comes back as the French
    error `referentiel-unreadable` instead of taking the command down. A missing file is raised now."""
    if not path.exists():
        raise InputError("referentiel-missing", {"chemin": path})
    return start_isolated(read_in_worker, [path], crashed, workers=1)


def read_in_worker(path: Path) -> RawReferentiel | InputError:
    """The reading itself, in the worker: its error comes back as a value, for the parent to raise."""
    try:
        return _read_raw(path)
    except InputError as exc:
        return exc


def crashed(path: Path) -> InputError:
    return unreadable(path, fingerprint(path), "Le classeur a fait échouer le lecteur (arrêt brutal, mémoire ou "
                                               "temps de calcul épuisés) : il est endommagé ou malveillant.")


def unreadable(path: Path, sha256: str, motif: str) -> InputError:
    problems = Problems(path, sha256)
    values: dict[str, object] = {"fichier": path.name, "motif": motif}
    problems.add("referentiel-unreadable", values)
    return InputError("referentiel-unreadable", values, findings=tuple(problems.found))


def _read_raw(path: Path) -> RawReferentiel:
    read = read_once(path, "file-unreadable")
    if read.data is None:
        raise unreadable(path, read.sha256, read.error.message if read.error else "Le fichier n'a pas pu être lu.")
    try:
        return RawReferentiel(read_workbook(path, read.data), read.sha256)
    except InputError as exc:
        raise unreadable(path, read.sha256, exc.message) from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a native reader's panic is a BaseException, and a property of
        # the file: it must become the référentiel's French error, not kill the worker's answer
        raise unreadable(path, read.sha256, f"Le classeur est endommagé ou illisible ({type(exc).__name__}).") from None
