"""Pre-flight: what a file must be before any parser touches it, for every input (returns, Chorus
restitutions, the référentiel). One set of limits, one unit (Mo = 2²⁰ bytes), one set of messages.

The checks are pure: the reader gives the file's name, size and first bytes (and, for a zip package, its
declared uncompressed size); a file that fails raises `InputError` with the slug of its kind.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from ftap_pipeline.contract.errors import InputError

#: Largest accepted input file; above it the file is refused before any parsing.
MAX_FILE_BYTES: Final = 50 * 1024 * 1024
#: Largest total uncompressed size of an OOXML/ODS package (zip bombs).
MAX_UNCOMPRESSED_BYTES: Final = 500 * 1024 * 1024
#: Rows read per sheet at most: a return has tens of lines, a declared dimension can claim millions.
MAX_ROWS: Final = 100_000

WORKBOOK_SUFFIXES: Final = (".xlsx", ".xlsm", ".ods", ".xls")
CSV_SUFFIXES: Final = (".csv",)

OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC: Final = b"PK\x03\x04"
#: Bytes to read from the start of a file for `check_head`.
HEAD_BYTES: Final = 8

_MIB: Final = 2**20


class Container(StrEnum):
    """What a workbook file holds, from its first bytes."""

    OLE = "ole"  # a legacy .xls, or a password-protected OOXML package
    ZIP = "zip"  # an OOXML or ODS package


def check_size(size: int, *, slug: str = "file-too-large") -> None:
    """Refuse a file too large to be a return or a restitution, and an empty one."""
    if size > MAX_FILE_BYTES:
        raise InputError(slug, {"motif": f"Le fichier pèse {size / _MIB:.0f} Mo, au-delà de la limite de "
                                         f"{MAX_FILE_BYTES / _MIB:.0f} Mo."})


def check_workbook_head(suffix: str, size: int, head: bytes) -> Container:
    """The checks of a workbook before it is opened: size, extension, and first bytes that match it."""
    suffix = suffix.lower()
    check_size(size)
    if suffix not in WORKBOOK_SUFFIXES:
        raise InputError("file-unsupported", {"extension": suffix or "sans extension"})
    if size == 0:
        raise InputError("file-unreadable", {"motif": "Le fichier est vide."})
    if head.startswith(OLE_MAGIC):
        return Container.OLE
    if not head.startswith(ZIP_MAGIC):
        raise InputError("file-unreadable", {"motif": "Le fichier n'est pas un classeur : son contenu ne correspond pas à son "
                                            "extension, ou il est endommagé."})
    if suffix == ".xls":
        raise InputError("file-unreadable",
                         {"motif": "Le fichier porte l'extension .xls mais n'est pas un classeur Excel 97-2003."})
    return Container.ZIP


def check_ole(suffix: str, encrypted: bool) -> None:
    """An OLE container is a .xls workbook, or an OOXML workbook saved with a password."""
    if suffix.lower() != ".xls":
        if encrypted:
            raise InputError("file-encrypted")
        raise InputError("file-unreadable", {"motif": f"Le fichier est un classeur Excel 97-2003 enregistré sous l'extension "
                                            f"« {suffix} » : renommez-le en .xls, ou enregistrez-le au format .xlsx."})


def check_package_kind(suffix: str, names: set[str]) -> None:
    """A zip package must be the workbook its extension says: an OpenDocument one holds `content.xml`, an
    OOXML one `[Content_Types].xml`. The reader takes the content as it comes, so this is where a renamed
    file is told apart."""
    ods = suffix.lower() == ".ods"
    if ods and "content.xml" not in names:
        raise InputError("file-unreadable", {"motif": "Le fichier porte l'extension .ods mais n'est pas un classeur "
                                                      "OpenDocument : enregistrez-le au format .ods ou renommez-le."})
    if not ods and "[Content_Types].xml" not in names:
        raise InputError("file-unreadable", {"motif": f"Le fichier porte l'extension « {suffix} » mais n'est pas un "
                                                      "classeur Excel : enregistrez-le au format .xlsx."})


def check_package(uncompressed: int) -> None:
    """A zip package whose content would be too large once inflated (a zip bomb)."""
    if uncompressed > MAX_UNCOMPRESSED_BYTES:
        raise InputError("file-too-large", {"motif": "Le classeur décompressé dépasse la taille admise."})


def check_text(raw: bytes, *, slug: str) -> str:
    """A CSV restitution: not empty, not binary, in UTF-8 or Windows-1252; returns its text."""
    if not raw.strip():
        raise InputError(slug, {"motif": "Le fichier est vide."})
    if b"\x00" in raw:
        raise InputError(slug, {"motif": "Le fichier n'est pas un fichier texte CSV (contenu binaire)."})
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(slug, {"motif": "L'encodage du fichier n'est pas reconnu (ni UTF-8, ni Windows-1252)."})
