"""Whether the XML we parse is parsed safely: checked once, at the start of every command that reads a file.

The readers parse the XML of workbooks (the workbook part, sheets that hold formulas or errors, an ODS
`content.xml`) through `defusedxml`, which refuses entity declarations (the "billion laughs" and external
entities). openpyxl, when present, uses it only if it was importable when openpyxl was first imported and
`OPENPYXL_DEFUSEDXML` does not turn it off. Without it, a hostile file could exhaust the memory of a run or
read a file of the server: the command refuses to start rather than run unprotected.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Final

INSTALL: Final = 'python -m pip install "defusedxml>=0.7.1,<0.8"'
_PROBE: Final = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "rire">]><x>&e;</x>'


def xml_safety_problem() -> str | None:
    """None when every XML parser in use refuses entities; else what is wrong, in French, with the fix."""
    try:
        from defusedxml import DefusedXmlException
        from defusedxml import ElementTree as SafeET
    except ImportError:
        return ("Le module defusedxml est absent : sans lui, un classeur malveillant pourrait épuiser la mémoire ou "
                f"lire des fichiers du serveur. Installez-le ({INSTALL}), puis relancez la commande.")
    try:
        SafeET.fromstring(_PROBE)
    except DefusedXmlException:
        pass
    else:
        return ("Le module defusedxml installé accepte les entités XML : il ne protège plus la lecture des classeurs. "
                f"Réinstallez-le ({INSTALL}), puis relancez la commande.")
    if not _openpyxl_uses_defusedxml():
        return ("openpyxl ne lit pas le XML au travers de defusedxml (la variable d'environnement "
                "OPENPYXL_DEFUSEDXML le désactive, ou defusedxml était absent quand openpyxl a été chargé). "
                f"Retirez cette variable et vérifiez l'installation ({INSTALL}), puis relancez la commande.")
    return None


def _openpyxl_uses_defusedxml() -> bool:
    """openpyxl's own flag when it is loaded; otherwise the flag it would compute on loading (defusedxml is
    importable, checked above, and `OPENPYXL_DEFUSEDXML` is "True" or unset: `openpyxl/xml/__init__.py`),
    without importing it: it costs a quarter of a second, and neither `ftap check` nor `ftap run` uses it."""
    loaded = sys.modules.get("openpyxl")
    if loaded is not None:
        return bool(getattr(loaded, "DEFUSEDXML", False))
    if importlib.util.find_spec("openpyxl") is None:
        return True
    return os.environ.get("OPENPYXL_DEFUSEDXML", "True") == "True"
