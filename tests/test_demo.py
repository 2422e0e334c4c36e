"""The demo input set writes what it promises (files, référentiel, Chorus extracts) and is deterministic."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.referentiel import DEFAULT_PARAMETERS, OPTIONAL_PARAMETERS
from ftap_pipeline.core.period import Period
from ftap_pipeline.demo import AE_HEADER, CP_HEADER, CUTOFF, SPECS, DemoSummary, write_demo

REFERENTIEL_HEADERS = {
    "Enveloppes": ["Date d'effet", "Catégorie", "Titre", "Année", "Financeur", "AE (€)", "CP (€)"],
    "Tranches": ["Année", "Date de décision", "AE (€)", "CP (€)"],
    "Projets": ["Identifiant du projet", "Intitulé du projet", "Porteur du projet", "Ministère", "Date de sélection",
                "Cycle"],
    "Comités": ["Date", "Instance", "Objet"],
    "Nomenclature": ["Code", "Valeur"],
    "Comptes budgétaires": ["Compte budgétaire", "Titre"],
    "Économies de référence": ["Identifiant du projet", "Année", "Nature d'économie", "Montant (€)", "Source"],
    "Paramètres": ["Paramètre", "Valeur"],
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return write_demo(tmp_path_factory.mktemp("demo"))


def _rows(path: Path, sheet: str) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True))


def _chorus_rows(path: Path, header: tuple[str, ...]) -> list[dict[str, str]]:
    lines = list(csv.reader(io.StringIO(path.read_bytes().decode("cp1252"), newline=""), delimiter=";"))
    start = next(i for i, line in enumerate(lines) if tuple(line) == header)
    names = [h or f"{header[i - 1]} (libellé)" for i, h in enumerate(header)]
    return [dict(zip(names, line, strict=True)) for line in lines[start + 1:] if line]


def _amount(text: str) -> float:
    return float(text.replace(",", "."))


def _date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d.%m.%Y").date()


# --- files -------------------------------------------------------------------------------------------


def test_writes_the_promised_files(demo: DemoSummary) -> None:
    assert demo.referentiel == demo.root / "reference" / "referentiel.xlsx"
    assert demo.referentiel.exists()
    on_disk = sorted((demo.root / "remontees").iterdir())
    assert list(demo.returns) == on_disk
    assert demo.n_returns == len(demo.expected_statuses) == 58
    assert [p.name for p in demo.chorus] == [p.name for p in sorted((demo.root / "chorus").iterdir())]
    assert len(demo.chorus) == 2
    assert all(p.suffix == ".csv" for p in demo.chorus)
    assert demo.period == "2025-T2"


def test_expected_statuses_of_the_faulty_files(demo: DemoSummary) -> None:
    assert demo.faulty == {
        "AP-2023-03_2025-T2.xlsx": enums.RETENUE_AVEC_ANOMALIES,
        "AP-2025-30_2025-T2.xlsx": enums.REJETEE,
        "DDFiP33_remontee_FTAP_2025-T1 (2).xlsx": enums.REJETEE,
        "Remontee FTAP - SAR Douai - 2025-T2.xlsx": enums.REMPLACEE,
    }
    assert demo.expected_statuses["Remontee FTAP - SAR Douai - 2025-T2 v2.xlsx"] == enums.RETENUE
    assert demo.missing_returns == (("AP-2024-02", "2025-T2"),)
    damaged = demo.root / "remontees" / "DDFiP33_remontee_FTAP_2025-T1 (2).xlsx"
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure to open is the point
        openpyxl.load_workbook(damaged)


def test_every_project_reports_each_quarter_from_its_start(demo: DemoSummary) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for path in demo.returns:
        if demo.expected_statuses[path.name] == enums.REJETEE:
            continue
        form = {row[0]: row[1] for row in _rows(path, "Projet")[1:]}
        seen[str(form["Identifiant du projet"])].add(str(form["Période de remontée"]))
        assert form["Date de situation"] == dt.datetime.combine(Period.parse(str(form["Période de remontée"])).last_day,
                                                               dt.time())
    for spec in SPECS:
        first, expected = Period.of(spec.debut), set()
        period = first
        while period <= Period(2025, 2):
            expected.add(str(period))
            period = Period(period.year + 1, 1) if period.quarter == 4 else Period(period.year, period.quarter + 1)
        if spec.pid == "AP-2024-02":
            expected.discard("2025-T2")
        assert seen[spec.pid] == expected, spec.pid
    assert Period(2023, 3) <= min(Period.of(s.debut) for s in SPECS)
    assert max(Period.of(s.debut) for s in SPECS) == Period(2025, 2)


# --- référentiel -------------------------------------------------------------------------------------


def test_referentiel_has_the_sheets_and_headers_of_the_spec(demo: DemoSummary) -> None:
    wb = openpyxl.load_workbook(demo.referentiel, read_only=True)
    assert wb.sheetnames == list(REFERENTIEL_HEADERS)
    for name, headers in REFERENTIEL_HEADERS.items():
        assert list(next(wb[name].iter_rows(max_row=1, values_only=True))) == headers, name
    params = {r[0]: r[1] for r in _rows(demo.referentiel, "Paramètres")[1:]}
    assert params == {k: v for k, v in DEFAULT_PARAMETERS.items() if k not in OPTIONAL_PARAMETERS}  # referentiel.md's seven
    nomenclature = {r[0]: r[1] for r in _rows(demo.referentiel, "Nomenclature")[1:]}
    assert nomenclature == {"Programme": "0349", "Centre financier": "0349-CDBU-DITP",
                            "Domaine fonctionnel": "0349-01; 0349-0101B501", "Activité": "03490101B501"}
    projets = _rows(demo.referentiel, "Projets")[1:]
    assert [p[0] for p in projets] == [s.pid for s in SPECS]
    assert len({p[3] for p in projets}) >= 7, "several ministries"
    comites = [r[0] for r in _rows(demo.referentiel, "Comités")[1:]]
    for year in (2023, 2024, 2025):
        assert sum(1 for d in comites if isinstance(d, dt.datetime) and d.year == year) >= 3
    references = _rows(demo.referentiel, "Économies de référence")[1:]
    assert {r[0] for r in references} == {s.pid for s in SPECS[:3]}


def test_envelopes_reproduce_the_contract_before_the_avenant(demo: DemoSummary) -> None:
    rows = _rows(demo.referentiel, "Enveloppes")[1:]
    contract = [r for r in rows if r[0] == dt.datetime(2023, 7, 31)]
    per_year: dict[object, float] = defaultdict(float)
    for _, categorie, titre, annee, financeur, ae, cp in contract:
        assert titre == 3
        assert ae == cp
        assert categorie in enums.CATEGORIES
        if financeur == enums.FTAP:
            per_year[annee] += float(ae)  # type: ignore[arg-type]
        else:
            assert financeur == "Porteur"
            assert ae == 0
    assert dict(per_year) == {2023: 3_000_000, 2024: 6_000_000, 2025: 6_000_000}
    avenant = [r for r in rows if r[0] != dt.datetime(2023, 7, 31)]
    assert len(avenant) == 1
    assert avenant[0][0] == dt.datetime(2025, 3, 15)
    assert avenant[0][3] == 2025
    tranches = {r[0]: r for r in _rows(demo.referentiel, "Tranches")[1:]}
    assert tranches[2023][1:] == (dt.datetime(2023, 7, 31), 3_000_000, 3_000_000)
    assert tranches[2025][2] < 6_000_000  # type: ignore[operator]


def test_ftap_consumption_is_meaningful_against_the_envelopes(demo: DemoSummary) -> None:
    envelopes = {"Cadrage": (600_000, 1_200_000, 1_200_000), "Expérimentation": (600_000, 1_200_000, 1_500_000),
                 "Généralisation": (1_800_000, 3_600_000, 3_600_000)}
    over = [(year, cat) for (year, cat), ae in demo.ftap_ae.items() if ae > envelopes[cat][year - 2023]]
    assert over == [(2024, "Expérimentation")]
    by_year: dict[int, float] = defaultdict(float)
    for (year, _), ae in demo.ftap_ae.items():
        by_year[year] += ae
    assert by_year[2024] > 2_000_000
    assert by_year[2025] > 2_000_000
    assert by_year[2023] < 3_000_000
    assert by_year[2024] < 6_000_000
    assert by_year[2025] < 6_000_000


# --- Chorus ------------------------------------------------------------------------------------------


def test_chorus_extracts_look_like_the_real_ones(demo: DemoSummary) -> None:
    ae_file, cp_file = demo.chorus
    for path, header in ((ae_file, AE_HEADER), (cp_file, CP_HEADER)):
        raw = path.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        text = raw.decode("cp1252")
        lines = text.split("\r\n")
        at = lines.index(";".join(header))
        assert at >= 3, "title lines above the header"
        assert header[-1] == "EUR"
    assert set(AE_HEADER) >= {"Programme", "Domaine fonctionnel", "Centre de coûts", "Référentiel de programmation",
                              "N° EJ", "Date de réplication", "N° poste EJ", "Date de dernière modif. de l'EJ",
                              "Fournisseur titulaire principal (EJ)", "Compte budgétaire", "Groupe de marchandises"}
    assert set(CP_HEADER) >= {"N° DP", "Date de base de la DP", "N° SF", "Date comptable du SF",
                              "Fournisseur payé (DP)"}
    ae, cp = _chorus_rows(ae_file, AE_HEADER), _chorus_rows(cp_file, CP_HEADER)
    assert {r["Programme"] for r in ae} == {"0349"}
    assert {r["Programme"] for r in cp} == {"0349", "349"}
    assert any(r["Référentiel de programmation"].startswith("BG00/") for r in ae + cp)
    assert any(r["Centre de coûts"] == "#" for r in ae + cp)
    assert any(r["N° EJ"] == "#" for r in cp), "a payment without EJ"
    assert any(_amount(r["EUR"]) < 0 for r in ae)
    assert any(_amount(r["EUR"]) < 0 for r in cp)
    assert all(re.fullmatch(r"-?\d+,\d{2}", r["EUR"]) for r in ae + cp)
    assert all(re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", r["Date de réplication"]) for r in ae)
    postes: dict[str, set[str]] = defaultdict(set)
    for r in ae:
        postes[r["N° EJ"]].add(r["N° poste EJ"])
    assert any(len(p) > 1 for p in postes.values()), "several postes per EJ"
    payments: dict[tuple[str, str], int] = defaultdict(int)
    for r in cp:
        payments[(r["N° EJ"], r["N° poste EJ"])] += 1
    assert max(payments.values()) > 1, "several payments per poste"
    assert any(_date(r["Date de réplication"]) > CUTOFF for r in ae), "movements after the cut-off"


def _standing_ftap(demo: DemoSummary) -> tuple[dict[str, tuple[float, float]], dict[str, dt.date]]:
    """Declared FTAP AE and CP per EJ in each project's standing return, and that return's situation date."""
    standing: dict[str, tuple[Period, int, Path]] = {}
    for path in demo.returns:
        if demo.expected_statuses[path.name] not in (enums.RETENUE, enums.RETENUE_AVEC_ANOMALIES):
            continue
        form = {row[0]: row[1] for row in _rows(path, "Projet")[1:]}
        key = (Period.parse(str(form["Période de remontée"])), int(form["Version"] or 1), path)  # type: ignore[call-overload]
        pid = str(form["Identifiant du projet"])
        if pid not in standing or key[:2] > standing[pid][:2]:
            standing[pid] = key
    declared: dict[str, tuple[float, float]] = {}
    situation: dict[str, dt.date] = {}
    for period, _, path in standing.values():
        for row in _rows(path, "Consommation")[1:]:
            if row[7] == enums.FTAP:
                ae, cp = declared.get(str(row[0]), (0.0, 0.0))
                declared[str(row[0])] = (ae + float(row[11]), cp + float(row[12]))  # type: ignore[arg-type]
                situation[str(row[0])] = period.last_day
    return declared, situation


def test_chorus_agrees_with_the_returns_except_where_injected(demo: DemoSummary) -> None:
    declared, situation = _standing_ftap(demo)
    ae_file, cp_file = demo.chorus
    chorus: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    dispositif: dict[str, bool] = {}
    for rows, date_col, i in ((_chorus_rows(ae_file, AE_HEADER), "Date de réplication", 0),
                              (_chorus_rows(cp_file, CP_HEADER), "Date comptable du SF", 1)):
        for r in rows:
            ej = r["N° EJ"] if r["N° EJ"] != "#" else enums.SANS_EJ
            if _date(r[date_col]) <= situation.get(ej, CUTOFF):
                chorus[ej][i] += _amount(r["EUR"])
                dispositif[ej] = r["Référentiel de programmation"].removeprefix("BG00/") == "03490101B501"
    status = {}
    for ej in set(declared) | set(chorus):
        if ej not in declared:
            status[ej] = enums.NON_DECLARE if dispositif[ej] else enums.HORS_DISPOSITIF
        elif ej not in chorus:
            status[ej] = enums.ABSENT_DE_CHORUS
        elif any(abs(d - c) > 1 for d, c in zip(declared[ej], chorus[ej], strict=True)):
            status[ej] = enums.ECART
    assert status == dict(demo.reconciliation)
    assert len(declared) > 50

# Determinism: `test_end_to_end.test_committed_demo_inputs_are_what_the_generator_writes` regenerates the
# demo and compares every byte with the committed inputs, which covers two runs writing the same files.
