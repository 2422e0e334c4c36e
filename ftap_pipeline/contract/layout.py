"""The return workbook's layout (remontee-v1): sheets, fields, labels and kinds.

The template generator, the reader's label matching, the pandera schemas and the documentation all
read this module, so a label is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Final

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.labels import normalise_label
from ftap_pipeline.contract.tables import Pick, TableLayout


class Kind(StrEnum):
    """How a cell's raw value is turned into a typed value."""

    TEXT = "text"
    INT = "int"
    AMOUNT = "amount"  # signed euros, at most 2 decimals
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"  # one of `choices`, matched tolerantly
    YESNO = "yesno"
    TITRE = "titre"  # 3, 5 or 6, typed as a number or a text
    EJ = "ej"  # ten digits, kept as text
    EMAIL = "email"
    PROJECT_ID = "project_id"
    PERIOD = "period"


@dataclass(frozen=True)
class Field:
    """One column of a table sheet, or one row of the `Projet` form."""

    key: str
    label: str
    kind: Kind
    description: str
    required: bool = True
    choices: tuple[str, ...] | tuple[int, ...] = ()
    #: Format code of the template's column (an Excel number format).
    number_format: str = ""
    width: int = 18


@dataclass(frozen=True)
class SheetLayout:
    """A sheet of the return workbook."""

    key: str
    name: str
    fields: tuple[Field, ...]
    is_form: bool = False
    #: Missing sheet: True → the return is rejected; False → a warning.
    blocking: bool = False
    counts_lines: bool = True
    aliases: tuple[str, ...] = field(default_factory=tuple)

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @cached_property
    def label_index(self) -> dict[str, Field]:
        return {normalise_label(f.label): f for f in self.fields}

    @cached_property
    def table(self) -> TableLayout:
        """The header of a table sheet: the row among the first ten that names the most fields, two at least."""
        return TableLayout(self.name, {f.key: (f.label,) for f in self.fields}, min_hits=2, search_rows=10,
                           pick=Pick.BEST)


AMOUNT_FORMAT: Final = '#,##0.00 "€"'
DATE_FORMAT: Final = "dd/mm/yyyy"

_CAT = Field("categorie", "Catégorie", Kind.CHOICE, "Catégorie de dépense du contrat (§2).", choices=enums.CATEGORIES)
_TITRE = Field("titre", "Titre", Kind.TITRE, "Titre budgétaire : 3 fonctionnement, 5 investissement, 6 intervention.",
               choices=enums.TITRES, width=8)
_OBJET = Field("objet", "Objet de la dépense", Kind.CHOICE, "Objet de la dépense.", choices=enums.OBJETS, width=30)
_FINANCEUR = Field("financeur", "Financeur", Kind.CHOICE, "Qui finance la ligne : FTAP, porteur ou co-porteur.",
                   choices=enums.FINANCEURS, width=12)

PROJET: Final = SheetLayout(
    key="projet",
    name="Projet",
    is_form=True,
    blocking=True,
    counts_lines=False,
    fields=(
        Field("project_id", "Identifiant du projet", Kind.PROJECT_ID,
              "Identifiant AP-AAAA-NN (ou AP-AAAA-NNN) attribué par le comité de pilotage ; doit figurer au référentiel."),
        Field("intitule", "Intitulé du projet", Kind.TEXT, "Intitulé du projet."),
        Field("period", "Période de remontée", Kind.PERIOD, "Trimestre de la remontée, au format AAAA-Tn."),
        Field("date_situation", "Date de situation", Kind.DATE,
              "Date à laquelle les tableaux cumulés sont arrêtés ; dans le trimestre, normalement son dernier jour."),
        Field("porteur", "Porteur du projet", Kind.TEXT, "Administration qui porte le projet."),
        Field("ministere", "Ministère", Kind.TEXT, "Ministère de rattachement."),
        Field("categorie_porteur", "Catégorie de porteur", Kind.CHOICE, "Statut du porteur au sens du §4.3.",
              choices=enums.CATEGORIES_PORTEUR),
        Field("concert_etat", "Conduit de concert avec l'État", Kind.YESNO,
              "Oui attendu pour une administration locale ou un organisme de sécurité sociale (§4.3)."),
        Field("financement_etat", "Financement majoritaire de l'État", Kind.YESNO,
              "Oui attendu pour une personne morale de droit privé (§4.3)."),
        Field("region", "Région", Kind.CHOICE, "Région (nom officiel).", choices=enums.REGIONS),
        Field("phase", "Phase", Kind.CHOICE, "Phase du projet.", choices=enums.PHASES),
        Field("date_cadrage", "Date du document de cadrage", Kind.DATE,
              "Date du document de cadrage ; attendue avant le début de l'accompagnement (§4.3)."),
        Field("debut", "Début de l'accompagnement", Kind.DATE, "Début de l'accompagnement DITP."),
        Field("fin", "Fin de l'accompagnement", Kind.DATE,
              "Fin prévue ou effective ; au plus 6 mois calendaires après le début (§4.1)."),
        Field("numerique", "Projet numérique", Kind.YESNO, "Le projet est-il spécifiquement numérique ?"),
        Field("chef_projet", "Chef de projet", Kind.TEXT, "Nom du chef de projet."),
        Field("courriel", "Courriel du chef de projet", Kind.EMAIL, "Adresse à laquelle le retour d'anomalies est envoyé."),
        Field("version", "Version", Kind.INT, "Numéro de version de la remontée (1 si absent) ; la plus haute l'emporte.",
              required=False),
    ),
)

FINANCEMENT: Final = SheetLayout(
    key="financement",
    name="Financement",
    fields=(
        Field("annee", "Année", Kind.INT, "Année du besoin de financement (2023 à 2030).", width=8),
        _CAT,
        _TITRE,
        _OBJET,
        _FINANCEUR,
        Field("ae", "AE (€)", Kind.AMOUNT, "Autorisations d'engagement prévues, en euros TTC.", number_format=AMOUNT_FORMAT),
        Field("cp", "CP (€)", Kind.AMOUNT, "Crédits de paiement prévus, en euros TTC.", number_format=AMOUNT_FORMAT),
    ),
)

CONSOMMATION: Final = SheetLayout(
    key="consommation",
    name="Consommation",
    blocking=True,
    fields=(
        Field("ej", "N° EJ", Kind.EJ, "Numéro d'engagement juridique Chorus, 10 chiffres.", number_format="@", width=13),
        Field("exercice", "Exercice", Kind.INT, "Année des mouvements portés par la ligne.", width=10),
        Field("date_ej", "Date de l'EJ", Kind.DATE, "Date de l'engagement juridique.", number_format=DATE_FORMAT, width=12),
        Field("fournisseur", "Fournisseur", Kind.TEXT, "Titulaire de l'engagement.", width=28),
        _CAT,
        _TITRE,
        _OBJET,
        _FINANCEUR,
        Field("centre_financier", "Centre financier", Kind.TEXT,
              "Pour une ligne FTAP : le centre financier du référentiel (0349-CDBU-DITP).", width=16),
        Field("domaine_fonctionnel", "Domaine fonctionnel", Kind.TEXT,
              "Pour une ligne FTAP : un domaine fonctionnel accepté par le référentiel.", width=16),
        Field("activite", "Activité", Kind.TEXT, "Pour une ligne FTAP : l'activité du référentiel (03490101B501).",
              width=16),
        Field("ae", "AE engagées (€)", Kind.AMOUNT, "AE engagées sur l'EJ dans l'exercice ; négatif pour un retrait.",
              number_format=AMOUNT_FORMAT),
        Field("cp", "CP payés (€)", Kind.AMOUNT, "CP payés sur l'EJ dans l'exercice.", number_format=AMOUNT_FORMAT),
        Field("commentaire", "Commentaire", Kind.TEXT, "Commentaire libre.", required=False, width=30),
    ),
)

ECONOMIES: Final = SheetLayout(
    key="economies",
    name="Économies",
    fields=(
        Field("annee", "Année", Kind.INT, "Année de l'économie.", width=8),
        Field("nature", "Nature d'économie", Kind.CHOICE, "Nature de l'économie.", choices=enums.NATURES_ECONOMIE),
        Field("statut", "Statut", Kind.CHOICE, "Prévisionnelle ou réalisée.", choices=enums.STATUTS_ECONOMIE),
        Field("montant", "Montant (€)", Kind.AMOUNT, "Montant de l'économie, en euros.", number_format=AMOUNT_FORMAT),
        Field("etp", "ETP", Kind.NUMBER, "Équivalents temps plein libérés.", required=False, number_format="0.00",
              width=8),
        Field("perenne", "Pérenne", Kind.YESNO, "Seules les économies pérennes comptent pour le ROI.", width=9),
        Field("explication", "Explication de l'écart", Kind.TEXT,
              "Attendue quand le réalisé d'une année passée est inférieur au prévisionnel (§7).", required=False,
              width=40),
    ),
)

INDICATEURS: Final = SheetLayout(
    key="indicateurs",
    name="Indicateurs",
    fields=(
        Field("indicateur", "Indicateur", Kind.TEXT, "Nom de l'indicateur.", width=36),
        Field("axe", "Axe", Kind.CHOICE, "Qualité de service usager ou conditions de travail des agents.",
              choices=enums.AXES, width=30),
        Field("unite", "Unité", Kind.TEXT, "Unité de mesure (jours, %, nombre…).", width=10),
        Field("sens", "Sens d'amélioration", Kind.CHOICE, "Hausse ou baisse.", choices=enums.SENS, width=12),
        Field("valeur_reference", "Valeur de référence", Kind.NUMBER, "Valeur avant le projet.", number_format="0.00"),
        Field("date_reference", "Date de référence", Kind.DATE, "Date de la valeur de référence.",
              number_format=DATE_FORMAT, width=12),
        Field("valeur_mesuree", "Valeur mesurée", Kind.NUMBER, "Dernière valeur mesurée.", number_format="0.00"),
        Field("date_mesure", "Date de mesure", Kind.DATE, "Date de la mesure, postérieure à la date de référence.",
              number_format=DATE_FORMAT, width=12),
        Field("cible", "Cible", Kind.NUMBER, "Valeur visée.", required=False, number_format="0.00"),
        Field("methode", "Méthode de mesure", Kind.CHOICE, "Méthode de mesure (§4.3).", choices=enums.METHODES),
    ),
)

#: Table sheets, in workbook order.
TABLE_SHEETS: Final = (FINANCEMENT, CONSOMMATION, ECONOMIES, INDICATEURS)
SHEETS: Final = (PROJET, *TABLE_SHEETS)
SHEETS_BY_KEY: Final = {s.key: s for s in SHEETS}

#: Name of the instructions sheet of the template (an extra sheet the reader knows and ignores silently).
INSTRUCTIONS_SHEET: Final = "Instructions"
LISTS_SHEET: Final = "Listes"
#: The hidden sheet of a personal template: what `ftap check` needs of the référentiel, offline.
SNAPSHOT_SHEET: Final = "Référentiel du projet"
KNOWN_EXTRA_SHEETS: Final = (INSTRUCTIONS_SHEET, LISTS_SHEET, SNAPSHOT_SHEET)
#: The template's helper sheets (its instructions and its lists), folded: no verdict depends on their cells,
#: so the readers of a run and of `ftap check` alike do not build them (`workbook_reader.read_workbook`). A
#: personal template's snapshot is read: `ftap check` needs it.
UNREAD_SHEETS: Final = frozenset(normalise_label(n) for n in (INSTRUCTIONS_SHEET, LISTS_SHEET))

#: Headers of the `Projet` form.
FORM_HEADERS: Final = ("Champ", "Valeur")
