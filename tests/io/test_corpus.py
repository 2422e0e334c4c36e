"""Real workbooks from other projects, none in our format, dropped into the inbox: each is turned away with a
clear French reason, nothing crashes, and the run goes on with the good returns."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftap_pipeline.contract import enums
from tests import builders as b
from tests.conftest import CORPUS

FILES = sorted(CORPUS.glob("*")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not FILES, reason="shared corpus not present")
def test_every_corpus_file_is_turned_away_and_good_returns_still_count(tmp_path: Path) -> None:
    good = b.write(tmp_path, "bonne.xlsx")
    a = b.assess_files([*FILES, good])
    by_file = {r.file: r for r in a.records}
    assert by_file["bonne.xlsx"].status == enums.RETENUE
    for path in FILES:
        r = by_file[path.name]
        assert r.status == enums.REJETEE, path.name
        reasons = [f for f in r.findings if f.severity == "Bloquant"]
        assert reasons, path.name
        assert all(f.message and f.action for f in reasons)
    encrypted = by_file["tafia__tests_pass_protected.xlsx"]
    assert [f.slug for f in encrypted.findings] == ["file-encrypted"]
