"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, plain, STARTTLS or implicit TLS, with AUTH and scripted
replies, recording the bytes of every message it accepts. The fixtures that start and stop it are in
`tests/io/conftest.py`.

Its certificate is made at test time with `cryptography` (a CA and a server certificate for 127.0.0.1); the
client trusts it through `SSL_CERT_FILE`, which `ssl.create_default_context()` honours (OpenSSL reads it when the
context loads its default paths), so the code under test needs no setting of its own for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ftap_pipeline.settings import Secret, SmtpSettings

HOST = "127.0.0.1"
USER = "ftap-robot"
#: Distinctive, so that a test can look for it anywhere it must not be.
PASSWORD = "Pw-7fK2q9ZrX4mB8vL1sT6n"
SECRETARIAT = ("secretariat@ditp.example.fr", "adjoint.secretariat@ditp.example.fr")
MAIL_FROM = "ftap@ditp.example.fr"
#: A scripted reply that closes the connection instead of answering.
DROP = "DROP"

Mode = Literal["aucune", "starttls", "ssl"]


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def make_certificates(folder: Path) -> Certificates:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost, signed by it (valid one day)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FTAP test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST)),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    out = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    out.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    out.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return out


@dataclass(frozen=True)
class Received:
    """One message the server accepted: the envelope, and the bytes as they came after DATA."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None


@dataclass
class ScriptedHandler:
    """Answers successive RCPT and DATA commands from scripts (then `250`), and keeps what it accepted."""

    rcpt_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    #: Every DATA command seen, accepted or not: a test counts the tries with it.
    data_commands: int = 0
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.rcpt_replies.pop(0) if self.rcpt_replies else "250 OK"
        if reply == DROP:
            _drop(server)
            return "421 4.4.2 connexion fermée"
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_commands += 1
        reply = self.data_replies.pop(0) if self.data_replies else "250 2.0.0 Ok: queued"
        if reply == DROP:
            _drop(server)
            return "421 4.4.2 connexion fermée"
        if reply.startswith("2"):
            auth = session.auth_data
            login = auth.login.decode() if isinstance(auth, LoginPassword) else None
            content = envelope.original_content if envelope.original_content is not None else envelope.content
            data = content if isinstance(content, bytes) else str(content).encode()
            self.received.append(Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), data, login))
        return reply


def _drop(server: SMTP) -> None:
    """Close the connection at once, as a relay that crashes mid-session."""
    transport = server.transport
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    elif transport is not None:
        transport.close()


def _authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    """A running server, its handler, and the settings a client needs to reach it."""

    mode: Mode
    port: int
    handler: ScriptedHandler
    controller: Controller
    auth: bool

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def script_data(self, *replies: str) -> None:
        self.handler.data_replies.extend(replies)

    def script_rcpt(self, *replies: str) -> None:
        self.handler.rcpt_replies.extend(replies)

    def settings(self, **overrides: Any) -> SmtpSettings:
        base = SmtpSettings(host=HOST, port=self.port, security=self.mode, user=USER if self.auth else None,
                            password=Secret(PASSWORD) if self.auth else None, timeout_s=5.0, mail_from=MAIL_FROM,
                            secretariat=SECRETARIAT, max_attachment_mb=10.0)
        return replace(base, **overrides)

    def stop(self) -> None:
        self.controller.stop()


def start_server(mode: Mode, certificates: Certificates | None, auth: bool) -> SmtpServer:
    """Start aiosmtpd; with TLS (`starttls`, `ssl`), `certificates` give its identity."""
    handler = ScriptedHandler()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if mode != "aucune":
        assert certificates is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificates.cert, certificates.key)
        kwargs = {"ssl_context": context} if mode == "ssl" else {"tls_context": context, "require_starttls": True}
    if auth:
        # Implicit TLS is not STARTTLS for aiosmtpd: its `auth_require_tls` would refuse AUTH there, and requiring
        # AUTH without it warns; a test reads the login of each message instead (`Received.login`).
        starttls = mode == "starttls"
        kwargs |= {"authenticator": _authenticator, "auth_require_tls": starttls, "auth_required": starttls}
    controller = Controller(handler, hostname=HOST, port=port, **kwargs)
    controller.start()
    return SmtpServer(mode, port, handler, controller, auth)
