"""A valid return, as plain values, that tests mutate to build one fixture per rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ftap_pipeline.contract.referentiel import DEFAULT_PARAMETERS, Referentiel
from ftap_pipeline.core.assess import Assessment, assess_returns
from ftap_pipeline.io.intake import read_returns
from ftap_pipeline.io.return_writer import write_return

FTAP_CODES = {"centre_financier": "0349-CDBU-DITP", "domaine_fonctionnel": "0349-01", "activite": "03490101B501"}


def projet(**overrides: Any) -> dict[str, Any]:
    base = {"project_id": "AP-2024-01", "intitule": "Robotisation des demandes de titres", "period": "2025-T2",
            "date_situation": dt.date(2025, 6, 30), "porteur": "Préfecture de l'Hérault", "ministere": "Intérieur",
            "categorie_porteur": "État – service déconcentré", "concert_etat": "Non", "financement_etat": "Non",
            "region": "Occitanie", "phase": "Expérimentation", "date_cadrage": dt.date(2024, 1, 15),
            "debut": dt.date(2024, 2, 1), "fin": dt.date(2024, 7, 31), "numerique": "Oui", "chef_projet": "Anne Martin",
            "courriel": "anne.martin@herault.gouv.fr", "version": 1}
    base.update(overrides)
    return base


def conso(ej: str, exercice: int, ae: Any, cp: Any, financeur: str = "FTAP", **overrides: Any) -> dict[str, Any]:
    codes = FTAP_CODES if financeur == "FTAP" else {"centre_financier": "0216-CDBU-PREF", "domaine_fonctionnel": "0216-01",
                                                    "activite": "021601010101"}
    line = {"ej": ej, "exercice": exercice, "date_ej": dt.date(2024, 3, 1), "fournisseur": "Cabinet Conseil SAS",
            "categorie": "Expérimentation", "titre": 3, "objet": "Prestations intellectuelles", "financeur": financeur,
            **codes, "ae": ae, "cp": cp, "commentaire": None}
    line.update(overrides)
    return line


def tables() -> dict[str, list[dict[str, Any]]]:
    return {
        "financement": [
            {"annee": 2024, "categorie": "Expérimentation", "titre": 3, "objet": "Prestations intellectuelles",
             "financeur": "FTAP", "ae": 300000.0, "cp": 300000.0},
            {"annee": 2024, "categorie": "Expérimentation", "titre": 3, "objet": "Prestations intellectuelles",
             "financeur": "Porteur", "ae": 300000.0, "cp": 300000.0},
        ],
        "consommation": [
            conso("1300000001", 2024, 200000.0, 80000.0),
            conso("1300000001", 2025, 0.0, 100000.0),
            conso("1300000002", 2024, 50000.0, 50000.0, financeur="Porteur"),
        ],
        "economies": [
            {"annee": 2025, "nature": "Masse salariale", "statut": "Prévisionnelle", "montant": 150000.0, "etp": 3.0,
             "perenne": "Oui", "explication": None},
            {"annee": 2026, "nature": "Masse salariale", "statut": "Prévisionnelle", "montant": 200000.0, "etp": 4.0,
             "perenne": "Oui", "explication": None},
            {"annee": 2027, "nature": "Fonctionnement", "statut": "Prévisionnelle", "montant": 150000.0, "etp": None,
             "perenne": "Oui", "explication": None},
        ],
        "indicateurs": [
            {"indicateur": "Délai de délivrance", "axe": "Qualité de service usager", "unite": "jours", "sens": "Baisse",
             "valeur_reference": 30.0, "date_reference": dt.date(2024, 1, 31), "valeur_mesuree": 12.0,
             "date_mesure": dt.date(2025, 5, 31), "cible": 10.0, "methode": "Statistique directe"},
        ],
    }


def referentiel(**parameters: float) -> Referentiel:
    env = pd.DataFrame([{"date_effet": dt.date(2023, 7, 31), "categorie": c, "titre": 3, "annee": y, "financeur": "FTAP",
                         "ae": a * (1 if c != "Généralisation" else 3), "cp": a * (1 if c != "Généralisation" else 3)}
                        for c in ("Cadrage", "Expérimentation", "Généralisation")
                        for y, a in ((2023, 600000.0), (2024, 1200000.0), (2025, 1200000.0))])
    tranches = pd.DataFrame([{"annee": 2024, "date_decision": dt.date(2024, 2, 15), "ae": 6e6, "cp": 6e6}])
    projets = pd.DataFrame([{"project_id": "AP-2024-01", "intitule": "Robotisation", "porteur": "Préfecture de l'Hérault",
                             "ministere": "Intérieur", "date_selection": dt.date(2024, 1, 10), "cycle": "2024-1"}])
    return Referentiel(enveloppes=env, tranches=tranches, projets=projets, comites=pd.DataFrame(),
                       parameters={**DEFAULT_PARAMETERS, **parameters})


def write(tmp: Path, name: str, proj: dict[str, Any] | None = None,
          tabs: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    path = tmp / name
    write_return(path, proj if proj is not None else projet(), tabs if tabs is not None else tables())
    return path


def active(wb: Workbook) -> Worksheet:
    """The workbook's active sheet, which openpyxl types as optional and possibly a chartsheet."""
    ws = wb.active
    assert isinstance(ws, Worksheet), f"active sheet is {type(ws).__name__}, not a Worksheet"
    return ws


def edit_workbook(path: Path, change: Callable[[Workbook], object]) -> None:
    """Alter a written return with openpyxl, as a person would in Excel (delete a column, type a note…)."""
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)


def assess_files(paths: list[Path], ref: Referentiel | None = None, cutoff: dt.date | None = dt.date(2025, 6, 30)
                 ) -> Assessment:
    return assess_returns(read_returns(paths, workers=1), ref if ref is not None else referentiel(), cutoff)


def assess_one(tmp: Path, proj: dict[str, Any] | None = None, tabs: dict[str, list[dict[str, Any]]] | None = None,
               ref: Referentiel | None = None) -> Assessment:
    return assess_files([write(tmp, "remontee.xlsx", proj, tabs)], ref)
