"""The Chorus leg of the reconciliation, per EJ (chorus.md). Every expected amount is computed by hand."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandera.typing import DataFrame

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.chorus_schema import MOVEMENT_COLUMNS, ChorusMovementsSchema
from ftap_pipeline.contract.findings import Finding
from ftap_pipeline.contract.preflight import check_text
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.chorus import normalise_movements
from ftap_pipeline.core.chorus_rows import csv_restitution
from ftap_pipeline.core.rapprochement import COLUMNS, TOTALS_COLUMNS, chorus_totals, reconcile_ejs

D = dt.date
NAN = float("nan")
SITUATION = D(2025, 6, 30)
JUNE = D(2024, 6, 1)
OK_CODES = {"centre_financier": "0349-CDBU-DITP", "domaine_fonctionnel": "0349-01", "activite": "03490101B501"}
FIXTURES = Path(__file__).parents[1] / "fixtures" / "chorus"


def referentiel() -> Referentiel:
    empty = pd.DataFrame()
    return Referentiel(empty, empty, empty, empty)


def declared(*lines: dict[str, Any]) -> pd.DataFrame:
    columns = ["project_id", "porteur", "file", "ej", "exercice", "date_ej", "fournisseur", "categorie", "titre",
               "objet", "financeur", "centre_financier", "domaine_fonctionnel", "activite", "ae", "cp",
               "date_situation", "imputation_ok"]
    return pd.DataFrame(list(lines), columns=columns)


def line(project: str, ej: str, ae: float, cp: float, **kw: Any) -> dict[str, Any]:
    row = {
        "project_id": project, "porteur": f"Porteur {project}", "file": f"{project}.xlsx", "ej": ej,
        "exercice": 2024, "date_ej": D(2024, 1, 15), "fournisseur": f"Fournisseur {ej}", "categorie": "Cadrage",
        "titre": 3, "objet": "Prestations intellectuelles", "financeur": enums.FTAP, "ae": ae, "cp": cp,
        "date_situation": SITUATION, "imputation_ok": True, **OK_CODES,
    }
    row.update(kw)
    return row


def movements(*rows: dict[str, Any]) -> DataFrame[ChorusMovementsSchema]:
    frame = pd.DataFrame(list(rows), columns=list(MOVEMENT_COLUMNS))
    types: dict[str, Any] = {"annee": "Int64", "titre": "Int64", "line": "int64", "montant": "float64",
                             "in_dispositif": bool, "date": object}
    frame = frame.astype({c: types.get(c, str) for c in MOVEMENT_COLUMNS})
    return ChorusMovementsSchema.validate(frame)


_lines = iter(range(2, 10_000))


def mv(ej: str, kind: str, montant: float, *, date: dt.date | None = JUNE, annee: int | None = None,
       dispositif: bool = True, **kw: Any) -> dict[str, Any]:
    row = {
        "source": "chorus.csv", "sha256": "sha", "line": next(_lines),
        "layout": "inf-bud-53-ae" if kind == "AE" else "inf-bud-53-cp", "kind": kind, "ej": ej, "poste": "1",
        "dp": "" if kind == "AE" else f"DP{next(_lines)}", "date": date,
        "annee": annee if annee is not None else (date.year if date else None), "programme": "0349",
        "centre_financier": "", "domaine_fonctionnel": "0349-01",
        "activite": "03490101B501" if dispositif else "03490101B777", "compte_budgetaire": "31", "titre": 3,
        "fournisseur": f"Chorus {ej}", "montant": montant, "in_dispositif": dispositif,
    }
    row.update(kw)
    return row


def rows_of(frame: pd.DataFrame) -> dict[str, dict[Any, Any]]:
    """Rows keyed by `project/EJ/status`, so that a test reads one row by its meaning."""
    return {f"{r['Identifiant du projet']}/{r['N° EJ']}/{r['Statut']}": r for r in frame.to_dict("records")}


def amounts(row: dict[Any, Any]) -> tuple[float, ...]:
    return tuple(row[c] for c in COLUMNS if c.endswith("(€)"))


def same(actual: tuple[float, ...], expected: tuple[float, ...]) -> bool:
    return all((math.isnan(a) and math.isnan(e)) or a == e for a, e in zip(actual, expected, strict=True))


# --- statuses ----------------------------------------------------------------------------------------


@pytest.fixture
def scenario() -> tuple[pd.DataFrame, list[Finding]]:
    decl = declared(
        # Concordant: two exercices, two postes, several payments, a negative correction.
        line("AP-2024-01", "1300000001", 60000, 20000),
        line("AP-2024-01", "1300000001", 0, 24000.5, exercice=2025),
        # Écart on CP only.
        line("AP-2024-01", "1300000002", 10000, 8000),
        # Imputation erronée even though the amounts agree.
        line("AP-2024-02", "1300000003", 5000, 0, imputation_ok=False, activite="03490101B999"),
        # Absent de Chorus.
        line("AP-2024-02", "1300000004", 3000, 1000),
    )
    moves = movements(
        mv("1300000001", "AE", 40000), mv("1300000001", "AE", 25000, poste="2"),
        mv("1300000001", "AE", -5000, poste="2", date=D(2024, 11, 2)),
        mv("1300000001", "CP", 20000), mv("1300000001", "CP", 25000.5, date=D(2025, 3, 1)),
        mv("1300000001", "CP", -1000, date=D(2025, 4, 1)),
        mv("1300000002", "AE", 10000), mv("1300000002", "CP", 7000),
        mv("1300000003", "AE", 5000),
        # Non déclaré, and Chorus paying more than it engaged.
        mv("1300000005", "AE", 2000), mv("1300000005", "CP", 2500.25),
        # Payments without EJ: AE = CP.
        mv(enums.SANS_EJ, "CP", 300, poste=""), mv(enums.SANS_EJ, "CP", 450.5, poste=""),
        # Another FTAP project's lines.
        mv("1300000006", "AE", 9000, dispositif=False), mv("1300000006", "CP", 4000, dispositif=False),
    )
    return reconcile_ejs(decl, moves, referentiel(), 1.0)


def test_columns_in_contract_order(scenario: tuple[pd.DataFrame, list[Finding]]) -> None:
    frame, _ = scenario
    assert list(frame.columns) == list(COLUMNS)
    assert COLUMNS[:9] == ("Identifiant du projet", "N° EJ", "AE déclarées (€)", "AE Chorus (€)", "CP déclarés (€)",
                           "CP Chorus (€)", "Écart AE (€)", "Écart CP (€)", "Statut")
    assert all(frame[c].dtype == "float64" for c in COLUMNS if c.endswith("(€)"))


def test_each_status(scenario: tuple[pd.DataFrame, list[Finding]]) -> None:
    frame, _ = scenario
    rows = rows_of(frame)
    assert list(rows) == [
        "AP-2024-01/1300000001/Concordant",
        "AP-2024-01/1300000002/Écart",
        "AP-2024-02/1300000003/Imputation erronée",
        "AP-2024-02/1300000004/Absent de Chorus",
        f"/{enums.SANS_EJ}/Non déclaré",
        "/1300000005/Non déclaré",
        "/1300000006/Hors dispositif",
    ]
    # AE décl, AE Chorus, CP décl, CP Chorus, écart AE, écart CP, RAP décl, RAP Chorus.
    expected = {
        # AE 40000 + 25000 − 5000 = 60000; CP 20000 + 25000.50 − 1000 = 44000.50; declared 20000 + 24000.50.
        "AP-2024-01/1300000001/Concordant": (60000, 60000, 44000.5, 44000.5, 0, 0, 15999.5, 15999.5),
        "AP-2024-01/1300000002/Écart": (10000, 10000, 8000, 7000, 0, 1000, 2000, 3000),
        "AP-2024-02/1300000003/Imputation erronée": (5000, 5000, 0, 0, 0, 0, 5000, 5000),
        "AP-2024-02/1300000004/Absent de Chorus": (3000, 0, 1000, 0, 3000, 1000, 2000, 0),
        f"/{enums.SANS_EJ}/Non déclaré": (0, 750.5, 0, 750.5, -750.5, -750.5, 0, 0),
        "/1300000005/Non déclaré": (0, 2000, 0, 2500.25, -2000, -2500.25, 0, -500.25),
        "/1300000006/Hors dispositif": (NAN, 9000, NAN, 4000, NAN, NAN, NAN, 5000),
    }
    for key, values in expected.items():
        assert same(amounts(rows[key]), values), (key, amounts(rows[key]))
    assert set(frame["Statut"]) == set(enums.RECONCILIATION_STATUSES)


def test_porteur_fournisseur_and_comments(scenario: tuple[pd.DataFrame, list[Finding]]) -> None:
    rows = rows_of(scenario[0])
    concordant = rows["AP-2024-01/1300000001/Concordant"]
    assert (concordant["Porteur du projet"], concordant["Fournisseur"], concordant["Commentaire"]) == (
        "Porteur AP-2024-01", "Fournisseur 1300000001", "")
    assert rows["AP-2024-01/1300000002/Écart"]["Commentaire"] == "Écart au-delà de la tolérance de 1,00 € sur les CP."
    assert rows["AP-2024-02/1300000003/Imputation erronée"]["Commentaire"] == (
        "Imputation : activité déclarée « 03490101B999 » au lieu de « 03490101B501 ».")
    assert rows["AP-2024-02/1300000004/Absent de Chorus"]["Commentaire"] == "EJ introuvable dans les restitutions Chorus."
    undeclared = rows["/1300000005/Non déclaré"]
    assert (undeclared["Porteur du projet"], undeclared["Fournisseur"]) == ("", "Chorus 1300000005")
    assert "dépassent ses AE" in undeclared["Commentaire"]
    assert "autant d'AE que de CP" in rows[f"/{enums.SANS_EJ}/Non déclaré"]["Commentaire"]
    assert "activité 03490101B777" in rows["/1300000006/Hors dispositif"]["Commentaire"]


def test_chorus_cp_exceeding_ae_is_a_warning(scenario: tuple[pd.DataFrame, list[Finding]]) -> None:
    _, findings = scenario
    assert [(f.slug, f.severity.value, f.field, f.value, f.file) for f in findings] == [
        ("chorus-cp-exceeds-ae", "Avertissement", "N° EJ", "1300000005", "chorus.csv")]
    assert findings[0].message == ("Dans Chorus, l'EJ 1300000005 cumule 2\u202f500,25 € de CP pour 2\u202f000,00 € d'AE : "
                                   "500,25 € payés au-delà de l'engagement.")


# --- rules one by one --------------------------------------------------------------------------------


@pytest.mark.parametrize(("chorus_ae", "status", "gap"), [(999.0, enums.CONCORDANT, 1.0), (998.99, enums.ECART, 1.01)])
def test_tolerance_is_inclusive(chorus_ae: float, status: str, gap: float) -> None:
    frame, _ = reconcile_ejs(declared(line("AP-2024-01", "1300000001", 1000, 0)),
                             movements(mv("1300000001", "AE", chorus_ae)), referentiel(), 1.0)
    assert frame["Statut"].tolist() == [status]
    assert frame["Écart AE (€)"].tolist() == [gap]


def test_imputation_error_comes_before_absence() -> None:
    decl = declared(line("AP-2024-01", "1300000001", 1000, 0, imputation_ok=False,
                         centre_financier="0349-CDBU-AUTRE", domaine_fonctionnel="0349-99"))
    frame, _ = reconcile_ejs(decl, movements(), referentiel(), 1.0)
    assert frame["Statut"].tolist() == [enums.IMPUTATION_ERRONEE]
    assert frame["Commentaire"].tolist() == [
        "Imputation : centre financier déclaré « 0349-CDBU-AUTRE » au lieu de « 0349-CDBU-DITP » ; "
        "domaine fonctionnel déclaré « 0349-99 » au lieu de « 0349-01 » ou « 0349-0101B501 »."]


def test_older_return_is_compared_up_to_its_situation_date() -> None:
    decl = declared(line("AP-2024-01", "1300000001", 10000, 4000, date_situation=D(2024, 12, 31)))
    moves = movements(
        mv("1300000001", "AE", 10000, date=D(2024, 3, 1)),
        mv("1300000001", "CP", 4000, date=D(2024, 12, 31)),
        mv("1300000001", "CP", 6000, date=D(2025, 2, 10)),  # after the situation date
        mv("1300000001", "CP", 500, date=None, annee=2025, layout="aife-cp"),  # exercice after it
        mv("1300000001", "AE", 700, date=None, annee=None, layout="aife-ae"),  # undated: kept
    )
    frame, findings = reconcile_ejs(decl, moves, referentiel(), 1.0)
    row = frame.iloc[0]
    assert (row["Statut"], row["AE Chorus (€)"], row["CP Chorus (€)"], row["Écart AE (€)"]) == (
        enums.ECART, 10700.0, 4000.0, -700.0)
    assert "jusqu'au 31/12/2024" in row["Commentaire"]
    assert "6\u202f500,00 € de CP enregistrés depuis" in row["Commentaire"]
    assert findings == []  # over all Chorus up to the cut-off: CP 10500 ≤ AE 10700


def test_declared_ej_imputed_elsewhere_in_chorus_is_absent_not_hors_dispositif() -> None:
    decl = declared(line("AP-2024-01", "1300000001", 1000, 0))
    moves = movements(mv("1300000001", "AE", 1000, dispositif=False))
    frame, _ = reconcile_ejs(decl, moves, referentiel(), 1.0)
    assert frame["Statut"].tolist() == [enums.ABSENT_DE_CHORUS]
    assert frame["AE Chorus (€)"].tolist() == [0.0]
    assert "1\u202f000,00 € d'AE et 0,00 € de CP de l'EJ sont imputés hors du dispositif" in frame["Commentaire"].iloc[0]


def test_co_financing_lines_are_not_reconciled() -> None:
    decl = declared(line("AP-2024-01", "1300000001", 1000, 500),
                    line("AP-2024-01", "1300000001", 800, 800, financeur="Porteur"),
                    line("AP-2024-01", "1300000009", 800, 800, financeur="Co-porteur"))
    moves = movements(mv("1300000001", "AE", 1000), mv("1300000001", "CP", 500))
    frame, _ = reconcile_ejs(decl, moves, referentiel(), 1.0)
    assert frame["N° EJ"].tolist() == ["1300000001"]
    assert frame["Statut"].tolist() == [enums.CONCORDANT]


def test_sans_ej_outside_the_dispositif_and_sort_order() -> None:
    decl = declared(line("AP-2025-03", "1300000002", 100, 0), line("AP-2024-10", "1300000003", 100, 0))
    moves = movements(mv(enums.SANS_EJ, "CP", 80, poste="", dispositif=False), mv("1300000001", "AE", 5))
    frame, _ = reconcile_ejs(decl, moves, referentiel(), 1.0)
    assert list(zip(frame["Identifiant du projet"], frame["N° EJ"], frame["Statut"], strict=True)) == [
        ("AP-2024-10", "1300000003", enums.ABSENT_DE_CHORUS),
        ("AP-2025-03", "1300000002", enums.ABSENT_DE_CHORUS),
        ("", enums.SANS_EJ, enums.HORS_DISPOSITIF),
        ("", "1300000001", enums.NON_DECLARE),
    ]
    assert frame.iloc[2][["AE Chorus (€)", "CP Chorus (€)"]].tolist() == [80.0, 80.0]


def test_amounts_are_rounded_to_the_cent() -> None:
    decl = declared(line("AP-2024-01", "1300000001", 0.1, 0), line("AP-2024-01", "1300000001", 0.2, 0, exercice=2025))
    frame, _ = reconcile_ejs(decl, movements(mv("1300000001", "AE", 0.3)), referentiel(), 0.0)
    assert frame[["AE déclarées (€)", "AE Chorus (€)", "Écart AE (€)"]].iloc[0].tolist() == [0.3, 0.3, 0.0]
    assert frame["Statut"].tolist() == [enums.CONCORDANT]


def test_nothing_to_reconcile() -> None:
    frame, findings = reconcile_ejs(declared(), movements(), referentiel(), 1.0)
    assert list(frame.columns) == list(COLUMNS)
    assert frame.empty
    assert findings == []


# --- totals ------------------------------------------------------------------------------------------


def test_chorus_totals_by_year_category_titre() -> None:
    decl = declared(
        line("AP-2024-01", "1300000001", 0, 0, categorie="Expérimentation", exercice=2024),
        line("AP-2024-01", "1300000002", 0, 0, categorie="Cadrage"),
        line("AP-2024-01", "1300000009", 0, 0, categorie="Généralisation", financeur="Porteur"),
    )
    moves = movements(
        mv("1300000001", "AE", 1000, date=D(2024, 2, 1)), mv("1300000001", "CP", 400, date=D(2024, 5, 1)),
        mv("1300000001", "CP", 600, date=D(2025, 1, 10)),
        mv("1300000002", "AE", 300, date=None, annee=None, layout="aife-ae"),
        mv("1300000002", "AE", 50, date=D(2024, 2, 1), titre=5, compte_budgetaire="51"),
        mv("1300000009", "AE", 70, date=D(2024, 2, 1)),  # declared only as co-financing: undeclared here
        mv(enums.SANS_EJ, "CP", 20, poste="", date=D(2024, 8, 1)),
        mv("1300000007", "AE", 999, date=D(2024, 2, 1), dispositif=False),  # not the dispositif's
    )
    totals = chorus_totals(moves, decl)
    assert list(totals.columns) == list(TOTALS_COLUMNS)
    got = [(None if pd.isna(a) else int(a), c, int(t), ae, cp, wd)
           for a, c, t, ae, cp, wd in totals.itertuples(index=False)]
    assert got == [
        (2024, "Cadrage", 5, 50.0, 0.0, 0.0),
        (2024, "Expérimentation", 3, 1000.0, 400.0, 0.0),
        (2024, enums.NON_DECLARE, 3, 90.0, 20.0, 0.0),  # 70 undeclared AE + 20 without EJ (AE = CP)
        (2025, "Expérimentation", 3, 0.0, 600.0, 0.0),
        (None, "Cadrage", 3, 300.0, 0.0, 0.0),
    ]


def test_chorus_withdrawals_of_earlier_years_are_apart() -> None:
    decl = declared(line("AP-2024-01", "1300000001", 0, 0, categorie="Cadrage", exercice=2024))
    moves = movements(
        mv("1300000001", "AE", 1000, date=D(2024, 2, 1)), mv("1300000001", "AE", -150, date=D(2025, 3, 1)),
        mv("1300000003", "AE", 500, date=D(2025, 2, 1)), mv("1300000003", "AE", -20, date=D(2025, 4, 1)),
    )
    totals = chorus_totals(moves, decl)
    rows = {(int(a), c): (ae, wd) for a, c, _, ae, _, wd in totals.itertuples(index=False)}
    assert rows[(2025, "Cadrage")] == (0.0, -150.0)  # 2024 AE given back in 2025: a withdrawal
    assert rows[(2025, enums.NON_DECLARE)] == (480.0, 0.0)  # a correction within its own year is netted


# --- from the files to the table ---------------------------------------------------------------------


def test_fixture_extracts_end_to_end() -> None:
    """The committed extracts (see tests/core/test_chorus.py for their movements) against two projects' returns."""
    reads = [csv_restitution(p.name, p.name, check_text(p.read_bytes(), slug="chorus-unreadable-file"))
             for p in sorted(FIXTURES.glob("*.csv"))]
    moves, _ = normalise_movements(reads, referentiel(), D(2025, 6, 30))
    s1, s2 = D(2025, 6, 30), D(2024, 12, 31)
    decl = declared(
        line("AP-2024-01", "1300000001", 95000, 45000, categorie="Expérimentation", porteur="Direction A"),
        line("AP-2024-01", "1300000001", 0, 1000, exercice=2025, categorie="Expérimentation", porteur="Direction A"),
        line("AP-2024-01", "1300000001", 50000, 0, financeur="Porteur", porteur="Direction A"),
        line("AP-2024-01", "1300000002", 40000, 30000, porteur="Direction A"),
        line("AP-2024-01", "1300000002", 0, 4000, exercice=2025, porteur="Direction A"),
        line("AP-2024-01", "1300000010", 5000, 0, imputation_ok=False, activite="03490101B999", porteur="Direction A"),
        line("AP-2024-02", "1300000011", 10000, 4000, categorie="Généralisation", date_situation=s2),
        line("AP-2024-02", "1300000012", 3000, 0, date_situation=s2),
        line("AP-2024-02", "1300000017", 7000, 0, categorie="Généralisation", date_situation=s2),
    )
    assert (decl["date_situation"] <= s1).all()

    frame, findings = reconcile_ejs(decl, moves, referentiel(), 1.0)

    table = [(r["Identifiant du projet"], r["N° EJ"], r["Statut"], amounts(r)) for r in frame.to_dict("records")]
    expected = [
        # A: AE 60000 + 40000 − 5000; CP 20000 + 10000 + 15000 (counted once) + 1500 − 500.
        ("AP-2024-01", "1300000001", enums.CONCORDANT, (95000, 95000, 46000, 46000, 0, 0, 49000, 49000)),
        # B: CP 30000 (counted once) + 5000 (AIFE, exercice 2025; the 2026 line is after the cut-off).
        ("AP-2024-01", "1300000002", enums.ECART, (40000, 40000, 34000, 35000, 0, -1000, 6000, 5000)),
        ("AP-2024-01", "1300000010", enums.IMPUTATION_ERRONEE, (5000, 5000, 0, 0, 0, 0, 5000, 5000)),
        # J: the 6000 paid on 10/02/2025 is after the return's situation date.
        ("AP-2024-02", "1300000011", enums.CONCORDANT, (10000, 10000, 4000, 4000, 0, 0, 6000, 6000)),
        ("AP-2024-02", "1300000012", enums.ABSENT_DE_CHORUS, (3000, 0, 0, 0, 3000, 0, 3000, 0)),
        # H: the AIFE engagements file, undated, 4000 + 3000.
        ("AP-2024-02", "1300000017", enums.CONCORDANT, (7000, 7000, 0, 0, 0, 0, 7000, 7000)),
        ("", enums.SANS_EJ, enums.NON_DECLARE, (0, 1200, 0, 1200, -1200, -1200, 0, 0)),
        ("", "1300000003", enums.NON_DECLARE, (0, 12500.5, 0, 13000, -12500.5, -13000, 0, -499.5)),
        ("", "1300000004", enums.HORS_DISPOSITIF, (NAN, 8000, NAN, 2000, NAN, NAN, NAN, 6000)),
        ("", "1300000013", enums.HORS_DISPOSITIF, (NAN, 0, NAN, 700, NAN, NAN, NAN, -700)),
    ]
    assert [t[:3] for t in table] == [e[:3] for e in expected]
    for got, want in zip(table, expected, strict=True):
        assert same(got[3], want[3]), (got, want)
    assert frame.iloc[0]["Fournisseur"] == "Fournisseur 1300000001"
    assert frame.iloc[7]["Fournisseur"] == "Régie Numérique"
    assert [(f.slug, f.value) for f in findings] == [("chorus-cp-exceeds-ae", "1300000003")]

    totals = chorus_totals(moves, decl)
    assert set(totals["retraits_chorus"]) == {0.0}
    got_totals = [(None if pd.isna(a) else int(a), c, int(t), ae, cp)
                  for a, c, t, ae, cp, _ in totals.itertuples(index=False)]
    assert got_totals == [
        (2024, "Cadrage", 3, 45000.0, 30000.0),  # B 40000 + I 5000; B 30000
        (2024, "Expérimentation", 3, 95000.0, 45000.0),
        (2024, "Généralisation", 3, 10000.0, 4000.0),
        (2024, enums.NON_DECLARE, 3, 1200.0, 1200.0),  # the payment without EJ
        (2024, enums.NON_DECLARE, 5, 12500.5, 13000.0),  # C, compte PCE/51
        (2025, "Cadrage", 3, 0.0, 5000.0),
        (2025, "Expérimentation", 3, 0.0, 1000.0),
        (2025, "Généralisation", 3, 0.0, 6000.0),
        (None, "Généralisation", 3, 7000.0, 0.0),
    ]
