"""A column's parser remembers what each text or number gave, without ever changing what a cell reads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftap_pipeline.contract import layout
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.core.normalise import _parser, _remembered

FIELDS = [f for sheet in layout.TABLE_SHEETS for f in sheet.fields]
RAW = st.one_of(st.none(), st.booleans(), st.integers(-10**16, 10**16), st.floats(allow_nan=True),
                st.sampled_from(["", " ", "0", "-0", "1,5", "1 234,56 €", "12.345", "#REF!", "Err:502", "oui",
                                 "Non", "2025-T2", "AP-2025-01", "31/12/2024", "1.0", "-0,0"]),
                st.text(max_size=12))


def _outcome(parse: Any, raw: object) -> tuple[str, object]:
    try:
        value = parse(raw)
    except InputError as exc:
        return "error", (exc.slug, exc.message)
    return "value", (type(value), str(value) if isinstance(value, Decimal) else value)


@given(field=st.sampled_from(FIELDS), raws=st.lists(RAW, max_size=30))
def test_a_remembered_parser_reads_every_cell_as_the_plain_one(field: layout.Field, raws: list[object]) -> None:
    plain = _parser(field, False)
    remembered = _remembered(_parser(field, False))
    for raw in [*raws, *raws]:  # the second pass is served from memory
        assert _outcome(remembered, raw) == _outcome(plain, raw)


def test_what_is_equal_in_python_but_reads_differently_is_told_apart() -> None:
    amount = next(f for f in FIELDS if f.kind is layout.Kind.AMOUNT)
    text = next(f for f in FIELDS if f.kind is layout.Kind.TEXT)
    parse_amount, parse_text = _remembered(_parser(amount, False)), _remembered(_parser(text, False))
    assert str(parse_amount(0.0)) == str(Decimal("0.0"))
    assert str(parse_amount(-0.0)) == str(Decimal("-0.0"))
    assert parse_text(1.0) == "1"
    assert parse_text("1.0") == "1.0"


def test_a_refused_text_is_refused_each_time() -> None:
    calls: list[object] = []

    def parse(raw: object) -> object:
        calls.append(raw)
        raise InputError("type-error", {"motif": "illisible"})

    remembered = _remembered(parse)
    for _ in range(2):
        with pytest.raises(InputError):
            remembered("abc")
    assert calls == ["abc", "abc"]


# --- the typed columns of the concatenated lines ----------------------------------------------------------

#: What the parsers give (their magnitudes stay under 10^15, `parsing.MAX_MAGNITUDE`), and what they do not.
_CELL = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(-1e15, 1e15),
                  st.sampled_from([float("nan"), float("inf"), -0.0]),
                  st.dates(), st.sampled_from(["", " ", "\t", "\u00a0", "\x0b", " x ", "Oui", "3", "0349-01"]),
                  st.text(max_size=6))


def _reference_column(values: list[Any], kind: layout.Kind) -> list[Any]:
    """What `_typed_column` gave before its fast paths: `_as_int` on every integer, `is_empty` on every text."""
    from ftap_pipeline.core import parsing
    from ftap_pipeline.core.normalise import _as_int

    if kind in (layout.Kind.INT, layout.Kind.TITRE):
        return [_as_int(v) for v in values]
    return [None if parsing.is_empty(v) else str(v) for v in values]


@given(st.lists(_CELL, max_size=20), st.sampled_from([layout.Kind.INT, layout.Kind.TITRE, layout.Kind.TEXT,
                                                      layout.Kind.CHOICE, layout.Kind.EJ]))
def test_a_typed_column_holds_what_the_plain_conversion_gives(values: list[Any], kind: layout.Kind) -> None:
    import pandas as pd

    from ftap_pipeline.core.normalise import _typed_column

    got = _typed_column(values, kind, pd.RangeIndex(len(values))).tolist()
    expected = _reference_column(values, kind)
    assert [None if v is pd.NA else v for v in got] == expected
    assert [type(v) for v in got if v is not pd.NA and v is not None] == [type(v) for v in expected if v is not None]
