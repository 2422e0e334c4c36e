"""`ftap check` reads its files in workers started before pandas is imported, and judges them as before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ftap_pipeline.check import check_files, render_json
from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.io.check_reads import start_check_reads

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "inputs"
REFERENTIEL = INPUTS / "reference" / "referentiel.xlsx"

PROBE = """
import json, sys
from pathlib import Path
from ftap_pipeline.io.check_reads import start_check_reads
reads = start_check_reads([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]))
heavy = sorted(m for m in ("pandas", "numpy", "pandera") if m in sys.modules)
from ftap_pipeline.check import check_started, render_json
print(json.dumps({"heavy": heavy, "result": json.loads(render_json(check_started(reads)))}))
"""


def test_the_reading_starts_without_pandas_and_gives_the_same_verdict() -> None:
    files = sorted((INPUTS / "remontees").glob("AP-2023-01_*.xlsx"))[-2:]
    done = subprocess.run([sys.executable, "-c", PROBE, str(REFERENTIEL), *map(str, files)], capture_output=True,
                          text=True, check=True, cwd=ROOT, timeout=300)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["heavy"] == []
    assert seen["result"] == json.loads(render_json(check_files(files, REFERENTIEL)))
    assert [f["fichier"] for f in seen["result"]["fichiers"]] == [f.name for f in files]


def test_a_missing_referentiel_is_said_before_any_reading(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        start_check_reads([INPUTS / "remontees" / "AP-2023-01_2025-T2.xlsx"], tmp_path / "absent.xlsx")
    assert raised.value.slug == "referentiel-missing"


def test_a_referentiel_that_is_not_a_workbook_is_the_referentiel_error(tmp_path: Path) -> None:
    bad = tmp_path / "referentiel.xlsx"
    bad.write_bytes(b"pas un classeur")
    with pytest.raises(InputError) as raised:
        check_files([INPUTS / "remontees" / "AP-2023-01_2025-T2.xlsx"], bad)
    assert raised.value.slug == "referentiel-unreadable"
    assert raised.value.message.startswith("Référentiel illisible (referentiel.xlsx) : ")
