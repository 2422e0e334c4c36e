"""The reconciliation of many EJs at once (one grouping by EJ, never a pass over all movements per EJ): each
row's figures as computed by hand, in the table's order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from ftap_pipeline.contract import enums
from ftap_pipeline.core.imputation import expected_code
from ftap_pipeline.core.rapprochement import COLUMNS, reconcile_ejs
from tests.core.test_rapprochement import NAN, declared, line, movements, mv, referentiel, same

D = dt.date
P1, P2 = "AP-2024-01", "AP-2024-02"
EARLIER = D(2024, 12, 31)  # P2's return is a quarter older than P1's (30/06/2025)
B777 = "03490101B777"
OVERDRAWN = "Dans Chorus, les CP cumulés de l'EJ dépassent ses AE cumulées."


def _portfolio() -> tuple[pd.DataFrame, list[Any]]:
    decl = declared(
        # A: two exercices of P1, matched by ten engagements and two payments, one payment after the date.
        line(P1, "1000000001", 1000, 400), line(P1, "1000000001", 500, 100, exercice=2025),
        # B: declared by both projects, each compared up to its own date de situation.
        line(P1, "1000000002", 300, 300), line(P2, "1000000002", 200, 0, date_situation=EARLIER),
        # C: declared only, nowhere in Chorus.
        line(P1, "1000000003", 80, 20),
        # D: in Chorus on another imputation only; no fournisseur declared.
        line(P2, "1000000004", 50, 0, date_situation=EARLIER, fournisseur=None),
        # E: two wrong codes on two lines; the first line names no porteur.
        line(P2, "1000000005", 5, 5, date_situation=EARLIER, imputation_ok=False, activite="0349-XX", porteur=""),
        line(P2, "1000000005", 5, 5, date_situation=EARLIER, imputation_ok=False, domaine_fonctionnel="0349-99"),
    )
    moves = movements(
        *(mv("1000000001", "AE", 150) for _ in range(10)),
        mv("1000000001", "CP", 250), mv("1000000001", "CP", 250, date=D(2025, 3, 1)),
        mv("1000000001", "CP", 99, date=D(2025, 8, 1)),  # after P1's situation date
        mv("1000000002", "AE", 300), mv("1000000002", "CP", 300, date=D(2025, 1, 15)),
        mv("1000000002", "CP", 10, date=None, annee=2025, layout="aife-cp"),  # undated, exercice 2025
        mv("1000000004", "AE", 50, dispositif=False),
        # F: Chorus only on the dispositif, paying more than it engaged; G: Chorus only, another imputation.
        mv("1000000006", "CP", 500, source="b.csv", line=3), mv("1000000006", "AE", 700, source="b.csv", line=2),
        mv("1000000006", "CP", 300, source="a.csv", line=9),
        mv("1000000007", "AE", 40, dispositif=False), mv("1000000007", "CP", 10, dispositif=False),
    )
    return reconcile_ejs(decl, moves, referentiel(), 1.0)


def _expected_rows() -> list[tuple[str, str, str, tuple[float, ...]]]:
    # Project, EJ, status; AE décl, AE Chorus, CP décl, CP Chorus, écart AE, écart CP, RAP décl, RAP Chorus.
    return [
        (P1, "1000000001", enums.CONCORDANT, (1500, 1500, 500, 500, 0, 0, 1000, 1000)),
        # 300 + 10 (undated, exercice 2025 ≤ 2025) of CP against 300 declared.
        (P1, "1000000002", enums.ECART, (300, 300, 300, 310, 0, -10, 0, -10)),
        (P1, "1000000003", enums.ABSENT_DE_CHORUS, (80, 0, 20, 0, 80, 20, 60, 0)),
        # Up to 31/12/2024: the AE only; the 300 + 10 of CP come later.
        (P2, "1000000002", enums.ECART, (200, 300, 0, 0, -100, 0, 200, 300)),
        (P2, "1000000004", enums.ABSENT_DE_CHORUS, (50, 0, 0, 0, 50, 0, 50, 0)),
        (P2, "1000000005", enums.IMPUTATION_ERRONEE, (10, 0, 10, 0, 10, 10, 0, 0)),
        ("", "1000000006", enums.NON_DECLARE, (0, 700, 0, 800, -700, -800, 0, -100)),
        ("", "1000000007", enums.HORS_DISPOSITIF, (NAN, 40, NAN, 10, NAN, NAN, NAN, 30)),
    ]


def test_every_row_in_order_with_its_amounts() -> None:
    frame, _ = _portfolio()
    assert list(frame.columns) == list(COLUMNS)
    expected = _expected_rows()
    assert list(zip(frame["Identifiant du projet"], frame["N° EJ"], frame["Statut"], strict=True)) == [
        (p, ej, status) for p, ej, status, _ in expected]
    for (_, ej, _, values), row in zip(expected, frame.to_dict("records"), strict=True):
        actual = tuple(row[c] for c in COLUMNS if c.endswith("(€)"))
        assert same(actual, tuple(float(v) for v in values)), (ej, actual)
    assert all(frame[c].dtype == "float64" for c in COLUMNS if c.endswith("(€)"))
    assert frame.index.tolist() == list(range(len(expected)))


def test_comments_porteurs_and_fournisseurs() -> None:
    frame, _ = _portfolio()
    rows = [(r["Porteur du projet"], r["Fournisseur"], r["Commentaire"]) for r in frame.to_dict("records")]
    nomenclature = referentiel().nomenclature
    assert rows == [
        ("Porteur AP-2024-01", "Fournisseur 1000000001",
         "Chorus compté jusqu'au 30/06/2025, date de situation de la remontée : 0,00 € d'AE et 99,00 € de CP "
         "enregistrés depuis."),
        ("Porteur AP-2024-01", "Fournisseur 1000000002",
         "Écart au-delà de la tolérance de 1,00 € sur les CP. EJ déclaré aussi par AP-2024-02. " + OVERDRAWN),
        ("Porteur AP-2024-01", "Fournisseur 1000000003", "EJ introuvable dans les restitutions Chorus."),
        ("Porteur AP-2024-02", "Fournisseur 1000000002",
         "Écart au-delà de la tolérance de 1,00 € sur les AE. Chorus compté jusqu'au 31/12/2024, date de situation "
         "de la remontée : 0,00 € d'AE et 310,00 € de CP enregistrés depuis. EJ déclaré aussi par AP-2024-01. "
         + OVERDRAWN),
        # No fournisseur declared: the first one Chorus names.
        ("Porteur AP-2024-02", "Chorus 1000000004",
         "Aucun mouvement de l'EJ dans Chorus sur l'imputation du dispositif. Dans Chorus, 50,00 € d'AE et 0,00 € de "
         f"CP de l'EJ sont imputés hors du dispositif (activité {B777})."),
        ("Porteur AP-2024-02", "Fournisseur 1000000005",
         f"Imputation : domaine fonctionnel déclaré « 0349-99 » au lieu de "
         f"{expected_code(nomenclature, 'domaine_fonctionnel')} ; activité déclarée « 0349-XX » au lieu de "
         f"{expected_code(nomenclature, 'activite')}."),
        # The first fournisseur in the restitutions' order (a.csv before b.csv), not in the frame's.
        ("", "Chorus 1000000006", "EJ imputé sur le dispositif dans Chorus mais déclaré dans aucune remontée retenue. "
                                  + OVERDRAWN),
        ("", "Chorus 1000000007", f"Programme 0349, autre imputation (activité {B777}) : non rapproché des remontées."),
    ]


def test_the_portfolio_findings() -> None:
    # B: 310 of CP for 300 of AE over all Chorus; F: 800 for 700. The first payment of B is its only dated one.
    _, findings = _portfolio()
    assert [(f.slug, f.value, f.file) for f in findings] == [
        ("chorus-cp-exceeds-ae", "1000000002", "chorus.csv"), ("chorus-cp-exceeds-ae", "1000000006", "a.csv")]


def test_overdrawn_ejs_are_found_once_each_in_ej_order() -> None:
    moves = movements(
        mv("1000000009", "AE", 100, source="z.csv", line=4), mv("1000000009", "CP", 150, source="z.csv", line=5),
        mv("1000000008", "CP", 80, source="y.csv", line=7), mv("1000000008", "AE", 50, source="x.csv", line=2),
        mv("1000000008", "CP", 1, source="x.csv", line=3),
        mv("1000000010", "AE", 10), mv("1000000010", "CP", 10),  # CP = AE: consistent
    )
    frame, findings = reconcile_ejs(declared(line(P1, "1000000009", 100, 150)), moves, referentiel(), 1.0)
    # Each EJ's finding points at its first payment in the restitutions' order (payments sort first).
    assert [(f.value, f.file, f.message) for f in findings] == [
        ("1000000008", "x.csv", "Dans Chorus, l'EJ 1000000008 cumule 81,00 € de CP pour 50,00 € d'AE : 31,00 € payés "
                                "au-delà de l'engagement."),
        ("1000000009", "z.csv", "Dans Chorus, l'EJ 1000000009 cumule 150,00 € de CP pour 100,00 € d'AE : 50,00 € payés "
                                "au-delà de l'engagement."),
    ]
    comments = dict(zip(frame["N° EJ"], frame["Commentaire"], strict=True))
    assert comments["1000000009"] == OVERDRAWN
    assert comments["1000000010"] == "EJ imputé sur le dispositif dans Chorus mais déclaré dans aucune remontée retenue."


def test_many_movements_of_one_ej_sum_as_a_column_does() -> None:
    """Above eight values numpy sums by blocks: an EJ's total is the one its own column's sum gives."""
    amounts = [0.1 * (k % 7) + 1e5 / (k + 1) for k in range(300)]
    moves = movements(*(mv("1000000001", "AE", a) for a in amounts))
    frame, _ = reconcile_ejs(declared(line(P1, "1000000001", 0, 0)), moves, referentiel(), 1.0)
    assert frame["AE Chorus (€)"].tolist() == [round(float(pd.Series(amounts).sum()), 2)]


def test_a_return_without_date_de_situation_counts_every_movement() -> None:
    decl = declared(line(P1, "1000000001", 100, 0, date_situation=None))
    moves = movements(mv("1000000001", "AE", 60, date=D(2030, 1, 1)), mv("1000000001", "AE", 40, date=None, annee=2031))
    frame, _ = reconcile_ejs(decl, moves, referentiel(), 1.0)
    assert (frame["Statut"].tolist(), frame["AE Chorus (€)"].tolist(), frame["Commentaire"].tolist()) == (
        [enums.CONCORDANT], [100.0], [""])


def test_nothing_declared_or_nothing_in_chorus() -> None:
    only_chorus, _ = reconcile_ejs(declared(), movements(mv("1000000001", "AE", 5)), referentiel(), 1.0)
    assert only_chorus[["N° EJ", "Statut", "AE Chorus (€)"]].values.tolist() == [["1000000001", enums.NON_DECLARE, 5.0]]
    only_declared, findings = reconcile_ejs(declared(line(P1, "1000000001", 5, 0)), movements(), referentiel(), 1.0)
    assert only_declared[["N° EJ", "Statut", "AE déclarées (€)"]].values.tolist() == [
        ["1000000001", enums.ABSENT_DE_CHORUS, 5.0]]
    assert findings == []
