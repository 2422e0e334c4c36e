"""French numbers and dates: examples from the spec, refusals, and round-trip properties."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.core import parsing


@pytest.mark.parametrize("text", ["1 200 000,50", "1 200 000,50 €", "1.200.000,50", "1200000,5", "1200000.5",
                                  "1\u202f200\u00a0000,50", "1200000,50 EUR", " 1 200 000,50 "])
def test_spec_spellings_of_one_amount(text: str) -> None:
    assert parsing.parse_amount(text) == 1_200_000.5


@pytest.mark.parametrize(("text", "slug"), [("1.200", "ambiguous-number"), ("12 00", "type-error"),
                                            ("abc", "type-error"), ("1,2,3", "type-error"), ("#REF!", "error-cell"),
                                            ("#DIV/0!", "error-cell"), ("Err:502", "error-cell"),
                                            ("1,234", "too-many-decimals")])
def test_refused_amounts(text: str, slug: str) -> None:
    with pytest.raises(InputError) as info:
        parsing.parse_amount(text)
    assert info.value.slug == slug


def test_numbers_from_cells_and_negatives() -> None:
    assert parsing.parse_amount(1234.5) == 1234.5
    assert parsing.parse_amount(-150) == -150.0
    assert parsing.parse_amount("-1 000,00") == -1000.0
    assert parsing.parse_amount("") is None
    assert parsing.parse_amount(None) is None
    with pytest.raises(InputError):
        parsing.parse_amount(True)


@pytest.mark.parametrize(("raw", "expected"), [
    ("31/03/2024", dt.date(2024, 3, 31)), ("2024-03-31", dt.date(2024, 3, 31)), ("1/4/2024", dt.date(2024, 4, 1)),
    (45382, dt.date(2024, 3, 31)), (45382.0, dt.date(2024, 3, 31)), (dt.datetime(2024, 3, 31, 0, 0), dt.date(2024, 3, 31)),
    (dt.date(2024, 3, 31), dt.date(2024, 3, 31)), ("2024-03-31 00:00:00", dt.date(2024, 3, 31)),
])
def test_dates(raw: object, expected: dt.date) -> None:
    assert parsing.parse_date(raw) == expected


def test_1904_serials() -> None:
    assert parsing.parse_date(43920, date1904=True) == dt.date(2024, 3, 31)


@pytest.mark.parametrize(("raw", "slug"), [("03/04/24", "ambiguous-date"), ("30/02/2024", "type-error"),
                                           ("demain", "type-error"), (1.5, "type-error"), (12, "out-of-range")])
def test_refused_dates(raw: object, slug: str) -> None:
    with pytest.raises(InputError) as info:
        parsing.parse_date(raw)
    assert info.value.slug == slug


@pytest.mark.parametrize(("raw", "expected"), [("Oui", "Oui"), ("oui", "Oui"), ("OUI", "Oui"), (" non ", "Non"),
                                               (True, "Oui"), ("peut-être", "peut-être")])
def test_yes_no(raw: object, expected: str) -> None:
    assert parsing.parse_yesno(raw) == expected


def test_ej_kept_as_text_and_leading_zeros() -> None:
    assert parsing.parse_ej("0123456789") == "0123456789"
    assert parsing.parse_ej(1300012345.0) == "1300012345"
    with pytest.raises(InputError, match="zéros de tête"):
        parsing.parse_ej(123456789)


def _french(value: Decimal, sep: str, dots: bool) -> str:
    sign = "-" if value < 0 else ""
    whole, frac = f"{abs(value):.2f}".split(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + (("." if dots else sep).join(groups)) + "," + frac


amounts = st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2,
                      allow_nan=False, allow_infinity=False)


@given(amounts, st.sampled_from([" ", "\u00a0", "\u202f", ""]), st.booleans(), st.sampled_from(["", " €", "€"]))
def test_french_amount_round_trip(value: Decimal, sep: str, dots: bool, suffix: str) -> None:
    text = _french(value, sep, dots and abs(value) >= 1000 and sep == "") + suffix
    assert parsing.parse_decimal(text) == value


@given(st.dates(min_value=parsing.DATE_MIN, max_value=parsing.DATE_MAX))
def test_date_round_trips(day: dt.date) -> None:
    serial = (day - parsing.EPOCH_1900).days
    assert parsing.parse_date(day.strftime("%d/%m/%Y")) == day
    assert parsing.parse_date(day.isoformat()) == day
    assert parsing.parse_date(serial) == day
    assert parsing.parse_date(float(serial)) == day
    assert parsing.parse_date((day - parsing.EPOCH_1904).days, date1904=True) == day


@given(st.text(max_size=20))
def test_parsers_never_raise_anything_but_cell_errors(text: str) -> None:
    for parse in (parsing.parse_amount, parsing.parse_date, parsing.parse_int, parsing.parse_ej, parsing.parse_period,
                  parsing.parse_email, parsing.parse_project_id, parsing.parse_titre):
        with contextlib.suppress(InputError):
            parse(text)


@pytest.mark.parametrize(("raw", "expected"), [("EXPERIMENTATION/POC/LOT1", "Expérimentation"),
                                               ("Generalisation/Lot2", "Généralisation"), ("CADRAGE", "Cadrage"),
                                               ("expérimentation", "Expérimentation"), ("Pilote", "Pilote")])
def test_categories_accept_the_contracts_own_labels(raw: str, expected: str) -> None:
    from ftap_pipeline.contract import enums
    from ftap_pipeline.contract.labels import choice_index

    assert parsing.parse_choice(raw, choice_index(enums.CATEGORIES)) == expected


@pytest.mark.parametrize(("raw", "expected"), [("AP-2024-07", "AP-2024-07"), ("ap-2026-114", "AP-2026-114"),
                                               ("AP – 2026 – 114", "AP-2026-114")])
def test_project_ids_take_two_or_three_digits(raw: str, expected: str) -> None:
    assert parsing.parse_project_id(raw) == expected


@pytest.mark.parametrize("raw", ["AP-2026-1", "AP-2026-1145", "AP-26-114"])
def test_other_project_ids_are_refused(raw: str) -> None:
    with pytest.raises(InputError):
        parsing.parse_project_id(raw)


def _outcome(read: object, raw: object) -> object:
    """What a reading gives: its value with the sign of a zero, or the slug of its refusal."""
    try:
        value = read(raw)  # type: ignore[operator]
    except InputError as exc:
        return exc.slug
    return (value, repr(value))


@given(st.floats(allow_nan=True, allow_infinity=True)
       | st.sampled_from([0.0, -0.0, 0.1, 0.005, 1234.5, -150.25, 999999999999999.9, 1e15, 1e16, 1e-7]))
def test_a_float_cell_reads_as_the_exact_decimal_reading_gives(x: float) -> None:
    """A float cell skips the decimal reading when its shortest text is a plain amount: it must give what that
    reading gives, the same float (sign of zero included) or the same refusal; and, but for a zero's sign, what
    the same text typed with a decimal comma gives."""
    assert _outcome(parsing.parse_amount, x) == _outcome(parsing._amount, x)
    typed = repr(x).replace(".", ",")
    if "e" not in typed and "n" not in typed and x:
        assert _outcome(parsing.parse_amount, x) == _outcome(parsing.parse_amount, typed)
