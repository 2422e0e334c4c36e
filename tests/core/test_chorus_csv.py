"""The strict dialect of a CSV restitution: every physical line is kept or refused with its number, a bad line
never hides the lines after it, and the good lines are read to the cent as before."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftap_pipeline.contract.chorus_schema import INF_BUD_53_AE, MAX_FIELD_CHARS, MAX_LINE_CHARS
from ftap_pipeline.contract.columns import LINE
from ftap_pipeline.contract.model import ChorusRestitution
from ftap_pipeline.core.chorus import normalise_movements
from ftap_pipeline.core.chorus_rows import CsvBytes, restitutions
from tests.core.test_chorus import CUTOFF, referentiel

#: 200 cases each in CI; `FTAP_PROPERTY_EXAMPLES=5000 pytest tests/core/test_chorus_csv.py` for a long run.
EXAMPLES = int(os.environ.get("FTAP_PROPERTY_EXAMPLES", "200"))
COLUMNS = ("Programme", "Référentiel de programmation", "N° EJ", "Date de réplication", "N° poste EJ",
           "Compte budgétaire", "Fournisseur titulaire principal (EJ)", "EUR")
TITLE = "Restitution INF-BUD-53 - Programme 0349"
HEADER_LINE = 2  # below the title line
UNREADABLE, COUNT = "chorus-unreadable-line", "chorus-wrong-field-count"
SEPARATOR, TRUNCATED = "chorus-wrong-separator", "chorus-truncated-line"
LINE_SLUGS = {UNREADABLE, COUNT, SEPARATOR, TRUNCATED}


def good(i: int) -> list[str]:
    """The values of the i-th good line: a distinct EJ and amount, an accented label on every other line."""
    label = "Cabinet Études & Conseil" if i % 2 else "Atelier 3"
    return ["0349", "03490101B501", f"13000000{i:02d}", "01.02.2024", "1", "31", label, f"{i + 1}00,{i:02d}"]


GOOD = [good(i) for i in range(8)]


def text_of(cells: list[str], delimiter: str = ";", quote_all: bool = False) -> str:
    """A line as Chorus writes it: the amount quoted (its decimal comma), or every value quoted (AIFE style)."""
    return delimiter.join(f'"{c}"' if quote_all or c is cells[-1] or delimiter in c else c for c in cells)


DIALECTS = {"point-virgule": (";", False), "virgule": (",", False), "tout-entre-guillemets": (";", True)}

Item = int | tuple[bytes, str | None]  # a good line by index, or raw bytes and the slug they must get (None: blank)


def assemble(items: list[Item], *, dialect: str = "point-virgule", eol: bytes = b"\r\n", terminated: bool = True,
             encoding: str = "utf-8") -> tuple[bytes, dict[int, list[str]], dict[int, str]]:
    """The file, the lines it must keep (line → values) and those it must refuse (line → slug)."""
    delimiter, quote_all = DIALECTS[dialect]
    lines = [TITLE.encode(encoding), text_of(list(COLUMNS), delimiter, quote_all).encode(encoding)]
    kept: dict[int, list[str]] = {}
    refused: dict[int, str] = {}
    for item in items:
        number = len(lines) + 1
        if isinstance(item, int):
            lines.append(text_of(GOOD[item], delimiter, quote_all).encode(encoding))
            kept[number] = GOOD[item]
        else:
            raw, slug = item
            lines.append(raw)
            if slug is not None:
                refused[number] = slug
    return eol.join(lines) + (eol if terminated else b""), kept, refused


def read(data: bytes) -> ChorusRestitution:
    [restitution] = restitutions("ae.csv", "sha", [CsvBytes(data)], [""])
    return restitution


def kept_lines(restitution: ChorusRestitution) -> dict[int, list[str]]:
    values = restitution.data.drop(columns=LINE)
    return {int(line): list(row) for line, row in zip(restitution.data[LINE], values.itertuples(index=False),
                                                       strict=True)}


def refused_lines(restitution: ChorusRestitution) -> dict[int, str]:
    return {f.row: f.slug for f in restitution.findings if f.slug in LINE_SLUGS and f.row is not None}


def physical_lines(data: bytes) -> list[bytes]:
    lines = re.split(rb"\r\n|\r|\n", data)
    return lines[:-1] if not lines[-1] else lines


def holds_nothing(raw: bytes) -> bool:
    """A line with no value in it: only blanks, separators and empty quoted values, in either encoding."""
    for encoding in ("utf-8", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not "".join(text.replace('""', "").replace(";", "").replace(",", "").split()):
            return True
    return False


def assert_conserved(data: bytes, restitution: ChorusRestitution) -> None:
    """Every physical line below the header is kept or refused, once, or holds nothing."""
    kept, refused = set(kept_lines(restitution)), set(refused_lines(restitution))
    assert not kept & refused
    lines = physical_lines(data)
    below = set(range(HEADER_LINE + 1, len(lines) + 1))
    assert kept | refused <= below
    for number in below - kept - refused:
        assert holds_nothing(lines[number - 1]), (number, lines[number - 1][:80])


# --- good files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("eol", [b"\r\n", b"\n", b"\r"])
def test_a_good_file_keeps_every_line_to_the_cent(dialect: str, eol: bytes) -> None:
    data, kept, _ = assemble(list(range(8)), dialect=dialect, eol=eol)

    restitution = read(data)

    assert (restitution.layout, restitution.findings) == (INF_BUD_53_AE, ())
    assert kept_lines(restitution) == kept
    movements, findings = normalise_movements([restitution], referentiel(), CUTOFF)
    assert findings == []
    assert movements["montant"].tolist() == [100.0, 200.01, 300.02, 400.03, 500.04, 600.05, 700.06, 800.07]
    assert movements["line"].tolist() == list(range(3, 11))


def test_blank_lines_and_trailing_separators_are_not_data() -> None:
    data, kept, _ = assemble([0, (b"", None), (b";;;;;;;", None), (b'"";""', None), 1, (b"   ", None), 2])
    with_trailing = data.replace(text_of(GOOD[2]).encode(), text_of(GOOD[2]).encode() + b";;")

    restitution = read(with_trailing)

    assert restitution.findings == ()
    assert kept_lines(restitution) == kept
    assert_conserved(with_trailing, restitution)


def test_a_last_line_without_its_end_is_kept_when_whole() -> None:
    data, kept, _ = assemble(list(range(3)), terminated=False)
    assert kept_lines(read(data)) == kept


# --- each broken line is refused alone, with its number ----------------------------------------------

_SWALLOW = '0349;"03490101B501;1300000098;01.02.2024;1;31;Atelier;9,99'


@pytest.mark.parametrize(
    ("items", "terminated", "motif"),
    [
        # A stray quote used to swallow the rest of the file.
        pytest.param([0, (_SWALLOW.encode(), UNREADABLE), 1, 2, 3], True, "ouvre des guillemets qu'elle ne referme pas",
                     id="guillemet-non-referme"),
        pytest.param([0, (b'0349;"03490101B501"x;1300000098;01.02.2024;1;31;A;"9,99"', UNREADABLE), 1], True,
                     "un guillemet y est mal placé", id="guillemet-mal-place"),
        # A value over two lines: both halves are refused, the lines after are read.
        pytest.param([0, (b'0349;03490101B501;1300000098;01.02.2024;1;31;"Cabinet', UNREADABLE),
                      ('Études";"9,99"'.encode(), COUNT), 1, 2], True, "", id="valeur-sur-deux-lignes"),
        # A 200,000-character field used to drop every later line.
        pytest.param([0, (text_of(["0349", "03490101B501", "1300000098", "01.02.2024", "1", "31", "x" * 200_000,
                                   "9,99"]).encode(), UNREADABLE), 1, 2], True, f"au-delà de la limite de {MAX_LINE_CHARS}",
                     id="valeur-de-200000-caracteres"),
        pytest.param([0, (text_of(["0349", "03490101B501", "1300000098", "01.02.2024", "1", "31", "x" * 5_000,
                                   "9,99"]).encode(), UNREADABLE), 1], True,
                     f"sa valeur de « Fournisseur titulaire principal (EJ) » compte 5000 caractères, au-delà de la "
                     f"limite de {MAX_FIELD_CHARS}", id="valeur-trop-longue"),
        # Lines with another separator used to vanish.
        pytest.param([0, (text_of(GOOD[5], ",").encode(), SEPARATOR), 1, (text_of(GOOD[6], ",").encode(), SEPARATOR),
                      2], True, "", id="autre-separateur"),
        # A cut-short last line used to be taken as is.
        pytest.param([0, 1, (text_of(GOOD[2]).encode()[:30], TRUNCATED)], False, "", id="derniere-ligne-coupee"),
        pytest.param([0, 1, (text_of(GOOD[2]).encode()[:-3], TRUNCATED)], False, "",
                     id="derniere-ligne-coupee-dans-le-montant"),
        pytest.param([0, (text_of(GOOD[2]).encode()[:30], COUNT), 1], True, "", id="ligne-courte"),
        pytest.param([0, (text_of(GOOD[2]).encode() + b";9", COUNT), 1], True, "", id="ligne-longue"),
        pytest.param([0, (b"0349;03490101B501;1300000098;01.02.2024;1;31;A;\x00", UNREADABLE), 1], True,
                     "caractère nul", id="caractere-nul"),
        pytest.param([0, (text_of(GOOD[3]).encode().replace(b"\xc3\x89", b"\xff"), UNREADABLE), 1, 2], True,
                     "pas du texte UTF-8", id="octet-hors-utf8"),
    ],
)
def test_a_broken_line_is_refused_alone(items: list[Item], terminated: bool, motif: str) -> None:
    data, kept, refused = assemble(items, terminated=terminated)

    restitution = read(data)

    assert restitution.layout == INF_BUD_53_AE
    assert kept_lines(restitution) == kept
    assert refused_lines(restitution) == refused
    assert all(f.cell == f"ligne {f.row}" and f.file == "ae.csv" for f in restitution.findings)
    assert motif in " ".join(f.message for f in restitution.findings)
    assert_conserved(data, restitution)
    movements, _ = normalise_movements([restitution], referentiel(), CUTOFF)
    assert sorted(movements["line"]) == sorted(kept)


def test_the_messages_name_the_line_and_what_to_look_for() -> None:
    data, _, _ = assemble([0, (text_of(GOOD[1], ",").encode(), SEPARATOR), (text_of(GOOD[2]).encode()[:30], COUNT),
                           (text_of(GOOD[3]).encode()[:20], TRUNCATED)], terminated=False)

    findings = read(data).findings

    assert [f.slug for f in findings] == ["chorus-wrong-separator", "chorus-wrong-field-count", "chorus-truncated-line"]
    assert [f.message for f in findings] == [
        "La ligne 4 est séparée par « , » et non par « ; » comme l'en-tête : elle n'est pas prise en compte.",
        "La ligne 5 compte 4 valeur(s) pour 8 colonne(s) d'en-tête : ses colonnes sont décalées, elle n'est pas prise "
        "en compte.",
        "La dernière ligne du fichier, la ligne 6, s'arrête au milieu, sans fin de ligne : le fichier semble coupé, "
        "cette ligne n'est pas prise en compte.",
    ]


def test_a_windows_1252_file_refuses_only_its_undefined_bytes() -> None:
    data, kept, refused = assemble([0, 1, (b"0349;03490101B501;1300000098;01.02.2024;1;31;\x81;9", UNREADABLE), 3],
                                   encoding="cp1252")

    restitution = read(data)

    assert kept_lines(restitution) == kept  # the accents of the other lines read as Windows-1252
    assert refused_lines(restitution) == refused
    assert "pas du texte Windows-1252" in restitution.findings[0].message


def test_a_header_in_another_separator_than_its_lines() -> None:
    """The separator is the header's, for the whole file: lines written with another one are refused, not
    read with it."""
    data, _, _ = assemble([], dialect="virgule")
    data += b"".join(text_of(g).encode() + b"\r\n" for g in GOOD[:3])

    restitution = read(data)

    assert restitution.data.empty
    assert refused_lines(restitution) == {3: SEPARATOR, 4: SEPARATOR, 5: SEPARATOR}


# --- properties ------------------------------------------------------------------------------------

LINE_TEXT = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=120)
LINE_BYTES = st.binary(max_size=120).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
QUOTEY = st.lists(st.sampled_from(['"', ";", ",", "0349", "1,5", '""', " ", "É", "\x00", "x" * 50]), max_size=12).map(
    "".join)


@settings(max_examples=EXAMPLES, deadline=None)
@given(dialect=st.sampled_from(sorted(DIALECTS)), position=st.integers(0, 7),
       replacement=st.one_of(LINE_TEXT.map(str.encode), LINE_BYTES, QUOTEY.map(str.encode)))
def test_any_one_line_costs_at_most_itself(dialect: str, position: int, replacement: bytes) -> None:
    """Whatever one line holds, every other line is kept with its values and its number."""
    items: list[Item] = [i for i in range(8)]
    data, kept, _ = assemble(items, dialect=dialect)
    lines = physical_lines(data)
    number = HEADER_LINE + 1 + position
    lines[number - 1] = replacement
    data = b"\r\n".join(lines) + b"\r\n"

    restitution = read(data)

    assert restitution.layout == INF_BUD_53_AE
    found = kept_lines(restitution)
    assert {n: v for n, v in found.items() if n != number} == {n: v for n, v in kept.items() if n != number}
    assert_conserved(data, restitution)


MUTATION = st.tuples(st.sampled_from(["flip", "insert", "delete", "cut"]), st.integers(0, 10**6), st.integers(0, 255))


@settings(max_examples=max(1, EXAMPLES // 2), deadline=None)
@given(dialect=st.sampled_from(sorted(DIALECTS)), mutations=st.lists(MUTATION, min_size=1, max_size=6))
def test_mutated_bytes_never_raise_and_every_line_is_accounted_for(
        dialect: str, mutations: list[tuple[str, int, int]]) -> None:
    data, _, _ = assemble(list(range(8)), dialect=dialect)
    head = data.index(b"\r\n", data.index(b"\r\n") + 2) + 2  # the title and header lines stay as they are
    body = bytearray(data[head:])
    for kind, at, byte in mutations:
        i = at % (len(body) + 1)
        if kind == "flip" and i < len(body):
            body[i] ^= 1 << (byte % 8)
        elif kind == "insert":
            body[i:i] = bytes([byte])
        elif kind == "delete":
            del body[i:i + 1 + byte % 4]
        elif kind == "cut":
            del body[i:]
    mutated = data[:head] + bytes(body)

    [restitution] = restitutions("ae.csv", "sha", [CsvBytes(mutated)], [""])

    assert restitution.layout == INF_BUD_53_AE  # the header is untouched, and says UTF-8 for the whole file
    assert_conserved(mutated, restitution)
    assert all(f.message and f.row for f in restitution.findings)
    normalise_movements([restitution], referentiel(), CUTOFF)  # the core takes whatever the lines kept hold
