"""Write a full inputs folder of N returns for the scale benchmark: référentiel, returns and Chorus extracts.

    .venv/bin/python bench/generate_returns.py 1000 [--seed 349] [--dest bench/.data/1000-349]

The demo (`ftap demo`) has a dozen projects and about 60 returns of some twenty lines: too few and too
small to say how a run scales. This builds a portfolio of distinct projects (about one for every six
returns) from the demo's own building blocks, so the files are in the contract's format by construction:
`demo.simulation.Simulator` unfolds each `ProjectSpec` into engagements and payments (each expense item
split over several EJs, so that sheets run from tens to hundreds of lines), `demo.returns` gives each
quarter's cumulative return, `io.return_writer` writes it, `demo.referentiel` and `demo.chorus` the other
two inputs. Figures are drawn from one seeded generator: a seed gives the same portfolio.

Most returns are `Retenue`. A few carry the faults real portfolios have: a version 2 that replaces a
first return of the quarter (`Remplacée`), bad lines (`Retenue avec anomalies`), a mistyped identifier
(`Rejetée`), a project that forgot its last return. `bench-set.json`, written last, lists every file with
its expected status; a folder without it is incomplete and is written again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import multiprocessing
import random
import shutil
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ftap_pipeline.contract import enums  # noqa: E402
from ftap_pipeline.core.period import Period  # noqa: E402
from ftap_pipeline.demo import chorus, faults, referentiel, returns  # noqa: E402
from ftap_pipeline.demo.model import Project, split, weekday  # noqa: E402
from ftap_pipeline.demo.simulation import Simulator, chorus_movements  # noqa: E402
from ftap_pipeline.demo.specs import CONTRACT_DATE, EXTRACTION, EXTRACTION_TIME, PERIOD, SPECS, ProjectSpec  # noqa: E402
from ftap_pipeline.io.chorus_csv_writer import AE_HEADER, CP_HEADER, write_chorus_csv  # noqa: E402
from ftap_pipeline.io.referentiel_writer import Sheet, write_referentiel  # noqa: E402
from ftap_pipeline.io.return_writer import write_return  # noqa: E402

#: The last generated quarter, the one to pass to `ftap run --period`: the demo's, because the Chorus
#: extraction date and the comités of `demo.specs` are set for it.
LAST_PERIOD: Final = PERIOD
SET_FILE: Final = "bench-set.json"
DEFAULT_SEED: Final = 349
#: Selection comités of `demo.specs.COMITES` and how often a project comes from each (earlier cycles report
#: more quarters: about six returns a project on average).
CYCLES: Final = (
    ("2023-C1", dt.date(2023, 7, 6), 3), ("2023-C2", dt.date(2023, 9, 21), 3), ("2024-C1", dt.date(2024, 1, 11), 2),
    ("2024-C2", dt.date(2024, 3, 14), 2), ("2024-C3", dt.date(2024, 6, 27), 2), ("2025-C1", dt.date(2024, 11, 28), 1),
    ("2025-C2", dt.date(2025, 2, 13), 1),
)
#: Share of (project, quarter) sent twice, a version 2 replacing the first; of returns with bad lines; of
#: returns also sent under a mistyped identifier; of projects that forget their last return.
P_VERSION_2, P_BAD_LINES, P_TYPO, P_MISSING = 0.03, 0.01, 0.003, 0.01
#: Each expense item of the demo's plan is split over 1 to this many EJs (log-uniform), per project.
MAX_SPLIT: Final = 15

# Who carries the projects: a service family (porteur pattern, ministère, category, programme) in a territory.
_FAMILIES: Final = (
    ("Préfecture {de}", "Ministère de l'Intérieur", enums.CAT_DECONCENTRE, "0354"),
    ("DDFiP {de}", "Ministère de l'Économie et des Finances", enums.CAT_DECONCENTRE, "0156"),
    ("DDT {de}", "Ministère de l'Agriculture et de la Souveraineté alimentaire", enums.CAT_DECONCENTRE, "0215"),
    ("DDPP {de}", "Ministère de l'Agriculture et de la Souveraineté alimentaire", enums.CAT_DECONCENTRE, "0206"),
    ("DDETS {de}", "Ministère du Travail et de l'Emploi", enums.CAT_DECONCENTRE, "0155"),
    ("Conseil départemental {de}", "Ministère du Travail, de la Santé et des Solidarités", enums.CAT_APUL, "CD"),
    ("CAF {de}", "Ministère du Travail, de la Santé et des Solidarités", enums.CAT_ASSO, "CNAF"),
    ("Tribunal judiciaire {de}", "Ministère de la Justice", enums.CAT_DECONCENTRE, "0166"),
)
_TERRITORIES: Final = (
    ("de l'Ain", "01", "Auvergne-Rhône-Alpes"), ("du Rhône", "69", "Auvergne-Rhône-Alpes"),
    ("de l'Isère", "38", "Auvergne-Rhône-Alpes"), ("de la Côte-d'Or", "21", "Bourgogne-Franche-Comté"),
    ("du Doubs", "25", "Bourgogne-Franche-Comté"), ("du Finistère", "29", "Bretagne"),
    ("d'Ille-et-Vilaine", "35", "Bretagne"), ("du Loiret", "45", "Centre-Val de Loire"),
    ("d'Indre-et-Loire", "37", "Centre-Val de Loire"), ("de la Corse-du-Sud", "2A", "Corse"),
    ("de la Marne", "51", "Grand Est"), ("du Bas-Rhin", "67", "Grand Est"), ("de la Moselle", "57", "Grand Est"),
    ("du Nord", "59", "Hauts-de-France"), ("du Pas-de-Calais", "62", "Hauts-de-France"),
    ("de la Somme", "80", "Hauts-de-France"), ("de Paris", "75", "Île-de-France"),
    ("de la Seine-Saint-Denis", "93", "Île-de-France"), ("des Yvelines", "78", "Île-de-France"),
    ("du Calvados", "14", "Normandie"), ("de la Seine-Maritime", "76", "Normandie"),
    ("de la Gironde", "33", "Nouvelle-Aquitaine"), ("de la Vienne", "86", "Nouvelle-Aquitaine"),
    ("de la Haute-Garonne", "31", "Occitanie"), ("de l'Hérault", "34", "Occitanie"),
    ("de la Loire-Atlantique", "44", "Pays de la Loire"), ("de la Sarthe", "72", "Pays de la Loire"),
    ("des Bouches-du-Rhône", "13", "Provence-Alpes-Côte d'Azur"), ("du Var", "83", "Provence-Alpes-Côte d'Azur"),
    ("de la Guadeloupe", "971", "Guadeloupe"), ("de La Réunion", "974", "La Réunion"),
)
_FIRST: Final = ("Claire", "Julien", "Sophie", "Thomas", "Nicolas", "Isabelle", "Yann", "Amélie", "Marc", "Karim",
                 "Élodie", "Gwenaëlle", "Paul", "Nadia", "Hugo", "Léa", "Mathieu", "Inès", "Olivier", "Fatou")
_LAST: Final = ("Morel", "Lefèvre", "Dubois", "Girard", "Fabre", "Caron", "Le Goff", "Vasseur", "Bertin", "Benali",
                "Martin", "Riou", "Durand", "Petit", "Roux", "N'Diaye", "Lambert", "Fontaine", "Chevalier", "Garnier")
_FILE_STYLES: Final = ("{pid}_{period}", "Remontee FTAP - {pid} - {period}", "{period}_{pid}",
                       "{pid} remontée {period}", "FTAP_{pid}_{period}_final")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c in "-.")


class ScaleSimulator(Simulator):
    """The demo's simulator, with each expense item split over several EJs (the demo signs one EJ an item)."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.pieces = 1

    def _items(self, objets: tuple[tuple[str, int, float], ...], total: int) -> list[tuple[str, int, int]]:  # type: ignore[override]
        out: list[tuple[str, int, int]] = []
        for objet, titre, amount in Simulator._items(objets, total):
            k = max(1, min(self.pieces, amount // 4000))
            weights = [self.rng.uniform(0.4, 1.6) for _ in range(k)]
            out += [(objet, titre, part) for part in split(amount, [w / sum(weights) for w in weights], 1000)
                    if part > 0]
        return out


def _spec(rng: random.Random, pid: str, cycle: str, selection: dt.date, pieces: int) -> ProjectSpec:
    """A project like one of the demo's (its intitulé and indicators), carried by another service, with its own
    dates, cost and results."""
    model = rng.choice(SPECS)
    pattern, ministere, categorie, programme = rng.choice(_FAMILIES)
    de, dept, region = rng.choice(_TERRITORIES)
    porteur = pattern.format(de=de)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    domain = {"CD": f"departement{dept.lower()}.fr", "CNAF": "caf.fr"}.get(programme, "gouv.fr")
    codes = (f"{programme}-DD{dept}", f"{programme}-0{rng.randint(1, 9)}", f"{programme}0{rng.randint(10, 99)}0101")
    indicators = []
    for ind in model.indicators:
        scale = rng.uniform(0.7, 1.4)
        indicators.append(replace(ind, reference=round(ind.reference * scale, 1), cible=round(ind.cible * scale, 1),
                                  atteinte=round(rng.uniform(-0.2, 1.1), 2)))
    concert = enums.OUI if categorie in (enums.CAT_APUL, enums.CAT_ASSO) or rng.random() < 0.8 else enums.NON
    return ProjectSpec(
        pid=pid, intitule=model.intitule, porteur=porteur, ministere=ministere, region=region,
        categorie_porteur=categorie, selection=selection, cycle=cycle,
        debut=weekday(selection + dt.timedelta(days=rng.randint(7, 75))), months=rng.choice((4, 5, 5, 6, 6, 6, 7, 8)),
        cout=max(300, round(pieces * rng.uniform(80, 170))) * 1000,
        cofinancement=rng.choice((0.0, 0.3, 0.4, 0.5, 0.5, 0.5, 0.55, 0.6)),
        chef=f"{first} {last}", courriel=f"{_ascii(first)}.{_ascii(last)}@{domain}", codes=codes, indicators=tuple(indicators),
        domaine_ftap=rng.choice(("0349-01", "0349-01", "0349-0101B501")), concert=concert,
        cadrage_days=rng.choice((-30, -18, -10, -5, 12)), numerique=rng.choice((enums.OUI, enums.NON)),
        mix=rng.choice(((0.15, 0.35, 0.50), (0.10, 0.30, 0.60), (0.20, 0.40, 0.40))),
        gains=round(rng.uniform(0.7, 2.2), 2), realise=round(rng.uniform(0.6, 1.2), 2),
        explique=rng.random() < 0.8, file_style=rng.choice(_FILE_STYLES),
    )


@dataclass(frozen=True)
class Planned:
    """A return file to write: the project's situation at `period` (`early`: 45 days before its end)."""

    name: str
    period: str
    version: int = 1
    early: bool = False
    bad_lines: bool = False
    project_id: str | None = None  # a mistyped identifier
    status: str = enums.RETENUE


def _cofinanced(project: Project, asof: dt.date) -> bool:
    """Whether `faults.bad_lines` can spoil the return at `asof`: it needs two co-financing EJs signed by then."""
    cofin = [ej for ej in project.ejs if not ej.ftap]
    return len(cofin) > 2 and len({ej.number for ej in cofin if ej.date <= asof}) >= 2


def _plan(project: Project, rng: random.Random) -> list[Planned]:
    """The files the project sends, oldest quarter first."""
    spec = project.spec
    periods = returns.periods(Period.of(spec.debut), LAST_PERIOD)
    if len(periods) > 1 and rng.random() < P_MISSING:
        periods = periods[:-1]
    files: list[Planned] = []
    for period in periods:
        name = returns.file_name(spec, period)
        if rng.random() < P_TYPO:  # before the right one: a cut portfolio (`portfolio`) keeps the latest files
            typo = spec.pid.replace("AP-20", "AP-29", 1)  # no project is selected in 2029
            files.append(Planned(f"{typo}_{period}.xlsx", str(period), project_id=typo, status=enums.REJETEE))
        if rng.random() < P_VERSION_2:
            files.append(Planned(name, str(period), early=True, status=enums.REMPLACEE))
            files.append(Planned(returns.file_name(spec, period, " v2"), str(period), version=2))
        elif rng.random() < P_BAD_LINES and _cofinanced(project, period.last_day):
            files.append(Planned(name, str(period), bad_lines=True, status=enums.RETENUE_AVEC_ANOMALIES))
        else:
            files.append(Planned(name, str(period)))
    return files


def portfolio(n: int, seed: int, max_split: int = MAX_SPLIT) -> tuple[list[Project], list[list[Planned]], ScaleSimulator]:
    """Projects until they send `n` returns (the last one keeps only its latest), with each one's files; an
    expense item is split over at most `max_split` EJs (1: the demo's small sheets)."""
    sim = ScaleSimulator(seed)
    rng = sim.rng
    numbers: Counter[str] = Counter()
    projects: list[Project] = []
    plans: list[list[Planned]] = []
    total = 0
    while total < n:
        cycle, selection, _ = rng.choices(CYCLES, weights=[w for _, _, w in CYCLES])[0]
        year = cycle[:4]
        numbers[year] += 1
        if numbers[year] > 999:
            raise SystemExit(f"trop de projets pour {year} (999 au plus par année de sélection) : N trop grand")
        number = numbers[year]
        sim.pieces = round(math.exp(rng.uniform(0, math.log(max(1, max_split)))))
        spec = _spec(rng, f"AP-{year}-{number:02d}" if number < 100 else f"AP-{year}-{number:03d}", cycle,
                     selection, sim.pieces)
        project = sim.project(spec)
        files = _plan(project, rng)
        files = files[max(0, len(files) - (n - total)):]
        projects.append(project)
        plans.append(files)
        total += len(files)
    return projects, plans, sim


def _tables(project: Project, file: Planned) -> returns.Tables:
    period = Period.parse(file.period)
    asof = period.last_day - dt.timedelta(days=45) if file.early else period.last_day
    tables = returns.tables(project, asof)
    if file.bad_lines:
        faults.bad_lines(tables)
    return tables


def _write_project(job: tuple[Path, Project, list[Planned]]) -> int:
    """Pool worker: every file of one project."""
    folder, project, files = job
    for file in files:
        projet = returns.projet(project, Period.parse(file.period), file.version)
        if file.project_id is not None:
            projet["project_id"] = file.project_id
        write_return(folder / file.name, projet, _tables(project, file))
    return len(files)


def referentiel_sheets(projects: Sequence[Project]) -> dict[str, Sheet]:
    """The demo's référentiel for these projects, with envelopes and tranches that fit their FTAP plan (the
    contract's amounts are for a dozen projects): 10 % above the plan, per category and year."""
    sheets = referentiel.referentiel_sheets(projects)
    planned: dict[tuple[str, int], int] = defaultdict(int)
    for project in projects:
        for ej in project.ejs:
            if ej.ftap:
                planned[(ej.categorie, ej.date.year)] += ej.planned
    years = sorted({year for _, year in planned})
    enveloppes: list[tuple[object, ...]] = []
    by_year: dict[int, float] = defaultdict(float)
    for categorie in enums.CATEGORIES:
        for year in years:
            amount = float(math.ceil(planned.get((categorie, year), 0) * 1.1 / 100_000) * 100_000)
            by_year[year] += amount
            enveloppes.append((CONTRACT_DATE, categorie, 3, year, enums.FTAP, amount, amount))
            enveloppes.append((CONTRACT_DATE, categorie, 3, year, "Porteur", 0.0, 0.0))
    tranches: list[tuple[object, ...]] = [
        (year, CONTRACT_DATE if year == CONTRACT_DATE.year else dt.date(year, 2, 15), by_year[year], by_year[year])
        for year in years]
    return {**sheets, "Enveloppes": (sheets["Enveloppes"][0], enveloppes), "Tranches": (sheets["Tranches"][0], tranches)}


def generate(n: int, seed: int, dest: Path, workers: int = 2, quiet: bool = False,
             max_split: int = MAX_SPLIT) -> dict[str, object]:
    """Write the inputs folder `dest` (reference/, remontees/, chorus/) for `n` returns; returns its description."""
    started = time.perf_counter()
    if dest.exists():
        shutil.rmtree(dest)
    projects, plans, sim = portfolio(n, seed, max_split)
    write_referentiel(dest / "reference" / "referentiel.xlsx", referentiel_sheets(projects), created=referentiel.CREATED,
                      title=referentiel.TITLE)
    ae, cp = chorus_movements(projects)
    ae_rows, cp_rows = chorus.extract_rows(ae, cp, sim.rng)
    extracted = dt.datetime.combine(EXTRACTION, EXTRACTION_TIME)
    (dest / "chorus").mkdir(parents=True)
    write_chorus_csv(dest / "chorus" / chorus.AE_FILE, chorus.AE_TITLE, chorus.PROGRAMME, extracted, AE_HEADER, ae_rows)
    write_chorus_csv(dest / "chorus" / chorus.CP_FILE, chorus.CP_TITLE, chorus.PROGRAMME, extracted, CP_HEADER, cp_rows)
    folder = dest / "remontees"
    folder.mkdir(parents=True)
    jobs = [(folder, project, files) for project, files in zip(projects, plans, strict=True) if files]
    done = 0
    step = max(1, n // 20)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for count in pool.imap_unordered(_write_project, jobs, chunksize=4):
            before, done = done, done + count
            if not quiet and (done // step > before // step or done == n):
                rate = done / (time.perf_counter() - started)
                print(f"  {done}/{n} remontées écrites ({rate:.0f}/s)", flush=True)
    statuses = {f.name: f.status for files in plans for f in files}
    elapsed = time.perf_counter() - started
    description: dict[str, object] = {
        "n": n, "seed": seed, "max_split": max_split, "period": str(LAST_PERIOD), "projects": len(projects),
        "ejs": sum(len(p.ejs) for p in projects), "chorus_lines": {"ae": len(ae_rows), "cp": len(cp_rows)},
        "generation_s": round(elapsed, 1), "expected_statuses": dict(Counter(statuses.values())),
        "files": dict(sorted(statuses.items())),
    }
    (dest / SET_FILE).write_text(json.dumps(description, ensure_ascii=False, indent=1), encoding="utf-8")
    return description


def set_name(n: int, seed: int, max_split: int = MAX_SPLIT) -> str:
    """`<N>-<seed>`, with `-split<K>` when the sheets are not the default ones."""
    return f"{n}-{seed}" if max_split == MAX_SPLIT else f"{n}-{seed}-split{max_split}"


def ensure(n: int, seed: int, data: Path, workers: int = 2, max_split: int = MAX_SPLIT) -> Path:
    """The inputs folder for (`n`, `seed`, `max_split`) under `data`, generated only when missing or incomplete."""
    dest = data / set_name(n, seed, max_split)
    if not (dest / SET_FILE).is_file():
        print(f"Génération de {n} remontées dans {dest}…", flush=True)
        desc = generate(n, seed, dest, workers, max_split=max_split)
        print(f"  {desc['projects']} projets, {desc['ejs']} EJ, en {desc['generation_s']} s", flush=True)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, help="number of return files")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--dest", type=Path, help="inputs folder to write (default bench/.data/<N>-<seed>)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-split", type=int, default=MAX_SPLIT,
                        help=f"most EJs an expense item is split over ({MAX_SPLIT}; 1 gives the demo's small sheets)")
    args = parser.parse_args()
    dest = args.dest or ROOT / "bench" / ".data" / set_name(args.n, args.seed, args.max_split)
    desc = generate(args.n, args.seed, dest, args.workers, max_split=args.max_split)
    print(f"{dest} : {desc['n']} remontées, {desc['projects']} projets, {desc['ejs']} EJ, "
          f"statuts attendus {desc['expected_statuses']}, en {desc['generation_s']} s ; "
          f"ftap run --period {desc['period']}")


if __name__ == "__main__":
    main()
