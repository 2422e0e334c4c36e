"""Files written by other software: returns re-saved by LibreOffice as .ods and .xls, and our workbook
opened and printed by LibreOffice."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import python_calamine

from ftap_pipeline.contract import enums
from ftap_pipeline.core.report_spec import ColKind, SheetSpec, WorkbookSpec
from ftap_pipeline.io.excel_writer import write_workbook
from tests import builders as b
from tests.conftest import INPUTS, soffice

pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")]


def convert(files: list[Path], fmt: str, outdir: Path) -> list[Path]:
    """Convert with LibreOffice, in one process, with a profile of its own (tests run in parallel)."""
    profile = outdir / "lo-profile"
    subprocess.run([str(soffice()), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                    "--outdir", str(outdir), *map(str, files)], check=True, capture_output=True, timeout=240)
    return [outdir / f"{f.stem}.{fmt.split(':')[0]}" for f in files]


def _ftap_totals(assessment: object) -> tuple[float, float, list[tuple[str, int, int, int]]]:
    cons = assessment.frames["consommation"]  # type: ignore[attr-defined]
    kept = cons[~cons["_rejected"] & (cons["financeur"] == "FTAP")]
    counts = [(r.status, r.lines_read, r.lines_kept, r.lines_rejected) for r in assessment.records]  # type: ignore[attr-defined]
    return round(float(kept["ae"].sum()), 2), round(float(kept["cp"].sum()), 2), counts


@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_returns_resaved_by_libreoffice_give_the_same_figures(tmp_path: Path, fmt: str) -> None:
    sources = [INPUTS / "remontees" / "AP-2024-01_2025-T2.xlsx", INPUTS / "remontees" / "AP-2023-03_2025-T2.xlsx"]
    for src in sources:
        shutil.copy(src, tmp_path / src.name)
    converted = convert([tmp_path / s.name for s in sources], fmt, tmp_path / "out")
    for original, other in zip(sources, converted, strict=True):
        assert other.exists()
        assert _ftap_totals(b.assess_files([other])) == _ftap_totals(b.assess_files([original]))


def test_messy_return_typed_in_libreoffice(tmp_path: Path) -> None:
    """Text amounts with French separators, text dates and shuffled Projet fields, saved by LibreOffice."""
    tabs = b.tables()
    tabs["consommation"][0].update(ae="200 000,00 €", cp="80.000,00", date_ej="01/03/2024")
    proj = b.projet(date_situation="30/06/2025", concert_etat="non", numerique="OUI")
    path = b.write(tmp_path, "messy.xlsx", proj, tabs)
    ods = convert([path], "ods", tmp_path / "out")[0]
    a = b.assess_files([ods])
    assert a.records[0].status == enums.RETENUE
    assert _ftap_totals(a)[:2] == (200000.0, 180000.0)


def test_consolidated_workbook_opens_in_libreoffice(demo_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "suivi.xlsx"
    shutil.copy(demo_run / "FTAP_suivi_2025-T2.xlsx", source)
    ods = convert([source], "ods", tmp_path / "out")[0]
    wb = python_calamine.CalamineWorkbook.from_path(str(ods))
    assert "Suivi AE-CP" in wb.sheet_names
    assert "Anomalies" in wb.sheet_names
    rows = wb.get_sheet_by_name("Suivi AE-CP").to_python()
    header = next(i for i, r in enumerate(rows) if r[:2] == ["Année", "Catégorie"])
    first = rows[header + 1]
    assert first[0] == 2023
    assert first[1] == "Cadrage"
    assert first[3] == 600000


def pdf_pages(pdf: Path) -> int:
    """Page objects of a PDF (`/Type /Page`, not `/Pages`): LibreOffice writes them uncompressed."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf.read_bytes()))


def _consolidated_spec(tmp_path: Path) -> WorkbookSpec:
    from ftap_pipeline.core.period import Period
    from ftap_pipeline.pipeline import RunConfig, build, ingest

    config = RunConfig.quarterly(INPUTS, tmp_path / "sorties", Period.parse("2025-T2"))
    return build(ingest(config), config).report.workbook


def test_consolidated_workbook_prints_on_few_pages(demo_run: Path, tmp_path: Path) -> None:
    """A4 landscape, one page wide: 14 pages measured for the 12 sheets of the 2025-T2 demo (57 before the
    print set-up). The bound leaves room for the report to grow, not for a sheet to spill sideways again."""
    source = tmp_path / "suivi.xlsx"
    shutil.copy(demo_run / "FTAP_suivi_2025-T2.xlsx", source)
    pdf = convert([source], "pdf", tmp_path / "out")[0]
    sheets = python_calamine.CalamineWorkbook.from_path(str(source)).sheet_names
    assert len(sheets) <= pdf_pages(pdf) <= 25


def test_the_synthese_prints_on_one_page(tmp_path: Path) -> None:
    """The demo's Synthèse, and a sheet far too long for a page, which prints on one only when it is `one_page`."""
    spec = _consolidated_spec(tmp_path)
    one_page = tuple(s for s in spec.sheets if s.one_page)
    assert [s.name for s in one_page] == ["Synthèse"]
    long_facts = tuple((f"Ligne {i}", i, ColKind.INT) for i in range(150))
    sources = [tmp_path / "synthese.xlsx", tmp_path / "longue.xlsx", tmp_path / "longue-libre.xlsx"]
    write_workbook(replace(spec, sheets=one_page), sources[0])
    for source, fit in zip(sources[1:], (True, False), strict=True):
        write_workbook(WorkbookSpec("Longue", (SheetSpec("Longue", facts=long_facts, one_page=fit),)), source)
    synthese, long_one_page, long_free = (pdf_pages(p) for p in convert(sources, "pdf", tmp_path / "out"))
    assert (synthese, long_one_page) == (1, 1)
    assert long_free > 1
