"""A realistic, deterministic demo input set: référentiel, quarterly returns and Chorus extracts.

Twelve projects are simulated from a short description each (dates, cost, co-financing, themes):
a financing plan, engagements juridiques with postes and payments, savings and indicators. The
returns are the cumulative situations of that simulation at each quarter's end, and the Chorus
extracts are its movements, so the three inputs agree except where a discrepancy is injected on
purpose. A seeded `random.Random` and no clock: two runs write byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Final

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.layout import AMOUNT_FORMAT, DATE_FORMAT
from ftap_pipeline.contract.referentiel import DEFAULT_PARAMETERS, Nomenclature
from ftap_pipeline.core.period import Period, add_months
from ftap_pipeline.io.return_writer import new_workbook, write_return

SEED: Final = 349
#: The demo's last reporting period and its cut-off.
PERIOD: Final = Period(2025, 2)
CUTOFF: Final = PERIOD.last_day
#: The Chorus extracts were downloaded a few days after the quarter: they carry some later movements.
EXTRACTION: Final = dt.date(2025, 7, 4)
CONTRACT_DATE: Final = dt.date(2023, 7, 31)
AVENANT_DATE: Final = dt.date(2025, 3, 15)

NOM: Final = Nomenclature()
FTAP_CF: Final = NOM.centre_financier
FTAP_ACTIVITE: Final = NOM.activite
#: Another FTAP project's activité on programme 0349: its lines are "Hors dispositif".
OTHER_ACTIVITE: Final = "03490102C201"

# Expected statuses (sorties-v1).
RETENUE, AVEC_ANOMALIES, REJETEE, REMPLACEE = (enums.RETENUE, enums.RETENUE_AVEC_ANOMALIES, enums.REJETEE,
                                               enums.REMPLACEE)


@dataclass(frozen=True)
class DemoSummary:
    """What `write_demo` wrote, and what a run on it should find (for tests and the README)."""

    root: Path
    referentiel: Path
    returns: tuple[Path, ...]
    chorus: tuple[Path, ...]
    #: The period the demo is built for (`ftap run --period`).
    period: str
    #: Expected status of every return file, by file name.
    expected_statuses: Mapping[str, str]
    #: (project, period) pairs with no return: `Remontée manquante`.
    missing_returns: tuple[tuple[str, str], ...]
    #: Expected reconciliation status of the injected Chorus discrepancies, by N° EJ (or `(sans EJ)`).
    reconciliation: Mapping[str, str]
    #: FTAP AE engaged (withdrawals left out) by (exercice, catégorie), as the returns standing at the period say.
    ftap_ae: Mapping[tuple[int, str], float]

    @property
    def n_returns(self) -> int:
        return len(self.returns)

    @property
    def faulty(self) -> dict[str, str]:
        """The return files whose expected status is not a plain `Retenue`."""
        return {name: status for name, status in self.expected_statuses.items() if status != RETENUE}


# --- the projects ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Indicator:
    name: str
    axe: str
    unite: str
    sens: str
    reference: float
    cible: float
    methode: str
    #: Share of the way to the target reached at the end (0: flat, negative: worse).
    atteinte: float = 0.9


@dataclass(frozen=True)
class _Spec:
    """One project, as the steering committee selected it and as it unfolds."""

    pid: str
    intitule: str
    porteur: str
    ministere: str
    region: str
    categorie_porteur: str
    selection: dt.date
    cycle: str
    debut: dt.date
    months: int
    cout: int  # planned total cost (AE), euros
    cofinancement: float  # share of the cost the porteur (and co-porteur) pay
    chef: str
    courriel: str
    #: The porteur's own imputation for its co-financing lines: centre financier, domaine fonctionnel, activité.
    codes: tuple[str, str, str]
    indicators: tuple[_Indicator, ...]
    domaine_ftap: str = "0349-01"
    #: The co-porteur, if any: its name and its own imputation.
    co_porteur: tuple[str, tuple[str, str, str]] | None = None
    concert: str = enums.OUI
    financement_etat: str = enums.OUI
    cadrage_days: int = -18
    numerique: str = enums.NON
    mix: tuple[float, float, float] = (0.15, 0.35, 0.50)
    gains: float = 1.4  # forecast perennial savings over three years ÷ FTAP
    realise: float = 1.0  # realised savings ÷ forecast
    explique: bool = True
    file_style: str = "{pid}_{period}"


_DEL, _SAT, _STOCK = "Délai moyen de traitement", "Part des agents satisfaits de leur charge de travail", \
    "Stock de dossiers en attente"
Q, W = enums.AXE_QUALITE, enums.AXE_TRAVAIL


def _quality(what: str, ref: float, cible: float, atteinte: float = 0.9) -> _Indicator:
    return _Indicator(f"{_DEL} {what}", Q, "jours", "Baisse", ref, cible, "Statistique directe", atteinte)


def _work(ref: float, cible: float, atteinte: float = 0.9) -> _Indicator:
    return _Indicator(_SAT, W, "%", "Hausse", ref, cible, "Enquête", atteinte)


def _stock(ref: float, cible: float) -> _Indicator:
    return _Indicator(_STOCK, Q, "nombre", "Baisse", ref, cible, "Statistique directe")


D = dt.date
SPECS: Final[tuple[_Spec, ...]] = (
    _Spec("AP-2023-01", "Réduction des délais de délivrance des titres de séjour", "Préfecture du Rhône",
          "Ministère de l'Intérieur", "Auvergne-Rhône-Alpes", enums.CAT_DECONCENTRE, D(2023, 7, 6), "2023-C1",
          D(2023, 9, 4), 5, 900_000, 0.5, "Claire Morel", "claire.morel@rhone.gouv.fr",
          ("0354-DR69-DP69", "0354-02", "035402010101"),
          (_quality("d'une demande de titre de séjour", 62, 35), _work(46, 60), _stock(4_800, 2_500)),
          realise=0.85),
    _Spec("AP-2023-02", "Automatisation du traitement des demandes de remise gracieuse", "DDFiP de la Gironde",
          "Ministère de l'Économie et des Finances", "Nouvelle-Aquitaine", enums.CAT_DECONCENTRE, D(2023, 9, 21),
          "2023-C2", D(2023, 10, 2), 5, 600_000, 0.5, "Julien Lefèvre", "julien.lefevre@dgfip.finances.gouv.fr",
          ("0156-DR33-DD33", "0156-05", "015605010101"),
          (_quality("d'une demande de remise gracieuse", 48, 20), _work(52, 65)),
          domaine_ftap="0349-0101B501", numerique=enums.OUI, realise=0.72, explique=False,
          file_style="DDFiP33_remontee_FTAP_{period}"),
    _Spec("AP-2023-03", "Lean management de l'instruction des demandes d'activité partielle", "DREETS Hauts-de-France",
          "Ministère du Travail et de l'Emploi", "Hauts-de-France", enums.CAT_DECONCENTRE, D(2023, 9, 21), "2023-C2",
          D(2023, 11, 6), 6, 1_200_000, 0.5, "Sophie Dubois", "sophie.dubois@dreets.gouv.fr",
          ("0155-DR59-DR59", "0155-12", "015512010101"),
          (_quality("d'une demande d'autorisation d'activité partielle", 21, 10), _work(41, 55)),
          realise=1.1),
    _Spec("AP-2024-01", "Robotisation de l'instruction des aides de la politique agricole commune",
          "DDT de la Marne", "Ministère de l'Agriculture et de la Souveraineté alimentaire", "Grand Est",
          enums.CAT_DECONCENTRE, D(2024, 1, 11), "2024-C1", D(2024, 1, 15), 5, 1_500_000, 0.5, "Thomas Girard",
          "thomas.girard@marne.gouv.fr", ("0215-DR51-DD51", "0215-02", "021502010101"),
          (_quality("d'un dossier d'aide PAC", 95, 60), _work(38, 55), _stock(1_900, 900)),
          co_porteur=("Agence de services et de paiement", ("ASP-DRGE", "ASP-PAC", "ASP-PAC-2024")), numerique=enums.OUI,
          realise=0.95),
    _Spec("AP-2024-02", "Accélération de l'instruction des autorisations environnementales", "DREAL Occitanie",
          "Ministère de la Transition écologique", "Occitanie", enums.CAT_DECONCENTRE, D(2024, 1, 11), "2024-C1",
          D(2024, 3, 4), 6, 800_000, 0.4, "Nicolas Fabre", "nicolas.fabre@developpement-durable.gouv.fr",
          ("0217-DR31-DR31", "0217-07", "021707010101"),
          (_quality("d'une autorisation environnementale", 310, 240), _work(44, 55))),
    _Spec("AP-2024-03", "Refonte du circuit de paiement des frais de justice", "Cour d'appel de Douai",
          "Ministère de la Justice", "Hauts-de-France", enums.CAT_DECONCENTRE, D(2024, 3, 14), "2024-C2",
          D(2024, 4, 2), 8, 1_600_000, 0.5, "Isabelle Caron", "isabelle.caron@justice.fr",
          ("0166-CADO-SAR", "0166-03", "016603010101"),
          (_quality("de paiement d'un mémoire de frais de justice", 88, 30), _work(35, 50)),
          realise=0.9, file_style="Remontee FTAP - SAR Douai - {period}"),
    _Spec("AP-2024-04", "Automatisation de la gestion des frais de déplacement", "GSBdD de Brest",
          "Ministère des Armées", "Bretagne", enums.CAT_DECONCENTRE, D(2024, 3, 14), "2024-C2", D(2024, 6, 3), 5,
          1_000_000, 0.5, "Yann Le Goff", "yann.le-goff@intradef.gouv.fr", ("0178-GSBD-BRST", "0178-04",
                                                                               "017804010101"),
          (_quality("de remboursement d'un ordre de mission", 34, 12), _work(49, 62)),
          cadrage_days=20, numerique=enums.OUI, realise=1.05),
    _Spec("AP-2024-05", "Dématérialisation de l'instruction des demandes de RSA", "Conseil départemental du Nord",
          "Ministère du Travail, de la Santé et des Solidarités", "Hauts-de-France", enums.CAT_APUL, D(2024, 6, 27),
          "2024-C3", D(2024, 9, 2), 6, 700_000, 0.5, "Amélie Vasseur", "amelie.vasseur@lenord.fr",
          ("CD59-DGAS", "011-6228", "RSA-DEMAT"),
          (_quality("d'ouverture des droits au RSA", 41, 25, atteinte=0.8), _work(47, 58, atteinte=-0.3)),
          concert=enums.NON, financement_etat=enums.NON, gains=1.1),
    _Spec("AP-2024-06", "Optimisation du traitement des demandes de titres (cartes grises et permis)",
          "CERT de Nantes", "Ministère de l'Intérieur", "Pays de la Loire", enums.CAT_CENTRALE, D(2024, 6, 27),
          "2024-C3", D(2024, 10, 7), 6, 2_400_000, 0.5, "Marc Bertin", "marc.bertin@interieur.gouv.fr",
          ("0354-CERT-NANT", "0354-03", "035403010101"),
          (_quality("d'un dossier de certificat d'immatriculation", 17, 7), _work(43, 56), _stock(26_000, 9_000)),
          co_porteur=("Agence nationale des titres sécurisés", ("ANTS-DSI", "ANTS-TITRES", "ANTS-CERT-2024")),
          numerique=enums.OUI, gains=0.85, file_style="{period}_CERT-Nantes_{pid}"),
    _Spec("AP-2025-01", "Automatisation de l'instruction des demandes d'allocation pour demandeur d'asile",
          "Office français de l'immigration et de l'intégration", "Ministère de l'Intérieur", "Île-de-France",
          enums.CAT_OPERATEUR, D(2024, 11, 28), "2025-C1", D(2025, 1, 13), 6, 1_800_000, 0.5, "Karim Benali",
          "karim.benali@ofii.fr", ("0303-OFII-SIEG", "0303-02", "030302010101"),
          (_quality("d'ouverture des droits à l'allocation", 29, 12), _work(40, 52)), numerique=enums.OUI),
    _Spec("AP-2025-02", "Lean management de la délivrance des autorisations de travail", "DREETS Île-de-France",
          "Ministère du Travail et de l'Emploi", "Île-de-France", enums.CAT_DECONCENTRE, D(2024, 11, 28), "2025-C1",
          D(2025, 3, 3), 5, 900_000, 0.0, "Élodie Martin", "elodie.martin@dreets.gouv.fr",
          ("0155-DR75-DR75", "0155-12", "015512010101"),
          (_quality("d'une autorisation de travail", 56, 30, atteinte=0.0), _work(39, 50, atteinte=0.6))),
    _Spec("AP-2025-03", "Amélioration du suivi des contrôles sanitaires en abattoirs", "DDPP du Finistère",
          "Ministère de l'Agriculture et de la Souveraineté alimentaire", "Bretagne", enums.CAT_DECONCENTRE,
          D(2025, 2, 13), "2025-C2", D(2025, 4, 7), 5, 1_200_000, 0.55, "Gwenaëlle Riou",
          "gwenaelle.riou@finistere.gouv.fr", ("0206-DD29-DD29", "0206-01", "020601010101"),
          (_quality("de clôture d'un rapport d'inspection", 24, 10), _work(45, 57))),
)

COMITES: Final = (
    (D(2023, 3, 29), "Lancement du dispositif et sélection des premiers projets"),
    (D(2023, 7, 6), "Sélection des projets du cycle 2023-C1"),
    (D(2023, 9, 21), "Sélection des projets du cycle 2023-C2"),
    (D(2023, 12, 7), "Suivi du portefeuille et bilan 2023"),
    (D(2024, 1, 11), "Sélection des projets du cycle 2024-C1"),
    (D(2024, 3, 14), "Sélection des projets du cycle 2024-C2"),
    (D(2024, 6, 27), "Sélection des projets du cycle 2024-C3"),
    (D(2024, 11, 28), "Sélection des projets du cycle 2025-C1 et bilan 2024"),
    (D(2025, 2, 13), "Sélection des projets du cycle 2025-C2"),
    (D(2025, 6, 19), "Suivi du portefeuille et point d'étape FTAP"),
    (D(2025, 10, 16), "Sélection des projets du cycle 2025-C3 (prévisionnel)"),
)

#: The contract's §2 table: FTAP AE = CP per category and year (titre 3).
CONTRACT_ENVELOPES: Final[dict[str, tuple[int, int, int]]] = {
    "Cadrage": (600_000, 1_200_000, 1_200_000),
    "Expérimentation": (600_000, 1_200_000, 1_200_000),
    "Généralisation": (1_800_000, 3_600_000, 3_600_000),
}
ENVELOPE_YEARS: Final = (2023, 2024, 2025)
#: The avenant of 2025-03-15 raises one 2025 cell.
AVENANT: Final = ("Expérimentation", 2025, 1_500_000)

# What each category buys, for the FTAP and for the co-financers: (objet, titre, share).
_FTAP_OBJETS: Final[dict[str, tuple[tuple[str, int, float], ...]]] = {
    "Cadrage": (("Prestations intellectuelles", 3, 1.0),),
    "Expérimentation": (("Prestations intellectuelles", 3, 0.6), ("Automatisation et robotisation", 3, 0.4)),
    "Généralisation": (("Automatisation et robotisation", 3, 0.5), ("Formation et conduite du changement", 3, 0.3),
                       ("Prestations intellectuelles", 3, 0.2)),
}
_COFIN_OBJETS: Final[dict[str, tuple[tuple[str, int, float], ...]]] = {
    "Cadrage": (("Prestations intellectuelles", 3, 1.0),),
    "Expérimentation": (("Automatisation et robotisation", 5, 1.0),),
    "Généralisation": (("Formation et conduite du changement", 3, 0.6), ("Autres dépenses", 5, 0.4)),
}
#: When, as a share of the accompaniment, each category's engagements are signed.
_TIMING: Final = {"Cadrage": (0.0, 0.12), "Expérimentation": (0.2, 0.45), "Généralisation": (0.55, 0.95)}
_SUPPLIERS: Final[dict[str, tuple[str, ...]]] = {
    "Prestations intellectuelles": ("Kaizen Public Conseil", "Atelier Lean & Co", "Orbe Conseil", "Processia",
                                    "Nexa Transformation"),
    "Automatisation et robotisation": ("Robotix Services", "Automatia", "Datacité", "Logiflux Solutions"),
    "Formation et conduite du changement": ("Formatis Formation", "Institut Agilité Publique", "Transitions RH"),
    "Autres dépenses": ("UGAP", "Bureau Équipement Pro", "Infogérance Ouest"),
}
_GROUPES: Final = {"Prestations intellectuelles": "36.03.01", "Automatisation et robotisation": "20.01.03",
                   "Formation et conduite du changement": "37.02.01", "Autres dépenses": "18.01.02"}


# --- the simulation ----------------------------------------------------------------------------------


@dataclass
class _Payment:
    date: dt.date
    cents: int
    #: False for a payment Chorus records but the porteur forgot to declare (an injected gap).
    declared: bool = True


@dataclass
class _Poste:
    number: int
    #: AE movements: (date, cents); the first is the engagement, a negative one a withdrawal.
    ae: list[tuple[dt.date, int]]
    payments: list[_Payment] = field(default_factory=list)


@dataclass
class _EJ:
    number: str
    date: dt.date
    supplier: str
    categorie: str
    titre: int
    objet: str
    financeur: str
    codes: tuple[str, str, str]
    planned: int  # euros, the financing plan's amount
    postes: list[_Poste]
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

    def payments(self) -> Iterator[_Payment]:
        for poste in self.postes:
            yield from poste.payments


@dataclass
class _Project:
    spec: _Spec
    fin: dt.date
    ejs: list[_EJ]


def _weekday(day: dt.date) -> dt.date:
    """Move a weekend date to the next Monday: engagements and payments are booked on working days."""
    return day + dt.timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def _split(total: int, shares: Sequence[float], unit: int) -> list[int]:
    """Split `total` by `shares`, each part rounded to `unit`, the last one taking the remainder."""
    parts = [round(total * s / unit) * unit for s in shares[:-1]]
    return [*parts, total - sum(parts)]


class _Simulator:
    """Builds every project's engagements and payments from its `_Spec`, with one seeded generator."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.used_ej: set[str] = set()

    def ej_number(self, prefix: str) -> str:
        while True:
            number = prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(10 - len(prefix)))
            if number not in self.used_ej:
                self.used_ej.add(number)
                return number

    def project(self, spec: _Spec) -> _Project:
        fin = add_months(spec.debut, spec.months) - dt.timedelta(days=1)
        ftap = round(spec.cout * (1 - spec.cofinancement) / 1000) * 1000
        cofin = spec.cout - ftap
        ejs: list[_EJ] = []
        for categorie, ftap_part, cofin_part in zip(
            enums.CATEGORIES, _split(ftap, spec.mix, 1000), _split(cofin, spec.mix, 1000), strict=True
        ):
            for objet, titre, amount in self._items(_FTAP_OBJETS[categorie], ftap_part):
                codes = (FTAP_CF, spec.domaine_ftap, FTAP_ACTIVITE)
                ejs.append(self.ej(spec, fin, categorie, objet, titre, enums.FTAP, codes, amount, "1300"))
            for objet, titre, amount in self._items(_COFIN_OBJETS[categorie], cofin_part):
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
        return _Project(spec, fin, ejs)

    @staticmethod
    def _items(objets: tuple[tuple[str, int, float], ...], total: int) -> list[tuple[str, int, int]]:
        if total <= 0:
            return []
        amounts = _split(total, [share for _, _, share in objets], 1000)
        return [(objet, titre, amount) for (objet, titre, _), amount in zip(objets, amounts, strict=True)
                if amount > 0]

    def ej(self, spec: _Spec, fin: dt.date, categorie: str, objet: str, titre: int, financeur: str,
           codes: tuple[str, str, str], planned: int, prefix: str) -> _EJ:
        rng = self.rng
        span = (fin - spec.debut).days
        lo, hi = _TIMING[categorie]
        date = _weekday(spec.debut + dt.timedelta(days=round(span * rng.uniform(lo, hi))))
        actual = round(planned * 100 * rng.uniform(0.93, 1.0))  # cents: the order comes in under the plan
        n_postes = 1 if actual < 8_000_000 else rng.choice((2, 3))
        postes = []
        for number, cents in enumerate(_split(actual, [1 / n_postes] * n_postes, 100), start=1):
            poste = _Poste(number, [(date, cents)])
            poste.payments = self.payments(date, cents)
            postes.append(poste)
        return _EJ(self.ej_number(prefix), date, rng.choice(_SUPPLIERS[objet]), categorie, titre, objet, financeur,
                   codes, planned, postes)

    def payments(self, engaged: dt.date, cents: int) -> list[_Payment]:
        """Several payments per poste, over the quarters after the engagement (some after the cut-off)."""
        rng = self.rng
        schedule = rng.choice(((1.0,), (0.5, 0.5), (0.3, 0.4, 0.3), (0.4, 0.6)))
        out: list[_Payment] = []
        offset = 0
        for amount in _split(cents, schedule, 100):
            offset += rng.randint(40, 110)
            day = _weekday(engaged + dt.timedelta(days=offset))
            if day.month == 1 and day.day < 10:
                day = day.replace(day=10)  # keep the DP's base date in the same year as the SF
            out.append(_Payment(day, amount))
        return out


def _simulate() -> tuple[list[_Project], _Simulator]:
    sim = _Simulator()
    return [sim.project(spec) for spec in SPECS], sim


# --- returns: the cumulative situation of a project at a date ---------------------------------------


def _consommation(project: _Project, asof: dt.date) -> list[dict[str, object]]:
    """One line per (EJ, exercice) with a movement on or before `asof`; declared payments only."""
    rows: list[dict[str, object]] = []
    for ej in project.ejs:
        if ej.date > asof:
            continue
        ae: dict[int, int] = defaultdict(int)
        cp: dict[int, int] = defaultdict(int)
        for day, cents in ej.ae_moves():
            if day <= asof:
                ae[day.year] += cents
        for p in ej.payments():
            if p.declared and p.date <= asof:
                cp[p.date.year] += p.cents
        for year in sorted(set(ae) | set(cp)):
            cf, df, act = ej.codes
            withdrawal = ae[year] < 0
            rows.append({
                "ej": ej.number, "exercice": year, "date_ej": ej.date, "fournisseur": ej.supplier,
                "categorie": ej.categorie, "titre": ej.titre, "objet": ej.objet, "financeur": ej.financeur,
                "centre_financier": cf, "domaine_fonctionnel": df, "activite": act,
                "ae": ae[year] / 100, "cp": cp[year] / 100,
                "commentaire": ej.withdrawal_note if withdrawal else ej.commentaire,
            })
    return rows


def _financement(project: _Project) -> list[dict[str, object]]:
    """The financing plan: planned AE by the engagements' year, planned CP by the payments' years."""
    ae: dict[tuple[int, str, int, str, str], int] = defaultdict(int)
    cp: dict[tuple[int, str, int, str, str], int] = defaultdict(int)
    for ej in project.ejs:
        ae[(ej.date.year, ej.categorie, ej.titre, ej.objet, ej.financeur)] += ej.planned
        paid = list(ej.payments())
        total = sum(p.cents for p in paid)
        for p in paid:
            cp[(p.date.year, ej.categorie, ej.titre, ej.objet, ej.financeur)] += round(ej.planned * p.cents / total)
    order = {c: i for i, c in enumerate(enums.CATEGORIES)}
    keys = sorted(set(ae) | set(cp), key=lambda k: (k[0], order[k[1]], k[4] != enums.FTAP, k[4], k[2], k[3]))
    return [{"annee": k[0], "categorie": k[1], "titre": k[2], "objet": k[3], "financeur": k[4],
             "ae": float(ae.get(k, 0)), "cp": float(round(cp.get(k, 0), -2))} for k in keys]


_COST_PER_ETP: Final = 58_000


def _forecast(project: _Project) -> list[tuple[int, str, float, str]]:
    """Forecast savings (year, nature, amount, perennial) from the year the accompaniment ends, for four years."""
    yearly = project.spec.gains * sum(ej.planned for ej in project.ejs if ej.ftap) / 3
    first = project.fin.year
    rows = [(first, "Autres", round(yearly * 0.1, -2), enums.NON)]
    for year in range(first, first + 4):
        weight = 0.25 if year == first else 1.0  # the first year is a part year
        rows.append((year, "Masse salariale", round(yearly * 0.75 * weight, -2), enums.OUI))
        rows.append((year, "Fonctionnement", round(yearly * 0.25 * weight, -2), enums.OUI))
    return sorted(rows, key=lambda r: (r[0], enums.NATURES_ECONOMIE.index(r[1])))


def _economies(project: _Project, asof: dt.date) -> list[dict[str, object]]:
    """The forecast, and what was realised in the years already over."""
    spec = project.spec
    rows: list[dict[str, object]] = []
    for year, nature, amount, perenne in _forecast(project):
        etp = round(amount / _COST_PER_ETP, 2) if nature == "Masse salariale" else None
        rows.append({"annee": year, "nature": nature, "statut": enums.PREVISIONNELLE, "montant": amount,
                     "etp": etp, "perenne": perenne})
        if year < asof.year and perenne == enums.OUI:
            realised = round(amount * spec.realise, -2)
            explanation = None
            if realised < amount and spec.explique:
                explanation = ("Redéploiement des agents décalé : départs en retraite reportés et recrutements "
                               "gelés plus tard que prévu.")
            rows.append({"annee": year, "nature": nature, "statut": enums.REALISEE, "montant": realised,
                         "etp": round(realised / _COST_PER_ETP, 2) if etp is not None else None,
                         "perenne": perenne, "explication": explanation})
    return rows


def _indicateurs(project: _Project, asof: dt.date) -> list[dict[str, object]]:
    """Each indicator moves from its reference toward its target as the project goes on."""
    spec = project.spec
    reference_date = spec.debut - dt.timedelta(days=30)
    progress = min(1.0, (asof - spec.debut).days / ((project.fin - spec.debut).days + 120))
    rows: list[dict[str, object]] = []
    for ind in spec.indicators:
        value = ind.reference + (ind.cible - ind.reference) * ind.atteinte * progress
        rows.append({
            "indicateur": ind.name, "axe": ind.axe, "unite": ind.unite, "sens": ind.sens,
            "valeur_reference": ind.reference, "date_reference": reference_date,
            "valeur_mesuree": round(value, 1), "date_mesure": asof - dt.timedelta(days=5),
            "cible": ind.cible, "methode": ind.methode,
        })
    return rows


def _phase(project: _Project, asof: dt.date) -> str:
    engaged = [ej.categorie for ej in project.ejs if ej.date <= asof]
    order = list(enums.PHASES)
    return max(engaged, key=order.index) if engaged else order[0]


def _projet(project: _Project, period: Period, version: int = 1) -> dict[str, object]:
    spec = project.spec
    return {
        "project_id": spec.pid, "intitule": spec.intitule, "period": str(period),
        "date_situation": period.last_day, "porteur": spec.porteur, "ministere": spec.ministere,
        "categorie_porteur": spec.categorie_porteur, "concert_etat": spec.concert,
        "financement_etat": spec.financement_etat, "region": spec.region,
        "phase": _phase(project, period.last_day),
        "date_cadrage": spec.debut + dt.timedelta(days=spec.cadrage_days),
        "debut": spec.debut, "fin": project.fin, "numerique": spec.numerique, "chef_projet": spec.chef,
        "courriel": spec.courriel, "version": version,
    }


def _tables(project: _Project, asof: dt.date) -> dict[str, list[dict[str, object]]]:
    return {
        "financement": _financement(project),
        "consommation": _consommation(project, asof),
        "economies": _economies(project, asof),
        "indicateurs": _indicateurs(project, asof),
    }


def _periods(first: Period, last: Period) -> list[Period]:
    out = [first]
    while out[-1] < last:
        p = out[-1]
        out.append(Period(p.year + 1, 1) if p.quarter == 4 else Period(p.year, p.quarter + 1))
    return out


# --- injected anomalies ------------------------------------------------------------------------------

#: Project whose return for the demo period is never sent.
MISSING_PROJECT: Final = "AP-2024-02"
#: Project whose return for the demo period has bad lines.
BAD_LINES_PROJECT: Final = "AP-2023-03"
#: Project that sends its return for the demo period twice.
SUPERSEDED_PROJECT: Final = "AP-2024-03"
#: Project whose return is copied with a mistyped identifier.
TYPO_PROJECT, TYPO_ID = "AP-2025-03", "AP-2025-30"
#: Project whose return is also sent as a damaged copy.
DAMAGED_PROJECT, DAMAGED_PERIOD = "AP-2023-02", Period(2025, 1)
WITHDRAWAL_PROJECT: Final = "AP-2024-01"
GAP_PROJECT: Final = "AP-2024-04"
ABSENT_PROJECT: Final = "AP-2025-03"
CORRECTION_PROJECT: Final = "AP-2024-06"


def _by_id(projects: Sequence[_Project], pid: str) -> _Project:
    return next(p for p in projects if p.spec.pid == pid)


def _inject_movements(projects: Sequence[_Project]) -> dict[str, str]:
    """Alter the simulation where the demo needs a story; returns the EJs whose reconciliation it changes."""
    expected: dict[str, str] = {}
    # A withdrawal: part of an Expérimentation order is cancelled the next year (AE < 0 in a later exercice).
    project = _by_id(projects, WITHDRAWAL_PROJECT)
    ej = next(e for e in project.ejs if e.ftap and e.categorie == "Expérimentation")
    poste = ej.postes[-1]
    engaged = poste.ae[0][1]
    cut = round(engaged * 0.12 / 10_000) * 10_000
    poste.ae.append((_weekday(dt.date(ej.date.year + 1, 2, 11)), -cut))
    for p, amount in zip(poste.payments, _split(engaged - cut, [p.cents / engaged for p in poste.payments], 100),
                         strict=True):
        p.cents = amount
    ej.withdrawal_note = "Retrait partiel : tranche optionnelle non affermie."
    # A payment Chorus records that the return forgot: an amount gap on CP.
    project = _by_id(projects, GAP_PROJECT)
    candidates = [(p.date, ej.number, p) for ej in project.ejs if ej.ftap for p in ej.payments()
                  if dt.date(2025, 1, 1) <= p.date <= CUTOFF]
    _, number, payment = max(candidates, key=lambda c: (c[0], c[1]))
    payment.declared = False
    expected[number] = enums.ECART
    # An engagement declared but not yet in Chorus.
    project = _by_id(projects, ABSENT_PROJECT)
    ej = max((e for e in project.ejs if e.ftap and e.date <= CUTOFF), key=lambda e: (e.date, e.number))
    ej.in_chorus = False
    expected[ej.number] = enums.ABSENT_DE_CHORUS
    # The extracts were downloaded in July: an engagement and a payment dated after the cut-off are in them.
    ftap = [e for p in projects for e in p.ejs if e.ftap]
    _move(min((e for e in ftap if e.date > CUTOFF), key=lambda e: (e.date, e.number)), _weekday(dt.date(2025, 7, 1)))
    _, _, late = min((p.date, e.number, p) for e in ftap if e.date <= CUTOFF for p in e.payments() if p.date > CUTOFF)
    late.date = _weekday(dt.date(2025, 7, 2))
    return expected


def _move(ej: _EJ, day: dt.date) -> None:
    """Re-date an engagement, its movements and payments keeping their intervals."""
    delta = day - ej.date
    ej.date = day
    for poste in ej.postes:
        poste.ae = [(d + delta, cents) for d, cents in poste.ae]
        for p in poste.payments:
            p.date += delta


# --- the référentiel ---------------------------------------------------------------------------------


def _referentiel_sheets(projects: Sequence[_Project]) -> dict[str, tuple[tuple[str, ...], list[tuple[object, ...]]]]:
    """Every sheet of referentiel.md: its headers and its rows."""
    enveloppes: list[tuple[object, ...]] = []
    for categorie, amounts in CONTRACT_ENVELOPES.items():
        for year, amount in zip(ENVELOPE_YEARS, amounts, strict=True):
            enveloppes.append((CONTRACT_DATE, categorie, 3, year, enums.FTAP, float(amount), float(amount)))
            enveloppes.append((CONTRACT_DATE, categorie, 3, year, "Porteur", 0.0, 0.0))
    avenant_categorie, avenant_year, avenant_amount = AVENANT
    enveloppes.append((AVENANT_DATE, avenant_categorie, 3, avenant_year, enums.FTAP, float(avenant_amount),
                       float(avenant_amount)))
    tranches: list[tuple[object, ...]] = [
        (2023, CONTRACT_DATE, 3_000_000.0, 3_000_000.0),
        (2024, dt.date(2024, 2, 15), 6_000_000.0, 6_000_000.0),
        (2025, dt.date(2025, 2, 20), 5_700_000.0, 5_400_000.0),
    ]
    projets: list[tuple[object, ...]] = [
        (p.spec.pid, p.spec.intitule, p.spec.porteur, p.spec.ministere, p.spec.selection, p.spec.cycle) for p in projects
    ]
    comites: list[tuple[object, ...]] = [(day, "Comité de pilotage du dispositif", objet) for day, objet in COMITES]
    nomenclature: list[tuple[object, ...]] = [
        ("Programme", NOM.programme), ("Centre financier", NOM.centre_financier),
        ("Domaine fonctionnel", "; ".join(NOM.domaines_fonctionnels)), ("Activité", NOM.activite),
    ]
    comptes: list[tuple[object, ...]] = [("31", 3), ("32", 3), ("51", 5), ("52", 5), ("63", 6), ("64", 6)]
    references: list[tuple[object, ...]] = []
    for project in projects[:3]:
        # The contract's forecast for its first three projects (§5.2), a little above the porteurs' current one.
        for forecast_year, nature, forecast, perenne in _forecast(project):
            if perenne == enums.OUI:
                references.append((project.spec.pid, forecast_year, nature, round(forecast * 1.1, -3),
                                   "Contrat de transformation du 31/07/2023"))
    parametres: list[tuple[object, ...]] = [(name, value) for name, value in DEFAULT_PARAMETERS.items()]
    return {
        "Enveloppes": (("Date d'effet", "Catégorie", "Titre", "Année", "Financeur", "AE (€)", "CP (€)"), enveloppes),
        "Tranches": (("Année", "Date de décision", "AE (€)", "CP (€)"), tranches),
        "Projets": (("Identifiant du projet", "Intitulé du projet", "Porteur du projet", "Ministère",
                     "Date de sélection", "Cycle"), projets),
        "Comités": (("Date", "Instance", "Objet"), comites),
        "Nomenclature": (("Code", "Valeur"), nomenclature),
        "Comptes budgétaires": (("Compte budgétaire", "Titre"), comptes),
        "Économies de référence": (("Identifiant du projet", "Année", "Nature d'économie", "Montant (€)", "Source"),
                                   references),
        "Paramètres": (("Paramètre", "Valeur"), parametres),
    }


def _write_referentiel(path: Path, projects: Sequence[_Project]) -> None:
    """One sheet per table, header on row 1; dates as dates, amounts as numbers, codes as text."""
    workbook = new_workbook(path, created=dt.datetime.combine(AVENANT_DATE, dt.time()),
                            title="Référentiel du dispositif FTAP – DITP")
    header = workbook.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#000091", "text_wrap": True})
    date_format = workbook.add_format({"num_format": DATE_FORMAT})
    amount_format = workbook.add_format({"num_format": AMOUNT_FORMAT})
    for name, (headers, rows) in _referentiel_sheets(projects).items():
        ws = workbook.add_worksheet(name)
        for col, label in enumerate(headers):
            ws.write_string(0, col, label, header)
            width = max([len(label)] + [len(str(r[col])) for r in rows if not isinstance(r[col], dt.date)])
            ws.set_column(col, col, min(70, max(12, width + 2)))
        for i, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if isinstance(value, dt.date):
                    ws.write_datetime(i, col, value, date_format)
                elif isinstance(value, float):
                    ws.write_number(i, col, value, amount_format if "€" in headers[col] else None)
                elif isinstance(value, int):
                    ws.write_number(i, col, value)
                else:
                    ws.write_string(i, col, str(value))
        ws.freeze_panes(1, 0)
    workbook.close()


# --- Chorus ------------------------------------------------------------------------------------------

AE_HEADER: Final = ("Programme", "Domaine fonctionnel", "Centre de coûts", "Référentiel de programmation", "N° EJ",
                    "Date de réplication", "N° poste EJ", "Date de dernière modif. de l'EJ",
                    "Fournisseur titulaire principal (EJ)", "", "Compte budgétaire", "Groupe de marchandises", "EUR")
CP_HEADER: Final = ("Programme", "Domaine fonctionnel", "Centre de coûts", "Référentiel de programmation", "N° EJ",
                    "N° poste EJ", "N° DP", "Date de base de la DP", "N° SF", "Date comptable du SF",
                    "Fournisseur payé (DP)", "", "Compte budgétaire", "EUR")
AE_FILE: Final = "INF-BUD-53_engagements_P0349_20250704.csv"
CP_FILE: Final = "INF-BUD-53_paiements_P0349_20250704.csv"
CHORUS_ENCODING: Final = "cp1252"
_CENTRE_COUTS: Final = "DITCDBU075"


def _dmy(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def _eur(cents: int) -> str:
    return f"{cents / 100:.2f}".replace(".", ",")


def _supplier_code(name: str) -> str:
    """A stable ten-digit Chorus supplier code (no hash randomisation: a plain checksum of the name)."""
    return str(1_000_000_000 + sum((i + 1) * ord(c) for i, c in enumerate(name)) * 97 % 900_000_000)


@dataclass(frozen=True)
class _ChorusLine:
    """A movement to write, with the imputation it carries."""

    ej: str
    poste: str
    date: dt.date
    cents: int
    supplier: str
    activite: str = FTAP_ACTIVITE
    compte: str = "31"
    groupe: str = "#"


def _chorus_lines(projects: Sequence[_Project]) -> tuple[list[_ChorusLine], list[_ChorusLine], dict[str, str]]:
    """AE and CP movements of programme 0349 up to the extraction date, with the injected discrepancies."""
    ae: list[_ChorusLine] = []
    cp: list[_ChorusLine] = []
    for project in projects:
        for ej in project.ejs:
            if not ej.ftap or not ej.in_chorus:
                continue
            groupe = _GROUPES[ej.objet]
            for poste in ej.postes:
                for day, cents in poste.ae:
                    if day <= EXTRACTION:
                        ae.append(_ChorusLine(ej.number, str(poste.number), day, cents, ej.supplier, groupe=groupe))
                for p in poste.payments:
                    if p.date <= EXTRACTION:
                        cp.append(_ChorusLine(ej.number, str(poste.number), p.date, p.cents, ej.supplier))
    expected: dict[str, str] = {}
    # A payment booked twice then cancelled: a negative correction, net zero.
    project = _by_id(list(projects), CORRECTION_PROJECT)
    numbers = {e.number for e in project.ejs}
    line = next(c for c in cp if c.ej in numbers and c.date.year == 2025 and c.date + dt.timedelta(days=12) <= CUTOFF)
    cp.append(replace(line, date=line.date + dt.timedelta(days=2)))
    cp.append(replace(line, date=_weekday(line.date + dt.timedelta(days=9)), cents=-line.cents))
    # An engagement of the dispositif that no return declares (a DITP order for a cross-project workshop).
    undeclared = "1300589412"
    ae.append(_ChorusLine(undeclared, "1", dt.date(2025, 3, 12), 4_176_000, "Atelier Lean & Co",
                          groupe="36.03.01"))
    cp.append(_ChorusLine(undeclared, "1", dt.date(2025, 5, 20), 1_392_000, "Atelier Lean & Co"))
    expected[undeclared] = enums.NON_DECLARE
    # A payment without EJ on the dispositif's activité (travel costs): AE = CP.
    cp.append(_ChorusLine("#", "#", dt.date(2025, 4, 17), 184_000, "SNCF Voyageurs", compte="31"))
    expected[enums.SANS_EJ] = enums.NON_DECLARE
    # A line of another FTAP project: programme 0349, another activité.
    other = "2104518823"
    ae.append(_ChorusLine(other, "1", dt.date(2024, 10, 8), 24_800_000, "Conseil & État", activite=OTHER_ACTIVITE,
                          groupe="36.03.01"))
    cp.append(_ChorusLine(other, "1", dt.date(2025, 2, 14), 9_920_000, "Conseil & État", activite=OTHER_ACTIVITE))
    expected[other] = enums.HORS_DISPOSITIF
    return ae, cp, expected


def _chorus_csv(title: str, header: Sequence[str], rows: list[list[str]]) -> bytes:
    """A restitution as Chorus writes it: title lines, `;`, Windows-1252, CRLF."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([title])
    writer.writerow(["Programme : 0349 - Fonds pour la transformation de l'action publique"])
    writer.writerow([f"Date d'extraction : {_dmy(EXTRACTION)} 06:12:45"])
    writer.writerow([])
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(CHORUS_ENCODING)


def _write_chorus(folder: Path, projects: Sequence[_Project], rng: random.Random) -> tuple[list[Path], dict[str, str]]:
    ae, cp, expected = _chorus_lines(projects)
    last_change: dict[str, dt.date] = defaultdict(lambda: dt.date(1990, 1, 1))
    for line in ae:
        last_change[line.ej] = max(last_change[line.ej], line.date)

    def domaine() -> str:
        return rng.choice(("0349-01", "0349-01", "BG00/0349-01"))

    def activite(code: str) -> str:
        return f"BG00/{code}" if rng.random() < 0.35 else code

    ae_rows = []
    for line in sorted(ae, key=lambda c: (c.date, c.ej, c.poste, c.cents)):
        ae_rows.append(["0349", domaine(), rng.choice((_CENTRE_COUTS, _CENTRE_COUTS, "#")), activite(line.activite),
                        line.ej, _dmy(line.date), line.poste,
                        _dmy(min(EXTRACTION, last_change[line.ej] + dt.timedelta(days=rng.randint(0, 6)))),
                        _supplier_code(line.supplier), line.supplier.upper(), line.compte, line.groupe,
                        _eur(line.cents)])
    cp_rows = []
    for n, line in enumerate(sorted(cp, key=lambda c: (c.date, c.ej, c.poste, c.cents)), start=1):
        base = max(dt.date(line.date.year, 1, 1), line.date - dt.timedelta(days=rng.randint(3, 20)))
        cp_rows.append([rng.choice(("0349", "0349", "349")), domaine(), rng.choice((_CENTRE_COUTS, "#")),
                        activite(line.activite), line.ej, line.poste, str(1_000_200_000 + n * 37),
                        _dmy(base), str(5_000_400_000 + n * 53), _dmy(line.date),
                        _supplier_code(line.supplier), line.supplier.upper(), line.compte, _eur(line.cents)])
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / AE_FILE, folder / CP_FILE]
    paths[0].write_bytes(_chorus_csv("Pilotage de la gestion - vue détaillée (INF-BUD-53) - Engagements juridiques",
                                     AE_HEADER, ae_rows))
    paths[1].write_bytes(_chorus_csv("Pilotage de la gestion - vue détaillée (INF-BUD-53) - Paiements",
                                     CP_HEADER, cp_rows))
    return paths, expected


# --- the returns -------------------------------------------------------------------------------------


def _file_name(spec: _Spec, period: Period, suffix: str = "") -> str:
    return spec.file_style.format(pid=spec.pid, period=period) + suffix + ".xlsx"


def _bad_lines(tables: dict[str, list[dict[str, object]]]) -> None:
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


def _write_returns(folder: Path, projects: Sequence[_Project]) -> tuple[dict[str, str], dict[tuple[int, str], float]]:
    """Every quarterly return, then the faulty files; returns the expected statuses and the FTAP AE declared."""
    folder.mkdir(parents=True, exist_ok=True)
    statuses: dict[str, str] = {}
    ftap_ae: dict[tuple[int, str], float] = defaultdict(float)
    for project in projects:
        spec = project.spec
        periods = _periods(Period.of(spec.debut), PERIOD)
        if spec.pid == MISSING_PROJECT:
            periods = periods[:-1]
        for period in periods:
            tables = _tables(project, period.last_day)
            projet = _projet(project, period)
            name = _file_name(spec, period)
            status = RETENUE
            if spec.pid == BAD_LINES_PROJECT and period == PERIOD:
                _bad_lines(tables)
                status = AVEC_ANOMALIES
            if spec.pid == SUPERSEDED_PROJECT and period == PERIOD:
                early = _tables(project, period.last_day - dt.timedelta(days=45))
                if early == tables:
                    raise RuntimeError("the superseded version must differ from the one that stands")
                write_return(folder / name, projet, early)
                statuses[name] = REMPLACEE
                name, projet = _file_name(spec, period, " v2"), {**projet, "version": 2}
            write_return(folder / name, projet, tables)
            statuses[name] = status
            if spec.pid == TYPO_PROJECT and period == PERIOD:
                typo_name = f"{TYPO_ID}_{period}.xlsx"
                write_return(folder / typo_name, {**projet, "project_id": TYPO_ID}, tables)
                statuses[typo_name] = REJETEE
            if spec.pid == DAMAGED_PROJECT and period == DAMAGED_PERIOD:
                damaged = _file_name(spec, period, " (2)")
                data = (folder / name).read_bytes()
                (folder / damaged).write_bytes(data[: len(data) * 3 // 5])  # an interrupted download
                statuses[damaged] = REJETEE
        standing = periods[-1].last_day
        for ej in project.ejs:
            if ej.ftap:
                for day, cents in ej.ae_moves():
                    if day <= standing and cents > 0:
                        ftap_ae[(day.year, ej.categorie)] += cents / 100
    return statuses, {k: round(v, 2) for k, v in sorted(ftap_ae.items())}


def write_demo(dest: Path) -> DemoSummary:
    """Write the demo inputs under `dest` (reference/, remontees/, chorus/) and say what a run should find."""
    projects, sim = _simulate()
    expected = _inject_movements(projects)
    referentiel = dest / "reference" / "referentiel.xlsx"
    referentiel.parent.mkdir(parents=True, exist_ok=True)
    _write_referentiel(referentiel, projects)
    statuses, ftap_ae = _write_returns(dest / "remontees", projects)
    chorus, chorus_expected = _write_chorus(dest / "chorus", projects, sim.rng)
    expected.update(chorus_expected)
    returns = tuple(sorted(dest / "remontees" / name for name in statuses))
    return DemoSummary(
        root=dest,
        referentiel=referentiel,
        returns=returns,
        chorus=tuple(chorus),
        period=str(PERIOD),
        expected_statuses=MappingProxyType(dict(sorted(statuses.items()))),
        missing_returns=((MISSING_PROJECT, str(PERIOD)),),
        reconciliation=MappingProxyType(expected),
        ftap_ae=MappingProxyType(ftap_ae),
    )
