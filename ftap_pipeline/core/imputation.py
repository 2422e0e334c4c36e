"""Does a line carry the dispositif's imputation? One comparison, for the warning and the reconciliation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ftap_pipeline.contract.referentiel import Nomenclature

#: The three codes an FTAP line must carry.
CODES = ("centre_financier", "domaine_fonctionnel", "activite")


def _rules(nomenclature: Nomenclature) -> dict[str, tuple[Callable[[object], bool], tuple[str, ...]]]:
    return {"centre_financier": (nomenclature.centre_financier_matches, (nomenclature.centre_financier,)),
            "domaine_fonctionnel": (nomenclature.domaine_matches, nomenclature.domaines_fonctionnels),
            "activite": (nomenclature.activite_matches, (nomenclature.activite,))}


def expected_code(nomenclature: Nomenclature, key: str) -> str:
    """What the référentiel expects, as a message says it: `« 0349-01 » ou « 0349-0101B501 »`."""
    return " ou ".join(f"« {code} »" for code in _rules(nomenclature)[key][1])


def mismatches(df: pd.DataFrame, nomenclature: Nomenclature) -> pd.DataFrame:
    """One boolean column per code: True where the line's code differs from the référentiel's (after
    normalisation, see `normalise_code`). An empty code differs."""
    rules = _rules(nomenclature)
    return pd.DataFrame({key: ~_by_value(df[key], rules[key][0]) for key in CODES}, index=df.index)


def _by_value(column: pd.Series, rule: Callable[[object], bool]) -> np.ndarray:
    """`column.map(rule)`, judging each distinct code once: a column holds a handful of codes over
    hundreds of thousands of lines."""
    distinct = pd.unique(column)
    verdicts = np.fromiter((bool(rule(value)) for value in distinct), dtype=bool, count=len(distinct))
    return verdicts[pd.Index(distinct).get_indexer(pd.Index(column))]
