"""`ftap check` imports neither Dask's dataframes nor hypothesis, and leaves both importable afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RETURN = ROOT / "inputs" / "remontees" / "AP-2025-02_2025-T2.xlsx"

PROBE = """
import contextlib, io, json, sys
from ftap_pipeline import cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = cli.main(["check", "--format", "json", sys.argv[1]])
loaded_during = sorted(m for m in ("dask.dataframe", "hypothesis") if sys.modules.get(m) is not None)
import importlib.util
import dask.dataframe, hypothesis  # the block is lifted: both import as usual afterwards
print(json.dumps({"code": code, "loaded": loaded_during, "files": len(json.loads(out.getvalue())["fichiers"])}))
"""


@pytest.mark.skipif(not RETURN.is_file(), reason="les entrées de démonstration sont absentes")
def test_check_leaves_optional_backends_unimported_then_importable() -> None:
    pytest.importorskip("dask.dataframe")
    done = subprocess.run([sys.executable, "-c", PROBE, str(RETURN)], capture_output=True, text=True, check=True,
                          cwd=ROOT)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"code": seen["code"], "loaded": [], "files": 1}
    assert seen["code"] in (0, 1)
