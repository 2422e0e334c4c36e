"""The secretariat's tables (secretariat-v1) laid out from the figures: columns, kinds and alerts. Pure."""

from __future__ import annotations

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.core import evolutions as evo
from ftap_pipeline.core import planning as pln
from ftap_pipeline.core import portefeuille as pf
from ftap_pipeline.core.figures import Figures
from ftap_pipeline.core.report_spec import ColKind as K
from ftap_pipeline.core.report_spec import Column, Highlight, TableSpec, Tone, cols
from ftap_pipeline.core.roi import NOT_COMPUTABLE
from ftap_pipeline.core.tableau import TableauFinancement

A = K.AMOUNT


def financement_tables(tableau: TableauFinancement) -> tuple[TableSpec, ...]:
    """The §2 table as signed, in force with its avenants, and realised, one under the other."""
    columns = cols(("Catégorie", K.TEXT, 28), ("Ligne", K.TEXT, 40),
                   *((f"{kind} {y}", A, 15) for y in tableau.years for kind in ("AE", "CP")),
                   ("AE Total", A, 16), ("CP Total", A, 16))
    realised_rates = tuple((i, K.RATE) for i in tableau.rate_rows)
    return (
        TableSpec("TableauFinancement", columns, tableau.signed, csv="tableau_financement.csv",
                  title="Tableau de financement du contrat signé (§2), programme 349"),
        TableSpec("TableauFinancementVigueur", columns, tableau.in_force, csv="tableau_financement_vigueur.csv",
                  title="Enveloppes en vigueur à la date d'arrêté, puis ce que chaque avenant a changé"),
        TableSpec("TableauFinancementRealise", columns, tableau.realised, csv="tableau_financement_realise.csv",
                  title="Réalisé sur le titre 3 : AE engagées (hors retraits) et CP payés, puis taux de consommation "
                        "FTAP face aux enveloppes en vigueur",
                  row_kinds=realised_rates),
    )


def economies_table(figures: Figures) -> TableSpec:
    columns = cols(("Identifiant du projet", K.TEXT, 14), ("Année", K.INT, 8), ("Nature d'économie", K.TEXT, 18),
                   ("Prévisionnelle (€)", A), ("Réalisée (€)", A), ("Écart (€)", A),
                   ("Explication de l'écart", K.TEXT, 40), ("Pérenne réalisée (€)", A),
                   ("Prévision de référence (€)", A), ("Source de la prévision", K.TEXT, 24),
                   ("Prévision initiale (€)", A), ("Alerte", K.TEXT, 22))
    return TableSpec("Economies", columns, figures.economies, csv="economies.csv",
                     title="Économies prévues et réalisées, par projet, année et nature (§5.2, §7)",
                     highlights=(Highlight(("Alerte",)),))


def indicateurs_table(figures: Figures) -> TableSpec:
    columns = cols(("Code", K.TEXT, 18), ("Indicateur", K.TEXT, 50), ("Année", K.INT, 8), ("Détail", K.TEXT, 18),
                   ("Valeur", K.DECIMAL, 18), ("Cible", K.DECIMAL, 18), ("Commentaire", K.TEXT, 50))
    return TableSpec("Indicateurs", columns, figures.indicateurs, csv="indicateurs.csv",
                     title="Indicateurs du contrat (§5.1, §5.2) et ROI du portefeuille (§3)")


ROI_COLUMNS = ("ROI prévisionnel à 3 ans (FTAP)", "ROI prévisionnel à 3 ans (coût total)", "ROI à 3 ans (FTAP)",
               "ROI à 3 ans (coût total)")


def portefeuille_table(figures: Figures) -> TableSpec:
    rows = []
    for ref in figures.referentiel.projets.sort_values("project_id").to_dict("records"):
        pid = str(ref["project_id"])
        f = figures.projects.get(pid)
        proj = f.parsed.projet if f else None
        row: dict[str, object] = {"Identifiant du projet": pid, "Intitulé du projet": ref.get("intitule"),
                                  "Porteur du projet": ref.get("porteur"), "Ministère": ref.get("ministere"),
                                  "Phase": proj.phase if proj else None,
                                  "Début de l'accompagnement": proj.debut if proj else None,
                                  "Fin de l'accompagnement": proj.fin if proj else None,
                                  "Dernière remontée": f.record.period if f else None}
        if f is not None:
            roi = f.facts.roi
            failed = [c.removeprefix("Critère ") for c, state in f.criteria if state == pf.NON_RESPECTE]
            row.update({"Coût total (€)": f.cost, "Part FTAP": f.ftap_share, "ROI à 3 ans": roi.realised_ftap.shown,
                        "Qualité de service améliorée": enums.OUI if f.facts.improves_quality else enums.NON,
                        "Conditions de travail améliorées": enums.OUI if f.facts.improves_conditions else enums.NON,
                        "Critères §4.3": ("Non respectés : " + " ; ".join(failed)) if failed else "Respectés",
                        "Statut de la dernière remontée": f.record.status,
                        ROI_COLUMNS[0]: roi.forecast_ftap.shown, ROI_COLUMNS[1]: roi.forecast_total.shown,
                        ROI_COLUMNS[2]: roi.realised_ftap.shown, ROI_COLUMNS[3]: roi.realised_total.shown,
                        **dict(f.criteria)})
        else:
            # Without a standing return there is nothing to divide: a ratio that does not exist says why.
            row.update(dict.fromkeys(("ROI à 3 ans", *ROI_COLUMNS), NOT_COMPUTABLE))
        row["Remontée manquante"] = enums.OUI if pid in figures.missing_projects else enums.NON
        rows.append(row)
    criteria = tuple(c for c, _ in pf.CRITERIA)
    columns = cols(("Identifiant du projet", K.TEXT, 14), ("Intitulé du projet", K.TEXT, 40),
                   ("Porteur du projet", K.TEXT, 30), ("Ministère", K.TEXT, 20), ("Phase", K.TEXT, 14),
                   ("Début de l'accompagnement", K.DATE, 14), ("Fin de l'accompagnement", K.DATE, 14),
                   ("Dernière remontée", K.TEXT, 12), ("Coût total (€)", A), ("Part FTAP", K.RATE, 10),
                   ("ROI à 3 ans", K.RATIO, 10), ("Qualité de service améliorée", K.TEXT, 12),
                   ("Conditions de travail améliorées", K.TEXT, 12), ("Critères §4.3", K.TEXT, 50),
                   ("Remontée manquante", K.TEXT, 12), ("Statut de la dernière remontée", K.TEXT, 22),
                   *((c, K.RATIO, 14) for c in ROI_COLUMNS), *((c, K.TEXT, 16) for c in criteria))
    return TableSpec("Portefeuille", columns, pd.DataFrame(rows), csv="portefeuille.csv",
                     highlights=(Highlight(criteria, Tone.ALERT, (pf.NON_RESPECTE,)),
                                 Highlight(criteria, Tone.WARNING, (pf.NON_EVALUABLE,)),
                                 Highlight(("Remontée manquante",), Tone.ALERT, (enums.OUI,))))


def planning_table(figures: Figures) -> TableSpec:
    frame = figures.planning
    months = [c for c in frame.columns if c not in pln.BASE_COLUMNS]
    columns = cols(("Identifiant du projet", K.TEXT, 14), ("Intitulé du projet", K.TEXT, 40),
                   ("Porteur du projet", K.TEXT, 30), ("Phase", K.TEXT, 14), ("Début de l'accompagnement", K.DATE, 14),
                   ("Fin de l'accompagnement", K.DATE, 14), ("État", K.TEXT, 10)) \
        + tuple(Column(m, K.TEXT, 8) for m in months)
    return TableSpec("Planning", columns, frame, csv="planning.csv",
                     title=f"Planning des projets à la date d'arrêté ({pln.MARK} : mois d'accompagnement)",
                     highlights=(Highlight(tuple(months), Tone.BAR),) if months else ())


def evolutions_table(rows: pd.DataFrame) -> TableSpec:
    columns = cols(("Type", K.TEXT, 30), ("Identifiant du projet", K.TEXT, 14), ("Objet", K.TEXT, 70),
                   ("Avant", A, 20), ("Après", A, 20), ("Écart", A, 16))
    return TableSpec("Evolutions", columns, rows, csv="evolutions.csv",
                     highlights=(Highlight(("Type",), Tone.ALERT, (evo.NEW_FINDING, evo.MISSING)),
                                 Highlight(("Type",), Tone.OK, (evo.RESOLVED,))))


__all__ = ["economies_table", "evolutions_table", "financement_tables", "indicateurs_table",
           "planning_table", "portefeuille_table"]
