"""Pandera contracts of the return's table sheets, on the lines of all returns concatenated.

Columns are the field keys of `layout.py`; descriptions come from there too, so the template, the
schemas and the documentation say the same thing. Parsing (French numbers, dates) happens before;
these models check ranges, lists and formats, and each failure is mapped back to its A1 cell.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
import pandera.pandas as pa
from pandera.typing import DataFrame, Series
from pandera.typing.common import DateTime

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.columns import SITUATION
from ftap_pipeline.contract.layout import SheetLayout

EJ_PATTERN = r"^\d{10}$"


def _d(sheet: SheetLayout, key: str) -> str:
    return sheet.field(key).description


_F, _C, _E, _I = layout.FINANCEMENT, layout.CONSOMMATION, layout.ECONOMIES, layout.INDICATEURS


class _Base(pa.DataFrameModel):
    class Config:
        strict = False
        coerce = False


class FinancementSchema(_Base):
    """Sheet `Financement`: the project's financing plan, one line per year × category × titre × object × financer."""

    annee: Series[pd.Int64Dtype] = pa.Field(in_range={"min_value": enums.ANNEE_MIN, "max_value": enums.ANNEE_MAX},
                                            description=_d(_F, "annee"))
    categorie: Series[object] = pa.Field(isin=list(enums.CATEGORIES), description=_d(_F, "categorie"))
    titre: Series[pd.Int64Dtype] = pa.Field(isin=list(enums.TITRES), description=_d(_F, "titre"))
    objet: Series[object] = pa.Field(isin=list(enums.OBJETS), description=_d(_F, "objet"))
    financeur: Series[object] = pa.Field(isin=list(enums.FINANCEURS), description=_d(_F, "financeur"))
    ae: Series[float] = pa.Field(ge=0, description=_d(_F, "ae"))
    cp: Series[float] = pa.Field(ge=0, description=_d(_F, "cp"))


class ConsommationSchema(_Base):
    """Sheet `Consommation`: credits consumed, one line per EJ × exercice, cumulative to the situation date."""

    ej: Series[object] = pa.Field(str_matches=EJ_PATTERN, description=_d(_C, "ej"))
    exercice: Series[pd.Int64Dtype] = pa.Field(in_range={"min_value": enums.ANNEE_MIN, "max_value": enums.ANNEE_MAX},
                                               description=_d(_C, "exercice"))
    date_ej: Series[DateTime] = pa.Field(description=_d(_C, "date_ej"))
    fournisseur: Series[object] = pa.Field(description=_d(_C, "fournisseur"))
    categorie: Series[object] = pa.Field(isin=list(enums.CATEGORIES), description=_d(_C, "categorie"))
    titre: Series[pd.Int64Dtype] = pa.Field(isin=list(enums.TITRES), description=_d(_C, "titre"))
    objet: Series[object] = pa.Field(isin=list(enums.OBJETS), description=_d(_C, "objet"))
    financeur: Series[object] = pa.Field(isin=list(enums.FINANCEURS), description=_d(_C, "financeur"))
    # Only FTAP lines must carry the référentiel's codes; an FTAP line without them is an imputation warning.
    centre_financier: Series[object] = pa.Field(nullable=True, description=_d(_C, "centre_financier"))
    domaine_fonctionnel: Series[object] = pa.Field(nullable=True, description=_d(_C, "domaine_fonctionnel"))
    activite: Series[object] = pa.Field(nullable=True, description=_d(_C, "activite"))
    ae: Series[float] = pa.Field(description=_d(_C, "ae"))
    cp: Series[float] = pa.Field(description=_d(_C, "cp"))
    commentaire: Series[object] = pa.Field(nullable=True, description=_d(_C, "commentaire"))

    @pa.dataframe_check(name="ej_date_not_after_situation", element_wise=False)
    @classmethod
    def ej_date_not_after_situation(cls, df: pd.DataFrame) -> Any:
        """An EJ cannot be dated after the situation its return describes."""
        if SITUATION not in df:
            return pd.Series(True, index=df.index)
        return ~(df["date_ej"] > df[SITUATION]).fillna(False)


class EconomiesSchema(_Base):
    """Sheet `Économies`: forecast and realised savings."""

    annee: Series[pd.Int64Dtype] = pa.Field(in_range={"min_value": 2000, "max_value": 2100}, description=_d(_E, "annee"))
    nature: Series[object] = pa.Field(isin=list(enums.NATURES_ECONOMIE), description=_d(_E, "nature"))
    statut: Series[object] = pa.Field(isin=list(enums.STATUTS_ECONOMIE), description=_d(_E, "statut"))
    montant: Series[float] = pa.Field(ge=0, description=_d(_E, "montant"))
    etp: Series[float] = pa.Field(ge=0, nullable=True, description=_d(_E, "etp"))
    perenne: Series[object] = pa.Field(isin=list(enums.OUI_NON), description=_d(_E, "perenne"))
    explication: Series[object] = pa.Field(nullable=True, description=_d(_E, "explication"))


class IndicateursSchema(_Base):
    """Sheet `Indicateurs`: service quality and working conditions, reference and measured values."""

    indicateur: Series[object] = pa.Field(description=_d(_I, "indicateur"))
    axe: Series[object] = pa.Field(isin=list(enums.AXES), description=_d(_I, "axe"))
    unite: Series[object] = pa.Field(description=_d(_I, "unite"))
    sens: Series[object] = pa.Field(isin=list(enums.SENS), description=_d(_I, "sens"))
    valeur_reference: Series[float] = pa.Field(description=_d(_I, "valeur_reference"))
    date_reference: Series[DateTime] = pa.Field(description=_d(_I, "date_reference"))
    valeur_mesuree: Series[float] = pa.Field(description=_d(_I, "valeur_mesuree"))
    date_mesure: Series[DateTime] = pa.Field(description=_d(_I, "date_mesure"))
    cible: Series[float] = pa.Field(nullable=True, description=_d(_I, "cible"))
    methode: Series[object] = pa.Field(isin=list(enums.METHODES), description=_d(_I, "methode"))

    @pa.dataframe_check(name="mesure_after_reference", element_wise=False)
    @classmethod
    def mesure_after_reference(cls, df: pd.DataFrame) -> Any:
        """A measure is taken after the reference it is compared with."""
        return ~(df["date_mesure"] <= df["date_reference"]).fillna(False)


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "financement": FinancementSchema,
    "consommation": ConsommationSchema,
    "economies": EconomiesSchema,
    "indicateurs": IndicateursSchema,
}

@dataclass(frozen=True)
class ColumnBounds:
    """What a model checks of one column's values, read from the model itself, for those who must say it
    again to a person (the template's input checks, the feedback's « Format attendu »)."""

    low: int | float | None = None
    high: int | float | None = None
    nullable: bool = False
    #: The other checks, by name, with the pattern of a `str_matches`: a reader that says the bounds only
    #: can refuse a column whose checks it does not all know.
    other_checks: tuple[str, ...] = ()
    pattern: str | None = None
    exclusive: bool = False


@functools.cache
def column_bounds(sheet_key: str) -> Mapping[str, ColumnBounds]:
    """The bounds of each column of a table sheet's model."""
    out: dict[str, ColumnBounds] = {}
    for key, column in SCHEMAS[sheet_key].to_schema().columns.items():
        low = high = pattern = None
        exclusive = False
        others: list[str] = []
        for check in column.checks:
            stats: dict[str, Any] = dict(check.statistics or {})
            if check.name == "in_range":
                low, high = stats["min_value"], stats["max_value"]
                exclusive = not (stats.get("include_min", True) and stats.get("include_max", True))
            elif check.name == "greater_than_or_equal_to":
                low = stats["min_value"]
            elif check.name == "less_than_or_equal_to":
                high = stats["max_value"]
            else:
                others.append(str(check.name))
                if check.name == "str_matches":
                    pattern = stats.get("pattern")
        out[str(key)] = ColumnBounds(low, high, bool(column.nullable), tuple(others), pattern, exclusive)
    return out


#: Row-wise checks: check name → (finding slug, field key it is reported on).
ROW_CHECKS: dict[str, tuple[str, str]] = {
    "ej_date_not_after_situation": ("ej-date-after-situation", "date_ej"),
    "mesure_after_reference": ("out-of-range", "date_mesure"),
}


@dataclass(frozen=True)
class TypedLines:
    """The lines of every return, one frame per table sheet, checked against its model.

    Each frame also carries the meta columns `FILE`, `ROW` and `REJECTED` (and `SITUATION` on
    Consommation); `strict = False` lets the models ignore them."""

    financement: DataFrame[FinancementSchema]
    consommation: DataFrame[ConsommationSchema]
    economies: DataFrame[EconomiesSchema]
    indicateurs: DataFrame[IndicateursSchema]

    @classmethod
    def of(cls, frames: Mapping[str, pd.DataFrame]) -> TypedLines:
        return cls(
            financement=cast(DataFrame[FinancementSchema], frames["financement"]),
            consommation=cast(DataFrame[ConsommationSchema], frames["consommation"]),
            economies=cast(DataFrame[EconomiesSchema], frames["economies"]),
            indicateurs=cast(DataFrame[IndicateursSchema], frames["indicateurs"]),
        )

    def __getitem__(self, sheet_key: str) -> pd.DataFrame:
        """The frame of a sheet by its layout key, for code that walks every table sheet."""
        if sheet_key not in SCHEMAS:
            raise KeyError(sheet_key)
        frame: pd.DataFrame = getattr(self, sheet_key)
        return frame
