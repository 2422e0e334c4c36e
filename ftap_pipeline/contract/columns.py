"""Meta columns the pipeline adds to the typed lines: named once, used by every stage."""

from __future__ import annotations

from typing import Final

#: The return a line comes from (its file name in the inbox).
FILE: Final = "_file"
#: The Excel row number of the line in its sheet (1-based, as a person reads it).
ROW: Final = "_row"
#: True when a blocking finding leaves the line out of every total.
REJECTED: Final = "_rejected"
#: The `Date de situation` of the line's return (Consommation lines only).
SITUATION: Final = "_situation"
#: The line of a Chorus restitution: its line in a CSV file, its Excel row in a workbook.
LINE: Final = "_line"
