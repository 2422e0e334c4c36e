"""The user documentation covers what the code defines: every finding slug, every CLI option and command,
every field label of the return workbook."""

from __future__ import annotations

import argparse
import re
import string
from pathlib import Path

from ftap_pipeline.cli import build_parser
from ftap_pipeline.contract import layout
from ftap_pipeline.contract.findings import RULES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _sections(text: str) -> dict[str, str]:
    """Each `### `slug`` section of the anomalies page, by slug."""
    parts = text.split("### `")[1:]
    return {part.split("`", 1)[0]: part for part in parts}


def _item(section: str, label: str) -> list[str]:
    """The texts of a section's `- **Label :** …` lines."""
    head = f"- **{label} :** "
    return [line[len(head):] for line in section.splitlines() if line.startswith(head)]


def test_every_finding_slug_is_documented_as_the_taxonomy_says() -> None:
    """The page is checked against the taxonomy: gravity, title, message template and what to do, each on one
    line of its own that says exactly what the code says (not merely a text that contains it)."""
    sections = _sections((DOCS / "anomalies.md").read_text(encoding="utf-8"))
    assert set(sections) == set(RULES)
    for slug, rule in RULES.items():
        section = sections[slug]
        assert _item(section, "Gravité") == [rule.severity], slug
        assert _item(section, "Titre") == [rule.title], slug
        assert _item(section, "Message") == [f"`{rule.template}`"], slug
        assert _item(section, "Que faire") == [rule.action], slug


def test_every_placeholder_of_a_template_is_explained() -> None:
    """Each `{placeholder}` of a rule's template is explained, in French, on the rule's « Valeurs » line; a line
    that names a placeholder the template does not have (a renamed one) fails too."""
    sections = _sections((DOCS / "anomalies.md").read_text(encoding="utf-8"))
    for slug, rule in RULES.items():
        lines = _item(sections[slug], "Valeurs")
        if not rule.placeholders:
            assert not lines, slug
            continue
        assert len(lines) == 1, slug
        assert set(re.findall(r"`\{(\w+)\}`", lines[0])) == set(rule.placeholders), slug
        assert lines[0].endswith("."), slug


def _pattern(template: str) -> re.Pattern[str]:
    parts = [re.escape(text) + ("(.+?)" if name else "") for text, name, _, _ in string.Formatter().parse(template)]
    return re.compile("".join(parts), re.DOTALL)


def test_every_example_is_a_message_of_its_rule() -> None:
    """The examples of the page (in italics on the « Exemple » line) are messages their template can give."""
    sections = _sections((DOCS / "anomalies.md").read_text(encoding="utf-8"))
    for slug, rule in RULES.items():
        [line] = _item(sections[slug], "Exemple")
        examples = re.findall(r"(?<!\*)\*([^*]+)\*(?!\*)", line)
        assert examples, slug
        for example in examples:
            assert _pattern(rule.template).fullmatch(example), (slug, example)


def test_the_pattern_of_a_template_tells_a_message_from_another() -> None:
    assert _pattern("Remplacée par {fichier} (version {version}).").fullmatch("Remplacée par a.xlsx (version 2).")
    assert not _pattern("Remplacée par {fichier} (version {version}).").fullmatch("Remplacée par a.xlsx.")


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
