"""A run's messages, from the plan to the relay (livraison-v1): a `.eml` copy of each, then, when the run sends,
delivery of those the ledger does not already hold.

A message whose address is missing is reported, not sent; a message that failed is reported with the server's
reply and left for the next run (it is not in the ledger as delivered). What is returned, `DeliveryOutcome`, is
small and frozen: it goes between Prefect tasks and into the run's summary. No secret reaches it, nor the logs,
the `.eml` copies or the ledger: only `SmtpSender` ever reads the password.
"""

from __future__ import annotations

import email
import functools
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from enum import StrEnum
from pathlib import Path
from typing import Final

from ftap_pipeline.core.courriels import Courrier, CourrierKind
from ftap_pipeline.core.feedback import porteur_key
from ftap_pipeline.io import ledger
from ftap_pipeline.io.atomic import write_bytes
from ftap_pipeline.io.forked import side_by_side
from ftap_pipeline.io.mail_message import build_message, content_sha256, message_id
from ftap_pipeline.io.smtp_sender import SendResult, SmtpSender
from ftap_pipeline.io.staging import written_at
from ftap_pipeline.settings import DEFAULT_MAX_ATTACHMENT_MB, SmtpSettings

log = logging.getLogger("ftap")

EML_DIR: Final = "courriels"
#: The sender of the `.eml` copies of a run without settings (nothing is sent then).
DRY_RUN_FROM: Final = "ftap@ftap.invalid"
#: Mo = 2²⁰ octets, as everywhere in the project.
MB: Final = 2**20


class DeliveryState(StrEnum):
    SENT = "envoyé"
    ALREADY_SENT = "déjà envoyé"
    EML_ONLY = "copie .eml seulement"
    NOT_SENDABLE = "non envoyé"
    FAILED = "échec"


@dataclass(frozen=True)
class MessageOutcome:
    """One message: who it is for, where its copy is (relative to the run's folder), and what became of it."""

    about: str
    recipient: str | None
    subject: str
    state: DeliveryState
    #: The problem of a message not sendable, or the server's reply to a failed one.
    detail: str = ""
    eml: str = ""

    @property
    def status(self) -> str:
        """In French: `envoyé`, `déjà envoyé`, `copie .eml seulement`, `non envoyé : …`, `échec : …`."""
        return f"{self.state} : {self.detail}" if self.detail else str(self.state)


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of a run's messages, in plan order."""

    messages: tuple[MessageOutcome, ...] = ()

    def count(self, state: DeliveryState) -> int:
        return sum(1 for m in self.messages if m.state is state)

    @property
    def sent(self) -> int:
        return self.count(DeliveryState.SENT)

    @property
    def already_sent(self) -> int:
        return self.count(DeliveryState.ALREADY_SENT)

    @property
    def eml_only(self) -> int:
        return self.count(DeliveryState.EML_ONLY)

    @property
    def not_sendable(self) -> int:
        return self.count(DeliveryState.NOT_SENDABLE)

    @property
    def undelivered(self) -> int:
        """Failed sends only (exit code 4): a missing address is reported, and is not counted here."""
        return self.count(DeliveryState.FAILED)

    def lines(self) -> Iterator[str]:
        """One French line per message, then the counts: for the logs and the terminal."""
        for m in self.messages:
            yield f"{m.about} — {m.recipient or 'sans adresse'} : {m.status}"
        yield self.summary()

    def summary(self) -> str:
        return (f"Courriels : {self.sent} envoyé(s), {self.already_sent} déjà envoyé(s), {self.eml_only} en copie .eml "
                f"seulement, {self.not_sendable} sans adresse utilisable, {self.undelivered} en échec.")


def _safe(recipient: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]+", "_", recipient).strip("._")[:80] or "destinataire"


def eml_name(n: int, courrier: Courrier, recipient: str | None) -> str:
    """`<n>_<recipient>.eml`; a message with no recipient is named after whom it is for."""
    if recipient:
        return f"{n}_{_safe(recipient)}.eml"
    who = "secretariat" if courrier.kind is CourrierKind.SECRETARIAT else f"sans_adresse_{porteur_key(courrier.about)}"
    return f"{n}_{who}.eml"


def _recipients(courrier: Courrier, smtp: SmtpSettings | None) -> tuple[str | None, ...]:
    """The secretariat's mail goes to each configured address (one copy with no `To` without settings)."""
    if courrier.kind is CourrierKind.SECRETARIAT:
        return smtp.secretariat if smtp is not None and smtp.secretariat else (None,)
    return (courrier.to,)


@dataclass(frozen=True)
class _Attachment:
    data: bytes | None
    name: str | None
    too_large: Path | None
    problem: str | None = None


def _attachment(courrier: Courrier, out_dir: Path, shown_dir: Path, max_mb: float) -> _Attachment:
    """The file read from `out_dir`; the path a message gives is in `shown_dir`, where the report is published."""
    if courrier.attachment is None:
        return _Attachment(None, None, None)
    path = out_dir / courrier.attachment
    shown = (shown_dir / courrier.attachment).resolve()
    try:
        data = path.read_bytes()
    except OSError:
        return _Attachment(None, path.name, None, f"pièce jointe introuvable ({shown})")
    return _Attachment(data, path.name, shown if len(data) > max_mb * MB else None)


@dataclass(frozen=True)
class _Copy:
    """One message of the plan for one recipient, with the name of its `.eml` copy; the message itself is
    built only when it is needed (`build`): a run that does not send finds its copies already written."""

    courrier: Courrier
    recipient: str | None
    build: Callable[[], EmailMessage]
    message_id: str
    eml: str
    sha: str
    problem: str | None


def _copies(courriers: Sequence[Courrier], out_dir: Path, shown_dir: Path, run_label: str,
            smtp: SmtpSettings | None) -> Iterator[_Copy]:
    """Every message of the plan, in order, dated by the report's manifest: the copy written when the report
    is staged and the message sent once it is published are the same bytes."""
    mail_from = smtp.mail_from if smtp is not None else DRY_RUN_FROM
    max_mb = smtp.max_attachment_mb if smtp is not None else DEFAULT_MAX_ATTACHMENT_MB
    when = written_at(out_dir)
    n = 0
    for courrier in courriers:
        attachment = _attachment(courrier, out_dir, shown_dir, max_mb)
        sha = content_sha256(courrier, attachment.data)
        for recipient in _recipients(courrier, smtp):
            n += 1
            build = functools.partial(build_message, courrier, recipient, mail_from, run_label, attachment.data,
                                      attachment.name, attachment.too_large, when)
            yield _Copy(courrier, recipient, build, message_id(run_label, recipient, sha, mail_from),
                        eml_name(n, courrier, recipient), sha, courrier.problem or attachment.problem)


def write_copies(courriers: Sequence[Courrier], staging: Path, published: Path, run_label: str,
                 smtp: SmtpSettings | None) -> None:
    """Write the `.eml` copy of every message into the report's staging folder, so that they are published
    with it (`published` is where it will be, for the path a message gives instead of a large attachment).

    Building a message is slow pure Python (the `email` package): past a few, every other copy is written
    by a forked child (`io/forked.py`), the others here."""
    copies = list(_copies(courriers, staging, published, run_label, smtp))

    def write(part: Sequence[_Copy]) -> None:
        for copy in part:
            write_bytes(staging / EML_DIR / copy.eml, copy.build().as_bytes())

    if len(copies) < _FORKED_FROM:
        write(copies)
    else:
        side_by_side(lambda: write(copies[1::2]), lambda: write(copies[0::2]))


#: How many copies are worth a forked child (a fork of a large process costs a few milliseconds).
_FORKED_FROM: Final = 16


class _Relay:
    """The sender, opened on the first message that has to go: a rerun with nothing new connects to nothing."""

    def __init__(self, smtp: SmtpSettings, backoff_s: float) -> None:
        self._smtp, self._backoff_s = smtp, backoff_s
        self._sender: SmtpSender | None = None

    def sender(self) -> SmtpSender:
        if self._sender is None:
            self._sender = SmtpSender(self._smtp, backoff_s=self._backoff_s)
        return self._sender

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()


def deliver(courriers: Sequence[Courrier], out_dir: Path, outputs_root: Path, run_label: str, smtp: SmtpSettings | None,
            send: bool, resend: bool, backoff_s: float = 2.0) -> DeliveryOutcome:
    """Write `out_dir/courriels/<n>_<recipient>.eml` for every message, in plan order; when `send`, deliver each one
    not yet delivered (or each one, with `resend`) and record the verdict in `outputs_root/envois.sqlite`."""
    ledger_file = ledger.ledger_path(outputs_root)
    eml_dir = out_dir / EML_DIR
    written: set[Path] = set()
    outcomes: list[MessageOutcome] = []
    relay = _Relay(smtp, backoff_s) if smtp is not None and send else None
    try:
        for copy in _copies(courriers, out_dir, out_dir, run_label, smtp):
            courrier, recipient = copy.courrier, copy.recipient
            eml = eml_dir / copy.eml
            sending = relay is not None and recipient is not None and copy.problem is None
            message = _published_copy(eml, copy) if sending else None
            if message is None:
                _ensure_copy(eml, copy)
            written.add(eml)
            done = MessageOutcome(courrier.about, recipient, courrier.subject, DeliveryState.EML_ONLY,
                                  eml=f"{EML_DIR}/{eml.name}")
            if copy.problem is not None:
                done = _with(done, DeliveryState.NOT_SENDABLE, copy.problem)
            elif relay is not None and recipient is not None:
                if not resend and ledger.is_delivered(ledger_file, run_label, recipient, copy.sha):
                    done = _with(done, DeliveryState.ALREADY_SENT)
                elif message is not None:
                    sender = relay.sender()
                    result = SendResult(False, f"non tenté, le relais étant injoignable ({sender.unreachable})") \
                        if sender.unreachable else sender.send(message, recipient)
                    ledger.record(ledger_file, run_label, str(courrier.kind), recipient, courrier.subject, copy.sha,
                                  str(message["Message-ID"]), ledger.SENT if result.delivered else ledger.FAILED,
                                  result.reply)
                    done = _with(done, DeliveryState.SENT) if result.delivered else \
                        _with(done, DeliveryState.FAILED, result.reply)
            _log(done)
            outcomes.append(done)
    finally:
        if relay is not None:
            relay.close()
    _remove_stale(eml_dir, written)
    return DeliveryOutcome(tuple(outcomes))


def _published_copy(eml: Path, copy: _Copy) -> EmailMessage:
    """The message to send: its copy published with the report when there is one (same `Message-ID`: same run,
    recipient, sender and attachment), left as it is, so that the published folder is not written again after
    its swap and what is sent is the copy byte for byte (MIME boundaries are drawn at random); else the
    message, built and its copy written now."""
    data = _copy_of(eml, copy)
    if data is not None:
        return email.message_from_bytes(data, _class=EmailMessage, policy=policy.SMTP)
    message = copy.build()
    write_bytes(eml, message.as_bytes())
    return message


def _ensure_copy(eml: Path, copy: _Copy) -> None:
    """`_published_copy` for a message that is not sent: a copy already there is only read for its headers."""
    if _copy_of(eml, copy) is None:
        write_bytes(eml, copy.build().as_bytes())


def _copy_of(eml: Path, copy: _Copy) -> bytes | None:
    """The bytes of the copy already written for this message (same `Message-ID`), or None."""
    try:
        data = eml.read_bytes()
    except OSError:
        return None
    return data if _message_id_of(data) == copy.message_id else None


def _message_id_of(data: bytes) -> str:
    """The `Message-ID` of a copy, from its headers alone (its body, a workbook in base64, is not parsed)."""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(data)
    return str(headers.get("Message-ID", "")).strip()


def _with(outcome: MessageOutcome, state: DeliveryState, detail: str = "") -> MessageOutcome:
    return MessageOutcome(outcome.about, outcome.recipient, outcome.subject, state, detail, outcome.eml)


def _log(outcome: MessageOutcome) -> None:
    """A failure is a warning as it happens; the rest is told once by the caller, with `DeliveryOutcome.lines`."""
    level = logging.WARNING if outcome.state is DeliveryState.FAILED else logging.DEBUG
    log.log(level, "Courriel « %s » pour %s (%s) : %s", outcome.subject, outcome.about,
            outcome.recipient or "sans adresse", outcome.status)


def _remove_stale(eml_dir: Path, written: set[Path]) -> None:
    """A rerun of the same label replaces its copies: a message no longer due must not linger beside the new ones."""
    if not eml_dir.is_dir():
        return
    for path in eml_dir.glob("*.eml"):
        if path not in written:
            path.unlink(missing_ok=True)


__all__ = ["EML_DIR", "DeliveryOutcome", "DeliveryState", "MessageOutcome", "deliver", "eml_name",
           "write_copies"]
