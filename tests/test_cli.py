"""The `ftap` command line: exit codes, outputs, and `ftap check` giving the central run's verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from ftap_pipeline.cli import main
from tests import builders as b
from tests.conftest import INPUTS

REFERENTIEL = INPUTS / "reference" / "referentiel.xlsx"


def test_check_good_return_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = b.write(tmp_path, "ok.xlsx")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ok.xlsx — Retenue — lignes lues 9, retenues 9, rejetées 0" in out


def test_check_faulty_return_names_the_cells_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tabs = b.tables()
    tabs["consommation"][0]["ae"] = "deux cents"
    path = b.write(tmp_path, "ko.xlsx", tabs=tabs)
    assert main(["check", str(path), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    found = payload["fichiers"][0]
    assert found["statut"] == "Retenue avec anomalies"
    assert (found["lignes_lues"], found["lignes_retenues"], found["lignes_rejetees"]) == (9, 8, 1)
    blocking = [a for a in found["anomalies"] if a["gravite"] == "Bloquant"]
    assert [(a["cellule"], a["regle"], a["valeur_lue"]) for a in blocking] == [("Consommation!L2", "type-error",
                                                                                 "deux cents")]


def test_check_rejected_return_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = b.write(tmp_path, "inconnu.xlsx", proj=b.projet(project_id="AP-2024-99"))
    assert main(["check", str(path), "--referentiel", str(REFERENTIEL)]) == 1
    assert "unknown-project" in capsys.readouterr().out


def test_check_gives_the_central_runs_verdict(demo_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "AP-2023-03_2025-T2.xlsx"
    assert main(["check", str(INPUTS / "remontees" / name), "--referentiel", str(REFERENTIEL), "--format", "json"]) == 1
    mine = json.loads(capsys.readouterr().out)["fichiers"][0]
    wb = openpyxl.load_workbook(demo_run / "FTAP_suivi_2025-T2.xlsx")
    ws = wb["Anomalies"]
    top = ws[ws.tables["Anomalies"].ref.split(":")[0]].row
    header, *rows = list(ws.iter_rows(min_row=top, values_only=True))
    col = {h: i for i, h in enumerate(header)}
    central = sorted((r[col["Cellule"]], r[col["Règle"]], r[col["Message"]]) for r in rows
                     if r[col["Fichier"]] == name and r[col["Gravité"]] == "Bloquant")
    assert sorted((a["cellule"], a["regle"], a["message"]) for a in mine["anomalies"]
                  if a["gravite"] == "Bloquant") == central
    assert len(central) == 6


def test_check_missing_file_exits_2(tmp_path: Path) -> None:
    assert main(["check", str(tmp_path / "absent.xlsx")]) == 2


def test_check_missing_referentiel_exits_2_in_french(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = b.write(tmp_path, "ok.xlsx")
    assert main(["check", str(path), "--referentiel", str(tmp_path / "absent.xlsx")]) == 2
    assert "absent.xlsx" in capsys.readouterr().err


def test_check_called_in_a_process_that_goes_on_freezes_nothing(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Only the `ftap` command's own process, which ends with it, freezes objects out of the collector."""
    import gc

    frozen = gc.get_freeze_count()
    assert main(["check", str(b.write(tmp_path, "ok.xlsx"))]) == 0
    assert gc.get_freeze_count() == frozen
    assert gc.isenabled()


def test_the_command_gives_mains_answer(tmp_path: Path) -> None:
    """`python -m ftap_pipeline` (as the `ftap` script) ends with `main`'s code and output, freezing included."""
    path = b.write(tmp_path, "ok.xlsx")
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "check", str(path), "--format", "json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert [f["statut"] for f in json.loads(proc.stdout)["fichiers"]] == ["Retenue"]


def test_template_command(tmp_path: Path) -> None:
    out = tmp_path / "modele.xlsx"
    assert main(["template", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    assert {"Projet", "Financement", "Consommation", "Économies", "Indicateurs"} <= set(wb.sheetnames)


def test_run_without_referentiel_fails_with_a_french_message(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "run", "--inputs", str(tmp_path), "--outputs",
                           str(tmp_path / "out"), "--period", "2025-T2"], capture_output=True, text=True, cwd=tmp_path,
                          env={"PREFECT_HOME": str(tmp_path / "p"), "PATH": "/usr/bin:/bin"}, timeout=300, check=False)
    assert proc.returncode == 1  # no report could be produced (livraison-v1)
    assert "Référentiel introuvable" in proc.stderr


def test_bad_period_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--period", "2025-Q2"])
    assert info.value.code == 2
    assert "AAAA-Tn" in capsys.readouterr().err


def test_help_is_in_french() -> None:
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "check", "--help"], capture_output=True, text=True,
                          check=True)
    assert "vérifier" in proc.stdout.lower() or "contrôle" in proc.stdout.lower()
    assert "show this help" not in proc.stdout


def test_check_path_never_imports_prefect(tmp_path: Path) -> None:
    path = b.write(tmp_path, "ok.xlsx")
    code = ("import sys, contextlib, io\nfrom ftap_pipeline.cli import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n    main(['check', {str(path)!r}])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'xlsxwriter', 'smtplib')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_unexpected_error_gives_a_french_message_and_keeps_the_details(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fichier.txt").write_text("x")
    assert main(["template", str(tmp_path / "fichier.txt" / "modele.xlsx")]) == 3
    err = capsys.readouterr().err
    assert "Erreur inattendue" in err
    logs = list((tmp_path / ".state" / "erreurs").glob("ftap-template-*.log"))
    assert len(logs) == 1
    assert "Traceback" in logs[0].read_text(encoding="utf-8")


def test_output_redirected_in_a_legacy_encoding_is_still_utf8(tmp_path: Path) -> None:
    """Windows redirects in cp1252, which has no `→`: the command must not stop, and write UTF-8 anyway."""
    path = b.write(tmp_path, "remontee.xlsx")
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "check", str(path)], capture_output=True,
                          env={**os.environ, "PYTHONIOENCODING": "cp1252"}, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    text = proc.stdout.decode("utf-8")
    assert "→" in text
    assert "référentiel" in text


def test_template_never_overwrites_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "modele.xlsx"
    out.write_bytes(b"le fichier d'un porteur")
    assert main(["template", str(out)]) == 2
    assert f"{out} existe déjà : rien n'a été écrit" in capsys.readouterr().err
    assert out.read_bytes() == b"le fichier d'un porteur"
    assert main(["template", "--force", str(out)]) == 0
    assert out.read_bytes().startswith(b"PK")


def test_demo_never_writes_over_real_inputs_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "inputs" / "remontees" / "AP-2024-07_2025-T2.xlsx"
    real.parent.mkdir(parents=True)
    real.write_bytes(b"une vraie remontee")
    assert main(["demo", str(tmp_path / "inputs")]) == 2
    err = capsys.readouterr().err
    assert "contient déjà des entrées" in err
    assert "--force" in err
    assert sorted(p.name for p in real.parent.iterdir()) == [real.name]
    assert not (tmp_path / "inputs" / "reference").exists()
    assert main(["demo", str(tmp_path / "vide")]) == 0  # an empty or new folder needs no --force
    assert main(["demo", "--force", str(tmp_path / "vide")]) == 0


def test_run_on_a_missing_inputs_folder_names_it(tmp_path: Path) -> None:
    absent = tmp_path / "entrees-introuvables"
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "run", "--inputs", str(absent), "--outputs",
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path,
                          env={"PREFECT_HOME": str(tmp_path / "p"), "PATH": "/usr/bin:/bin"}, timeout=300, check=False)
    assert proc.returncode == 2
    assert f"Le dossier des entrées {absent} n'existe pas" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_run_warns_when_the_inputs_have_no_returns_or_chorus(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    (inputs / "reference").mkdir(parents=True)
    (inputs / "reference" / "referentiel.xlsx").write_bytes(REFERENTIEL.read_bytes())
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "run", "--inputs", str(inputs), "--outputs",
                           str(tmp_path / "out"), "--period", "2025-T2"], capture_output=True, text=True, cwd=tmp_path,
                          env={"PREFECT_HOME": str(tmp_path / "p"), "PATH": "/usr/bin:/bin"}, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "n'a pas de sous-dossier remontees/" in proc.stderr
    assert "n'a pas de sous-dossier chorus/" in proc.stderr
    assert (tmp_path / "out" / "2025-T2" / "FTAP_suivi_2025-T2.xlsx").is_file()
