"""Warnings that keep the line: imputation codes, the §4.3/§4.1 selection criteria, §7 gap explanations.

Thresholds come from the référentiel's `Paramètres`. Without a référentiel (`ftap check` on a porteur's
desk) the criteria say they could not be assessed rather than guessing a threshold.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandera.typing import DataFrame

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract import referentiel as ref
from ftap_pipeline.contract.columns import FILE, REJECTED, ROW
from ftap_pipeline.contract.findings import Finding
from ftap_pipeline.contract.model import ParsedReturn
from ftap_pipeline.contract.referentiel import Nomenclature, Referentiel
from ftap_pipeline.contract.schemas import ConsommationSchema, EconomiesSchema, TypedLines
from ftap_pipeline.core.imputation import CODES, expected_code, mismatches
from ftap_pipeline.core.parsing import format_eur
from ftap_pipeline.core.period import add_months
from ftap_pipeline.core.roi import Codes, Grouped, group_any, group_codes, group_sums, ngroup_codes, roi_parts


def check_imputation(consommation: DataFrame[ConsommationSchema], by_file: Mapping[str, ParsedReturn],
                     nomenclature: Nomenclature) -> list[Finding]:
    """An FTAP line whose codes differ from the référentiel's is kept, with a warning."""
    out: list[Finding] = []
    ftap = consommation[(consommation["financeur"] == enums.FTAP) & ~consommation[REJECTED]]
    wrong = mismatches(ftap, nomenclature)
    for i in wrong.index[wrong.any(axis=1)]:
        p = by_file[str(ftap.at[i, FILE])]
        row = int(cast(int, ftap.at[i, ROW]))
        for key in CODES:
            if wrong.at[i, key]:
                value = str(ftap.at[i, key] or "")
                f = layout.CONSOMMATION.field(key)
                out.append(p.finding("imputation-mismatch", {"champ": f.label, "valeur": value,
                                                             "attendu": expected_code(nomenclature, key)},
                                     sheet=p.sheet_names["consommation"], cell=p.cell("consommation", row, key),
                                     field=f.label, value=value, row=row))
    return out


class KeptLines(Mapping[str, pd.DataFrame]):
    """The kept lines of a sheet, by return: each return's lines are taken when asked for (not filtered
    again for every return), and `grouped` gives those of many returns at once, each line with its return."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.lines = frame[~frame[REJECTED]]
        self._files = [str(f) for f in pd.unique(self.lines[FILE])] if len(self.lines) else []
        self._known = frozenset(self._files)
        self._taken: dict[str, pd.DataFrame] = {}
        self._positions: dict[str, npt.NDArray[np.intp]] | None = None

    def __getitem__(self, file: str) -> pd.DataFrame:
        if file not in self._taken:
            if self._positions is None:
                self._positions = {str(k): np.asarray(v, dtype=np.intp)
                                   for k, v in self.lines.groupby(FILE, sort=False).indices.items()}
            self._taken[file] = self.lines.iloc[self._positions[file]]
        return self._taken[file]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, file: object) -> bool:
        return file in self._known

    def grouped(self, files: Sequence[str]) -> Grouped:
        """The lines of `files`, each with its file's position in `files` (-1 for the other returns')."""
        return self.lines, group_codes(self.lines[FILE], files)


def kept_by_file(frame: pd.DataFrame) -> KeptLines:
    """The kept lines of a sheet, split by return once (not filtered again for every return)."""
    return KeptLines(frame)


@dataclass(frozen=True)
class _Sums:
    """What the criteria read of a return's `Financement` and `Économies` lines, summed for every return at once."""

    total: float
    cofinancing: float
    roi: float | None
    #: First and last Excel rows of the lines summed (None without any), for the cells a finding names.
    financement_rows: tuple[int, int] | None
    roi_rows: tuple[int, int] | None


def _row_spans(rows: pd.Series, codes: Codes, groups: int) -> list[tuple[int, int] | None]:
    """The first and last row of each group's lines (None for a group without any)."""
    mine = codes >= 0
    spans = pd.Series(rows.to_numpy()[mine]).groupby(codes[mine]).agg(["min", "max"])
    out: list[tuple[int, int] | None] = [None] * groups
    for g, first, last in zip(spans.index, spans["min"], spans["max"], strict=True):
        out[int(g)] = (int(first), int(last))
    return out


def _sums(parsed: Sequence[ParsedReturn], frames: TypedLines) -> list[_Sums]:
    """`_Sums` of each return, from one pass over each sheet's kept lines of all returns."""
    files = list(dict.fromkeys(p.file for p in parsed))
    fins = {p.file: p.projet.fin for p in parsed}
    fin, fin_codes = kept_by_file(frames["financement"]).grouped(files)
    eco, eco_codes = kept_by_file(frames["economies"]).grouped(files)
    groups = len(files)
    total = group_sums(fin_codes, groups, fin["ae"])
    cofin = group_sums(np.where(fin["financeur"].isin(enums.CO_FINANCEURS).to_numpy(dtype=bool), fin_codes, -1),
                       groups, fin["ae"])
    parts = roi_parts([fins[file] for file in files], (eco, eco_codes), (fin, fin_codes))
    perennial_forecast = ((eco["statut"] == enums.PREVISIONNELLE) & (eco["perenne"] == enums.OUI)).to_numpy(dtype=bool)
    fin_rows = _row_spans(fin[ROW], fin_codes, groups)
    roi_rows = _row_spans(eco[ROW], np.where(perennial_forecast, eco_codes, -1), groups)
    sums = [_Sums(float(total[i]), float(cofin[i]), parts[i].forecast()[0].value, fin_rows[i], roi_rows[i])
            for i in range(groups)]
    position = {file: i for i, file in enumerate(files)}
    return [sums[position[p.file]] for p in parsed]


def check_criteria(parsed: Sequence[ParsedReturn], frames: TypedLines,
                   referentiel: Referentiel | None) -> list[Finding]:
    """§4.3 and §4.1 criteria on each usable return, as warnings."""
    out: list[Finding] = []
    assessed = [p for p in parsed if "projet" in p.sheet_names and "consommation" in p.sheet_names]
    sums = _sums(assessed, frames) if referentiel is not None else []
    for i, p in enumerate(assessed):
        if referentiel is None:
            out.append(p.finding("not-checked-offline",
                                 {"controle": "les critères de sélection (§4.3), dont les seuils sont au référentiel"},
                                 sheet=p.sheet_names["projet"]))
            continue
        out += _criteria_of(p, sums[i], referentiel)
    return out


def _where(p: ParsedReturn, key: str) -> dict[str, object]:
    return {"sheet": p.sheet_names["projet"], "cell": p.projet_cells.get(key, ""),
            "field": layout.PROJET.field(key).label}


def _column_cells(p: ParsedReturn, sheet_key: str, field_key: str, rows: tuple[int, int] | None) -> str:
    """A column's cells over the lines a criterion sums (`Financement!F2:F9`), so the porteur sees where it comes
    from; empty when there is no such line or column."""
    letter = p.columns.get(sheet_key, {}).get(field_key, "")
    if rows is None or not letter:
        return ""
    first, last = rows
    return p.cell(sheet_key, first, field_key) + (f":{letter}{last}" if last > first else "")


def _criteria_of(p: ParsedReturn, sums: _Sums, referentiel: Referentiel) -> list[Finding]:
    out: list[Finding] = []
    proj = p.projet
    if "financement" in p.sheet_names:
        total, cofin = sums.total, sums.cofinancing
        cap = referentiel.parameter(ref.P_PLAFOND)
        share = referentiel.parameter(ref.P_COFINANCEMENT)
        where = {"sheet": p.sheet_names["financement"], "cell": _column_cells(p, "financement", "ae", sums.financement_rows),
                 "field": layout.FINANCEMENT.field("ae").label}
        if total >= cap:
            out.append(p.finding("criterion-cost-cap", {"cout": format_eur(total), "plafond": format_eur(cap)},
                                 value=format_eur(total), **where))
        if total > 0 and cofin <= 0:
            out.append(p.finding("criterion-cofinancing-missing", **where))
        elif total > 0 and cofin / total < share:
            out.append(p.finding("criterion-cofinancing-share", {"part": _percent(cofin / total), "visee": _percent(share)},
                                 value=f"{cofin / total:.4f}", **where))
    else:
        out.append(p.finding("criterion-not-assessable",
                             {"motif": "Sans feuille Financement, le coût total et le cofinancement (§4.3) ne sont pas "
                                       "évalués."}, sheet=layout.FINANCEMENT.name))
    cat = proj.categorie_porteur
    if cat in (enums.CAT_APUL, enums.CAT_ASSO) and proj.concert_etat != enums.OUI:
        out.append(p.finding("criterion-porteur-category",
                             {"categorie": cat, "condition": "le projet doit être conduit de concert avec l'État"},
                             value=str(proj.concert_etat or ""), **_where(p, "concert_etat")))
    elif cat == enums.CAT_PRIVE and proj.financement_etat != enums.OUI:
        out.append(p.finding("criterion-porteur-category",
                             {"categorie": cat, "condition": "l'organisme doit être majoritairement financé par l'État"},
                             value=str(proj.financement_etat or ""), **_where(p, "financement_etat")))
    debut, fin_acc, cadrage = proj.debut, proj.fin, proj.date_cadrage
    months = int(referentiel.parameter(ref.P_DUREE))
    if debut is not None and fin_acc is not None and fin_acc > add_months(debut, months):
        out.append(p.finding("criterion-duration",
                             {"debut": f"{debut:%d/%m/%Y}", "fin": f"{fin_acc:%d/%m/%Y}", "mois": months},
                             value=f"{fin_acc:%d/%m/%Y}", **_where(p, "fin")))
    if debut is not None and cadrage is not None and cadrage > debut:
        out.append(p.finding("criterion-cadrage-date", {"cadrage": f"{cadrage:%d/%m/%Y}", "debut": f"{debut:%d/%m/%Y}"},
                             value=f"{cadrage:%d/%m/%Y}", **_where(p, "date_cadrage")))
    if "economies" in p.sheet_names and "financement" in p.sheet_names:
        roi = sums.roi
        minimum = referentiel.parameter(ref.P_ROI)
        if roi is None:
            out.append(p.finding("criterion-not-assessable",
                                 {"motif": "ROI prévisionnel à 3 ans non calculable (fin d'accompagnement ou financement "
                                           "FTAP prévu manquant)."}, sheet=p.sheet_names["economies"]))
        elif roi < minimum:
            shown, floor = f"{roi:.2f}".replace(".", ","), f"{minimum:g}".replace(".", ",")
            out.append(p.finding("criterion-roi", {"roi": shown, "minimum": floor}, value=f"{roi:.4f}",
                                 sheet=p.sheet_names["economies"], field=layout.ECONOMIES.field("montant").label,
                                 cell=_column_cells(p, "economies", "montant", sums.roi_rows)))
    else:
        out.append(p.finding("criterion-not-assessable",
                             {"motif": "Sans feuilles Économies et Financement, le ROI prévisionnel n'est pas évalué."},
                             sheet=layout.ECONOMIES.name))
    return out


def _percent(share: float) -> str:
    """`0.5` → `50 %`, with the space French puts before the sign."""
    return f"{share:.0%}".replace("%", " %")


def check_gap_explanations(economies: DataFrame[EconomiesSchema], by_file: Mapping[str, ParsedReturn]) -> list[Finding]:
    """§7: for a past year, a realised amount below the forecast of the same year and nature needs an explanation.

    One group-by over every return's lines: each file × year × nature is a group, its sums taken at once."""
    eco = economies[~economies[REJECTED]]
    if eco.empty:
        return []
    grouped = eco.groupby([FILE, "annee", "nature"], sort=True)
    keys = list(grouped.size().index)
    groups = len(keys)
    codes = ngroup_codes(grouped.ngroup())
    statut = eco["statut"]
    realised_line = (statut == enums.REALISEE).to_numpy(dtype=bool)
    realised_codes = np.where(realised_line, codes, -1)
    forecast = group_sums(np.where((statut == enums.PREVISIONNELLE).to_numpy(dtype=bool), codes, -1), groups,
                          eco["montant"])
    realised = group_sums(realised_codes, groups, eco["montant"])
    explained = group_any(realised_codes, groups, eco["explication"].notna())
    # The first realised line of each group, in the lines' order: the cell the finding names.
    with_realised, first = np.unique(realised_codes[realised_codes >= 0], return_index=True)
    first_row = np.full(groups, -1, dtype=np.int64)
    first_row[with_realised] = eco[ROW].to_numpy()[np.flatnonzero(realised_codes >= 0)[first]]
    situations = {file: by_file[str(file)].projet.date_situation for file in dict.fromkeys(k[0] for k in keys)}
    past = np.array([(situation := situations[file]) is not None and int(cast(int, year)) < situation.year
                     for file, year, _ in keys], dtype=bool)
    flagged = past & (first_row >= 0) & ~(realised >= forecast - 0.005) & ~explained
    out: list[Finding] = []
    for g in np.flatnonzero(flagged).tolist():
        file, year, nature = keys[g]
        p = by_file[str(file)]
        row = int(first_row[g])
        out.append(p.finding("missing-gap-explanation", {"nature": nature, "annee": year,
                                                         "realise": format_eur(float(realised[g])),
                                                         "prevision": format_eur(float(forecast[g]))},
                             sheet=p.sheet_names["economies"], cell=p.cell("economies", row, "explication"),
                             field=layout.ECONOMIES.field("explication").label, row=row))
    return out
