"""Fault injection: the faulty returns and the Chorus discrepancies the demo's story needs.

The simulation alone gives inputs that agree everywhere; this module spoils them on purpose,
following the plan in `specs` (which project, which period), so that a run has something to
find: a withdrawal, forgotten and late movements, bad lines, a superseded, a mistyped and a
damaged return, and Chorus lines no return declares. It returns what each fault should yield.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Final

from ftap_pipeline.contract import enums
from ftap_pipeline.core.period import Period
from ftap_pipeline.demo import returns
from ftap_pipeline.demo.model import EJ, ChorusLine, Project, by_id, split, weekday
from ftap_pipeline.demo.specs import (
    ABSENT_PROJECT,
    AVEC_ANOMALIES,
    BAD_LINES_PROJECT,
    CORRECTION_PROJECT,
    CUTOFF,
    DAMAGED_PERIOD,
    DAMAGED_PROJECT,
    GAP_PROJECT,
    MISSING_PROJECT,
    OTHER_ACTIVITE,
    PERIOD,
    REJETEE,
    REMPLACEE,
    RETENUE,
    SUPERSEDED_PROJECT,
    TYPO_ID,
    TYPO_PROJECT,
    WITHDRAWAL_PROJECT,
)

#: Share of the file an interrupted download keeps.
DAMAGED_KEPT: Final = Fraction(3, 5)


# --- the simulation's movements ----------------------------------------------------------------------


def inject_movements(projects: Sequence[Project]) -> dict[str, str]:
    """Alter the simulation where the demo needs a story; returns the EJs whose reconciliation it changes."""
    expected: dict[str, str] = {}
    # A withdrawal: part of an Expérimentation order is cancelled the next year (AE < 0 in a later exercice).
    project = by_id(projects, WITHDRAWAL_PROJECT)
    ej = next(e for e in project.ejs if e.ftap and e.categorie == "Expérimentation")
    poste = ej.postes[-1]
    engaged = poste.ae[0][1]
    cut = round(engaged * 0.12 / 10_000) * 10_000
    poste.ae.append((weekday(dt.date(ej.date.year + 1, 2, 11)), -cut))
    for p, amount in zip(poste.payments, split(engaged - cut, [p.cents / engaged for p in poste.payments], 100),
                         strict=True):
        p.cents = amount
    ej.withdrawal_note = "Retrait partiel : tranche optionnelle non affermie."
    # A payment Chorus records that the return forgot: an amount gap on CP.
    project = by_id(projects, GAP_PROJECT)
    candidates = [(p.date, ej.number, p) for ej in project.ejs if ej.ftap for p in ej.payments()
                  if dt.date(2025, 1, 1) <= p.date <= CUTOFF]
    _, number, payment = max(candidates, key=lambda c: (c[0], c[1]))
    payment.declared = False
    expected[number] = enums.ECART
    # An engagement declared but not yet in Chorus.
    project = by_id(projects, ABSENT_PROJECT)
    ej = max((e for e in project.ejs if e.ftap and e.date <= CUTOFF), key=lambda e: (e.date, e.number))
    ej.in_chorus = False
    expected[ej.number] = enums.ABSENT_DE_CHORUS
    # The extracts were downloaded in July: an engagement and a payment dated after the cut-off are in them.
    ftap = [e for p in projects for e in p.ejs if e.ftap]
    _move(min((e for e in ftap if e.date > CUTOFF), key=lambda e: (e.date, e.number)), weekday(dt.date(2025, 7, 1)))
    _, _, late = min((p.date, e.number, p) for e in ftap if e.date <= CUTOFF for p in e.payments() if p.date > CUTOFF)
    late.date = weekday(dt.date(2025, 7, 2))
    return expected


def _move(ej: EJ, day: dt.date) -> None:
    """Re-date an engagement, its movements and payments keeping their intervals."""
    delta = day - ej.date
    ej.date = day
    for poste in ej.postes:
        poste.ae = [(d + delta, cents) for d, cents in poste.ae]
        for p in poste.payments:
            p.date += delta


# --- the returns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnFile:
    """A return file to write, and the status a run should give it."""

    name: str
    projet: dict[str, object]
    tables: returns.Tables
    status: str


@dataclass(frozen=True)
class DamagedCopy:
    """A truncated copy of a return written just before (an interrupted download)."""

    source: str
    name: str
    kept: Fraction = DAMAGED_KEPT
    status: str = REJETEE


def reported_periods(project: Project) -> list[Period]:
    """The quarters the project sends a return for: each one from its start, but for the one it forgets."""
    periods = returns.periods(Period.of(project.spec.debut), PERIOD)
    return periods[:-1] if project.spec.pid == MISSING_PROJECT else periods


def period_files(project: Project, period: Period) -> list[ReturnFile | DamagedCopy]:
    """The files the project sends for `period`, in writing order: its return, and any faulty one."""
    spec = project.spec
    tables = returns.tables(project, period.last_day)
    projet = returns.projet(project, period)
    name = returns.file_name(spec, period)
    status = RETENUE
    files: list[ReturnFile | DamagedCopy] = []
    if spec.pid == BAD_LINES_PROJECT and period == PERIOD:
        bad_lines(tables)
        status = AVEC_ANOMALIES
    if spec.pid == SUPERSEDED_PROJECT and period == PERIOD:
        early = returns.tables(project, period.last_day - dt.timedelta(days=45))
        if early == tables:
            raise RuntimeError("the superseded version must differ from the one that stands")
        files.append(ReturnFile(name, projet, early, REMPLACEE))
        name, projet = returns.file_name(spec, period, " v2"), {**projet, "version": 2}
    files.append(ReturnFile(name, projet, tables, status))
    if spec.pid == TYPO_PROJECT and period == PERIOD:
        files.append(ReturnFile(f"{TYPO_ID}_{period}.xlsx", {**projet, "project_id": TYPO_ID}, tables, REJETEE))
    if spec.pid == DAMAGED_PROJECT and period == DAMAGED_PERIOD:
        files.append(DamagedCopy(name, returns.file_name(spec, period, " (2)")))
    return files


def bad_lines(tables: returns.Tables) -> None:
    """Spoil a return the way people do: a text in an amount, a value outside a list, a 9-digit EJ, a duplicate."""
    tables["financement"].append({"annee": 2025, "categorie": "Généralisation", "titre": 3,
                                  "objet": "Autres dépenses", "financeur": "Porteur", "ae": "à préciser", "cp": 0.0})
    tables["economies"].append({"annee": 2025, "nature": "Temps agent", "statut": enums.PREVISIONNELLE,
                                "montant": 15_000.0, "etp": 0.3, "perenne": enums.OUI})
    rows = tables["consommation"]
    cofin = [r for r in rows if r["financeur"] != enums.FTAP]
    typo = str(cofin[0]["ej"])
    for row in rows:
        if row["ej"] == typo:
            row["ej"] = typo[:4] + typo[5:]  # a digit lost when typing it
    last = max((r for r in cofin if r["ej"] != typo[:4] + typo[5:]), key=lambda r: (r["exercice"], r["ej"]))
    rows.insert(rows.index(last) + 1, {**last, "commentaire": "Saisie en double"})


# --- Chorus ------------------------------------------------------------------------------------------


def inject_chorus(projects: Sequence[Project], ae: list[ChorusLine], cp: list[ChorusLine]) -> dict[str, str]:
    """Add the extracts' own discrepancies to `ae` and `cp`; returns their expected reconciliation status."""
    expected: dict[str, str] = {}
    # A payment booked twice then cancelled: a negative correction, net zero.
    project = by_id(list(projects), CORRECTION_PROJECT)
    numbers = {e.number for e in project.ejs}
    line = next(c for c in cp if c.ej in numbers and c.date.year == 2025 and c.date + dt.timedelta(days=12) <= CUTOFF)
    cp.append(replace(line, date=line.date + dt.timedelta(days=2)))
    cp.append(replace(line, date=weekday(line.date + dt.timedelta(days=9)), cents=-line.cents))
    # An engagement of the dispositif that no return declares (a DITP order for a cross-project workshop).
    undeclared = "1300589412"
    ae.append(ChorusLine(undeclared, "1", dt.date(2025, 3, 12), 4_176_000, "Atelier Lean & Co",
                         groupe="36.03.01"))
    cp.append(ChorusLine(undeclared, "1", dt.date(2025, 5, 20), 1_392_000, "Atelier Lean & Co"))
    expected[undeclared] = enums.NON_DECLARE
    # A payment without EJ on the dispositif's activité (travel costs): AE = CP.
    cp.append(ChorusLine("#", "#", dt.date(2025, 4, 17), 184_000, "SNCF Voyageurs", compte="31"))
    expected[enums.SANS_EJ] = enums.NON_DECLARE
    # A line of another FTAP project: programme 0349, another activité.
    other = "2104518823"
    ae.append(ChorusLine(other, "1", dt.date(2024, 10, 8), 24_800_000, "Conseil & État", activite=OTHER_ACTIVITE,
                         groupe="36.03.01"))
    cp.append(ChorusLine(other, "1", dt.date(2025, 2, 14), 9_920_000, "Conseil & État", activite=OTHER_ACTIVITE))
    expected[other] = enums.HORS_DISPOSITIF
    return expected
