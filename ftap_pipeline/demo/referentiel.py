"""The demo's référentiel: the dispositif's tables (referentiel.md) built from the specs and the simulation.

Only the contents are built here; `io.referentiel_writer` lays them out in the workbook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.referentiel import DEFAULT_PARAMETERS, OPTIONAL_PARAMETERS
from ftap_pipeline.demo.model import Project
from ftap_pipeline.demo.returns import forecast
from ftap_pipeline.demo.specs import (
    AVENANT,
    AVENANT_DATE,
    COMITES,
    COMPTES,
    CONTRACT_DATE,
    CONTRACT_ENVELOPES,
    ENVELOPE_YEARS,
    NOM,
    TRANCHES,
)
from ftap_pipeline.io.referentiel_writer import Sheet, write_referentiel

TITLE: Final = "Référentiel du dispositif FTAP – DITP"
#: The référentiel's creation date: the avenant's, its last change.
CREATED: Final = dt.datetime.combine(AVENANT_DATE, dt.time())


def referentiel_sheets(projects: Sequence[Project]) -> dict[str, Sheet]:
    """Every sheet of referentiel.md: its headers and its rows."""
    enveloppes: list[tuple[object, ...]] = []
    for categorie, amounts in CONTRACT_ENVELOPES.items():
        for year, amount in zip(ENVELOPE_YEARS, amounts, strict=True):
            enveloppes.append((CONTRACT_DATE, categorie, 3, year, enums.FTAP, float(amount), float(amount)))
            enveloppes.append((CONTRACT_DATE, categorie, 3, year, "Porteur", 0.0, 0.0))
    avenant_categorie, avenant_year, avenant_amount = AVENANT
    enveloppes.append((AVENANT_DATE, avenant_categorie, 3, avenant_year, enums.FTAP, float(avenant_amount),
                       float(avenant_amount)))
    tranches: list[tuple[object, ...]] = list(TRANCHES)
    projets: list[tuple[object, ...]] = [
        (p.spec.pid, p.spec.intitule, p.spec.porteur, p.spec.ministere, p.spec.selection, p.spec.cycle) for p in projects
    ]
    comites: list[tuple[object, ...]] = [(day, "Comité de pilotage du dispositif", objet) for day, objet in COMITES]
    nomenclature: list[tuple[object, ...]] = [
        ("Programme", NOM.programme), ("Centre financier", NOM.centre_financier),
        ("Domaine fonctionnel", "; ".join(NOM.domaines_fonctionnels)), ("Activité", NOM.activite),
    ]
    comptes: list[tuple[object, ...]] = list(COMPTES)
    references: list[tuple[object, ...]] = []
    for project in projects[:3]:
        # The contract's forecast for its first three projects (§5.2), a little above the porteurs' current one.
        for forecast_year, nature, forecast_amount, perenne in forecast(project):
            if perenne == enums.OUI:
                references.append((project.spec.pid, forecast_year, nature, round(forecast_amount * 1.1, -3),
                                   "Contrat de transformation du 31/07/2023"))
    parametres: list[tuple[object, ...]] = [(name, value) for name, value in DEFAULT_PARAMETERS.items()
                                            if name not in OPTIONAL_PARAMETERS]  # the sheet of referentiel.md
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


def write(path: Path, projects: Sequence[Project]) -> None:
    """Write the demo's référentiel workbook to `path`."""
    write_referentiel(path, referentiel_sheets(projects), created=CREATED, title=TITLE)
