"""Demo returns re-saved by headless LibreOffice as `.xlsx`, `.ods` and `.xls` give the same figures.

A porteur may open the return in LibreOffice and save it in any of its formats. Each conversion is read and
assessed as the run does (`parse_returns` in the workers, then `assess_parsed`) and must give the original's
status, line counts, every typed value (amounts to the cent), and the same findings at the same cells.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pandas as pd
import pytest
from openpyxl.workbook.workbook import Workbook

from ftap_pipeline.contract import enums, layout
from ftap_pipeline.contract.model import ParsedReturn
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.assess import assess_parsed
from ftap_pipeline.io.intake import parse_returns
from ftap_pipeline.io.referentiel_reader import read_referentiel
from tests import builders as b
from tests.conftest import INPUTS, soffice
from tests.fuzz_support import convert

pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")]

#: A representative subset of the demo returns, by what the run makes of them.
RETURNS = {
    "AP-2024-01_2025-T2.xlsx": enums.RETENUE,  # good, no finding
    "AP-2023-01_2025-T2.xlsx": enums.RETENUE,
    "2025-T2_CERT-Nantes_AP-2024-06.xlsx": enums.RETENUE,  # warnings: cost cap, ROI
    "DDFiP33_remontee_FTAP_2025-T2.xlsx": enums.RETENUE,  # warnings on cells: gaps without explanation
    "AP-2024-04_2025-T2.xlsx": enums.RETENUE,  # warning: date of the cadrage
    "AP-2023-03_2025-T2.xlsx": enums.RETENUE_AVEC_ANOMALIES,  # blocking lines: duplicate, format, list, type
    "AP-2025-30_2025-T2.xlsx": enums.REJETEE,  # a project the référentiel does not know
}
FORMATS = ("xlsx", "ods", "xls")
CUTOFF = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """The originals, and their conversions: one LibreOffice call per format for all of them."""
    folder = tmp_path_factory.mktemp("resave")
    originals = []
    for name in RETURNS:
        shutil.copy(INPUTS / "remontees" / name, folder / name)
        originals.append(folder / name)
    out = {"original": originals}
    for fmt in FORMATS:
        out[fmt] = convert(originals, fmt, folder / fmt)
    return out


#: The first bytes of each format as LibreOffice writes it: a zip (OOXML, ODF) or an OLE compound file.
MAGIC = {"xlsx": b"PK\x03\x04", "ods": b"PK\x03\x04", "xls": bytes.fromhex("d0cf11e0a1b11ae1")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_libreoffice_wrote_each_conversion(converted: dict[str, list[Path]], fmt: str) -> None:
    """Each conversion is a new file of its format, not the original under another name."""
    for original, resaved in zip(converted["original"], converted[fmt], strict=True):
        data = resaved.read_bytes()
        assert data.startswith(MAGIC[fmt]), resaved.name
        assert data != original.read_bytes(), resaved.name
    if fmt == "ods":
        assert b"application/vnd.oasis.opendocument.spreadsheet" in converted[fmt][0].read_bytes()[:100]


@pytest.fixture(scope="module")
def referentiel() -> Referentiel:
    return read_referentiel(INPUTS / "reference" / "referentiel.xlsx")


def _cents(value: object) -> object:
    """A value as compared: a number to the cent (floats through text, so 0.1 + 0.2 compares as 0.30)."""
    if isinstance(value, float) and not pd.isna(value):
        return Decimal(repr(value)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


def _outcome(parsed: ParsedReturn, referentiel: Referentiel) -> dict[str, object]:
    """What the run makes of one return, with nothing that names its file or its bytes."""
    assessment = assess_parsed([parsed], referentiel, CUTOFF)
    (record,) = assessment.records
    lines = {spec.key: [(row, {k: _cents(v[i]) for k, v in parsed.tables[spec.key].values.items()})
                        for i, row in enumerate(parsed.tables[spec.key].rows)]
             for spec in layout.SHEETS if spec.key in parsed.tables}
    kept = {}
    for spec in layout.SHEETS:
        if spec.is_form:
            continue
        frame = assessment.frames[spec.key]
        mine = frame[~frame["_rejected"].astype(bool)]
        kept[spec.key] = {col: _cents(float(mine[col].sum())) for col in mine.columns
                          if col in {f.key for f in spec.fields} and pd.api.types.is_float_dtype(mine[col])}
    return {
        "status": record.status,
        "lines": (record.lines_read, record.lines_kept, record.lines_rejected),
        "projet": {k: _cents(v) for k, v in vars(parsed.projet).items()},
        "typed lines": lines,
        "sums of kept lines": kept,
        "findings": sorted((f.slug, f.sheet, f.cell, f.value) for f in record.findings),
        "content key": parsed.content_key,
    }


@pytest.fixture(scope="module")
def outcomes(converted: dict[str, list[Path]], referentiel: Referentiel) -> dict[str, list[dict[str, object]]]:
    every = [p for paths in converted.values() for p in paths]
    parsed = iter(parse_returns(every, workers=2))
    return {kind: [_outcome(next(parsed), referentiel) for _ in paths] for kind, paths in converted.items()}


def test_the_originals_are_what_the_subset_says(outcomes: dict[str, list[dict[str, object]]]) -> None:
    assert [o["status"] for o in outcomes["original"]] == list(RETURNS.values())
    assert any(o["findings"] and o["status"] == enums.RETENUE for o in outcomes["original"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_return_resaved_by_libreoffice_gives_the_same_figures(
        outcomes: dict[str, list[dict[str, object]]], fmt: str) -> None:
    for name, original, resaved in zip(RETURNS, outcomes["original"], outcomes[fmt], strict=True):
        for key in original:
            assert resaved[key] == original[key], f"{name} saved as .{fmt}: {key}"


def test_formulas_read_alike_once_libreoffice_has_computed_them(tmp_path: Path) -> None:
    """Where the formats legitimately differ from the original: openpyxl saves formulas without their values,
    which the run refuses (`formula-without-value`); LibreOffice computes them on opening and saves the results,
    so each conversion reads the computed values, and a formula that fails is an `error-cell` in all three
    formats (the legacy `.xls` included: its error cells are found too)."""
    original = b.write(tmp_path, "formules.xlsx")

    def type_formulas(wb: Workbook) -> None:
        ws = wb["Consommation"]
        ws["L2"] = "=1/0"
        ws["M3"] = "=SUM(40000,60000)"
        ws["C2"] = "=DATE(2024,3,1)"

    b.edit_workbook(original, type_formulas)
    files = [original] + [convert([original], fmt, tmp_path / fmt)[0] for fmt in FORMATS]
    seen = []
    for parsed in parse_returns(files, workers=2):
        (record,) = assess_parsed([parsed], b.referentiel(), CUTOFF).records
        consommation = parsed.tables["consommation"].values
        seen.append((record.status, record.lines_rejected, sorted((f.slug, f.cell) for f in record.findings),
                     consommation["ae"][0], consommation["cp"][1], consommation["date_ej"][0]))
    assert seen[0] == (enums.RETENUE_AVEC_ANOMALIES, 2, [("formula-without-value", "Consommation!C2"),
                                                         ("formula-without-value", "Consommation!L2"),
                                                         ("formula-without-value", "Consommation!M3")],
                       None, None, None)
    computed = (enums.RETENUE_AVEC_ANOMALIES, 1, [("error-cell", "Consommation!L2")], None, 100000.0,
                dt.date(2024, 3, 1))
    assert seen[1:] == [computed] * len(FORMATS)
