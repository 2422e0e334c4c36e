"""The workbook reader: A1-positioned rows, what values hide (errors, formulas without values, the 1904
system, hidden sheets), files that are not workbooks, and the lock files office suites leave behind."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from ftap_pipeline.contract import enums, preflight
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.raw import CellFlag
from ftap_pipeline.io.intake import discover
from ftap_pipeline.io.workbook_reader import read_isolated, read_workbook
from tests import builders as b
from tests.conftest import CORPUS, soffice

needs_soffice = [pytest.mark.libreoffice,
                 pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")]


def _offset_workbook(path: Path) -> Path:
    """Data from B3: nothing in column A nor in rows 1-2; an error cell at C4, a formula with no value at D5
    (alone on its row), `Date` values at B6."""
    wb = openpyxl.Workbook()
    ws = b.active(wb)
    ws.title = "Feuille"
    ws["B3"], ws["C3"] = "Champ", "Valeur"
    ws["B4"] = "Montant"
    ws["C4"] = "#REF!"  # openpyxl stores a known error text as an error cell (t="e")
    ws["D5"] = "=1+1"  # openpyxl never stores a formula's value
    ws["B6"] = 12.5
    wb.save(path)
    return path


def _rewrite_sheet_xml(src: Path, dst: Path, change: object) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode()).encode()  # type: ignore[operator]
            zout.writestr(item, data)
    return dst


EXPECTED_ROWS = [["", "", ""], ["", "", ""], ["", "Champ", "Valeur"], ["", "Montant", ""]]
EXPECTED_FLAGS = {(3, 2): CellFlag("error", "#REF!"), (4, 3): CellFlag("formula-without-value", "1+1")}


def test_rows_start_at_a1_when_the_data_starts_at_b3(tmp_path: Path) -> None:
    (sheet,) = read_workbook(_offset_workbook(tmp_path / "b3.xlsx")).sheets
    assert sheet.rows[:4] == EXPECTED_ROWS
    assert sheet.rows[5][:2] == ["", 12.5]
    assert sheet.flags == EXPECTED_FLAGS


@pytest.mark.parametrize("change", [
    pytest.param(lambda x: re.sub(r"<dimension[^>]*/>", "", x), id="no-dimension"),
    pytest.param(lambda x: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1"', x), id="wrong-dimension"),
])
def test_rows_do_not_trust_the_declared_dimension(tmp_path: Path, change: object) -> None:
    path = _rewrite_sheet_xml(_offset_workbook(tmp_path / "b3.xlsx"), tmp_path / "changed.xlsx", change)
    (sheet,) = read_workbook(path).sheets
    assert sheet.rows[:4] == EXPECTED_ROWS
    assert sheet.flags == EXPECTED_FLAGS


def test_cells_without_a_reference_are_flagged_where_they_stand(tmp_path: Path) -> None:
    """`r` is optional in OOXML: without it a cell follows the previous one, and its flag must follow too."""
    wb = openpyxl.Workbook()
    ws = b.active(wb)
    ws.append(["Année", "Montant"])
    ws.append([2024, "#DIV/0!"])
    ws.append(["=1+1", "=2+2"])
    wb.save(tmp_path / "refs.xlsx")
    path = _rewrite_sheet_xml(tmp_path / "refs.xlsx", tmp_path / "norefs.xlsx",
                              lambda x: re.sub(r' r="[A-Z]+\d+"', "", x))
    (sheet,) = read_workbook(path).sheets
    assert sheet.rows[:2] == [["Année", "Montant"], [2024.0, ""]]
    assert sheet.flags == {(1, 1): CellFlag("error", "#DIV/0!"), (2, 0): CellFlag("formula-without-value", "1+1"),
                           (2, 1): CellFlag("formula-without-value", "2+2")}


def test_rows_reach_a_trailing_line_of_formulas_without_values(tmp_path: Path) -> None:
    """Calamine stops at the last cell with a value: the line of D5 alone would be lost without its flag."""
    wb = openpyxl.load_workbook(_offset_workbook(tmp_path / "b3.xlsx"))
    del b.active(wb)["B6"]
    wb.save(tmp_path / "trailing.xlsx")
    (sheet,) = read_workbook(tmp_path / "trailing.xlsx").sheets
    assert len(sheet.rows) == 5
    assert (4, 3) in sheet.flags


@pytest.mark.parametrize("fmt", [pytest.param(f, marks=needs_soffice) for f in ("ods", "xls")])
def test_other_containers_give_the_same_a1_rows(tmp_path: Path, fmt: str) -> None:
    from tests.io.test_libreoffice import convert

    (converted,) = convert([_offset_workbook(tmp_path / "b3.xlsx")], fmt, tmp_path / "out")
    (sheet,) = read_workbook(converted).sheets
    assert [r[:3] for r in sheet.rows[:4]] == EXPECTED_ROWS
    assert sheet.rows[4][3] == 2.0  # LibreOffice computed the formula and stored its value
    assert sheet.rows[5][:2] == ["", 12.5]


def test_error_cells_of_an_ods_workbook_are_flagged(tmp_path: Path) -> None:
    """LibreOffice stores an error as an empty string, which calamine reads as an empty cell."""
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    from tests.io.test_libreoffice import convert

    wb = openpyxl.Workbook()
    ws = b.active(wb)
    ws.title = "Calculs"
    ws.append(["Fusion", None, None, "Erreur"])
    ws.merge_cells("A1:C1")
    ws["D1"] = "=1/0"
    ws["B3"] = "=NA()"
    ws["C3"] = "=1+1"
    ws["E3"] = "#REF!"
    wb.save(tmp_path / "erreurs.xlsx")
    (ods,) = convert([tmp_path / "erreurs.xlsx"], "ods", tmp_path / "out")
    (sheet,) = read_workbook(ods).sheets
    assert sheet.rows[2][1] == ""  # what calamine alone says
    assert sheet.flags == {(0, 3): CellFlag("error", "#DIV/0!"), (2, 1): CellFlag("error", "#N/A"),
                           (2, 4): CellFlag("error", "#REF!")}


@pytest.mark.parametrize("date1904", [False, True])
def test_the_date_system_is_read_from_the_workbook(tmp_path: Path, date1904: bool) -> None:
    wb = openpyxl.Workbook()
    if date1904:
        wb.epoch = CALENDAR_MAC_1904
    b.active(wb)["A1"] = 1
    wb.save(tmp_path / "dates.xlsx")
    assert read_workbook(tmp_path / "dates.xlsx").date1904 is date1904


def test_hidden_sheets_are_read_and_said_hidden(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    b.active(wb).title = "Visible"
    b.active(wb)["A1"] = "v"
    for name, state in (("Cachée", "hidden"), ("Très cachée", "veryHidden")):
        ws = wb.create_sheet(name)
        ws["A1"] = name
        ws.sheet_state = state
    wb.save(tmp_path / "cachees.xlsx")
    raw = read_workbook(tmp_path / "cachees.xlsx")
    assert [(s.name, s.visible, s.rows) for s in raw.sheets] == [
        ("Visible", True, [["v"]]), ("Cachée", False, [["Cachée"]]), ("Très cachée", False, [["Très cachée"]])]


# --- files that are not workbooks ---------------------------------------------------------------------


def _not_workbooks(folder: Path) -> dict[str, tuple[Path, str]]:
    """name → (file, expected slug)."""
    good = b.write(folder, "bonne.xlsx")
    files: dict[str, tuple[Path, str]] = {}

    def add(name: str, slug: str, data: bytes | None = None, source: Path | None = None) -> None:
        path = folder / name
        if source is not None:
            shutil.copy(source, path)
        else:
            path.write_bytes(data or b"")
        files[name] = (path, slug)

    # An OOXML workbook saved with an opening password is an OLE compound file holding an EncryptedPackage
    # stream; an OLE file without it is a legacy .xls under a wrong name.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088)
    add("chiffre.xlsx", "file-encrypted", ole + "EncryptedPackage".encode("utf-16-le"))
    add("vieux-classeur.xlsx", "file-unreadable", ole)
    add("texte.xlsx", "file-unreadable", b"Identifiant du projet;AP-2024-01\n")
    add("vide.xlsx", "file-unreadable", b"")
    buffer = folder / "archive.zip"
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("lisez-moi.txt", "Ceci n'est pas un classeur.")
    add("archive.xlsx", "file-unreadable", source=buffer)
    add("tronque.xlsx", "file-unreadable", good.read_bytes()[: good.stat().st_size // 2])
    add("zip-nomme.xls", "file-unreadable", source=good)
    add("zip-nomme.ods", "file-unreadable", source=good)
    add("export.csv", "file-unsupported", b"Champ;Valeur\n")
    add("remontee.pdf", "file-unsupported", b"%PDF-1.7\n")
    add("classeur-renomme.pdf", "file-unsupported", source=good)  # a good workbook under a wrong name
    add("sans-extension", "file-unsupported", source=good)
    return files


def test_each_non_workbook_is_refused_with_its_reason(tmp_path: Path) -> None:
    for name, (path, slug) in _not_workbooks(tmp_path).items():
        with pytest.raises(InputError) as info:
            read_workbook(path)
        assert info.value.slug == slug, name
        assert info.value.message, name


def test_real_encrypted_workbook_is_said_encrypted() -> None:
    path = CORPUS / "tafia__tests_pass_protected.xlsx"
    if not path.is_file():
        pytest.skip("shared corpus not present")
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert info.value.slug == "file-encrypted"


def test_non_workbooks_are_rejected_returns_and_the_run_goes_on(tmp_path: Path) -> None:
    files = _not_workbooks(tmp_path)
    paths = [p for p, _ in files.values()]
    outcomes = read_isolated(paths, workers=2)
    assert [o.error.slug if o.error else None for o in outcomes] == [slug for _, slug in files.values()]
    a = b.assess_files([*paths, tmp_path / "bonne.xlsx"])
    by_file = {r.file: r for r in a.records}
    assert by_file["bonne.xlsx"].status == enums.RETENUE
    for name, (_, slug) in files.items():
        r = by_file[name]
        assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.REJETEE, 0, 0, 0), name
        assert [f.slug for f in r.findings] == [slug], name
        assert all(f.action for f in r.findings)


def test_upper_case_extension_is_accepted(tmp_path: Path) -> None:
    path = b.write(tmp_path, "REMONTEE.XLSX")
    assert read_workbook(path).sheet_names()[:2] == ["Instructions", "Projet"]


# --- the survey of the sheet parts -----------------------------------------------------------------------

#: What `_hides` looks for, spelled out as the reader did before its two regular expressions.
_HIDDEN_MARKERS = (b"<f>", b"<f ", b"<f/", b' t="e"', b'\tt="e"', b'\nt="e"', b'\rt="e"')
_XML_BITS = st.sampled_from([b"<f", b"<f>", b"<f ", b"<f/>", b"<formula1>", b"</f>", b"<c ", b"<row>", b't="e"',
                             b' t="e"', b'\tt="e"', b'\nt="e"', b'\rt="e"', b'xt="e"', b'T="e"', b"<x:f>", b"<x:f ",
                             b"<x:c>", b" ", b"\t", b"\n", b"\r", b"e", b"f", b"<", b">", b'"', b"="])


@given(st.lists(_XML_BITS, max_size=12).map(b"".join), st.booleans())
def test_a_sheet_is_said_to_hide_values_exactly_when_a_marker_is_there(text: bytes, prefixed: bool) -> None:
    from ftap_pipeline.io.workbook_reader import _PREFIXED_HIDDEN, _hides

    expected = any(m in text for m in _HIDDEN_MARKERS) or (prefixed and _PREFIXED_HIDDEN.search(text) is not None)
    assert _hides(text, prefixed) is expected


def _package(tmp_path: Path, sheet: bytes) -> zipfile.ZipFile:
    path = tmp_path / "parts.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return zipfile.ZipFile(path)


def test_a_small_part_is_not_counted_but_still_searched(tmp_path: Path) -> None:
    """A part too small to pass the limits is not counted; its declarations and formulas are still searched."""
    from ftap_pipeline.io.workbook_reader import _UNCOUNTED_BYTES, _survey

    assert min(5 * preflight.MAX_ROWS, 3 * preflight.MAX_CELLS) == _UNCOUNTED_BYTES
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 50))
    with _package(tmp_path, b"<worksheet><sheetData>" + rows + b"</sheetData></worksheet>") as zf:
        assert _survey(zf, "xl/worksheets/sheet1.xml") == (0, 0, False)
    with _package(tmp_path, b'<worksheet><sheetData><row><c><f>1+1</f></c></row></sheetData></worksheet>') as zf:
        assert _survey(zf, "xl/worksheets/sheet1.xml") == (0, 0, True)
    with _package(tmp_path, b'<!DOCTYPE w [<!ENTITY e "x">]><worksheet/>') as zf, pytest.raises(InputError) as info:
        _survey(zf, "xl/worksheets/sheet1.xml")
    assert info.value.slug == "file-suspicious"


def test_a_part_past_the_size_bound_is_counted_across_its_chunks(tmp_path: Path) -> None:
    """Above the bound, rows and cells are counted, a tag cut between two chunks of the stream included."""
    from ftap_pipeline.io.workbook_reader import _UNCOUNTED_BYTES, _survey

    row = b'<row r="1"><c r="A1"><v>1</v></c><c>\n</c></row>'
    count = max(_UNCOUNTED_BYTES, 1 << 20) // len(row) + 1000  # past the bound, and over two chunks of the stream
    with _package(tmp_path, b"<worksheet><sheetData>" + row * count + b"</sheetData></worksheet>") as zf:
        assert _survey(zf, "xl/worksheets/sheet1.xml") == (count, 2 * count, False)


def test_a_sheet_left_unread_is_neither_built_nor_surveyed(tmp_path: Path) -> None:
    """A sheet the caller leaves unread comes back with its name and visibility only: no cells, and no scan
    of its XML (its formula without a value goes unseen); the other sheets are read as usual."""
    path = tmp_path / "modele.xlsx"
    wb = openpyxl.Workbook()
    notes = b.active(wb)
    notes.title = "Instructions"
    notes["A1"], notes["A2"] = "Mode d'emploi", "=1+1"
    data = wb.create_sheet("Projet")
    data["A1"], data["B1"] = "Champ", "=2+2"
    wb.save(path)
    whole = read_workbook(path)
    lean = read_workbook(path, unread=frozenset({"instructions"}))
    assert whole.sheets[0].flags == {(1, 0): CellFlag("formula-without-value", "1+1")}
    assert (lean.sheets[0].name, lean.sheets[0].rows, lean.sheets[0].flags) == ("Instructions", [], {})
    assert lean.sheets[1].rows == whole.sheets[1].rows
    assert lean.sheets[1].flags == whole.sheets[1].flags == {(0, 1): CellFlag("formula-without-value", "2+2")}


# --- the inbox ------------------------------------------------------------------------------------------


def test_lock_and_hidden_files_are_not_returns(tmp_path: Path) -> None:
    good = b.write(tmp_path, "remontee.xlsx")
    for name in ("~$remontee.xlsx", ".~lock.remontee.xlsx#", ".DS_Store", "~remontee.tmp"):
        (tmp_path / name).write_bytes(b"\x00lock")
    (tmp_path / "sous-dossier").mkdir()
    shutil.copy(good, tmp_path / "sous-dossier" / "autre.xlsx")
    shutil.copy(good, tmp_path / "Autre remontee.xlsx")
    assert [p.name for p in discover(tmp_path)] == ["Autre remontee.xlsx", "remontee.xlsx"]
    assert discover(tmp_path / "absent") == []
