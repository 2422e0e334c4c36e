"""Read the référentiel workbook (inputs/reference/referentiel.xlsx) into a `Referentiel`.

The référentiel is the one input without which no report can be right: any problem stops the run
with a French message that lists every cell to fix, rather than producing wrong figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.labels import choice_index, normalise_label
from ftap_pipeline.contract.raw import RawSheet, a1
from ftap_pipeline.contract.referentiel import DEFAULT_PARAMETERS, Nomenclature, Referentiel, normalise_code
from ftap_pipeline.core import parsing
from ftap_pipeline.io.hashing import sha256_of
from ftap_pipeline.io.workbook_reader import read_workbook


class ReferentielError(Exception):
    """The référentiel cannot be used; the message is French and lists what to fix."""


@dataclass(frozen=True)
class _Col:
    key: str
    label: str
    parse: Callable[[Any], Any]
    required: bool = True


def _choice(values: tuple[str, ...]) -> Callable[[Any], Any]:
    index = choice_index(values)

    def parse(raw: Any) -> Any:
        value = parsing.parse_choice(raw, index)
        if value is not None and value not in values:
            raise InputError("not-in-list", f"« {raw} » n'est pas une valeur permise ({', '.join(values)}).")
        return value

    return parse


def _titre(raw: Any) -> int | None:
    value = parsing.parse_titre(raw)
    if value is not None and value not in enums.TITRES:
        raise InputError("not-in-list", f"« {raw} » n'est pas un titre (3, 5 ou 6).")
    return value


_SHEETS: dict[str, tuple[bool, tuple[_Col, ...]]] = {
    "Enveloppes": (True, (
        _Col("date_effet", "Date d'effet", parsing.parse_date),
        _Col("categorie", "Catégorie", _choice(enums.CATEGORIES)),
        _Col("titre", "Titre", _titre),
        _Col("annee", "Année", parsing.parse_int),
        _Col("financeur", "Financeur", _choice(enums.FINANCEURS)),
        _Col("ae", "AE (€)", parsing.parse_amount),
        _Col("cp", "CP (€)", parsing.parse_amount),
    )),
    "Tranches": (True, (
        _Col("annee", "Année", parsing.parse_int),
        _Col("date_decision", "Date de décision", parsing.parse_date),
        _Col("ae", "AE (€)", parsing.parse_amount),
        _Col("cp", "CP (€)", parsing.parse_amount),
    )),
    "Projets": (True, (
        _Col("project_id", "Identifiant du projet", parsing.parse_project_id),
        _Col("intitule", "Intitulé du projet", parsing.parse_text),
        _Col("porteur", "Porteur du projet", parsing.parse_text),
        _Col("ministere", "Ministère", parsing.parse_text),
        _Col("date_selection", "Date de sélection", parsing.parse_date, required=False),
        _Col("cycle", "Cycle", parsing.parse_text, required=False),
    )),
    "Comités": (False, (
        _Col("date", "Date", parsing.parse_date),
        _Col("instance", "Instance", parsing.parse_text, required=False),
        _Col("objet", "Objet", parsing.parse_text, required=False),
    )),
    "Nomenclature": (True, (
        _Col("code", "Code", parsing.parse_text),
        _Col("valeur", "Valeur", parsing.parse_text),
    )),
    "Comptes budgétaires": (False, (
        _Col("compte", "Compte budgétaire", parsing.parse_text),
        _Col("titre", "Titre", _titre),
    )),
    "Économies de référence": (False, (
        _Col("project_id", "Identifiant du projet", parsing.parse_project_id),
        _Col("annee", "Année", parsing.parse_int),
        _Col("nature", "Nature d'économie", _choice(enums.NATURES_ECONOMIE)),
        _Col("montant", "Montant (€)", parsing.parse_amount),
        _Col("source", "Source", parsing.parse_text, required=False),
    )),
    "Paramètres": (False, (
        _Col("parametre", "Paramètre", parsing.parse_text),
        _Col("valeur", "Valeur", parsing.parse_number),
    )),
}

_DATE_COLUMNS = {"date_effet", "date_decision", "date_selection", "date"}


def read_referentiel(path: Path) -> Referentiel:
    """Read and check the référentiel; raise `ReferentielError` listing every problem found."""
    if not path.exists():
        raise ReferentielError(f"Référentiel introuvable : {path}. Déposez referentiel.xlsx dans inputs/reference/ "
                               "(la commande « ftap demo » en écrit un exemple).")
    try:
        raw = read_workbook(path)
    except InputError as exc:
        raise ReferentielError(f"Référentiel illisible ({path.name}) : {exc.message}") from exc
    sha256 = sha256_of(path)
    sheets = {normalise_label(s.name): s for s in raw.sheets}
    problems: list[str] = []
    frames: dict[str, pd.DataFrame] = {}
    for name, (required, cols) in _SHEETS.items():
        sheet = sheets.get(normalise_label(name))
        if sheet is None:
            if required:
                problems.append(f"feuille « {name} » absente")
            frames[name] = pd.DataFrame(columns=[c.key for c in cols])
            continue
        frames[name] = _read_table(sheet, cols, problems, raw.date1904)
    if problems:
        raise ReferentielError(_problems_message(path.name, problems))
    nomenclature, comptes, parameters = _read_settings(frames, problems)
    projets = frames["Projets"]
    dup = projets["project_id"][projets["project_id"].duplicated()].tolist()
    if dup:
        problems.append(f"Projets : identifiant(s) en double {', '.join(dup)}")
    if problems:
        raise ReferentielError(_problems_message(path.name, problems))
    return Referentiel(
        enveloppes=frames["Enveloppes"],
        tranches=frames["Tranches"],
        projets=projets,
        comites=frames["Comités"],
        nomenclature=nomenclature,
        comptes_budgetaires=comptes,
        economies_reference=frames["Économies de référence"],
        parameters=parameters,
        source=path.name,
        sha256=sha256,
    )


def _problems_message(name: str, problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems[:50])
    more = f"\n  … et {len(problems) - 50} autre(s)" if len(problems) > 50 else ""
    return f"Le référentiel {name} ne peut pas être utilisé ; corrigez :\n{lines}{more}"


def _read_table(sheet: RawSheet, cols: tuple[_Col, ...], problems: list[str], date1904: bool) -> pd.DataFrame:
    rows = sheet.rows
    header_at = next((i for i, r in enumerate(rows[:10]) if any(normalise_label(c) == normalise_label(cols[0].label)
                                                                   for c in r)), None)
    if header_at is None:
        problems.append(f"{sheet.name} : ligne d'en-tête introuvable (attendu : "
                        f"{', '.join(c.label for c in cols)})")
        return pd.DataFrame(columns=[c.key for c in cols])
    header = {normalise_label(c): j for j, c in enumerate(rows[header_at]) if normalise_label(c)}
    positions: dict[str, int] = {}
    for col in cols:
        j = header.get(normalise_label(col.label))
        if j is None:
            if col.required:
                problems.append(f"{sheet.name} : colonne « {col.label} » absente")
            continue
        positions[col.key] = j
    records: list[dict[str, Any]] = []
    for i in range(header_at + 1, len(rows)):
        row = rows[i]
        if not any(not parsing.is_empty(c) for c in row):
            continue
        record: dict[str, Any] = {}
        for col in cols:
            j = positions.get(col.key)
            cell = row[j] if j is not None and j < len(row) else None
            flag = sheet.flags.get((i, j)) if j is not None else None
            if flag is not None:
                problems.append(f"{sheet.name}!{a1(i, j or 0)} : cellule en erreur ou formule sans valeur")
                continue
            try:
                if col.parse is parsing.parse_date:
                    value = parsing.parse_date(cell, date1904=date1904)
                else:
                    value = col.parse(cell)
            except InputError as exc:
                problems.append(f"{sheet.name}!{a1(i, j or 0)} : {exc.message}")
                continue
            if value is None and col.required:
                problems.append(f"{sheet.name}!{a1(i, j or 0)} : « {col.label} » non renseigné")
            record[col.key] = value
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=[c.key for c in cols])
    for key in _DATE_COLUMNS & set(frame.columns):
        frame[key] = pd.to_datetime(frame[key]).dt.date if not frame.empty else frame[key]
    return frame


def _read_settings(frames: dict[str, pd.DataFrame], problems: list[str]) -> tuple[Nomenclature, dict[str, int],
                                                                                   dict[str, float]]:
    codes = {normalise_label(r.code): str(r.valeur) for r in frames["Nomenclature"].itertuples()}
    wanted = {"programme": "Programme", "centre financier": "Centre financier",
              "domaine fonctionnel": "Domaine fonctionnel", "activite": "Activité"}
    for key, label in wanted.items():
        if key not in codes:
            problems.append(f"Nomenclature : code « {label} » absent")
    nomenclature = Nomenclature()
    if not problems:
        nomenclature = Nomenclature(
            programme=codes["programme"].strip(),
            centre_financier=codes["centre financier"].strip(),
            domaines_fonctionnels=tuple(v.strip() for v in codes["domaine fonctionnel"].split(";") if v.strip()),
            activite=codes["activite"].strip(),
        )
    comptes = {normalise_code(r["compte"]): int(r["titre"]) for r in frames["Comptes budgétaires"].to_dict("records")}
    parameters = dict(DEFAULT_PARAMETERS)
    known = {normalise_label(k): k for k in DEFAULT_PARAMETERS}
    for r in frames["Paramètres"].to_dict("records"):
        name = known.get(normalise_label(r["parametre"]))
        if name is None:
            problems.append(f"Paramètres : paramètre inconnu « {r['parametre']} »")
        else:
            parameters[name] = float(r["valeur"])
    return nomenclature, comptes, parameters
