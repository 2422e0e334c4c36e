"""The Chorus leg of the AE/CP reconciliation: per EJ, what the porteurs declare against what Chorus records.

Pure: DataFrames in, a `Rapprochement` table (sorties-v1) and findings out. The rules are chorus.md's.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandera.typing import DataFrame

from ftap_pipeline.contract.chorus_schema import AE, CP, ChorusMovementsSchema
from ftap_pipeline.contract.enums import (
    ABSENT_DE_CHORUS,
    CONCORDANT,
    ECART,
    FTAP,
    HORS_DISPOSITIF,
    IMPUTATION_ERRONEE,
    NON_DECLARE,
    SANS_EJ,
)
from ftap_pipeline.contract.findings import Finding, finding
from ftap_pipeline.contract.referentiel import Nomenclature, Referentiel
from ftap_pipeline.core.imputation import CODES, expected_code, mismatches
from ftap_pipeline.core.parsing import format_eur
from ftap_pipeline.core.roi import Codes, Floats, group_any, group_sums, ngroup_codes

COLUMNS: Final = (
    "Identifiant du projet",
    "N° EJ",
    "AE déclarées (€)",
    "AE Chorus (€)",
    "CP déclarés (€)",
    "CP Chorus (€)",
    "Écart AE (€)",
    "Écart CP (€)",
    "Statut",
    "Porteur du projet",
    "Fournisseur",
    "Reste à payer déclaré (€)",
    "Reste à payer Chorus (€)",
    "Commentaire",
)
TOTALS_COLUMNS: Final = ("annee", "categorie", "titre", "ae_chorus", "cp_chorus", "retraits_chorus")
NAN: Final = float("nan")


def reconcile_ejs(
    declared: pd.DataFrame, movements: DataFrame[ChorusMovementsSchema], referentiel: Referentiel, tolerance: float
) -> tuple[pd.DataFrame, list[Finding]]:
    """One row per declared EJ of each project, per undeclared dispositif EJ, and per programme-0349 EJ of
    another imputation (`Hors dispositif`); Chorus' own CP > AE inconsistencies as findings.

    The movements are split by EJ once and every EJ's figures summed at once: no pass over all movements per EJ."""
    moves = _with_consumption(movements).reset_index(drop=True)
    decl = _ftap(declared).reset_index(drop=True)
    overdrawn, findings = _cp_exceeding_ae(moves)
    rows = _declared_rows(decl, moves, referentiel.nomenclature, tolerance, overdrawn)
    rows += _chorus_only_rows(moves[~moves["ej"].isin(set(decl["ej"]))].reset_index(drop=True), overdrawn)
    rows.sort(key=lambda r: (r[COLUMNS[0]] == "", r[COLUMNS[0]], r["N° EJ"], r["Statut"]))
    types = {c: ("float64" if c.endswith("(€)") else str) for c in COLUMNS}
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(types), findings


def chorus_totals(movements: DataFrame[ChorusMovementsSchema], declared: pd.DataFrame) -> pd.DataFrame:
    """Dispositif AE and CP in Chorus per year × category × titre; an EJ takes its declared category (Chorus
    has none), an undeclared one — payments without EJ included — is `Non déclaré`. Negative AE on an EJ
    first engaged in an earlier year are withdrawals, apart, as on the declared side (contrat.md)."""
    moves = _with_consumption(movements)
    moves = moves[moves["in_dispositif"]]
    dated = moves[(moves["ae"] > 0) & moves["annee"].notna() & (moves["ej"] != SANS_EJ)]
    first_year = moves["ej"].map(dated.groupby("ej")["annee"].min())
    withdrawal = (moves["ae"] < 0) & first_year.notna() & moves["annee"].notna() & (moves["annee"] > first_year)
    moves = moves.assign(retraits=moves["ae"].where(withdrawal, 0.0), ae=moves["ae"].where(~withdrawal, 0.0))
    decl = _ftap(declared)
    category_of_ej = decl.sort_values(["ej", "exercice"], kind="stable").groupby("ej")["categorie"].last()
    moves = moves.assign(categorie=moves["ej"].map(category_of_ej).fillna(NON_DECLARE).astype(str))
    totals = (
        moves.groupby(["annee", "categorie", "titre"], dropna=False, sort=True)[["ae", "cp", "retraits"]]
        .sum()
        .reset_index()
        .rename(columns={"ae": "ae_chorus", "cp": "cp_chorus", "retraits": "retraits_chorus"})
    )
    amounts = ["ae_chorus", "cp_chorus", "retraits_chorus"]
    totals[amounts] = totals[amounts].astype("float64").round(2)
    return totals.astype({"annee": "Int64", "titre": "Int64", "categorie": str})[list(TOTALS_COLUMNS)]


# --- rows --------------------------------------------------------------------------------------------


class _Chorus(NamedTuple):
    """What Chorus records of one declared EJ, split by the return's date de situation and the imputation."""

    counted: tuple[float, float, int]  # AE, CP and movements up to the date, on the dispositif
    later: tuple[float, float, int]  # on the dispositif, after the date
    outside: tuple[float, float, int]  # up to the date, on another imputation
    imputations: str  # the other imputations, when there are movements there
    fournisseur: str  # the first one named, all movements of the EJ taken in order


def _amounts_by(frame: pd.DataFrame, by: list[str]) -> tuple[list[Any], Codes, Floats, Floats]:
    """One grouping of `frame` by `by`: the keys in sorted order, each line's group code, and each group's AE
    and CP sums (bit for bit those of `Series.sum()`, see `roi.group_sums`)."""
    grouped = frame.groupby(by, sort=True)
    index = list(grouped.size().index)
    codes = ngroup_codes(grouped.ngroup())
    return index, codes, group_sums(codes, len(index), frame["ae"]), group_sums(codes, len(index), frame["cp"])


def _declared_rows(decl: pd.DataFrame, moves: pd.DataFrame, nomenclature: Nomenclature, tolerance: float,
                   overdrawn: set[str]) -> list[dict[str, Any]]:
    """The rows of every declared EJ of each project, from one grouping of the declared lines by project × EJ
    and one of the movements by EJ."""
    if decl.empty:
        return []
    index, codes, ae_d, cp_d = _amounts_by(decl, ["project_id", "ej"])
    keys = [(str(pid), str(ej)) for pid, ej in index]
    groups = len(keys)
    wrong = group_any(codes, groups, ~decl["imputation_ok"].astype(bool).to_numpy(dtype=bool))
    notes = _imputation_notes(decl, codes, np.flatnonzero(wrong), nomenclature)
    situations = _situations(decl["date_situation"], codes, groups)
    chorus = _chorus_of(moves, [ej for _, ej in keys], situations)
    porteurs = _first_texts(decl["porteur"], codes, groups)
    fournisseurs = _first_texts(decl["fournisseur"], codes, groups)
    projects_of_ej: dict[str, list[str]] = {}
    for pid, ej in keys:
        projects_of_ej.setdefault(ej, []).append(pid)
    rows = []
    for g, (project_id, ej) in enumerate(keys):
        others = [p for p in sorted(set(projects_of_ej[ej])) if p != project_id]
        rows.append(_declared_row(project_id, ej, (float(ae_d[g]), float(cp_d[g])), notes.get(g), situations[g],
                                  chorus[g], tolerance, others, overdrawn, porteurs[g], fournisseurs[g]))
    return rows


def _declared_row(
    project_id: str, ej: str, declared: tuple[float, float], imputation_note: str | None, situation: object,
    chorus: _Chorus, tolerance: float, others: list[str], overdrawn: set[str], porteur: str, fournisseur: str,
) -> dict[str, Any]:
    """A declared EJ, compared with the Chorus movements up to its return's date de situation; `imputation_note`
    says which declared code is wrong, None when they are all right."""
    (counted_ae, counted_cp, counted), (later_ae, later_cp, later), (outside_ae, outside_cp, outside) = \
        chorus.counted, chorus.later, chorus.outside
    ae_d, cp_d = _cents(declared[0]), _cents(declared[1])
    ae_c, cp_c = _cents(counted_ae), _cents(counted_cp)
    gap_ae, gap_cp = _cents(ae_d - ae_c), _cents(cp_d - cp_c)
    notes: list[str] = []
    if imputation_note is not None:
        status = IMPUTATION_ERRONEE
        notes.append(imputation_note)
    elif not counted:
        status = ABSENT_DE_CHORUS
        notes.append("Aucun mouvement de l'EJ dans Chorus sur l'imputation du dispositif."
                     if later or outside else "EJ introuvable dans les restitutions Chorus.")
    elif abs(gap_ae) > tolerance or abs(gap_cp) > tolerance:
        status = ECART
        which = " et ".join(n for n, g in (("les AE", gap_ae), ("les CP", gap_cp)) if abs(g) > tolerance)
        notes.append(f"Écart au-delà de la tolérance de {format_eur(tolerance)} sur {which}.")
    else:
        status = CONCORDANT
    if outside:
        notes.append(f"Dans Chorus, {format_eur(outside_ae)} d'AE et {format_eur(outside_cp)} de CP de "
                     f"l'EJ sont imputés hors du dispositif ({chorus.imputations}).")
    if later:
        notes.append(f"Chorus compté jusqu'au {situation:%d/%m/%Y}, date de situation de la remontée : "
                     f"{format_eur(later_ae)} d'AE et {format_eur(later_cp)} de CP enregistrés depuis.")
    if others:
        notes.append(f"EJ déclaré aussi par {', '.join(others)}.")
    if ej in overdrawn:
        notes.append("Dans Chorus, les CP cumulés de l'EJ dépassent ses AE cumulées.")
    return _row(
        project_id, ej, (ae_d, ae_c, cp_d, cp_c, gap_ae, gap_cp), status, porteur, fournisseur or chorus.fournisseur,
        " ".join(notes),
    )


def _chorus_of(moves: pd.DataFrame, ejs: Sequence[str], situations: Sequence[object]) -> list[_Chorus]:
    """For each declared EJ `ejs[g]` of a return dated `situations[g]`, what Chorus records of it: the movements
    of each EJ found at once, then each pair of a declared EJ and one of its movements classified at once."""
    groups = len(ejs)
    # Every (declared EJ, movement of that EJ) pair, the movements of a group in their order.
    by_ej = moves.groupby("ej", sort=False).indices
    positions = [np.asarray(by_ej.get(ej, ()), dtype=np.int64) for ej in ejs]
    group = np.repeat(np.arange(groups, dtype=np.int64), [len(p) for p in positions])
    move = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
    in_window = _up_to(moves, move, group, situations)
    dispositif = moves["in_dispositif"].to_numpy(dtype=bool)[move]
    ae, cp = moves["ae"].to_numpy(dtype=np.float64)[move], moves["cp"].to_numpy(dtype=np.float64)[move]

    def part(where: npt.NDArray[np.bool_]) -> list[tuple[float, float, int]]:
        codes = np.where(where, group, -1)
        lines = np.bincount(group[where], minlength=groups)[:groups]
        return list(zip(group_sums(codes, groups, ae).tolist(), group_sums(codes, groups, cp).tolist(),
                        lines.tolist(), strict=True))

    counted, later = part(in_window & dispositif), part(~in_window & dispositif)
    outside_line = in_window & ~dispositif
    outside = part(outside_line)
    elsewhere = np.flatnonzero(outside_line)
    imputations = _imputations_by_group(moves.iloc[move[elsewhere]], group[elsewhere], groups)
    fournisseurs = _first_texts(moves["fournisseur"].iloc[move], group, groups)
    return [_Chorus(counted[g], later[g], outside[g], imputations[g], fournisseurs[g]) for g in range(groups)]


def _chorus_only_rows(undeclared: pd.DataFrame, overdrawn: set[str]) -> list[dict[str, Any]]:
    """An EJ that no standing return declares: undeclared spending, or another FTAP project's line; all such
    EJs from one grouping of their movements by imputation × EJ."""
    if undeclared.empty:
        return []
    index, codes, ae_c, cp_c = _amounts_by(undeclared, ["in_dispositif", "ej"])
    keys = [(bool(d), str(ej)) for d, ej in index]
    groups = len(keys)
    imputations = _imputations_by_group(undeclared, codes, groups)
    # The first fournisseur named in the order of the restitutions' lines.
    by_line = undeclared.sort_values(["source", "line"]).index.to_numpy()
    fournisseurs = _first_texts(undeclared["fournisseur"].iloc[by_line], codes[by_line], groups)
    return [_chorus_only_row(ej, (_cents(float(ae_c[g])), _cents(float(cp_c[g]))), in_dispositif, overdrawn,
                             imputations[g], fournisseurs[g])
            for g, (in_dispositif, ej) in enumerate(keys)]


def _chorus_only_row(ej: str, chorus: tuple[float, float], in_dispositif: bool, overdrawn: set[str],
                     imputations: str, fournisseur: str) -> dict[str, Any]:
    """An EJ that no standing return declares: undeclared spending, or another FTAP project's line."""
    ae_c, cp_c = chorus
    if in_dispositif:
        status = NON_DECLARE
        amounts = (0.0, ae_c, 0.0, cp_c, _cents(-ae_c), _cents(-cp_c))
        note = ("Paiements sans EJ imputés sur le dispositif : ils consomment autant d'AE que de CP."
                if ej == SANS_EJ else "EJ imputé sur le dispositif dans Chorus mais déclaré dans aucune remontée retenue.")
        if ej in overdrawn:
            note += " Dans Chorus, les CP cumulés de l'EJ dépassent ses AE cumulées."
    else:
        status = HORS_DISPOSITIF
        amounts = (NAN, ae_c, NAN, cp_c, NAN, NAN)
        note = f"Programme 0349, autre imputation ({imputations}) : non rapproché des remontées."
    return _row("", ej, amounts, status, "", fournisseur, note)


def _row(project_id: str, ej: str, amounts: tuple[float, ...], status: str, porteur: str, fournisseur: str,
         comment: str) -> dict[str, Any]:
    ae_d, ae_c, cp_d, cp_c, gap_ae, gap_cp = amounts
    return dict(zip(COLUMNS, (
        project_id, ej, ae_d, ae_c, cp_d, cp_c, gap_ae, gap_cp, status, porteur, fournisseur,
        _cents(ae_d - cp_d), _cents(ae_c - cp_c), comment,
    ), strict=True))


# --- helpers -----------------------------------------------------------------------------------------


def _with_consumption(movements: pd.DataFrame) -> pd.DataFrame:
    """What each movement consumes: an engagement AE; a payment CP, and AE too when it has no EJ."""
    amount = movements["montant"].astype("float64")
    is_cp = movements["kind"] == CP
    consumes_ae = (movements["kind"] == AE) | (is_cp & (movements["ej"] == SANS_EJ))
    return movements.assign(ae=amount.where(consumes_ae, 0.0), cp=amount.where(is_cp, 0.0))


def _ftap(declared: pd.DataFrame) -> pd.DataFrame:
    """Only FTAP lines are programme 0349 money (remontee-v1)."""
    if "financeur" in declared.columns:
        declared = declared[declared["financeur"] == FTAP]
    return declared.astype({"ej": str})


def _cp_exceeding_ae(moves: pd.DataFrame) -> tuple[set[str], list[Finding]]:
    """Chorus' own consistency: per EJ of the dispositif, cumulative CP ≤ cumulative AE."""
    dispositif = moves[moves["in_dispositif"] & (moves["ej"] != SANS_EJ)]
    if dispositif.empty:
        return set(), []
    grouped = dispositif.groupby("ej", sort=True)
    ejs = [str(ej) for ej in grouped.size().index]
    codes = ngroup_codes(grouped.ngroup())
    ae = [_cents(v) for v in group_sums(codes, len(ejs), dispositif["ae"]).tolist()]
    cp = [_cents(v) for v in group_sums(codes, len(ejs), dispositif["cp"]).tolist()]
    over = [g for g in range(len(ejs)) if cp[g] > ae[g]]
    if not over:
        return set(), []
    # Where each EJ's finding points: its first payment, else its first engagement, in the restitutions' order.
    first = dispositif[np.isin(codes, over)].sort_values(["ej", "kind", "source", "line"],
                                                          ascending=[True, False, True, True])
    first = first.drop_duplicates("ej")
    where = {str(ej): (str(source), str(sha256))
             for ej, source, sha256 in zip(first["ej"], first["source"], first["sha256"], strict=True)}
    findings = [finding("chorus-cp-exceeds-ae", {"ej": ejs[g], "cp": format_eur(cp[g]), "ae": format_eur(ae[g]),
                                                 "ecart": format_eur(cp[g] - ae[g])},
                        file=where[ejs[g]][0], sha256=where[ejs[g]][1], field="N° EJ", value=ejs[g])
                for g in over]
    return {ejs[g] for g in over}, findings


def _up_to(moves: pd.DataFrame, move: npt.NDArray[np.int64], group: npt.NDArray[np.int64],
           situations: Sequence[object]) -> npt.NDArray[np.bool_]:
    """For each pair of a movement `moves[move[i]]` and a return dated `situations[group[i]]`: whether the
    movement is on or before the date de situation; an undated one unless its exercice is later. Without a date
    de situation, every movement counts."""
    dated, day, year = np.zeros(len(situations), dtype=bool), np.full(len(situations), np.nan), \
        np.full(len(situations), np.nan)
    for g, situation in enumerate(situations):
        if not isinstance(situation, dt.date):
            continue
        dated[g] = True
        on = situation.date() if isinstance(situation, dt.datetime) else situation
        if not _missing(on):  # a NaT date de situation: no movement is on or before it
            day[g], year[g] = on.toordinal(), on.year
    date_codes, dates = pd.factorize(moves["date"], use_na_sentinel=True)
    ordinals = np.array([d.toordinal() for d in dates], dtype=np.float64)
    moved = date_codes[move]
    has_date = moved >= 0
    move_day = np.where(has_date, ordinals[np.maximum(moved, 0)] if len(ordinals) else np.nan, np.nan)
    move_year = moves["annee"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)[move]
    before = np.where(has_date, move_day <= day[group], np.isnan(move_year) | (move_year <= year[group]))
    return np.asarray(~dated[group] | before, dtype=bool)


def _situations(values: pd.Series, codes: npt.NDArray[np.int64], groups: int) -> list[object]:
    """Each group's latest date de situation, as `Series.max()` gives it (NaN or NaT when there is none)."""
    latest: list[Any] = [None] * groups
    for code, value in zip(codes.tolist(), values.tolist(), strict=True):
        if code >= 0 and not _missing(value) and (latest[code] is None or value > latest[code]):
            latest[code] = value
    none = values.iloc[0:0].max()
    return [none if v is None else v for v in latest]


_DECLARED: Final = {"centre_financier": "centre financier déclaré", "domaine_fonctionnel": "domaine fonctionnel déclaré",
                    "activite": "activité déclarée"}


def _imputation_notes(decl: pd.DataFrame, codes: npt.NDArray[np.int64], wrong: npt.NDArray[np.int64],
                      nomenclature: Nomenclature) -> dict[int, str]:
    """For each group of `wrong`, which declared code differs from the référentiel's, in the porteur's words."""
    if not len(wrong):
        return {}
    rows = np.flatnonzero(np.isin(codes, wrong))
    lines, line_codes = decl.iloc[rows], codes[rows].tolist()
    differs = mismatches(lines, nomenclature)
    values: dict[int, dict[str, dict[str, None]]] = {int(g): {key: {} for key in CODES} for g in wrong}
    for key in CODES:
        for code, bad, value in zip(line_codes, differs[key].tolist(), lines[key].tolist(), strict=True):
            if bad:
                values[code][key].setdefault(_text(value), None)
    notes = {}
    for g, found in values.items():
        parts = [f"{_DECLARED[key]} « {value} » au lieu de {expected_code(nomenclature, key)}"
                 for key in CODES for value in found[key]]
        notes[g] = ("Imputation : " + " ; ".join(parts) + "." if parts
                    else "Imputation déclarée différente de celle du référentiel.")
    return notes


def _imputations_by_group(moves: pd.DataFrame, codes: npt.NDArray[np.int64], groups: int) -> list[str]:
    """Each group's imputations (activité, centre financier), in the order of its movements."""
    seen: list[dict[tuple[object, object], None]] = [{} for _ in range(groups)]
    for code, pair in zip(codes.tolist(), zip(moves["activite"].tolist(), moves["centre_financier"].tolist(),
                                              strict=True), strict=True):
        if code >= 0:
            seen[code].setdefault(pair, None)
    out = []
    for pairs in seen:
        parts = []
        for activite, centre in pairs:
            part = f"activité {_text(activite) or 'non renseignée'}"
            parts.append(f"{part}, centre financier {centre}" if _text(centre) else part)
        out.append(" ; ".join(parts))
    return out


def _first_texts(values: pd.Series, codes: npt.NDArray[np.int64], groups: int) -> list[str]:
    """Each group's first text that is not empty, in the order of `values`."""
    out = [""] * groups
    found = np.zeros(groups, dtype=bool)
    for code, value in zip(codes.tolist(), values.tolist(), strict=True):
        if code >= 0 and not found[code]:
            text = _text(value)
            if text:
                out[code], found[code] = text, True
    return out


def _text(value: object) -> str:
    return "" if _missing(value) else str(value).strip()


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def _cents(value: float) -> float:
    """Rounded to the cent, without the `-0.0` a sum of opposite amounts can leave."""
    return NAN if math.isnan(value) else round(float(value), 2) + 0.0
