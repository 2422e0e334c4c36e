"""Reading Chorus restitutions as they come out of the system: encodings, delimiters, title lines, workbooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import openpyxl
import pytest

from ftap_pipeline.contract.chorus_schema import AIFE_AE, AIFE_CP, INF_BUD_53_AE, INF_BUD_53_CP
from ftap_pipeline.contract.columns import LINE
from ftap_pipeline.contract.model import ChorusRestitution
from ftap_pipeline.core.chorus import normalise_movements
from ftap_pipeline.io.chorus_reader import read_chorus_file
from tests.builders import active
from tests.conftest import CORPUS
from tests.core.test_chorus import CUTOFF, D, referentiel

FIXTURES = Path(__file__).parents[1] / "fixtures" / "chorus"

def slugs(read: ChorusRestitution) -> list[str]:
    return [f.slug for f in read.findings]


def test_inf_bud_53_ae_in_windows_1252_with_title_lines() -> None:
    read = read_chorus_file(FIXTURES / "inf-bud-53-ae_2024.csv", "abc")

    assert (read.file, read.sha256, read.layout, read.sheet) == ("inf-bud-53-ae_2024.csv", "abc", INF_BUD_53_AE, "")
    assert read.findings == ()
    # Header on line 5 below four title lines; the trailing blank and `;;;` lines are not data.
    assert read.data[LINE].tolist() == list(range(6, 18))
    first = read.data.iloc[0]
    assert first["N° EJ"] == "1300000001"
    assert first["EUR"] == "60000,00"
    assert first["Référentiel de programmation"] == "BG00/03490101B501"
    assert first["Centre de coûts"] == "#"
    # cp1252 decoded: accents and the en dash of the title are intact; the unnamed column is the label.
    assert first["Fournisseur titulaire principal (EJ) (libellé)"] == "Cabinet Études & Conseil"
    assert read.fields["fournisseur_libelle"] == "Fournisseur titulaire principal (EJ) (libellé)"
    assert read.fields["montant"] == "EUR"
    assert read.data.iloc[4]["EUR"] == "12 500,50"
    assert all(isinstance(v, str) for v in read.data.drop(columns=LINE).to_numpy().ravel())
    assert read.cell(16, "EUR") == "ligne 16"


def test_inf_bud_53_cp_and_comma_delimited_utf8() -> None:
    cp = read_chorus_file(FIXTURES / "inf-bud-53-cp_2024.csv", "x")
    comma = read_chorus_file(FIXTURES / "inf-bud-53-cp_2025-S1.csv", "y")

    assert cp.layout == INF_BUD_53_CP
    assert comma.layout == INF_BUD_53_CP
    assert cp.data[LINE].tolist() == list(range(4, 13))
    assert cp.data.iloc[2]["Date comptable du SF"] == "45500"
    assert comma.data[LINE].tolist() == [2, 3, 4, 5]
    # A quoted value keeps its comma: the decimal comma of a comma-delimited file.
    assert comma.data.iloc[0]["EUR"] == "15000,00"
    assert comma.data.iloc[0]["Fournisseur payé (DP) (libellé)"] == "Cabinet Études & Conseil"


def test_aife_files_quoted_with_bom_or_cp1252() -> None:
    cp = read_chorus_file(FIXTURES / "aife-cp_2025.csv", "x")
    ae = read_chorus_file(FIXTURES / "aife-ae.csv", "y")

    assert cp.layout == AIFE_CP
    assert ae.layout == AIFE_AE
    assert cp.fields["programme"] == "Centre financier - Programme (Clé)"  # BOM not glued to the first header
    assert cp.data["Centre financier - Programme (Clé)"].tolist() == ["349", "0349", "0349"]
    assert cp.data["Montant payé (EUR)"].tolist() == ["5000,00", "700,00", "900,00"]
    assert ae.data["Montant engagé (EUR)"].tolist() == ["4000,00", "3000,00", "3000,00"]


def test_header_labels_are_matched_tolerantly(tmp_path: Path) -> None:
    path = tmp_path / "ae.csv"
    path.write_text("  centre financier - programme (clé) ;CENTRE FINANCIER - CLÉ (NON COMPOSÉE);Domaine fonctionnel - Clé;"
                    "Référentiel  de programmation - Clé (non composée);n° ej;N° poste EJ;"
                    "Compte budgétaire - Clé (non composée);Montant engagé (€)\n"
                    "0349;0349-CDBU-DITP;0349-01;03490101B501;1300000001;1;31;10,00\n", encoding="utf-8")

    read = read_chorus_file(path, "x")

    assert read.layout == AIFE_AE
    assert read.fields["montant"] == "Montant engagé (€)"


def test_workbook_values_become_text(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = active(wb)
    ws.title = "Restitution"
    ws.append(["Pilotage de la gestion – vue détaillée"])
    ws.append(["Programme 0349"])
    ws.append([])
    ws.append(["Programme", "Domaine fonctionnel", "Centre de coûts", "Référentiel de programmation", "N° EJ",
               "Date de réplication", "N° poste EJ", "Compte budgétaire", "EUR"])
    ws.append([349, "0349-01", "#", "BG00/03490101B501", 1300000001, dt.datetime(2024, 3, 15), 1, "PCE/31", 22500.12])
    ws.append(["0349", "0349-01", "#", "03490101B501", "1300000002", 45500, "10", "31", -150])
    ws.append([])
    wb.save(tmp_path / "ae.xlsx")

    read = read_chorus_file(tmp_path / "ae.xlsx", "x")

    assert (read.layout, read.sheet, read.findings) == (INF_BUD_53_AE, "Restitution", ())
    assert read.data[LINE].tolist() == [5, 6]
    assert read.data["N° EJ"].tolist() == ["1300000001", "1300000002"]  # a number typed as such, read as text
    assert read.data["Date de réplication"].tolist() == ["2024-03-15", "45500"]
    assert read.data["EUR"].tolist() == ["22500.12", "-150"]
    assert read.data["Programme"].tolist() == ["349", "0349"]
    assert read.cell(6, "EUR") == "Restitution!I6"


def test_unknown_layout_names_the_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "ae.csv"
    path.write_text("Programme;Référentiel de programmation;N° EJ;N° poste EJ;EUR\n0349;x;1300000001;1;10\n",
                    encoding="utf-8")

    read = read_chorus_file(path, "x")

    assert read.layout is None
    assert slugs(read) == ["chorus-unknown-layout"]
    assert "« Date de réplication »" in read.findings[0].message
    assert "ligne 1" in read.findings[0].message
    assert read.data.empty


def test_a_shifted_line_is_reported_not_read(tmp_path: Path) -> None:
    path = tmp_path / "ae.csv"
    path.write_text(
        "Programme,Référentiel de programmation,N° EJ,Date de réplication,N° poste EJ,EUR\n"
        '0349,03490101B501,1300000001,01/02/2024,1,"10,00"\n'
        "0349,03490101B501,1300000002,01/02/2024,1,10,00\n",  # unquoted decimal comma: one cell too many
        encoding="utf-8",
    )

    read = read_chorus_file(path, "x")

    assert read.layout == INF_BUD_53_AE
    assert read.data[LINE].tolist() == [2]
    assert slugs(read) == ["chorus-wrong-field-count"]
    assert (read.findings[0].cell, read.findings[0].row) == ("ligne 3", 3)
    assert read.findings[0].message == ("La ligne 3 compte 7 valeur(s) pour 6 colonne(s) d'en-tête : ses colonnes sont "
                                        "décalées, elle n'est pas prise en compte.")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("vide.csv", b""),
        ("binaire.csv", b"PK\x03\x04\x00\x00garbage"),
        ("encodage.csv", "N° EJ;EUR\n".encode() + b"\x81\x8d\xff\xfe\n"),
        ("faux.xlsx", b"ceci n'est pas un classeur"),
        ("restitution.pdf", b"%PDF-1.4"),
    ],
)
def test_unreadable_files_give_a_french_finding(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    read = read_chorus_file(path, "x")

    assert read.layout is None
    assert slugs(read) == ["chorus-unreadable-file"]
    assert read.findings[0].file == name
    assert read.findings[0].message


def test_missing_file_is_a_finding(tmp_path: Path) -> None:
    assert slugs(read_chorus_file(tmp_path / "absent.csv", "x")) == ["chorus-unreadable-file"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus of real-world workbooks not available")
def test_real_world_workbooks_are_refused_without_crashing() -> None:
    for path in sorted(CORPUS.iterdir()):
        read = read_chorus_file(path, "x")
        assert read.layout is None, path.name
        assert slugs(read) in (["chorus-unreadable-file"], ["chorus-unknown-layout"]), path.name


def test_a_workbook_with_both_views_gives_two_restitutions(tmp_path: Path) -> None:
    import csv

    import openpyxl

    from ftap_pipeline.io.chorus_reader import read_chorus_files

    wb = openpyxl.Workbook()
    wb.remove(active(wb))
    for name, source in (("Engagements", "inf-bud-53-ae_2024.csv"), ("Paiements", "inf-bud-53-cp_2024.csv")):
        ws = wb.create_sheet(name)
        with (FIXTURES / source).open(encoding="cp1252", newline="") as fh:
            for row in csv.reader(fh, delimiter=";"):
                ws.append(row)
    wb.create_sheet("Notes").append(["Extraction du 04/07/2025"])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    reads = read_chorus_files([path], workers=1)
    assert [(r.sheet, r.layout) for r in reads] == [("Engagements", "inf-bud-53-ae"), ("Paiements", "inf-bud-53-cp")]
    single = {s: read_chorus_file(FIXTURES / s, "x") for s in ("inf-bud-53-ae_2024.csv", "inf-bud-53-cp_2024.csv")}
    assert [len(r.data) for r in reads] == [len(single["inf-bud-53-ae_2024.csv"].data),
                                           len(single["inf-bud-53-cp_2024.csv"].data)]


def test_workbook_extract_gives_the_movements_a_csv_would(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = active(wb)
    ws.title = "AE"
    ws.append(["Restitution INF-BUD-53"])
    ws.append(["Programme", "Référentiel de programmation", "N° EJ", "Date de réplication", "N° poste EJ",
               "Compte budgétaire", "EUR"])
    ws.append([349, "BG00/03490101B501", 1300000001, dt.datetime(2024, 3, 15), 1, "PCE/31", 22500.12])
    ws.append(["0349", "03490101B501", "1300000002", 45500, 2, 31, -150])
    ws.append(["0349", "03490101B501", "1300000003", "pas une date", 1, 31, 10])
    wb.save(tmp_path / "ae.xlsx")

    movements, findings = normalise_movements([read_chorus_file(tmp_path / "ae.xlsx", "sha")], referentiel(), CUTOFF)

    assert movements["ej"].tolist() == ["1300000001", "1300000002"]
    assert movements["date"].tolist() == [D(2024, 3, 15), D(2024, 7, 27)]
    assert movements["montant"].tolist() == [22500.12, -150.0]
    assert movements["line"].tolist() == [3, 4]
    assert [(f.slug, f.sheet, f.cell, f.value, f.row) for f in findings] == [
        ("chorus-unreadable-line", "AE", "AE!D5", "pas une date", 5)]


def test_a_workbook_row_wider_than_its_header_is_refused(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = active(wb)
    ws.title = "AE"
    ws.append(["Restitution", None, None, None, None, None, None, "extraite le 04/07/2025"])  # the used range: H
    ws.append(["Programme", "Référentiel de programmation", "N° EJ", "Date de réplication", "EUR"])
    ws.append(["0349", "03490101B501", "1300000001", "01/02/2024", 10])
    ws.append(["0349", "03490101B501", "1300000002", "01/02/2024", 10, 5])
    wb.save(tmp_path / "ae.xlsx")

    read = read_chorus_file(tmp_path / "ae.xlsx")

    assert read.data[LINE].tolist() == [3]
    assert read.data["EUR"].tolist() == ["10"]
    assert [(f.slug, f.cell, f.row) for f in read.findings] == [("chorus-wrong-field-count", "AE!F4", 4)]


# --- read once, in worker processes ------------------------------------------------------------------


def test_the_fingerprint_is_that_of_the_bytes_parsed() -> None:
    from ftap_pipeline.io.chorus_reader import read_chorus_files

    paths = [FIXTURES / "aife-ae.csv", FIXTURES / "inf-bud-53-ae_2024.csv"]
    reads = read_chorus_files(paths, workers=1)
    assert [r.sha256 for r in reads] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    assert [r.layout for r in reads] == [AIFE_AE, INF_BUD_53_AE]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_pipe_is_refused_without_waiting_in_the_worker_or_the_parent(tmp_path: Path) -> None:
    from ftap_pipeline.io import chorus_reader

    pipe = tmp_path / "ae.csv"
    os.mkfifo(pipe)

    [read] = chorus_reader.read_chorus_files([pipe], workers=1)
    [crashed] = chorus_reader._crashed(pipe)  # what the parent says of a file whose worker died

    assert (read.layout, read.sha256, slugs(read)) == (None, "", ["chorus-unreadable-file"])
    assert "n'est pas un fichier ordinaire" in read.findings[0].message
    assert (crashed.sha256, slugs(crashed)) == ("", ["chorus-unreadable-file"])


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_restitution_that_kills_its_reader_is_refused_and_the_others_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    """A workbook with one cell at the far corner of its sheet aborts calamine; only its worker dies."""
    from ftap_pipeline.io.chorus_reader import read_chorus_files
    from ftap_pipeline.io.isolation import START_METHOD_ENV

    monkeypatch.setenv(START_METHOD_ENV, method)
    wb = openpyxl.Workbook()
    ws = active(wb)
    ws.append(["Programme", "Référentiel de programmation", "N° EJ", "Date de réplication", "EUR"])
    ws["XFD1048576"] = "loin"
    hostile = tmp_path / "export.xlsx"
    wb.save(hostile)

    reads = read_chorus_files([hostile, FIXTURES / "aife-ae.csv"], workers=1)

    assert [(r.file, r.layout) for r in reads] == [("export.xlsx", None), ("aife-ae.csv", AIFE_AE)]
    assert slugs(reads[0]) == ["chorus-unreadable-file"]
    assert reads[0].sha256 == hashlib.sha256(hostile.read_bytes()).hexdigest()
    assert len(reads[1].data) == 3


# --- hostile copies of a real extract (tests/fixtures/chorus/hostile/) ------------------------------


@pytest.mark.parametrize(("name", "refused"), [
    # Line 8 opens a quote it never closes: it used to run into line 9, read as one line with its values.
    ("guillemet-errant.csv", {8: "chorus-unreadable-line"}),
    # Line 10 has a 200,000-character label: every line after it used to be dropped.
    ("valeur-200000-caracteres.csv", {10: "chorus-unreadable-line"}),
    # Lines 12 and 13 are written with commas: they used to become one-value lines, then vanish unsaid.
    ("autre-separateur.csv", {12: "chorus-wrong-separator", 13: "chorus-wrong-separator"}),
    # The file stops in the middle of line 17, without a line end: it used to be read as it was.
    ("derniere-ligne-coupee.csv", {17: "chorus-truncated-line"}),
])
def test_a_hostile_extract_loses_only_its_broken_lines(name: str, refused: dict[int, str]) -> None:
    from ftap_pipeline.io.chorus_reader import read_chorus_files

    base = read_chorus_file(FIXTURES / "inf-bud-53-ae_2024.csv")
    [read] = read_chorus_files([FIXTURES / "hostile" / name], workers=1)

    assert read.layout == INF_BUD_53_AE
    assert {f.row: f.slug for f in read.findings} == refused
    assert all(f.cell == f"ligne {f.row}" for f in read.findings)
    expected = base.data[~base.data[LINE].isin(list(refused))].reset_index(drop=True)
    assert read.data.equals(expected)  # every other line, with the very values of the intact extract
    assert sorted(read.data[LINE].tolist() + list(refused)) == list(range(6, 18))  # lines 6 to 17 are the data
