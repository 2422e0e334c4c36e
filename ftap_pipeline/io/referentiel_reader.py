"""Read the référentiel workbook (inputs/reference/referentiel.xlsx) into a `Referentiel`.

The référentiel is the one input without which no report can be right: any problem stops the run
with the list of every cell to fix, as findings like any other, rather than producing wrong figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.labels import choice_index, normalise_label
from ftap_pipeline.contract.raw import RawSheet, a1
from ftap_pipeline.contract.referentiel import (
    DEFAULT_PARAMETERS,
    P_COFINANCEMENT,
    PARAMETER_BOUNDS,
    Nomenclature,
    Referentiel,
    normalise_code,
)
from ftap_pipeline.contract.tables import Pick, TableLayout, find_header
from ftap_pipeline.core import parsing
from ftap_pipeline.io.isolation import Isolated
from ftap_pipeline.io.referentiel_file import Problems, RawReferentiel, start_reading


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
            raise InputError("not-in-list", {"valeur": raw, "attendu": f"une valeur permise ({', '.join(values)})"})
        return value

    return parse


def _titre(raw: Any) -> int | None:
    value = parsing.parse_titre(raw)
    if value is not None and value not in enums.TITRES:
        raise InputError("not-in-list", {"valeur": raw, "attendu": "un titre (3, 5 ou 6)"})
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

#: What makes a row of a sheet one fact: the same key twice (an envelope typed twice, say) would count twice.
_KEYS: dict[str, tuple[str, ...]] = {
    "Enveloppes": ("date_effet", "categorie", "titre", "annee", "financeur"),
    "Tranches": ("annee", "date_decision"),
    "Économies de référence": ("project_id", "annee", "nature"),
    "Nomenclature": ("code",),
    "Comptes budgétaires": ("compte",),
    "Paramètres": ("parametre",),
}


def read_referentiel(path: Path) -> Referentiel:
    """Read and check the référentiel; raise `InputError` with a finding for every problem found.

    Its cells are read in a worker process (`referentiel_file`), like the returns: a file that aborts the
    native reader stops the run with the French error `referentiel-unreadable`, raised here."""
    return referentiel_of(path, start_reading(path))


def referentiel_of(path: Path, reading: Isolated[RawReferentiel | InputError]) -> Referentiel:
    """The référentiel of a reading started by `referentiel_file.start_reading`; its error raised here."""
    [outcome] = reading.results()
    if isinstance(outcome, InputError):
        raise outcome
    return _referentiel(path, outcome)


def _referentiel(path: Path, read: RawReferentiel) -> Referentiel:
    raw, sha256 = read.workbook, read.sha256
    problems = Problems(path, sha256)
    sheets = {normalise_label(s.name): s for s in raw.sheets}
    frames: dict[str, pd.DataFrame] = {}
    for name, (required, cols) in _SHEETS.items():
        sheet = sheets.get(normalise_label(name))
        if sheet is None:
            if required:
                problems.add("referentiel-missing-sheet", {"feuille": name},
                             sheet=name)
            frames[name] = pd.DataFrame(columns=[c.key for c in cols])
            continue
        frames[name] = _read_table(sheet, cols, problems, raw.date1904, _KEYS.get(name, ()))
    problems.raise_if_any()
    nomenclature, comptes, parameters = _read_settings(frames, problems)
    projets = frames["Projets"]
    for project_id in projets["project_id"][projets["project_id"].duplicated()].tolist():
        problems.add("referentiel-duplicate-project", {"projet": project_id},
                     sheet="Projets", field="Identifiant du projet", value=str(project_id))
    problems.raise_if_any()
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


def _table_layout(sheet: str, cols: tuple[_Col, ...]) -> TableLayout:
    """A référentiel table's header: the first of the top ten rows that names its first column."""
    return TableLayout(sheet, {c.key: (c.label,) for c in cols}, required=frozenset({cols[0].key}), search_rows=10,
                       pick=Pick.FIRST)


def _read_table(sheet: RawSheet, cols: tuple[_Col, ...], problems: Problems, date1904: bool,
                key: tuple[str, ...] = ()) -> pd.DataFrame:
    rows = sheet.rows
    header = find_header(rows, [_table_layout(sheet.name, cols)])
    if header is None:
        problems.add("referentiel-missing-column", {"motif": f"Ligne d'en-tête introuvable (attendu : "
                                                   f"{', '.join(c.label for c in cols)})."}, sheet=sheet.name, cell="A1")
        return pd.DataFrame(columns=[c.key for c in cols])
    positions: dict[str, int] = {}
    for col in cols:
        j = header.positions.get(col.key)
        if j is None:
            if col.required:
                problems.add("referentiel-missing-column", {"motif": f"La colonne « {col.label} » est absente."},
                             sheet=sheet.name, cell=a1(header.row, 0), field=col.label)
            continue
        positions[col.key] = j
    records: list[dict[str, Any]] = []
    seen: dict[tuple[object, ...], int] = {}
    for i in range(header.row + 1, len(rows)):
        row = rows[i]
        if not any(not parsing.is_empty(c) for c in row):
            continue
        record: dict[str, Any] = {}
        for col in cols:
            j = positions.get(col.key)
            if j is None:  # an absent column is said once, on the header row, not on every line
                record[col.key] = None
                continue
            cell = row[j] if j < len(row) else None
            where = {"sheet": sheet.name, "cell": a1(i, j), "field": col.label}
            flag = sheet.flags.get((i, j))
            if flag is not None:
                problems.add("referentiel-invalid-value", {"motif": "La cellule est en erreur, ou sa formule n'a pas de "
                                                          "valeur calculée."}, **where)
                continue
            try:
                if col.parse is parsing.parse_date:
                    value = parsing.parse_date(cell, date1904=date1904)
                else:
                    value = col.parse(cell)
            except InputError as exc:
                problems.add("referentiel-invalid-value", {"motif": exc.message}, value=parsing.display(cell), **where)
                continue
            if value is None and col.required:
                problems.add("referentiel-invalid-value", {"motif": f"« {col.label} » n'est pas renseigné."}, **where)
            record[col.key] = value
        _check_duplicate(sheet, i, record, key, positions, cols, seen, problems)
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=[c.key for c in cols])
    for column in _DATE_COLUMNS & set(frame.columns):
        frame[column] = pd.to_datetime(frame[column]).dt.date if not frame.empty else frame[column]
    return frame


def _check_duplicate(sheet: RawSheet, i: int, record: Mapping[str, Any], key: tuple[str, ...],
                     positions: Mapping[str, int], cols: tuple[_Col, ...], seen: dict[tuple[object, ...], int],
                     problems: Problems) -> None:
    """A row whose key repeats an earlier row's is an error of the référentiel, said on the later row."""
    if not key or any(record.get(k) is None for k in key):
        return
    value = tuple(normalise_label(record[k]) if isinstance(record[k], str) else record[k] for k in key)
    first = seen.setdefault(value, i)
    if first == i:
        return
    labels = {c.key: c.label for c in cols}
    shown = ", ".join(f"{labels[k]} {parsing.display(record[k])}" for k in key)
    problems.add("referentiel-duplicate-row", {"ligne": i + 1, "premiere": first + 1, "cle": shown},
                 sheet=sheet.name, cell=a1(i, positions.get(key[0], 0)))


def _read_settings(frames: dict[str, pd.DataFrame], problems: Problems) -> tuple[Nomenclature, dict[str, int],
                                                                                  dict[str, float]]:
    codes = {normalise_label(r.code): str(r.valeur) for r in frames["Nomenclature"].itertuples()}
    wanted = {"programme": "Programme", "centre financier": "Centre financier",
              "domaine fonctionnel": "Domaine fonctionnel", "activite": "Activité"}
    missing = [label for key, label in wanted.items() if key not in codes]
    for label in missing:
        problems.add("referentiel-missing-code", {"code": label},
                     sheet="Nomenclature", value=label)
    nomenclature = Nomenclature()
    if not missing:
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
            problems.add("referentiel-unknown-parameter",
                         {"parametre": r["parametre"], "connus": ", ".join(DEFAULT_PARAMETERS)},
                         sheet="Paramètres", value=str(r["parametre"]))
        else:
            value = float(r["valeur"])
            low, high = PARAMETER_BOUNDS[name]
            if not low <= value <= high:
                share = " (une part s'écrit en fraction : 0,5 pour 50 %)" if name == P_COFINANCEMENT else ""
                problems.add("referentiel-invalid-value",
                             {"motif": f"« {name} » vaut {parsing.display(value)} : un nombre entre "
                                       f"{parsing.display(low)} et {parsing.display(high)} est attendu{share}."},
                             sheet="Paramètres", field=name, value=parsing.display(value))
            parameters[name] = value
    return nomenclature, comptes, parameters
