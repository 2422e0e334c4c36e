"""The référentiel snapshot of a personal template: what `ftap check` needs to give the central verdict offline.

A porteur has no référentiel. `ftap template --projet` embeds, in a hidden sheet, the project's record, the
`Paramètres` thresholds, the nomenclature codes, the template's version and the référentiel's SHA-256;
`ftap check` rebuilds a référentiel from it, so the same rules run with the same thresholds. Everything is
written as text (`Rubrique`, `Clé`, `Valeur`), so no spreadsheet can retype it. Pure: rows in, rows out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from ftap_pipeline.contract.labels import normalise_label
from ftap_pipeline.contract.layout import SNAPSHOT_SHEET
from ftap_pipeline.contract.raw import Cell, RawWorkbook
from ftap_pipeline.contract.referentiel import DEFAULT_PARAMETERS, Nomenclature, Referentiel

HEADER: Final = ("Rubrique", "Clé", "Valeur")
SNAPSHOT_VERSION: Final = "1"
ABOUT, PROJECT, PARAMETER, CODE = "Modèle", "Projet", "Paramètre", "Nomenclature"
K_VERSION, K_SHA, K_SOURCE, K_FORMAT = "Version de l'instantané", "SHA-256 du référentiel", "Fichier du référentiel", \
    "Format de remontée"
PROJECT_FIELDS: Final = (("project_id", "Identifiant du projet"), ("intitule", "Intitulé du projet"),
                         ("porteur", "Porteur du projet"), ("ministere", "Ministère"),
                         ("date_selection", "Date de sélection"), ("cycle", "Cycle"))
CODES: Final = (("programme", "Programme"), ("centre_financier", "Centre financier"),
                ("domaines_fonctionnels", "Domaine fonctionnel"), ("activite", "Activité"))


@dataclass(frozen=True)
class Snapshot:
    """The référentiel as a personal template carries it, and where it came from."""

    referentiel: Referentiel
    project_id: str
    sha256: str
    source: str


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return (value.date() if isinstance(value, (dt.datetime, pd.Timestamp)) else value).isoformat()
    return str(value)


def snapshot_rows(referentiel: Referentiel, project_id: str, format_version: str) -> list[tuple[str, str, str]]:
    """The hidden sheet's rows for one project (KeyError when the référentiel does not know it)."""
    projets = referentiel.projets
    match = projets[projets["project_id"] == project_id] if not projets.empty else projets
    if match.empty:
        raise KeyError(project_id)
    record = match.iloc[0].to_dict()
    n = referentiel.nomenclature
    rows = [(ABOUT, K_VERSION, SNAPSHOT_VERSION), (ABOUT, K_FORMAT, format_version),
            (ABOUT, K_SHA, referentiel.sha256), (ABOUT, K_SOURCE, referentiel.source)]
    rows += [(PROJECT, label, _text(record.get(key))) for key, label in PROJECT_FIELDS]
    rows += [(PARAMETER, name, repr(float(referentiel.parameter(name)))) for name in DEFAULT_PARAMETERS]
    rows += [(CODE, label, _code_text(getattr(n, key))) for key, label in CODES]
    return rows


def _code_text(code: str | tuple[str, ...]) -> str:
    """A code, or several accepted values separated by `;` as in the référentiel's Nomenclature sheet."""
    return code if isinstance(code, str) else "; ".join(code)


def snapshot_of(workbook: RawWorkbook) -> Snapshot | None:
    """The snapshot a personal template carries, or None (a blank template, or a return typed elsewhere)."""
    sheet = next((s for s in workbook.sheets if normalise_label(s.name) == normalise_label(SNAPSHOT_SHEET)), None)
    if sheet is None:
        return None
    return from_rows(sheet.rows)


def from_rows(rows: Sequence[Sequence[Cell]]) -> Snapshot | None:
    values: dict[tuple[str, str], str] = {}
    for row in rows[1:]:
        cells = [str(c) if c is not None else "" for c in (*row, None, None, None)[:3]]
        values[(cells[0], cells[1])] = cells[2]
    project = {key: values.get((PROJECT, label), "") for key, label in PROJECT_FIELDS}
    if values.get((ABOUT, K_VERSION)) != SNAPSHOT_VERSION or not project["project_id"]:
        return None
    parameters = dict(DEFAULT_PARAMETERS)
    for name in DEFAULT_PARAMETERS:
        if (PARAMETER, name) not in values:
            continue  # a template made before the parameter existed: its default, as in the référentiel
        try:
            parameters[name] = float(values[(PARAMETER, name)])
        except ValueError:
            return None
    selection = project["date_selection"]
    projets = pd.DataFrame([{**project, "date_selection": dt.date.fromisoformat(selection) if selection else None}])
    codes = {key: values.get((CODE, label), "") for key, label in CODES}
    domaines = tuple(d.strip() for d in codes.pop("domaines_fonctionnels").split(";") if d.strip())
    nomenclature = Nomenclature(**codes, domaines_fonctionnels=domaines)
    sha = values.get((ABOUT, K_SHA), "")
    source = values.get((ABOUT, K_SOURCE), "")
    empty = pd.DataFrame()
    referentiel = Referentiel(enveloppes=empty, tranches=empty, projets=projets, comites=empty,
                              nomenclature=nomenclature, parameters=parameters, source=source, sha256=sha)
    return Snapshot(referentiel, project["project_id"], sha, source)
