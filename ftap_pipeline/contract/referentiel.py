"""The référentiel: reference data the DITP keeps (envelopes, tranches, projects, nomenclature, parameters).

Read and validated by `ftap_pipeline.io.referentiel_reader`; the core only sees this frozen record.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Final

import pandas as pd

# Parameter labels of the `Paramètres` sheet, and their defaults (referentiel.md).
P_PLAFOND: Final = "Plafond coût projet (€)"
P_COFINANCEMENT: Final = "Part de cofinancement visée"
P_DUREE: Final = "Durée max. d'accompagnement (mois)"
P_ROI: Final = "Ratio ROI minimal à 3 ans"
P_PROJETS_AN: Final = "Projets par an visés"
P_COMITES_AN: Final = "Comités par an minimum"
P_TOLERANCE: Final = "Tolérance de rapprochement (€)"
#: Caps per return (optional rows: a référentiel without them takes the defaults): more lines than this in one
#: sheet refuses the return before its lines are checked; past the findings cap, findings are counted, not listed.
P_LIGNES_MAX: Final = "Lignes max. par remontée"
P_ANOMALIES_MAX: Final = "Anomalies max. par remontée"
#: The rows referentiel.md does not list: a référentiel may leave them out.
OPTIONAL_PARAMETERS: Final = (P_LIGNES_MAX, P_ANOMALIES_MAX)
DEFAULT_PARAMETERS: Final[dict[str, float]] = {
    P_PLAFOND: 2_000_000.0,
    P_COFINANCEMENT: 0.5,
    P_DUREE: 6.0,
    P_ROI: 1.0,
    P_PROJETS_AN: 10.0,
    P_COMITES_AN: 3.0,
    P_TOLERANCE: 1.0,
    P_LIGNES_MAX: 5000.0,
    P_ANOMALIES_MAX: 500.0,
}

#: What each parameter may be (low, high), so that a slip (a share typed as 50 for 50 %, a
#: duration of 200 000 months) is refused with the référentiel rather than giving absurd criteria.
PARAMETER_BOUNDS: Final[dict[str, tuple[float, float]]] = {
    P_PLAFOND: (1.0, 1e12),
    P_COFINANCEMENT: (0.0, 1.0),
    P_DUREE: (1.0, 120.0),
    P_ROI: (0.0, 100.0),
    P_PROJETS_AN: (1.0, 1000.0),
    P_COMITES_AN: (1.0, 52.0),
    P_TOLERANCE: (0.0, 1e6),
    # The reader refuses a sheet of more than 100 000 rows whatever this says (`preflight.MAX_ROWS`).
    P_LIGNES_MAX: (1.0, 100_000.0),
    P_ANOMALIES_MAX: (10.0, 100_000.0),
}

_CODE_PREFIX = re.compile(r"^(BG00|PCE)/", re.IGNORECASE)


def normalise_code(code: object) -> str:
    """Fold an imputation code as contrat.md says: drop `-`, spaces and a `BG00/`/`PCE/` prefix, upper-case,
    and zero-pad a three-digit programme (`349…` → `0349…`).

    `0349-0101B501`, `03490101B501` and `BG00/03490101B501` are the same activité.
    """
    if code is None:
        return ""
    return _normalise_text(str(code))


@functools.lru_cache(maxsize=1 << 16)
def _normalise_text(text: str) -> str:
    """`normalise_code` of a text, remembered: a run folds the same few codes on every line of every return
    and of every Chorus extract (half a million calls for a thousand returns)."""
    s = text.strip()
    if s in ("", "#"):
        return ""
    s = _CODE_PREFIX.sub("", s)
    s = re.sub(r"[\s\-\u00a0\u202f]", "", s).upper()
    if s.endswith(".0") and s[:-2].isdigit():
        s = s[:-2]
    if s.startswith("349"):
        # Programme codes are four digits in Chorus; "349…" is the unpadded programme 0349.
        s = "0" + s
    return s


@dataclass(frozen=True)
class Nomenclature:
    programme: str = "0349"
    centre_financier: str = "0349-CDBU-DITP"
    domaines_fonctionnels: tuple[str, ...] = ("0349-01", "0349-0101B501")
    activite: str = "03490101B501"

    def programme_matches(self, code: object) -> bool:
        return normalise_code(code) == normalise_code(self.programme)

    def centre_financier_matches(self, code: object) -> bool:
        return normalise_code(code) == normalise_code(self.centre_financier)

    def domaine_matches(self, code: object) -> bool:
        return normalise_code(code) in {normalise_code(d) for d in self.domaines_fonctionnels}

    def activite_matches(self, code: object) -> bool:
        return normalise_code(code) == normalise_code(self.activite)


@dataclass(frozen=True)
class Referentiel:
    """Reference data as read, before any cut-off is applied (the core filters on dates)."""

    #: Date d'effet, Catégorie, Titre, Année, Financeur, AE, CP → columns date_effet, categorie, titre, annee,
    #: financeur, ae, cp.
    enveloppes: pd.DataFrame
    #: annee, date_decision, ae, cp.
    tranches: pd.DataFrame
    #: project_id, intitule, porteur, ministere, date_selection, cycle.
    projets: pd.DataFrame
    #: date, instance, objet.
    comites: pd.DataFrame
    nomenclature: Nomenclature = field(default_factory=Nomenclature)
    #: Compte budgétaire → titre, overriding the first-digit default.
    comptes_budgetaires: dict[str, int] = field(default_factory=dict)
    #: project_id, annee, nature, montant, source.
    economies_reference: pd.DataFrame = field(default_factory=pd.DataFrame)
    parameters: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PARAMETERS))
    #: File name and SHA-256 of the workbook it was read from, for the manifest.
    source: str = ""
    sha256: str = ""

    def parameter(self, name: str) -> float:
        return self.parameters.get(name, DEFAULT_PARAMETERS[name])

    @property
    def project_ids(self) -> frozenset[str]:
        return frozenset(self.projets["project_id"]) if not self.projets.empty else frozenset()

    def titre_of_compte(self, compte: object) -> int | None:
        """Titre of a Chorus `Compte budgétaire`: the référentiel's mapping, else its first digit."""
        code = normalise_code(compte)
        if not code:
            return None
        if code in self.comptes_budgetaires:
            return self.comptes_budgetaires[code]
        return int(code[0]) if code[0].isdigit() else None

    def enveloppes_at(self, cutoff: dt.date) -> pd.DataFrame:
        """Envelopes in force at the cut-off: for each category × titre × year × financer, the rows of the
        latest `Date d'effet` on or before it (an avenant replaces earlier rows from its date)."""
        env = self.enveloppes
        if env.empty:
            return env
        env = env[env["date_effet"] <= cutoff]
        if env.empty:
            return env
        keys = ["categorie", "titre", "annee", "financeur"]
        latest = env.groupby(keys)["date_effet"].transform("max")
        return env[env["date_effet"] == latest].reset_index(drop=True)

    def tranches_at(self, cutoff: dt.date) -> pd.DataFrame:
        """The tranche of each year: the latest decision on or before the cut-off."""
        tr = self.tranches
        if tr.empty:
            return tr
        tr = tr[tr["date_decision"] <= cutoff].sort_values(["annee", "date_decision"])
        return tr.groupby("annee", as_index=False).tail(1).reset_index(drop=True)
