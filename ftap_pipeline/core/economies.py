"""Savings against forecast (§5.2, §7): the `Économies` table of secretariat-v1.

One row per project × year × nature found in the project's standing return or in the référentiel's
`Économies de référence`. The reference forecast is the référentiel's amount where it has one, else the
forecast of the project's first kept return; `Prévision initiale` keeps that first forecast beside the
current one, so a forecast cut after the fact stays visible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.columns import FILE, REJECTED, ROW
from ftap_pipeline.contract.model import ReturnRecord

FIRST_RETURN_SOURCE = "Première remontée"
MISSING_EXPLANATION = "Explication manquante"
COLUMNS = ["Identifiant du projet", "Année", "Nature d'économie", "Prévisionnelle (€)", "Réalisée (€)", "Écart (€)",
           "Explication de l'écart", "Pérenne réalisée (€)", "Prévision de référence (€)", "Source de la prévision",
           "Prévision initiale (€)", "Alerte"]
_KEY = ["annee", "nature"]


@dataclass(frozen=True)
class _Sums:
    prev: float
    real: float
    perenne: float
    explication: str | None


def sums_by_file(lines: pd.DataFrame, files: set[str]) -> dict[str, dict[tuple[int, str], _Sums]]:
    """Forecast, realised and perennial realised savings per file × year × nature, with the explanations
    given: one group-by over every return's kept lines, not one per return."""
    mine = lines[lines[FILE].isin(files) & ~lines[REJECTED]]
    out: dict[str, dict[tuple[int, str], _Sums]] = {f: {} for f in files}
    if mine.empty:
        return out
    realised = mine["statut"] == enums.REALISEE
    work = pd.DataFrame({
        FILE: mine[FILE], "annee": mine["annee"].astype("int64"), "nature": mine["nature"],
        "prev": mine["montant"].where(mine["statut"] == enums.PREVISIONNELLE, 0.0),
        "real": mine["montant"].where(realised, 0.0),
        "perenne": mine["montant"].where(realised & (mine["perenne"] == enums.OUI), 0.0),
    })
    sums = work.groupby([FILE, *_KEY], sort=False)[["prev", "real", "perenne"]].sum()
    texts: dict[tuple[str, int, str], list[str]] = {}
    for file, year, nature, text in zip(mine[FILE], work["annee"], mine["nature"], mine["explication"], strict=True):
        if isinstance(text, str) and text.strip():
            texts.setdefault((str(file), int(year), str(nature)), []).append(text.strip())
    for (file, year, nature), prev, real, perenne in zip(sums.index, sums["prev"], sums["real"], sums["perenne"],
                                                         strict=True):
        given = texts.get((str(file), int(year), str(nature)))
        out[str(file)][(int(year), str(nature))] = _Sums(float(prev), float(real), float(perenne),
                                                         " ; ".join(dict.fromkeys(given)) if given else None)
    return out


def _alerts(records: Sequence[ReturnRecord], lines: pd.DataFrame) -> dict[str, set[tuple[int, str]]]:
    """Year × nature of each return's §7 findings, by file: the alert and the finding are one judgement."""
    flagged = {(r.file, f.row) for r in records for f in r.findings
               if f.slug == "missing-gap-explanation" and f.row is not None}
    out: dict[str, set[tuple[int, str]]] = {r.file: set() for r in records}
    if not flagged:
        return out
    hit = lines[pd.MultiIndex.from_arrays([lines[FILE], lines[ROW]]).isin(list(flagged))]
    for file, year, nature in zip(hit[FILE], hit["annee"], hit["nature"], strict=True):
        out[str(file)].add((int(year), str(nature)))
    return out


@dataclass(frozen=True)
class _Reference:
    """A project's reference forecast per year × nature, and where each came from."""

    amounts: dict[tuple[int, str], float]
    sources: dict[tuple[int, str], list[str]]


def _references(reference: pd.DataFrame) -> dict[str, _Reference]:
    """The référentiel's `Économies de référence`, by project, read once."""
    out: dict[str, _Reference] = {}
    for pid, year, nature, amount, source in zip(reference["project_id"], reference["annee"], reference["nature"],
                                                 reference["montant"], reference["source"], strict=True):
        ref = out.setdefault(str(pid), _Reference({}, {}))
        key = (int(year), str(nature))
        ref.amounts[key] = ref.amounts.get(key, 0.0) + float(amount)
        ref.sources.setdefault(key, []).append(str(source) if isinstance(source, str) else "")
    return out


def economies_table(standing: Mapping[str, ReturnRecord], first: Mapping[str, ReturnRecord],
                    lines: pd.DataFrame, reference: pd.DataFrame, cutoff: dt.date) -> pd.DataFrame:
    """The `Economies` rows. `lines` are every return's `Économies` lines, with `REJECTED`."""
    files = {r.file for r in standing.values()} | {r.file for r in first.values()}
    sums = sums_by_file(lines, files)
    reference = reference if not reference.empty else pd.DataFrame(columns=["project_id", *_KEY, "montant", "source"])
    projects = sorted(set(standing) | {str(p) for p in reference["project_id"]})
    references = _references(reference)
    alerts_by_file = _alerts(list(standing.values()), lines)
    rows: list[dict[str, object]] = []
    for pid in projects:
        record, initial = standing.get(pid), first.get(pid)
        current = sums[record.file] if record else {}
        initial_sums = sums[initial.file] if initial else None
        ref = references.get(pid, _Reference({}, {}))
        ref_amounts, ref_sources = ref.amounts, ref.sources
        alerts = alerts_by_file[record.file] if record else set()
        zero = 0.0 if record else None  # a sum over no line of the standing return; blank without one
        for key in sorted(set(current) | set(ref_amounts), key=lambda k: (k[0], _nature_order(k[1]))):
            year, nature = key
            here = current.get(key)
            prev, real = (here.prev, here.real) if here else (zero, zero)
            initial_prev = (initial_sums[key].prev if key in initial_sums else 0.0) if initial_sums is not None else None
            if key in ref_amounts:
                reference_prev: float | None = ref_amounts[key]
                source = " ; ".join(dict.fromkeys(s for s in ref_sources[key] if s))
            else:
                reference_prev, source = initial_prev, FIRST_RETURN_SOURCE if initial_prev is not None else ""
            gap = real - prev if year < cutoff.year and real is not None and prev is not None else None
            rows.append({
                "Identifiant du projet": pid, "Année": year, "Nature d'économie": nature,
                "Prévisionnelle (€)": _cents(prev), "Réalisée (€)": _cents(real), "Écart (€)": _cents(gap),
                "Explication de l'écart": here.explication if here else None,
                "Pérenne réalisée (€)": _cents(here.perenne if here else zero),
                "Prévision de référence (€)": _cents(reference_prev), "Source de la prévision": source,
                "Prévision initiale (€)": _cents(initial_prev),
                "Alerte": MISSING_EXPLANATION if key in alerts else "",
            })
    return pd.DataFrame(rows, columns=COLUMNS)


def _cents(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _nature_order(nature: str) -> int:
    return enums.NATURES_ECONOMIE.index(nature) if nature in enums.NATURES_ECONOMIE else len(enums.NATURES_ECONOMIE)
