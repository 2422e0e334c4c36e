"""The demo portfolio as fixed data: the projects, the référentiel's content, the envelopes, the fault plan.

Nothing here computes. `simulation` unfolds these descriptions into engagements and payments,
`faults` reads the plan at the bottom, `referentiel` lays the dispositif's tables out. A value
changed here changes the committed `inputs/`: regenerate them with `ftap demo`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.referentiel import Nomenclature
from ftap_pipeline.core.period import Period

SEED: Final = 349
#: The demo's last reporting period and its cut-off.
PERIOD: Final = Period(2025, 2)
CUTOFF: Final = PERIOD.last_day
#: The Chorus extracts were downloaded a few days after the quarter: they carry some later movements.
EXTRACTION: Final = dt.date(2025, 7, 4)
#: The time of day the extracts' title line gives.
EXTRACTION_TIME: Final = dt.time(6, 12, 45)
CONTRACT_DATE: Final = dt.date(2023, 7, 31)
AVENANT_DATE: Final = dt.date(2025, 3, 15)

NOM: Final = Nomenclature()
FTAP_CF: Final = NOM.centre_financier
FTAP_ACTIVITE: Final = NOM.activite
#: Another FTAP project's activité on programme 0349: its lines are "Hors dispositif".
OTHER_ACTIVITE: Final = "03490102C201"


# --- the projects ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
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
class ProjectSpec:
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
    indicators: tuple[Indicator, ...]
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


def _quality(what: str, ref: float, cible: float, atteinte: float = 0.9) -> Indicator:
    return Indicator(f"{_DEL} {what}", Q, "jours", "Baisse", ref, cible, "Statistique directe", atteinte)


def _work(ref: float, cible: float, atteinte: float = 0.9) -> Indicator:
    return Indicator(_SAT, W, "%", "Hausse", ref, cible, "Enquête", atteinte)


def _stock(ref: float, cible: float) -> Indicator:
    return Indicator(_STOCK, Q, "nombre", "Baisse", ref, cible, "Statistique directe")


D = dt.date
SPECS: Final[tuple[ProjectSpec, ...]] = (
    ProjectSpec("AP-2023-01", "Réduction des délais de délivrance des titres de séjour", "Préfecture du Rhône",
                "Ministère de l'Intérieur", "Auvergne-Rhône-Alpes", enums.CAT_DECONCENTRE, D(2023, 7, 6), "2023-C1",
                D(2023, 9, 4), 5, 900_000, 0.5, "Claire Morel", "claire.morel@rhone.gouv.fr",
                ("0354-DR69-DP69", "0354-02", "035402010101"),
                (_quality("d'une demande de titre de séjour", 62, 35), _work(46, 60), _stock(4_800, 2_500)),
                realise=0.85),
    ProjectSpec("AP-2023-02", "Automatisation du traitement des demandes de remise gracieuse", "DDFiP de la Gironde",
                "Ministère de l'Économie et des Finances", "Nouvelle-Aquitaine", enums.CAT_DECONCENTRE, D(2023, 9, 21),
                "2023-C2", D(2023, 10, 2), 5, 600_000, 0.5, "Julien Lefèvre", "julien.lefevre@dgfip.finances.gouv.fr",
                ("0156-DR33-DD33", "0156-05", "015605010101"),
                (_quality("d'une demande de remise gracieuse", 48, 20), _work(52, 65)),
                domaine_ftap="0349-0101B501", numerique=enums.OUI, realise=0.72, explique=False,
                file_style="DDFiP33_remontee_FTAP_{period}"),
    ProjectSpec("AP-2023-03", "Lean management de l'instruction des demandes d'activité partielle",
                "DREETS Hauts-de-France", "Ministère du Travail et de l'Emploi", "Hauts-de-France",
                enums.CAT_DECONCENTRE, D(2023, 9, 21), "2023-C2", D(2023, 11, 6), 6, 1_200_000, 0.5, "Sophie Dubois",
                "sophie.dubois@dreets.gouv.fr", ("0155-DR59-DR59", "0155-12", "015512010101"),
                (_quality("d'une demande d'autorisation d'activité partielle", 21, 10), _work(41, 55)),
                realise=1.1),
    ProjectSpec("AP-2024-01", "Robotisation de l'instruction des aides de la politique agricole commune",
                "DDT de la Marne", "Ministère de l'Agriculture et de la Souveraineté alimentaire", "Grand Est",
                enums.CAT_DECONCENTRE, D(2024, 1, 11), "2024-C1", D(2024, 1, 15), 5, 1_500_000, 0.5, "Thomas Girard",
                "thomas.girard@marne.gouv.fr", ("0215-DR51-DD51", "0215-02", "021502010101"),
                (_quality("d'un dossier d'aide PAC", 95, 60), _work(38, 55), _stock(1_900, 900)),
                co_porteur=("Agence de services et de paiement", ("ASP-DRGE", "ASP-PAC", "ASP-PAC-2024")),
                numerique=enums.OUI, realise=0.95),
    ProjectSpec("AP-2024-02", "Accélération de l'instruction des autorisations environnementales", "DREAL Occitanie",
                "Ministère de la Transition écologique", "Occitanie", enums.CAT_DECONCENTRE, D(2024, 1, 11), "2024-C1",
                D(2024, 3, 4), 6, 800_000, 0.4, "Nicolas Fabre", "nicolas.fabre@developpement-durable.gouv.fr",
                ("0217-DR31-DR31", "0217-07", "021707010101"),
                (_quality("d'une autorisation environnementale", 310, 240), _work(44, 55))),
    ProjectSpec("AP-2024-03", "Refonte du circuit de paiement des frais de justice", "Cour d'appel de Douai",
                "Ministère de la Justice", "Hauts-de-France", enums.CAT_DECONCENTRE, D(2024, 3, 14), "2024-C2",
                D(2024, 4, 2), 8, 1_600_000, 0.5, "Isabelle Caron", "isabelle.caron@justice.fr",
                ("0166-CADO-SAR", "0166-03", "016603010101"),
                (_quality("de paiement d'un mémoire de frais de justice", 88, 30), _work(35, 50)),
                realise=0.9, file_style="Remontee FTAP - SAR Douai - {period}"),
    ProjectSpec("AP-2024-04", "Automatisation de la gestion des frais de déplacement", "GSBdD de Brest",
                "Ministère des Armées", "Bretagne", enums.CAT_DECONCENTRE, D(2024, 3, 14), "2024-C2", D(2024, 6, 3), 5,
                1_000_000, 0.5, "Yann Le Goff", "yann.le-goff@intradef.gouv.fr",
                ("0178-GSBD-BRST", "0178-04", "017804010101"),
                (_quality("de remboursement d'un ordre de mission", 34, 12), _work(49, 62)),
                cadrage_days=20, numerique=enums.OUI, realise=1.05),
    ProjectSpec("AP-2024-05", "Dématérialisation de l'instruction des demandes de RSA", "Conseil départemental du Nord",
                "Ministère du Travail, de la Santé et des Solidarités", "Hauts-de-France", enums.CAT_APUL,
                D(2024, 6, 27), "2024-C3", D(2024, 9, 2), 6, 700_000, 0.5, "Amélie Vasseur", "amelie.vasseur@lenord.fr",
                ("CD59-DGAS", "011-6228", "RSA-DEMAT"),
                (_quality("d'ouverture des droits au RSA", 41, 25, atteinte=0.8), _work(47, 58, atteinte=-0.3)),
                concert=enums.NON, financement_etat=enums.NON, gains=1.1),
    ProjectSpec("AP-2024-06", "Optimisation du traitement des demandes de titres (cartes grises et permis)",
                "CERT de Nantes", "Ministère de l'Intérieur", "Pays de la Loire", enums.CAT_CENTRALE, D(2024, 6, 27),
                "2024-C3", D(2024, 10, 7), 6, 2_400_000, 0.5, "Marc Bertin", "marc.bertin@interieur.gouv.fr",
                ("0354-CERT-NANT", "0354-03", "035403010101"),
                (_quality("d'un dossier de certificat d'immatriculation", 17, 7), _work(43, 56), _stock(26_000, 9_000)),
                co_porteur=("Agence nationale des titres sécurisés", ("ANTS-DSI", "ANTS-TITRES", "ANTS-CERT-2024")),
                numerique=enums.OUI, gains=0.85, file_style="{period}_CERT-Nantes_{pid}"),
    ProjectSpec("AP-2025-01", "Automatisation de l'instruction des demandes d'allocation pour demandeur d'asile",
                "Office français de l'immigration et de l'intégration", "Ministère de l'Intérieur", "Île-de-France",
                enums.CAT_OPERATEUR, D(2024, 11, 28), "2025-C1", D(2025, 1, 13), 6, 1_800_000, 0.5, "Karim Benali",
                "karim.benali@ofii.fr", ("0303-OFII-SIEG", "0303-02", "030302010101"),
                (_quality("d'ouverture des droits à l'allocation", 29, 12), _work(40, 52)), numerique=enums.OUI),
    ProjectSpec("AP-2025-02", "Lean management de la délivrance des autorisations de travail", "DREETS Île-de-France",
                "Ministère du Travail et de l'Emploi", "Île-de-France", enums.CAT_DECONCENTRE, D(2024, 11, 28),
                "2025-C1", D(2025, 3, 3), 5, 900_000, 0.0, "Élodie Martin", "elodie.martin@dreets.gouv.fr",
                ("0155-DR75-DR75", "0155-12", "015512010101"),
                (_quality("d'une autorisation de travail", 56, 30, atteinte=0.0), _work(39, 50, atteinte=0.6))),
    ProjectSpec("AP-2025-03", "Amélioration du suivi des contrôles sanitaires en abattoirs", "DDPP du Finistère",
                "Ministère de l'Agriculture et de la Souveraineté alimentaire", "Bretagne", enums.CAT_DECONCENTRE,
                D(2025, 2, 13), "2025-C2", D(2025, 4, 7), 5, 1_200_000, 0.55, "Gwenaëlle Riou",
                "gwenaelle.riou@finistere.gouv.fr", ("0206-DD29-DD29", "0206-01", "020601010101"),
                (_quality("de clôture d'un rapport d'inspection", 24, 10), _work(45, 57))),
)

# --- the référentiel and the envelopes ---------------------------------------------------------------

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
#: The yearly tranches: (year, decision date, AE, CP).
TRANCHES: Final = (
    (2023, CONTRACT_DATE, 3_000_000.0, 3_000_000.0),
    (2024, D(2024, 2, 15), 6_000_000.0, 6_000_000.0),
    (2025, D(2025, 2, 20), 5_700_000.0, 5_400_000.0),
)
#: Comptes budgétaires and their titre.
COMPTES: Final = (("31", 3), ("32", 3), ("51", 5), ("52", 5), ("63", 6), ("64", 6))

# --- what the money buys -----------------------------------------------------------------------------

# What each category buys, for the FTAP and for the co-financers: (objet, titre, share).
FTAP_OBJETS: Final[dict[str, tuple[tuple[str, int, float], ...]]] = {
    "Cadrage": (("Prestations intellectuelles", 3, 1.0),),
    "Expérimentation": (("Prestations intellectuelles", 3, 0.6), ("Automatisation et robotisation", 3, 0.4)),
    "Généralisation": (("Automatisation et robotisation", 3, 0.5), ("Formation et conduite du changement", 3, 0.3),
                       ("Prestations intellectuelles", 3, 0.2)),
}
COFIN_OBJETS: Final[dict[str, tuple[tuple[str, int, float], ...]]] = {
    "Cadrage": (("Prestations intellectuelles", 3, 1.0),),
    "Expérimentation": (("Automatisation et robotisation", 5, 1.0),),
    "Généralisation": (("Formation et conduite du changement", 3, 0.6), ("Autres dépenses", 5, 0.4)),
}
#: When, as a share of the accompaniment, each category's engagements are signed.
TIMING: Final = {"Cadrage": (0.0, 0.12), "Expérimentation": (0.2, 0.45), "Généralisation": (0.55, 0.95)}
SUPPLIERS: Final[dict[str, tuple[str, ...]]] = {
    "Prestations intellectuelles": ("Kaizen Public Conseil", "Atelier Lean & Co", "Orbe Conseil", "Processia",
                                    "Nexa Transformation"),
    "Automatisation et robotisation": ("Robotix Services", "Automatia", "Datacité", "Logiflux Solutions"),
    "Formation et conduite du changement": ("Formatis Formation", "Institut Agilité Publique", "Transitions RH"),
    "Autres dépenses": ("UGAP", "Bureau Équipement Pro", "Infogérance Ouest"),
}
GROUPES: Final = {"Prestations intellectuelles": "36.03.01", "Automatisation et robotisation": "20.01.03",
                  "Formation et conduite du changement": "37.02.01", "Autres dépenses": "18.01.02"}
#: Yearly cost of one ETP, to turn payroll savings into ETP.
COST_PER_ETP: Final = 58_000

# --- the fault plan: which returns and discrepancies the demo injects --------------------------------

# Expected statuses (sorties-v1).
RETENUE, AVEC_ANOMALIES, REJETEE, REMPLACEE = (enums.RETENUE, enums.RETENUE_AVEC_ANOMALIES, enums.REJETEE,
                                               enums.REMPLACEE)

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
#: Project with a partial withdrawal of an FTAP engagement.
WITHDRAWAL_PROJECT: Final = "AP-2024-01"
#: Project whose return forgets a payment Chorus records.
GAP_PROJECT: Final = "AP-2024-04"
#: Project declaring an engagement not yet in Chorus.
ABSENT_PROJECT: Final = "AP-2025-03"
#: Project with a payment booked twice in Chorus, then cancelled.
CORRECTION_PROJECT: Final = "AP-2024-06"
