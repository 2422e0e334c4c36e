"""Sending over SMTP (livraison-v1): TLS as configured, one message per recipient, retries only where they help.

A 4xx reply or a dropped connection is tried again, up to three tries in all with a doubling pause, on a new
connection; a 5xx reply is final. Each message gets a `SendResult` with the server's reply as text, which the
ledger and the run's report show: it never holds the credentials (the login's own reply is the server's words).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Final

from ftap_pipeline.settings import SmtpSettings

log = logging.getLogger("ftap")

TRIES: Final = 3


@dataclass(frozen=True)
class SendResult:
    """What became of one message: delivered or not, the server's last reply (`250 2.0.0 OK`), the tries made."""

    delivered: bool
    reply: str
    tries: int = 1


class _TemporaryError(Exception):
    """A failure worth another try (4xx, a dropped connection), with its reply as text."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


class _FinalError(Exception):
    """A failure no retry can mend (5xx, TLS refused, an unsupported command)."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


def _text(code: int, message: bytes | str) -> str:
    words = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(words.split())}".strip()


def _raise_reply(code: int, message: bytes | str) -> None:
    reply = _text(code, message)
    if 400 <= code < 500:
        raise _TemporaryError(reply)
    raise _FinalError(reply)


def _reset(smtp: smtplib.SMTP) -> None:
    """RSET after a refusal, so that the session can carry the next message; a dead session is found later."""
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.rset()


class SmtpSender:
    """One connection to the relay, opened on the first message and reopened after a failure.

    `sleep` is a parameter so that a test can count the pauses; `backoff_s` is the first pause."""

    def __init__(self, settings: SmtpSettings, backoff_s: float = 2.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._settings = settings
        self._backoff_s = backoff_s
        self._sleep = sleep
        self._smtp: smtplib.SMTP | None = None
        #: Set when a message could not even open a session after every try: the relay is out of reach, and the
        #: caller does not make the next messages wait through the same timeouts (they go on the next run).
        self.unreachable: str | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user is not None and s.password is not None:
                smtp.login(s.user, s.password.reveal())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _transaction(self, message: bytes, recipient: str) -> str:
        """MAIL, RCPT, DATA for one recipient, as `sendmail` does, but keeping the final reply."""
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        code, reply = smtp.mail(self._settings.mail_from)
        if code != 250:
            _reset(smtp)
            _raise_reply(code, reply)
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            _reset(smtp)
            _raise_reply(code, reply)
        code, reply = smtp.data(message)
        if code != 250:
            _reset(smtp)
            _raise_reply(code, reply)
        return _text(code, reply)

    def _try_once(self, message: bytes, recipient: str) -> str:
        """One try; every failure is sorted into `_TemporaryError` or `_FinalError`."""
        try:
            return self._transaction(message, recipient)
        except (_TemporaryError, _FinalError):
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b"destinataire refuse"))
            _raise_reply(code, reply)
        except smtplib.SMTPResponseException as exc:  # sender refused, DATA refused, HELO, AUTH, connect
            _raise_reply(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPNotSupportedError as exc:
            raise _FinalError(f"le serveur ne propose pas ce qu'il faut : {exc}") from None
        except smtplib.SMTPServerDisconnected as exc:
            raise _TemporaryError(f"connexion interrompue par le serveur ({exc or 'sans message'})") from None
        except ssl.SSLCertVerificationError as exc:
            raise _FinalError(f"certificat du serveur refusé : {exc.verify_message or exc}") from None
        except (TimeoutError, ConnectionError, OSError) as exc:
            what = "délai dépassé" if isinstance(exc, TimeoutError) else "connexion impossible ou interrompue"
            raise _TemporaryError(f"{what} ({exc.strerror or exc or type(exc).__name__})") from None
        except smtplib.SMTPException as exc:
            raise _FinalError(f"erreur SMTP : {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def send(self, message: EmailMessage, recipient: str) -> SendResult:
        """Deliver `message` to `recipient` alone (the `To` of the message is not read)."""
        data = message.as_bytes()
        pause = self._backoff_s
        for attempt in range(1, TRIES + 1):
            had_session = self._smtp is not None
            try:
                reply = self._try_once(data, recipient)
            except _FinalError as exc:
                self._drop_if_broken()
                return SendResult(False, exc.reply, attempt)
            except _TemporaryError as exc:
                session_opened = had_session or self._smtp is not None
                self._drop()
                if attempt == TRIES:
                    if not session_opened:
                        self.unreachable = exc.reply
                    return SendResult(False, exc.reply, attempt)
                log.warning("Envoi à %s : %s ; nouvel essai dans %g s (essai %d sur %d).", recipient, exc.reply, pause,
                            attempt + 1, TRIES)
                self._sleep(pause)
                pause *= 2
            else:
                return SendResult(True, reply, attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _drop(self) -> None:
        """After a temporary failure, start the next try on a fresh connection."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def _drop_if_broken(self) -> None:
        """A 5xx leaves the session usable (RSET was sent); anything else may not have."""
        smtp = self._smtp
        if smtp is None:
            return
        try:
            code, _ = smtp.noop()
        except (smtplib.SMTPException, OSError):
            code = 0
        if code != 250:
            self._drop()


__all__ = ["TRIES", "SendResult", "SmtpSender"]
