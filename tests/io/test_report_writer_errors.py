"""The system's refusals to write the outputs (disk full, read-only disk, permission, file size, quota) stop the
run with a French message that names the folder and says what to do, and the previous report stays as it was.

Real refusals, not simulated ones: a small tmpfs that fills up, the same remounted read-only, a folder the
account may not write, a subprocess under `RLIMIT_FSIZE`. Mounting needs root; where it cannot be done the
test says why it is skipped."""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ftap_pipeline.core.period import Period
from ftap_pipeline.io.write_errors import OutputsUnwritableError, explain, outputs_problem
from ftap_pipeline.pipeline import RunConfig, run
from tests.conftest import INPUTS, ROOT

LABEL = "2025-T2"


def _snapshot(outputs: Path) -> dict[str, bytes]:
    """Every file of the reports and their archives, and the names at the top of the outputs (a staging folder
    left behind would show); the lock and the readers' cache are rewritten by a run before it publishes."""
    files = {p.relative_to(outputs).as_posix(): p.read_bytes() for p in sorted(outputs.rglob("*"))
             if p.is_file() and not p.relative_to(outputs).parts[0].startswith(".")}
    return {**files, "": " ".join(sorted(p.name for p in outputs.iterdir())).encode()}


def _config(outputs: Path) -> RunConfig:
    return RunConfig.quarterly(INPUTS, outputs, Period.parse(LABEL))


@contextlib.contextmanager
def _tmpfs(where: Path, size_kb: int) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("a tmpfs is mounted only as root, and these tests do not run as root")
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"no tmpfs can be mounted here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


def _used_kb(where: Path) -> int:
    stat = os.statvfs(where)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize // 1024


def test_a_full_disk_leaves_the_previous_report_and_says_so(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "disque", 16 * 1024) as outputs:
        run(_config(outputs))
        before = _snapshot(outputs)
        _remount(outputs, f"size={_used_kb(outputs) + 200}k")  # room for a third of a new report
        with pytest.raises(OutputsUnwritableError) as info:
            run(_config(outputs))
        assert info.value.errno == errno.ENOSPC
        assert info.value.message.startswith(f"le disque du dossier des sorties {outputs} est plein")
        assert f"supprimant d'anciennes archives dans {outputs / 'archives'}" in info.value.message
        assert info.value.message.endswith("Le rapport déjà présent, s'il y en a un, est intact.")
        assert _snapshot(outputs) == before  # no staging folder, no temporary file, the report as it was


def test_read_only_outputs_leave_the_previous_report_and_say_so(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "disque", 16 * 1024) as outputs:
        run(_config(outputs))
        before = _snapshot(outputs)
        _remount(outputs, "ro")
        with pytest.raises(OutputsUnwritableError) as info:
            run(_config(outputs))
        assert info.value.errno == errno.EROFS
        assert info.value.message.startswith(f"le dossier des sorties {outputs} est sur un disque en lecture seule")
        assert "choisissez un autre dossier des sorties (--outputs ou FTAP_OUTPUTS)" in info.value.message
        assert _snapshot(outputs) == before


REFUSED = """
import sys
from pathlib import Path
from ftap_pipeline.core.period import Period
from ftap_pipeline.io.write_errors import OutputsUnwritableError
from ftap_pipeline.pipeline import RunConfig, run
try:
    run(RunConfig.quarterly(Path(sys.argv[1]), Path(sys.argv[2]), Period.parse("2025-T2")))
except OutputsUnwritableError as exc:
    print(exc.errno, exc.message, sep="\\n")
"""


def test_outputs_the_account_may_not_write_leave_the_previous_report_and_say_so(tmp_path: Path) -> None:
    outputs = tmp_path / "sorties"
    run(_config(outputs))
    before = _snapshot(outputs)
    command = [sys.executable, "-c", REFUSED, str(INPUTS), str(outputs)]
    if os.geteuid() == 0:  # root ignores permissions: it runs without the capabilities that let it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("as root, a refused write needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    for folder in (outputs, *(p for p in outputs.rglob("*") if p.is_dir())):
        folder.chmod(0o555)
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    finally:
        for folder in (outputs, *(p for p in outputs.rglob("*") if p.is_dir())):
            folder.chmod(0o755)
    assert "\n" in done.stdout, done.stderr[-3000:]
    code, message = done.stdout.split("\n", 1)
    assert int(code) == errno.EACCES, done.stderr
    assert message.startswith("le compte « ")
    assert f"n'a pas le droit d'écrire dans le dossier des sorties {outputs}" in message
    assert _snapshot(outputs) == before


def _limit_file_size() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG


def test_a_file_size_limit_leaves_the_previous_report_and_says_so(tmp_path: Path) -> None:
    outputs = tmp_path / "sorties"
    run(_config(outputs))
    before = _snapshot(outputs)
    done = subprocess.run([sys.executable, "-c", REFUSED, str(INPUTS), str(outputs)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False, preexec_fn=_limit_file_size)
    code, message = done.stdout.split("\n", 1)
    assert int(code) == errno.EFBIG, done.stderr
    assert message.startswith("un fichier du rapport dépasse la taille de fichier permise au compte")
    assert f"dans le dossier des sorties {outputs}" in message
    assert _snapshot(outputs) == before
    assert not any(p.name.startswith(".staging-") for p in outputs.iterdir())


def test_a_quota_is_said_with_the_folder_and_what_to_do(tmp_path: Path) -> None:
    """No quota can be set here: the message of the system's EDQUOT alone."""
    if not hasattr(errno, "EDQUOT"):
        pytest.skip("this system has no disk quotas")
    problem = outputs_problem(OSError(errno.EDQUOT, "Disk quota exceeded", str(tmp_path / "x.xlsx")), tmp_path)
    assert problem is not None
    assert problem.startswith("le quota d'espace disque du compte ")
    assert f"est atteint dans le dossier des sorties {tmp_path} (en écrivant {tmp_path / 'x.xlsx'})" in problem
    assert "Libérez de la place ou faites relever le quota, puis relancez." in problem


def test_other_system_errors_are_said_in_french_with_their_file() -> None:
    assert explain(FileNotFoundError(errno.ENOENT, "No such file or directory", "/srv/x")) == \
        "fichier ou dossier introuvable (/srv/x)"
    assert explain(OSError(errno.ENOEXEC, "Exec format error")) == "erreur du système n° 8 (Exec format error)"


def test_the_cli_says_the_message_of_a_refusal_as_it_is(tmp_path: Path) -> None:
    refused = OutputsUnwritableError("le disque du dossier des sorties /srv est plein.", OSError(errno.ENOSPC, "x"))
    assert explain(refused) == "le disque du dossier des sorties /srv est plein."
    assert str(refused) == refused.message
