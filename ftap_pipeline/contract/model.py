"""The records that flow between the stages, in one place and frozen.

A reader produces `ReturnInput`s and `ChorusRestitution`s, the normaliser `ParsedReturn`s, the selection
`ReturnRecord`s. None of them is changed after it is built: a stage returns its findings and new
records, so a stage can run in another process, or again, without surprises.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.findings import Finding, finding, finding_of
from ftap_pipeline.contract.raw import RawWorkbook, a1


@dataclass(frozen=True)
class Projet:
    """The `Projet` form of a return, typed (None: empty or unreadable; see `ParsedReturn.projet_errors`).

    Text fields keep what was typed when it is not a permitted value: the checks say so, with the cell."""

    project_id: str | None = None
    intitule: str | None = None
    period: str | None = None
    date_situation: dt.date | None = None
    porteur: str | None = None
    ministere: str | None = None
    categorie_porteur: str | None = None
    concert_etat: str | None = None
    financement_etat: str | None = None
    region: str | None = None
    phase: str | None = None
    date_cadrage: dt.date | None = None
    debut: dt.date | None = None
    fin: dt.date | None = None
    numerique: str | None = None
    chef_projet: str | None = None
    courriel: str | None = None
    version: int | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, object]) -> Projet:
        """Build from parsed values by field key, keeping each value only if it has its field's type."""
        kwargs: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            value = values.get(f.name)
            kind = layout.PROJET.field(f.name).kind
            if kind is layout.Kind.DATE:
                kwargs[f.name] = _as_date(value)
            elif kind is layout.Kind.INT:
                kwargs[f.name] = value if isinstance(value, int) and not isinstance(value, bool) else None
            else:
                kwargs[f.name] = None if value is None else str(value)
        return cls(**kwargs)  # type: ignore[arg-type]

    def value(self, key: str) -> object:
        """A field by its layout key (for the checks that walk every field)."""
        return getattr(self, key)

    @property
    def version_number(self) -> int:
        """The version that ranks the return: 1 when absent or below 1 (remontee-v1)."""
        return self.version if self.version is not None and self.version >= 1 else 1


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


@dataclass(frozen=True)
class ReturnInput:
    """One file of the inbox as read: its workbook, or why it could not be read."""

    file: str
    sha256: str
    workbook: RawWorkbook | None = None
    #: Why the file could not be read, when it could not.
    error: InputError | None = None


@dataclass(frozen=True)
class Lines:
    """The lines of one table sheet of one return, column by column, as the parsers typed them.

    Plain lists rather than a frame: a return has a few dozen lines, a pandas frame costs more to build and
    to pickle than its values, and the lines of every return are concatenated once per sheet anyway
    (`core.normalise.typed_frame`)."""

    #: Excel row number of each line.
    rows: list[int]
    #: Field key → one value per line (None: empty or unreadable).
    values: Mapping[str, list[object]]

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class ParsedReturn:
    """What one return says, typed, with where each value came from, and what parsing found."""

    file: str
    sha256: str
    projet: Projet = field(default_factory=Projet)
    #: A1 reference (with sheet) of each `Projet` value cell, by field key.
    projet_cells: Mapping[str, str] = field(default_factory=dict)
    #: `Projet` values that could not be read: field key → (slug, French message, value as read).
    projet_errors: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    #: Typed lines by sheet key.
    tables: Mapping[str, Lines] = field(default_factory=dict)
    #: Column letter of each field, by sheet key.
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: The workbook's own name of each sheet found, by sheet key.
    sheet_names: Mapping[str, str] = field(default_factory=dict)
    #: What parsing found (structure, unreadable cells).
    findings: tuple[Finding, ...] = ()
    #: Cells whose value could not be read: (sheet key, row, field key); the schema does not report them twice.
    unreadable: frozenset[tuple[str, int, str]] = frozenset()
    #: Fingerprint of what the return says (not of its bytes): re-saving a file does not change it.
    content_key: str = ""

    def cell(self, sheet_key: str, row: int, field_key: str) -> str:
        letter = self.columns.get(sheet_key, {}).get(field_key, "")
        name = self.sheet_name(sheet_key)
        return f"{name}!{letter}{row}" if letter else f"{name}!{row}:{row}"

    def sheet_name(self, sheet_key: str) -> str:
        return self.sheet_names.get(sheet_key, layout.SHEETS_BY_KEY[sheet_key].name)

    @property
    def lines_read(self) -> int:
        return sum(len(t) for t in self.tables.values())

    @property
    def readable(self) -> bool:
        """False for a file that could not be opened at all: no sheet was found in it."""
        return bool(self.sheet_names or self.tables)

    def finding(self, slug: str, values: Mapping[str, object] | None = None, /, **where: object) -> Finding:
        """A finding about this return (its rule's template filled with `values`), with its file, fingerprint,
        project and period."""
        return finding(slug, values, **self._origin(), **where)

    def finding_of(self, error: InputError, **where: object) -> Finding:
        """The finding of a value or a file of this return that could not be read."""
        return finding_of(error, **self._origin(), **where)

    def _origin(self) -> dict[str, object]:
        return {"file": self.file, "sha256": self.sha256, "project_id": self.projet.project_id or "",
                "period": self.projet.period or ""}


@dataclass(frozen=True)
class ReturnRecord:
    """One return's fate: its status, its line counts (read = kept + rejected) and all its findings."""

    file: str
    sha256: str
    projet: Projet
    status: str
    lines_read: int
    lines_kept: int
    lines_rejected: int
    content_key: str = ""
    findings: tuple[Finding, ...] = ()

    @property
    def project_id(self) -> str | None:
        return self.projet.project_id

    @property
    def period(self) -> str | None:
        return self.projet.period

    @property
    def date_situation(self) -> dt.date | None:
        return self.projet.date_situation

    @property
    def version(self) -> int:
        return self.projet.version_number

    @property
    def porteur(self) -> str | None:
        return self.projet.porteur

    @property
    def courriel(self) -> str | None:
        return self.projet.courriel

    @property
    def kept(self) -> bool:
        return self.status in (enums.RETENUE, enums.RETENUE_AVEC_ANOMALIES)


@dataclass(frozen=True, eq=False)
class ChorusRestitution:
    """One Chorus restitution as read: its rows as text, the layout recognised, and what went wrong."""

    file: str
    sha256: str
    layout: str | None
    #: Data rows below the header: one text column per header cell, plus `LINE` (file line or Excel row).
    data: pd.DataFrame
    findings: tuple[Finding, ...] = ()
    #: Field key of the layout → column of `data` that carries it.
    fields: Mapping[str, str] = field(default_factory=dict)
    #: Worksheet read, for a workbook; empty for a CSV file.
    sheet: str = ""
    date1904: bool = False

    def cell(self, line: int, column: str) -> str:
        """Where a value sits, as a person finds it: `ligne 12` in a CSV file, `Feuil1!K14` in a workbook."""
        if not self.sheet:
            return f"ligne {line}"
        return f"{self.sheet}!{a1(line - 1, list(self.data.columns).index(column))}"
