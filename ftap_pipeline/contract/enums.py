"""Enumerations of the data contract: one source for the schemas, the template's lists and the docs."""

from __future__ import annotations

from typing import Final

#: Expense categories (the contract's CADRAGE, EXPERIMENTATION/POC/LOT1, GENERALISATION/LOT2).
CATEGORIES: Final = ("Cadrage", "Expérimentation", "Généralisation")

#: The contract's own label of each category, used in the §2 financing table.
CONTRACT_CATEGORY_LABELS: Final = {
    "Cadrage": "CADRAGE",
    "Expérimentation": "EXPERIMENTATION/POC/LOT1",
    "Généralisation": "GENERALISATION/LOT2",
}

#: Other unambiguous spellings of list values, as the contract writes them: alias → canonical value.
ALIASES: Final = {
    "CADRAGE": "Cadrage",
    "EXPERIMENTATION/POC/LOT1": "Expérimentation",
    "POC": "Expérimentation",
    "LOT1": "Expérimentation",
    "LOT 1": "Expérimentation",
    "GENERALISATION/LOT2": "Généralisation",
    "LOT2": "Généralisation",
    "LOT 2": "Généralisation",
}

#: Project phases share the category values.
PHASES: Final = CATEGORIES

#: Budget titres ("nature de dépenses de niveau budgétaire"): 3 fonctionnement, 5 investissement, 6 intervention.
TITRES: Final = (3, 5, 6)

OBJETS: Final = (
    "Prestations intellectuelles",
    "Automatisation et robotisation",
    "Formation et conduite du changement",
    "Autres dépenses",
)

FTAP: Final = "FTAP"
FINANCEURS: Final = (FTAP, "Porteur", "Co-porteur")
CO_FINANCEURS: Final = ("Porteur", "Co-porteur")

CAT_CENTRALE: Final = "État – administration centrale"
CAT_DECONCENTRE: Final = "État – service déconcentré"
CAT_OPERATEUR: Final = "Opérateur de l'État"
CAT_APUL: Final = "Administration publique locale"
CAT_ASSO: Final = "Organisme de sécurité sociale"
CAT_PRIVE: Final = "Personne morale de droit privé chargée d'une mission de service public"
CATEGORIES_PORTEUR: Final = (CAT_CENTRALE, CAT_DECONCENTRE, CAT_OPERATEUR, CAT_APUL, CAT_ASSO, CAT_PRIVE)

#: The 18 French regions, official names.
REGIONS: Final = (
    "Auvergne-Rhône-Alpes",
    "Bourgogne-Franche-Comté",
    "Bretagne",
    "Centre-Val de Loire",
    "Corse",
    "Grand Est",
    "Hauts-de-France",
    "Île-de-France",
    "Normandie",
    "Nouvelle-Aquitaine",
    "Occitanie",
    "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur",
    "Guadeloupe",
    "Martinique",
    "Guyane",
    "La Réunion",
    "Mayotte",
)

OUI: Final = "Oui"
NON: Final = "Non"
OUI_NON: Final = (OUI, NON)

NATURES_ECONOMIE: Final = ("Masse salariale", "Fonctionnement", "Immobilier", "Autres")
PREVISIONNELLE: Final = "Prévisionnelle"
REALISEE: Final = "Réalisée"
STATUTS_ECONOMIE: Final = (PREVISIONNELLE, REALISEE)

AXE_QUALITE: Final = "Qualité de service usager"
AXE_TRAVAIL: Final = "Conditions de travail des agents"
AXES: Final = (AXE_QUALITE, AXE_TRAVAIL)
SENS: Final = ("Hausse", "Baisse")
METHODES: Final = ("Statistique directe", "Enquête", "Sondage", "Autre")

#: Years a return may carry in `Financement` (remontee-v1).
ANNEE_MIN: Final = 2023
ANNEE_MAX: Final = 2030

# Statuses of a return (sorties-v1).
RETENUE: Final = "Retenue"
RETENUE_AVEC_ANOMALIES: Final = "Retenue avec anomalies"
REJETEE: Final = "Rejetée"
REMPLACEE: Final = "Remplacée"
RETURN_STATUSES: Final = (RETENUE, RETENUE_AVEC_ANOMALIES, REJETEE, REMPLACEE)

# Statuses of a reconciliation line (chorus.md), in the order in which they apply.
IMPUTATION_ERRONEE: Final = "Imputation erronée"
ABSENT_DE_CHORUS: Final = "Absent de Chorus"
NON_DECLARE: Final = "Non déclaré"
ECART: Final = "Écart"
CONCORDANT: Final = "Concordant"
HORS_DISPOSITIF: Final = "Hors dispositif"
RECONCILIATION_STATUSES: Final = (
    IMPUTATION_ERRONEE,
    ABSENT_DE_CHORUS,
    NON_DECLARE,
    ECART,
    CONCORDANT,
    HORS_DISPOSITIF,
)
SANS_EJ: Final = "(sans EJ)"
