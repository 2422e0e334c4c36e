"""Fixtures of the IO tests: a real SMTP server on 127.0.0.1 (tests/smtp_server.py), stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smtp_server import Certificates, SmtpServer, make_certificates, start_server


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def trust_test_ca(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> Certificates:
    """Make the test CA the one `ssl.create_default_context()` trusts, for this test only."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificates


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain server without AUTH (`FTAP_SMTP_SECURITY=aucune`)."""
    server = start_server("aucune", None, auth=False)
    yield server
    server.stop()


@pytest.fixture(params=["starttls", "ssl"])
def tls_server(request: pytest.FixtureRequest, trust_test_ca: Certificates) -> Iterator[SmtpServer]:
    """A TLS server (STARTTLS, then implicit TLS) that requires AUTH with `USER` and `PASSWORD`."""
    server = start_server(request.param, trust_test_ca, auth=True)
    yield server
    server.stop()
