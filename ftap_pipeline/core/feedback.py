"""The porteurs' feedback workbooks: who gets one, what it says, where it is written. Pure, no IO.

A porteur reads this workbook as advice: each finding with its rule's title and the format expected, a
summary that counts the Chorus discrepancies too, and an introduction that asks for a correction only when
there is one to make."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.findings import Finding, Severity
from ftap_pipeline.contract.labels import normalise_label
from ftap_pipeline.contract.layout import Field, Kind, SheetLayout
from ftap_pipeline.contract.model import ReturnRecord
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.contract.schemas import SCHEMAS, column_bounds
from ftap_pipeline.core.figures import Figures, ReportScope
from ftap_pipeline.core.report import finding_sort_key, rapprochement_table
from ftap_pipeline.core.report_spec import ColKind as K
from ftap_pipeline.core.report_spec import Highlight, SheetSpec, TableSpec, Tone, WorkbookSpec, cols

FEEDBACK_DIR = "anomalies"
UNKNOWN_PORTEUR = "Porteur inconnu"

#: The porteur's anomalies table: the rule's title beside its code, the format expected before what to do.
FEEDBACK_ANOMALIES_COLUMNS = cols(("Fichier", K.TEXT, 34), ("Feuille", K.TEXT, 14), ("Cellule", K.TEXT, 18),
                                  ("Champ", K.TEXT, 22), ("Valeur lue", K.TEXT, 20), ("Règle", K.TEXT, 26),
                                  ("Intitulé de la règle", K.TEXT, 40), ("Gravité", K.TEXT, 14),
                                  ("Message", K.TEXT, 70), ("Format attendu", K.TEXT, 40), ("Que faire", K.TEXT, 60))
#: The porteur's returns table: no SHA-256, which serves the secretariat's audit trail, not the porteur.
FEEDBACK_RETURNS_COLUMNS = cols(("Fichier", K.TEXT, 34), ("Identifiant du projet", K.TEXT, 14),
                                ("Période", K.TEXT, 10), ("Version", K.INT), ("Date de situation", K.DATE),
                                ("Statut", K.TEXT, 22), ("Lignes lues", K.INT), ("Lignes retenues", K.INT),
                                ("Lignes rejetées", K.INT), ("Anomalies", K.INT))

RESEND = "puis renvoyez le fichier avec un numéro de version supérieur (champ « Version » de la feuille Projet)."


@dataclass(frozen=True)
class Feedback:
    """One porteur's workbook, and the address it is meant for: the `Courriel du chef de projet` of the porteur's
    newest return of the period (None when that return has none that could be read)."""

    porteur: str
    path: str
    recipient: str | None
    workbook: WorkbookSpec


def newest_return(records: Sequence[ReturnRecord]) -> ReturnRecord:
    """The most recent of `records`: by date de situation (an unreadable date counts as the oldest), then version,
    then file name, so that the choice never depends on the order the files were read in."""
    return max(records, key=lambda r: (r.date_situation or dt.date.min, r.version, r.file))


#: Longest file-name part a porteur's name gives; a longer name keeps its head and a fingerprint of the whole.
KEY_LENGTH = 60


def porteur_key(name: str) -> str:
    """A file-name-safe form of a porteur's name (`DDFiP de l'Hérault` → `DDFiP_de_l_Herault`).

    A name longer than `KEY_LENGTH` keeps its head and a fingerprint of the whole name, so that two long names
    that share their first sixty characters (two DDETS, say) never share a workbook."""
    folded = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(c for c in folded if not unicodedata.combining(c))
    key = re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_") or "porteur_inconnu"
    if len(key) <= KEY_LENGTH:
        return key
    return f"{key[:KEY_LENGTH - 9].rstrip('_')}_{_fingerprint(name)}"


def _fingerprint(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def unique_keys(names: Sequence[str]) -> dict[str, str]:
    """Each distinct name's key; names that fold to the same key (`l'Ain`, `l Ain`) are told apart by a
    fingerprint, so that one workbook never holds two porteurs' returns."""
    keys = {name: porteur_key(name) for name in names}
    taken: dict[str, list[str]] = {}
    for name, key in keys.items():
        taken.setdefault(key, []).append(name)
    for key, clash in taken.items():
        if len(clash) > 1:
            for name in clash:
                keys[name] = f"{key[:KEY_LENGTH - 9].rstrip('_')}_{_fingerprint(name)}"
    return keys


def porteurs_by_project(referentiel: Referentiel) -> dict[str, str]:
    """The porteur each return of a project is answered as: the référentiel's `Porteur du projet` of its
    first line for the project, never the name typed in the return. A project the référentiel does not
    know, or knows without a porteur, answers to the secretariat (`Porteur inconnu`): see `_porteur_of`."""
    out: dict[str, str] = {}
    projets = referentiel.projets
    for pid, porteur in zip(projets["project_id"], projets["porteur"], strict=True):
        if isinstance(pid, str) and pid not in out:
            out[pid] = str(porteur).strip() or UNKNOWN_PORTEUR
    return out


def _porteur_of(record: ReturnRecord, porteurs: Mapping[str, str]) -> str:
    return porteurs.get(record.project_id, UNKNOWN_PORTEUR) if record.project_id else UNKNOWN_PORTEUR


def feedback_workbooks(figures: Figures) -> tuple[Feedback, ...]:
    """One workbook per porteur with anomalies in this period's returns or discrepancies on its EJs.

    Returns of earlier periods were answered then; a file whose period cannot be read is answered now."""
    scope = figures.scope
    porteurs = porteurs_by_project(figures.referentiel)
    by_name: dict[str, list[ReturnRecord]] = {}
    for r in figures.assessment.records:
        if r.period not in (None, str(scope.period)):
            continue
        by_name.setdefault(_porteur_of(r, porteurs), []).append(r)
    keys = unique_keys(sorted(by_name))
    groups = {keys[name]: group for name, group in by_name.items()}
    names = {keys[name]: name for name in by_name}
    rapprochement = figures.chorus.rapprochement if figures.chorus is not None else None
    discordant = None if rapprochement is None else rapprochement[
        ~rapprochement["Statut"].isin([enums.CONCORDANT, enums.HORS_DISPOSITIF])]
    out = []
    for key, group in sorted(groups.items()):
        projects = {r.project_id for r in group if r.project_id}
        gaps = None if discordant is None else discordant[discordant["Identifiant du projet"].isin(projects)]
        if (gaps is None or gaps.empty) and not any(f.severity is not Severity.INFORMATION
                                                     for r in group for f in r.findings):
            continue
        out.append(Feedback(porteur=names[key], path=f"{FEEDBACK_DIR}/{key}_{scope.label}.xlsx",
                            recipient=None if names[key] == UNKNOWN_PORTEUR else newest_return(group).courriel,
                            workbook=feedback_workbook(names[key], group, scope, gaps)))
    return tuple(out)


# --- the format expected -------------------------------------------------------------------------------


_LAYOUTS = {normalise_label(s.name): s for s in layout.SHEETS}


def field_of(f: Finding) -> tuple[SheetLayout, Field] | None:
    """The layout field a finding is about: its label within its sheet (whatever their spelling); else the only
    field of the return with that label; None when the finding is about no field."""
    if not f.field:
        return None
    label = normalise_label(f.field)
    sheet = _LAYOUTS.get(normalise_label(f.sheet))
    candidates = [sheet] if sheet is not None else list(layout.SHEETS)
    matches = [(s, s.label_index[label]) for s in candidates if label in s.label_index]
    return matches[0] if len(matches) == 1 else None


def _range_text(low: object, high: object) -> str:
    if low is not None and high is not None:
        return f" de {low} à {high}"
    return f" ≥ {low}" if low is not None else ""


def expected_format(f: Finding) -> str:
    """The format a finding's field expects, in one French sentence; empty when the finding is about no field."""
    found = field_of(f)
    if found is None:
        return ""
    sheet, field = found
    bounds = column_bounds(sheet.key).get(field.key) if sheet.key in SCHEMAS else None
    low, high = (bounds.low, bounds.high) if bounds is not None else (None, None)
    kind = field.kind
    if kind is Kind.AMOUNT:
        sign = _range_text(low, high) if low is not None else " (négatif admis)"
        return f"Nombre décimal{sign}, deux décimales au plus (ex. 1 200 000,50)"
    if kind is Kind.NUMBER:
        return f"Nombre décimal{_range_text(low, high)} (ex. 12,5)"
    if kind is Kind.INT:
        return f"Nombre entier{_range_text(low, high)}"
    if kind in (Kind.CHOICE, Kind.TITRE):
        return "Une valeur parmi : " + ", ".join(str(c) for c in field.choices)
    return {
        Kind.DATE: "Date jj/mm/aaaa",
        Kind.YESNO: "Oui ou Non",
        Kind.EJ: "10 chiffres (ex. 0101234567)",
        Kind.EMAIL: "Adresse électronique (ex. prenom.nom@exemple.gouv.fr)",
        Kind.PROJECT_ID: "Identifiant au format AP-AAAA-NN ou AP-AAAA-NNN (ex. AP-2024-07, AP-2026-114)",
        Kind.PERIOD: "Trimestre au format AAAA-Tn (ex. 2025-T2)",
    }.get(kind, f"Texte. {field.description}")


# --- the workbook ---------------------------------------------------------------------------------------


def feedback_anomalies_table(findings: Sequence[Finding]) -> TableSpec:
    """Findings in the order of the workbook (file, sheet, cell), so that a cell's findings stay together;
    the `Gravité` filter brings the blocking ones forward."""
    rows = [{"Fichier": f.file, "Feuille": f.sheet, "Cellule": f.cell, "Champ": f.field, "Valeur lue": f.value,
             "Règle": f.slug, "Intitulé de la règle": f.rule.title, "Gravité": str(f.severity), "Message": f.message,
             "Format attendu": expected_format(f), "Que faire": f.action}
            for f in sorted(findings, key=finding_sort_key)]
    return TableSpec("Anomalies", FEEDBACK_ANOMALIES_COLUMNS,
                     pd.DataFrame(rows, columns=[c.name for c in FEEDBACK_ANOMALIES_COLUMNS]),
                     title="Anomalies, par remontée, feuille et cellule",
                     highlights=(Highlight(("Gravité",), Tone.ALERT, (str(Severity.BLOQUANT),)),
                                 Highlight(("Gravité",), Tone.WARNING, (str(Severity.AVERTISSEMENT),))))


def feedback_returns_table(records: Sequence[ReturnRecord]) -> TableSpec:
    rows = [{"Fichier": r.file, "Identifiant du projet": r.project_id, "Période": r.period, "Version": r.version,
             "Date de situation": r.date_situation, "Statut": r.status, "Lignes lues": r.lines_read,
             "Lignes retenues": r.lines_kept, "Lignes rejetées": r.lines_rejected,
             "Anomalies": sum(1 for f in r.findings if f.severity is not Severity.INFORMATION)}
            for r in sorted(records, key=lambda r: r.file)]
    return TableSpec("Remontees", FEEDBACK_RETURNS_COLUMNS,
                     pd.DataFrame(rows, columns=[c.name for c in FEEDBACK_RETURNS_COLUMNS]),
                     title="Vos remontées de la période")


def _settled(record: ReturnRecord, records: Sequence[ReturnRecord]) -> bool:
    """A return whose findings call for nothing more: replaced, or followed by a kept return of a higher version
    for the same project and period (the porteur has already resent it)."""
    if record.status == enums.REMPLACEE:
        return True
    if not record.project_id or not record.period:
        return False
    return any(r.kept and r.project_id == record.project_id and r.period == record.period
               and r.version > record.version for r in records)


def closing_text(records: Sequence[ReturnRecord], discrepancies: pd.DataFrame | None) -> str:
    """What the porteur has to do, said once: correct cells only when a blocking finding names one."""
    open_findings = [f for r in records if not _settled(r, records) for f in r.findings]
    to_fix = [f for f in open_findings if f.severity is Severity.BLOQUANT]
    settled_blocking = any(f.severity is Severity.BLOQUANT for r in records if _settled(r, records)
                           for f in r.findings)
    warnings = any(f.severity is Severity.AVERTISSEMENT for f in open_findings)
    ejs = 0 if discrepancies is None else len(discrepancies)
    parts: list[str] = []
    on_cells, elsewhere = any(f.cell for f in to_fix), any(not f.cell for f in to_fix)
    if on_cells:
        how = ("corrigez les cellules indiquées (colonnes « Cellule », « Format attendu » et « Que faire »)"
               + (" et, pour les anomalies qui ne désignent pas de cellule, suivez la colonne « Que faire »"
                  if elsewhere else ""))
        parts.append(f"Des anomalies bloquantes écartent tout ou partie de vos données : {how}, {RESEND}")
    elif elsewhere:
        parts.append(f"Des anomalies bloquantes empêchent de lire ou de retenir votre remontée : suivez la colonne "
                     f"« Que faire », {RESEND}")
    elif settled_blocking:
        parts.append("Les anomalies bloquantes listées portent sur des fichiers remplacés depuis par une version "
                     "retenue : elles n'appellent plus de correction.")
    if warnings and to_fix:
        parts.append("Les avertissements, eux, n'écartent aucune donnée : vérifiez les points signalés "
                     "(colonne « Que faire »).")
    elif warnings:
        parts.append("Aucune anomalie bloquante à traiter : vos données sont retenues telles que déclarées, sans "
                     "correction ni nouvel envoi à faire. Vérifiez les points signalés en avertissement (colonne "
                     "« Que faire ») ; si l'un d'eux révèle une erreur, corrigez-la dans votre prochaine remontée.")
    if ejs:
        lead = "" if to_fix or warnings else "Vos remontées ne comportent aucune anomalie à corriger. En revanche, "
        verb = "ne concordent pas" if ejs > 1 else "ne concorde pas"
        parts.append(f"{lead}{ejs} EJ de vos projets {verb} avec Chorus (feuille "
                     "« Rapprochement Chorus ») : vérifiez avec votre service financier les montants déclarés dans la "
                     "feuille Consommation et l'imputation des EJ dans Chorus ; si un montant déclaré est inexact, "
                     "corrigez-le dans votre prochaine remontée.")
    if not parts:
        parts.append("Aucune anomalie n'appelle d'action de votre part.")
    return " ".join(parts)


def _gap(discrepancies: pd.DataFrame, column: str) -> float:
    return float(discrepancies[column].abs().sum()) if column in discrepancies else 0.0


def _count(n: int, one: str, many: str) -> str:
    """French agreement: the singular up to 1 (`0 ligne retenue`, `2 lignes retenues`)."""
    return f"{n} {one if n <= 1 else many}"


def summary_facts(porteur: str, records: Sequence[ReturnRecord], scope: ReportScope,
                  discrepancies: pd.DataFrame | None) -> tuple[tuple[str, object, K], ...]:
    """The figures a porteur looks at first; Chorus gaps are summed in absolute value, so that they do not offset."""
    findings = [f for r in records for f in r.findings]
    facts: list[tuple[str, object, K]] = [
        ("Porteur", porteur, K.TEXT), ("Période", str(scope.period), K.TEXT),
        ("Remontées examinées", len(records), K.INT),
        ("Anomalies bloquantes", sum(1 for f in findings if f.severity is Severity.BLOQUANT), K.INT),
        ("Avertissements", sum(1 for f in findings if f.severity is Severity.AVERTISSEMENT), K.INT)]
    if discrepancies is None:
        facts.append(("EJ en écart avec Chorus", "non évalué : aucune restitution Chorus pour ce traitement", K.TEXT))
    else:
        facts += [("EJ en écart avec Chorus", len(discrepancies), K.INT),
                  ("Écarts AE avec Chorus, en valeur absolue (€)", _gap(discrepancies, "Écart AE (€)"), K.AMOUNT),
                  ("Écarts CP avec Chorus, en valeur absolue (€)", _gap(discrepancies, "Écart CP (€)"), K.AMOUNT)]
    facts += [(r.file, _standing(r), K.TEXT) for r in sorted(records, key=lambda r: r.file)]
    return tuple(facts)


def _standing(r: ReturnRecord) -> str:
    """A return's status and lines; a replaced return's lines count for nothing, and it says so."""
    if r.status == enums.REMPLACEE:
        lines = _count(r.lines_read, "ligne lue, non comptée", "lignes lues, non comptées")
        return f"{r.status} — {lines} : une version plus récente fait foi"
    return f"{r.status} — {_count(r.lines_kept, 'ligne retenue', 'lignes retenues')} sur {_count(r.lines_read, 'lue', 'lues')}"


def feedback_workbook(porteur: str, records: Sequence[ReturnRecord], scope: ReportScope,
                      discrepancies: pd.DataFrame | None = None) -> WorkbookSpec:
    """The porteur's own workbook: a summary and what to do on top, then each finding with its cell.

    `discrepancies` are the porteur's EJ lines of the reconciliation that do not agree with Chorus; None when no
    Chorus restitution was read (the summary then says the reconciliation was not made)."""
    findings = [f for r in records for f in r.findings]
    intro = f"Retour de la DITP sur vos remontées FTAP de la période {scope.period}. " + closing_text(records,
                                                                                                    discrepancies)
    sheet = SheetSpec("Retour", facts=summary_facts(porteur, records, scope, discrepancies), intro=intro,
                      tables=(feedback_anomalies_table(findings), feedback_returns_table(records)))
    sheets = [sheet]
    if discrepancies is not None and not discrepancies.empty:
        sheets.append(SheetSpec("Rapprochement Chorus", tables=(rapprochement_table(discrepancies),),
                                intro="EJ de vos projets dont la déclaration ne concorde pas avec Chorus : vérifiez, avec "
                                      "votre service financier, les montants déclarés et l'imputation dans Chorus."))
    return WorkbookSpec(title=f"Retour sur les remontées FTAP — {porteur} — {scope.period}", sheets=tuple(sheets),
                        created=scope.cutoff, subject="Anomalies des remontées FTAP")
