"""One fixture per validation rule: the finding, its cell, the return's status and its line counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ftap_pipeline.contract import enums
from tests import builders as b


def _slugs(a: Any) -> list[tuple[str, str]]:
    return sorted((f.slug, f.cell) for f in a.findings if f.slug != "criterion-not-assessable")


def test_valid_return_is_kept_whole(tmp_path: Path) -> None:
    a = b.assess_one(tmp_path)
    r = a.records[0]
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.RETENUE, 9, 9, 0)
    assert _slugs(a) == []


def _with_line(sheet: str, index: int, **changes: Any) -> dict[str, list[dict[str, Any]]]:
    tabs = b.tables()
    tabs[sheet][index].update(changes)
    return tabs


LINE_RULES = [
    ("type-error", _with_line("consommation", 0, ae="deux cents"), "Consommation!L2"),
    ("ambiguous-number", _with_line("consommation", 0, ae="200.000"), "Consommation!L2"),
    ("too-many-decimals", _with_line("financement", 0, ae="1,234"), "Financement!F2"),
    ("ambiguous-date", _with_line("consommation", 0, date_ej="01/03/24"), "Consommation!C2"),
    ("missing-value", _with_line("consommation", 0, fournisseur=None), "Consommation!D2"),
    ("not-in-list", _with_line("financement", 1, categorie="Pilote"), "Financement!B3"),
    ("not-in-list", _with_line("consommation", 0, titre=2), "Consommation!F2"),
    ("out-of-range", _with_line("financement", 0, annee=2031), "Financement!A2"),
    ("out-of-range", _with_line("economies", 0, montant=-5.0), "Économies!D2"),
    ("invalid-format", _with_line("consommation", 2, ej="13000000"), "Consommation!A4"),
    ("ej-date-after-situation", _with_line("consommation", 2, date_ej=dt.date(2025, 7, 1)), "Consommation!C4"),
    ("out-of-range", _with_line("indicateurs", 0, date_mesure=dt.date(2023, 1, 1)), "Indicateurs!H2"),
]


@pytest.mark.parametrize(("slug", "tabs", "cell"), LINE_RULES, ids=[f"{s}-{c}" for s, _, c in LINE_RULES])
def test_line_rule_leaves_one_line_out(tmp_path: Path, slug: str, tabs: dict[str, Any], cell: str) -> None:
    a = b.assess_one(tmp_path, tabs=tabs)
    r = a.records[0]
    assert (slug, cell) in _slugs(a)
    blocking = [f for f in a.findings if f.severity == "Bloquant"]
    assert {f.cell for f in blocking} == {cell}
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.RETENUE_AVEC_ANOMALIES, 9, 8, 1)


def test_duplicate_key_leaves_out_every_line_of_the_key(tmp_path: Path) -> None:
    tabs = b.tables()
    tabs["consommation"].append(b.conso("1300000001", 2024, 10.0, 0.0))
    a = b.assess_one(tmp_path, tabs=tabs)
    r = a.records[0]
    assert sorted(f.cell for f in a.findings if f.slug == "duplicate-key") == ["Consommation!A2", "Consommation!A5"]
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.RETENUE_AVEC_ANOMALIES, 10, 8, 2)


def test_cumulative_cp_above_ae_leaves_out_the_whole_ej(tmp_path: Path) -> None:
    tabs = b.tables()
    tabs["consommation"][1]["cp"] = 130000.0  # 80 000 + 130 000 > 200 000
    a = b.assess_one(tmp_path, tabs=tabs)
    found = [f for f in a.findings if f.slug == "ej-cp-exceeds-ae"]
    assert [f.cell for f in found] == ["Consommation!M2", "Consommation!M3"]
    assert "210\u202f000,00 €" in found[0].message
    assert a.records[0].lines_rejected == 2


def test_negative_cumulative_ae(tmp_path: Path) -> None:
    tabs = b.tables()
    tabs["consommation"][1]["ae"] = -250000.0
    tabs["consommation"][1]["cp"] = 0.0
    a = b.assess_one(tmp_path, tabs=tabs)
    assert [f.slug for f in a.findings if f.severity == "Bloquant"] == ["ej-negative-ae"] * 2


def test_withdrawal_within_what_was_engaged_is_legal(tmp_path: Path) -> None:
    tabs = b.tables()
    tabs["consommation"][1]["ae"] = -20000.0
    a = b.assess_one(tmp_path, tabs=tabs)
    assert a.records[0].status == enums.RETENUE


@pytest.mark.parametrize(("changes", "slug", "cell"), [
    ({"project_id": "AP-2024-99"}, "unknown-project", "Projet!B2"),
    ({"project_id": "projet 7"}, "invalid-project-id", "Projet!B2"),
    ({"project_id": None}, "invalid-project-id", "Projet!B2"),
    ({"period": "T2 2025"}, "invalid-period", "Projet!B4"),
    ({"date_situation": "31/06/2025"}, "invalid-situation-date", "Projet!B5"),
    ({"date_situation": dt.date(2025, 3, 31)}, "situation-outside-period", "Projet!B5"),
])
def test_projet_rules_reject_the_return(tmp_path: Path, changes: dict[str, Any], slug: str, cell: str) -> None:
    a = b.assess_one(tmp_path, proj=b.projet(**changes))
    r = a.records[0]
    assert (slug, cell) in _slugs(a)
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.REJETEE, 9, 0, 9)


@pytest.mark.parametrize("sheet", ["projet", "consommation"])
def test_missing_blocking_sheet_rejects(tmp_path: Path, sheet: str) -> None:
    tabs = b.tables()
    if sheet == "projet":
        path = b.write(tmp_path, "r.xlsx", tabs=tabs)  # the writer always writes Projet: remove it
        b.edit_workbook(path, lambda wb: wb.remove(wb["Projet"]))
        a = b.assess_files([path])
    else:
        del tabs["consommation"]
        a = b.assess_one(tmp_path, tabs=tabs)
    assert a.records[0].status == enums.REJETEE
    assert "missing-sheet" in {f.slug for f in a.findings}


@pytest.mark.parametrize("sheet", ["financement", "economies", "indicateurs"])
def test_missing_optional_sheet_is_a_warning(tmp_path: Path, sheet: str) -> None:
    tabs = b.tables()
    del tabs[sheet]
    a = b.assess_one(tmp_path, tabs=tabs)
    r = a.records[0]
    assert r.status == enums.RETENUE
    assert r.lines_read == r.lines_kept
    assert "missing-optional-sheet" in {f.slug for f in a.findings}


@pytest.mark.parametrize(("changes", "slug", "cell"), [
    ({"region": "Occitania"}, "invalid-project-field", "Projet!B11"),
    ({"courriel": "anne.martin"}, "invalid-project-field", "Projet!B18"),
    ({"chef_projet": None}, "invalid-project-field", "Projet!B17"),
    ({"fin": dt.date(2024, 9, 1)}, "criterion-duration", "Projet!B15"),
    ({"date_cadrage": dt.date(2024, 2, 2)}, "criterion-cadrage-date", "Projet!B13"),
    ({"categorie_porteur": "Administration publique locale", "concert_etat": "Non"}, "criterion-porteur-category",
     "Projet!B9"),
    ({"categorie_porteur": "Personne morale de droit privé chargée d'une mission de service public"},
     "criterion-porteur-category", "Projet!B10"),
])
def test_projet_warnings_keep_the_return(tmp_path: Path, changes: dict[str, Any], slug: str, cell: str) -> None:
    a = b.assess_one(tmp_path, proj=b.projet(**changes))
    assert (slug, cell) in _slugs(a)
    assert a.records[0].status == enums.RETENUE


def test_cost_cap_and_cofinancing_criteria_use_the_referentiel_parameters(tmp_path: Path) -> None:
    a = b.assess_one(tmp_path, ref=b.referentiel(**{"Plafond coût projet (€)": 500000.0,
                                                     "Part de cofinancement visée": 0.6}))
    assert {"criterion-cost-cap", "criterion-cofinancing-share"} <= {f.slug for f in a.findings}
    tabs = b.tables()
    tabs["financement"] = tabs["financement"][:1]
    a = b.assess_one(tmp_path, tabs=tabs)
    assert "criterion-cofinancing-missing" in {f.slug for f in a.findings}


def test_forecast_roi_below_one(tmp_path: Path) -> None:
    # Savings of 2025-2027 (fin 2024): 150 000 + 200 000 + 150 000 = 500 000 over 300 000 FTAP → 1.67, fine.
    assert "criterion-roi" not in {f.slug for f in b.assess_one(tmp_path).findings}
    tabs = b.tables()
    tabs["economies"][1]["perenne"] = "Non"  # 300 000 / 300 000 = 1.0, still fine
    assert "criterion-roi" not in {f.slug for f in b.assess_one(tmp_path, tabs=tabs).findings}
    tabs["economies"][2]["montant"] = 149999.0  # 299 999 / 300 000 < 1
    found = [f for f in b.assess_one(tmp_path, tabs=tabs).findings if f.slug == "criterion-roi"]
    assert len(found) == 1
    assert found[0].value == f"{299999 / 300000:.4f}"


def test_imputation_mismatch_is_a_warning_on_the_cell(tmp_path: Path) -> None:
    a = b.assess_one(tmp_path, tabs=_with_line("consommation", 0, activite="BG00/034901010101"))
    assert ("imputation-mismatch", "Consommation!K2") in _slugs(a)
    assert a.records[0].status == enums.RETENUE
    # Normalised spellings of the right codes are accepted.
    a = b.assess_one(tmp_path, tabs=_with_line("consommation", 0, activite="BG00/0349-0101B501",
                                               domaine_fonctionnel="0349-0101B501", centre_financier="349-CDBU-DITP"))
    assert "imputation-mismatch" not in {f.slug for f in a.findings}


def test_gap_explanation(tmp_path: Path) -> None:
    tabs = b.tables()
    tabs["economies"][0]["annee"] = 2024
    tabs["economies"].append({"annee": 2024, "nature": "Masse salariale", "statut": "Réalisée", "montant": 100000.0,
                              "etp": 2.0, "perenne": "Oui", "explication": None})
    a = b.assess_one(tmp_path, tabs=tabs)
    assert ("missing-gap-explanation", "Économies!G5") in _slugs(a)
    tabs["economies"][-1]["explication"] = "Recrutement décalé"
    assert "missing-gap-explanation" not in {f.slug for f in b.assess_one(tmp_path, tabs=tabs).findings}


def test_conservation_holds_for_every_return(tmp_path: Path) -> None:
    tabs = _with_line("consommation", 0, ae="x")
    tabs["financement"][0]["financeur"] = "État"
    a = b.assess_one(tmp_path, tabs=tabs)
    for r in a.records:
        assert r.lines_read == r.lines_kept + r.lines_rejected


@pytest.mark.parametrize(("sheet", "column", "expected"), [
    ("Consommation", 13, (enums.REJETEE, 9, 0, 9)),  # CP payés (€): the whole return
    ("Financement", 6, (enums.RETENUE_AVEC_ANOMALIES, 9, 7, 2)),  # AE (€): that sheet's lines
])
def test_missing_required_column(tmp_path: Path, sheet: str, column: int, expected: tuple[object, ...]) -> None:
    path = b.write(tmp_path, "r.xlsx")
    b.edit_workbook(path, lambda wb: wb[sheet].delete_cols(column))
    a = b.assess_files([path])
    r = a.records[0]
    assert ("missing-column", f"{sheet}!A1") in _slugs(a)
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == expected


def test_negative_cumulative_cp(tmp_path: Path) -> None:
    tabs = b.tables()
    tabs["consommation"][1]["cp"] = -90000.0  # 80 000 paid in 2024, then a -90 000 correction
    a = b.assess_one(tmp_path, tabs=tabs)
    assert [f.slug for f in a.findings if f.severity == "Bloquant"] == ["ej-negative-cp"] * 2


def test_superseded_return_is_told_why(tmp_path: Path) -> None:
    v1 = b.write(tmp_path, "v1.xlsx")
    v2 = b.write(tmp_path, "v2.xlsx", proj=b.projet(version=2))
    a = b.assess_files([v1, v2])
    assert [r.status for r in a.records] == [enums.REMPLACEE, enums.RETENUE]
    told = [f for f in a.findings if f.slug == "superseded-return"]
    assert [(f.file, f.message) for f in told] == [("v1.xlsx", "Remplacée par v2.xlsx (version 2).")]


def test_file_too_large_is_refused_before_parsing(tmp_path: Path) -> None:
    from ftap_pipeline.contract.preflight import MAX_FILE_BYTES

    big = tmp_path / "enorme.xlsx"
    with big.open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    a = b.assess_files([big])
    assert [(f.slug, a.records[0].status) for f in a.findings] == [("file-too-large", enums.REJETEE)]


def test_values_in_a_column_without_header_are_said_not_dropped(tmp_path: Path) -> None:
    path = b.write(tmp_path, "r.xlsx")
    b.edit_workbook(path, lambda wb: wb["Consommation"].cell(3, 16, "note oubliée"))
    a = b.assess_files([path])
    said = [(f.slug, f.severity, f.cell, f.value) for f in a.findings if f.slug == "extra-column"]
    assert said == [("extra-column", "Information", "Consommation!P3", "note oubliée")]
    assert a.records[0].status == enums.RETENUE


def test_a_note_beside_an_empty_projet_field_is_not_its_value(tmp_path: Path) -> None:
    path = b.write(tmp_path, "r.xlsx", proj=b.projet(version=None))

    def note(wb: Any) -> None:
        ws = wb["Projet"]
        row = next(r for r in range(1, 30) if ws.cell(r, 1).value == "Version")
        ws.cell(row, 3, "7 (à confirmer)")

    b.edit_workbook(path, note)
    a = b.assess_files([path])
    assert a.parsed[0].projet.version is None
    assert a.records[0].version == 1
