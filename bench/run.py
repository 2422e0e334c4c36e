"""Benchmark of the ingestion path, reported as ratios against baselines run in the same process.

    .venv/bin/python bench/run.py [--copies N] [--repeat R]

Shared, noisy machines make absolute seconds meaningless from one run to the next; ratios against a
floor measured in the same process, on the same files, at the same moment, are what to compare:
- read: our isolated reading (worker processes, OOXML side facts) against a bare python-calamine loop;
- assess: parsing, pandera validation and selection of all returns, against the same floor;
- pandera: one validation of the concatenated lines against one validation per return (why we concatenate);
- check: `ftap check` on one return, start-up included, against `python -c "import pandas, pandera"`;
- prefect: the whole report through the Prefect flow against the same report without Prefect (`pipeline.run`),
  once the temporary server is up, at the demo's size and at `--copies` times it: the tasks hand each other
  keys, not frames, so the overhead must stay flat as returns grow (`--no-prefect` skips it).
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
    parser.add_argument("--no-prefect", action="store_true", help="skip the measure of Prefect's overhead")
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

    per_return = [(p.file, p.tables["consommation"]) for p in assessment.parsed if "consommation" in p.tables]
    frames = [typed_frame([t], layout.CONSOMMATION) for t in per_return if len(t[1])]
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

    lines = sum(len(t) for _, t in per_return)
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
          f"imports {imports:.3f} s ; médiane des lignes par remontée {statistics.median(len(t) for _, t in per_return):.0f}")
    if not args.no_prefect:
        prefect_overhead(demo, (1, args.copies), args.repeat)


def _inputs(folder: Path, returns: list[Path], copies: int) -> Path:
    """An inputs folder: the demo's référentiel and Chorus restitutions, its returns `copies` times."""
    shutil.copytree(ROOT / "inputs" / "reference", folder / "reference")
    shutil.copytree(ROOT / "inputs" / "chorus", folder / "chorus")
    (folder / "remontees").mkdir()
    for k in range(copies):
        for p in returns:
            shutil.copy(p, folder / "remontees" / f"{k:03d}-{p.name}")
    return folder


def prefect_overhead(returns: list[Path], sizes: tuple[int, ...], repeat: int) -> None:
    """Seconds the flow adds to the same report without Prefect, beyond the temporary server's start."""
    import logging
    import os

    work = Path(tempfile.mkdtemp(prefix="ftap-bench-prefect-"))
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect"))
    from flows.server import local_defaults, run_settings

    local_defaults()
    from flows.rapport_trimestriel import rapport_trimestriel
    from ftap_pipeline import launch, pipeline
    from ftap_pipeline.settings import Settings

    logging.getLogger("ftap").propagate = False  # the pipeline's progress lines would drown the figures
    print(f"\n{'surcoût de Prefect (serveur démarré)':<44}{'remontées':>10}{'sans':>9}{'avec':>9}{'surcoût':>9}")
    for copies in sizes:
        inputs = _inputs(work / f"inputs-{copies}", returns, copies)
        outputs = work / f"outputs-{copies}"
        config = launch.quarterly_config(Settings(None, None, None), inputs, outputs, "2025-T2", False)

        def flow_run(inputs: Path = inputs, outputs: Path = outputs) -> None:
            rapport_trimestriel(str(inputs), str(outputs), "2025-T2", send=False)

        with run_settings(temporary_server=True):  # as `ftap run` does
            started = time.perf_counter()
            flow_run()  # starts the temporary server (first size only) and warms the imports
            warm_up = time.perf_counter() - started
            plain = best_of(repeat, lambda config=config: pipeline.run(config))  # type: ignore[misc]
            with_prefect = best_of(repeat, flow_run)
        print(f"{'':<44}{copies * len(returns):>10}{plain:>9.2f}{with_prefect:>9.2f}{with_prefect - plain:>9.2f}"
              f"   (premier passage : {warm_up:.1f} s)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
