"""The strict dialect of a CSV restitution: every physical line is kept or refused on its own, with its number.

A CSV reader that lets a quoted value run over line ends would let one stray quote swallow the rest of the
file, and one that stops at the first error would drop every later line. Here the file is cut into its
physical lines first (`\\r\\n`, `\\n` or `\\r`), then each line is split alone with the separator found on
the header: a Chorus value never spans two lines, so a line that does not close its quotes, is too long,
uses another separator or has the wrong number of values is refused alone, and the lines after it are
read as if it were not there. Pure: bytes in, cells and refusals out.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from ftap_pipeline.contract.chorus_schema import CSV_DELIMITERS, MAX_FIELD_CHARS, MAX_LINE_CHARS

_EOL: Final = re.compile(rb"\r\n|\r|\n")
_BOM: Final = b"\xef\xbb\xbf"
_UTF8: Final = "utf-8"
_CP1252: Final = "cp1252"
_ENCODING_NAMES: Final = {_UTF8: "UTF-8", _CP1252: "Windows-1252"}
#: A line with nothing but blanks, separators and empty quoted values carries no data.
_BLANK: Final = re.compile(r'(?:\s|;|,|"")*')


@dataclass(frozen=True)
class PhysicalLines:
    """A file's lines as bytes, without their ends; `terminated` says whether the last one had its end."""

    lines: list[bytes]
    terminated: bool
    #: The encoding is certain before any header is found: a BOM, or a whole file that is valid UTF-8.
    utf8: bool


@dataclass(frozen=True)
class Refusal:
    """A line turned away: its number, its finding slug and the values of the slug's template."""

    line: int
    slug: str
    values: dict[str, object]


def physical_lines(data: bytes) -> PhysicalLines:
    """The file's physical lines (a UTF-8 BOM taken off)."""
    bom = data.startswith(_BOM)
    if bom:
        data = data[len(_BOM):]
    lines = _EOL.split(data)
    terminated = not lines[-1]
    if terminated:
        lines.pop()
    return PhysicalLines(lines, terminated, bom or decode(data, _UTF8) is not None)


def decode_any(raw: bytes) -> str | None:
    """A line of the header's search, decoded as UTF-8, else as Windows-1252 (before the file's encoding is known)."""
    text = decode(raw, _UTF8)
    return text if text is not None else decode(raw, _CP1252)


def file_encoding(physical: PhysicalLines, header: bytes) -> str:
    """The encoding of the whole file, once: UTF-8 when certain; else the one its header's accents are written
    in; for a header without accents, UTF-8 when most non-ASCII lines are, Windows-1252 otherwise. A damaged
    byte then costs its line, not the accents of every other line."""
    if physical.utf8:
        return _UTF8
    if not header.isascii():
        return _UTF8 if decode(header, _UTF8) is not None else _CP1252
    votes = [decode(line, _UTF8) is not None for line in physical.lines if not line.isascii()]
    utf8 = votes.count(True)
    return _UTF8 if utf8 and utf8 >= len(votes) - utf8 else _CP1252


def decode(raw: bytes, encoding: str) -> str | None:
    """The line's text, or None when its bytes are not text in that encoding."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return None


def split_line(text: str, delimiter: str) -> list[str] | None:
    """The values of one line (stripped), or None when its quotes are not well formed within the line."""
    return LineSplitter(delimiter)(text)


class LineSplitter:
    """`split_line` for every line of a file: one `csv` reader fed one line at a time (it starts afresh on
    each record, even after an error), and a plain split for a line without quotes, which is what `csv` does."""

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter
        self._next: str | None = None
        self._reader = csv.reader(self, delimiter=delimiter, strict=True, skipinitialspace=True)

    def __iter__(self) -> LineSplitter:
        return self

    def __next__(self) -> str:
        """The line being split, once: asked again, the record runs past its line, and `csv` says so."""
        line, self._next = self._next, None
        if line is None:
            raise StopIteration
        return line

    def __call__(self, text: str) -> list[str] | None:
        if '"' not in text:
            return [cell.strip() for cell in text.split(self.delimiter)]
        self._next = text
        try:
            return [cell.strip() for cell in next(self._reader)]
        except csv.Error:
            return None
        except StopIteration:  # an empty line gives no record
            return []
        finally:
            self._next = None


def is_blank(text: str) -> bool:
    return _BLANK.fullmatch(text) is not None


@dataclass(frozen=True)
class Dialect:
    """What the header says of the whole file: its separator, its encoding, and the columns it names."""

    delimiter: str
    encoding: str
    names: tuple[str, ...]

    @property
    def columns(self) -> int:
        return len(self.names)

    @cached_property
    def split(self) -> LineSplitter:
        return LineSplitter(self.delimiter)

    def fits(self, cells: Sequence[str]) -> bool:
        """As many values as named columns; empty values past the last column (a trailing separator) are admitted."""
        return len(cells) >= self.columns and not any(cells[self.columns:])


def read_line(raw: bytes, number: int, dialect: Dialect, *, last_unterminated: bool) -> list[str] | Refusal | None:
    """One data line: its values (as many as the header names), a refusal that says why, or None for a blank line."""
    text = decode(raw, dialect.encoding)
    if text is None:
        return _unreadable(number, f"elle contient des octets qui ne sont pas du texte "
                                   f"{_ENCODING_NAMES[dialect.encoding]}, l'encodage du reste du fichier")
    if is_blank(text):
        return None
    if "\x00" in text:
        return _unreadable(number, "elle contient un caractère nul (octet 0) : elle est endommagée")
    if len(text) > MAX_LINE_CHARS:
        return _unreadable(number, f"elle compte {len(text)} caractères, au-delà de la limite de {MAX_LINE_CHARS}")
    text = text.rstrip(" \t")  # blanks after the last value (a closing quote) mean nothing
    cells = dialect.split(text)
    if cells is not None and dialect.fits(cells):
        return cells[:dialect.columns] if len(text) <= MAX_FIELD_CHARS else _checked_lengths(cells, number, dialect)
    other = next((d for d in CSV_DELIMITERS if d != dialect.delimiter and _fits_with(text, d, dialect)), None)
    if other is not None:
        return Refusal(number, "chorus-wrong-separator",
                       {"ligne": number, "separateur": other, "attendu": dialect.delimiter})
    unclosed = cells is None and dialect.split(text + '"') is not None
    if last_unterminated and (unclosed or (cells is not None and len(cells) < dialect.columns)):
        return Refusal(number, "chorus-truncated-line", {"ligne": number})
    if cells is None:
        return _unreadable(number, "elle ouvre des guillemets qu'elle ne referme pas (une valeur de restitution "
                                   "tient sur une seule ligne)" if unclosed else
                                   "un guillemet y est mal placé (une valeur entre guillemets doit être suivie du "
                                   "séparateur ou de la fin de la ligne)")
    return Refusal(number, "chorus-wrong-field-count", {"ligne": number, "valeurs": len(cells),
                                                        "colonnes": dialect.columns})


def _fits_with(text: str, delimiter: str, dialect: Dialect) -> bool:
    cells = split_line(text, delimiter)
    return cells is not None and dialect.fits(cells)


def _checked_lengths(cells: list[str], number: int, dialect: Dialect) -> list[str] | Refusal:
    cells = cells[:dialect.columns]
    for name, cell in zip(dialect.names, cells, strict=True):
        if len(cell) > MAX_FIELD_CHARS:
            return _unreadable(number, f"sa valeur de « {name} » compte {len(cell)} caractères, au-delà de la "
                                       f"limite de {MAX_FIELD_CHARS}")
    return cells


def _unreadable(number: int, why: str) -> Refusal:
    return Refusal(number, "chorus-unreadable-line",
                   {"motif": f"La ligne {number} n'est pas lue : {why}. Elle n'est pas prise en compte dans le "
                             "rapprochement."})
