"""Normalising Chorus restitutions into programme-0349 movements (chorus.md). Expected values are read off the
fixture files by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftap_pipeline.contract.chorus_schema import MOVEMENT_COLUMNS, ChorusMovementsSchema
from ftap_pipeline.contract.enums import SANS_EJ
from ftap_pipeline.contract.findings import Finding
from ftap_pipeline.contract.model import ChorusRestitution as ChorusRead
from ftap_pipeline.contract.preflight import check_text
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.chorus import normalise_movements
from ftap_pipeline.core.chorus_rows import csv_restitution

FIXTURES = Path(__file__).parents[1] / "fixtures" / "chorus"
CUTOFF = dt.date(2025, 6, 30)
D = dt.date
INF_BUD_AE_HEADER = ("Programme;Référentiel de programmation;N° EJ;Date de réplication;N° poste EJ;"
                     "Compte budgétaire;EUR")


def referentiel(**kwargs: object) -> Referentiel:
    empty = pd.DataFrame()
    return Referentiel(empty, empty, empty, empty, **kwargs)  # type: ignore[arg-type]


def fixture_reads() -> list[ChorusRead]:
    """The fixture extracts, decoded as the reader does (UTF-8 or Windows-1252), built in memory."""
    return [csv_restitution(p.name, f"sha-{p.name}", check_text(p.read_bytes(), slug="chorus-unreadable-file"))
            for p in sorted(FIXTURES.glob("*.csv"))]


def csv_read(name: str, lines: list[str]) -> ChorusRead:
    return csv_restitution(name, "sha", "\n".join(lines) + "\n")


def of_ej(movements: pd.DataFrame, ej: str, kind: str) -> pd.DataFrame:
    return movements[(movements["ej"] == ej) & (movements["kind"] == kind)]


@pytest.fixture(scope="module")
def normalised() -> tuple[pd.DataFrame, list[Finding]]:
    return normalise_movements(fixture_reads(), referentiel(), CUTOFF)


def test_columns_and_schema(normalised: tuple[pd.DataFrame, list[Finding]]) -> None:
    movements, _ = normalised
    assert tuple(movements.columns) == MOVEMENT_COLUMNS
    ChorusMovementsSchema.validate(movements)
    # 3 AIFE AE + 2 AIFE CP, 8 INF-BUD-53 AE, 9 + 2 (new in the overlapping extract) INF-BUD-53 CP.
    assert len(movements) == 2 + 2 + 8 + 9 + 2


def test_split_postes_and_negative_correction(normalised: tuple[pd.DataFrame, list[Finding]]) -> None:
    movements, _ = normalised
    a = of_ej(movements, "1300000001", "AE")
    assert a["poste"].tolist() == ["1", "2", "2"]
    assert a["montant"].tolist() == [60000.0, 40000.0, -5000.0]
    assert a["date"].tolist() == [D(2024, 2, 12), D(2024, 2, 12), D(2024, 11, 20)]
    assert a["annee"].tolist() == [2024, 2024, 2024]
    assert a["line"].tolist() == [6, 7, 8]
    first = a.iloc[0]
    assert first["activite"] == "03490101B501"  # BG00/ stripped
    assert first["compte_budgetaire"] == "31"  # PCE/ stripped
    assert first["titre"] == 3
    assert first["centre_financier"] == ""  # INF-BUD-53 carries a centre de coûts, not a centre financier
    assert first["fournisseur"] == "Cabinet Études & Conseil"
    assert bool(first["in_dispositif"])


def test_payments_dates_and_years(normalised: tuple[pd.DataFrame, list[Finding]]) -> None:
    movements, _ = normalised
    a = of_ej(movements, "1300000001", "CP")
    assert a["dp"].tolist() == ["1000000001", "1000000002", "1000000003", "1000000012", "1000000013"]
    # SF date; SF `#` → DP base date (ISO); SF as an Excel serial; then the second extract's dd.mm.yyyy dates.
    assert a["date"].tolist() == [D(2024, 3, 15), D(2024, 5, 2), D(2024, 7, 27), D(2025, 4, 30), D(2025, 5, 5)]
    assert a["annee"].tolist() == [2024, 2024, 2024, 2025, 2025]
    assert a["montant"].tolist() == [20000.0, 10000.0, 15000.0, 1500.0, -500.0]
    b = of_ej(movements, "1300000002", "CP")
    assert b["montant"].tolist() == [5000.0, 30000.0]
    aife = b.iloc[0]
    assert (aife["layout"], aife["date"], aife["annee"], aife["centre_financier"]) == (
        "aife-cp", None, 2025, "0349-CDBU-DITP")
    assert aife["programme"] == "0349"  # written 349


def test_payment_without_ej(normalised: tuple[pd.DataFrame, list[Finding]]) -> None:
    movements, _ = normalised
    sans = movements[movements["ej"] == SANS_EJ]
    assert len(sans) == 1
    row = sans.iloc[0]
    assert (row["kind"], row["poste"], row["dp"], row["date"], row["montant"]) == (
        "CP", "", "1000000005", D(2024, 9, 10), 1200.0)


def test_dispositif_membership(normalised: tuple[pd.DataFrame, list[Finding]]) -> None:
    movements, _ = normalised
    outside = movements[~movements["in_dispositif"]]
    # Activité 03490101B502 (INF-BUD-53: the activité decides), and centre financier 0349-CDBU-AUTRE (AIFE).
    assert sorted(zip(outside["ej"], outside["kind"], outside["montant"], strict=True)) == [
        ("1300000004", "AE", 8000.0), ("1300000004", "CP", 2000.0), ("1300000013", "CP", 700.0)]
    assert of_ej(movements, "1300000003", "AE")["titre"].tolist() == [5]  # PCE/51


def test_lines_left_out(normalised: tuple[pd.DataFrame, list[Finding]]) -> None:
    movements, _ = normalised
    ejs = set(movements["ej"])
    assert "1300000099" not in ejs  # programme 0148
    assert "1300000014" not in ejs  # replicated 15.07.2025, after the cut-off
    assert "1300000098" not in ejs  # programme 0177 in the AIFE file
    assert "1000000020" not in set(movements["dp"])  # exercice 2026, after the cut-off's year
    assert {"1300000015", "1300000016"}.isdisjoint(ejs)  # unreadable amount, unreadable date


def test_aife_engagements_are_undated(normalised: tuple[pd.DataFrame, list[Finding]]) -> None:
    movements, findings = normalised
    h = of_ej(movements, "1300000017", "AE")
    assert h["montant"].tolist() == [4000.0, 3000.0]
    assert h["date"].tolist() == [None, None]
    assert h["annee"].isna().all()
    no_dates = [f for f in findings if f.slug == "chorus-no-dates"]
    assert [(f.file, f.severity.value) for f in no_dates] == [("aife-ae.csv", "Information")]


def test_findings(normalised: tuple[pd.DataFrame, list[Finding]]) -> None:
    _, findings = normalised
    unreadable = [(f.file, f.cell, f.field, f.value, f.row, f.sha256) for f in findings
                  if f.slug == "chorus-unreadable-line"]
    assert unreadable == [
        ("inf-bud-53-ae_2024.csv", "ligne 16", "EUR", "12,5,0", 16, "sha-inf-bud-53-ae_2024.csv"),
        ("inf-bud-53-ae_2024.csv", "ligne 17", "Date de réplication", "31.02.2024", 17, "sha-inf-bud-53-ae_2024.csv"),
    ]
    duplicates = [f for f in findings if f.slug == "chorus-duplicate-movement"]
    assert len(duplicates) == 1
    assert duplicates[0].file == "inf-bud-53-cp_2025-S1.csv"
    assert duplicates[0].message.startswith("2 mouvement(s) de « inf-bud-53-cp_2025-S1.csv » figurent déjà dans "
                                            "« inf-bud-53-cp_2024.csv »")
    assert sorted(f.slug for f in findings) == [
        "chorus-duplicate-movement", "chorus-no-dates", "chorus-unreadable-line", "chorus-unreadable-line"]


def test_overlapping_extracts_count_once_whatever_the_order(normalised: tuple[pd.DataFrame, list[Finding]]) -> None:
    movements, _ = normalised
    again, _ = normalise_movements(list(reversed(fixture_reads())), referentiel(), CUTOFF)
    pd.testing.assert_frame_equal(movements, again)
    assert (movements["dp"] == "1000000003").sum() == 1
    assert movements.loc[movements["dp"] == "1000000004", "source"].tolist() == ["inf-bud-53-cp_2024.csv"]


def test_earlier_cutoff() -> None:
    movements, _ = normalise_movements(fixture_reads(), referentiel(), D(2024, 12, 31))
    assert movements["date"].dropna().max() == D(2024, 11, 20)
    assert "aife-cp" not in set(movements["layout"])  # both kept AIFE payments are of exercice 2025
    assert len(of_ej(movements, "1300000017", "AE")) == 2  # undated: kept


def test_identical_lines_of_one_file_are_distinct_movements(tmp_path: Path) -> None:
    line = '0349;03490101B501;1300000001;01.02.2024;1;31;"100,00"'
    read = csv_read("ae.csv", [INF_BUD_AE_HEADER, line, line])
    movements, findings = normalise_movements([read], referentiel(), CUTOFF)
    assert movements["montant"].sum() == 200.0
    assert findings == []


def test_undated_engagement_and_odd_values(tmp_path: Path) -> None:
    read = csv_read("ae.csv", [
        INF_BUD_AE_HEADER,
        "0349;BG00/03490101B501;1300000001;#;001;PCE/52;1 000,5",
        "0349;03490101B501;1300000002;15.03.2024 10:22:13;1;#;-20",
        "0349;03490101B501;ABC;15.03.2024;1;31;20",
        "0349;03490101B501;1300000004;15.03.2024;1;31;#",
    ])
    movements, findings = normalise_movements([read], referentiel(), CUTOFF)

    assert movements["ej"].tolist() == ["1300000001", "1300000002"]
    assert movements["date"].tolist() == [None, D(2024, 3, 15)]
    assert movements["annee"].isna().tolist() == [True, False]
    assert movements["poste"].tolist() == ["1", "1"]
    assert movements["titre"].tolist()[0] == 5
    assert pd.isna(movements["titre"].tolist()[1])  # no compte budgétaire
    assert movements["montant"].tolist() == [1000.5, -20.0]
    assert [(f.slug, f.field, f.value, f.cell) for f in findings] == [
        ("chorus-unreadable-line", "N° EJ", "ABC", "ligne 4"),
        ("chorus-unreadable-line", "EUR", "#", "ligne 5"),
    ]
    assert all(f.severity.value == "Bloquant" for f in findings)


def test_titre_from_the_referentiel_mapping(tmp_path: Path) -> None:
    read = csv_read("ae.csv", [INF_BUD_AE_HEADER, "0349;03490101B501;1300000001;01.02.2024;1;PCE/6113;10"])
    movements, _ = normalise_movements([read], referentiel(comptes_budgetaires={"6113": 3}), CUTOFF)
    assert movements["titre"].tolist() == [3]


def test_unusable_reads_are_skipped_and_nothing_gives_an_empty_valid_frame(tmp_path: Path) -> None:
    movements, findings = normalise_movements([csv_restitution("x.csv", "sha", "rien à voir\n")], referentiel(), CUTOFF)
    assert movements.empty
    assert tuple(movements.columns) == MOVEMENT_COLUMNS
    assert findings == []  # the reader's own finding is the reader's to report
    ChorusMovementsSchema.validate(normalise_movements([], referentiel(), CUTOFF)[0])


# --- line by line: what the column-wise reading must give back ------------------------------------------------

INF_BUD_CP_HEADER = ("Programme;Domaine fonctionnel;Centre de coûts;Référentiel de programmation;N° EJ;N° poste EJ;"
                     "N° DP;Date de base de la DP;N° SF;Date comptable du SF;Fournisseur payé (DP);;"
                     "Compte budgétaire;EUR")
#: Few values per field, good and bad, so that texts repeat down the extract as they do in Chorus's.
_PROGRAMMES = st.sampled_from(["0349", "349", "0150", "#"])
_EJS = st.sampled_from(["1300000001", "1300000002", "ABC", "#", ""])
_DATES = st.sampled_from(["15.03.2024", "01/02/2025", "32.13.2024", "demain", "#", ""])
_AMOUNTS = st.sampled_from(["100,00", "-20", "1 000,5", "douze", "#", ""])


def _line_by_line(lines: list[tuple[str, str, str, str, str]]) -> list[tuple[object, ...]]:
    """The oracle: each line read on its own with the public parsers, in the order a person reads it (EJ,
    amount, both dates); a movement as (line, ej, date, montant), a refused line as (line, column)."""
    from ftap_pipeline.contract.errors import InputError
    from ftap_pipeline.core.parsing import parse_amount, parse_date, parse_ej

    def text(value: str) -> str:
        return "" if value.strip() == "#" else value.strip()

    out: list[tuple[object, ...]] = []
    for number, (programme, ej, date_dp, date_sf, amount) in enumerate(lines, start=4):
        if text(programme) not in ("0349", "349"):
            continue
        try:
            read_ej = parse_ej(text(ej)) if text(ej) else None
        except InputError:
            out.append((number, "N° EJ"))
            continue
        try:
            montant = parse_amount(text(amount)) if text(amount) else None
        except InputError:
            out.append((number, "EUR"))
            continue
        if montant is None:
            out.append((number, "EUR"))
            continue
        dates: list[dt.date | None] = []
        for column, value in (("Date comptable du SF", date_sf), ("Date de base de la DP", date_dp)):
            try:
                dates.append(parse_date(text(value)) if text(value) else None)
            except InputError:
                out.append((number, column))
                break
        else:
            out.append((number, read_ej or SANS_EJ, dates[0] or dates[1], montant))
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_PROGRAMMES, _EJS, _DATES, _DATES, _AMOUNTS), max_size=30))
def test_a_payments_extract_reads_as_its_lines_read_one_by_one(lines: list[tuple[str, str, str, str, str]]) -> None:
    """Texts are parsed once per distinct value: every line still gets its own movement or its own finding,
    the first fault of a line is the one said, and a bad DP date refuses a line even beside a good SF date."""
    rows = [f"{p};0349-01;CC;03490101B501;{ej};1;1000000010;{dp};1;{sf};Fournisseur;;31;{amount}"
            for p, ej, dp, sf, amount in lines]
    read = csv_read("cp.csv", ["Restitution INF-BUD-53 paiements", "", INF_BUD_CP_HEADER, *rows])
    movements, findings = normalise_movements([read], referentiel(), dt.date(2030, 1, 1))
    got: list[tuple[object, ...]] = [(f.row, f.field) for f in findings if f.slug == "chorus-unreadable-line"]
    got += [(m.line, m.ej, m.date, m.montant) for m in movements.itertuples()]
    assert sorted(got, key=lambda t: int(str(t[0]))) == _line_by_line(lines)
