"""Reading values typed by people: French numbers, dates, yes/no, codes.

Every parser takes a raw cell value (what the workbook reader gave: str, int, float, bool, date,
datetime, or None) and returns a typed value, or None for an empty cell. What cannot be read
unambiguously raises `InputError` with a finding slug and a French message; nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Final

from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.labels import normalise_label
from ftap_pipeline.core.french_text import number

ERROR_VALUES: Final = frozenset(
    {"#REF!", "#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#VALUE!", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)
_LO_ERROR = re.compile(r"^Err:\d{3}$")
_SPACE_CHARS: Final = "\u00a0\u202f\u2007\u2009\u200a "
#: What a blank cell may hold: a text made only of these is empty (`is_empty`).
BLANK_CHARS: Final = _SPACE_CHARS + "\t\r\n"
_CURRENCY = re.compile(r"\s*(€|eur|euros?)\s*$", re.IGNORECASE)

_PLAIN = re.compile(r"^\d+$")
_SPACE_GROUPED = re.compile(r"^\d{1,3}( \d{3})+$")
_DOT_GROUPED = re.compile(r"^\d{1,3}(\.\d{3}){2,}$")
_DOT_GROUPED_WITH_DECIMALS = re.compile(r"^\d{1,3}(\.\d{3})+,\d+$")
_DOT_DECIMAL = re.compile(r"^\d*\.\d+$")

#: Excel day 0 in the 1900 system (with Lotus' 1900-02-29 bug) and in the 1904 system.
EPOCH_1900: Final = dt.date(1899, 12, 30)
EPOCH_1904: Final = dt.date(1904, 1, 1)
#: Dates outside these bounds are refused as out of range (a serial typed in a date column by mistake).
DATE_MIN: Final = dt.date(1990, 1, 1)
DATE_MAX: Final = dt.date(2100, 12, 31)


def is_empty(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return isinstance(raw, str) and not raw.strip(BLANK_CHARS)


def check_error_value(raw: object) -> None:
    """Refuse a spreadsheet error value (`#REF!`, LibreOffice's `Err:502`…)."""
    if isinstance(raw, str):
        s = raw.strip()
        # Every error value starts with `#` or `E`: most cells are spared the look-ups.
        if s[:1] in ("#", "E") and (s.upper() in ERROR_VALUES or _LO_ERROR.match(s)):
            raise InputError("error-cell", {"erreur": s})


#: Runs of spaces of any kind: `\s` matches every Unicode space, the non-breaking ones of `_SPACE_CHARS` included.
_SPACES = re.compile(f"[\\s{_SPACE_CHARS}]+")


def _clean_text(raw: str) -> str:
    return _SPACES.sub(" ", raw).strip()


#: No figure of a return reaches 10^15 (a million billion euros); past it, a value is a typing slip, and exact
#: decimal arithmetic (28 digits) or a 64-bit column could not carry it.
MAX_MAGNITUDE: Final = Decimal("1e15")


def parse_decimal(raw: object) -> Decimal | None:
    """Read a French number; a comma is always the decimal mark. Bounded by `MAX_MAGNITUDE`."""
    value = _parse_decimal(raw)
    if value is not None and abs(value) >= MAX_MAGNITUDE:
        raise InputError("out-of-range", {"motif": f"« {display(raw)} » est hors des valeurs admises : un nombre de la "
                                                   f"remontée a au plus 15 chiffres avant la virgule."})
    return value


def _parse_decimal(raw: object) -> Decimal | None:
    if is_empty(raw):
        return None
    check_error_value(raw)
    if isinstance(raw, bool):
        raise InputError("type-error", {"motif": "Un nombre est attendu, pas une valeur VRAI/FAUX."})
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise InputError("type-error", {"motif": "Un nombre fini est attendu."})
        return Decimal(repr(raw))
    if not isinstance(raw, str):
        raise InputError("type-error", {"motif": "Un nombre est attendu."})
    s = _CURRENCY.sub("", _clean_text(raw)).strip()
    negative = False
    if s[:1] in "-−":
        negative, s = True, s[1:].strip()
    elif s[:1] == "+":
        s = s[1:].strip()
    if "," in s:
        if s.count(",") > 1:
            raise InputError("type-error", {"motif": f"« {raw} » n'est pas un nombre lisible (plusieurs virgules)."})
        whole, frac = s.split(",")
        if not frac.isdigit():
            raise InputError("type-error", {"motif": f"« {raw} » n'est pas un nombre lisible."})
        if "." in whole:
            if not _DOT_GROUPED_WITH_DECIMALS.match(s):
                raise InputError("type-error", {"motif": f"« {raw} » n'est pas un nombre lisible."})
            whole = whole.replace(".", "")
        whole = _ungroup(whole, raw)
        text = f"{whole or '0'}.{frac}"
    elif "." in s:
        if _DOT_GROUPED.match(s):
            text = s.replace(".", "")
        elif re.match(r"^\d+\.\d{3}$", s):
            raise InputError("ambiguous-number", {"valeur": raw})
        elif _DOT_DECIMAL.match(s):
            text = s
        else:
            raise InputError("type-error", {"motif": f"« {raw} » n'est pas un nombre lisible."})
    else:
        text = _ungroup(s, raw)
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise InputError("type-error", {"motif": f"« {raw} » n'est pas un nombre lisible."}) from exc
    return -value if negative else value


def _ungroup(s: str, raw: object) -> str:
    if _PLAIN.match(s) or s == "":
        return s
    if _SPACE_GROUPED.match(s):
        return s.replace(" ", "")
    raise InputError("type-error", {"motif": f"« {raw} » n'est pas un nombre lisible."})


def parse_number(raw: object) -> float | None:
    value = parse_decimal(raw)
    return None if value is None else float(value)


#: The shortest text of a float that is its own amount: at most two decimals, no exponent, under `MAX_MAGNITUDE`.
_PLAIN_AMOUNT: Final = re.compile(r"-?\d{1,15}\.\d{1,2}")


def parse_amount(raw: object) -> float | None:
    """An amount in euros: a number with at most two decimals."""
    if type(raw) is float and _PLAIN_AMOUNT.fullmatch(repr(raw)):
        # What a spreadsheet cell nearly always holds; its shortest text is exactly what `_amount` would
        # quantize, so the float comes back unchanged.
        return raw
    return _amount(raw)


def _amount(raw: object) -> float | None:
    """`parse_amount` through the exact decimal reading."""
    value = parse_decimal(raw)
    if value is None:
        return None
    if value != value.quantize(Decimal("0.01")) and abs(value - value.quantize(Decimal("0.01"))) > Decimal("1e-9"):
        raise InputError("too-many-decimals", {"valeur": raw})
    return float(value.quantize(Decimal("0.01")))


def parse_int(raw: object) -> int | None:
    value = parse_decimal(raw)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise InputError("type-error", {"motif": f"« {raw} » n'est pas un nombre entier."})
    return int(value)


_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")


def parse_date(raw: object, *, date1904: bool = False) -> dt.date | None:
    """Read a date: a datetime, an Excel serial (1900 or 1904 system), `jj/mm/aaaa` or `aaaa-mm-jj`."""
    if is_empty(raw):
        return None
    check_error_value(raw)
    if isinstance(raw, dt.datetime):
        value = raw.date()
    elif isinstance(raw, dt.date):
        value = raw
    elif isinstance(raw, bool):
        raise InputError("type-error", {"motif": "Une date est attendue, pas une valeur VRAI/FAUX."})
    elif isinstance(raw, (int, float)):
        value = serial_to_date(raw, date1904=date1904)
    elif isinstance(raw, str):
        value = _parse_date_text(_clean_text(raw), raw)
    else:
        raise InputError("type-error", {"motif": "Une date au format jj/mm/aaaa est attendue."})
    if not DATE_MIN <= value <= DATE_MAX:
        raise InputError("out-of-range", {"motif": f"La date {value:%d/%m/%Y} est invraisemblable."})
    return value


def serial_to_date(serial: float, *, date1904: bool = False) -> dt.date:
    if not math.isfinite(serial) or serial != int(serial) or serial < 1 or serial > 2958465:
        raise InputError("type-error", {"motif": f"« {serial} » n'est pas une date."})
    epoch = EPOCH_1904 if date1904 else EPOCH_1900
    return epoch + dt.timedelta(days=int(serial))


def _parse_date_text(s: str, raw: object) -> dt.date:
    m = _DMY.match(s)
    if m:
        day, month, year = (int(g) for g in m.groups())
        if len(m.group(3)) != 4:
            raise InputError("ambiguous-date", {"valeur": raw})
        return _make_date(year, month, day, raw)
    m = _YMD.match(s)
    if m:
        year, month, day = (int(g) for g in m.groups())
        return _make_date(year, month, day, raw)
    raise InputError("type-error", {"motif": f"« {raw} » n'est pas une date lisible (attendu : jj/mm/aaaa)."})


def _make_date(year: int, month: int, day: int, raw: object) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise InputError("type-error", {"motif": f"« {raw} » n'est pas une date valide."}) from exc


def parse_text(raw: object) -> str | None:
    if is_empty(raw):
        return None
    check_error_value(raw)
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e15:
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.strftime("%d/%m/%Y") if raw.time() == dt.time() else raw.isoformat(sep=" ")
    if isinstance(raw, dt.date):
        return raw.strftime("%d/%m/%Y")
    return _clean_text(str(raw))


def parse_choice(raw: object, index: dict[str, object]) -> object | None:
    """Match a list value tolerantly; an unknown value is returned as typed so the schema reports it."""
    text = parse_text(raw)
    if text is None:
        return None
    return index.get(normalise_label(text), text)


def parse_yesno(raw: object) -> str | None:
    if isinstance(raw, bool):
        return "Oui" if raw else "Non"
    text = parse_text(raw)
    if text is None:
        return None
    folded = normalise_label(text)
    if folded == "oui":
        return "Oui"
    if folded == "non":
        return "Non"
    return text


def parse_titre(raw: object) -> int | None:
    if isinstance(raw, str):
        s = normalise_label(raw).replace("titre", "").replace("t", "").strip()
        if s.isdigit():
            return int(s)
        raise InputError("not-in-list", {"valeur": raw, "attendu": "un titre budgétaire (3, 5 ou 6)"})
    return parse_int(raw)


_EJ = re.compile(r"^\d{10}$")


def parse_ej(raw: object) -> str | None:
    """An EJ number is ten digits, kept as text (a number typed as such loses its leading zeros)."""
    if is_empty(raw):
        return None
    check_error_value(raw)
    if isinstance(raw, bool):
        raise InputError("invalid-format", {"motif": "Un numéro d'EJ à 10 chiffres est attendu."})
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not raw.is_integer():
            raise InputError("invalid-format", {"motif": f"« {raw} » n'est pas un numéro d'EJ (10 chiffres)."})
        text = str(int(raw))
        if len(text) != 10:
            raise InputError(
                "invalid-format",
                {"motif": f"« {text} » n'a pas 10 chiffres : saisi comme un nombre, il a pu perdre ses zéros de tête. "
                "Mettez la colonne au format Texte et ressaisissez le numéro."},
            )
        return text
    text = _clean_text(str(raw)).replace(" ", "")
    if not _EJ.match(text):
        raise InputError("invalid-format", {"motif": f"« {raw} » n'est pas un numéro d'EJ (10 chiffres)."})
    return text


#: `AP-AAAA-NN` or `AP-AAAA-NNN`: a selection year of more than 99 projects takes three digits (remontee-v1).
_PROJECT_ID = re.compile(r"^AP-(\d{4})-(\d{2,3})$")


def parse_project_id(raw: object) -> str | None:
    text = parse_text(raw)
    if text is None:
        return None
    canon = text.upper().replace(" ", "").replace("–", "-")
    if not _PROJECT_ID.match(canon):
        raise InputError("invalid-format",
                         {"motif": f"« {raw} » n'est pas un identifiant de projet (AP-AAAA-NN ou AP-AAAA-NNN)."})
    return canon


_PERIOD = re.compile(r"^(\d{4})\s*-?\s*T\s*([1-4])$", re.IGNORECASE)


def parse_period(raw: object) -> str | None:
    text = parse_text(raw)
    if text is None:
        return None
    m = _PERIOD.match(text.strip())
    if not m:
        raise InputError("invalid-format", {"motif": f"« {raw} » n'est pas une période (AAAA-Tn, ex. 2025-T2)."})
    return f"{m.group(1)}-T{m.group(2)}"


_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}$")


def parse_email(raw: object) -> str | None:
    text = parse_text(raw)
    if text is None:
        return None
    text = text.strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not _EMAIL.match(text):
        raise InputError("invalid-format", {"motif": f"« {raw} » n'est pas une adresse électronique valide."})
    return text.lower()


def display(raw: object) -> str:
    """The value read, as a person would recognise it in a message (an empty date of a typed frame, NaT or NaN,
    reads as nothing)."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)) or (isinstance(raw, dt.date) and raw != raw):
        return ""
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e15:
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.strftime("%d/%m/%Y") if raw.time() == dt.time() else raw.isoformat(sep=" ")
    if isinstance(raw, dt.date):
        return raw.strftime("%d/%m/%Y")
    return str(raw)[:200]


def format_eur(amount: float) -> str:
    """`1234.5` → `1 234,50 €`, as a French reader writes it (narrow no-break space between thousands)."""
    return f"{number(amount)} €"
