"""What `ftap check` reads, started in worker processes before the modules that judge it are imported.

A check's wait is mostly imports: pandas and pandera take about 0.6 s of the second a porteur waits for
the answer. The files are read meanwhile, on the other core: their workers are started here, by a process
that has imported only the readers (no pandas), then `check.check_started` takes their results. This module
and what it imports must stay free of pandas (tests/io/test_check_reads.py checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.layout import UNREAD_SHEETS
from ftap_pipeline.io import referentiel_file
from ftap_pipeline.io.isolation import Isolated
from ftap_pipeline.io.referentiel_file import RawReferentiel
from ftap_pipeline.io.workbook_reader import ReadOutcome, start_reading


@dataclass(frozen=True)
class CheckReads:
    """The files of a check, being read: the returns (as a run reads them) and the référentiel, if given."""

    files: tuple[Path, ...]
    returns: Isolated[ReadOutcome]
    referentiel: tuple[Path, Isolated[RawReferentiel | InputError]] | None


def start_check_reads(files: Sequence[Path], referentiel: Path | None) -> CheckReads:
    """Start reading the files now; a référentiel that does not exist is raised now (`referentiel-missing`)."""
    ref = (referentiel, referentiel_file.start_reading(referentiel)) if referentiel is not None else None
    returns = start_reading(list(files), workers=max(1, min(2, len(files))), unread=UNREAD_SHEETS)
    return CheckReads(tuple(files), returns, ref)
