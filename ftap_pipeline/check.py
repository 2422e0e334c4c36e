"""`ftap check`: the central run's verdict on a porteur's own files, for the terminal or as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Finding
from ftap_pipeline.contract.model import ReturnRecord
from ftap_pipeline.core.assess import Assessment, assess_returns
from ftap_pipeline.core.report import finding_sort_key


@dataclass(frozen=True)
class CheckResult:
    assessment: Assessment
    referentiel_used: bool

    @property
    def records(self) -> tuple[ReturnRecord, ...]:
        return self.assessment.records

    @property
    def would_lose_lines(self) -> bool:
        """True when a file would be rejected or some of its lines left out."""
        return any(r.status == enums.REJETEE or r.lines_rejected for r in self.records)


def check_files(files: Sequence[Path], referentiel_path: Path | None) -> CheckResult:
    """Assess the files exactly as the central run does (same reader, same rules, same messages)."""
    from ftap_pipeline.io.intake import read_returns
    from ftap_pipeline.io.referentiel_reader import read_referentiel

    referentiel = read_referentiel(referentiel_path) if referentiel_path else None
    items = read_returns(list(files), workers=min(2, len(files)))
    return CheckResult(assess_returns(items, referentiel, cutoff=None), referentiel is not None)


def _findings_of(r: ReturnRecord) -> list[Finding]:
    return sorted(r.findings, key=finding_sort_key)


def render_table(result: CheckResult) -> str:
    lines: list[str] = []
    if not result.referentiel_used:
        lines.append("(sans référentiel : l'identifiant du projet et les critères §4.3 ne sont pas vérifiés)")
    for r in result.records:
        lines.append("")
        lines.append(f"{r.file} — {r.status} — lignes lues {r.lines_read}, retenues {r.lines_kept}, "
                     f"rejetées {r.lines_rejected}")
        lines.append(render_findings(r.findings) if r.findings else "  Aucune anomalie.")
    return "\n".join(lines).lstrip("\n")


def render_findings(findings: Sequence[Finding]) -> str:
    """Findings as a person reads them in a terminal: gravity, cell, rule, message, then what to do."""
    ordered = sorted(findings, key=finding_sort_key)
    width = max((len(f.cell or f.sheet or "—") for f in ordered), default=1)
    lines = []
    for f in ordered:
        where = f.cell or f.sheet or "—"
        value = f" [valeur lue : {f.value}]" if f.value else ""
        lines.append(f"  {f.severity!s:<13} {where:<{width}}  {f.slug:<26} {f.message}{value}")
        lines.append(f"  {'':<13} {'':<{width}}  → {f.action}")
    return "\n".join(lines)


def render_json(result: CheckResult) -> str:
    payload = {
        "referentiel": result.referentiel_used,
        "fichiers": [
            {"fichier": r.file, "sha256": r.sha256, "statut": r.status, "projet": r.project_id, "periode": r.period,
             "lignes_lues": r.lines_read, "lignes_retenues": r.lines_kept, "lignes_rejetees": r.lines_rejected,
             "anomalies": [{"gravite": str(f.severity), "regle": f.slug, "feuille": f.sheet, "cellule": f.cell,
                            "champ": f.field, "valeur_lue": f.value, "message": f.message, "que_faire": f.action}
                           for f in _findings_of(r)]}
            for r in result.records
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)
