"""The run's summary for Prefect's UI (markdown artifact `ftap-<run>`): the Synthèse's facts, then what was sent.

Text read from the inputs (project titles, porteurs' names) is escaped, so a title cannot inject markdown
or a link into the page an operator reads.
"""

from __future__ import annotations

import re
from pathlib import Path

from ftap_pipeline.core.assemble import Report
from ftap_pipeline.core.french_text import value_text
from ftap_pipeline.io.delivery import DeliveryOutcome

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def escape(text: str) -> str:
    """Markdown's special characters taken literally; line breaks and control characters flattened."""
    flat = "".join(c if c.isprintable() else " " for c in text)
    return _SPECIAL.sub(r"\\\1", flat)


def artifact_key(label: str) -> str:
    """`ftap-2025-t2`, `ftap-comite-2025-06-12`: Prefect keys take lowercase letters, digits and dashes only."""
    return "ftap-" + re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def report_markdown(report: Report, workbook: Path) -> str:
    """The report's half of the summary: what it covers, its facts, where the workbook is."""
    lines = [f"# Rapport FTAP — {escape(report.scope.title)}", "",
             f"Date d'arrêté : {report.scope.cutoff:%d/%m/%Y}. Classeur : `{escape(str(workbook))}`", "",
             "| Indicateur | Valeur |", "|---|---|"]
    lines += [f"| {escape(label)} | {escape(value_text(value, kind))} |" for label, value, kind in report.facts]
    return "\n".join(lines) + "\n"


def delivery_markdown(outcome: DeliveryOutcome) -> str:
    """The half only the end of the run knows: each message and what became of it."""
    if not outcome.messages:
        return "\n## Courriels\n\nAucun courriel prévu.\n"
    lines = ["", "## Courriels", "", "| Pour | Adresse | Objet | Résultat |", "|---|---|---|---|"]
    lines += [f"| {escape(m.about)} | {escape(m.recipient or '—')} | {escape(m.subject)} | {escape(m.status)} |"
              for m in outcome.messages]
    return "\n".join(lines) + "\n"
