"""Scale benchmark: `ftap run` end to end on N generated returns, beside a floor and a naive peer, in one run.

    .venv/bin/python bench/scale.py --sizes 100 1000 [--repeat 3] [--seed 349] [--data DIR] [--skip-naive]

On a shared, noisy machine a number of seconds means little from one day to the next; ratios between
measures taken in the same run, on the same files, interleaved (a, b, c, a, b, c…) so that a burst of
noise hits them alike, are what to compare, and what the targets are written in. The best of `--repeat`
is kept for each measure.

- (a) ours: the installed `ftap run --period P --inputs DIR --outputs DIR --no-send`, a child process, with a
  fresh outputs folder each time (and a fresh state folder for a cold run, the same again for a warm one,
  when `ftap run` has one). Its fixed cost (interpreter, imports, the temporary Prefect server) is the
  same command on an inputs folder of a single return; "(a) − fixe" is (a) without it. CPU % and peak
  RSS are the child's own, with its waited-for descendants (`os.wait4`): the peak RSS is the largest
  process of the tree, not their sum. (a0) is the same report by `pipeline.run`, without Prefect, in a new
  process too: (a) − (a0) is all Prefect costs, server start included, measured interleaved with the rest.
- (b) the floor: python-calamine reading every sheet of every return, and xlsxwriter (constant_memory)
  writing all the lines of the four table sheets into one workbook, in this process.
- (c) the naive peer: `pandas.read_excel(engine="openpyxl")` of every file, a pandera validation per file
  and per table sheet, then `to_excel` of the concatenated lines with openpyxl (see `naive`).

Also: the Prefect overhead beyond the server's start (the flow against `pipeline.run`, in one child
process once the temporary server is up), and `ftap check` on one return, start-up included.
Generated sets (bench/generate_returns.py) are kept under `--data` and reused; results go to JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate_returns import DEFAULT_SEED, LAST_PERIOD, MAX_SPLIT, SET_FILE, ensure  # noqa: E402

# The `ftap` installed beside the interpreter running the bench: the project venv's, or the floors' in `make test-floors`.
FTAP: Final = Path(sys.executable).parent / "ftap"
DEFAULT_DATA: Final = ROOT / "bench" / ".data"
RESULTS: Final = ROOT / "bench" / "results"
GB: Final = 1024**3


# --- measures ----------------------------------------------------------------------------------------


@dataclass
class Sample:
    """One timed run: wall seconds, CPU seconds (user + sys), peak RSS in bytes (children only)."""

    wall: float
    cpu: float
    rss: int = 0

    @property
    def cpu_pct(self) -> float:
        return 100 * self.cpu / self.wall if self.wall else 0.0


@dataclass
class Measure:
    """The samples of one measure; the best (least wall time) is the one reported."""

    samples: list[Sample] = field(default_factory=list)

    @property
    def best(self) -> Sample:
        return min(self.samples, key=lambda s: s.wall)

    @property
    def peak_rss(self) -> int:
        return max(s.rss for s in self.samples)


def in_process(fn: Callable[[], object]) -> Sample:
    """Time `fn` here: wall clock and this process's CPU (`RUSAGE_SELF` deltas, threads included)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    fn()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    return Sample(wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def child(cmd: Sequence[str], env: dict[str, str], log: Path) -> tuple[Sample, int]:
    """Run `cmd` and wait for it with `os.wait4`, for its own rusage (RUSAGE_CHILDREN's maxrss is the max over
    every child this process ever had). Returns the sample and the exit code."""
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait for it again
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024), proc.returncode


def returns_of(inputs: Path) -> list[Path]:
    return sorted((inputs / "remontees").glob("*.xlsx"))


# --- (b) the floor -----------------------------------------------------------------------------------


def floor(paths: Sequence[Path], out: Path) -> int:
    """Read every sheet of every return with python-calamine; write the table sheets' lines to one workbook.

    Nothing is parsed or checked: it is the least any tool must do to read these files and write their
    lines again. Returns the number of lines written."""
    import python_calamine as pc
    import xlsxwriter

    from ftap_pipeline.contract import layout

    tables = {s.name for s in layout.TABLE_SHEETS}
    workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_formulas": False,
                                              "strings_to_numbers": False, "strings_to_urls": False})
    sheets: dict[str, Any] = {}
    rows: Counter[str] = Counter()
    for path in paths:
        try:
            wb = pc.CalamineWorkbook.from_path(str(path))
        except pc.CalamineError:
            continue
        for name in wb.sheet_names:
            cells = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            if name not in tables:
                continue
            if name not in sheets:
                sheets[name] = workbook.add_worksheet(name)
            ws = sheets[name]
            for line in cells[1:]:
                ws.write_row(rows[name], 0, [path.name, *line])
                rows[name] += 1
    workbook.close()
    return sum(rows.values())


# --- (c) the naive peer ------------------------------------------------------------------------------


def naive_per_sheet(paths: Sequence[Path], out: Path) -> int:
    """(c′): `naive`, with one `read_excel` call per sheet, as « read_excel for every sheet » reads literally:
    openpyxl then opens the workbook again for each sheet."""
    return naive(paths, out, per_sheet=True)


def naive(paths: Sequence[Path], out: Path, *, per_sheet: bool = False) -> int:
    """What one would write first with pandas: read each file whole with openpyxl, validate each of its line
    sheets, concatenate, write with openpyxl. Returns the number of lines written.

    The validation uses the project's own pandera models (`contract.schemas`), so that the peer checks
    exactly the ranges, lists and formats we check, after the least typing they need: headers mapped to
    field keys (`layout`), integers to Int64, amounts and numbers to float, dates to datetime64, failures
    coerced to missing. What it leaves out (French number parsing, cell addresses, the cross-sheet rules)
    only makes it faster: the ratio to (a) is a lower bound of what the naive way costs."""
    import pandas as pd
    import pandera.pandas as pa

    from ftap_pipeline.contract import layout
    from ftap_pipeline.contract.labels import normalise_label
    from ftap_pipeline.contract.layout import Kind
    from ftap_pipeline.contract.schemas import SCHEMAS

    frames: dict[str, list[pd.DataFrame]] = {s.key: [] for s in layout.TABLE_SHEETS}
    for path in paths:
        try:
            if per_sheet:
                with pd.ExcelFile(path, engine="openpyxl") as opened:
                    names = opened.sheet_names
                book: dict[Any, pd.DataFrame] = {name: pd.read_excel(path, sheet_name=name, engine="openpyxl",
                                                                     dtype=object) for name in names}
            else:
                book = pd.read_excel(path, sheet_name=None, engine="openpyxl", dtype=object)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:  # a damaged file
            print(f"    (c) {path.name} illisible : {exc}", file=sys.stderr)
            continue
        for sheet in layout.TABLE_SHEETS:
            raw = book.get(sheet.name)
            if raw is None:
                continue
            index = sheet.label_index
            df = raw.rename(columns={c: index[normalise_label(c)].key for c in raw.columns
                                     if normalise_label(c) in index})
            for f in sheet.fields:
                if f.key not in df:
                    continue
                if f.kind in (Kind.INT, Kind.TITRE):
                    df[f.key] = pd.to_numeric(df[f.key], errors="coerce").round().astype("Int64")
                elif f.kind in (Kind.AMOUNT, Kind.NUMBER):
                    df[f.key] = pd.to_numeric(df[f.key], errors="coerce").astype(float)
                elif f.kind == Kind.DATE:
                    df[f.key] = pd.to_datetime(df[f.key], errors="coerce").astype("datetime64[ns]")
            with contextlib.suppress(pa.errors.SchemaErrors):
                SCHEMAS[sheet.key].validate(df, lazy=True)
            df.insert(0, "fichier", path.name)
            frames[sheet.key].append(df)
    lines = 0
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for sheet in layout.TABLE_SHEETS:
            if frames[sheet.key]:
                whole = pd.concat(frames[sheet.key], ignore_index=True)
                whole.to_excel(writer, sheet_name=sheet.name, index=False)
                lines += len(whole)
    return lines


# --- (a) ours ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateOption:
    """How `ftap run` is given its state (cache) folder, if it has one: an option, or an environment variable."""

    option: str | None = None
    variable: str | None = None

    def apply(self, cmd: list[str], env: dict[str, str], folder: Path) -> tuple[list[str], dict[str, str]]:
        if self.option:
            return [*cmd, self.option, str(folder)], env
        if self.variable:
            return cmd, {**env, self.variable: str(folder)}
        return cmd, env


def state_option() -> StateOption | None:
    """Read `ftap run --help`: a `--state`/`--cache…` option, or FTAP_STATE named in it."""
    text = subprocess.run([str(FTAP), "run", "--help"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(--state\S*|--cache\S*|--etat\S*)", text)
    if match:
        return StateOption(option=match.group(1).rstrip(",]"))
    if "FTAP_STATE" in text:
        return StateOption(variable="FTAP_STATE")
    return None


class Runner:
    """Runs `ftap run` as a child in fresh outputs folders under `work`, the temporary server's way."""

    def __init__(self, work: Path, period: str, env: dict[str, str]) -> None:
        self.work = work
        self.period = period
        self.env = env
        self.last_outputs: Path | None = None

    def run(self, inputs: Path, state: Path | None = None, option: StateOption | None = None, *,
            plain: bool = False) -> Sample:
        """`ftap run` on `inputs`; with `plain`, the same steps without Prefect (`pipeline.run`) in a new process."""
        outputs = Path(tempfile.mkdtemp(prefix="out-", dir=self.work))
        cmd = [str(FTAP), "run", "--period", self.period, "--inputs", str(inputs), "--outputs", str(outputs),
               "--no-send"]
        if plain:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--plain-helper", str(inputs), "--outputs",
                   str(outputs), "--period", self.period]
        env = self.env
        if state is not None and option is not None:
            cmd, env = option.apply(cmd, env, state)
        log = self.work / f"{outputs.name}.log"
        sample, code = child(cmd, env, log)
        if code != 0:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise SystemExit(f"ftap run a échoué (code {code}) sur {inputs} :\n{tail}")
        if self.last_outputs is not None:
            shutil.rmtree(self.last_outputs, ignore_errors=True)
        self.last_outputs = outputs
        return sample

    def manifest(self) -> dict[str, Any]:
        assert self.last_outputs is not None
        found = next(self.last_outputs.glob("*/manifest.json"))
        result: dict[str, Any] = json.loads(found.read_text(encoding="utf-8"))
        return result


def fresh_file(work: Path, suffix: str) -> Iterator[Path]:
    """A new file name under `work` at each draw, the previous one removed (outside the timed part)."""
    previous: Path | None = None
    k = 0
    while True:
        if previous is not None:
            previous.unlink(missing_ok=True)
        k += 1
        previous = work / f"{k}{suffix}"
        yield previous


def prefect_overhead(inputs: Path, period: str, repeat: int, work: Path, env: dict[str, str]) -> dict[str, float]:
    """The flow against `pipeline.run` on the same inputs, in one child once its temporary server is up
    (`--overhead-helper`): what Prefect adds beyond the server's start."""
    out = work / "overhead.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--overhead-helper", str(inputs), "--period", period,
           "--repeat", str(repeat), "--json", str(out)]
    sample, code = child(cmd, env, work / "overhead.log")
    if code != 0:
        raise SystemExit("mesure du surcoût de Prefect en échec :\n"
                         + (work / "overhead.log").read_text(encoding="utf-8", errors="replace")[-3000:])
    result: dict[str, float] = json.loads(out.read_text(encoding="utf-8"))
    result["child_wall_s"] = sample.wall
    return result


def plain_helper(inputs: Path, outputs: Path, period: str) -> None:
    """Child side of (a0): the report `ftap run` makes, by `pipeline.run`, without Prefect or its server."""
    from ftap_pipeline import launch, pipeline
    from ftap_pipeline.settings import Settings

    pipeline.run(launch.quarterly_config(Settings(None, None, None), inputs, outputs, period, False))


def overhead_helper(inputs: Path, period: str, repeat: int, out: Path) -> None:
    """Child side of `prefect_overhead`: start the server with a first flow run, then interleave plain and flow."""
    import logging

    from flows.server import local_defaults, run_settings

    local_defaults()
    from flows.rapport_trimestriel import rapport_trimestriel
    from ftap_pipeline import launch, pipeline
    from ftap_pipeline.settings import Settings

    logging.getLogger("ftap").propagate = False
    work = Path(tempfile.mkdtemp(prefix="overhead-", dir=out.parent))

    def flow() -> None:
        rapport_trimestriel(str(inputs), tempfile.mkdtemp(dir=work), period, send=False)

    def plain() -> None:
        pipeline.run(launch.quarterly_config(Settings(None, None, None), inputs, tempfile.mkdtemp(dir=work), period,
                                             False))

    with run_settings(temporary_server=True):
        t0 = time.perf_counter()
        flow()
        warm_up = time.perf_counter() - t0
        plains, flows = [], []
        for _ in range(repeat):
            plains.append(in_process(plain).wall)
            flows.append(in_process(flow).wall)
    shutil.rmtree(work, ignore_errors=True)
    out.write_text(json.dumps({"warm_up_s": warm_up, "plain_s": min(plains), "flow_s": min(flows),
                               "overhead_s": min(flows) - min(plains)}), encoding="utf-8")


# --- the run -----------------------------------------------------------------------------------------


@dataclass
class SizeResult:
    n: int
    inputs: str
    a: Measure = field(default_factory=Measure)
    a_warm: Measure | None = None
    a_plain: Measure = field(default_factory=Measure)
    a_fixed: Measure = field(default_factory=Measure)
    b: Measure = field(default_factory=Measure)
    c: Measure | None = None
    c_sheets: Measure | None = None
    lines: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    phases_s: dict[str, float] = field(default_factory=dict)
    prefect: dict[str, float] = field(default_factory=dict)
    set_info: dict[str, Any] = field(default_factory=dict)

    @property
    def a_less_fixed(self) -> float:
        return self.a.best.wall - self.a_fixed.best.wall


def measure_size(n: int, inputs: Path, fixed_inputs: Path, args: argparse.Namespace, runner: Runner,
                 option: StateOption | None, work: Path) -> SizeResult:
    paths = returns_of(inputs)
    result = SizeResult(n, str(inputs), a_warm=Measure() if option else None, c=None if args.skip_naive else Measure(),
                        c_sheets=Measure() if args.naive_per_sheet and not args.skip_naive else None)
    result.set_info = {k: v for k, v in json.loads((inputs / SET_FILE).read_text(encoding="utf-8")).items()
                       if k != "files"}
    files = fresh_file(work, ".xlsx")
    lines: dict[str, int] = {}

    def timed(key: str, fn: Callable[[Sequence[Path], Path], int], out: Path) -> Sample:
        def call() -> None:
            lines[key] = fn(paths, out)

        return in_process(call)

    for r in range(args.repeat):
        print(f"  N={n}, essai {r + 1}/{args.repeat} :", end="", flush=True)
        state = Path(tempfile.mkdtemp(prefix="state-", dir=work)) if option else None
        ours = runner.run(inputs, state, option)
        result.a.samples.append(ours)
        manifest = runner.manifest()
        print(f" (a) {ours.wall:.1f} s", end="", flush=True)
        if result.a_warm is not None and state is not None:
            sample = runner.run(inputs, state, option)
            result.a_warm.samples.append(sample)
            print(f", (a) tiède {sample.wall:.1f} s", end="", flush=True)
            shutil.rmtree(state, ignore_errors=True)
        sample = runner.run(inputs, plain=True)
        result.a_plain.samples.append(sample)
        print(f", (a0) {sample.wall:.1f} s", end="", flush=True)
        sample = runner.run(fixed_inputs)
        result.a_fixed.samples.append(sample)
        print(f", fixe {sample.wall:.1f} s", end="", flush=True)
        sample = timed("b", floor, next(files))
        result.b.samples.append(sample)
        print(f", (b) {sample.wall:.1f} s", end="", flush=True)
        if result.c is not None:
            sample = timed("c", naive, next(files))
            result.c.samples.append(sample)
            print(f", (c) {sample.wall:.1f} s", end="", flush=True)
        if result.c_sheets is not None:
            sample = timed("c_sheets", naive_per_sheet, next(files))
            result.c_sheets.samples.append(sample)
            print(f", (c′) {sample.wall:.1f} s", end="", flush=True)
        print(flush=True)
        if ours is result.a.best:  # the manifest of the best run: its phases, statuses and lines
            entries = [e for e in manifest.get("entrees", []) if "statut" in e]
            result.phases_s = dict(manifest.get("durees_s", {}))
            result.statuses = dict(Counter(e["statut"] for e in entries))
            result.lines["a"] = sum(int(e.get("lignes_lues", 0)) for e in entries)
    result.lines.update(lines)
    next(files)  # removes the last workbook
    if not args.skip_overhead:
        print(f"  N={n} : surcoût de Prefect (flux contre pipeline.run, serveur démarré)…", flush=True)
        result.prefect = prefect_overhead(inputs, str(LAST_PERIOD), args.repeat, work, runner.env)
    return result


def check_time(path: Path, repeat: int, work: Path, env: dict[str, str]) -> Measure:
    """`ftap check FILE`: what a porteur waits for, start-up included, once the file and the interpreter's
    modules are in the disk cache (a first, untimed check), as they are for a porteur who checks again."""
    m = Measure()
    child([str(FTAP), "check", str(path)], env, work / "check.log")
    for _ in range(repeat):
        m.samples.append(child([str(FTAP), "check", str(path)], env, work / "check.log")[0])
    return m


# --- the report --------------------------------------------------------------------------------------


def _mark(ok: bool | None) -> str:
    return "?" if ok is None else "✓" if ok else "✗"


def targets(results: dict[int, SizeResult], check: Measure) -> list[dict[str, Any]]:
    """The issue's targets, each with what was measured; a target at N=1000 is read at the nearest size run."""
    at = results.get(1000) or results[max(results)]
    out: list[dict[str, Any]] = []

    def add(label: str, value: float | None, limit: float, lower: bool = True, unit: str = "") -> None:
        ok = None if value is None else value <= limit if lower else value >= limit
        out.append({"cible": label, "mesure": value, "limite": limit, "unite": unit, "atteinte": ok})

    add(f"(a)/(b) ≤ 2 à N={at.n}", at.a.best.wall / at.b.best.wall, 2)
    add(f"(a − fixe)/(b) ≤ 2 à N={at.n}", at.a_less_fixed / at.b.best.wall, 2)
    add(f"(c)/(a) ≥ 10 à N={at.n}", at.c.best.wall / at.a.best.wall if at.c else None, 10, lower=False)
    add(f"(c)/(a − fixe) ≥ 10 à N={at.n}", at.c.best.wall / at.a_less_fixed if at.c and at.a_less_fixed > 0 else None,
        10, lower=False)
    if 1000 in results and 10000 in results:
        big, small = results[10000], results[1000]
        add("t(10000) ≤ 11 × t(1000), (a)", big.a.best.wall / small.a.best.wall, 11)
        add("t(10000) ≤ 11 × t(1000), (a − fixe)", big.a_less_fixed / small.a_less_fixed, 11)
    top = results[max(results)]
    add(f"RSS de pointe de (a) ≤ 2 Go à N={top.n}", top.a.peak_rss / GB, 2, unit="Go")
    add(f"surcoût de Prefect hors démarrage ≤ 0,5 s à N={at.n}", at.prefect.get("overhead_s"), 0.5, unit="s")
    add("ftap check (1 remontée) ≤ 1 s", check.best.wall, 1, unit="s")
    return out


def print_report(results: dict[int, SizeResult], check: Measure, goals: list[dict[str, Any]], repeat: int) -> None:
    print(f"\nMeilleur de {repeat} essais entrelacés ; secondes (CPU % = utilisateur + système ÷ temps écoulé)\n")
    head = f"{'':<34}" + "".join(f"{'N=' + str(n):>22}" for n in results)
    print(head)

    def row(label: str, cell: Callable[[SizeResult], str]) -> None:
        print(f"{label:<34}" + "".join(f"{cell(r):>22}" for r in results.values()))

    def timing(m: Measure | None) -> str:
        return "—" if m is None or not m.samples else f"{m.best.wall:8.2f} s {m.best.cpu_pct:5.0f} %"

    row("lignes lues (a) / (b)", lambda r: f"{r.lines.get('a', 0)} / {r.lines.get('b', 0)}")
    row("(a) ftap run", lambda r: timing(r.a))
    row("(a) ftap run, état réutilisé", lambda r: timing(r.a_warm))
    row("(a0) sans Prefect, processus neuf", lambda r: timing(r.a_plain))
    row("(a) − (a0) : Prefect en tout", lambda r: f"{r.a.best.wall - r.a_plain.best.wall:8.2f} s")
    row("coût fixe (1 remontée)", lambda r: timing(r.a_fixed))
    row("(a) − coût fixe", lambda r: f"{r.a_less_fixed:8.2f} s")
    row("(b) plancher calamine+xlsxwriter", lambda r: timing(r.b))
    row("(c) pandas+openpyxl+pandera", lambda r: timing(r.c))
    if any(r.c_sheets for r in results.values()):
        row("(c′) le même, lu feuille par feuille", lambda r: timing(r.c_sheets))
    row("(a)/(b)", lambda r: f"{r.a.best.wall / r.b.best.wall:.2f}")
    row("(a − fixe)/(b)", lambda r: f"{r.a_less_fixed / r.b.best.wall:.2f}")
    row("(a0)/(b)", lambda r: f"{r.a_plain.best.wall / r.b.best.wall:.2f}")
    row("(c)/(a)", lambda r: f"{r.c.best.wall / r.a.best.wall:.2f}" if r.c else "—")
    row("(c)/(a − fixe)", lambda r: f"{r.c.best.wall / r.a_less_fixed:.2f}" if r.c else "—")
    if any(r.c_sheets for r in results.values()):
        row("(c′)/(a)", lambda r: f"{r.c_sheets.best.wall / r.a.best.wall:.2f}" if r.c_sheets else "—")
    row("RSS de pointe de (a)", lambda r: f"{r.a.peak_rss / 2**20:.0f} Mo")
    row("pipeline.run en processus", lambda r: f"{r.prefect['plain_s']:.2f} s" if r.prefect else "—")
    row("même flux Prefect, serveur démarré", lambda r: f"{r.prefect['flow_s']:.2f} s" if r.prefect else "—")
    row("surcoût de Prefect hors démarrage", lambda r: f"{r.prefect['overhead_s']:.2f} s" if r.prefect else "—")
    for r in results.values():
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in r.phases_s.items())
        statuses = ", ".join(f"{v} {k}" for k, v in sorted(r.statuses.items(), key=lambda kv: -kv[1]))
        print(f"N={r.n} : étapes du manifeste de (a) : {phases} ; statuts : {statuses}")
    if 1000 in results and 10000 in results:
        big, small = results[10000], results[1000]
        print(f"\nN=10000 ÷ N=1000 : (a) {big.a.best.wall / small.a.best.wall:.2f}, (a − fixe) "
              f"{big.a_less_fixed / small.a_less_fixed:.2f}, (b) {big.b.best.wall / small.b.best.wall:.2f}"
              + (f", (c) {big.c.best.wall / small.c.best.wall:.2f}" if big.c and small.c else ""))
    print(f"ftap check (1 remontée) : {check.best.wall:.2f} s")
    print("\nCibles :")
    for g in goals:
        value = "—" if g["mesure"] is None else f"{g['mesure']:.2f}{' ' + g['unite'] if g['unite'] else ''}"
        print(f"  {_mark(g['atteinte'])} {g['cible']:<48} mesuré {value}")


def write_json(path_pattern: str, results: dict[int, SizeResult], check: Measure, goals: list[dict[str, Any]],
               meta: dict[str, Any]) -> list[Path]:
    """One file per size when the path has `{n}` (the default), else one file for all sizes."""

    def entry(r: SizeResult) -> dict[str, Any]:
        d = asdict(r)
        for name in ("a", "a_warm", "a_plain", "a_fixed", "b", "c", "c_sheets"):
            m: Measure | None = getattr(r, name)
            d[name] = None if m is None else {"best_s": m.best.wall, "cpu_pct": m.best.cpu_pct,
                                              "samples_s": [s.wall for s in m.samples],
                                              "peak_rss_bytes": m.peak_rss or None}
        d["a_less_fixed_s"] = r.a_less_fixed
        d["prefect_total_s"] = r.a.best.wall - r.a_plain.best.wall
        d["ratios"] = {"a/b": r.a.best.wall / r.b.best.wall, "(a-fixed)/b": r.a_less_fixed / r.b.best.wall,
                       "a0/b": r.a_plain.best.wall / r.b.best.wall,
                       "c/a": r.c.best.wall / r.a.best.wall if r.c else None,
                       "c_sheets/a": r.c_sheets.best.wall / r.a.best.wall if r.c_sheets else None}
        return d

    common = {**meta, "check_s": check.best.wall, "targets": goals}
    if 1000 in results and 10000 in results:
        common["t10000/t1000"] = {"a": results[10000].a.best.wall / results[1000].a.best.wall,
                                  "a-fixed": results[10000].a_less_fixed / results[1000].a_less_fixed}
    written = []
    if "{n}" in path_pattern:
        for n, r in results.items():
            path = Path(path_pattern.format(n=n))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({**common, "size": entry(r)}, ensure_ascii=False, indent=1), encoding="utf-8")
            written.append(path)
    else:
        path = Path(path_pattern)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**common, "sizes": {str(n): entry(r) for n, r in results.items()}},
                                   ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(path)
    return written


def default_json_name(max_split: int) -> str:
    """The results' file name: a set of another sheet size (`--max-split`) does not overwrite the default's."""
    return "scale-{n}.json" if max_split == MAX_SPLIT else f"scale-{{n}}-split{max_split}.json"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="numbers of returns (100 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure; the best is kept (3)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="where generated sets are kept and reused")
    parser.add_argument("--max-split", type=int, default=MAX_SPLIT,
                        help=f"most EJs an expense item is split over in the sets ({MAX_SPLIT}; 1: the demo's small sheets)")
    parser.add_argument("--json", help="results file; {n} is replaced by each size (default "
                                       "bench/results/scale-{n}.json, scale-{n}-splitK.json with --max-split K)")
    parser.add_argument("--skip-naive", action="store_true", help="leave out the naive peer (c), long at N=10000")
    parser.add_argument("--naive-per-sheet", action="store_true",
                        help="also measure (c′): the naive peer with one read_excel call per sheet")
    parser.add_argument("--skip-overhead", action="store_true", help="leave out the Prefect overhead measure")
    parser.add_argument("--overhead-helper", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--plain-helper", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--outputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--period", default=str(LAST_PERIOD), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.json is None:
        args.json = str(RESULTS / default_json_name(args.max_split))
    if args.overhead_helper is not None:
        overhead_helper(args.overhead_helper, args.period, args.repeat, Path(args.json))
        return
    if args.plain_helper is not None:
        plain_helper(args.plain_helper, args.outputs, args.period)
        return

    data: Path = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    sets = {n: ensure(n, args.seed, data, max_split=args.max_split) for n in sorted(set(args.sizes))}
    fixed = ensure(1, args.seed, data, max_split=args.max_split)
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", str(data / "prefect-home"))  # a server database of its own, kept warm
    if env.get("PREFECT_API_URL"):
        print(f"Attention : PREFECT_API_URL={env['PREFECT_API_URL']} : ftap run utilise ce serveur, pas un serveur "
              f"temporaire.", flush=True)
    option = state_option()
    print(f"État de ftap run : {option or 'aucune option (mesure à froid seulement)'}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="scale-", dir=data))
    runner = Runner(work, str(LAST_PERIOD), env)
    started = dt.datetime.now().astimezone()
    try:
        runner.run(fixed)  # the server's database and the disk caches warmed once, untimed
        results = {n: measure_size(n, inputs, fixed, args, runner, option, work) for n, inputs in sets.items()}
        one = max(returns_of(sets[min(sets)]), key=lambda p: p.stat().st_size)
        check = check_time(one, args.repeat, work, env)
    finally:
        if runner.last_outputs is not None:
            shutil.rmtree(runner.last_outputs, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    goals = targets(results, check)
    print_report(results, check, goals, args.repeat)
    meta = {"date": started.isoformat(timespec="seconds"), "repeat": args.repeat, "seed": args.seed,
            "max_split": args.max_split,
            "period": str(LAST_PERIOD), "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                    "platform": platform.platform()},
            "state_option": asdict(option) if option else None, "check_file": str(one)}
    for path in write_json(args.json, results, check, goals, meta):
        print(f"Résultats : {path}")


if __name__ == "__main__":
    main()
