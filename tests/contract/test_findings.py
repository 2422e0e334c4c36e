"""The finding taxonomy: stable slugs, French texts, and a test fixture for every rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ftap_pipeline.contract.findings import RULES, finding

TESTS = Path(__file__).resolve().parent.parent


def test_slugs_are_kebab_case_with_french_texts() -> None:
    for slug, rule in RULES.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
        assert rule.title
        assert rule.action
        assert rule.action.endswith((".", ")"))


def test_unknown_slug_is_refused_at_once() -> None:
    with pytest.raises(KeyError):
        finding("no-such-rule", "x")


def test_every_rule_has_a_test_that_expects_it() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("test_*.py") if p.name != "test_findings.py")
    untested = [slug for slug in RULES if f'"{slug}"' not in text and f"'{slug}'" not in text]
    assert not untested, f"rules without a fixture: {untested}"
