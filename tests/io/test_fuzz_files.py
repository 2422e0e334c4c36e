"""Mutation fuzzing of real return files: structural changes saved by openpyxl, and damaged bytes of an
`.xlsx`, an `.ods` and an `.xls`, each through the real reading (workers, isolation) and assessment.

Whatever the file, nothing escapes, every file gets a status, a rejection has a French reason, and every line
read is kept or rejected exactly once. The fast subset (a fixed set of cases) runs in CI; the long run draws
new cases: `FTAP_FUZZ_EXAMPLES=1000 .venv/bin/pytest -p no:cacheprovider -s tests/io/test_fuzz_files.py`.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.assess import assess_parsed
from ftap_pipeline.io.intake import parse_returns
from tests import builders as b
from tests import fuzz_support as fz
from tests.conftest import soffice

#: Cases across the module: 200 in CI (with a fixed seed), `FTAP_FUZZ_EXAMPLES=1000` or more for the long run.
CASES = int(os.environ.get("FTAP_FUZZ_EXAMPLES", "200"))
LONG_RUN = "FTAP_FUZZ_EXAMPLES" in os.environ
#: Files per `parse_returns` call: the workers start once for all of them.
BATCH = 20
#: Share of the cases: structural changes, then damaged bytes of each format.
SHARES = {"structure": 0.4, "xlsx": 0.2, "ods": 0.2, "xls": 0.2}
SEED_LINES = 9


def _settings(share: str) -> settings:
    # No shrinking: each failing file of a batch is saved as it is, and shrinking a batch costs minutes.
    return settings(max_examples=max(1, round(CASES * SHARES[share] / BATCH)), deadline=None,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    derandomize=not LONG_RUN,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def tally() -> Iterator[Counter[str]]:
    """Count the cases and their statuses, printed at the end (with `-s`) for the long run's report."""
    yield TALLY
    print(f"\nfuzz: {sum(v for k, v in TALLY.items() if k.startswith('cases '))} cases; {dict(sorted(TALLY.items()))}")


@pytest.fixture(scope="session")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The valid return as `.xlsx`, and as LibreOffice saves it in `.ods` and `.xls` (converted once a session)."""
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    xlsx = b.write(folder, "seed.xlsx")
    out = {"xlsx": xlsx}
    if soffice() is not None:
        for fmt in ("ods", "xls"):
            (out[fmt],) = fz.convert([xlsx], fmt, folder / fmt)
    return out


@pytest.fixture(scope="module")
def referentiel() -> Referentiel:
    return b.referentiel()


def _check(cases: list[fz.Case], referentiel: Referentiel, family: str) -> None:
    problems = fz.run_cases(cases, referentiel, TALLY)
    TALLY[f"cases {family}"] += len(cases)
    assert not problems, "\n".join(problems)


@settings(_settings("structure"))
@given(plans=st.lists(fz.STRUCTURAL_PLANS, min_size=BATCH, max_size=BATCH))
def test_structural_mutations_never_escape_and_conserve_lines(
        seeds: dict[str, Path], referentiel: Referentiel, tmp_path_factory: pytest.TempPathFactory,
        plans: list[list[fz.Plan]]) -> None:
    folder = tmp_path_factory.mktemp("fuzz-structure")
    cases = []
    for i, plan in enumerate(plans):
        path = folder / f"case{i:03d}.xlsx"
        expected = fz.structural_case(seeds["xlsx"], plan, path)
        cases.append(fz.Case(path, repr(plan), expected))
    _check(cases, referentiel, "structure")
    shutil.rmtree(folder, ignore_errors=True)


def _byte_cases(seed: Path, plans: list[tuple[fz.Plan, list[fz.Plan]]], folder: Path) -> list[fz.Case]:
    data = seed.read_bytes()
    cases = []
    for i, plan in enumerate(plans):
        path = folder / f"case{i:03d}{seed.suffix}"
        path.write_bytes(fz.mutate_file(data, plan))
        cases.append(fz.Case(path, f"{seed.suffix} {plan!r}"))
    return cases


@pytest.mark.parametrize("fmt", ["xlsx", pytest.param("ods", marks=pytest.mark.libreoffice),
                                 pytest.param("xls", marks=pytest.mark.libreoffice)])
def test_damaged_bytes_never_escape_and_conserve_lines(
        seeds: dict[str, Path], referentiel: Referentiel, tmp_path_factory: pytest.TempPathFactory, fmt: str) -> None:
    if fmt not in seeds:
        pytest.skip("LibreOffice (soffice) is not installed: no .ods or .xls seed")

    @settings(_settings(fmt))
    @given(plans=st.lists(fz.BYTE_PLANS, min_size=BATCH, max_size=BATCH))
    def damaged(plans: list[tuple[fz.Plan, list[fz.Plan]]]) -> None:
        folder = tmp_path_factory.mktemp(f"fuzz-{fmt}")
        _check(_byte_cases(seeds[fmt], plans, folder), referentiel, fmt)
        shutil.rmtree(folder, ignore_errors=True)

    damaged()


# --- The fuzzing is not vacuous -------------------------------------------------------------------------------

def test_every_seed_reads_as_the_valid_return(seeds: dict[str, Path], referentiel: Referentiel) -> None:
    """Unmutated, each seed reads its 9 lines and is kept without a finding: what the mutations start from."""
    parsed = parse_returns(list(seeds.values()), workers=2)
    assert len(parsed) == len(seeds)
    for p in parsed:
        (record,) = assess_parsed([p], referentiel, fz.CUTOFF).records
        assert (record.status, record.lines_read, record.lines_kept, record.findings) == (
            enums.RETENUE, SEED_LINES, SEED_LINES, ()), p.file


def test_the_checks_catch_a_lost_line(seeds: dict[str, Path], referentiel: Referentiel, tmp_path: Path) -> None:
    """A file that reads one line fewer than it holds is reported, and kept under the findings folder."""
    path = tmp_path / "lost.xlsx"
    shutil.copy(seeds["xlsx"], path)
    problems = fz.run_cases([fz.Case(path, "none", SEED_LINES + 1)], referentiel, findings=tmp_path / "found")
    assert len(problems) == 1
    assert "lines read 9 (+0 total rows) != 10 lines in the file" in problems[0]
    (saved,) = (tmp_path / "found").glob("*.xlsx")
    assert saved.read_bytes() == path.read_bytes()
    assert (tmp_path / "found" / "README").read_text(encoding="utf-8") == (
        f"{saved.name}: lines read 9 (+0 total rows) != 10 lines in the file (plan none)\n")


def test_structural_plans_count_the_lines_they_leave(seeds: dict[str, Path], tmp_path: Path) -> None:
    """The expected count follows deleted and inserted rows, and gives up where the change makes it unknowable."""
    wb = openpyxl.load_workbook(seeds["xlsx"])
    index = wb.sheetnames.index("Consommation")
    assert fz.apply_structural(wb, [("insert-row", index, 2), ("delete-row", index, 4)]) == SEED_LINES - 1
    wb = openpyxl.load_workbook(seeds["xlsx"])
    assert fz.apply_structural(wb, [("delete-row", index, 0)]) is None  # the header itself
    wb = openpyxl.load_workbook(seeds["xlsx"])
    assert fz.apply_structural(wb, [("twin-sheet", index, ("same", "padded"), "hidden", True)]) == SEED_LINES
    assert wb.sheetnames[-1] == "  Consommation "
    wb = openpyxl.load_workbook(seeds["xlsx"])
    assert fz.apply_structural(wb, [("twin-sheet", index, ("same", "padded"), "visible", False)]) is None
    wb = openpyxl.load_workbook(seeds["xlsx"])
    assert fz.apply_structural(wb, [("rename-sheet", index, ("same", "upper"))]) == SEED_LINES
    assert wb.sheetnames[index] == "CONSOMMATION"


def test_byte_mutations_change_the_bytes_where_they_say(seeds: dict[str, Path]) -> None:
    data = seeds["xlsx"].read_bytes()
    assert fz.mutate_file(data, (("raw",), [("truncate", 100)])) == data[:100]
    flipped = fz.mutate_file(data, (("raw",), [("flip", [(10, 0)])]))
    assert [i for i, (x, y) in enumerate(zip(data, flipped, strict=True)) if x != y] == [10]
    entries = fz.xml_entries(data)
    rezipped = fz.mutate_file(data, (("entry", entries.index("xl/workbook.xml")), [("truncate", 50)]))
    import io
    import zipfile
    with zipfile.ZipFile(io.BytesIO(rezipped)) as zf, zipfile.ZipFile(io.BytesIO(data)) as original:
        assert zf.namelist() == original.namelist()
        assert zf.read("xl/workbook.xml") == original.read("xl/workbook.xml")[:50]
        assert zf.read("xl/styles.xml") == original.read("xl/styles.xml")
