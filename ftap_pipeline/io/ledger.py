"""The ledger of deliveries, `outputs/envois.sqlite` (livraison-v1): what was sent, to whom, and the reply.

One row per try that reached a verdict (`envoyé` or `échec`), never updated: the history stays whole. A message
already delivered — same run, recipient and content SHA-256 — is not sent again; `ftap envois` lists the rows.
Each call opens and closes its own connection, so two processes can share the file (SQLite locks it; a writer
waits up to `TIMEOUT_S` for the other).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

LEDGER_FILE: Final = "envois.sqlite"
SENT: Final = "envoyé"
FAILED: Final = "échec"
TIMEOUT_S: Final = 30.0

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS envois (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    attachment_sha256 TEXT NOT NULL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    reply TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS envois_key ON envois (run, recipient, attachment_sha256);
"""
_COLUMNS: Final = "run, kind, recipient, subject, attachment_sha256, message_id, status, reply, at"

#: How each kind of message reads in the listing.
KIND_NAMES: Final = {"secretariat": "secrétariat", "retour": "retour d'anomalies", "rappel": "relance"}


@dataclass(frozen=True)
class LedgerEntry:
    """One try's verdict. `attachment_sha256` is the attachment's SHA-256, or for a reminder its body's."""

    run: str
    kind: str
    recipient: str
    subject: str
    attachment_sha256: str
    message_id: str
    status: str
    reply: str
    #: ISO 8601, UTC (`2025-07-05T05:00:12+00:00`).
    at: str


def ledger_path(outputs_root: Path) -> Path:
    """The ledger sits in the outputs folder itself, beside the runs' folders: one for every run."""
    return outputs_root / LEDGER_FILE


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=TIMEOUT_S)
    try:
        with conn:  # one transaction, committed on success
            conn.executescript(_SCHEMA)
            yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection, or None when there is no ledger yet: reading never creates the file."""
    if not path.is_file():
        yield None
        return
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=TIMEOUT_S)
    try:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'envois'").fetchone()
        yield conn if exists else None
    finally:
        conn.close()


def is_delivered(path: Path, run: str, recipient: str, sha256: str) -> bool:
    with _reading(path) as conn:
        if conn is None:
            return False
        row = conn.execute("SELECT 1 FROM envois WHERE run = ? AND recipient = ? AND attachment_sha256 = ? "
                           "AND status = ? LIMIT 1", (run, recipient, sha256, SENT)).fetchone()
        return row is not None


def record(path: Path, run: str, kind: str, recipient: str, subject: str, sha256: str, message_id: str, status: str,
           reply: str, at: dt.datetime | None = None) -> LedgerEntry:
    """Add one try's verdict (`SENT` or `FAILED`) and return it."""
    if status not in (SENT, FAILED):
        raise ValueError(f"unknown ledger status {status!r}")
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")
    entry = LedgerEntry(run, kind, recipient, subject, sha256, message_id, status, reply, when)
    with _writing(path) as conn:
        conn.execute(f"INSERT INTO envois ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (entry.run, entry.kind, entry.recipient, entry.subject, entry.attachment_sha256, entry.message_id,
                      entry.status, entry.reply, entry.at))
    return entry


def entries(path: Path, run: str | None = None) -> list[LedgerEntry]:
    """Every row, oldest first; only those of `run` when given."""
    with _reading(path) as conn:
        if conn is None:
            return []
        where, args = ("WHERE run = ?", (run,)) if run is not None else ("", ())
        rows = conn.execute(f"SELECT {_COLUMNS} FROM envois {where} ORDER BY at, id", args).fetchall()
    return [LedgerEntry(*(str(v) for v in row)) for row in rows]


HEADINGS: Final = ("Date (UTC)", "Rapport", "Type", "Destinataire", "Objet", "Empreinte", "Statut", "Réponse du serveur")


def _row(e: LedgerEntry) -> tuple[str, ...]:
    when = e.at.replace("T", " ").removesuffix("+00:00")
    return (when, e.run, KIND_NAMES.get(e.kind, e.kind), e.recipient, e.subject, e.attachment_sha256[:12], e.status,
            e.reply)


def render_entries(found: Sequence[LedgerEntry], run: str | None = None) -> str:
    """The ledger as a French text table, one line per try; an empty ledger says so."""
    if not found:
        return f"Aucun envoi enregistré pour le rapport {run}." if run else "Aucun envoi enregistré."
    rows = [HEADINGS, *(_row(e) for e in found)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADINGS))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    sent = sum(1 for e in found if e.status == SENT)
    total = f"{len(found)} envoi(s) enregistré(s), dont {sent} remis et {len(found) - sent} en échec."
    return "\n".join([line(HEADINGS), line(["-" * w for w in widths]), *(line(r) for r in rows[1:]), "", total])


__all__ = ["FAILED", "LEDGER_FILE", "SENT", "LedgerEntry", "entries", "is_delivered", "ledger_path", "record",
           "render_entries"]
