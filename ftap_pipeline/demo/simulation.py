"""Unfold the specs into engagements, postes and payments, and list the Chorus movements they make.

Pure and deterministic: one `random.Random(SEED)` drawn in a fixed order, no clock. The same
generator is handed on to `chorus`, which draws the extracts' formatting noise after the
simulation, so the draw order (and the files) never change unless the specs do.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

from ftap_pipeline.contract import enums
from ftap_pipeline.core.period import add_months
from ftap_pipeline.demo.model import EJ, ChorusLine, Payment, Poste, Project, split, weekday
from ftap_pipeline.demo.specs import (
    COFIN_OBJETS,
    EXTRACTION,
    FTAP_ACTIVITE,
    FTAP_CF,
    FTAP_OBJETS,
    GROUPES,
    SEED,
    SPECS,
    SUPPLIERS,
    TIMING,
    ProjectSpec,
)


class Simulator:
    """Builds every project's engagements and payments from its `ProjectSpec`, with one seeded generator."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.used_ej: set[str] = set()

    def ej_number(self, prefix: str) -> str:
        while True:
            number = prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(10 - len(prefix)))
            if number not in self.used_ej:
                self.used_ej.add(number)
                return number

    def project(self, spec: ProjectSpec) -> Project:
        fin = add_months(spec.debut, spec.months) - dt.timedelta(days=1)
        ftap = round(spec.cout * (1 - spec.cofinancement) / 1000) * 1000
        cofin = spec.cout - ftap
        ejs: list[EJ] = []
        for categorie, ftap_part, cofin_part in zip(
            enums.CATEGORIES, split(ftap, spec.mix, 1000), split(cofin, spec.mix, 1000), strict=True
        ):
            for objet, titre, amount in self._items(FTAP_OBJETS[categorie], ftap_part):
                codes = (FTAP_CF, spec.domaine_ftap, FTAP_ACTIVITE)
                ejs.append(self.ej(spec, fin, categorie, objet, titre, enums.FTAP, codes, amount, "1300"))
            for objet, titre, amount in self._items(COFIN_OBJETS[categorie], cofin_part):
                financeur, codes, prefix, note = "Porteur", spec.codes, "2100" if titre == 5 else "1300", None
                if spec.categorie_porteur == enums.CAT_APUL:
                    prefix = "00"  # the département's own numbering, leading zeros included
                if spec.co_porteur is not None and categorie == "Généralisation" and titre == 5:
                    name, codes = spec.co_porteur
                    financeur, prefix, note = "Co-porteur", "0", f"Part du co-porteur : {name}"
                ej = self.ej(spec, fin, categorie, objet, titre, financeur, codes, amount, prefix)
                ej.commentaire = note
                ejs.append(ej)
        ejs.sort(key=lambda e: (e.date, e.number))
        return Project(spec, fin, ejs)

    @staticmethod
    def _items(objets: tuple[tuple[str, int, float], ...], total: int) -> list[tuple[str, int, int]]:
        if total <= 0:
            return []
        amounts = split(total, [share for _, _, share in objets], 1000)
        return [(objet, titre, amount) for (objet, titre, _), amount in zip(objets, amounts, strict=True)
                if amount > 0]

    def ej(self, spec: ProjectSpec, fin: dt.date, categorie: str, objet: str, titre: int, financeur: str,
           codes: tuple[str, str, str], planned: int, prefix: str) -> EJ:
        rng = self.rng
        span = (fin - spec.debut).days
        lo, hi = TIMING[categorie]
        date = weekday(spec.debut + dt.timedelta(days=round(span * rng.uniform(lo, hi))))
        actual = round(planned * 100 * rng.uniform(0.93, 1.0))  # cents: the order comes in under the plan
        n_postes = 1 if actual < 8_000_000 else rng.choice((2, 3))
        postes = []
        for number, cents in enumerate(split(actual, [1 / n_postes] * n_postes, 100), start=1):
            poste = Poste(number, [(date, cents)])
            poste.payments = self.payments(date, cents)
            postes.append(poste)
        return EJ(self.ej_number(prefix), date, rng.choice(SUPPLIERS[objet]), categorie, titre, objet, financeur,
                  codes, planned, postes)

    def payments(self, engaged: dt.date, cents: int) -> list[Payment]:
        """Several payments per poste, over the quarters after the engagement (some after the cut-off)."""
        rng = self.rng
        schedule = rng.choice(((1.0,), (0.5, 0.5), (0.3, 0.4, 0.3), (0.4, 0.6)))
        out: list[Payment] = []
        offset = 0
        for amount in split(cents, schedule, 100):
            offset += rng.randint(40, 110)
            day = weekday(engaged + dt.timedelta(days=offset))
            if day.month == 1 and day.day < 10:
                day = day.replace(day=10)  # keep the DP's base date in the same year as the SF
            out.append(Payment(day, amount))
        return out


def simulate() -> tuple[list[Project], Simulator]:
    """Every project of `SPECS`, and the simulator whose generator the Chorus extracts go on drawing from."""
    sim = Simulator()
    return [sim.project(spec) for spec in SPECS], sim


def chorus_movements(projects: Sequence[Project]) -> tuple[list[ChorusLine], list[ChorusLine]]:
    """AE and CP movements of the FTAP engagements Chorus knows, up to the extraction date."""
    ae: list[ChorusLine] = []
    cp: list[ChorusLine] = []
    for project in projects:
        for ej in project.ejs:
            if not ej.ftap or not ej.in_chorus:
                continue
            groupe = GROUPES[ej.objet]
            for poste in ej.postes:
                for day, cents in poste.ae:
                    if day <= EXTRACTION:
                        ae.append(ChorusLine(ej.number, str(poste.number), day, cents, ej.supplier, groupe=groupe))
                for p in poste.payments:
                    if p.date <= EXTRACTION:
                        cp.append(ChorusLine(ej.number, str(poste.number), p.date, p.cents, ej.supplier))
    return ae, cp
