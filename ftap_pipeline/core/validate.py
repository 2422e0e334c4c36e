"""Validate the lines of all returns at once, and map every failure back to its file and A1 cell.

The pandera schemas run once per sheet on the concatenated lines (a schema costs ~15 ms a frame,
whatever its length). Rules on groups of lines (duplicate keys, the per-EJ cumulative rule) follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pandas as pd
import pandera.pandas as pa

from ftap_pipeline.contract import layout
from ftap_pipeline.contract.findings import Scope, Severity
from ftap_pipeline.contract.schemas import ROW_CHECKS, SCHEMAS, SITUATION
from ftap_pipeline.core import parsing
from ftap_pipeline.core.normalise import FILE, ROW, ParsedReturn, typed_frame

#: Cumulative amounts may differ by float noise; a cent is the unit of every rule.
EPSILON = 0.005


def schema_message(check: str, value: Any, f: layout.Field) -> tuple[str, str]:
    """French (slug, message) of a pandera check failure."""
    shown = parsing.display(value)
    if check == "not_nullable":
        return "missing-value", f"« {f.label} » doit être renseigné."
    if check.startswith("isin"):
        allowed = ", ".join(str(c) for c in f.choices)
        return "not-in-list", f"« {shown} » n'est pas une valeur permise pour « {f.label} » ({allowed})."
    if check.startswith("in_range"):
        lo, hi = check[len("in_range("):-1].split(", ")
        return "out-of-range", f"« {shown} » doit être compris entre {lo} et {hi}."
    if check.startswith("greater_than_or_equal_to"):
        return "out-of-range", f"« {shown} » doit être positif ou nul."
    if check.startswith("str_matches"):
        return "invalid-format", f"« {shown} » n'est pas au format attendu pour « {f.label} »."
    if check == "ej_date_not_after_situation":
        return "ej-date-after-situation", f"La date de l'EJ ({shown}) est postérieure à la date de situation."
    if check == "mesure_after_reference":
        return "out-of-range", f"La date de mesure ({shown}) doit être postérieure à la date de référence."
    return "out-of-range", f"« {shown} » ne respecte pas la règle {check}."


def validate_returns(parsed: Sequence[ParsedReturn]) -> dict[str, pd.DataFrame]:
    """Check every line of every return; findings are added to their return. Returns the typed lines
    of each table sheet, concatenated across returns, with a boolean column `_rejected`."""
    by_file = {p.file: p for p in parsed}
    frames: dict[str, pd.DataFrame] = {}
    for spec in layout.TABLE_SHEETS:
        df = typed_frame([p.tables[spec.key] for p in parsed if spec.key in p.tables], spec)
        if spec.key == "consommation":
            situations = {p.file: p.projet.get("date_situation") for p in parsed}
            df[SITUATION] = pd.to_datetime(df[FILE].map(situations))
        _run_schema(df, spec, by_file)
        frames[spec.key] = df
    _duplicate_keys(frames["consommation"], by_file)
    _cumulative_ej_rule(frames["consommation"], by_file)
    _mark_rejected(frames, by_file)
    return frames


def _run_schema(df: pd.DataFrame, spec: layout.SheetLayout, by_file: dict[str, ParsedReturn]) -> None:
    if df.empty:
        return
    try:
        SCHEMAS[spec.key].validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return
    cases = cases[cases["index"].notna()]
    seen: set[tuple[int, str]] = set()
    for case in cases.itertuples(index=False):
        i = int(case.index)
        check = str(case.check)
        field_key = ROW_CHECKS[check][1] if check in ROW_CHECKS else str(case.column)
        if (i, field_key) in seen or field_key not in {f.key for f in spec.fields}:
            continue
        seen.add((i, field_key))
        p = by_file[str(df.at[i, FILE])]
        row = int(cast(int, df.at[i, ROW]))
        if (spec.key, row, field_key) in p.unreadable:
            continue  # already reported as unreadable
        f = spec.field(field_key)
        value: Any = df.at[i, field_key]
        if check in ROW_CHECKS:
            value = value.date() if isinstance(value, pd.Timestamp) else value
        slug, message = schema_message(check, value, f)
        p.add(slug, message, sheet=p.sheet_names.get(spec.key, spec.name), cell=p.cell(spec.key, row, field_key),
              field=f.label, value=parsing.display(value if not pd.isna(value) else None), row=row)


def _duplicate_keys(df: pd.DataFrame, by_file: dict[str, ParsedReturn]) -> None:
    keyed = df[df["ej"].notna() & df["exercice"].notna()]
    dup = keyed[keyed.duplicated([FILE, "ej", "exercice"], keep=False)]
    for (file, ej, exercice), group in dup.groupby([FILE, "ej", "exercice"], sort=True):
        p = by_file[str(file)]
        rows = sorted(int(r) for r in group[ROW])
        for row in rows:
            others = [str(r) for r in rows if r != row]
            where = f"ligne{'s' if len(others) > 1 else ''} {', '.join(others)}"
            p.add("duplicate-key", f"L'EJ {ej} figure plusieurs fois pour l'exercice {exercice} ({where} aussi) ; "
                                   "toutes ces lignes sont écartées.",
                  sheet=p.sheet_names.get("consommation", "Consommation"), cell=p.cell("consommation", row, "ej"),
                  field=layout.CONSOMMATION.field("ej").label, value=str(ej), row=row)


def _cumulative_ej_rule(df: pd.DataFrame, by_file: dict[str, ParsedReturn]) -> None:
    """Per EJ, over the exercices up to each one: 0 ≤ cumulative CP ≤ cumulative AE.

    An EJ with an unreadable amount or exercice, or a duplicate key, cannot be summed: its own findings
    say why, and this rule does not pile a misleading second message on its other lines.
    """
    keyed = df[df["ej"].notna()]
    unsure = keyed["exercice"].isna() | keyed["ae"].isna() | keyed["cp"].isna() \
        | keyed.duplicated([FILE, "ej", "exercice"], keep=False)
    skip = set(zip(keyed.loc[unsure, FILE], keyed.loc[unsure, "ej"], strict=True))
    live = keyed[[(f, e) not in skip for f, e in zip(keyed[FILE], keyed["ej"], strict=True)]]
    if live.empty:
        return
    ordered = live.sort_values([FILE, "ej", "exercice"])
    grouped = ordered.groupby([FILE, "ej"], sort=False)
    cum_ae = grouped["ae"].cumsum()
    cum_cp = grouped["cp"].cumsum()
    bad_cp = cum_cp > cum_ae + EPSILON
    bad_ae = (cum_ae < -EPSILON) | (cum_cp < -EPSILON)
    bad_ej = (bad_cp | bad_ae).groupby([ordered[FILE], ordered["ej"]]).transform("any")
    for (file, ej), group in ordered[bad_ej].groupby([FILE, "ej"], sort=True):
        idx = group.index
        p = by_file[str(file)]
        first = idx[(bad_ae[idx] | bad_cp[idx]).to_numpy()][0]
        year = int(cast(int, ordered.at[first, "exercice"]))
        if cum_cp[first] < -EPSILON:
            slug, field_key = "ej-negative-cp", "cp"
            detail = f"en {year}, les CP cumulés ({parsing.format_eur(cum_cp[first])}) deviennent négatifs"
        elif bad_ae[first]:
            slug, field_key = "ej-negative-ae", "ae"
            detail = f"en {year}, les AE cumulées ({parsing.format_eur(cum_ae[first])}) deviennent négatives"
        else:
            slug, field_key = "ej-cp-exceeds-ae", "cp"
            detail = (f"en {year}, les CP cumulés ({parsing.format_eur(cum_cp[first])}) dépassent les AE cumulées "
                      f"({parsing.format_eur(cum_ae[first])})")
        for i in idx:
            row = int(cast(int, ordered.at[i, ROW]))
            p.add(slug, f"EJ {ej} : {detail} ; toutes les lignes de l'EJ sont écartées.",
                  sheet=p.sheet_names.get("consommation", "Consommation"), cell=p.cell("consommation", row, field_key),
                  field=layout.CONSOMMATION.field(field_key).label, value=parsing.display(ordered.at[i, field_key]),
                  row=row)


def rejected_rows(p: ParsedReturn) -> dict[str, set[int]]:
    """Rows left out by the return's line-level blocking findings, by sheet key."""
    names = {v: k for k, v in p.sheet_names.items()}
    out: dict[str, set[int]] = {}
    for f in p.findings:
        if f.severity is not Severity.BLOQUANT or f.effective_scope is not Scope.LINE:
            continue
        key = names.get(f.sheet)
        if key is None:
            continue
        rows = out.setdefault(key, set())
        if f.row is not None:
            rows.add(f.row)
        elif key in p.tables:  # a missing column: every line of the sheet
            rows.update(int(r) for r in p.tables[key][ROW])
    return out


def _mark_rejected(frames: dict[str, pd.DataFrame], by_file: dict[str, ParsedReturn]) -> None:
    rejected = {name: rejected_rows(p) for name, p in by_file.items()}
    for key, df in frames.items():
        pairs = {(file, row) for file, sheets in rejected.items() for row in sheets.get(key, set())}
        flags = [(f, int(r)) in pairs for f, r in zip(df[FILE], df[ROW], strict=True)]
        df["_rejected"] = pd.Series(flags, index=df.index, dtype=bool)
