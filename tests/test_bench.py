"""The benchmark's fast subset: `bench/scale.py` end to end on a handful of generated returns, so that the
command the README documents keeps working and its measures count the same lines (the 1,000- and
10,000-return runs are documented commands, not CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

@pytest.mark.slow
def test_the_benchmark_measures_every_peer_on_the_same_lines_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "scale-{n}.json"
    done = subprocess.run([sys.executable, "bench/scale.py", "--sizes", "6", "--repeat", "1", "--skip-overhead",
                           "--naive-per-sheet", "--data", str(tmp_path / "data"), "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
                          env={**_environment(), "PREFECT_HOME": str(tmp_path / "prefect-home")})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads((tmp_path / "scale-6.json").read_text(encoding="utf-8"))
    size = figures["size"]
    lines = size["lines"]
    assert lines["a"] == lines["b"] == lines["c"] == lines["c_sheets"] > 0  # every peer read the same lines
    assert sum(size["statuses"].values()) == 6
    assert size["statuses"] == size["set_info"]["expected_statuses"]
    for peer in ("a", "a_plain", "a_fixed", "b", "c", "c_sheets"):
        assert size[peer]["best_s"] > 0
    assert size["ratios"]["a/b"] == pytest.approx(size["a"]["best_s"] / size["b"]["best_s"])
    assert {t["cible"].split(" ")[0] for t in figures["targets"]} >= {"(a)/(b)", "(c)/(a)", "ftap"}
    assert "Cibles :" in done.stdout


def _environment() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}


def test_demo_sized_sets_split_each_expense_item_over_one_ej() -> None:
    """`--max-split 1` gives the demo's small sheets (one EJ an expense item: far fewer EJs for as many
    returns), kept in a folder of their own."""
    sys.path.insert(0, str(ROOT))
    from bench.generate_returns import MAX_SPLIT, portfolio, set_name

    small, small_files, _ = portfolio(40, 349, max_split=1)
    large, large_files, _ = portfolio(40, 349)
    assert sum(map(len, small_files)) == sum(map(len, large_files)) == 40
    assert sum(len(p.ejs) for p in small) * 2 < sum(len(p.ejs) for p in large)
    assert (set_name(40, 349), set_name(40, 349, 1), set_name(40, 349, MAX_SPLIT)) == ("40-349", "40-349-split1", "40-349")


def test_results_of_another_sheet_size_go_to_a_file_of_their_own() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.generate_returns import MAX_SPLIT
    from bench.scale import default_json_name

    assert default_json_name(MAX_SPLIT) == "scale-{n}.json"
    assert default_json_name(1) == "scale-{n}-split1.json"
    assert default_json_name(60).format(n=1000) == "scale-1000-split60.json"
