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


class _Rows:
    """The data rows of a read, column by column: each field's text as a line gives it (`#` means empty), and
    what is derived from a text (a parsed amount, a matched code), computed once per distinct text.

    An extract of 100,000 movements has a few hundred dates, a handful of programmes and activités, and
    repeats its EJ on every poste: the pure derivations go by distinct text, and the loop over lines only
    looks them up (`normalise._remembered` does the same for the returns' cells, one call per cell)."""

    def __init__(self, read: ChorusRestitution) -> None:
        self.read = read
        self.count = len(read.data)
        self._raw: dict[str, list[Any]] = {}
        self._texts: dict[str, list[str]] = {}

    def raw(self, column: str) -> list[Any]:
        if column not in self._raw:
            self._raw[column] = self.read.data[column].tolist()
        return self._raw[column]

    def number(self, i: int) -> int:
        return int(self.raw(LINE)[i])

    def texts(self, key: str) -> list[str]:
        """The field's text on every line; empty where the layout has no such field. A cell that is not a
        text (a missing one) reads as its `str`, as it always has."""
        if key not in self._texts:
            column = self.read.fields.get(key)
            self._texts[key] = [""] * self.count if column is None else _memoised(
                _cell_text, [v if type(v) is str else str(v) for v in self.raw(column)])
        return self._texts[key]

    def derived(self, key: str, derive: Callable[[str], T]) -> list[T]:
        """`derive` (pure) of the field's text on every line, once per distinct text."""
        return _memoised(derive, self.texts(key))


def _cell_text(text: str) -> str:
    text = text.strip()
    return "" if text == "#" else text


def _memoised(derive: Callable[[str], T], texts: list[str]) -> list[T]:
    """`derive` of each text, computed once per distinct text."""
    memo = {text: derive(text) for text in dict.fromkeys(texts)}  # the distinct texts, in order
    return list(map(memo.__getitem__, texts))


@dataclass(frozen=True)
class _Failed:
    """A text its parser refused: the reason, raised again on every line that holds it."""

    message: str


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
        rows = _Rows(read)
        lines = _movements(rows, layout, referentiel)
        for i, record in enumerate(lines):
            if isinstance(record, InputError):
                findings.append(_unreadable(rows, i, record))
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


def _movements(rows: _Rows, layout: ChorusLayout, referentiel: Referentiel
               ) -> list[dict[str, Any] | InputError | None]:
    """Line by line, the movement a line records; None when it is not programme 0349; the `InputError`
    (with its field) that makes it unreadable. The fields are read, and the codes matched, column by column."""
    nomenclature = referentiel.nomenclature
    programmes = rows.derived("programme", normalise_code)
    ours = _memoised(nomenclature.programme_matches, programmes)
    ejs = _parsed(rows, "ej", parse_ej)
    montants = _parsed(rows, "montant", parse_amount)
    dates = _dates_and_years(rows, layout)
    activites = rows.derived("activite", _strip)
    centres = rows.derived("centre_financier", _strip)
    checks_centre = "centre_financier" in layout.labels
    in_activite = _memoised(nomenclature.activite_matches, activites)
    in_centre = _memoised(nomenclature.centre_financier_matches, centres) if checks_centre else None
    comptes = rows.derived("compte_budgetaire", _strip)
    titres = _memoised(referentiel.titre_of_compte, comptes)
    postes = rows.derived("poste", _number_text)
    dps = rows.derived("dp", _number_text) if layout.kind == CP else [""] * rows.count
    domaines = rows.derived("domaine_fonctionnel", _strip)
    libelles, fournisseurs = rows.texts("fournisseur_libelle"), rows.texts("fournisseur")
    numbers = rows.raw(LINE)
    read = rows.read
    out: list[dict[str, Any] | InputError | None] = []
    for i in range(rows.count):
        if not ours[i]:
            out.append(None)
            continue
        # The line's first fault, in the order a person reads it: the EJ, the amount, then the dates.
        ej, montant, date_annee = ejs[i], montants[i], dates[i]
        fault = ej if isinstance(ej, InputError) else montant if isinstance(montant, InputError) else None
        if fault is not None:
            out.append(fault)
            continue
        if montant is None:
            out.append(InputError("chorus-unreadable-line", {"motif": "le montant est absent."}, field="montant"))
            continue
        if isinstance(date_annee, InputError):
            out.append(date_annee)
            continue
        date, annee = date_annee
        out.append({
            "source": read.file,
            "sha256": read.sha256,
            "line": int(numbers[i]),
            "layout": layout.key,
            "kind": layout.kind,
            "ej": ej or SANS_EJ,
            "poste": postes[i],
            "dp": dps[i],
            "date": date,
            "annee": annee,
            "programme": programmes[i],
            "centre_financier": centres[i],
            "domaine_fonctionnel": domaines[i],
            "activite": activites[i],
            "compte_budgetaire": comptes[i],
            "titre": titres[i],
            "fournisseur": libelles[i] or fournisseurs[i],
            "montant": montant,
            "in_dispositif": bool(in_activite[i] and (in_centre is None or in_centre[i])),
        })
    return out


def _dates_and_years(rows: _Rows, layout: ChorusLayout) -> list[tuple[dt.date | None, int | None] | InputError]:
    """AE: the replication date; CP: the SF's accounting date, else the DP's base date, else the exercice.

    Both dates of a CP line are read (either unreadable makes the line unreadable); its exercice only when it
    has neither."""
    date1904 = rows.read.date1904

    def parse(text: str) -> dt.date | None:
        return _parse_date(text, date1904)

    if layout.key == INF_BUD_53_AE:
        return [d if isinstance(d, InputError) else (d, d.year if d else None)
                for d in _parsed(rows, "date_replication", parse)]
    exercices = _parsed(rows, "exercice", _parse_year)
    if layout.key != INF_BUD_53_CP:
        return [e if isinstance(e, InputError) else (None, e) for e in exercices]
    out: list[tuple[dt.date | None, int | None] | InputError] = []
    for sf, dp, exercice in zip(_parsed(rows, "date_sf", parse), _parsed(rows, "date_base_dp", parse), exercices,
                                strict=True):
        if isinstance(sf, InputError):
            out.append(sf)
        elif isinstance(dp, InputError):
            out.append(dp)
        elif sf is not None:
            out.append((sf, sf.year))
        elif dp is not None:
            out.append((dp, dp.year))
        else:
            out.append(exercice if isinstance(exercice, InputError) else (None, exercice))
    return out


def _parsed(rows: _Rows, key: str, parse: Callable[[str], T | None]) -> list[T | InputError | None]:
    """The field parsed on every line (None where it is empty), or the line's `InputError` naming the field."""
    def read(text: str) -> T | _Failed | None:
        if not text:
            return None
        try:
            return parse(text)
        except InputError as exc:
            return _Failed(exc.message)

    return [InputError("chorus-unreadable-line", {"motif": v.message}, field=key) if isinstance(v, _Failed) else v
            for v in rows.derived(key, read)]


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


def _unreadable(rows: _Rows, i: int, exc: InputError) -> Finding:
    read, number = rows.read, rows.number(i)
    column = read.fields[exc.field]
    return finding(
        "chorus-unreadable-line",
        {"motif": f"Ligne {number}, « {column} » : {exc.message} La ligne n'est pas prise en compte dans le "
                  "rapprochement."},
        file=read.file, sha256=read.sha256, sheet=read.sheet, cell=read.cell(number, column),
        field=column, value=str(rows.raw(column)[i]), row=number,
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
