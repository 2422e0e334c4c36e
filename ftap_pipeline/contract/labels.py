"""Tolerant matching of labels typed by people (sheet names, headers, field labels, list values)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ftap_pipeline.contract.enums import ALIASES

_UNIT_SUFFIX = re.compile(r"\(\s*(€|eur|euros?)\s*\)\s*$")
_SPACES = re.compile(r"\s+")
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "’": "'", "‘": "'", "º": "°"})


def normalise_label(text: object) -> str:
    """Fold a label so that case, accents, spacing, a trailing colon and a unit suffix do not matter.

    `"  n° ej "`, `"N° EJ"` and `"N° EJ (€) :"` all fold to `"n° ej"`.
    """
    if text is None:
        return ""
    return _fold(str(text))


@lru_cache(maxsize=16384)
def _fold(text: str) -> str:
    """The folding itself, cached: the same headers and list values recur in every return."""
    s = text.translate(_DASHES)
    s = s.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2007", " ")
    s = _SPACES.sub(" ", s).strip().lower()
    s = s.rstrip(":").strip()
    s = _UNIT_SUFFIX.sub("", s).strip()
    s = s.rstrip(":").strip()
    # Strip accents but keep the degree sign of "N°".
    decomposed = unicodedata.normalize("NFKD", s.replace("°", "\x00"))
    s = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("\x00", "°")
    s = s.replace("œ", "oe").replace("æ", "ae")
    return _SPACES.sub(" ", s.replace(" - ", "-")).strip()


def choice_index(choices: tuple[str, ...] | tuple[int, ...]) -> dict[str, object]:
    """Map each folded spelling of a list value, and of its aliases (the contract's own labels), to the
    canonical value."""
    index: dict[str, object] = {normalise_label(alias): value for alias, value in ALIASES.items() if value in choices}
    index.update({normalise_label(c): c for c in choices})
    return index
