"""The user documentation covers what the code defines: every finding slug, every CLI option and command,
every field label of the return workbook."""

from __future__ import annotations

import argparse
from pathlib import Path

from ftap_pipeline.cli import build_parser
from ftap_pipeline.contract import layout
from ftap_pipeline.contract.findings import RULES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _sections(text: str) -> dict[str, str]:
    """Each `### `slug`` section of the anomalies page, by slug."""
    parts = text.split("### `")[1:]
    return {part.split("`", 1)[0]: part for part in parts}


def test_every_finding_slug_is_documented_as_the_taxonomy_says() -> None:
    """The page is checked against the taxonomy: gravity, title, message template and what to do, word for word."""
    sections = _sections((DOCS / "anomalies.md").read_text(encoding="utf-8"))
    assert set(sections) == set(RULES)
    for slug, rule in RULES.items():
        section = sections[slug]
        assert f"- **Gravité :** {rule.severity}" in section, slug
        assert f"- **Titre :** {rule.title}" in section, slug
        assert f"- **Message :** `{rule.template}`" in section, slug
        assert f"- **Que faire :** {rule.action}" in section, slug


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_command_and_option_is_documented() -> None:
    text = (DOCS / "ligne-de-commande.md").read_text(encoding="utf-8")
    for name, sub in _subparsers(build_parser()).items():
        assert f"ftap {name}" in text, name
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in text, (name, option)


def test_every_field_of_the_return_is_documented() -> None:
    text = (DOCS / "format-remontee.md").read_text(encoding="utf-8")
    for sheet in layout.SHEETS:
        assert sheet.name in text
        for f in sheet.fields:
            assert f.label in text, (sheet.name, f.label)
            for choice in f.choices:
                assert str(choice) in text, (f.label, choice)
