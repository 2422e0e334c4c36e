"""Text read from untrusted files, made safe to show: no control character and no bidirectional override.

An ANSI escape typed in a return would recolour or rewrite the terminal of whoever runs `ftap check`; a NUL or
a vertical tab breaks the tools that read the CSV exports; a right-to-left override makes a cell read other
than it is. Each becomes a space wherever input text is written out.
"""

from __future__ import annotations

import re
from typing import Final

#: C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates.
_UNSAFE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: The same, but keeping line breaks and tabs, which a workbook cell shows as such.
_UNSAFE_IN_CELL: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """One line of text for a terminal or a CSV field: every control character becomes a space."""
    return _UNSAFE.sub(" ", text)


def cell_text(text: str) -> str:
    """Text for a workbook cell: controls become spaces, line breaks and tabs stay."""
    return _UNSAFE_IN_CELL.sub(" ", text)
