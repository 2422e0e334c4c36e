"""The finding taxonomy: stable slugs, French texts, and a test fixture for every rule."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ftap_pipeline.contract.errors import InputError
from ftap_pipeline.contract.findings import RULES, TEMPLATES, finding, finding_of, message

TESTS = Path(__file__).resolve().parent.parent


def test_slugs_are_kebab_case_with_french_texts() -> None:
    for slug, rule in RULES.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
        assert rule.title
        assert rule.action
        assert rule.action.endswith((".", ")"))


def test_unknown_slug_is_refused_at_once() -> None:
    with pytest.raises(KeyError):
        finding("no-such-rule")


def test_every_rule_has_a_template_whose_placeholders_are_filled() -> None:
    assert set(TEMPLATES) == set(RULES)
    for slug, rule in RULES.items():
        values = {name: f"<{name}>" for name in rule.placeholders}
        text = message(slug, **values)
        assert all(f"<{name}>" in text for name in rule.placeholders), slug
        assert "{" not in text, slug
        assert "}" not in text, slug


def test_a_missing_or_extra_value_is_refused() -> None:
    with pytest.raises(KeyError, match="superseded-return"):
        message("superseded-return", fichier="b.xlsx")
    with pytest.raises(KeyError, match="superseded-return"):
        message("superseded-return", fichier="b.xlsx", version=2, projet="AP-2024-01")
    assert message("superseded-return", fichier="b.xlsx", version=2) == "Remplacée par b.xlsx (version 2)."


def test_an_input_error_carries_its_rendered_template() -> None:
    error = InputError("too-many-decimals", {"valeur": "1,234"})
    assert (error.slug, error.message, str(error)) == ("too-many-decimals", "« 1,234 » a plus de deux décimales.",
                                                       "« 1,234 » a plus de deux décimales.")
    assert finding_of(error, file="a.xlsx").message == error.message


def _expected_strings(tree: ast.Module) -> set[str]:
    """String constants a test module expects: inside an `assert`, a comparison (`f.slug == "…"` filters what
    is then asserted), or the cases of a `parametrize` decorator, with the module-level lists and case-building
    functions it names. A slug merely mentioned elsewhere (a docstring, a comment, a call) does not count."""
    top: dict[str, ast.AST] = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                               for t in node.targets if isinstance(t, ast.Name)}
    top.update({node.target.id: node.value for node in tree.body
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None})
    top.update({node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)})
    roots: list[ast.AST] = [n for n in ast.walk(tree) if isinstance(n, ast.Assert | ast.Compare)]
    pending: list[ast.AST] = [arg for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                              and n.func.attr == "parametrize" for arg in n.args[1:2]]
    # The module's case builders that an asserting test calls: what they build is what the test expects.
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
             and any(isinstance(m, ast.Assert) for m in ast.walk(n))]
    pending += [top[c.func.id] for t in tests for c in ast.walk(t) if isinstance(c, ast.Call)
                and isinstance(c.func, ast.Name) and isinstance(top.get(c.func.id), ast.FunctionDef)]
    seen: set[str] = set()
    while pending:
        root = pending.pop()
        roots.append(root)
        for name in {n.id for n in ast.walk(root) if isinstance(n, ast.Name)} - seen:
            seen.add(name)
            if name in top:
                pending.append(top[name])
    return {n.value for root in roots for n in ast.walk(root) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_every_rule_has_a_test_that_expects_it() -> None:
    expected: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        if path.name != "test_findings.py":
            expected |= _expected_strings(ast.parse(path.read_text(encoding="utf-8")))
    untested = [slug for slug in RULES if slug not in expected]
    assert not untested, f"rules that no test asserts on: {untested}"


def test_a_slug_only_mentioned_does_not_count() -> None:
    tree = ast.parse('"""Mentions file-unreadable."""\nX = "type-error"\ndef test_a() -> None:\n'
                     '    g("missing-value")\n    assert f() == ["too-many-decimals"]\n')
    assert _expected_strings(tree) == {"too-many-decimals"}
