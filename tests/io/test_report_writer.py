"""The messages' copies are published with the report, in its swap, and the sending step does not write the
published folder again: the message sent is its copy, byte for byte."""

from __future__ import annotations

from email import message_from_bytes, utils
from pathlib import Path

from ftap_pipeline.core.period import Period
from ftap_pipeline.io.delivery import EML_DIR
from ftap_pipeline.io.staging import written_at
from ftap_pipeline.pipeline import RunConfig, build, ingest, publish, send
from tests.conftest import INPUTS


def test_copies_are_published_with_the_report_and_left_as_they_are_by_the_sending(tmp_path: Path) -> None:
    config = RunConfig.quarterly(INPUTS, tmp_path, Period.parse("2025-T2"))
    ingested = ingest(config)
    built = build(ingested, config)
    workbook = publish(built, ingested, config)
    assert workbook == config.out_dir / "FTAP_suivi_2025-T2.xlsx"
    copies = sorted((config.out_dir / EML_DIR).glob("*.eml"))
    assert len(copies) >= len(built.report.courriers)  # one per recipient of each message
    published = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in copies}
    outcome = send(built, config)
    assert {m.eml for m in outcome.messages} == {f"{EML_DIR}/{name}" for name in published}
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
            for p in (config.out_dir / EML_DIR).glob("*.eml")} == published
    when = written_at(config.out_dir)
    assert when is not None
    for _ino, _mtime, data in published.values():
        assert message_from_bytes(data)["Date"] == utils.format_datetime(when)  # dated by the report's manifest
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging-")]


def test_the_message_sent_is_its_published_copy_byte_for_byte(tmp_path: Path) -> None:
    from ftap_pipeline.io.delivery import _Copy, _published_copy
    from ftap_pipeline.io.mail_message import build_message

    config = RunConfig.quarterly(INPUTS, tmp_path, Period.parse("2025-T2"))
    ingested = ingest(config)
    built = build(ingested, config)
    publish(built, ingested, config)
    courrier = next(c for c in built.report.courriers if c.attachment is not None)
    data = (config.out_dir / courrier.attachment).read_bytes()  # type: ignore[operator]
    (eml,) = [p for p in (config.out_dir / EML_DIR).glob("1_*.eml")]
    again = build_message(courrier, None, "ftap@ftap.invalid", "2025-T2", data, Path(str(courrier.attachment)).name,
                          None, written_at(config.out_dir))
    assert again.as_bytes() != eml.read_bytes()  # a message built again draws another MIME boundary…
    copy = _Copy(courrier, None, lambda: again, str(again["Message-ID"]), eml.name, "", None)
    assert _published_copy(eml, copy).as_bytes() == eml.read_bytes()  # …so the published copy is what is sent
