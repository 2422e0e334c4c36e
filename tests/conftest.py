"""Shared fixtures: the demo run (once per session) and the golden-file switch."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"
GOLDEN = Path(__file__).resolve().parent / "golden"
#: Real workbooks from other projects' test suites, none in our format (the shared folder beside the clone).
CORPUS = ROOT.parent / "shared" / "corpus" / "real-world"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true", default=False,
                     help="rewrite the golden workbooks from the current code instead of comparing with them")


def pytest_report_header(config: pytest.Config) -> str:
    """Say how the readers' workers start: `FTAP_START_METHOD=spawn` runs the suite as on Windows and macOS."""
    from ftap_pipeline.io.isolation import START_METHOD_ENV, start_method

    return f"ftap readers' workers: {start_method()} (set {START_METHOD_ENV} to force a start method)"


@pytest.fixture(scope="session")
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden"))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The quarterly run of 2025-T2 on the committed demo inputs, through the pipeline's stages."""
    from ftap_pipeline.core.period import Period
    from ftap_pipeline.pipeline import RunConfig, run_report

    out = tmp_path_factory.mktemp("demo-run")
    run_report(RunConfig.quarterly(INPUTS, out, Period.parse("2025-T2")))
    yield out / "2025-T2"
    shutil.rmtree(out, ignore_errors=True)


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")
