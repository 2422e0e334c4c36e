"""From what an operator gave (command line, deployment parameters, settings) to a checked `RunConfig`.

`ftap run`, `ftap comite` and both Prefect deployments go through here, so a wrong parameter reads the same
French message wherever it was typed, and it is refused before any file is read.
"""

from __future__ import annotations

import datetime as dt
import socket
import urllib.parse
from pathlib import Path
from zoneinfo import ZoneInfo

from ftap_pipeline.contract import inbox
from ftap_pipeline.core.period import Period
from ftap_pipeline.pipeline import Mailing, RunConfig
from ftap_pipeline.settings import Settings

PARIS = ZoneInfo("Europe/Paris")
#: Where the returns are read: on this machine, or on a Dask cluster (`dask_address`).
TASK_RUNNERS = ("local", "dask")
#: Seconds a Dask scheduler has to accept a connection before the run is refused.
CLUSTER_TIMEOUT_S = 5.0
_ADDRESS_FORM = "tcp://HÔTE:PORT (ex. tcp://10.0.0.5:8786)"


class LaunchError(ValueError):
    """A parameter or a folder that makes the run impossible; `message` says which and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def today_in_paris() -> dt.date:
    """The day it is for the secretariat, whatever the server's time zone (the schedule runs at 07:00 Paris)."""
    return dt.datetime.now(PARIS).date()


def parse_period(text: str | None) -> Period:
    """The quarter asked for; by default the last one finished today, computed when the run starts."""
    if text is None or not text.strip():
        return Period.last_finished(today_in_paris())
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise LaunchError(f"Paramètre « period » : {exc}") from None


def parse_committee_date(text: str | None) -> dt.date:
    if text is None or not str(text).strip():
        raise LaunchError("Paramètre « date » obligatoire : la date du comité de pilotage, au format AAAA-MM-JJ "
                          "(ex. 2025-06-12).")
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise LaunchError(f"Paramètre « date » : « {text} » n'est pas une date au format AAAA-MM-JJ "
                          f"(ex. 2025-06-12).") from None


def folder(given: str | Path | None, configured: Path | None, default: str, name: str) -> Path:
    """The folder given, else the one of the settings, else the default, made absolute against the working
    directory so that every log and artifact names it in full."""
    if isinstance(given, str) and given.strip() == "":
        raise LaunchError(f"Paramètre « {name} » vide : donnez un chemin de dossier, ou retirez le paramètre.")
    chosen = Path(given) if given is not None else configured if configured is not None else Path(default)
    return chosen.expanduser().resolve()


def check_inputs(inputs: Path) -> tuple[str, ...]:
    """Refuse an inputs folder that does not exist or cannot be read; warn (French lines) when a part of it is
    missing."""
    try:
        if inputs.is_dir():
            next(iter(inputs.iterdir()), None)  # a folder that cannot be listed is refused here, not mid-run
            what = ""
        else:
            what = "n'est pas un dossier" if inputs.exists() else "n'existe pas"
    except OSError as exc:
        what = f"n'est pas accessible ({exc.strerror or exc})"
    if what:
        raise LaunchError(f"Le dossier des entrées {inputs} {what}. Indiquez le dossier qui contient "
                          f"{inbox.RETURNS_DIR}/, {inbox.CHORUS_DIR}/ et {inbox.REFERENCE_FILE}.")
    warnings = []
    if not (inputs / inbox.RETURNS_DIR).is_dir():
        warnings.append(f"Le dossier des entrées {inputs} n'a pas de sous-dossier {inbox.RETURNS_DIR}/ : aucune "
                        f"remontée ne sera lue, et chaque projet sera signalé sans remontée.")
    if not (inputs / inbox.CHORUS_DIR).is_dir():
        warnings.append(f"Le dossier des entrées {inputs} n'a pas de sous-dossier {inbox.CHORUS_DIR}/ : le "
                        f"rapprochement avec Chorus ne sera pas fait.")
    return tuple(warnings)


def mailing(settings: Settings, send: bool | None, resend: bool) -> Mailing:
    """Send when asked, or by default when a relay is configured; asking to send without one is an error."""
    for name, value in (("send", send), ("renvoyer", resend)):
        if value is not None and not isinstance(value, bool):
            raise LaunchError(f"Paramètre « {name} » : « {value} » n'est pas un booléen (true ou false attendu).")
    if send is None:
        send = settings.smtp is not None
    if send and settings.smtp is None:
        raise LaunchError("Envoi demandé, mais aucun serveur de messagerie n'est configuré : définissez "
                          "FTAP_SMTP_HOST (et FTAP_MAIL_FROM, FTAP_MAIL_SECRETARIAT), ou lancez sans envoi "
                          "(--no-send).")
    return Mailing(smtp=settings.smtp, send=send, resend=resend)


def quarterly_config(settings: Settings, inputs: str | Path | None, outputs: str | Path | None, period: str | None,
                     send: bool | None, resend: bool = False) -> RunConfig:
    return RunConfig.quarterly(folder(inputs, settings.inputs, "inputs", "inputs"),
                               folder(outputs, settings.outputs, "outputs", "outputs"), parse_period(period),
                               mailing=mailing(settings, send, resend))


def committee_config(settings: Settings, inputs: str | Path | None, outputs: str | Path | None, date: str | None,
                     send: bool | None, resend: bool = False) -> RunConfig:
    return RunConfig.committee(folder(inputs, settings.inputs, "inputs", "inputs"),
                               folder(outputs, settings.outputs, "outputs", "outputs"), parse_committee_date(date),
                               mailing=mailing(settings, send, resend))


def cluster(task_runner: str | None, dask_address: str | None) -> str | None:
    """The address of the Dask scheduler that reads the returns, or None to read them on this machine: checked
    in form, then that the scheduler answers, before any file is read."""
    address = parse_cluster(task_runner, dask_address)
    if address is not None:
        check_cluster(address)
    return address


def parse_cluster(task_runner: str | None, dask_address: str | None) -> str | None:
    """`task_runner` and `dask_address` as given (options, or a deployment's JSON parameters): an address
    alone means Dask; Dask without an address, or local with one, is refused rather than guessed."""
    for name, value in (("task_runner", task_runner), ("dask_address", dask_address)):
        if value is not None and not isinstance(value, str):
            raise LaunchError(f"Paramètre « {name} » : « {value} » n'est pas un texte.")
    address = (dask_address or "").strip()
    runner = (task_runner or "").strip().lower() or ("dask" if address else "local")
    if runner not in TASK_RUNNERS:
        raise LaunchError(f"Paramètre « task_runner » : « {task_runner} » n'est pas un exécuteur connu ; valeurs "
                          f"possibles : {', '.join(TASK_RUNNERS)}.")
    if runner == "local":
        if address:
            raise LaunchError(f"Paramètre « dask_address » ({address}) donné avec « task_runner » local : retirez "
                              f"l'adresse pour lire sur cette machine, ou demandez « task_runner » dask.")
        return None
    if not address:
        raise LaunchError(f"Paramètre « dask_address » obligatoire avec « task_runner » dask : l'adresse du "
                          f"planificateur du cluster Dask, au format {_ADDRESS_FORM}.")
    host, port = _host_and_port(address)
    if host is None or port is None:
        raise LaunchError(f"Paramètre « dask_address » : « {address} » n'est pas l'adresse d'un planificateur Dask "
                          f"au format {_ADDRESS_FORM}.")
    return address


def check_cluster(address: str, timeout_s: float = CLUSTER_TIMEOUT_S) -> None:
    """Refuse a cluster whose scheduler does not accept a connection: said now, rather than after the
    référentiel is read and the connection has waited for half a minute."""
    host, port = _host_and_port(address)
    try:
        with socket.create_connection((host or "", port or 0), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = _network_reason(exc, timeout_s)
        raise LaunchError(f"Le cluster Dask {address} ne répond pas ({reason}). Vérifiez que son planificateur "
                          f"(« dask scheduler ») tourne à cette adresse et que cette machine peut le joindre, ou "
                          f"lancez le rapport sans « task_runner » dask pour lire les remontées sur cette machine. "
                          f"Rien n'a été lu ni écrit.") from None


def _network_reason(exc: OSError, timeout_s: float) -> str:
    """Why a connection failed, in French (the system's own words are English)."""
    if isinstance(exc, socket.gaierror):
        return "nom d'hôte inconnu"
    if isinstance(exc, TimeoutError):
        return f"aucune réponse en {timeout_s:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée : rien n'écoute sur ce port"
    return f"erreur réseau {type(exc).__name__}"


def _host_and_port(address: str) -> tuple[str | None, int | None]:
    """The host and port of `tcp://HOST:PORT` (or `tls://`), None for what is missing or malformed."""
    parts = urllib.parse.urlsplit(address)
    if parts.scheme not in ("tcp", "tls") or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None, None
    try:
        port = parts.port
    except ValueError:
        return parts.hostname, None
    return parts.hostname, port if port else None
