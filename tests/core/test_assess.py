"""An assessment moved to an earlier cut-off is the assessment made at that cut-off (what `Évolutions` relies on)."""

from __future__ import annotations

import datetime as dt

from ftap_pipeline.contract import inbox
from ftap_pipeline.core.assess import assess_parsed, parse_returns
from ftap_pipeline.io import intake
from ftap_pipeline.io.referentiel_reader import read_referentiel
from tests.conftest import INPUTS


def test_as_of_an_earlier_cutoff_equals_assessing_at_it() -> None:
    referentiel = read_referentiel(INPUTS / inbox.REFERENCE_FILE)
    parsed = parse_returns(intake.read_returns(intake.discover(INPUTS / inbox.RETURNS_DIR), workers=1))
    now = assess_parsed(parsed, referentiel, dt.date(2025, 6, 30))
    for earlier in (dt.date(2025, 3, 14), dt.date(2024, 12, 31), dt.date(2023, 9, 30)):
        direct = assess_parsed(parsed, referentiel, earlier)
        moved = now.as_of(earlier)
        assert moved.records == direct.records
        assert sorted(p.file for p in moved.later) == sorted(p.file for p in direct.later)
    assert len(now.as_of(dt.date(2025, 3, 14)).later) == 24
