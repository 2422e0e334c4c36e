"""From what an operator gave (command line, deployment parameters, settings) to a checked `RunConfig`.

`ftap run`, `ftap comite` and both Prefect deployments go through here, so a wrong parameter reads the same
French message wherever it was typed, and it is refused before any file is read.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from ftap_pipeline.contract import inbox
from ftap_pipeline.core.period import Period
from ftap_pipeline.pipeline import Mailing, RunConfig
from ftap_pipeline.settings import Settings

PARIS = ZoneInfo("Europe/Paris")


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
