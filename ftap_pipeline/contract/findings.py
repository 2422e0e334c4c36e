"""The finding taxonomy: a stable slug per rule, its severity, and what a person should do about it.

Slugs are part of the contract with porteurs: they appear in feedback workbooks and in `ftap check`,
and are documented in `docs/anomalies.md`. Never rename one; add a new slug instead.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Protocol


class Severity(StrEnum):
    BLOQUANT = "Bloquant"
    AVERTISSEMENT = "Avertissement"
    INFORMATION = "Information"


class Scope(StrEnum):
    """What a blocking finding leaves out."""

    RETURN = "return"  # the whole return is rejected
    LINE = "line"  # the line (or lines sharing a key) is left out
    NONE = "none"  # nothing is left out


@dataclass(frozen=True)
class Rule:
    """One rule: its slug, how serious, what it leaves out, and the French texts a person reads."""

    slug: str
    severity: Severity
    scope: Scope
    title: str
    action: str
    #: The message, with `{placeholders}` that each call site fills (`render`).
    template: str

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.template) if name)

    def render(self, values: Mapping[str, object]) -> str:
        """The message, its placeholders filled; a value missing or one too many is a programming error."""
        wanted = set(self.placeholders)
        if set(values) != wanted:
            raise KeyError(f"{self.slug}: the template wants {sorted(wanted)}, was given {sorted(values)}")
        return self.template.format_map({k: str(v) for k, v in values.items()})


#: The message template of each slug. `{motif}` holds the case-specific explanation where one rule covers
#: several situations (a number or a date that cannot be read, a file damaged in one of many ways).
TEMPLATES: Final[Mapping[str, str]] = MappingProxyType({
    "file-unreadable": "{motif}",
    "file-encrypted": "Le classeur est protégé par un mot de passe d'ouverture.",
    "inbox-entry-refused": "« {fichier} » n'est pas lu : {motif}.",
    "file-unsupported": "Les fichiers « {extension} » ne sont pas acceptés (formats acceptés : .xlsx, .xlsm, .ods, .xls).",
    "file-too-large": "{motif}",
    "file-suspicious": "{motif}",
    "too-many-lines": "La feuille « {feuille} » compte {lignes} lignes, au-delà des {plafond} lignes admises par "
                      "remontée : la remontée n'est pas contrôlée.",
    "findings-not-listed": "{nombre} autres anomalies de cette remontée ne sont pas listées : seules les {plafond} "
                           "premières le sont.",
    "missing-sheet": "La feuille « {feuille} » est absente du classeur.",
    "missing-optional-sheet": "La feuille « {feuille} » est absente du classeur.",
    "missing-column": "{motif}",
    "extra-sheet": "La feuille « {feuille} » n'est pas prévue par le format ; elle est ignorée.",
    "hidden-twin-sheet": "La feuille masquée « {feuille} » porte le nom de la feuille « {visible} » ; seule la feuille "
                         "visible est lue.",
    "ambiguous-sheet": "Plusieurs feuilles portent le nom « {feuille} » ({feuilles}) ; on ne peut pas savoir laquelle "
                       "lire.",
    "extra-column": "{motif}",
    "total-row": "La ligne {ligne} est une ligne de total ; elle n'est pas comptée.",
    "invalid-project-id": "{motif}",
    "unknown-project": "Le projet {projet} ne figure pas au référentiel des projets sélectionnés.",
    "invalid-period": "{motif}",
    "invalid-situation-date": "{motif}",
    "situation-outside-period": "La date de situation {date} n'est pas dans le trimestre {periode} ({debut} – {fin}).",
    "ambiguous-version": "Plusieurs remontées de version {version} et de contenu différent pour ce projet et cette période "
                         "({fichiers}) : aucune ne peut être retenue.",
    "superseded-return": "Remplacée par {fichier} (version {version}).",
    "invalid-project-field": "{motif}",
    "missing-return": "Aucune remontée retenue du projet {projet} pour {periode} ; la dernière remontée retenue est utilisée.",
    "committee-date-unknown": "Le {date} ne figure pas parmi les comités du référentiel (feuille Comités) ; le dossier "
                              "est arrêté à cette date.",
    "missing-value": "« {champ} » doit être renseigné.",
    "type-error": "{motif}",
    "ambiguous-number": "« {valeur} » est ambigu : le point peut séparer les milliers ou les décimales.",
    "ambiguous-date": "« {valeur} » : l'année doit être écrite sur quatre chiffres.",
    "formula-without-value": "La cellule contient une formule enregistrée sans sa valeur calculée.",
    "error-cell": "La cellule contient une erreur de calcul ({erreur}).",
    "not-in-list": "« {valeur} » n'est pas {attendu}.",
    "out-of-range": "{motif}",
    "invalid-format": "{motif}",
    "too-many-decimals": "« {valeur} » a plus de deux décimales.",
    "duplicate-key": "L'EJ {ej} figure plusieurs fois pour l'exercice {exercice} ({autres} aussi) ; toutes ces lignes "
                     "sont écartées.",
    "ej-cp-exceeds-ae": "EJ {ej} : en {annee}, les CP cumulés ({cp}) dépassent les AE cumulées ({ae}) ; toutes les lignes "
                        "de l'EJ sont écartées.",
    "ej-negative-ae": "EJ {ej} : en {annee}, les AE cumulées ({ae}) deviennent négatives ; toutes les lignes de l'EJ sont "
                      "écartées.",
    "ej-negative-cp": "EJ {ej} : en {annee}, les CP cumulés ({cp}) deviennent négatifs ; toutes les lignes de l'EJ sont "
                      "écartées.",
    "ej-date-after-situation": "La date de l'EJ ({date}) est postérieure à la date de situation.",
    "imputation-mismatch": "Ligne FTAP : « {champ} » vaut « {valeur} », le référentiel attend {attendu}.",
    "criterion-cost-cap": "Coût total du projet {cout}, pour un plafond de {plafond}.",
    "criterion-cofinancing-missing": "La feuille Financement ne comporte aucune ligne Porteur ou Co-porteur.",
    "criterion-cofinancing-share": "Part de cofinancement {part}, pour une part visée de {visee}.",
    "criterion-porteur-category": "« {categorie} » : {condition}.",
    "criterion-duration": "Accompagnement du {debut} au {fin} : plus de {mois} mois.",
    "criterion-cadrage-date": "Document de cadrage du {cadrage}, après le début de l'accompagnement ({debut}).",
    "criterion-roi": "ROI prévisionnel à 3 ans de {roi} pour un minimum de {minimum}.",
    "criterion-not-assessable": "{motif}",
    "not-checked-offline": "Sans référentiel, ce contrôle n'a pas lieu ici : {controle}. Le traitement central de la "
                           "DITP le fera.",
    "referentiel-missing": "Référentiel introuvable : {chemin}. Déposez referentiel.xlsx dans inputs/reference/ (la "
                           "commande « ftap demo » en écrit un exemple).",
    "referentiel-unreadable": "Référentiel illisible ({fichier}) : {motif}",
    "referentiel-invalid": "Le référentiel {fichier} ne peut pas être utilisé : {nombre} anomalie(s) à corriger.",
    "referentiel-missing-sheet": "La feuille « {feuille} » est absente du référentiel.",
    "referentiel-missing-column": "{motif}",
    "referentiel-invalid-value": "{motif}",
    "referentiel-duplicate-project": "L'identifiant {projet} figure plusieurs fois.",
    "referentiel-duplicate-row": "La ligne {ligne} répète la ligne {premiere} ({cle}) : saisie deux fois, elle compterait "
                                 "deux fois.",
    "referentiel-missing-code": "Le code « {code} » est absent de la nomenclature.",
    "referentiel-unknown-parameter": "Le paramètre « {parametre} » n'est pas connu ({connus}).",
    "chorus-unreadable-file": "{motif}",
    "chorus-unknown-layout": "Aucune ligne d'en-tête de restitution Chorus reconnue (INF-BUD-53 engagements ou paiements, "
                             "fichier national AIFE).{ressemblance}",
    "chorus-unreadable-line": "{motif}",
    "chorus-wrong-field-count": "La ligne {ligne} compte {valeurs} valeur(s) pour {colonnes} colonne(s) d'en-tête : ses "
                                "colonnes sont décalées, elle n'est pas prise en compte.",
    "chorus-wrong-separator": "La ligne {ligne} est séparée par « {separateur} » et non par « {attendu} » comme "
                              "l'en-tête : elle n'est pas prise en compte.",
    "chorus-truncated-line": "La dernière ligne du fichier, la ligne {ligne}, s'arrête au milieu, sans fin de ligne : "
                             "le fichier semble coupé, cette ligne n'est pas prise en compte.",
    "chorus-cp-exceeds-ae": "Dans Chorus, l'EJ {ej} cumule {cp} de CP pour {ae} d'AE : {ecart} payés au-delà de "
                            "l'engagement.",
    "chorus-no-dates": "La restitution « {fichier} », {format}, ne porte pas de date : ses AE sont prises en cumul, sans "
                       "année ni filtre à la date d'arrêté.",
    "chorus-duplicate-movement": "{nombre} mouvement(s) de « {fichier} » figurent déjà dans « {premier} » (même EJ, poste, "
                                 "DP, date et montant) : ils ne sont comptés qu'une fois.",
    "missing-gap-explanation": "{nature} {annee} : réalisé {realise} pour un prévisionnel de {prevision}, sans explication.",
})


def _r(slug: str, severity: Severity, scope: Scope, title: str, action: str) -> Rule:
    return Rule(slug, severity, scope, title, action, TEMPLATES[slug])


B, A, I = Severity.BLOQUANT, Severity.AVERTISSEMENT, Severity.INFORMATION
RET, LINE, NONE = Scope.RETURN, Scope.LINE, Scope.NONE

RULES: Final[dict[str, Rule]] = {
    r.slug: r
    for r in (
        # --- the file itself
        _r("file-unreadable", B, RET, "Fichier illisible ou endommagé",
           "Rouvrez le fichier dans Excel ou LibreOffice, enregistrez-le au format .xlsx et renvoyez-le."),
        _r("file-encrypted", B, RET, "Fichier protégé par un mot de passe",
           "Retirez le mot de passe d'ouverture (Fichier > Informations > Protéger le classeur) et renvoyez le fichier."),
        _r("inbox-entry-refused", B, RET, "Entrée du dossier des remontées non lue",
           "Déposez la remontée elle-même, comme fichier ordinaire au nom visible (ni lien, ni dossier, ni fichier "
           "caché), et renommez-la si son nom n'est pas lisible."),
        _r("file-unsupported", B, RET, "Type de fichier non accepté",
           "Utilisez le modèle de remontée et enregistrez-le au format .xlsx, .xlsm, .ods ou .xls."),
        _r("file-too-large", B, RET, "Fichier trop volumineux",
           "Vérifiez que le fichier ne contient que la remontée (pas d'images ni de données annexes) et renvoyez-le."),
        _r("file-suspicious", B, RET, "Fichier au contenu suspect, refusé",
           "Rouvrez le fichier dans Excel ou LibreOffice, enregistrez-le sous un nouveau nom au format .xlsx et "
           "renvoyez-le ; si vous ne l'avez pas préparé vous-même, signalez-le à la DITP."),
        _r("too-many-lines", B, RET, "Remontée trop longue",
           "Vérifiez que la feuille ne contient que les lignes de la remontée (pas d'extraction complète ni de lignes "
           "copiées en trop) ; si le projet compte vraiment autant de lignes, demandez à la DITP de relever le "
           "plafond « Lignes max. par remontée »."),
        # --- structure
        _r("missing-sheet", B, RET, "Feuille obligatoire absente",
           "Repartez du modèle de remontée (commande « ftap template ») : il contient toutes les feuilles attendues."),
        _r("missing-optional-sheet", A, NONE, "Feuille absente",
           "Ajoutez la feuille à partir du modèle de remontée ; sans elle, certains critères ne peuvent être évalués."),
        _r("missing-column", B, LINE, "Colonne obligatoire absente",
           "Rétablissez l'en-tête de colonne exactement comme dans le modèle de remontée."),
        _r("extra-sheet", I, NONE, "Feuille non prévue, ignorée",
           "Aucune action nécessaire : la feuille n'est pas lue."),
        _r("hidden-twin-sheet", A, NONE, "Feuille masquée du même nom, ignorée",
           "Supprimez la feuille masquée (clic droit sur un onglet > Afficher, puis Supprimer) : seule la feuille "
           "visible doit porter ce nom."),
        _r("ambiguous-sheet", B, RET, "Feuilles en double",
           "Gardez une seule feuille de ce nom, celle qui porte les données à jour, et renvoyez le fichier."),
        _r("extra-column", I, NONE, "Colonne non prévue, ignorée",
           "Aucune action nécessaire : la colonne n'est pas lue."),
        _r("total-row", I, NONE, "Ligne de total reconnue, ignorée",
           "Aucune action nécessaire : les totaux sont recalculés par la DITP."),
        # --- the Projet form
        _r("invalid-project-id", B, RET, "Identifiant du projet absent ou mal formé",
           "Indiquez l'identifiant attribué par le comité de pilotage, au format AP-AAAA-NN ou AP-AAAA-NNN "
           "(ex. AP-2024-07, AP-2026-114)."),
        _r("unknown-project", B, RET, "Projet inconnu du référentiel",
           "Vérifiez l'identifiant du projet auprès de la DITP : il doit figurer dans la liste des projets sélectionnés."),
        _r("invalid-period", B, RET, "Période de remontée absente ou mal formée",
           "Indiquez le trimestre au format AAAA-Tn (ex. 2025-T2)."),
        _r("invalid-situation-date", B, RET, "Date de situation absente ou illisible",
           "Indiquez la date de situation au format jj/mm/aaaa, normalement le dernier jour du trimestre."),
        _r("situation-outside-period", B, RET, "Date de situation hors de la période",
           "La date de situation doit tomber dans le trimestre déclaré : corrigez l'une ou l'autre."),
        _r("ambiguous-version", B, RET, "Deux remontées de même version et de contenu différent",
           "Indiquez laquelle fait foi en renvoyant la bonne avec un numéro de version supérieur."),
        _r("findings-not-listed", I, NONE, "Anomalies non listées",
           "Corrigez d'abord les anomalies listées, qui se répètent souvent, puis renvoyez la remontée : les suivantes "
           "apparaîtront au prochain contrôle."),
        _r("superseded-return", I, NONE, "Remontée remplacée",
           "Aucune action nécessaire : une version plus récente de la remontée fait foi."),
        _r("invalid-project-field", A, NONE, "Champ de la fiche projet absent ou invalide",
           "Complétez ou corrigez le champ dans la feuille Projet."),
        _r("missing-return", A, NONE, "Remontée manquante",
           "Envoyez la remontée du trimestre ; à défaut, la dernière remontée retenue est utilisée."),
        _r("committee-date-unknown", A, NONE, "Date de comité absente du référentiel",
           "Vérifiez la date demandée ; si le comité a bien lieu ce jour-là, ajoutez-le à la feuille Comités du "
           "référentiel, car les évolutions se comparent au comité précédent."),
        # --- cell values (the line is left out)
        _r("missing-value", B, LINE, "Valeur obligatoire absente", "Renseignez la cellule."),
        _r("type-error", B, LINE, "Valeur illisible",
           "Saisissez un nombre (ex. 1 200 000,50) ou une date (ex. 31/03/2025) selon la colonne."),
        _r("ambiguous-number", B, LINE, "Nombre ambigu",
           "La virgule est le séparateur décimal : écrivez 1200 ou 1,2 plutôt que 1.200."),
        _r("ambiguous-date", B, LINE, "Date ambiguë",
           "Écrivez la date avec l'année sur quatre chiffres, au format jj/mm/aaaa."),
        _r("formula-without-value", B, LINE, "Formule sans valeur calculée",
           "Ouvrez le fichier dans Excel ou LibreOffice, laissez le calcul se faire, enregistrez puis renvoyez-le ; "
           "ou remplacez la formule par sa valeur."),
        _r("error-cell", B, LINE, "Cellule en erreur",
           "Corrigez la formule de la cellule (#REF!, #DIV/0!…) ou saisissez la valeur."),
        _r("not-in-list", B, LINE, "Valeur hors de la liste autorisée",
           "Choisissez une valeur de la liste déroulante du modèle."),
        _r("out-of-range", B, LINE, "Valeur hors des bornes autorisées", "Corrigez la valeur selon la règle rappelée."),
        _r("invalid-format", B, LINE, "Valeur mal formée", "Corrigez la valeur selon le format rappelé."),
        _r("too-many-decimals", B, LINE, "Montant à plus de deux décimales", "Arrondissez le montant au centime."),
        _r("duplicate-key", B, LINE, "Doublon (N° EJ, Exercice)",
           "Regroupez sur une seule ligne les montants d'un même EJ pour un même exercice."),
        _r("ej-cp-exceeds-ae", B, LINE, "CP cumulés supérieurs aux AE cumulées sur l'EJ",
           "Vérifiez les montants de l'EJ : les CP payés ne peuvent dépasser les AE engagées, exercice après exercice."),
        _r("ej-negative-ae", B, LINE, "AE cumulées négatives sur l'EJ",
           "Un retrait ne peut dépasser ce qui a été engagé : vérifiez les montants de l'EJ."),
        _r("ej-negative-cp", B, LINE, "CP cumulés négatifs sur l'EJ",
           "Une correction de paiement ne peut dépasser ce qui a été payé : vérifiez les CP de l'EJ."),
        _r("ej-date-after-situation", B, LINE, "Date de l'EJ postérieure à la date de situation",
           "Vérifiez la date de l'EJ ou la date de situation de la remontée."),
        # --- warnings kept in the totals
        _r("imputation-mismatch", A, NONE, "Imputation budgétaire différente de celle du référentiel",
           "Vérifiez dans Chorus le centre financier, le domaine fonctionnel et l'activité de l'EJ (programme 349)."),
        _r("criterion-cost-cap", A, NONE, "Coût total du projet au-delà du plafond (§4.3)",
           "Le coût total (FTAP et cofinancement) doit rester sous le plafond ; justifiez-le auprès de la DITP."),
        _r("criterion-cofinancing-missing", A, NONE, "Aucun cofinancement du porteur (§4.3)",
           "Le projet doit être cofinancé par le porteur : complétez la feuille Financement."),
        _r("criterion-cofinancing-share", A, NONE, "Part de cofinancement inférieure à la part visée (§2)",
           "Vérifiez la feuille Financement ; justifiez l'écart auprès de la DITP."),
        _r("criterion-porteur-category", A, NONE, "Catégorie de porteur non éligible en l'état (§4.3)",
           "Vérifiez la catégorie de porteur et les conditions associées (projet conduit avec l'État, "
           "financement majoritaire de l'État)."),
        _r("criterion-duration", A, NONE, "Accompagnement de plus de six mois (§4.1)",
           "Vérifiez les dates de début et de fin de l'accompagnement."),
        _r("criterion-cadrage-date", A, NONE, "Document de cadrage postérieur au début du projet (§4.3)",
           "Vérifiez la date du document de cadrage : il doit précéder le lancement."),
        _r("criterion-roi", A, NONE, "ROI prévisionnel à 3 ans inférieur au minimum (§3)",
           "Vérifiez les économies prévisionnelles pérennes et le financement FTAP prévu."),
        _r("criterion-not-assessable", I, NONE, "Critère non évaluable",
           "Complétez les données manquantes pour que le critère puisse être évalué."),
        _r("not-checked-offline", I, NONE, "Contrôle réservé au traitement central",
           "Aucune correction à faire. Pour avoir ce contrôle avant l'envoi, remplissez le modèle personnalisé de "
           "votre projet (ftap template --projet), ou indiquez le référentiel (--referentiel)."),
        # --- the référentiel (inputs/reference/referentiel.xlsx): any of these stops the run
        _r("referentiel-missing", B, RET, "Référentiel introuvable",
           "Déposez le référentiel de la DITP dans inputs/reference/referentiel.xlsx."),
        _r("referentiel-unreadable", B, RET, "Référentiel illisible",
           "Rouvrez le référentiel dans Excel ou LibreOffice, enregistrez-le au format .xlsx et redéposez-le."),
        _r("referentiel-invalid", B, RET, "Référentiel inutilisable",
           "Corrigez chacune des anomalies listées, puis relancez le traitement."),
        _r("referentiel-missing-sheet", B, RET, "Feuille du référentiel absente",
           "Ajoutez la feuille avec ses en-têtes, comme le décrit la documentation du référentiel."),
        _r("referentiel-missing-column", B, RET, "Colonne du référentiel absente",
           "Rétablissez l'en-tête de colonne exactement comme le décrit la documentation du référentiel."),
        _r("referentiel-invalid-value", B, RET, "Valeur du référentiel absente ou invalide",
           "Corrigez la cellule : le référentiel fixe les enveloppes, les projets et les seuils de tout le rapport."),
        _r("referentiel-duplicate-row", B, RET, "Ligne en double dans le référentiel",
           "Supprimez la ligne en double : gardez-en une seule, avec les bons montants."),
        _r("referentiel-duplicate-project", B, RET, "Projet en double dans le référentiel",
           "Ne gardez qu'une ligne par identifiant de projet dans la feuille Projets."),
        _r("referentiel-missing-code", B, RET, "Code de nomenclature absent du référentiel",
           "Ajoutez le code (programme, centre financier, domaine fonctionnel, activité) à la feuille Nomenclature."),
        _r("referentiel-unknown-parameter", B, RET, "Paramètre inconnu dans le référentiel",
           "Corrigez le libellé du paramètre : il doit être l'un de ceux que la documentation du référentiel liste."),
        # --- Chorus restitutions (inputs/chorus/)
        _r("chorus-unreadable-file", B, RET, "Restitution Chorus illisible",
           "Téléchargez de nouveau la restitution depuis Chorus (CSV ou XLSX) sans la modifier."),
        _r("chorus-unknown-layout", B, RET, "Restitution Chorus de format inconnu",
           "Déposez une restitution INF-BUD-53 (engagements ou paiements) ou un fichier national AIFE, "
           "avec sa ligne d'en-tête."),
        _r("chorus-unreadable-line", B, LINE, "Ligne de restitution Chorus illisible",
           "Vérifiez la ligne dans la restitution ; elle n'est pas prise en compte dans le rapprochement."),
        _r("chorus-wrong-field-count", B, LINE, "Ligne de restitution Chorus au mauvais nombre de valeurs",
           "Vérifiez la ligne : un montant à virgule sans guillemets ou un séparateur en trop décale ses colonnes. "
           "Téléchargez de nouveau la restitution depuis Chorus sans la modifier."),
        _r("chorus-wrong-separator", B, LINE, "Ligne de restitution Chorus à un autre séparateur",
           "La ligne vient sans doute d'un autre fichier : téléchargez de nouveau la restitution depuis Chorus sans "
           "la modifier, ou corrigez le séparateur de la ligne."),
        _r("chorus-truncated-line", B, LINE, "Restitution Chorus coupée",
           "Le téléchargement ou la copie a été interrompu : téléchargez de nouveau la restitution depuis Chorus."),
        _r("chorus-cp-exceeds-ae", A, NONE, "Dans Chorus, CP cumulés supérieurs aux AE cumulées de l'EJ",
           "Signalez l'EJ au service facturier ou au contrôleur budgétaire : Chorus paie plus qu'il n'a engagé."),
        _r("chorus-no-dates", I, NONE, "Restitution Chorus sans dates",
           "Aucune action : cette restitution ne donne que des cumuls, sans date d'arrêté ni exercice."),
        _r("chorus-duplicate-movement", I, NONE, "Mouvement Chorus présent dans plusieurs restitutions",
           "Aucune action : les restitutions se recouvrent, le mouvement n'est compté qu'une fois."),
        _r("missing-gap-explanation", A, NONE, "Écart aux économies prévues non expliqué (§7)",
           "Expliquez dans la colonne « Explication de l'écart » pourquoi le réalisé est inférieur au prévisionnel."),
    )
}


@dataclass(frozen=True)
class Finding:
    """One thing found in one input: where, what was read, which rule, how serious."""

    slug: str
    message: str
    file: str = ""
    sha256: str = ""
    #: The project and period the finding concerns (of its return, or of a missing return); empty when unknown.
    project_id: str = ""
    period: str = ""
    sheet: str = ""
    cell: str = ""
    field: str = ""
    value: str = ""
    #: Excel row of the line it concerns (table sheets), so that the line can be left out.
    row: int | None = None
    #: When set, overrides the rule's scope (e.g. a missing column of an optional sheet rejects its lines only).
    scope: Scope | None = None

    @property
    def rule(self) -> Rule:
        return RULES[self.slug]

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def effective_scope(self) -> Scope:
        return self.scope if self.scope is not None else self.rule.scope

    @property
    def action(self) -> str:
        return self.rule.action


def message(slug: str, **values: object) -> str:
    """The message of a rule, its template filled; refuses an unknown slug at once, so a typo cannot slip through."""
    if slug not in RULES:
        raise KeyError(f"unknown finding slug: {slug}")
    return RULES[slug].render(values)


def finding(slug: str, values: Mapping[str, object] | None = None, /, **where: object) -> Finding:
    """Build a finding whose message is its rule's template filled with `values`."""
    return _build(slug, message(slug, **(values or {})), where)


def finding_of(error: InputErrorLike, **where: object) -> Finding:
    """The finding of an input error, whose message was already rendered from its slug's template."""
    return _build(error.slug, error.message, where)


class InputErrorLike(Protocol):
    """What `finding_of` needs of an `InputError` (which imports this module, so it cannot be named here)."""

    slug: str
    message: str


def _build(slug: str, text: str, where: Mapping[str, object]) -> Finding:
    if slug not in RULES:
        raise KeyError(f"unknown finding slug: {slug}")
    return Finding(slug=slug, message=text, **where)  # type: ignore[arg-type]
