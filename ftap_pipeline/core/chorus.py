"""Turn Chorus restitutions, as read, into one frame of programme-0349 movements (chorus.md).

Pure: the reads come in, a validated frame and findings go out. Every line of programme 0349 either
becomes a movement or is reported; lines of other programmes are simply not ours.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd
from pandera.typing import DataFrame

from ftap_pipeline.contract.chorus_schema import (
    AIFE_AE,
    CP,
    INF_BUD_53_AE,
    INF_BUD_53_CP,
    LAYOUT_BY_KEY,
    MOVEMENT_COLUMNS,
    ChorusLayout,
    ChorusMovementsSchema,
)
from ftap_pipeline.contract.columns import LINE
from ftap_pipeline.contract.enums import SANS_EJ
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.findings import Finding, finding
from ftap_pipeline.contract.model import ChorusRestitution
from ftap_pipeline.contract.referentiel import Referentiel, normalise_code
from ftap_pipeline.core.parsing import parse_amount, parse_date, parse_ej, parse_int

_PREFIX: Final = re.compile(r"^(BG00|PCE)/", re.IGNORECASE)
_TIME_SUFFIX: Final = re.compile(r"^(\S+)[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_SERIAL: Final = re.compile(r"^\d{1,6}(?:\.0+)?$")
#: What makes two movements of overlapping extracts the same movement.
_IDENTITY: Final = ("kind", "ej", "poste", "dp", "date", "annee", "montant")

T = TypeVar("T")


@dataclass(frozen=True)
class _Line:
    """One data row of a read, with the `#`-means-empty rule applied."""

    read: ChorusRestitution
    values: dict[str, Any]

    @property
    def number(self) -> int:
        return int(self.values[LINE])

    def get(self, key: str) -> str:
        column = self.read.fields.get(key)
        if column is None:
            return ""
        text = str(self.values[column]).strip()
        return "" if text == "#" else text


@dataclass(frozen=True)
class AllMovements:
    """Every programme-0349 movement of the restitutions, whatever the cut-off, sorted by file and line, with
    the findings of reading them: a run needs them at two cut-offs (`Évolutions`), and they are read once."""

    frame: pd.DataFrame
    findings: tuple[Finding, ...]

    def up_to(self, cutoff: dt.date) -> DataFrame[ChorusMovementsSchema]:
        """The movements up to the cut-off, validated."""
        after = [_after_cutoff(date, annee, cutoff) for date, annee in zip(self.frame["date"], self.frame["annee"],
                                                                            strict=True)]
        kept = self.frame[~np.asarray(after, dtype=bool)].reset_index(drop=True)
        return ChorusMovementsSchema.validate(kept, lazy=True)


def normalise_movements(
    reads: list[ChorusRestitution], referentiel: Referentiel, cutoff: dt.date
) -> tuple[DataFrame[ChorusMovementsSchema], list[Finding]]:
    """One row per programme-0349 movement up to the cut-off, identical movements of overlapping extracts once."""
    movements = all_movements(reads, referentiel)
    return movements.up_to(cutoff), list(movements.findings)


def all_movements(reads: list[ChorusRestitution], referentiel: Referentiel) -> AllMovements:
    """Every movement of the reads, identical movements of overlapping extracts once, and every line that
    could not be read, as a finding."""
    findings: list[Finding] = []
    records: list[dict[str, Any]] = []
    first_source: dict[tuple[Any, ...], str] = {}
    overlaps: Counter[tuple[str, str, str]] = Counter()
    for read in sorted(reads, key=lambda r: (r.file, r.sha256)):
        if read.layout is None:
            continue
        layout = LAYOUT_BY_KEY[read.layout]
        if layout.key == AIFE_AE:
            findings.append(finding("chorus-no-dates", {"fichier": read.file, "format": layout.title},
                                    file=read.file, sha256=read.sha256, sheet=read.sheet))
        seen_here: Counter[tuple[Any, ...]] = Counter()
        for values in read.data.to_dict("records"):
            line = _Line(read, {str(k): v for k, v in values.items()})
            try:
                record = _movement(line, layout, referentiel)
            except InputError as exc:
                findings.append(_unreadable(line, exc))
                continue
            if record is None:
                continue
            identity = tuple(record[k] for k in _IDENTITY)
            key = (identity, seen_here[identity])
            seen_here[identity] += 1
            if key in first_source:
                overlaps[(first_source[key], read.file, read.sha256)] += 1
                continue
            first_source[key] = read.file
            records.append(record)
    for (first, file, sha256), count in sorted(overlaps.items()):
        findings.append(finding("chorus-duplicate-movement", {"nombre": count, "fichier": file, "premier": first},
                                file=file, sha256=sha256))
    return AllMovements(_frame(records), tuple(findings))


def _movement(line: _Line, layout: ChorusLayout, referentiel: Referentiel) -> dict[str, Any] | None:
    """The movement a line records, None when it is not programme 0349; raises `InputError` (with its field) when unreadable."""
    nomenclature = referentiel.nomenclature
    programme = normalise_code(line.get("programme"))
    if not nomenclature.programme_matches(programme):
        return None
    ej = _read(line, "ej", parse_ej) or SANS_EJ
    montant = _read(line, "montant", parse_amount)
    if montant is None:
        raise InputError("chorus-unreadable-line", {"motif": "le montant est absent."}, field="montant")
    date, annee = _date_and_year(line, layout)
    activite = _strip(line.get("activite"))
    centre_financier = _strip(line.get("centre_financier"))
    in_dispositif = nomenclature.activite_matches(activite) and (
        "centre_financier" not in layout.labels or nomenclature.centre_financier_matches(centre_financier)
    )
    compte = _strip(line.get("compte_budgetaire"))
    return {
        "source": line.read.file,
        "sha256": line.read.sha256,
        "line": line.number,
        "layout": layout.key,
        "kind": layout.kind,
        "ej": ej,
        "poste": _number_text(line.get("poste")),
        "dp": _number_text(line.get("dp")) if layout.kind == CP else "",
        "date": date,
        "annee": annee,
        "programme": programme,
        "centre_financier": centre_financier,
        "domaine_fonctionnel": _strip(line.get("domaine_fonctionnel")),
        "activite": activite,
        "compte_budgetaire": compte,
        "titre": referentiel.titre_of_compte(compte),
        "fournisseur": line.get("fournisseur_libelle") or line.get("fournisseur"),
        "montant": montant,
        "in_dispositif": in_dispositif,
    }


def _date_and_year(line: _Line, layout: ChorusLayout) -> tuple[dt.date | None, int | None]:
    """AE: the replication date; CP: the SF's accounting date, else the DP's base date, else the exercice."""
    date1904 = line.read.date1904
    if layout.key == INF_BUD_53_AE:
        date = _read(line, "date_replication", lambda t: _parse_date(t, date1904))
        return date, date.year if date else None
    if layout.key == INF_BUD_53_CP:
        date_sf = _read(line, "date_sf", lambda t: _parse_date(t, date1904))
        date_dp = _read(line, "date_base_dp", lambda t: _parse_date(t, date1904))
        date = date_sf or date_dp
        if date is not None:
            return date, date.year
    exercice = _read(line, "exercice", _parse_year)
    return None, exercice


def _read(line: _Line, key: str, parse: Callable[[str], T | None]) -> T | None:
    text = line.get(key)
    if not text:
        return None
    try:
        return parse(text)
    except InputError as exc:
        raise InputError("chorus-unreadable-line", {"motif": exc.message}, field=key) from exc


def _parse_date(text: str, date1904: bool) -> dt.date | None:
    """`jj.mm.aaaa`, `jj/mm/aaaa`, ISO (a time of day is ignored) or an Excel serial."""
    if _SERIAL.match(text):
        return parse_date(float(text), date1904=date1904)
    match = _TIME_SUFFIX.match(text)
    return parse_date(match.group(1) if match else text)


def _parse_year(text: str) -> int | None:
    year = parse_int(text)
    if year is not None and not 1990 <= year <= 2100:
        raise InputError("out-of-range", {"motif": f"« {text} » n'est pas un exercice comptable."})
    return year


def _strip(code: str) -> str:
    """A code without its `BG00/` or `PCE/` prefix, otherwise as Chorus writes it."""
    return _PREFIX.sub("", code)


def _number_text(text: str) -> str:
    """A poste or DP number without leading zeros, so CSV and workbook extracts of one movement agree."""
    return str(int(text)) if text.isdigit() else text


def _after_cutoff(date: dt.date | None, annee: Any, cutoff: dt.date) -> bool:
    """Dated movements after the cut-off; a movement known only by its exercice, when that year is later."""
    if isinstance(date, dt.date):
        return date > cutoff
    return annee is not None and annee is not pd.NA and bool(annee > cutoff.year)


def _unreadable(line: _Line, exc: InputError) -> Finding:
    read = line.read
    column = read.fields[exc.field]
    return finding(
        "chorus-unreadable-line",
        {"motif": f"Ligne {line.number}, « {column} » : {exc.message} La ligne n'est pas prise en compte dans le "
                  "rapprochement."},
        file=read.file, sha256=read.sha256, sheet=read.sheet, cell=read.cell(line.number, column),
        field=column, value=str(line.values[column]), row=line.number,
    )


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=list(MOVEMENT_COLUMNS))
    for column in ("annee", "titre"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    frame["date"] = frame["date"].astype(object)
    frame["line"] = frame["line"].astype("int64")
    frame["montant"] = frame["montant"].astype("float64")
    frame["in_dispositif"] = frame["in_dispositif"].astype(bool)
    strings = [c for c in MOVEMENT_COLUMNS if c not in ("line", "date", "annee", "titre", "montant", "in_dispositif")]
    frame[strings] = frame[strings].astype(str)
    return frame.sort_values(["source", "line"], kind="stable").reset_index(drop=True)


__all__ = ["AllMovements", "all_movements", "normalise_movements"]
