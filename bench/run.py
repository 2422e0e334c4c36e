"""Benchmark of the ingestion path, reported as ratios against baselines run in the same process.

    .venv/bin/python bench/run.py [--copies N] [--repeat R]

Shared, noisy machines make absolute seconds meaningless from one run to the next; ratios against a
floor measured in the same process, on the same files, at the same moment, are what to compare:
- read: our isolated reading (worker processes, OOXML side facts) against a bare python-calamine loop;
- assess: parsing, pandera validation and selection of all returns, against the same floor;
- pandera: one validation of the concatenated lines against one validation per return (why we concatenate);
- check: `ftap check` on one return, start-up included, against `python -c "import pandas, pandera"`.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def floor_read(paths: list[Path]) -> None:
    import python_calamine as pc

    for p in paths:
        try:
            wb = pc.CalamineWorkbook.from_path(str(p))
        except pc.CalamineError:
            continue  # the demo's unreadable file
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python(skip_empty_area=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=4, help="times the demo returns are copied (default 4)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure; the best is kept")
    args = parser.parse_args()

    import pandera.pandas as pa

    from ftap_pipeline.contract import layout
    from ftap_pipeline.contract.schemas import ConsommationSchema
    from ftap_pipeline.core.assess import assess_returns
    from ftap_pipeline.core.normalise import typed_frame
    from ftap_pipeline.io.intake import discover, read_returns
    from ftap_pipeline.io.referentiel_reader import read_referentiel

    inbox = Path(tempfile.mkdtemp(prefix="ftap-bench-"))
    demo = discover(ROOT / "inputs" / "remontees")
    for k in range(args.copies):
        for p in demo:
            shutil.copy(p, inbox / f"{k:03d}-{p.name}")
    paths = discover(inbox)
    ref = read_referentiel(ROOT / "inputs" / "reference" / "referentiel.xlsx")

    floor = best_of(args.repeat, lambda: floor_read(paths))
    read = best_of(args.repeat, lambda: read_returns(paths, workers=2))
    items = read_returns(paths, workers=2)
    assess = best_of(args.repeat, lambda: assess_returns(items, ref, None))
    assessment = assess_returns(items, ref, None)

    per_return = [p.tables["consommation"] for p in assessment.parsed if "consommation" in p.tables]
    frames = [typed_frame([t], layout.CONSOMMATION) for t in per_return if not t.empty]
    whole = typed_frame(per_return, layout.CONSOMMATION)

    def validate(df: pd.DataFrame) -> None:
        with contextlib.suppress(pa.errors.SchemaErrors):
            ConsommationSchema.validate(df, lazy=True)

    def validate_each() -> None:
        for f in frames:
            validate(f)

    one_by_one = best_of(args.repeat, validate_each)
    concatenated = best_of(args.repeat, lambda: validate(whole))

    one_file = str(paths[0])
    check = best_of(args.repeat, lambda: subprocess.run([sys.executable, "-m", "ftap_pipeline", "check", one_file],
                                                        capture_output=True, check=False))
    imports = best_of(args.repeat, lambda: subprocess.run([sys.executable, "-c", "import pandas, pandera.pandas"],
                                                          capture_output=True, check=True))
    shutil.rmtree(inbox, ignore_errors=True)

    lines = sum(len(t) for t in per_return)
    print(f"{len(paths)} remontées, {lines} lignes de Consommation ; meilleur de {args.repeat} essais\n")
    print(f"{'mesure':<44}{'ratio':>8}{'secondes':>12}")
    rows = [
        ("lecture isolée / boucle calamine nue", read / floor, read),
        ("contrôle complet / boucle calamine nue", assess / floor, assess),
        ("pandera concaténé / pandera par remontée", concatenated / one_by_one, concatenated),
        ("ftap check (1 fichier) / import pandas+pandera", check / imports, check),
    ]
    for label, ratio, seconds in rows:
        print(f"{label:<44}{ratio:>8.2f}{seconds:>12.3f}")
    print(f"\nréférences : boucle calamine {floor:.3f} s, pandera par remontée {one_by_one:.3f} s, "
          f"imports {imports:.3f} s ; médiane des lignes par remontée {statistics.median(len(t) for t in per_return):.0f}")


if __name__ == "__main__":
    main()
