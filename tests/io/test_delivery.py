"""Delivery on a real SMTP server (aiosmtpd on 127.0.0.1): who gets what, byte for byte, never twice, retried only
where it helps, over plain, STARTTLS and implicit TLS, and never a password anywhere."""

from __future__ import annotations

import email
import email.parser
import hashlib
import logging
import multiprocessing
import os
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from ftap_pipeline.core.courriels import SECRETARIAT_ABOUT, Courrier, CourrierKind
from ftap_pipeline.io import ledger
from ftap_pipeline.io.delivery import EML_DIR, DeliveryOutcome, DeliveryState, deliver
from ftap_pipeline.io.mail_message import XLSX_SUBTYPE, build_message, content_sha256, message_id
from ftap_pipeline.io.smtp_sender import SmtpSender
from ftap_pipeline.settings import Secret, SmtpSettings
from tests.smtp_server import DROP, HOST, MAIL_FROM, PASSWORD, SECRETARIAT, USER, SmtpServer, free_port

RUN = "2025-T2"
WORKBOOK = "FTAP_suivi_2025-T2.xlsx"
FEEDBACK = "anomalies/Préfecture_de_l_Hérault_2025-T2.xlsx"
NO_ADDRESS = "aucune remontée d'une période antérieure ne donne d'adresse valide (champ « Courriel du chef de projet »)"


def _plan() -> tuple[Courrier, ...]:
    return (
        Courrier(CourrierKind.SECRETARIAT, None, SECRETARIAT_ABOUT, "FTAP — classeur consolidé, trimestre 2025-T2",
                 "Bonjour,\n\nVeuillez trouver ci-joint le classeur consolidé.\n", WORKBOOK),
        Courrier(CourrierKind.RETOUR, "anne.martin@herault.gouv.fr", "Préfecture de l'Hérault",
                 "FTAP — retour sur vos remontées de la période 2025-T2", "Bonjour,\n\nVotre retour, détaillé.\n", FEEDBACK),
        Courrier(CourrierKind.RAPPEL, "paul.durand@dgfip.finances.gouv.fr", "AP-2024-02 (Dématérialisation)",
                 "FTAP — remontée 2025-T2 attendue pour le projet AP-2024-02", "Bonjour,\n\nNous attendons…\n", None),
        Courrier(CourrierKind.RAPPEL, None, "AP-2024-03 (Télé-procédures)",
                 "FTAP — remontée 2025-T2 attendue pour le projet AP-2024-03", "Bonjour,\n\nNous attendons…\n", None,
                 NO_ADDRESS),
    )


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A run's output folder with its two workbooks (bytes that no text transformation would leave intact)."""
    folder = tmp_path / "outputs" / RUN
    for name, size in ((WORKBOOK, 40_000), (FEEDBACK, 9_000)):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"PK\x03\x04" + bytes(range(256)) * (size // 256) + b"\r\n.\r\n\x00\xff")
    return folder


def _deliver(out: Path, server: SmtpServer | None, send: bool = True, resend: bool = False,
             plan: tuple[Courrier, ...] | None = None, **settings: object) -> DeliveryOutcome:
    smtp = server.settings(**settings) if server is not None else None
    return deliver(_plan() if plan is None else plan, out, out.parent, RUN, smtp, send=send, resend=resend,
                   backoff_s=0.01)


def _parsed(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _attachments(msg: EmailMessage) -> list[tuple[str | None, str, bytes]]:
    out = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out.append((part.get_filename(), part.get_content_type(), payload))
    return out


def _body(msg: EmailMessage) -> str:
    """The plain-text body as a reader gets it (the wire's CRLF as newlines)."""
    part = msg.get_body(("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def _statuses(outcome: DeliveryOutcome) -> list[tuple[str | None, str]]:
    return [(m.recipient, m.status) for m in outcome.messages]


def test_each_message_reaches_its_recipients_with_its_workbook_intact(out: Path, smtp_server: SmtpServer) -> None:
    outcome = _deliver(out, smtp_server)
    assert _statuses(outcome) == [(SECRETARIAT[0], "envoyé"), (SECRETARIAT[1], "envoyé"),
                                  ("anne.martin@herault.gouv.fr", "envoyé"),
                                  ("paul.durand@dgfip.finances.gouv.fr", "envoyé"),
                                  (None, f"non envoyé : {NO_ADDRESS}")]
    assert (outcome.sent, outcome.not_sendable, outcome.undelivered) == (4, 1, 0)
    received = smtp_server.received
    assert [(r.mail_from, r.rcpt_tos) for r in received] == [
        (MAIL_FROM, (SECRETARIAT[0],)), (MAIL_FROM, (SECRETARIAT[1],)), (MAIL_FROM, ("anne.martin@herault.gouv.fr",)),
        (MAIL_FROM, ("paul.durand@dgfip.finances.gouv.fr",))]
    messages = [_parsed(r.data) for r in received]
    xlsx = f"application/{XLSX_SUBTYPE}"
    workbook, feedback = (out / WORKBOOK).read_bytes(), (out / FEEDBACK).read_bytes()
    assert [_attachments(m) for m in messages] == [
        [("FTAP_suivi_2025-T2.xlsx", xlsx, workbook)], [("FTAP_suivi_2025-T2.xlsx", xlsx, workbook)],
        [("Préfecture_de_l_Hérault_2025-T2.xlsx", xlsx, feedback)], []]
    assert [m["To"] for m in messages] == [*SECRETARIAT, "anne.martin@herault.gouv.fr",
                                           "paul.durand@dgfip.finances.gouv.fr"]
    assert messages[1]["Subject"] == "FTAP — classeur consolidé, trimestre 2025-T2"
    assert _body(messages[3]) == "Bonjour,\n\nNous attendons…\n"
    # The non-ASCII name travels per RFC 2231, not as a raw 8-bit header.
    assert "filename*=utf-8''Pr%C3%A9fecture_de_l_H%C3%A9rault_2025-T2.xlsx" in received[2].data.decode("ascii")


def test_every_message_has_its_eml_copy_and_the_ledger_its_deliveries(out: Path, smtp_server: SmtpServer) -> None:
    stale = out / EML_DIR / "7_ancien@exemple.fr.eml"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"From: old\r\n\r\nold\r\n")
    outcome = _deliver(out, smtp_server)
    names = sorted(p.name for p in (out / EML_DIR).iterdir())
    assert names == sorted([f"1_{SECRETARIAT[0]}.eml", f"2_{SECRETARIAT[1]}.eml", "3_anne.martin@herault.gouv.fr.eml",
                            "4_paul.durand@dgfip.finances.gouv.fr.eml", "5_sans_adresse_AP_2024_03_Tele_procedures.eml"])
    assert [m.eml for m in outcome.messages] == [f"{EML_DIR}/{n}" for n in (
        f"1_{SECRETARIAT[0]}.eml", f"2_{SECRETARIAT[1]}.eml", "3_anne.martin@herault.gouv.fr.eml",
        "4_paul.durand@dgfip.finances.gouv.fr.eml", "5_sans_adresse_AP_2024_03_Tele_procedures.eml")]
    copies = {p.name: _parsed(p.read_bytes()) for p in (out / EML_DIR).iterdir()}
    sent = {m["Message-ID"]: m for m in (_parsed(r.data) for r in smtp_server.received)}
    assert {copies[n]["Message-ID"] for n in names[:4]} == set(sent)
    assert copies["5_sans_adresse_AP_2024_03_Tele_procedures.eml"]["To"] is None
    rows = ledger.entries(out.parent / ledger.LEDGER_FILE, RUN)
    feedback_sha = hashlib.sha256((out / FEEDBACK).read_bytes()).hexdigest()
    reminder_sha = hashlib.sha256("Bonjour,\n\nNous attendons…\n".encode()).hexdigest()
    assert [(e.kind, e.recipient, e.status, e.reply) for e in rows] == [
        ("secretariat", SECRETARIAT[0], "envoyé", "250 2.0.0 Ok: queued"),
        ("secretariat", SECRETARIAT[1], "envoyé", "250 2.0.0 Ok: queued"),
        ("retour", "anne.martin@herault.gouv.fr", "envoyé", "250 2.0.0 Ok: queued"),
        ("rappel", "paul.durand@dgfip.finances.gouv.fr", "envoyé", "250 2.0.0 Ok: queued")]
    assert [e.attachment_sha256 for e in rows[2:]] == [feedback_sha, reminder_sha]
    assert {e.message_id for e in rows} == set(sent)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", e.at) for e in rows)


def test_a_second_run_sends_nothing_and_resend_sends_again(out: Path, smtp_server: SmtpServer) -> None:
    _deliver(out, smtp_server)
    again = _deliver(out, smtp_server)
    assert [m.status for m in again.messages] == ["déjà envoyé"] * 4 + [f"non envoyé : {NO_ADDRESS}"]
    assert (len(smtp_server.received), again.already_sent, again.undelivered) == (4, 4, 0)
    forced = _deliver(out, smtp_server, resend=True)
    assert forced.sent == 4
    assert len(smtp_server.received) == 8
    first, second = smtp_server.received[0], smtp_server.received[4]
    # The same message: same Message-ID, same attachment.
    assert _parsed(first.data)["Message-ID"] == _parsed(second.data)["Message-ID"]
    assert _attachments(_parsed(first.data)) == _attachments(_parsed(second.data))


def test_a_new_workbook_is_a_new_message(out: Path, smtp_server: SmtpServer) -> None:
    """The ledger's key is the attachment's SHA-256: a rerun on new inputs sends the new workbook."""
    _deliver(out, smtp_server)
    (out / FEEDBACK).write_bytes(b"PK\x03\x04 corrected")
    again = _deliver(out, smtp_server)
    assert [m.state for m in again.messages] == [DeliveryState.ALREADY_SENT] * 2 + [DeliveryState.SENT] + \
        [DeliveryState.ALREADY_SENT, DeliveryState.NOT_SENDABLE]


def test_a_451_is_tried_again_and_delivered_once(out: Path, smtp_server: SmtpServer) -> None:
    smtp_server.script_data("451 4.3.0 Reessayez plus tard")
    outcome = _deliver(out, smtp_server, plan=_plan()[1:2])
    assert _statuses(outcome) == [("anne.martin@herault.gouv.fr", "envoyé")]
    assert (smtp_server.handler.data_commands, len(smtp_server.received)) == (2, 1)
    assert [e.status for e in ledger.entries(out.parent / ledger.LEDGER_FILE)] == ["envoyé"]


def test_a_4xx_on_rcpt_is_tried_again(out: Path, smtp_server: SmtpServer) -> None:
    smtp_server.script_rcpt("450 4.2.1 Mailbox busy", "450 4.2.1 Mailbox busy")
    outcome = _deliver(out, smtp_server, plan=_plan()[2:3])
    assert [m.status for m in outcome.messages] == ["envoyé"]
    assert [r.rcpt_tos for r in smtp_server.received] == [("paul.durand@dgfip.finances.gouv.fr",)]


def test_three_4xx_give_up_and_the_next_run_retries(out: Path, smtp_server: SmtpServer) -> None:
    smtp_server.script_data(*["451 4.3.0 Reessayez plus tard"] * 3)
    outcome = _deliver(out, smtp_server, plan=_plan()[1:2])
    assert _statuses(outcome) == [("anne.martin@herault.gouv.fr", "échec : 451 4.3.0 Reessayez plus tard")]
    assert (smtp_server.handler.data_commands, len(smtp_server.received), outcome.undelivered) == (3, 0, 1)
    assert [m.status for m in _deliver(out, smtp_server, plan=_plan()[1:2]).messages] == ["envoyé"]


def test_a_550_is_not_tried_again_and_the_next_run_sends_it_alone(out: Path, smtp_server: SmtpServer) -> None:
    plan = _plan()[1:3]
    smtp_server.script_data("550 5.1.1 Inconnu")
    outcome = _deliver(out, smtp_server, plan=plan)
    assert _statuses(outcome) == [("anne.martin@herault.gouv.fr", "échec : 550 5.1.1 Inconnu"),
                                  ("paul.durand@dgfip.finances.gouv.fr", "envoyé")]
    assert (smtp_server.handler.data_commands, outcome.undelivered) == (2, 1)
    assert [(e.recipient, e.status, e.reply) for e in ledger.entries(out.parent / ledger.LEDGER_FILE)] == [
        ("anne.martin@herault.gouv.fr", "échec", "550 5.1.1 Inconnu"),
        ("paul.durand@dgfip.finances.gouv.fr", "envoyé", "250 2.0.0 Ok: queued")]
    again = _deliver(out, smtp_server, plan=plan)
    assert [m.status for m in again.messages] == ["envoyé", "déjà envoyé"]
    assert [r.rcpt_tos for r in smtp_server.received] == [("paul.durand@dgfip.finances.gouv.fr",),
                                                         ("anne.martin@herault.gouv.fr",)]
    assert again.undelivered == 0


def test_a_dropped_connection_is_tried_again(out: Path, smtp_server: SmtpServer) -> None:
    smtp_server.script_data(DROP)
    outcome = _deliver(out, smtp_server, plan=_plan()[:1])
    assert [m.status for m in outcome.messages] == ["envoyé", "envoyé"]
    assert [r.rcpt_tos for r in smtp_server.received] == [(SECRETARIAT[0],), (SECRETARIAT[1],)]
    assert smtp_server.handler.data_commands == 3


def test_no_relay_listening_is_a_failure_reported_after_three_tries(out: Path, smtp_server: SmtpServer) -> None:
    outcome = _deliver(out, smtp_server, plan=_plan()[2:3], port=free_port(), timeout_s=2.0)
    [message] = outcome.messages
    assert message.state is DeliveryState.FAILED
    assert message.status.startswith("échec : connexion impossible ou interrompue (")
    assert outcome.undelivered == 1


def test_a_relay_out_of_reach_is_tried_for_the_first_message_only(out: Path, smtp_server: SmtpServer) -> None:
    """Three messages to a port where nothing listens: the first is tried three times, the others are not
    made to wait through the same failures; all three are failed, to be sent on the next run."""
    plan = (*_plan()[1:3], _plan()[2])
    outcome = _deliver(out, smtp_server, plan=plan, port=free_port(), timeout_s=2.0)
    assert [m.state for m in outcome.messages] == [DeliveryState.FAILED] * 3
    assert outcome.messages[0].detail.startswith("connexion impossible ou interrompue (")
    assert all(m.detail.startswith("non tenté, le relais étant injoignable (connexion impossible") for m in
               outcome.messages[1:])
    assert outcome.undelivered == 3
    rows = ledger.entries(out.parent / ledger.LEDGER_FILE)
    assert [r.status for r in rows] == [ledger.FAILED] * 3


def test_the_sender_waits_longer_each_time() -> None:
    pauses: list[float] = []
    smtp = SmtpSettings(host=HOST, port=free_port(), security="aucune", user=None, password=None, timeout_s=1.0,
                        mail_from=MAIL_FROM, secretariat=SECRETARIAT, max_attachment_mb=10.0)
    msg = EmailMessage()
    msg.set_content("x")
    with SmtpSender(smtp, backoff_s=0.5, sleep=pauses.append) as sender:
        result = sender.send(msg, "a@exemple.fr")
    assert (result.delivered, result.tries, pauses) == (False, 3, [0.5, 1.0])


def test_without_settings_only_eml_copies_are_written(out: Path) -> None:
    outcome = _deliver(out, None, send=False)
    assert _statuses(outcome) == [(None, "copie .eml seulement"), ("anne.martin@herault.gouv.fr", "copie .eml seulement"),
                                  ("paul.durand@dgfip.finances.gouv.fr", "copie .eml seulement"),
                                  (None, f"non envoyé : {NO_ADDRESS}")]
    assert sorted(p.name for p in (out / EML_DIR).iterdir()) == [
        "1_secretariat.eml", "2_anne.martin@herault.gouv.fr.eml", "3_paul.durand@dgfip.finances.gouv.fr.eml",
        "4_sans_adresse_AP_2024_03_Tele_procedures.eml"]
    secretariat = _parsed((out / EML_DIR / "1_secretariat.eml").read_bytes())
    assert (secretariat["To"], secretariat["From"]) == (None, "ftap@ftap.invalid")
    assert _attachments(secretariat)[0][2] == (out / WORKBOOK).read_bytes()
    assert not (out.parent / ledger.LEDGER_FILE).exists()
    assert outcome.undelivered == 0


def test_without_sending_a_copy_of_this_message_is_left_and_a_stale_one_rewritten(out: Path) -> None:
    """A run that does not send reads only the headers of the copies it published: one of the same message
    stays byte for byte; one of another message (other `Message-ID`) is written again."""
    _deliver(out, None, send=False)
    kept, stale = out / EML_DIR / "1_secretariat.eml", out / EML_DIR / "2_anne.martin@herault.gouv.fr.eml"
    kept_bytes = kept.read_bytes()
    stale.write_bytes(b"Message-ID: <autre@ftap.invalid>\r\nSubject: ancien\r\n\r\ncorps\r\n")
    _deliver(out, None, send=False)
    assert kept.read_bytes() == kept_bytes
    rewritten = _parsed(stale.read_bytes())
    assert rewritten["Subject"] == "FTAP — retour sur vos remontées de la période 2025-T2"
    assert _attachments(rewritten)[0][2] == (out / FEEDBACK).read_bytes()


def test_with_settings_but_no_send_nothing_leaves(out: Path, smtp_server: SmtpServer) -> None:
    outcome = _deliver(out, smtp_server, send=False)
    assert outcome.eml_only == 4
    assert smtp_server.received == []
    assert smtp_server.handler.data_commands == 0


def test_a_workbook_too_large_is_named_not_attached(out: Path, smtp_server: SmtpServer) -> None:
    outcome = _deliver(out, smtp_server, plan=_plan()[1:2], max_attachment_mb=0.005)  # 5 Kio < the 9 000 bytes
    assert [m.status for m in outcome.messages] == ["envoyé"]
    [received] = smtp_server.received
    msg = _parsed(received.data)
    assert _attachments(msg) == []
    body = _body(msg)
    # The note comes first, so that the body's « ci-joint » is read knowing the file is not attached.
    assert body == ("Le fichier « Préfecture_de_l_Hérault_2025-T2.xlsx » dépasse la taille maximale admise pour une "
                    "pièce jointe : il n'est pas joint à ce message. Vous le trouverez à l'emplacement suivant :\n"
                    f"{(out / FEEDBACK).resolve()}\n\nBonjour,\n\nVotre retour, détaillé.\n")
    assert msg["Content-Language"] == "fr"
    # Still the same message for the ledger: the file's SHA-256.
    [row] = ledger.entries(out.parent / ledger.LEDGER_FILE)
    assert row.attachment_sha256 == hashlib.sha256((out / FEEDBACK).read_bytes()).hexdigest()


def test_tls_with_login(out: Path, tls_server: SmtpServer) -> None:
    outcome = _deliver(out, tls_server)
    assert [m.state for m in outcome.messages] == [DeliveryState.SENT] * 4 + [DeliveryState.NOT_SENDABLE]
    assert [r.login for r in tls_server.received] == [USER] * 4
    assert _attachments(_parsed(tls_server.received[0].data))[0][2] == (out / WORKBOOK).read_bytes()


def test_a_wrong_password_is_final(out: Path, tls_server: SmtpServer) -> None:
    outcome = _deliver(out, tls_server, plan=_plan()[2:3], password=Secret("faux"))
    [message] = outcome.messages
    assert message.state is DeliveryState.FAILED
    assert message.status.startswith("échec : 535 ")
    assert tls_server.received == []


def test_the_password_is_nowhere(out: Path, tls_server: SmtpServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tls_server.script_data("451 4.3.0 Reessayez plus tard", "550 5.7.1 Refuse")
    outcome = _deliver(out, tls_server)
    _deliver(out, tls_server, resend=True)
    assert outcome.undelivered == 1
    texts = [repr(outcome), str(outcome), *outcome.lines(), *(r.getMessage() for r in caplog.records),
             *(str(r.args) for r in caplog.records)]
    assert not [t for t in texts if PASSWORD in t]
    stored = [p.read_bytes() for p in (out / EML_DIR).iterdir()] + [(out.parent / ledger.LEDGER_FILE).read_bytes()]
    assert not [b for b in stored if PASSWORD.encode() in b]
    assert not [r for r in tls_server.received if PASSWORD.encode() in r.data]


# --- the message itself ---------------------------------------------------------------------------------


def test_the_message_id_is_derived_from_run_recipient_and_content() -> None:
    courrier = _plan()[1]
    data = b"PK\x03\x04 workbook"
    sha = hashlib.sha256(data).hexdigest()
    built = build_message(courrier, "anne.martin@herault.gouv.fr", MAIL_FROM, RUN, data, "Retour é.xlsx", None)
    expected = hashlib.sha256(f"{RUN}|anne.martin@herault.gouv.fr|{sha}".encode()).hexdigest()[:40]
    assert built["Message-ID"] == f"<{expected}@ditp.example.fr>"
    assert message_id(RUN, None, sha, "sans-domaine") == \
        f"<{hashlib.sha256(f'{RUN}||{sha}'.encode()).hexdigest()[:40]}@ftap.invalid>"
    again = build_message(courrier, "anne.martin@herault.gouv.fr", MAIL_FROM, RUN, data, "Retour é.xlsx", None)
    assert again["Message-ID"] == built["Message-ID"]
    other = build_message(courrier, "autre@herault.gouv.fr", MAIL_FROM, RUN, data, "Retour é.xlsx", None)
    assert other["Message-ID"] != built["Message-ID"]
    reminder = _plan()[2]
    assert content_sha256(reminder, None) == hashlib.sha256(reminder.body.encode()).hexdigest()


def test_a_non_ascii_file_name_comes_back_intact_from_a_standard_parser() -> None:
    name = "Retour_Préfecture_de_l'Hérault — 2025-T2.xlsx"
    built = build_message(_plan()[1], "anne.martin@herault.gouv.fr", MAIL_FROM, RUN, b"PK\x03\x04", name, None)
    raw = built.as_bytes()
    raw.decode("ascii")  # 7-bit throughout: the body quoted-printable, the headers and the name encoded
    parsed = email.parser.BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    [part] = list(parsed.iter_attachments())
    assert (part.get_filename(), part.get_content_type()) == (name, f"application/{XLSX_SUBTYPE}")
    assert parsed["Subject"] == "FTAP — retour sur vos remontées de la période 2025-T2"
    assert _body(parsed) == "Bonjour,\n\nVotre retour, détaillé.\n"
    assert parsed["Auto-Submitted"] == "auto-generated"


def _record_many(path: Path, run: str) -> int:
    for i in range(25):
        ledger.record(path, run, "rappel", f"r{i}@x.fr", "FTAP", f"{i:064x}", f"<{i}@x>", ledger.SENT, "250 OK")
    return len(ledger.entries(path, run))


def test_two_processes_share_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / ledger.LEDGER_FILE
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        counts = list(pool.map(_record_many, [path, path], ["2025-T1", "2025-T2"]))
    assert counts == [25, 25]
    assert len(ledger.entries(path)) == 50
    assert ledger.is_delivered(path, "2025-T2", "r24@x.fr", f"{24:064x}")


def test_the_lines_for_the_logs(out: Path) -> None:
    outcome = _deliver(out, None, send=False)
    assert list(outcome.lines()) == [
        "Secrétariat du FTAP — sans adresse : copie .eml seulement",
        "Préfecture de l'Hérault — anne.martin@herault.gouv.fr : copie .eml seulement",
        "AP-2024-02 (Dématérialisation) — paul.durand@dgfip.finances.gouv.fr : copie .eml seulement",
        f"AP-2024-03 (Télé-procédures) — sans adresse : non envoyé : {NO_ADDRESS}",
        "Courriels : 0 envoyé(s), 0 déjà envoyé(s), 3 en copie .eml seulement, 1 sans adresse utilisable, 0 en échec."]


def test_the_ledger_reads_in_french(tmp_path: Path) -> None:
    path = tmp_path / ledger.LEDGER_FILE
    assert ledger.entries(path) == []
    assert not path.exists()
    assert ledger.render_entries([]) == "Aucun envoi enregistré."
    assert ledger.render_entries([], "2025-T2") == "Aucun envoi enregistré pour le rapport 2025-T2."
    ledger.record(path, "2025-T2", "retour", "anne@x.fr", "FTAP — retour", "ab" * 32, "<id@x>", ledger.SENT,
                  "250 OK")
    ledger.record(path, "2025-T3", "rappel", "paul@x.fr", "FTAP — relance", "cd" * 32, "<id2@x>", ledger.FAILED,
                  "550 Inconnu")
    assert ledger.is_delivered(path, "2025-T2", "anne@x.fr", "ab" * 32)
    assert not ledger.is_delivered(path, "2025-T3", "paul@x.fr", "cd" * 32)
    assert [e.recipient for e in ledger.entries(path, "2025-T3")] == ["paul@x.fr"]
    text = ledger.render_entries(ledger.entries(path))
    lines = text.splitlines()
    assert lines[0].split("  ")[0] == "Date (UTC)"
    assert [h for h in ledger.HEADINGS if h not in lines[0]] == []
    assert [w for w in ("retour d'anomalies", "anne@x.fr", "FTAP — retour", "abababababab", "envoyé", "250 OK")
            if w not in lines[2]] == []
    assert [w for w in ("relance", "paul@x.fr", "échec", "550 Inconnu") if w not in lines[3]] == []
    assert lines[-1] == "2 envoi(s) enregistré(s), dont 1 remis et 1 en échec."


def test_many_copies_are_written_on_two_cores_exactly_as_in_turn(out: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Past a few messages, every other copy is written by a forked child: the same files, byte for byte, as
    one process writing them all (`FTAP_START_METHOD=spawn`), numbered in plan order."""
    from ftap_pipeline.io.delivery import _FORKED_FROM, write_copies
    from ftap_pipeline.io.isolation import START_METHOD_ENV

    plan = tuple(Courrier(CourrierKind.RETOUR, f"porteur{i}@exemple.gouv.fr", f"Porteur {i}", f"Retour {i}",
                          f"Bonjour,\n\nRetour n° {i}.\n", FEEDBACK) for i in range(_FORKED_FROM + 3))
    copies = {}
    for method in ("fork", "spawn"):
        monkeypatch.setenv(START_METHOD_ENV, method)
        staging = tmp_path / method
        shutil.copytree(out, staging)
        (staging / "manifest.json").write_text("{}", encoding="utf-8")  # the date of the copies
        os.utime(staging / "manifest.json", (1_750_000_000, 1_750_000_000))
        write_copies(plan, staging, out, RUN, None)
        copies[method] = {p.name: re.sub(rb"={15}\d{10,20}==", b"(boundary)", p.read_bytes())
                          for p in sorted((staging / EML_DIR).iterdir())}
    assert copies["fork"] == copies["spawn"]
    assert list(copies["fork"]) == sorted(f"{i + 1}_porteur{i}@exemple.gouv.fr.eml" for i in range(len(plan)))
    for i, (name, data) in enumerate(sorted(copies["fork"].items(), key=lambda kv: int(kv[0].split("_")[0]))):
        assert f"porteur{i}@" in name
        assert f"Retour n° {i}.".encode() in _parsed(data).get_body(("plain",)).get_content().encode()  # type: ignore[union-attr]
