"""What a run sends (livraison-v1), decided once and without IO: the secretariat's mail with the consolidated
workbook, each porteur's feedback workbook, and a reminder for each missing return.

An address is never guessed: a message whose address is missing or unusable carries the French reason in
`problem`, and the delivery reports it instead of sending it. `io/delivery.py` builds and sends the messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.addresses import is_mail_address
from ftap_pipeline.contract.model import ReturnRecord
from ftap_pipeline.core.feedback import UNKNOWN_PORTEUR, Feedback, newest_return, porteur_key
from ftap_pipeline.core.figures import Figures
from ftap_pipeline.core.french_text import value_text
from ftap_pipeline.core.period import Period
from ftap_pipeline.core.report_spec import ColKind
from ftap_pipeline.core.synthese import chorus_by_status, synthese_facts

SECRETARIAT_ABOUT = "Secrétariat du FTAP"
SIGNATURE = "Cordialement,\nLe secrétariat du FTAP (DITP)"
AUTOMATIC = "Ce message a été préparé automatiquement par le traitement de suivi FTAP ; le classeur joint fait foi."


class CourrierKind(StrEnum):
    SECRETARIAT = "secretariat"
    RETOUR = "retour"
    RAPPEL = "rappel"


@dataclass(frozen=True)
class Courrier:
    """One message of the plan. `to` is None for the secretariat (its addresses are settings, known at delivery)
    and when no usable address is known, in which case `problem` says why (in French) and nothing is sent."""

    kind: CourrierKind
    to: str | None
    #: Who it is for, in French: `Secrétariat du FTAP`, the porteur's name, or `AP-2024-03 (Titre)`.
    about: str
    subject: str
    body: str
    #: Path relative to the run's output folder (the workbook attached); None for a reminder.
    attachment: str | None
    problem: str | None = None


def plan_courriers(figures: Figures, feedback: Sequence[Feedback], workbook_path: str) -> tuple[Courrier, ...]:
    """The secretariat's mail first, then the feedback workbooks by porteur, then the reminders by project."""
    retours = tuple(_retour(figures, f) for f in sorted(feedback, key=lambda f: (porteur_key(f.porteur), f.porteur)))
    rappels = tuple(_rappel(figures, pid) for pid in sorted(figures.missing_projects))
    return (_secretariat(figures, workbook_path, retours + rappels), *retours, *rappels)


# --- the address of each message ------------------------------------------------------------------------


def _usable(address: str | None, missing: str, where: str) -> tuple[str | None, str | None]:
    """(address, None) when it can be sent to; else (None, the French reason)."""
    if not address:
        return None, missing
    if not is_mail_address(address):
        return None, f"l'adresse « {address} » {where} n'est pas une adresse électronique utilisable"
    return address, None


def _earlier(record: ReturnRecord, period: Period) -> bool:
    try:
        return record.period is not None and Period.parse(record.period) < period
    except ValueError:
        return False


def reminder_address(figures: Figures, project_id: str) -> str | None:
    """The `Courriel du chef de projet` of the project's newest return of an earlier period that gives one."""
    earlier = [r for r in figures.assessment.records
               if r.project_id == project_id and r.courriel and _earlier(r, figures.scope.period)]
    return newest_return(earlier).courriel if earlier else None


# --- the three kinds of message -------------------------------------------------------------------------


def _file_name(path: str) -> str:
    return PurePosixPath(path).name


#: Why the workbook of the returns whose project the référentiel does not know is sent to nobody.
UNKNOWN_PROJECTS = ("remontées d'un projet absent du référentiel : leur retour n'est adressé à aucune adresse qu'elles "
                    "portent ; le secrétariat le trouve ici et dans la feuille Anomalies du classeur consolidé")


def _retour(figures: Figures, feedback: Feedback) -> Courrier:
    period = figures.scope.period
    to, problem = _usable(feedback.recipient,
                          "aucune adresse valide dans la remontée la plus récente de la période (champ « Courriel du "
                          "chef de projet »)", "de la remontée la plus récente de la période")
    if feedback.porteur == UNKNOWN_PORTEUR:
        to, problem = None, UNKNOWN_PROJECTS
    intro = feedback.workbook.sheets[0].intro if feedback.workbook.sheets else ""
    body = "\n\n".join(part for part in (
        "Bonjour,",
        intro,
        f"Le classeur joint ({_file_name(feedback.path)}) détaille chaque anomalie avec la feuille et la cellule en "
        "cause, le format attendu et ce qu'il faut faire. Avant de renvoyer un fichier corrigé, vous pouvez le vérifier "
        "avec la commande « ftap check votre_fichier.xlsx », qui applique les mêmes contrôles.",
        SIGNATURE) if part)
    return Courrier(CourrierKind.RETOUR, to, feedback.porteur,
                    f"FTAP — retour sur vos remontées de la période {period}", body + "\n", feedback.path, problem)


def project_about(figures: Figures, project_id: str) -> str:
    """`AP-2024-03 (Titre)`, or the identifier alone when the référentiel gives no title."""
    projets = figures.referentiel.projets
    match = projets[projets["project_id"] == project_id] if not projets.empty else projets
    title = str(match["intitule"].iloc[0]).strip() if not match.empty and "intitule" in match else ""
    return f"{project_id} ({title})" if title and title != "nan" else project_id


def _rappel(figures: Figures, project_id: str) -> Courrier:
    scope = figures.scope
    period = scope.period
    about = project_about(figures, project_id)
    to, problem = _usable(reminder_address(figures, project_id),
                          "aucune remontée d'une période antérieure ne donne d'adresse valide (champ « Courriel du chef "
                          "de projet »)", "de la dernière remontée antérieure")
    body = "\n\n".join((
        "Bonjour,",
        f"Sauf erreur de notre part, aucune remontée retenue n'a été reçue pour le projet {about} au titre du trimestre "
        f"{period} (traitement arrêté au {scope.cutoff:%d/%m/%Y}).",
        "Merci de bien vouloir transmettre cette remontée dès que possible : elle sera prise en compte au prochain "
        "traitement du suivi FTAP.",
        "Pour la préparer :\n"
        "  - partez de votre dernière remontée, ou du modèle vierge de remontée (commande « ftap template ») ;\n"
        f"  - dans la feuille Projet, indiquez la période « {period} » et une date de situation dans ce trimestre, "
        f"normalement le {period.last_day:%d/%m/%Y} ; si vous renvoyez une remontée déjà transmise pour cette période, "
        "augmentez son numéro de version ;\n"
        "  - vérifiez le fichier avant de l'envoyer avec la commande « ftap check votre_fichier.xlsx », qui signale "
        "chaque anomalie avec sa cellule.",
        "Si votre remontée a été envoyée mais rejetée, le retour d'anomalies qui vous a été adressé indique ce qu'il faut "
        "corriger. Si elle vient de partir, ne tenez pas compte de ce message.",
        SIGNATURE))
    return Courrier(CourrierKind.RAPPEL, to, about, f"FTAP — remontée {period} attendue pour le projet {project_id}",
                    body + "\n", None, problem)


def _fact_lines(figures: Figures) -> list[str]:
    return [f"  - {label} : {value_text(value, kind)}" for label, value, kind in synthese_facts(figures)]


def _chorus_lines(figures: Figures) -> list[str]:
    if figures.chorus is None:
        return ["  Aucune restitution Chorus n'a été lue : le rapprochement par EJ n'a pas été fait."]
    rows = chorus_by_status(figures).to_dict("records")
    if not rows:
        return ["  Aucune ligne à rapprocher."]
    lines = []
    for row in rows:
        count = int(row["Lignes"])
        text = f"  - {row['Statut']} : {count} ligne{'s' if count > 1 else ''}"
        if row["Statut"] not in (enums.CONCORDANT, enums.HORS_DISPOSITIF):
            text += (f" (écart AE {value_text(row['Écart AE (€)'], ColKind.AMOUNT)}, "
                     f"écart CP {value_text(row['Écart CP (€)'], ColKind.AMOUNT)})")
        lines.append(text)
    return lines


def _sending_lines(courriers: Sequence[Courrier]) -> list[str]:
    if not courriers:
        return ["  Aucun retour d'anomalies ni aucune relance pour ce traitement."]
    what = {CourrierKind.RETOUR: "retour d'anomalies", CourrierKind.RAPPEL: "relance"}
    return [f"  - {c.about} ({what.get(c.kind, str(c.kind))}) : "
            + (c.to if c.to else f"non envoyé, {c.problem}") for c in courriers]


def _secretariat(figures: Figures, workbook_path: str, others: Sequence[Courrier]) -> Courrier:
    scope = figures.scope
    sections = [
        "Bonjour,",
        f"Veuillez trouver ci-joint le classeur consolidé du suivi FTAP, {scope.title} (période attendue {scope.period}, "
        f"date d'arrêté {scope.cutoff:%d/%m/%Y}) : {_file_name(workbook_path)}.",
        "\n".join(["Synthèse du traitement :", *_fact_lines(figures)]),
        "\n".join(["Rapprochement avec Chorus, par statut :", *_chorus_lines(figures)]),
        "\n".join(["Retours d'anomalies et relances de ce traitement :", *_sending_lines(others)]),
        AUTOMATIC,
    ]
    return Courrier(CourrierKind.SECRETARIAT, None, SECRETARIAT_ABOUT,
                    f"FTAP — classeur consolidé, {scope.title}", "\n\n".join(sections) + "\n", workbook_path)


__all__ = ["SECRETARIAT_ABOUT", "Courrier", "CourrierKind", "is_mail_address", "plan_courriers",
           "project_about", "reminder_address"]
