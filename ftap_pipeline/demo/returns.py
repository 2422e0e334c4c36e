"""A return's contents: the cumulative situation of a simulated project at a date.

Pure functions from a `Project` to the `projet` form and the four tables `io.return_writer`
writes; they also give the quarters a project reports for, the return's file name and the
FTAP AE its standing return declares (what the demo's summary promises a run will find).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from ftap_pipeline.contract import enums
from ftap_pipeline.core.period import Period
from ftap_pipeline.demo.model import Project
from ftap_pipeline.demo.specs import COST_PER_ETP, ProjectSpec

Tables = dict[str, list[dict[str, object]]]


def file_name(spec: ProjectSpec, period: Period, suffix: str = "") -> str:
    return spec.file_style.format(pid=spec.pid, period=period) + suffix + ".xlsx"


def periods(first: Period, last: Period) -> list[Period]:
    """Every quarter from `first` to `last`, both included."""
    out = [first]
    while out[-1] < last:
        p = out[-1]
        out.append(Period(p.year + 1, 1) if p.quarter == 4 else Period(p.year, p.quarter + 1))
    return out


def consommation(project: Project, asof: dt.date) -> list[dict[str, object]]:
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


def financement(project: Project) -> list[dict[str, object]]:
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


def forecast(project: Project) -> list[tuple[int, str, float, str]]:
    """Forecast savings (year, nature, amount, perennial) from the year the accompaniment ends, for four years."""
    yearly = project.spec.gains * sum(ej.planned for ej in project.ejs if ej.ftap) / 3
    first = project.fin.year
    rows = [(first, "Autres", round(yearly * 0.1, -2), enums.NON)]
    for year in range(first, first + 4):
        weight = 0.25 if year == first else 1.0  # the first year is a part year
        rows.append((year, "Masse salariale", round(yearly * 0.75 * weight, -2), enums.OUI))
        rows.append((year, "Fonctionnement", round(yearly * 0.25 * weight, -2), enums.OUI))
    return sorted(rows, key=lambda r: (r[0], enums.NATURES_ECONOMIE.index(r[1])))


def economies(project: Project, asof: dt.date) -> list[dict[str, object]]:
    """The forecast, and what was realised in the years already over."""
    spec = project.spec
    rows: list[dict[str, object]] = []
    for year, nature, amount, perenne in forecast(project):
        etp = round(amount / COST_PER_ETP, 2) if nature == "Masse salariale" else None
        rows.append({"annee": year, "nature": nature, "statut": enums.PREVISIONNELLE, "montant": amount,
                     "etp": etp, "perenne": perenne})
        if year < asof.year and perenne == enums.OUI:
            realised = round(amount * spec.realise, -2)
            explanation = None
            if realised < amount and spec.explique:
                explanation = ("Redéploiement des agents décalé : départs en retraite reportés et recrutements "
                               "gelés plus tard que prévu.")
            rows.append({"annee": year, "nature": nature, "statut": enums.REALISEE, "montant": realised,
                         "etp": round(realised / COST_PER_ETP, 2) if etp is not None else None,
                         "perenne": perenne, "explication": explanation})
    return rows


def indicateurs(project: Project, asof: dt.date) -> list[dict[str, object]]:
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


def phase(project: Project, asof: dt.date) -> str:
    engaged = [ej.categorie for ej in project.ejs if ej.date <= asof]
    order = list(enums.PHASES)
    return max(engaged, key=order.index) if engaged else order[0]


def projet(project: Project, period: Period, version: int = 1) -> dict[str, object]:
    """The `Projet` form of the project's return for `period`."""
    spec = project.spec
    return {
        "project_id": spec.pid, "intitule": spec.intitule, "period": str(period),
        "date_situation": period.last_day, "porteur": spec.porteur, "ministere": spec.ministere,
        "categorie_porteur": spec.categorie_porteur, "concert_etat": spec.concert,
        "financement_etat": spec.financement_etat, "region": spec.region,
        "phase": phase(project, period.last_day),
        "date_cadrage": spec.debut + dt.timedelta(days=spec.cadrage_days),
        "debut": spec.debut, "fin": project.fin, "numerique": spec.numerique, "chef_projet": spec.chef,
        "courriel": spec.courriel, "version": version,
    }


def tables(project: Project, asof: dt.date) -> Tables:
    """The four table sheets of the project's return standing at `asof`."""
    return {
        "financement": financement(project),
        "consommation": consommation(project, asof),
        "economies": economies(project, asof),
        "indicateurs": indicateurs(project, asof),
    }


def ftap_ae_engagements(project: Project, standing: dt.date) -> Iterator[tuple[tuple[int, str], int]]:
    """FTAP AE engaged (withdrawals left out) as of `standing`: ((exercice, catégorie), cents) per movement."""
    for ej in project.ejs:
        if ej.ftap:
            for day, cents in ej.ae_moves():
                if day <= standing and cents > 0:
                    yield (day.year, ej.categorie), cents
