"""The pre-flight: every hostile package is refused, with its French reason, before any of its XML is parsed.

Each fixture is built here with `zipfile` and `struct` from a good return, so that the only thing wrong
with it is the attack it carries; the refusals are checked at three levels: the pure check, the reader, and
the run (a `Rejetée` return whose lines are counted, beside a good return that still stands)."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftap_pipeline.contract import enums, preflight
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.preflight import ZipEntry, check_entry_names, check_zip
from ftap_pipeline.io.workbook_reader import read_isolated, read_workbook
from tests import builders as b

SHEET = "xl/worksheets/sheet4.xml"  # the template's Consommation sheet


def _good(folder: Path) -> Path:
    return b.write(folder, "bonne.xlsx")


def _entries(data: bytes) -> list[ZipEntry]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [ZipEntry(i.orig_filename, i.header_offset, i.compress_size, i.file_size, i.flag_bits)
                for i in zf.infolist()]


def _repack(src: Path, dst: Path, extra: Callable[[zipfile.ZipFile], None] | None = None,
            rename: Callable[[str], str] = lambda n: n) -> Path:
    """Copy a package entry by entry, renaming entries and adding more at the end."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name: that is the attack
        for item in zin.infolist():
            zout.writestr(rename(item.filename), zin.read(item.filename))
        if extra is not None:
            extra(zout)
    return dst


def _with_ref_error(folder: Path) -> Path:
    """A good return with a `#REF!` in an amount of Consommation (row 3)."""
    path = _good(folder)
    wb = openpyxl.load_workbook(path)
    cell = wb["Consommation"]["L3"]
    cell.value, cell.data_type = "#REF!", "e"
    wb.save(path)
    return path


def _patched(source: Path, name: str, patch: Callable[[bytearray, zipfile.ZipInfo], None]) -> Path:
    """A copy of `source` whose bytes `patch` changes, given the Consommation part's central entry."""
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo(SHEET)
    patch(data, info)
    out = source.parent / name
    out.write_bytes(bytes(data))
    return out


def _rename_locally(data: bytearray, info: zipfile.ZipInfo) -> None:
    start = info.header_offset + 30
    assert data[start:start + len(SHEET)] == SHEET.encode()
    data[start:start + len(SHEET)] = SHEET.replace("sheet4", "sheet9").encode()


def _local_name_differs(folder: Path) -> Path:
    """The local header of the Consommation part names another part: calamine reads the central directory's
    name, and a scan that opens the part by its local header could not; the `#REF!` would go unseen."""
    return _patched(_with_ref_error(folder), "noms-divergents.xlsx", _rename_locally)


def _grow_locally(data: bytearray, info: zipfile.ZipInfo) -> None:
    struct.pack_into("<I", data, info.header_offset + 22, info.file_size + 1)


def _shrink_both(data: bytearray, info: zipfile.ZipInfo) -> None:
    struct.pack_into("<I", data, info.header_offset + 22, info.file_size // 2)
    central = [at for at in range(len(data) - 46) if data[at:at + 4] == b"PK\x01\x02"
               and struct.unpack_from("<I", data, at + 42)[0] == info.header_offset]
    assert len(central) == 1
    struct.pack_into("<I", data, central[0] + 24, info.file_size // 2)


def _local_size_differs(folder: Path) -> Path:
    return _patched(_good(folder), "tailles-divergentes.xlsx", _grow_locally)


def _lying_size(folder: Path) -> Path:
    """An entry whose declared size is smaller than what it inflates to, in both headers: the CRC gives it away."""
    return _patched(_good(folder), "taille-mensongere.xlsx", _shrink_both)


def _bomb(zout: zipfile.ZipFile) -> None:
    zout.writestr("xl/media/image1.bin", bytes(30 * 2**20))  # 30 Mo of zeros deflate to 30 Ko


def _many(zout: zipfile.ZipFile) -> None:
    for i in range(preflight.MAX_ENTRIES):
        zout.writestr(f"xl/media/image{i}.png", b"")


def _add(name: str) -> Callable[[zipfile.ZipFile], None]:
    def add(zout: zipfile.ZipFile) -> None:
        info = zipfile.ZipInfo("x")
        info.filename = name  # set afterwards: `ZipInfo` itself would cut a name at its NUL
        zout.writestr(info, b"<x/>")
    return add


def _dtd(folder: Path) -> Path:
    path = _good(folder)
    with zipfile.ZipFile(path) as zf:
        part = zf.read(SHEET).decode()
    head, rest = part.split("?>", 1)
    hostile = f'{head}?><!DOCTYPE worksheet [<!ENTITY e "x">]>{rest}'
    out = folder / "dtd.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, hostile if item.filename == SHEET else zin.read(item.filename))
    return out


HOSTILE: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "bombe": (lambda d: _repack(_good(d), d / "bombe.xlsx", _bomb), "file-too-large", "taux de compression anormal"),
    "elements": (lambda d: _repack(_good(d), d / "elements.xlsx", _many), "file-too-large", "éléments"),
    "noms-divergents": (_local_name_differs, "file-suspicious", "porte un autre nom dans son en-tête local"),
    "tailles-divergentes": (_local_size_differs, "file-suspicious", "n'a pas la même taille"),
    "taille-mensongere": (_lying_size, "file-unreadable", "archive illisible"),
    "remonte": (lambda d: _repack(_good(d), d / "remonte.xlsx", _add("../../etc/cron.d/x")), "file-suspicious",
                "hors du classeur"),
    "absolu": (lambda d: _repack(_good(d), d / "absolu.xlsx", _add("/etc/passwd")), "file-suspicious",
               "hors du classeur"),
    "doublon": (lambda d: _repack(_good(d), d / "doublon.xlsx", _add(SHEET)), "file-suspicious", "figure deux fois"),
    "casse": (lambda d: _repack(_good(d), d / "casse.xlsx", _add(SHEET.upper())), "file-suspicious",
              "que par la casse"),
    "nul": (lambda d: _repack(_good(d), d / "nul.xlsx", _add("xl/a\x00.xml")), "file-suspicious",
            "caractère de contrôle"),
    "oblique": (lambda d: _repack(_good(d), d / "oblique.xlsx", _add("xl\\styles2.xml")), "file-suspicious",
                "barre oblique inversée"),
    "dtd": (_dtd, "file-suspicious", "DTD"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_package_is_refused_before_its_xml_is_parsed(tmp_path: Path, name: str) -> None:
    build, slug, reason = HOSTILE[name]
    path = build(tmp_path)
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert (info.value.slug, reason in info.value.message) == (slug, True), info.value.message


def test_hostile_packages_are_rejected_returns_and_a_good_one_still_stands(tmp_path: Path) -> None:
    """Under the start method of the run (fork, or spawn with FTAP_START_METHOD=spawn)."""
    paths = []
    for name, (build, _, _) in HOSTILE.items():
        folder = tmp_path / name
        folder.mkdir()
        paths.append(build(folder))
    good = _good(tmp_path)
    outcomes = read_isolated(paths, workers=2)
    assert [o.error.slug if o.error else None for o in outcomes] == [slug for _, slug, _ in HOSTILE.values()]
    a = b.assess_files([*paths, good])
    by_file = {r.file: r for r in a.records}
    assert by_file["bonne.xlsx"].status == enums.RETENUE
    for path in paths:
        r = by_file[path.name]
        assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.REJETEE, 0, 0, 0), path.name
        assert all(f.message and f.action for f in r.findings)


def test_the_hidden_ref_error_is_seen_once_the_names_agree(tmp_path: Path) -> None:
    """The same `#REF!` as in the forged package, in an honest one: found on its cell, its line left out."""
    a = b.assess_files([_with_ref_error(tmp_path)])
    assert [(f.slug, f.cell) for f in a.findings if f.severity == "Bloquant"] == [("error-cell", "Consommation!L3")]
    r = a.records[0]
    assert (r.status, r.lines_read, r.lines_kept, r.lines_rejected) == (enums.RETENUE_AVEC_ANOMALIES, 9, 8, 1)


def test_a_good_return_passes_the_checks_untouched(tmp_path: Path) -> None:
    data = _good(tmp_path).read_bytes()
    check_zip(_entries(data), data)


def test_overlapping_entries_are_refused() -> None:
    """Two central entries pointing into the same bytes: the densest zip bombs are built that way."""
    raw = zlib.compress(b"<x/>")[2:-4]
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, 0, len(raw), 4, 5, 0) + b"a.xml" + raw
    entries = [ZipEntry("a.xml", 0, len(raw) + 40, 4), ZipEntry("a.xml".upper(), 0, len(raw), 4)]
    with pytest.raises(InputError) as info:
        check_zip(entries, local)
    assert info.value.slug == "file-suspicious"
    entries = [ZipEntry("a.xml", 0, len(raw), 4), ZipEntry("b.xml", 10, len(raw), 4)]
    with pytest.raises(InputError) as info:
        check_zip(entries, local + local.replace(b"a.xml", b"b.xml"))
    assert info.value.slug == "file-suspicious"


def test_a_package_that_inflates_a_hundredfold_overall_is_refused() -> None:
    entries = [ZipEntry(f"p{i}.xml", 0, 2**20, 2**20) for i in range(3)]
    with pytest.raises(InputError) as info:
        check_zip(entries, bytes(30_000))
    assert info.value.slug == "file-too-large"
    assert "taux de compression anormal" in info.value.message


def test_sheet_size_caps() -> None:
    preflight.check_sheet_size("Consommation", preflight.MAX_ROWS, preflight.MAX_CELLS)
    for rows, cells in ((preflight.MAX_ROWS + 1, 0), (10, preflight.MAX_CELLS + 1)):
        with pytest.raises(InputError) as info:
            preflight.check_sheet_size("Consommation", rows, cells)
        assert info.value.slug == "file-too-large"
        assert "La feuille « Consommation » compte plus de" in info.value.message


@pytest.mark.parametrize(("header", "slug"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "file-unreadable"),  # truncated
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024), "file-suspicious"),  # no byte order, no sector size
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6,
                                                                     bytes(6), 0, 10_000, 0, 0, 4096, 0, 0, 0, 0)
     + bytes(1024), "file-suspicious"),  # a FAT larger than the file
])
def test_ole_headers_that_no_spreadsheet_writes_are_refused(tmp_path: Path, header: bytes, slug: str) -> None:
    path = tmp_path / "ancien.xls"
    path.write_bytes(header)
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert info.value.slug == slug


_SAFE = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="\\/:."),
                min_size=1, max_size=12)


@given(st.lists(_SAFE, min_size=1, max_size=4), st.lists(_SAFE, min_size=1, max_size=6, unique_by=str.casefold))
def test_ordinary_names_pass(folders: list[str], files: list[str]) -> None:
    check_entry_names(["/".join([*folders, f]) for f in files])


_CONTROL = st.sampled_from([chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))])


@given(st.lists(_SAFE, min_size=1, max_size=4), _CONTROL)
def test_a_control_character_anywhere_in_a_name_is_refused(parts: list[str], control: str) -> None:
    with pytest.raises(InputError) as info:
        check_entry_names(["xl/styles.xml", f"{parts[0]}{control}{'/'.join(parts[1:])}"])
    assert info.value.slug == "file-suspicious"
