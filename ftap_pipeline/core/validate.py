"""Validate the lines of all returns at once, and map every failure back to its file and A1 cell.

The pandera schemas run once per sheet on the concatenated lines (a schema costs ~15 ms a frame,
whatever its length). Rules on groups of lines (duplicate keys, the per-EJ cumulative rule) follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
import pandera.pandas as pa

from ftap_pipeline.contract import layout
from ftap_pipeline.contract.columns import FILE, REJECTED, ROW, SITUATION
from ftap_pipeline.contract.findings import Finding, Scope, Severity
from ftap_pipeline.contract.model import ParsedReturn
from ftap_pipeline.contract.schemas import ROW_CHECKS, SCHEMAS, TypedLines
from ftap_pipeline.core import parsing
from ftap_pipeline.core.normalise import typed_frame

#: Cumulative amounts may differ by float noise; a cent is the unit of every rule.
EPSILON = 0.005


def schema_finding(check: str, value: Any, f: layout.Field) -> tuple[str, dict[str, object]]:
    """The slug of a pandera check failure, and the values of its message template."""
    shown = parsing.display(value)
    if check == "not_nullable":
        return "missing-value", {"champ": f.label}
    if check.startswith("isin"):
        allowed = ", ".join(str(c) for c in f.choices)
        return "not-in-list", {"valeur": shown, "attendu": f"une valeur permise pour « {f.label} » ({allowed})"}
    if check.startswith("in_range"):
        lo, hi = check[len("in_range("):-1].split(", ")
        return "out-of-range", {"motif": f"« {shown} » doit être compris entre {lo} et {hi}."}
    if check.startswith("greater_than_or_equal_to"):
        return "out-of-range", {"motif": f"« {shown} » doit être positif ou nul."}
    if check.startswith("str_matches"):
        return "invalid-format", {"motif": f"« {shown} » n'est pas au format attendu pour « {f.label} »."}
    if check == "ej_date_not_after_situation":
        return "ej-date-after-situation", {"date": shown}
    if check == "mesure_after_reference":
        return "out-of-range", {"motif": f"La date de mesure ({shown}) doit être postérieure à la date de référence."}
    return "out-of-range", {"motif": f"« {shown} » ne respecte pas la règle {check}."}


@dataclass(frozen=True)
class Validated:
    """The typed lines of all returns, each line marked kept or rejected, and what the checks found."""

    lines: TypedLines
    findings: tuple[Finding, ...]

    def rejected_lines(self) -> dict[str, int]:
        """Lines left out, by file: counted once on the concatenated frames, from their `REJECTED` flags."""
        counts: dict[str, int] = {}
        for key in SCHEMAS:
            frame = self.lines[key]
            for file, n in frame.loc[frame[REJECTED], FILE].value_counts().items():
                counts[str(file)] = counts.get(str(file), 0) + int(n)
        return counts


def validate_returns(parsed: Sequence[ParsedReturn]) -> Validated:
    """Check every line of every return. The typed lines of each table sheet come back concatenated
    across returns, with a boolean column `REJECTED` set by the blocking findings of parsing and of here."""
    by_file = {p.file: p for p in parsed}
    frames: dict[str, pd.DataFrame] = {}
    out: list[Finding] = []
    for spec in layout.TABLE_SHEETS:
        df = typed_frame([(p.file, p.tables[spec.key]) for p in parsed if spec.key in p.tables], spec)
        if spec.key == "consommation":
            situations = {p.file: p.projet.date_situation for p in parsed}
            df[SITUATION] = pd.to_datetime(df[FILE].map(situations))
        out += _run_schema(df, spec, by_file)
        frames[spec.key] = df
    out += _duplicate_keys(frames["consommation"], by_file)
    out += _cumulative_ej_rule(frames["consommation"], by_file)
    _mark_rejected(frames, by_file, out)
    return Validated(TypedLines.of(frames), tuple(out))


def _run_schema(df: pd.DataFrame, spec: layout.SheetLayout, by_file: dict[str, ParsedReturn]) -> list[Finding]:
    out: list[Finding] = []
    if df.empty:
        return out
    try:
        SCHEMAS[spec.key].validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return out
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
        slug, values = schema_finding(check, value, f)
        out.append(p.finding(slug, values, sheet=p.sheet_name(spec.key), cell=p.cell(spec.key, row, field_key),
                             field=f.label, value=parsing.display(value if not pd.isna(value) else None), row=row))
    return out


def _duplicate_keys(df: pd.DataFrame, by_file: dict[str, ParsedReturn]) -> list[Finding]:
    out: list[Finding] = []
    keyed = df[df["ej"].notna() & df["exercice"].notna()]
    dup = keyed[keyed.duplicated([FILE, "ej", "exercice"], keep=False)]
    for (file, ej, exercice), group in dup.groupby([FILE, "ej", "exercice"], sort=True):
        p = by_file[str(file)]
        rows = sorted(int(r) for r in group[ROW])
        for row in rows:
            others = [str(r) for r in rows if r != row]
            where = f"ligne{'s' if len(others) > 1 else ''} {', '.join(others)}"
            out.append(p.finding("duplicate-key", {"ej": ej, "exercice": exercice, "autres": where},
                                 sheet=p.sheet_name("consommation"), cell=p.cell("consommation", row, "ej"),
                                 field=layout.CONSOMMATION.field("ej").label, value=str(ej), row=row))
    return out


def _cumulative_ej_rule(df: pd.DataFrame, by_file: dict[str, ParsedReturn]) -> list[Finding]:
    """Per EJ, over the exercices up to each one: 0 ≤ cumulative CP ≤ cumulative AE.

    An EJ with an unreadable amount or exercice, or a duplicate key, cannot be summed: its own findings
    say why, and this rule does not pile a misleading second message on its other lines.
    """
    out: list[Finding] = []
    keyed = df[df["ej"].notna()]
    unsure = keyed["exercice"].isna() | keyed["ae"].isna() | keyed["cp"].isna() \
        | keyed.duplicated([FILE, "ej", "exercice"], keep=False)
    skip = set(zip(keyed.loc[unsure, FILE], keyed.loc[unsure, "ej"], strict=True))
    live = keyed[[(f, e) not in skip for f, e in zip(keyed[FILE], keyed["ej"], strict=True)]]
    if live.empty:
        return out
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
        ae, cp = parsing.format_eur(cum_ae[first]), parsing.format_eur(cum_cp[first])
        values: dict[str, object]
        if cum_cp[first] < -EPSILON:
            slug, field_key, values = "ej-negative-cp", "cp", {"ej": ej, "annee": year, "cp": cp}
        elif bad_ae[first]:
            slug, field_key, values = "ej-negative-ae", "ae", {"ej": ej, "annee": year, "ae": ae}
        else:
            slug, field_key, values = "ej-cp-exceeds-ae", "cp", {"ej": ej, "annee": year, "cp": cp, "ae": ae}
        for i in idx:
            row = int(cast(int, ordered.at[i, ROW]))
            out.append(p.finding(slug, values, sheet=p.sheet_name("consommation"),
                                 cell=p.cell("consommation", row, field_key),
                                 field=layout.CONSOMMATION.field(field_key).label,
                                 value=parsing.display(ordered.at[i, field_key]), row=row))
    return out


def _rejected_rows(p: ParsedReturn, findings: Iterable[Finding]) -> dict[str, set[int]]:
    """Rows of a return left out by its line-level blocking findings, by sheet key."""
    names = {v: k for k, v in p.sheet_names.items()}
    out: dict[str, set[int]] = {}
    for f in findings:
        if f.severity is not Severity.BLOQUANT or f.effective_scope is not Scope.LINE:
            continue
        key = names.get(f.sheet)
        if key is None:
            continue
        rows = out.setdefault(key, set())
        if f.row is not None:
            rows.add(f.row)
        elif key in p.tables:  # a missing column: every line of the sheet
            rows.update(p.tables[key].rows)
    return out


def _mark_rejected(frames: Mapping[str, pd.DataFrame], by_file: Mapping[str, ParsedReturn],
                   found: Sequence[Finding]) -> None:
    """Set `REJECTED` on the frames this stage built (they are its own until it returns them)."""
    mine: dict[str, list[Finding]] = {}
    for f in found:
        mine.setdefault(f.file, []).append(f)
    rejected = {name: _rejected_rows(p, [*p.findings, *mine.get(name, [])]) for name, p in by_file.items()}
    for key, df in frames.items():
        pairs = {(file, row) for file, sheets in rejected.items() for row in sheets.get(key, set())}
        flags = [(f, int(r)) in pairs for f, r in zip(df[FILE], df[ROW], strict=True)]
        df[REJECTED] = pd.Series(flags, index=df.index, dtype=bool)
