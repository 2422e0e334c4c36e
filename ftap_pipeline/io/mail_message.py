"""One planned `Courrier` as a standard e-mail (livraison-v1): what is written to `.eml` and what is sent.

Built with `email.message.EmailMessage`: a UTF-8 French body, the workbook attached with its Office MIME type and
its name encoded per RFC 2231, and a `Message-ID` derived from the run, the recipient and the attachment's SHA-256
(a reminder's body's), so that a rerun builds the same message and the ledger recognises it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from email import policy, utils
from email.message import EmailMessage
from pathlib import Path
from typing import Final

from ftap_pipeline.core.courriels import Courrier

XLSX_MAINTYPE: Final = "application"
XLSX_SUBTYPE: Final = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The domain of a Message-ID when the sender's address gives none (a dry run without settings).
FALLBACK_DOMAIN: Final = "ftap.invalid"


def content_sha256(courrier: Courrier, attachment_bytes: bytes | None) -> str:
    """What makes a message the same one again: its attachment's bytes, or for a reminder its body."""
    data = attachment_bytes if attachment_bytes is not None else courrier.body.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def message_id(run_label: str, recipient: str | None, content_sha: str, mail_from: str) -> str:
    """`<sha256(run | recipient | content)[:40]@domain>`: stable across reruns of the same message."""
    digest = hashlib.sha256(f"{run_label}|{recipient or ''}|{content_sha}".encode()).hexdigest()[:40]
    domain = mail_from.rpartition("@")[2] if "@" in mail_from else ""
    return f"<{digest}@{domain or FALLBACK_DOMAIN}>"


def too_large_note(name: str, path: Path) -> str:
    return (f"Le fichier « {name} » dépasse la taille maximale admise pour une pièce jointe : il n'est pas joint à ce "
            f"message. Vous le trouverez à l'emplacement suivant :\n{path}")


def build_message(courrier: Courrier, to: str | None, mail_from: str, run_label: str, attachment_bytes: bytes | None,
                  attachment_name: str | None, attachment_path_if_too_large: Path | None,
                  when: dt.datetime | None = None) -> EmailMessage:
    """The message for one recipient (`to`; None writes a copy with no `To`).

    The workbook is attached when `attachment_bytes` is given and it is not too large; when it is
    (`attachment_path_if_too_large`), the body says so and gives the file's path instead."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = mail_from
    if to:
        msg["To"] = to
    msg["Subject"] = courrier.subject
    msg["Date"] = utils.format_datetime(when or utils.localtime())
    msg["Message-ID"] = message_id(run_label, to, content_sha256(courrier, attachment_bytes), mail_from)
    # RFC 3834: no out-of-office reply to an automatic mail.
    msg["Auto-Submitted"] = "auto-generated"
    body = courrier.body
    name = attachment_name or (Path(courrier.attachment).name if courrier.attachment else "classeur.xlsx")
    if attachment_path_if_too_large is not None:
        # First, so that the body's « ci-joint » is read knowing the file is not attached.
        body = too_large_note(name, attachment_path_if_too_large) + "\n\n" + body
    # Quoted-printable keeps the French text readable in the `.eml` and 7-bit safe for any relay.
    msg.set_content(body, charset="utf-8", cte="quoted-printable")
    msg["Content-Language"] = "fr"  # after set_content, which clears the Content-* headers
    if attachment_bytes is not None and attachment_path_if_too_large is None:
        msg.add_attachment(attachment_bytes, maintype=XLSX_MAINTYPE, subtype=XLSX_SUBTYPE, filename=name)
    return msg


__all__ = ["FALLBACK_DOMAIN", "XLSX_MAINTYPE", "XLSX_SUBTYPE", "build_message", "content_sha256", "message_id",
           "too_large_note"]
