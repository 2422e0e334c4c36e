"""What `pip install ftap-pipeline` gives a porteur: `ftap check`, `ftap template` and `ftap demo`, without Prefect.

Prefect and its server stack come with the `orchestration` extra, for `ftap run` and `ftap comite` only;
the README's commands install everything from the lock. The slow test installs the project, with no
extra, into a fresh virtual environment from the package registries, as a porteur would."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from ftap_pipeline import cli
from tests import builders as b
from tests.conftest import INPUTS, ROOT
from tests.imports import imported_modules

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: Prefect and what only its server brings: none of it belongs in a porteur's install.
ORCHESTRATION_ONLY = {"prefect", "fastapi", "uvicorn", "sqlalchemy", "alembic", "httpx", "websockets", "prefect-dask",
                      "distributed", "dask", "pyarrow"}
#: A demo return with rejected lines and findings of every gravity.
DEMO_RETURN = INPUTS / "remontees" / "AP-2023-03_2025-T2.xlsx"


def _requirements(*groups: str) -> list[Requirement]:
    lists = {"": PYPROJECT["project"]["dependencies"], **PYPROJECT["project"]["optional-dependencies"]}
    return [Requirement(r) for g in groups for r in lists[g]]


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            pins[canonicalize_name(name.strip())] = version.split()[0].rstrip("\\").strip()
    return pins


# --- what is declared -----------------------------------------------------------------------------------


def test_a_plain_install_leaves_the_orchestration_out() -> None:
    assert not {canonicalize_name(r.name) for r in _requirements("")} & ORCHESTRATION_ONLY
    assert [r.name for r in _requirements("orchestration")] == ["prefect", "prefect-dask", "distributed", "pyarrow"]


def test_the_lock_pins_every_direct_dependency_within_its_range() -> None:
    """The README's commands install the lock: it must hold the orchestration and the tools too."""
    pins = _pins(ROOT / "requirements" / "lock.txt")
    for req in _requirements("", "orchestration", "dev"):
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is missing from requirements/lock.txt: run make lock"
        assert req.specifier.contains(pins[name], prereleases=True), f"{req.name}=={pins[name]} is outside {req}"
    assert "--extra orchestration --extra dev" in (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")


def test_the_floors_are_the_declared_lower_bounds() -> None:
    """`make test-floors` proves the lower bounds only if floors.txt holds each one (its first release, for
    a bound such as pandas-stubs>=2.2 that names none)."""
    floors = _pins(ROOT / "requirements" / "floors.txt")
    requirements = _requirements("", "orchestration", "dev")
    assert set(floors) == {canonicalize_name(r.name) for r in requirements}
    for req in requirements:
        (low,) = [Version(s.version) for s in req.specifier if s.operator == ">="]
        floor = Version(floors[canonicalize_name(req.name)])
        assert req.specifier.contains(floor), (req, floor)
        assert floor.release[:len(low.release)] == low.release, (req, floor)


# --- what is imported -----------------------------------------------------------------------------------


def test_only_the_flow_imports_prefect() -> None:
    """The package imports Prefect nowhere; the CLI reaches it through `flows/`, in `ftap run` only."""
    culprits = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "ftap_pipeline").rglob("*.py"))
                if any(m.split(".")[0] == "prefect" for m in imported_modules(p))]
    assert culprits == []
    cli_source = (ROOT / "ftap_pipeline" / "cli.py").read_text(encoding="utf-8")
    top_level = [n for n in ast.parse(cli_source).body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not [n for n in top_level if "flows" in ast.unparse(n)]


@pytest.mark.parametrize("command", ["template", "demo"])
def test_the_porteurs_commands_never_import_prefect(tmp_path: Path, command: str) -> None:
    code = ("import sys, contextlib, io\nfrom ftap_pipeline.cli import main\n"
            f"with contextlib.redirect_stderr(io.StringIO()):\n    code = main([{command!r}, {str(tmp_path / 'out')!r}])\n"
            "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'flows'}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert proc.stdout.strip() == "0 []"


@pytest.mark.parametrize("argv", [["run", "--period", "2025-T2"], ["comite", "--date", "2025-03-14"]])
def test_the_report_without_the_orchestration_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    monkeypatch.setattr(cli, "orchestration_missing", lambda: True)
    assert cli.main([*argv, "--inputs", str(tmp_path), "--outputs", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Rapport non produit : l'orchestrateur Prefect")
    assert 'pip install "ftap-pipeline[orchestration]"' in err
    assert not (tmp_path / "out").exists()


# --- a porteur's install --------------------------------------------------------------------------------


def _run(args: list[str | Path], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout,
                          check=False)


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


def _install_without_extras(work: Path) -> Path:
    """A fresh virtual environment with `pip install <the project>`, no extra, resolved from the registries
    (about 30 s here with pip's cache warm, a minute or two without)."""
    source = work / "ftap-pipeline"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("ftap_pipeline", "flows"):  # a copy: pip builds in the tree it is given
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = work / "venv"
    made = _run([sys.executable, "-m", "venv", venv], cwd=work)
    assert made.returncode == 0, made.stderr
    installed = _run([_bin(venv, "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", source],
                     cwd=work, timeout=900)
    assert installed.returncode == 0, f"pip install without extras failed:\n{installed.stderr[-4000:]}"
    return venv


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / (f"{name}.exe" if os.name == "nt" else name)


@pytest.mark.slow
def test_a_porteurs_plain_install(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One test, one install: the environment is too slow to make twice, once per xdist worker."""
    venv = _install_without_extras(tmp_path)
    _has_no_orchestrator(venv, tmp_path)
    _checks_a_return_as_the_full_install(venv, tmp_path, capsys)
    _writes_the_template(venv, tmp_path)
    _says_what_the_report_needs(venv, tmp_path)


def _has_no_orchestrator(venv: Path, cwd: Path) -> None:
    proc = _run([_bin(venv, "python"), "-c", "import prefect"], cwd=cwd)
    assert proc.returncode != 0
    assert "No module named 'prefect'" in proc.stderr
    listed = _run([_bin(venv, "python"), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
                  cwd=cwd)
    names = {canonicalize_name(p["name"]) for p in json.loads(listed.stdout)}
    assert "ftap-pipeline" in names
    assert not names & ORCHESTRATION_ONLY, names & ORCHESTRATION_ONLY
    print(f"{len(names)} paquets, {_size_mb(venv):.0f} Mo")  # shown with -s: the size of a porteur's install


def _checks_a_return_as_the_full_install(venv: Path, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Same verdict, same JSON, as the full install, through both entry points (`py -m ftap_pipeline` on Windows)."""
    capsys.readouterr()
    code = cli.main(["check", str(DEMO_RETURN), "--format", "json"])
    here: dict[str, Any] = json.loads(capsys.readouterr().out)
    as_json = _run([_bin(venv, "python"), "-m", "ftap_pipeline", "check", DEMO_RETURN, "--format", "json"], cwd=cwd)
    assert as_json.returncode == code, as_json.stderr
    assert json.loads(as_json.stdout) == here
    table = _run([_bin(venv, "ftap"), "check", DEMO_RETURN], cwd=cwd)
    assert table.returncode == code, table.stderr
    (f,) = here["fichiers"]
    assert (f"{f['fichier']} — {f['statut']} — lignes lues {f['lignes_lues']}, retenues {f['lignes_retenues']}, "
            f"rejetées {f['lignes_rejetees']}") in table.stdout


def _writes_the_template(venv: Path, cwd: Path) -> None:
    out = cwd / "modele.xlsx"
    proc = _run([_bin(venv, "ftap"), "template", out], cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert f"Modèle de remontée écrit : {out}" in proc.stderr
    wb = openpyxl.load_workbook(out)
    assert {"Instructions", "Projet", "Financement", "Consommation", "Économies", "Indicateurs"} <= set(wb.sheetnames)
    filled = b.write(cwd, "remplie.xlsx")
    checked = _run([_bin(venv, "ftap"), "check", filled], cwd=cwd)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _says_what_the_report_needs(venv: Path, cwd: Path) -> None:
    proc = _run([_bin(venv, "ftap"), "run", "--inputs", INPUTS, "--outputs", cwd / "out"], cwd=cwd)
    assert proc.returncode == 2, proc.stderr
    assert 'Installez-le avec : pip install "ftap-pipeline[orchestration]"' in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (cwd / "out").exists()
