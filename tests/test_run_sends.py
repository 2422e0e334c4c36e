"""`ftap run --send` as an operator runs it: the settings of livraison-v1 in the environment, a real SMTP relay
(aiosmtpd, STARTTLS with a login) and a real Prefect server on loopback.

What must hold: the expected messages reach the expected recipients, each attachment byte-identical to its
output file with its name intact; a second run sends nothing; a refused message makes the run exit 4, and the
next run delivers that message alone.
"""

from __future__ import annotations

import email.parser
import subprocess
import sys
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.prefect_server import PrefectServer
from tests.prefect_server import start_server as start_prefect
from tests.smtp_server import MAIL_FROM, PASSWORD, SECRETARIAT, USER, Certificates, SmtpServer, make_certificates
from tests.smtp_server import start_server as start_smtp

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-server-mail")]


@pytest.fixture(scope="module")
def prefect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    yield from start_prefect(tmp_path_factory.mktemp("prefect-home"))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def relay(tls: Certificates) -> Iterator[SmtpServer]:
    server = start_smtp("starttls", tls, auth=True)
    yield server
    server.stop()


def _ftap(prefect: PrefectServer, relay: SmtpServer, tls: Certificates, cwd: Path, *args: str,
          extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**prefect.env, "SSL_CERT_FILE": str(tls.ca), "FTAP_SMTP_HOST": "127.0.0.1",
           "FTAP_SMTP_PORT": str(relay.port), "FTAP_SMTP_SECURITY": "starttls", "FTAP_SMTP_USER": USER,
           "FTAP_SMTP_PASSWORD": PASSWORD, "FTAP_SMTP_TIMEOUT_S": "10", "FTAP_MAIL_FROM": MAIL_FROM,
           "FTAP_MAIL_SECRETARIAT": "; ".join(SECRETARIAT), **(extra or {})}
    return subprocess.run([sys.executable, "-m", "ftap_pipeline", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300, check=False)


def _parsed(relay: SmtpServer) -> list[EmailMessage]:
    parser = email.parser.BytesParser(_class=EmailMessage, policy=policy.default)
    return [parser.parsebytes(r.data) for r in relay.received]


def _attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    out = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out.append((str(part.get_filename()), payload))
    return out


def test_the_run_sends_each_message_once_with_its_workbook(prefect: PrefectServer, relay: SmtpServer,
                                                           tls: Certificates, tmp_path: Path) -> None:
    outputs = tmp_path / "sorties"
    first = _ftap(prefect, relay, tls, tmp_path, "run", "--inputs", str(INPUTS), "--outputs", str(outputs),
                  "--period", "2025-T2")
    assert first.returncode == 0, first.stderr[-3000:]
    run = outputs / "2025-T2"
    messages = _parsed(relay)
    to = [str(m["To"]) for m in messages]
    # The secretariat, each of its addresses, gets the consolidated workbook, byte for byte.
    for address in SECRETARIAT:
        (secretariat,) = [m for m in messages if m["To"] == address]
        assert _attachments(secretariat) == [("FTAP_suivi_2025-T2.xlsx", (run / "FTAP_suivi_2025-T2.xlsx").read_bytes())]
        assert secretariat["From"] == MAIL_FROM
    # Each porteur's feedback workbook goes to its return's address, byte for byte; the workbook of the files
    # whose porteur could not be read (no address to answer) is not sent, and the run says so.
    feedback = {p.name: p.read_bytes() for p in sorted((run / "anomalies").glob("*.xlsx"))}
    sent_feedback = {name: data for m in messages for name, data in _attachments(m) if name != "FTAP_suivi_2025-T2.xlsx"}
    assert len(sent_feedback) >= 8
    assert sent_feedback == {k: v for k, v in feedback.items() if k != "Porteur_inconnu_2025-T2.xlsx"}
    assert "Porteur inconnu — sans adresse : non envoyé" in first.stderr
    # Every message has its .eml copy, and no message went twice.
    assert len(messages) == len({m["Message-ID"] for m in messages})
    assert len(to) == len(messages)
    emls = sorted((run / "courriels").glob("*.eml"))
    assert len(emls) >= len(messages)
    assert all(PASSWORD not in p.read_text(encoding="utf-8", errors="replace") for p in emls)
    assert PASSWORD not in first.stderr
    # A second run sends nothing: the ledger knows what was delivered.
    second = _ftap(prefect, relay, tls, tmp_path, "run", "--inputs", str(INPUTS), "--outputs", str(outputs),
                   "--period", "2025-T2")
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(relay.received) == len(messages)
    assert "déjà envoyé" in second.stderr
    # `ftap envois` lists the deliveries of the run.
    listing = _ftap(prefect, relay, tls, tmp_path, "envois", "--outputs", str(outputs), "--run", "2025-T2")
    assert listing.returncode == 0, listing.stderr
    assert all(address in listing.stdout for address in SECRETARIAT)
    assert PASSWORD not in listing.stdout


def test_a_refused_message_exits_4_and_goes_alone_on_the_next_run(prefect: PrefectServer, relay: SmtpServer,
                                                                  tls: Certificates, tmp_path: Path) -> None:
    outputs = tmp_path / "sorties"
    relay.script_data("550 5.1.1 Boîte inconnue")  # the first message (the secretariat's first address)
    first = _ftap(prefect, relay, tls, tmp_path, "comite", "--date", "2025-03-14", "--inputs", str(INPUTS),
                  "--outputs", str(outputs), "--send")
    assert first.returncode == 4, first.stderr[-3000:]
    assert "550" in first.stderr
    delivered = len(relay.received)
    assert delivered >= 1
    assert relay.handler.data_commands == delivered + 1  # the refused message was tried once, never again
    assert (SECRETARIAT[0],) not in [r.rcpt_tos for r in relay.received]
    second = _ftap(prefect, relay, tls, tmp_path, "comite", "--date", "2025-03-14", "--inputs", str(INPUTS),
                   "--outputs", str(outputs), "--send")
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(relay.received) == delivered + 1
    assert relay.received[-1].rcpt_tos == (SECRETARIAT[0],)


def test_sending_without_a_relay_is_refused_before_any_work(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "run", "--inputs", str(INPUTS), "--outputs",
                           str(tmp_path / "out"), "--period", "2025-T2", "--send"], capture_output=True, text=True,
                          cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PREFECT_HOME": str(tmp_path / "p")},
                          timeout=120, check=False)
    assert proc.returncode == 2
    assert "FTAP_SMTP_HOST" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_wrong_setting_is_refused_before_any_work(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ftap_pipeline", "run", "--inputs", str(INPUTS), "--outputs",
                           str(tmp_path / "out"), "--period", "2025-T2"], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "PREFECT_HOME": str(tmp_path / "p"),
                               "FTAP_SMTP_HOST": "relais.example.fr", "FTAP_SMTP_SECURITY": "tls",
                               "FTAP_MAIL_FROM": MAIL_FROM, "FTAP_MAIL_SECRETARIAT": SECRETARIAT[0]},
                          timeout=120, check=False)
    assert proc.returncode == 2
    assert "FTAP_SMTP_SECURITY" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
