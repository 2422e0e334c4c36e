"""A run, as IO around the pure core: read the inputs, assemble the report, write it, send it.

Each step is a plain function of plain values that returns its duration with its result, so a Prefect
task or a test can call it, and nothing is written into a shared object, but one: the reading that
`ftap run` starts ahead of its flow (`read_ahead`) waits in `io/prefetch.py`, under the run's key, for the
flow's `ingest` to take it.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import importlib.metadata
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ftap_pipeline.contract import inbox
from ftap_pipeline.contract.findings import message
from ftap_pipeline.contract.model import ChorusRestitution, ParsedReturn
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.assemble import Report, assemble
from ftap_pipeline.core.assess import Assessment, assess_parsed
from ftap_pipeline.core.chorus import AllMovements, all_movements
from ftap_pipeline.core.figures import ReportScope, committee_dates
from ftap_pipeline.core.normalise import unreadable_return
from ftap_pipeline.core.period import Period
from ftap_pipeline.io import forked, intake, prefetch
from ftap_pipeline.io.chorus_reader import read_chorus_files
from ftap_pipeline.io.delivery import DeliveryOutcome, deliver, write_copies
from ftap_pipeline.io.referentiel_reader import read_referentiel
from ftap_pipeline.io.report_writer import publish_report
from ftap_pipeline.io.run_lock import outputs_lock
from ftap_pipeline.settings import SmtpSettings

log = logging.getLogger("ftap")

PACKAGES = ("ftap-pipeline", "pandas", "pandera", "openpyxl", "xlsxwriter", "python-calamine", "prefect")


@dataclass(frozen=True)
class Mailing:
    """What a run does with its messages: always the `.eml` copies; sent through `smtp` only when `send`.

    `resend` sends again what the ledger says was already delivered."""

    smtp: SmtpSettings | None = None
    send: bool = False
    resend: bool = False


@dataclass(frozen=True)
class RunConfig:
    """Where a run reads and writes, what it reports on, and what it sends."""

    inputs: Path
    outputs: Path
    scope: ReportScope
    workers: int = 2
    mailing: Mailing = field(default_factory=Mailing)

    @classmethod
    def quarterly(cls, inputs: Path, outputs: Path, period: Period, workers: int = 2,
                  mailing: Mailing | None = None) -> RunConfig:
        return cls(inputs, outputs, ReportScope.quarterly(period), workers, mailing or Mailing())

    @classmethod
    def committee(cls, inputs: Path, outputs: Path, day: dt.date, workers: int = 2,
                  mailing: Mailing | None = None) -> RunConfig:
        return cls(inputs, outputs, ReportScope.committee_of(day), workers, mailing or Mailing())

    @property
    def out_dir(self) -> Path:
        return self.outputs / self.scope.label

    @property
    def cache(self) -> Path:
        """The parsed returns' cache (`io/parse_cache.py`), in the outputs' state folder: deleting it is safe."""
        return self.outputs / ".etat" / "cache-remontees"


@dataclass(frozen=True)
class Ingested:
    """What was read, the returns assessed, and how long each took (seconds)."""

    referentiel: Referentiel
    assessment: Assessment
    chorus: tuple[ChorusRestitution, ...]
    durations: tuple[tuple[str, float], ...]
    #: The restitutions' movements, normalised while the returns were read; None: `build` does it.
    movements: AllMovements | None = None


@dataclass(frozen=True)
class Built:
    report: Report
    durations: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Scanned:
    """What a run knows before it reads a return: the référentiel, the returns to read (sorted by name), the
    inbox's entries refused with why, and when the reading began (`time.perf_counter`, in this process)."""

    referentiel: Referentiel
    paths: tuple[Path, ...]
    refused: tuple[tuple[str, str], ...]
    started: float


@dataclass(frozen=True)
class ReadInputs:
    """Everything a run reads from its inputs folder, before any return is assessed, and how long it took."""

    scanned: Scanned
    parsed: tuple[ParsedReturn, ...]
    chorus: tuple[ChorusRestitution, ...]
    seconds: float
    movements: AllMovements | None = None
    #: Writes the new parses into the cache, when the reading left that for the run to do (`read_ahead`).
    store_cache: Callable[[], None] = intake.nothing_to_store


def ingest(config: RunConfig) -> Ingested:
    """Read the référentiel, every return and every restitution, then assess the returns all at once.

    The reading is taken from `read_ahead` when it was started for this run. The flow may also call the
    steps apart, to read the returns' chunks elsewhere (a Dask cluster)."""
    ahead = prefetch.claim(_ahead_key(config))
    read = ahead.result() if ahead is not None else read_inputs(config)
    if not isinstance(read, ReadInputs):
        raise TypeError(f"read ahead: expected ReadInputs, got {type(read).__name__}")
    if read.store_cache is intake.nothing_to_store:
        return assess_read(config, read)
    assessed: list[Ingested] = []
    # The caller holds the outputs folder: a run refused for it has written nothing. The new parses go into
    # the cache from a forked child while the returns are assessed here (see `io/forked.py`).
    forked.side_by_side(read.store_cache, lambda: assessed.append(assess_read(config, read)))
    return assessed[0]


def read_inputs(config: RunConfig, *, store_cache_later: bool = False) -> ReadInputs:
    """Read the référentiel, list the inbox, parse every return (in workers, through the cache) and read the
    Chorus restitutions: all the run's reading, with nothing assessed yet. With `store_cache_later`, the new
    parses are written into the cache only by `ReadInputs.store_cache`."""
    scanned = scan_inputs(config)
    log.info("Lecture de %d remontée(s) et des restitutions Chorus…", len(scanned.paths))
    # The restitutions are read, and their movements normalised, in a thread beside the returns' reading:
    # this process only waits for the readers meanwhile, and the movements are off the one-core tail.
    with cf.ThreadPoolExecutor(1, thread_name_prefix=f"{threading.current_thread().name}/chorus") as beside:
        later = beside.submit(_chorus_and_movements, config, scanned.referentiel)
        got = intake.read_returns_cached(scanned.paths, config.workers, config.cache, store_now=not store_cache_later)
        restitutions, movements = later.result()
    return ReadInputs(scanned, tuple(got.returns), restitutions, time.perf_counter() - scanned.started, movements,
                      got.store)


def _chorus_and_movements(config: RunConfig, referentiel: Referentiel
                          ) -> tuple[tuple[ChorusRestitution, ...], AllMovements | None]:
    """The restitutions, and their movements when one of them could be read."""
    restitutions = read_chorus(config)
    usable = any(c.layout for c in restitutions)
    return restitutions, all_movements(list(restitutions), referentiel) if usable else None


#: How far below the command the reading ahead runs (a third of the server's weight for Linux's scheduler:
#: the server then keeps a core to itself while both are busy).
READ_AHEAD_NICE: Final = 5


def read_ahead(config: RunConfig) -> None:
    """Start `read_inputs(config)` in the background, for the `ingest` of the same run to take.

    `ftap run` calls it before it waits for Prefect's temporary server: the reading uses the cores that the
    wait leaves idle. It takes no lock and writes nothing (the cache is written by `ingest`, under the run's
    lock). The readers' modules are imported first, in this thread (see `io/prefetch.py`).

    The reading runs a little below the command's priority (`READ_AHEAD_NICE`): the server's start is one
    core of Python work that the flow waits for, so it goes first, as fast as it would alone, and the
    reading takes what it leaves; the flow's run is then created while the reading ends, not after it."""
    intake.import_readers()
    prefetch.start(_ahead_key(config), lambda: read_inputs(config, store_cache_later=True), nice=READ_AHEAD_NICE)


def forget_read_ahead(config: RunConfig) -> None:
    """Drop a reading started by `read_ahead` that the run did not take (it stopped before reading)."""
    prefetch.discard(_ahead_key(config))


def _ahead_key(config: RunConfig) -> tuple[str, str, str, int]:
    """What a reading depends on: the inputs, the cache, the report (a committee's date warning), the workers."""
    return (str(config.inputs.resolve()), str(config.cache.resolve()), config.scope.label, config.workers)


def scan_inputs(config: RunConfig) -> Scanned:
    """Read the référentiel and list the returns' inbox (an unusable référentiel stops the run here)."""
    t0 = time.perf_counter()
    referentiel = read_referentiel(config.inputs / inbox.REFERENCE_FILE)
    scope = config.scope
    if scope.committee and scope.cutoff not in committee_dates(referentiel):
        log.warning("Attention : %s", message("committee-date-unknown", date=f"{scope.cutoff:%d/%m/%Y}"))
    paths, refused = intake.scan(config.inputs / inbox.RETURNS_DIR)
    return Scanned(referentiel, tuple(paths), tuple(refused), t0)


def read_chunk(paths: Sequence[Path], workers: int = 2, *, cache: Path | None = None) -> list[ParsedReturn]:
    """Read and parse some returns in isolated processes, in the order given (wherever this runs: a Dask
    worker as well)."""
    return intake.parse_returns(paths, workers, cache=cache)


def read_chorus(config: RunConfig) -> tuple[ChorusRestitution, ...]:
    """The Chorus restitutions of the inputs folder, each file read in a worker."""
    return tuple(read_chorus_files(intake.discover(config.inputs / inbox.CHORUS_DIR), workers=config.workers))


def assess_inputs(config: RunConfig, scanned: Scanned, parsed: Sequence[ParsedReturn]) -> Ingested:
    """With every return parsed (on a cluster): the Chorus restitutions read, then `assess_read`."""
    chorus = read_chorus(config)
    return assess_read(config, ReadInputs(scanned, tuple(parsed), chorus, time.perf_counter() - scanned.started))


def assess_read(config: RunConfig, read: ReadInputs) -> Ingested:
    """The refused entries as rejected returns, then all the returns assessed at once."""
    scanned = read.scanned
    returns = [*read.parsed, *(unreadable_return(item) for item in intake.refused_returns(scanned.refused))]
    returns.sort(key=lambda p: p.file)
    if scanned.refused:
        log.warning("Attention : %d entrée(s) du dossier des remontées ne sont pas lues (liens, dossiers, fichiers "
                    "cachés…) ; elles figurent comme rejetées.", len(scanned.refused))
    log.info("Contrôle des remontées…")
    t1 = time.perf_counter()
    assessment = assess_parsed(returns, scanned.referentiel, config.scope.cutoff)
    t2 = time.perf_counter()
    return Ingested(scanned.referentiel, assessment, read.chorus, (("lecture", read.seconds), ("validation", t2 - t1)),
                    read.movements)


def build(ingested: Ingested, config: RunConfig) -> Built:
    """Reconcile and lay out every output, in memory."""
    t0 = time.perf_counter()
    log.info("Rapprochement AE/CP (enveloppes, déclarations, Chorus)…")
    report = assemble(ingested.assessment, ingested.referentiel, ingested.chorus, config.scope, package_versions(),
                      ingested.movements, beside=forked.computed_beside)
    return Built(report, (("rapprochement", time.perf_counter() - t0),))


def publish(built: Built, ingested: Ingested, config: RunConfig, execution: Mapping[str, str] | None = None) -> Path:
    """Write every output of the report and the `.eml` copies of its messages into a staging folder, the manifest
    last (with the orchestrator's identifiers of the run, when there is one), then swap it in whole: a reader
    sees the previous report or this one, never a mix, and no message goes out before it is published."""
    log.info("Écriture des classeurs dans %s…", config.out_dir.resolve())
    report = built.report
    published = publish_report(report, config.outputs, (*ingested.durations, *built.durations), execution,
                               also=lambda staging: write_copies(report.courriers, staging, config.out_dir,
                                                                 config.scope.label, config.mailing.smtp))
    if published.archived is not None:
        log.warning("Le rapport %s déjà présent est remplacé ; l'ancien est conservé dans %s.", config.scope.label,
                    published.archived.resolve())
    return published.workbook


def send(built: Built, config: RunConfig) -> DeliveryOutcome:
    """Write a `.eml` copy of every message due and, when the run sends, deliver those not yet delivered."""
    mailing = config.mailing
    if mailing.send:
        log.info("Envoi des courriels…")
    outcome = deliver(built.report.courriers, config.out_dir, config.outputs, config.scope.label, mailing.smtp,
                      send=mailing.send, resend=mailing.resend)
    for line in outcome.lines():
        log.info("  %s", line)
    return outcome


def package_versions() -> dict[str, str]:
    """The installed versions of the software that made the report, for its manifest."""
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = "absent"
    return versions


@dataclass(frozen=True)
class RunResult:
    workbook: Path
    delivery: DeliveryOutcome


def run(config: RunConfig) -> RunResult:
    """The whole run, without Prefect (the flow calls the same steps as tasks), holding the outputs folder."""
    with outputs_lock(config.outputs, f"rapport {config.scope.label}"):
        ingested = ingest(config)
        built = build(ingested, config)
        workbook = publish(built, ingested, config)
        return RunResult(workbook, send(built, config))


def run_report(config: RunConfig) -> Path:
    """`run`, for the callers that only need the workbook's path."""
    return run(config).workbook


__all__ = ["Built", "Ingested", "Mailing", "ReadInputs", "RunConfig", "RunResult", "Scanned", "assess_inputs",
           "assess_read", "build", "forget_read_ahead", "ingest", "publish", "read_ahead", "read_chorus", "read_chunk",
           "read_inputs", "run", "run_report", "scan_inputs", "send"]
