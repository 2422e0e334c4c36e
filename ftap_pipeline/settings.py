"""The operator's settings (livraison-v1): the SMTP relay, the addresses, the folders.

Read from environment variables, or from a `.env`-style file named by `FTAP_CONFIG` (the environment wins), and
checked all at once before any work: a wrong setting is refused with a French message that names its variable.
The password is held in a `Secret`, so that no log, message or repr can print it by accident.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from ftap_pipeline.contract.addresses import is_mail_address

Security = Literal["starttls", "ssl", "aucune"]
SECURITY_MODES: Final[tuple[Security, ...]] = ("starttls", "ssl", "aucune")
DEFAULT_PORTS: Final[Mapping[Security, int]] = {"starttls": 587, "ssl": 465, "aucune": 25}
DEFAULT_TIMEOUT_S: Final = 30.0
DEFAULT_MAX_ATTACHMENT_MB: Final = 10.0
#: The Prefect Secret block that may hold the password instead of `FTAP_SMTP_PASSWORD`.
PASSWORD_BLOCK: Final = "ftap-smtp-password"

CONFIG: Final = "FTAP_CONFIG"
HOST: Final = "FTAP_SMTP_HOST"
PORT: Final = "FTAP_SMTP_PORT"
SECURITY: Final = "FTAP_SMTP_SECURITY"
USER: Final = "FTAP_SMTP_USER"
PASSWORD: Final = "FTAP_SMTP_PASSWORD"
TIMEOUT: Final = "FTAP_SMTP_TIMEOUT_S"
MAIL_FROM: Final = "FTAP_MAIL_FROM"
SECRETARIAT: Final = "FTAP_MAIL_SECRETARIAT"
MAX_ATTACHMENT: Final = "FTAP_MAIL_MAX_ATTACHMENT_MB"
INPUTS: Final = "FTAP_INPUTS"
OUTPUTS: Final = "FTAP_OUTPUTS"
#: Every variable read, `FTAP_CONFIG` aside.
VARIABLES: Final = (HOST, PORT, SECURITY, USER, PASSWORD, TIMEOUT, MAIL_FROM, SECRETARIAT, MAX_ATTACHMENT, INPUTS,
                    OUTPUTS)

_MASK: Final = "********"
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_INTEGER = re.compile(r"[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[0-9]+(?:[.,][0-9]+)?", re.ASCII)


class Secret:
    """A value that prints as `********`: only `reveal()` gives it, where it is used (the SMTP login).

    Not a dataclass, so that `dataclasses.asdict` of the settings cannot turn it back into plain text."""

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return _MASK

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        # Crossing to another process (a Prefect task) needs the value; printing never does.
        return (Secret, (self._value,))


@dataclass(frozen=True)
class SmtpSettings:
    """The relay and what a message needs from the operator: sender, secretariat, attachment limit."""

    host: str
    port: int
    security: Security
    user: str | None
    password: Secret | None
    timeout_s: float
    mail_from: str
    secretariat: tuple[str, ...]
    max_attachment_mb: float


@dataclass(frozen=True)
class Settings:
    """Everything the operator configures; `smtp` is None when no relay is set (a dry run: `.eml` copies only)."""

    smtp: SmtpSettings | None
    inputs: Path | None
    outputs: Path | None


class SettingsError(Exception):
    """A setting refused before any work: `message` is French and names `variable`; no secret is ever in it."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable
        self.message = message


def _error(variable: str, text: str) -> SettingsError:
    return SettingsError(variable, f"{variable} : {text}")


def _flat(value: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in value)


def _shown(value: str) -> str:
    """A value quoted in a message, cut and flattened so that a long or odd value keeps the message readable."""
    flat = _flat(value)
    return flat if len(flat) <= 80 else flat[:77] + "…"


# --- the .env-style file --------------------------------------------------------------------------------


def read_config_file(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines, `#` comments, blank lines, an optional `export `, quotes around a value stripped.

    A malformed line is refused with its number; its content is never repeated, since it may hold the password."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _error(CONFIG, f"le fichier de réglages {_flat(str(path))} n'existe pas.") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        why = "n'est pas un texte UTF-8" if isinstance(exc, UnicodeDecodeError) else "ne peut pas être lu"
        raise _error(CONFIG, f"le fichier de réglages {_flat(str(path))} {why}.") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export"):].lstrip()
        key, equal, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not equal or not _KEY.fullmatch(key):
            raise _error(CONFIG, f"ligne {number} du fichier {_flat(str(path))} : attendu NOM=valeur (par exemple "
                                 f"FTAP_SMTP_HOST=smtp.exemple.gouv.fr).")
        if value[:1] in ("'", '"'):
            if len(value) < 2 or value[-1] != value[0]:
                raise _error(CONFIG, f"ligne {number} du fichier {_flat(str(path))} : le guillemet ouvert n'est "
                                     f"pas refermé en fin de ligne.")
            value = value[1:-1]
        values[key] = value
    return values


# --- one variable at a time -----------------------------------------------------------------------------


def _present(values: Mapping[str, str], name: str) -> str | None:
    """The variable's value, stripped; None when unset. Set but empty is an error: a variable that can silently
    be empty (`FTAP_INPUTS=$UNSET`) must not quietly fall back to a default."""
    if name not in values:
        return None
    value = values[name].strip()
    if not value:
        raise _error(name, "la variable est définie mais vide : donnez-lui une valeur, ou retirez-la.")
    return value


def _security(values: Mapping[str, str]) -> Security:
    value = _present(values, SECURITY)
    if value is None:
        return "starttls"
    mode = value.lower()
    if mode not in SECURITY_MODES:
        raise _error(SECURITY, f"« {_shown(value)} » n'est pas un mode reconnu (starttls, ssl ou aucune).")
    return mode


def _port(values: Mapping[str, str], security: Security) -> int:
    value = _present(values, PORT)
    if value is None:
        return DEFAULT_PORTS[security]
    if not _INTEGER.fullmatch(value) or not 1 <= int(value) <= 65535:
        raise _error(PORT, f"« {_shown(value)} » n'est pas un numéro de port (un entier de 1 à 65535).")
    return int(value)


def _positive(values: Mapping[str, str], name: str, default: float, unit: str) -> float:
    value = _present(values, name)
    if value is None:
        return default
    number = float(value.replace(",", ".")) if _DECIMAL.fullmatch(value) else math.nan
    if not math.isfinite(number) or number <= 0:
        raise _error(name, f"« {_shown(value)} » n'est pas un nombre positif de {unit} (par exemple {default:g}).")
    return number


def _address(name: str, value: str) -> str:
    if not is_mail_address(value):
        raise _error(name, f"« {_shown(value)} » n'est pas une adresse électronique valide (prenom.nom@exemple.gouv.fr).")
    return value


def _addresses(values: Mapping[str, str]) -> tuple[str, ...]:
    value = _present(values, SECRETARIAT)
    if value is None:
        raise _error(SECRETARIAT, "les adresses du secrétariat sont requises quand un relais est défini "
                                  f"({HOST}) ; séparez-les par « , » ou « ; ».")
    found: list[str] = []
    for part in re.split(r"[,;]", value):
        address = part.strip()
        if address and _address(SECRETARIAT, address) not in found:
            found.append(address)
    if not found:
        raise _error(SECRETARIAT, "aucune adresse dans la liste ; séparez les adresses par « , » ou « ; ».")
    return tuple(found)


def _host(value: str) -> str:
    if any(c.isspace() for c in value) or not all(c.isprintable() for c in value) or "/" in value:
        raise _error(HOST, f"« {_shown(value)} » n'est pas un nom de serveur (par exemple smtp.exemple.gouv.fr).")
    return value


def _password(values: Mapping[str, str], user: str | None,
              password_loader: Callable[[], str | None] | None) -> Secret | None:
    """The password from the environment, else from the loader (the Prefect Secret block), never shown."""
    if PASSWORD in values:
        if not values[PASSWORD]:
            raise _error(PASSWORD, "la variable est définie mais vide : donnez le mot de passe, ou retirez-la.")
        if user is None:
            raise _error(USER, f"un mot de passe est donné ({PASSWORD}) sans nom d'utilisateur.")
        return Secret(values[PASSWORD])
    if user is None:
        return None
    missing = _error(PASSWORD, f"{USER} est défini mais aucun mot de passe n'est donné : définissez {PASSWORD}, ou "
                               f"créez le bloc Secret Prefect « {PASSWORD_BLOCK} ».")
    if password_loader is None:
        raise missing
    try:
        loaded = password_loader()
    except Exception as exc:  # noqa: BLE001 - any failure of the block is the same missing setting
        raise SettingsError(PASSWORD, f"{missing.message} (lecture du bloc impossible : {type(exc).__name__})") from None
    if not loaded:
        raise missing
    return Secret(loaded)


def _folder(values: Mapping[str, str], name: str) -> Path | None:
    value = _present(values, name)
    if value is None:
        return None
    if "\x00" in value:
        raise _error(name, "le chemin contient un caractère nul.")
    return Path(value)


def _smtp(values: Mapping[str, str], password_loader: Callable[[], str | None] | None) -> SmtpSettings | None:
    """Every relay variable is checked even without a relay, so that a typo is found before the day it matters."""
    security = _security(values)
    port = _port(values, security)
    timeout = _positive(values, TIMEOUT, DEFAULT_TIMEOUT_S, "secondes")
    max_mb = _positive(values, MAX_ATTACHMENT, DEFAULT_MAX_ATTACHMENT_MB, "Mo")
    mail_from = _present(values, MAIL_FROM)
    if mail_from is not None:
        _address(MAIL_FROM, mail_from)
    user = _present(values, USER)
    host = _present(values, HOST)
    if host is None:
        if SECRETARIAT in values:
            _addresses(values)
        return None
    if mail_from is None:
        raise _error(MAIL_FROM, f"l'adresse d'expédition est requise quand un relais est défini ({HOST}).")
    return SmtpSettings(host=_host(host), port=port, security=security, user=user,
                        password=_password(values, user, password_loader), timeout_s=timeout, mail_from=mail_from,
                        secretariat=_addresses(values), max_attachment_mb=max_mb)


def load_settings(environ: Mapping[str, str] | None = None,
                  password_loader: Callable[[], str | None] | None = None) -> Settings:
    """The settings from `environ` (default: the process environment) over the file `FTAP_CONFIG` names.

    `password_loader` is called only when a relay and a user are set and no `FTAP_SMTP_PASSWORD` is: the
    orchestrator passes one that reads the Prefect Secret block `ftap-smtp-password`."""
    values = _values(environ)
    return Settings(smtp=_smtp(values, password_loader), inputs=_folder(values, INPUTS),
                    outputs=_folder(values, OUTPUTS))


def _values(environ: Mapping[str, str] | None) -> dict[str, str]:
    """The variables this module reads: those of the `FTAP_CONFIG` file, overridden by the environment's."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, str] = {}
    config = _present(env, CONFIG)
    if config is not None:
        values.update(read_config_file(Path(config)))
    values.update({k: v for k, v in env.items() if k in VARIABLES})
    return values


def load_folders(environ: Mapping[str, str] | None = None) -> tuple[Path | None, Path | None]:
    """Only `FTAP_INPUTS` and `FTAP_OUTPUTS` (environment over `FTAP_CONFIG`): what `ftap envois` needs, without
    the relay's checks and its password."""
    values = _values(environ)
    return _folder(values, INPUTS), _folder(values, OUTPUTS)


__all__ = ["DEFAULT_MAX_ATTACHMENT_MB", "DEFAULT_PORTS", "DEFAULT_TIMEOUT_S", "PASSWORD_BLOCK", "SECURITY_MODES",
           "Secret", "Security", "Settings", "SettingsError", "SmtpSettings", "load_folders", "load_settings", "read_config_file"]
