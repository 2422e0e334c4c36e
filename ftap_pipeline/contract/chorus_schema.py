"""The Chorus restitutions the pipeline accepts (chorus.md) and the normalised movements frame.

The layouts are written once here: the reader detects a file's header with them and the core reads
each field through them, so a column label is never spelled twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Final

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from ftap_pipeline.contract.enums import SANS_EJ
from ftap_pipeline.contract.tables import Pick, TableLayout

#: Title lines above the header are a handful; a header further down is not a Chorus restitution.
MAX_HEADER_SCAN: Final = 50
#: Characters of one value of a CSV restitution at most: a Chorus value is a code, a date, an amount or a
#: label of a few hundred characters; a longer one is a damaged line, refused alone.
MAX_FIELD_CHARS: Final = 1_000
#: Characters of one physical line of a CSV restitution at most (a real line has a few hundred): a longer
#: line is refused before it is split.
MAX_LINE_CHARS: Final = 100_000
#: Separators a CSV restitution may use, in the order they are tried on its header.
CSV_DELIMITERS: Final = (";", ",")

AE: Final = "AE"
CP: Final = "CP"

INF_BUD_53_AE: Final = "inf-bud-53-ae"
INF_BUD_53_CP: Final = "inf-bud-53-cp"
AIFE_AE: Final = "aife-ae"
AIFE_CP: Final = "aife-cp"


@dataclass(frozen=True)
class ChorusLayout:
    """One restitution layout: the labels of each field it carries, and those it cannot do without."""

    key: str
    kind: str  # AE or CP
    title: str  # French, for messages
    #: Field key → accepted header labels (compared after `normalise_label`); the first is the official one.
    labels: dict[str, tuple[str, ...]]
    #: Fields whose columns must all be in the header for the layout to be recognised.
    required: frozenset[str]

    @cached_property
    def table(self) -> TableLayout:
        """Its header: the first row, among the first fifty (title lines come above), naming every required column."""
        return TableLayout(self.title, self.labels, required=self.required, search_rows=MAX_HEADER_SCAN,
                           pick=Pick.FIRST)

    def field_of(self, header: object) -> str | None:
        """The field a header cell names in this layout, if any."""
        return self.table.key_of(header)


_INF_BUD_IMPUTATION: Final[dict[str, tuple[str, ...]]] = {
    "programme": ("Programme",),
    "domaine_fonctionnel": ("Domaine fonctionnel",),
    "centre_couts": ("Centre de coûts",),
    "activite": ("Référentiel de programmation",),
    "ej": ("N° EJ",),
    "poste": ("N° poste EJ",),
    "compte_budgetaire": ("Compte budgétaire",),
    "montant": ("EUR",),
}
_AIFE_IMPUTATION: Final[dict[str, tuple[str, ...]]] = {
    "programme": ("Centre financier - Programme (Clé)",),
    "centre_financier": ("Centre financier - Clé (non composée)",),
    "domaine_fonctionnel": ("Domaine fonctionnel - Clé",),
    "activite": ("Référentiel de programmation - Clé (non composée)",),
    "ej": ("N° EJ",),
    "poste": ("N° poste EJ",),
    "compte_budgetaire": ("Compte budgétaire - Clé (non composée)",),
}

#: Checked in this order; when one header row fits several layouts, the one matching most columns wins.
LAYOUTS: Final[tuple[ChorusLayout, ...]] = (
    ChorusLayout(
        INF_BUD_53_AE, AE, "INF-BUD-53 des engagements",
        {
            **_INF_BUD_IMPUTATION,
            "date_replication": ("Date de réplication",),
            "date_modification": ("Date de dernière modif. de l'EJ",),
            "fournisseur": ("Fournisseur titulaire principal (EJ)",),
            "groupe_marchandises": ("Groupe de marchandises",),
        },
        frozenset({"programme", "activite", "ej", "date_replication", "montant"}),
    ),
    ChorusLayout(
        INF_BUD_53_CP, CP, "INF-BUD-53 des paiements",
        {
            **_INF_BUD_IMPUTATION,
            "dp": ("N° DP",),
            "date_base_dp": ("Date de base de la DP",),
            "sf": ("N° SF",),
            "date_sf": ("Date comptable du SF",),
            "exercice": ("Exercice comptable",),
            "fournisseur": ("Fournisseur payé (DP)",),
        },
        frozenset({"programme", "activite", "ej", "dp", "montant"}),
    ),
    ChorusLayout(
        AIFE_AE, AE, "fichier national AIFE des engagements",
        {**_AIFE_IMPUTATION, "montant": ("Montant engagé (EUR)",)},
        frozenset({"programme", "centre_financier", "activite", "ej", "montant"}),
    ),
    ChorusLayout(
        AIFE_CP, CP, "fichier national AIFE des paiements",
        {
            **_AIFE_IMPUTATION,
            "dp": ("N° DP - Clé (non composée)",),
            "poste_dp": ("N° poste DP",),
            "exercice": ("Exercice comptable - Clé (non composée)",),
            "montant": ("Montant payé (EUR)",),
        },
        frozenset({"programme", "centre_financier", "activite", "ej", "dp", "exercice", "montant"}),
    ),
)
LAYOUT_BY_KEY: Final[dict[str, ChorusLayout]] = {layout.key: layout for layout in LAYOUTS}


class ChorusMovementsSchema(pa.DataFrameModel):
    """One Chorus movement (an engagement or a payment line) of programme 0349, as the core reads it."""

    source: Series[str] = pa.Field(description="Nom du fichier de restitution Chorus d'où vient la ligne.")
    sha256: Series[str] = pa.Field(description="Empreinte SHA-256 du fichier de restitution.")
    line: Series[int] = pa.Field(ge=1, description="Ligne du fichier (CSV) ou ligne Excel (XLSX) du mouvement.")
    layout: Series[str] = pa.Field(isin=list(LAYOUT_BY_KEY), description="Format de restitution reconnu.")
    kind: Series[str] = pa.Field(isin=[AE, CP], description="AE (engagement) ou CP (paiement).")
    ej: Series[str] = pa.Field(
        str_matches=rf"^(\d{{10}}|{re.escape(SANS_EJ)})$",
        description="N° d'engagement juridique (10 chiffres, en texte), ou « (sans EJ) » pour un paiement sans EJ.",
    )
    poste: Series[str] = pa.Field(description="N° de poste de l'EJ (vide si absent).")
    dp: Series[str] = pa.Field(description="N° de demande de paiement (vide pour un engagement).")
    date: Series[pa.Date] = pa.Field(
        nullable=True,
        description="Date du mouvement : réplication de l'EJ (AE), comptabilisation du SF ou date de base de la DP "
                    "(CP) ; vide quand la restitution n'en porte pas.",
    )
    annee: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="Année du mouvement (de sa date, sinon de l'exercice comptable) ; vide si inconnue."
    )
    programme: Series[str] = pa.Field(description="Programme, normalisé sur quatre chiffres (0349).")
    centre_financier: Series[str] = pa.Field(
        description="Centre financier, préfixe BG00/ ôté ; vide quand le format n'en porte pas (INF-BUD-53)."
    )
    domaine_fonctionnel: Series[str] = pa.Field(description="Domaine fonctionnel, préfixe ôté.")
    activite: Series[str] = pa.Field(description="Activité (référentiel de programmation), préfixe BG00/ ôté.")
    compte_budgetaire: Series[str] = pa.Field(description="Compte budgétaire, préfixe PCE/ ôté.")
    titre: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="Titre budgétaire déduit du compte budgétaire par le référentiel."
    )
    fournisseur: Series[str] = pa.Field(description="Fournisseur titulaire (AE) ou payé (CP), libellé sinon code.")
    montant: Series[float] = pa.Field(description="Montant en euros, signé (une correction est négative).")
    in_dispositif: Series[bool] = pa.Field(
        description="Vrai quand l'imputation est celle du dispositif (activité et, si le format le porte, "
                    "centre financier du référentiel)."
    )

    class Config:
        strict = True
        ordered = True


MOVEMENT_COLUMNS: Final = tuple(ChorusMovementsSchema.to_schema().columns)
