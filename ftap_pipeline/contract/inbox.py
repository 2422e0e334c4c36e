"""Where a run's inputs sit in its inputs folder (sorties-v1): the same names for the reader and the manifest."""

from __future__ import annotations

from typing import Final

#: The porteurs' returns (.xlsx, .xlsm, .ods, .xls).
RETURNS_DIR: Final = "remontees"
#: The Chorus restitutions (CSV or workbooks).
CHORUS_DIR: Final = "chorus"
#: The DITP's référentiel.
REFERENCE_FILE: Final = "reference/referentiel.xlsx"
