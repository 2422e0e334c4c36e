"""Pre-flight: what a file must be before any parser touches it, for every input (returns, Chorus
restitutions, the référentiel). One set of limits, one unit (Mo = 2²⁰ bytes), one set of messages.

The checks are pure: the reader gives the file's name, size and first bytes (and, for a zip package, the
entries of its central directory and the bytes themselves, whose local headers are read here); a file that
fails raises `InputError` with the slug of its kind.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ftap_pipeline.contract.errors import InputError

#: Largest accepted input file; above it the file is refused before any parsing.
MAX_FILE_BYTES: Final = 50 * 1024 * 1024
#: Largest total uncompressed size of an OOXML/ODS package (zip bombs).
MAX_UNCOMPRESSED_BYTES: Final = 500 * 1024 * 1024
#: Rows of a sheet at most: a return has tens of lines, a declared dimension can claim millions. A sheet
#: taller than this is refused before its cells become Python values (the per-return cap of `Paramètres`
#: is lower, and is judged in the core).
MAX_ROWS: Final = 100_000
#: Cells of a sheet at most (rows × columns), for the same reason: 100 000 rows of 300 numbers took 277 s.
MAX_CELLS: Final = 4_000_000
#: Entries of a zip package at most: a workbook holds tens of parts (54 in the largest real one seen).
MAX_ENTRIES: Final = 1_000
#: Largest inflation ratio of a zip entry, and of the whole package (real workbooks stay under 20).
MAX_RATIO: Final = 100
#: Entries (and packages) smaller than this once inflated are not judged on their ratio: they cannot hurt.
RATIO_FLOOR_BYTES: Final = 2**20

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


@dataclass(frozen=True)
class ZipEntry:
    """One entry of a zip package as its central directory declares it (what the reader, calamine, trusts)."""

    name: str
    offset: int
    compressed: int
    uncompressed: int
    #: General purpose flags: bit 3 says the local header leaves its sizes to a data descriptor, bit 11 UTF-8.
    flags: int = 0


_LOCAL: Final = struct.Struct("<4sHHHHHIIIHH")
#: Unicode's control characters (category `Cc`: C0, DEL and C1), as one search rather than a test a character.
_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f]")
_DESCRIPTOR_FLAG: Final = 0x08
_UTF8_FLAG: Final = 0x800
_ZIP64_MARK: Final = 0xFFFFFFFF


def _suspicious(motif: str) -> InputError:
    return InputError("file-suspicious", {"motif": motif})


def check_zip(entries: Sequence[ZipEntry], data: bytes) -> None:
    """Refuse a zip package that could hurt or mislead before any of its XML is parsed: too many entries,
    too large or too compressed once inflated, odd names, or local headers that disagree with the central
    directory (two readers would then see two different files: a scan could miss the `#REF!` cells that
    calamine reads)."""
    if len(entries) > MAX_ENTRIES:
        raise InputError("file-too-large", {"motif": f"L'archive du classeur compte {len(entries)} éléments, au-delà "
                                                     f"de la limite de {MAX_ENTRIES}."})
    total = sum(e.uncompressed for e in entries)
    check_package(total)
    if total > RATIO_FLOOR_BYTES and total > MAX_RATIO * max(len(data), 1):
        raise InputError("file-too-large", {"motif": f"Le classeur se décompresse en {total / _MIB:.0f} Mo pour "
                                                     f"{len(data) / _MIB:.1f} Mo : un taux de compression anormal."})
    for e in entries:
        if e.uncompressed > RATIO_FLOOR_BYTES and e.uncompressed > MAX_RATIO * max(e.compressed, 1):
            raise InputError("file-too-large", {"motif": f"L'élément « {_shown(e.name)} » du classeur se décompresse "
                                                         f"en {e.uncompressed / _MIB:.0f} Mo pour "
                                                         f"{e.compressed / _MIB:.1f} Mo : un taux de compression "
                                                         "anormal."})
    check_entry_names([e.name for e in entries])
    _check_local_headers(entries, data)


def check_entry_names(names: Sequence[str]) -> None:
    """No absolute path, `..`, backslash, control character, nor two names that a file system or a reader
    could take for one another (the same name twice, or names that differ only by case)."""
    seen: dict[str, str] = {}
    for name in names:
        if not name:
            raise _suspicious("L'archive du classeur contient un élément sans nom.")
        if _CONTROL.search(name):
            raise _suspicious(f"Le nom de l'élément « {_shown(name)} » de l'archive contient un caractère de contrôle.")
        if "\\" in name:
            raise _suspicious(f"Le nom de l'élément « {_shown(name)} » de l'archive contient une barre oblique "
                              "inversée.")
        if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in name.split("/"):
            raise _suspicious(f"L'élément « {_shown(name)} » de l'archive désigne un chemin hors du classeur.")
        folded = unicodedata.normalize("NFC", name).casefold()
        if folded in seen:
            same = "figure deux fois" if seen[folded] == name else f"ne diffère de « {_shown(seen[folded])} » que par la casse"
            raise _suspicious(f"L'élément « {_shown(name)} » de l'archive {same}.")
        seen[folded] = name


def _check_local_headers(entries: Sequence[ZipEntry], data: bytes) -> None:
    """Each central entry points at a local header that names the same file with the same sizes, and the
    entries' data do not overlap (overlapping entries are how the densest zip bombs are built)."""
    end = 0
    for e in sorted(entries, key=lambda x: x.offset):
        header = data[e.offset:e.offset + _LOCAL.size]
        if len(header) < _LOCAL.size or header[:4] != ZIP_MAGIC:
            raise _suspicious(f"L'élément « {_shown(e.name)} » de l'archive n'a pas d'en-tête local : l'archive est "
                              "endommagée ou falsifiée.")
        _, _, flags, _, _, _, _, csize, usize, name_len, extra_len = _LOCAL.unpack(header)
        raw_name = data[e.offset + _LOCAL.size:e.offset + _LOCAL.size + name_len]
        local_name = raw_name.decode("utf-8" if flags & _UTF8_FLAG else "cp437", errors="replace")
        if local_name != e.name:
            raise _suspicious(f"L'élément « {_shown(e.name)} » de l'archive porte un autre nom dans son en-tête local "
                              f"(« {_shown(local_name)} ») : l'archive est falsifiée.")
        sized = not flags & _DESCRIPTOR_FLAG and _ZIP64_MARK not in (csize, usize, e.compressed, e.uncompressed)
        if sized and (csize, usize) != (e.compressed, e.uncompressed):
            raise _suspicious(f"L'élément « {_shown(e.name)} » de l'archive n'a pas la même taille dans son en-tête "
                              "local et dans le répertoire de l'archive : l'archive est falsifiée.")
        if e.offset < end:
            raise _suspicious(f"L'élément « {_shown(e.name)} » de l'archive chevauche le précédent : l'archive est "
                              "falsifiée.")
        end = e.offset + _LOCAL.size + name_len + extra_len + e.compressed


def _shown(name: str) -> str:
    """An entry name as a message may show it: control characters made visible, and cut if long."""
    text = "".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c for c in name)
    return text if len(text) <= 80 else text[:77] + "…"


def check_sheet_size(sheet: str, rows: int, cells: int) -> None:
    """A sheet too large to be a return's, a restitution's or the référentiel's is refused as a whole, before
    its cells are built: cutting it would lose its last lines without a word."""
    where = f"La feuille « {sheet} »" if sheet else "Le classeur"
    for count, limit, unit in ((rows, MAX_ROWS, "lignes"), (cells, MAX_CELLS, "cellules")):
        if count > limit:
            raise InputError("file-too-large", {"motif": f"{where} compte plus de {_thousands(limit)} {unit}, la "
                                                         "limite admise : le fichier n'est pas lu."})


def _thousands(n: int) -> str:
    """`100 000`, with the narrow no-break space French typography puts between groups of digits."""
    return f"{n:,}".replace(",", "\u202f")


#: Header of an OLE compound file: byte order, sector shifts, and the counts that say how large it claims to be.
_OLE_HEADER: Final = struct.Struct("<8s16sHHHHH6sIIIIIIIII")
OLE_HEADER_BYTES: Final = 512


def check_ole_header(data: bytes) -> None:
    """A `.xls` is an OLE compound file: its header must be one that Excel or LibreOffice writes (version 3
    or 4, 512- or 4096-byte sectors), and its tables no larger than the file, so that no reader follows a
    sector chain outside it."""
    if len(data) < OLE_HEADER_BYTES + 64:
        raise InputError("file-unreadable", {"motif": "Le classeur Excel 97-2003 est tronqué."})
    fields = _OLE_HEADER.unpack(data[:_OLE_HEADER.size])
    _, _, _, major, byte_order, sector_shift, mini_shift, _, _, fat_sectors, _, _, _, _, _, _, difat_sectors = fields
    sector = 1 << sector_shift if sector_shift in (9, 12) else 0
    sane = byte_order == 0xFFFE and (major, sector_shift) in ((3, 9), (4, 12)) and mini_shift == 6
    if not sane:
        raise _suspicious("L'en-tête du classeur Excel 97-2003 n'est pas celui d'un tableur : le fichier est "
                          "endommagé ou falsifié.")
    if (fat_sectors + difat_sectors) * sector > len(data):
        raise _suspicious("Le classeur Excel 97-2003 annonce des tables plus grandes que le fichier : il est "
                          "endommagé ou falsifié.")


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
