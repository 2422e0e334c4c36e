"""The manifest of a run: what it read (with fingerprints and fates), with which software, for which scope.

The model is built by the assembly; `io.manifest_writer` adds what only the writing knows (durations and
the files written) and serialises it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ftap_pipeline import __version__
from ftap_pipeline.contract import inbox
from ftap_pipeline.contract.model import ChorusRestitution, ParsedReturn, ReturnRecord
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.figures import ReportScope

#: The fate of a return dated after the cut-off (remontee-v1): in the manifest, in no table.
LATER_STATUS = "postérieure à la date d'arrêté"


@dataclass(frozen=True)
class InputEntry:
    """One input file (or one restitution of a Chorus workbook)."""

    fichier: str
    sha256: str
    #: A Chorus restitution: its layout key (None when not recognised), and the worksheet of a workbook.
    chorus: bool = False
    format: str | None = None
    feuille: str = ""
    #: A return's fate.
    record: ReturnRecord | None = None
    #: A return dated after the cut-off: outside the run (project, period), named here only.
    later: tuple[str | None, str | None] | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"fichier": self.fichier, "sha256": self.sha256}
        if self.chorus:
            out["format"] = self.format
        if self.feuille:
            out["feuille"] = self.feuille
        if self.later is not None:
            out.update({"statut": LATER_STATUS, "projet": self.later[0], "periode": self.later[1]})
        r = self.record
        if r is not None:
            out.update({"statut": r.status, "projet": r.project_id, "periode": r.period, "lignes_lues": r.lines_read,
                        "lignes_retenues": r.lines_kept, "lignes_rejetees": r.lines_rejected})
        return out


@dataclass(frozen=True)
class Manifest:
    scope: ReportScope
    referentiel_file: str
    referentiel_sha256: str
    entries: tuple[InputEntry, ...]
    versions: tuple[tuple[str, str], ...]
    pipeline_version: str = __version__

    def as_json(self) -> dict[str, object]:
        """The manifest's body, in the order of `manifest.json`."""
        return {"rapport": self.scope.label, "periode": str(self.scope.period),
                "date_arrete": self.scope.cutoff.isoformat(), "version_pipeline": self.pipeline_version,
                "referentiel": {"fichier": self.referentiel_file, "sha256": self.referentiel_sha256},
                "entrees": [e.as_json() for e in self.entries], "versions": dict(self.versions)}

    @property
    def run_entries(self) -> tuple[InputEntry, ...]:
        """The inputs the run used: the returns dated after the cut-off are left out of the workbook, so that
        a rerun at an old cut-off gives the same workbook whatever arrived since."""
        return tuple(e for e in self.entries if e.later is None)

    def lines(self) -> tuple[tuple[str, str], ...]:
        """The same facts as (label, value) lines, for the workbook's `À propos` sheet."""
        lines = [("Rapport", self.scope.label), ("Date d'arrêté", self.scope.cutoff.isoformat()),
                 ("Version du pipeline", self.pipeline_version),
                 ("Référentiel", f"{self.referentiel_file} (SHA-256 {self.referentiel_sha256})"),
                 ("Fichiers en entrée", str(len(self.run_entries)))]
        lines += [(f"Entrée : {e.fichier}", f"SHA-256 {e.sha256}") for e in self.run_entries]
        lines += [(f"Version de {k}", v) for k, v in self.versions]
        return tuple(lines)


def manifest_of(records: Sequence[ReturnRecord], later: Sequence[ParsedReturn], chorus: Sequence[ChorusRestitution],
                referentiel: Referentiel, scope: ReportScope, versions: Mapping[str, str]) -> Manifest:
    entries = [InputEntry(f"{inbox.RETURNS_DIR}/{r.file}", r.sha256, record=r) for r in records]
    if later:
        entries += [InputEntry(f"{inbox.RETURNS_DIR}/{p.file}", p.sha256, later=(p.projet.project_id, p.projet.period))
                    for p in later]
        entries.sort(key=lambda e: e.fichier)
    entries += [InputEntry(f"{inbox.CHORUS_DIR}/{c.file}", c.sha256, chorus=True, format=c.layout,
                           feuille=c.sheet) for c in chorus]
    entries.append(InputEntry(inbox.REFERENCE_FILE, referentiel.sha256))
    return Manifest(scope=scope, referentiel_file=referentiel.source, referentiel_sha256=referentiel.sha256,
                    entries=tuple(entries), versions=tuple(versions.items()))
