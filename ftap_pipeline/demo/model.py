"""The simulated portfolio's state: projects, engagements juridiques, postes, payments and Chorus lines.

One set of mutable records shared by the modules that build it (`simulation`), alter it
(`faults`) and read it out as returns, référentiel rows and Chorus extracts, with the small
date and amount helpers they all use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ftap_pipeline.contract import enums
from ftap_pipeline.demo.specs import FTAP_ACTIVITE, ProjectSpec


@dataclass
class Payment:
    date: dt.date
    cents: int
    #: False for a payment Chorus records but the porteur forgot to declare (an injected gap).
    declared: bool = True


@dataclass
class Poste:
    number: int
    #: AE movements: (date, cents); the first is the engagement, a negative one a withdrawal.
    ae: list[tuple[dt.date, int]]
    payments: list[Payment] = field(default_factory=list)


@dataclass
class EJ:
    number: str
    date: dt.date
    supplier: str
    categorie: str
    titre: int
    objet: str
    financeur: str
    codes: tuple[str, str, str]
    planned: int  # euros, the financing plan's amount
    postes: list[Poste]
    in_chorus: bool = True
    commentaire: str | None = None
    #: Written on the line of the exercice that carries a withdrawal.
    withdrawal_note: str | None = None

    @property
    def ftap(self) -> bool:
        return self.financeur == enums.FTAP

    def ae_moves(self) -> Iterator[tuple[dt.date, int]]:
        for poste in self.postes:
            yield from poste.ae

    def payments(self) -> Iterator[Payment]:
        for poste in self.postes:
            yield from poste.payments


@dataclass
class Project:
    spec: ProjectSpec
    fin: dt.date
    ejs: list[EJ]


@dataclass(frozen=True)
class ChorusLine:
    """A movement to write in a Chorus extract, with the imputation it carries."""

    ej: str
    poste: str
    date: dt.date
    cents: int
    supplier: str
    activite: str = FTAP_ACTIVITE
    compte: str = "31"
    groupe: str = "#"


def weekday(day: dt.date) -> dt.date:
    """Move a weekend date to the next Monday: engagements and payments are booked on working days."""
    return day + dt.timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def split(total: int, shares: Sequence[float], unit: int) -> list[int]:
    """Split `total` by `shares`, each part rounded to `unit`, the last one taking the remainder."""
    parts = [round(total * s / unit) * unit for s in shares[:-1]]
    return [*parts, total - sum(parts)]


def by_id(projects: Sequence[Project], pid: str) -> Project:
    return next(p for p in projects if p.spec.pid == pid)
