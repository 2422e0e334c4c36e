"""`ftap check`: the central run's verdict on a porteur's own files, for the terminal or as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ftap_pipeline.contract import enums
from ftap_pipeline.contract.findings import Finding
from ftap_pipeline.contract.model import ReturnInput, ReturnRecord
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.assess import assess_returns
from ftap_pipeline.core.report import finding_sort_key
from ftap_pipeline.core.safe_text import printable
from ftap_pipeline.core.snapshot import snapshot_of
from ftap_pipeline.io.check_reads import CheckReads, start_check_reads

#: Where the référentiel a file was checked against came from.
GIVEN, TEMPLATE, NONE = "fourni", "modele", "aucun"


@dataclass(frozen=True)
class CheckResult:
    """Every file's record, in the order given, and the référentiel each was checked against."""

    records: tuple[ReturnRecord, ...]
    #: File → GIVEN (`--referentiel`), TEMPLATE (the snapshot of a personal template) or NONE.
    sources: Mapping[str, str]
    #: What a person should know about the référentiel used (an outdated snapshot, say).
    notes: tuple[str, ...] = ()

    @property
    def referentiel_used(self) -> bool:
        """True when every file was checked against a référentiel, given or embedded in its template."""
        return all(s != NONE for s in self.sources.values())

    @property
    def would_lose_lines(self) -> bool:
        """True when a file would be rejected or some of its lines left out."""
        return any(r.status == enums.REJETEE or r.lines_rejected for r in self.records)


def check_files(files: Sequence[Path], referentiel_path: Path | None) -> CheckResult:
    """Assess the files exactly as the central run does (same reader, same rules, same messages).

    A personal template carries a snapshot of the référentiel: without `--referentiel`, the file is checked
    against it, so the criteria and the project's identity get the central run's verdict offline."""
    return check_started(start_check_reads(files, referentiel_path))


def check_started(reads: CheckReads) -> CheckResult:
    """`check_files` on files whose reading has started (`io.check_reads`): the référentiel's error is
    raised once every return is read, so that no reading is left behind."""
    from ftap_pipeline.io.intake import returns_of
    from ftap_pipeline.io.referentiel_reader import referentiel_of

    items = returns_of(reads.files, reads.returns.results())
    referentiel = referentiel_of(*reads.referentiel) if reads.referentiel is not None else None
    return assess_checked(items, referentiel)


def assess_checked(items: Sequence[ReturnInput], referentiel: Referentiel | None) -> CheckResult:
    """Group the files by the référentiel each is checked against, assess each group, keep the files' order."""
    groups: dict[str, tuple[Referentiel | None, list[ReturnInput]]] = {}
    sources: dict[str, str] = {}
    notes: list[str] = []
    for item in items:
        snap = snapshot_of(item.workbook) if item.workbook is not None else None
        if referentiel is not None:
            key, used, sources[item.file] = GIVEN, referentiel, GIVEN
            if snap is not None and snap.sha256 != referentiel.sha256:
                notes.append(f"{item.file} : ce modèle a été établi avec un autre référentiel (SHA-256 "
                             f"{snap.sha256[:12]}…) que celui fourni ; le contrôle utilise celui fourni. "
                             f"Demandez à la DITP un modèle à jour.")
        elif snap is not None:
            key, used, sources[item.file] = f"{TEMPLATE}:{snap.sha256}:{snap.project_id}", snap.referentiel, TEMPLATE
        else:
            key, used, sources[item.file] = NONE, None, NONE
        groups.setdefault(key, (used, []))[1].append(item)
    by_file: dict[str, ReturnRecord] = {}
    for used, group in groups.values():
        by_file.update({r.file: r for r in assess_returns(group, used, cutoff=None).records})
    return CheckResult(tuple(by_file[i.file] for i in items), sources, tuple(notes))


def _findings_of(r: ReturnRecord) -> list[Finding]:
    return sorted(r.findings, key=finding_sort_key)


def render_table(result: CheckResult) -> str:
    lines: list[str] = list(result.notes)
    offline = [f for f, s in result.sources.items() if s == NONE]
    if offline:
        lines.append("Sans référentiel ni modèle personnalisé, l'identifiant du projet et les critères §4.3 ne sont "
                     "pas vérifiés pour : " + ", ".join(offline) + " (le traitement central le fera).")
    templated = [f for f, s in result.sources.items() if s == TEMPLATE]
    if templated:
        lines.append("Contrôlé avec le référentiel du modèle personnalisé : " + ", ".join(templated) + ".")
    for r in result.records:
        lines.append("")
        lines.append(f"{printable(r.file)} — {r.status} — lignes lues {r.lines_read}, retenues {r.lines_kept}, "
                     f"rejetées {r.lines_rejected}")
        lines.append(render_findings(r.findings) if r.findings else "  Aucune anomalie.")
    return "\n".join(lines).lstrip("\n")


def render_findings(findings: Sequence[Finding]) -> str:
    """Findings as a person reads them in a terminal: gravity, cell, rule, message, then what to do."""
    ordered = sorted(findings, key=finding_sort_key)
    width = max((len(f.cell or f.sheet or "—") for f in ordered), default=1)
    lines = []
    for f in ordered:
        where = printable(f.cell or f.sheet or "—")
        value = f" [valeur lue : {printable(f.value)}]" if f.value else ""
        lines.append(f"  {f.severity!s:<13} {where:<{width}}  {f.slug:<26} {printable(f.message)}{value}")
        lines.append(f"  {'':<13} {'':<{width}}  → {f.action}")
    return "\n".join(lines)


#: Version of the `--format json` schema (docs/ligne-de-commande.md): keys are only ever added, each keeping its
#: name, type and meaning; a change that breaks a reader (a key removed, renamed or retyped) takes the next version.
JSON_SCHEMA_VERSION = 1


def render_json(result: CheckResult) -> str:
    payload = {
        "version_schema": JSON_SCHEMA_VERSION,
        "referentiel": result.referentiel_used,
        "fichiers": [
            {"fichier": r.file, "sha256": r.sha256, "statut": r.status, "projet": r.project_id, "periode": r.period,
             "lignes_lues": r.lines_read, "lignes_retenues": r.lines_kept, "lignes_rejetees": r.lines_rejected,
             "referentiel_source": result.sources.get(r.file, NONE),
             "anomalies": [{"gravite": str(f.severity), "regle": f.slug, "feuille": f.sheet, "cellule": f.cell,
                            "champ": f.field, "valeur_lue": f.value, "message": f.message, "que_faire": f.action}
                           for f in _findings_of(r)]}
            for r in result.records
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)
