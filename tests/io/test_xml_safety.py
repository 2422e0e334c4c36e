"""defusedxml is checked at start-up: without it (or with openpyxl told not to use it) no command reads a file.

The missing module is the real missing-module path: `sys.modules["defusedxml"] = None` makes its import raise
`ImportError`, in a fresh interpreter, before the check runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftap_pipeline.io.xml_safety import INSTALL, xml_safety_problem

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env}, check=False)


BLOCK = "import sys; sys.modules['defusedxml'] = None; "


def test_the_installed_parsers_are_safe() -> None:
    assert xml_safety_problem() is None


def test_a_missing_defusedxml_is_said_with_the_install_line() -> None:
    done = _python(BLOCK + "from ftap_pipeline.io.xml_safety import xml_safety_problem; print(xml_safety_problem())")
    assert done.returncode == 0, done.stderr
    assert "Le module defusedxml est absent" in done.stdout
    assert INSTALL in done.stdout


def test_openpyxl_told_not_to_use_defusedxml_is_refused() -> None:
    done = _python("from ftap_pipeline.io.xml_safety import xml_safety_problem; print(xml_safety_problem())",
                   OPENPYXL_DEFUSEDXML="False")
    assert "OPENPYXL_DEFUSEDXML" in done.stdout


def test_openpyxl_loaded_before_the_check_is_judged_by_its_own_flag() -> None:
    done = _python("import openpyxl; from ftap_pipeline.io.xml_safety import xml_safety_problem; "
                   "print(xml_safety_problem())", OPENPYXL_DEFUSEDXML="False")
    assert "OPENPYXL_DEFUSEDXML" in done.stdout


def test_the_check_does_not_load_openpyxl() -> None:
    """A quarter of a second of `ftap check`, for a library neither `check` nor `run` uses."""
    done = _python("import sys; from ftap_pipeline.io.xml_safety import xml_safety_problem; "
                   "print(xml_safety_problem(), 'openpyxl' in sys.modules)")
    assert done.stdout.split() == ["None", "False"], done.stderr


@pytest.mark.parametrize("command", [["check", "remontee.xlsx"], ["run", "--period", "2025-T2"],
                                     ["comite", "--date", "2025-06-30"]])
def test_every_command_that_reads_a_file_refuses_to_start(tmp_path: Path, command: list[str]) -> None:
    done = _python(BLOCK + f"from ftap_pipeline.cli import main; sys.exit(main({command!r}))")
    assert done.returncode == 2, done.stderr
    assert "Le module defusedxml est absent" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_commands_that_read_nothing_still_start() -> None:
    done = _python(BLOCK + "from ftap_pipeline.cli import main; sys.exit(main(['--help']))")
    assert done.returncode == 0
