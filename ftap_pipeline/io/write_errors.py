"""The system's refusals to write the outputs (disk full, quota, read-only disk, permission), in French.

`OSError.strerror` is the system's English; an operator needs to know which folder, why, what to do, and that
the report already there is untouched (a run writes into a staging folder and swaps it in whole, so a refusal
leaves the previous report as it was).
"""

from __future__ import annotations

import contextlib
import errno
import getpass
from collections.abc import Iterator
from pathlib import Path

_EDQUOT = getattr(errno, "EDQUOT", -1)
_INTACT = "Le rapport déjà présent, s'il y en a un, est intact."


class OutputsUnwritableError(OSError):
    """The outputs folder cannot take the report; `message` says why and what to do, in French."""

    def __init__(self, message: str, cause: OSError) -> None:
        super().__init__(cause.errno, message, cause.filename)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _account() -> str:
    try:
        return f"« {getpass.getuser()} »"
    except (KeyError, OSError):
        return "qui exécute le traitement"


def outputs_problem(exc: OSError, outputs: Path) -> str | None:
    """The French message for a refusal to write into `outputs`; None for an error of another kind."""
    folder = outputs.resolve()
    where = f" (en écrivant {exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return (f"le disque du dossier des sorties {folder} est plein{where}. Libérez de la place sur ce disque (par "
                f"exemple en supprimant d'anciennes archives dans {folder / 'archives'}), puis relancez. {_INTACT}")
    if exc.errno == _EDQUOT:
        return (f"le quota d'espace disque du compte {_account()} est atteint dans le dossier des sorties "
                f"{folder}{where}. Libérez de la place ou faites relever le quota, puis relancez. {_INTACT}")
    if exc.errno == errno.EFBIG:
        return (f"un fichier du rapport dépasse la taille de fichier permise au compte {_account()} dans le dossier "
                f"des sorties {folder}{where} (limite « ulimit -f » ou du système de fichiers). Levez cette limite, "
                f"puis relancez. {_INTACT}")
    if exc.errno == errno.EROFS:
        return (f"le dossier des sorties {folder} est sur un disque en lecture seule{where}. Faites remonter ce disque "
                f"en écriture, ou choisissez un autre dossier des sorties (--outputs ou FTAP_OUTPUTS), puis relancez. "
                f"{_INTACT}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (f"le compte {_account()} n'a pas le droit d'écrire dans le dossier des sorties {folder}{where}. "
                f"Donnez-lui ce droit (propriétaire ou groupe du dossier), ou choisissez un autre dossier des sorties "
                f"(--outputs ou FTAP_OUTPUTS), puis relancez. {_INTACT}")
    return None


def _system_error(exc: BaseException) -> OSError | None:
    """The `OSError` behind `exc`: a library may wrap it (xlsxwriter raises `FileCreateError` from it)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


@contextlib.contextmanager
def writing_into(outputs: Path) -> Iterator[None]:
    """Turn the system's refusals to write into `outputs` into `OutputsUnwritableError`, even wrapped by a library;
    other errors pass as they are."""
    try:
        yield
    except OutputsUnwritableError:
        raise
    except Exception as exc:
        cause = _system_error(exc)
        problem = None if cause is None else outputs_problem(cause, outputs)
        if cause is None or problem is None:
            raise
        raise OutputsUnwritableError(problem, cause) from exc


#: The system's errors that are not refusals to write, as an operator would say them.
_FRENCH = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EISDIR: "c'est un dossier, un fichier était attendu",
    errno.EIO: "erreur de lecture ou d'écriture du disque",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
}


def explain(exc: OSError) -> str:
    """Any system error of a run, in French, with the file it concerns."""
    if isinstance(exc, OutputsUnwritableError):
        return exc.message
    what = _FRENCH.get(exc.errno or 0) or f"erreur du système n° {exc.errno} ({exc.strerror or exc})"
    return f"{what} ({exc.filename})" if exc.filename else what
