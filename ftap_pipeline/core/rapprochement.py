"""The Chorus leg of the AE/CP reconciliation: per EJ, what the porteurs declare against what Chorus records.

Pure: DataFrames in, a `Rapprochement` table (sorties-v1) and findings out. The rules are chorus.md's.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Final

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
    another imputation (`Hors dispositif`); Chorus' own CP > AE inconsistencies as findings."""
    moves = _with_consumption(movements)
    decl = _ftap(declared)
    overdrawn, findings = _cp_exceeding_ae(moves)
    projects_of_ej = {ej: sorted(set(g["project_id"])) for ej, g in decl.groupby("ej")}
    rows: list[dict[str, Any]] = []
    for (project_id, ej), lines in decl.groupby(["project_id", "ej"], sort=True):
        others = [p for p in projects_of_ej[str(ej)] if p != project_id]
        rows.append(_declared_row(str(project_id), str(ej), lines, moves, referentiel.nomenclature, tolerance,
                                  others, overdrawn))
    undeclared = moves[~moves["ej"].isin(set(decl["ej"]))]
    for (in_dispositif, ej), group in undeclared.groupby(["in_dispositif", "ej"], sort=True):
        rows.append(_chorus_only_row(str(ej), group, bool(in_dispositif), overdrawn))
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


def _declared_row(
    project_id: str, ej: str, lines: pd.DataFrame, moves: pd.DataFrame, nomenclature: Nomenclature,
    tolerance: float, others: list[str], overdrawn: set[str],
) -> dict[str, Any]:
    """A declared EJ, compared with the Chorus movements up to its return's date de situation."""
    situation = lines["date_situation"].max()
    ej_moves = moves[moves["ej"] == ej]
    in_window = _up_to(ej_moves, situation)
    counted = ej_moves[in_window & ej_moves["in_dispositif"]]
    later = ej_moves[~in_window & ej_moves["in_dispositif"]]
    outside = ej_moves[in_window & ~ej_moves["in_dispositif"]]
    ae_d, cp_d = _cents(lines["ae"].sum()), _cents(lines["cp"].sum())
    ae_c, cp_c = _cents(counted["ae"].sum()), _cents(counted["cp"].sum())
    gap_ae, gap_cp = _cents(ae_d - ae_c), _cents(cp_d - cp_c)
    notes: list[str] = []
    if not lines["imputation_ok"].astype(bool).all():
        status = IMPUTATION_ERRONEE
        notes.append(_imputation_note(lines, nomenclature))
    elif counted.empty:
        status = ABSENT_DE_CHORUS
        notes.append("Aucun mouvement de l'EJ dans Chorus sur l'imputation du dispositif."
                     if len(later) or len(outside) else "EJ introuvable dans les restitutions Chorus.")
    elif abs(gap_ae) > tolerance or abs(gap_cp) > tolerance:
        status = ECART
        which = " et ".join(n for n, g in (("les AE", gap_ae), ("les CP", gap_cp)) if abs(g) > tolerance)
        notes.append(f"Écart au-delà de la tolérance de {format_eur(tolerance)} sur {which}.")
    else:
        status = CONCORDANT
    if len(outside):
        notes.append(f"Dans Chorus, {format_eur(outside['ae'].sum())} d'AE et {format_eur(outside['cp'].sum())} de CP de "
                     f"l'EJ sont imputés hors du dispositif ({_imputations(outside)}).")
    if len(later):
        notes.append(f"Chorus compté jusqu'au {situation:%d/%m/%Y}, date de situation de la remontée : "
                     f"{format_eur(later['ae'].sum())} d'AE et {format_eur(later['cp'].sum())} de CP enregistrés depuis.")
    if others:
        notes.append(f"EJ déclaré aussi par {', '.join(others)}.")
    if ej in overdrawn:
        notes.append("Dans Chorus, les CP cumulés de l'EJ dépassent ses AE cumulées.")
    return _row(
        project_id, ej, (ae_d, ae_c, cp_d, cp_c, gap_ae, gap_cp), status, _first_text(lines["porteur"]),
        _first_text(lines["fournisseur"]) or _first_text(ej_moves["fournisseur"]), " ".join(notes),
    )


def _chorus_only_row(ej: str, group: pd.DataFrame, in_dispositif: bool, overdrawn: set[str]) -> dict[str, Any]:
    """An EJ that no standing return declares: undeclared spending, or another FTAP project's line."""
    ae_c, cp_c = _cents(group["ae"].sum()), _cents(group["cp"].sum())
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
        note = f"Programme 0349, autre imputation ({_imputations(group)}) : non rapproché des remontées."
    ordered = group.sort_values(["source", "line"])
    return _row("", ej, amounts, status, "", _first_text(ordered["fournisseur"]), note)


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
    overdrawn: set[str] = set()
    findings: list[Finding] = []
    dispositif = moves[moves["in_dispositif"] & (moves["ej"] != SANS_EJ)]
    for ej, group in dispositif.groupby("ej", sort=True):
        ae, cp = _cents(group["ae"].sum()), _cents(group["cp"].sum())
        if cp <= ae:
            continue
        overdrawn.add(str(ej))
        first = group.sort_values(["kind", "source", "line"], ascending=[False, True, True]).iloc[0]
        findings.append(finding(
            "chorus-cp-exceeds-ae", {"ej": ej, "cp": format_eur(cp), "ae": format_eur(ae), "ecart": format_eur(cp - ae)},
            file=str(first["source"]), sha256=str(first["sha256"]), field="N° EJ", value=str(ej),
        ))
    return overdrawn, findings


def _up_to(moves: pd.DataFrame, situation: object) -> pd.Series:
    """Movements on or before the date de situation; undated ones unless their exercice is later."""
    if not isinstance(situation, dt.date):
        return pd.Series(True, index=moves.index, dtype=bool)
    if isinstance(situation, dt.datetime):
        situation = situation.date()
    keep = [
        bool(date <= situation) if not _missing(date) else (_missing(year) or int(year) <= situation.year)
        for date, year in zip(moves["date"], moves["annee"], strict=True)
    ]
    return pd.Series(keep, index=moves.index, dtype=bool)


_DECLARED: Final = {"centre_financier": "centre financier déclaré", "domaine_fonctionnel": "domaine fonctionnel déclaré",
                    "activite": "activité déclarée"}


def _imputation_note(lines: pd.DataFrame, nomenclature: Nomenclature) -> str:
    """Which declared code differs from the référentiel's, in the porteur's words."""
    wrong = mismatches(lines, nomenclature)
    notes = [f"{_DECLARED[key]} « {value} » au lieu de {expected_code(nomenclature, key)}"
             for key in CODES for value in dict.fromkeys(_text(v) for v in lines.loc[wrong[key], key])]
    if not notes:
        return "Imputation déclarée différente de celle du référentiel."
    return "Imputation : " + " ; ".join(notes) + "."


def _imputations(moves: pd.DataFrame) -> str:
    parts = []
    for activite, centre in dict.fromkeys(zip(moves["activite"], moves["centre_financier"], strict=True)):
        part = f"activité {_text(activite) or 'non renseignée'}"
        parts.append(f"{part}, centre financier {centre}" if _text(centre) else part)
    return " ; ".join(parts)


def _first_text(values: pd.Series) -> str:
    return next((t for t in (_text(v) for v in values) if t), "")


def _text(value: object) -> str:
    return "" if _missing(value) else str(value).strip()


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def _cents(value: float) -> float:
    """Rounded to the cent, without the `-0.0` a sum of opposite amounts can leave."""
    return NAN if math.isnan(value) else round(float(value), 2) + 0.0
