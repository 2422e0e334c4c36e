"""The operator's settings: defaults of livraison-v1, a French refusal naming the variable, the password never shown."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ftap_pipeline.settings import (
    PASSWORD_BLOCK,
    VARIABLES,
    Secret,
    Settings,
    SettingsError,
    SmtpSettings,
    load_settings,
)

PASSWORD = "Pw-s3cr3t-Zq81xV"
RELAY = {"FTAP_SMTP_HOST": "smtp.ditp.example.fr", "FTAP_MAIL_FROM": "ftap@ditp.example.fr",
         "FTAP_MAIL_SECRETARIAT": "secretariat@ditp.example.fr"}


def _smtp(environ: dict[str, str], **kwargs: object) -> SmtpSettings:
    smtp = load_settings(environ, **kwargs).smtp  # type: ignore[arg-type]
    assert smtp is not None
    return smtp


def _refused(environ: dict[str, str], **kwargs: object) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_no_relay_is_a_dry_run() -> None:
    assert load_settings({}) == Settings(smtp=None, inputs=None, outputs=None)


def test_the_defaults_of_the_spec() -> None:
    smtp = _smtp(RELAY)
    assert (smtp.host, smtp.port, smtp.security, smtp.timeout_s, smtp.max_attachment_mb) == \
        ("smtp.ditp.example.fr", 587, "starttls", 30.0, 10.0)
    assert (smtp.user, smtp.password, smtp.mail_from) == (None, None, "ftap@ditp.example.fr")
    assert smtp.secretariat == ("secretariat@ditp.example.fr",)


@pytest.mark.parametrize(("security", "port"), [("ssl", 465), ("aucune", 25), ("starttls", 587), ("SSL", 465)])
def test_the_default_port_follows_the_security(security: str, port: int) -> None:
    smtp = _smtp({**RELAY, "FTAP_SMTP_SECURITY": security})
    assert (smtp.security, smtp.port) == (security.lower(), port)


def test_every_value_is_read() -> None:
    smtp = _smtp({**RELAY, "FTAP_SMTP_PORT": "2525", "FTAP_SMTP_SECURITY": "aucune", "FTAP_SMTP_TIMEOUT_S": "7,5",
                  "FTAP_MAIL_MAX_ATTACHMENT_MB": "2.5", "FTAP_SMTP_USER": "robot", "FTAP_SMTP_PASSWORD": PASSWORD,
                  "FTAP_MAIL_SECRETARIAT": "a@ditp.example.fr ; b@ditp.example.fr,a@ditp.example.fr;"})
    assert (smtp.port, smtp.security, smtp.timeout_s, smtp.max_attachment_mb, smtp.user) == \
        (2525, "aucune", 7.5, 2.5, "robot")
    assert smtp.password is not None
    assert smtp.password.reveal() == PASSWORD
    assert smtp.secretariat == ("a@ditp.example.fr", "b@ditp.example.fr")


def test_folders() -> None:
    found = load_settings({"FTAP_INPUTS": "/srv/ftap/entrees", "FTAP_OUTPUTS": "sorties"})
    assert (found.inputs, found.outputs) == (Path("/srv/ftap/entrees"), Path("sorties"))


@pytest.mark.parametrize("variable", ["FTAP_INPUTS", "FTAP_OUTPUTS", "FTAP_SMTP_HOST", "FTAP_CONFIG"])
def test_a_variable_set_but_empty_is_refused_not_ignored(variable: str) -> None:
    error = _refused({variable: "  "})
    assert error.variable == variable
    assert error.message == f"{variable} : la variable est définie mais vide : donnez-lui une valeur, ou retirez-la."


@pytest.mark.parametrize(("environ", "variable", "message"), [
    ({**RELAY, "FTAP_SMTP_SECURITY": "tls"}, "FTAP_SMTP_SECURITY",
     "FTAP_SMTP_SECURITY : « tls » n'est pas un mode reconnu (starttls, ssl ou aucune)."),
    ({**RELAY, "FTAP_SMTP_PORT": "smtp"}, "FTAP_SMTP_PORT",
     "FTAP_SMTP_PORT : « smtp » n'est pas un numéro de port (un entier de 1 à 65535)."),
    ({**RELAY, "FTAP_SMTP_PORT": "70000"}, "FTAP_SMTP_PORT",
     "FTAP_SMTP_PORT : « 70000 » n'est pas un numéro de port (un entier de 1 à 65535)."),
    ({**RELAY, "FTAP_SMTP_PORT": "0"}, "FTAP_SMTP_PORT",
     "FTAP_SMTP_PORT : « 0 » n'est pas un numéro de port (un entier de 1 à 65535)."),
    ({**RELAY, "FTAP_SMTP_PORT": "５８７"}, "FTAP_SMTP_PORT",
     "FTAP_SMTP_PORT : « ５８７ » n'est pas un numéro de port (un entier de 1 à 65535)."),
    ({**RELAY, "FTAP_SMTP_TIMEOUT_S": "-3"}, "FTAP_SMTP_TIMEOUT_S",
     "FTAP_SMTP_TIMEOUT_S : « -3 » n'est pas un nombre positif de secondes (par exemple 30)."),
    ({**RELAY, "FTAP_SMTP_TIMEOUT_S": "0"}, "FTAP_SMTP_TIMEOUT_S",
     "FTAP_SMTP_TIMEOUT_S : « 0 » n'est pas un nombre positif de secondes (par exemple 30)."),
    ({**RELAY, "FTAP_SMTP_TIMEOUT_S": "inf"}, "FTAP_SMTP_TIMEOUT_S",
     "FTAP_SMTP_TIMEOUT_S : « inf » n'est pas un nombre positif de secondes (par exemple 30)."),
    ({**RELAY, "FTAP_MAIL_MAX_ATTACHMENT_MB": "0"}, "FTAP_MAIL_MAX_ATTACHMENT_MB",
     "FTAP_MAIL_MAX_ATTACHMENT_MB : « 0 » n'est pas un nombre positif de Mo (par exemple 10)."),
    ({"FTAP_SMTP_HOST": "smtp.ditp.example.fr", "FTAP_MAIL_SECRETARIAT": "s@ditp.example.fr"}, "FTAP_MAIL_FROM",
     "FTAP_MAIL_FROM : l'adresse d'expédition est requise quand un relais est défini (FTAP_SMTP_HOST)."),
    ({"FTAP_SMTP_HOST": "smtp.ditp.example.fr", "FTAP_MAIL_FROM": "f@ditp.example.fr"}, "FTAP_MAIL_SECRETARIAT",
     "FTAP_MAIL_SECRETARIAT : les adresses du secrétariat sont requises quand un relais est défini (FTAP_SMTP_HOST) ; "
     "séparez-les par « , » ou « ; »."),
    ({**RELAY, "FTAP_MAIL_SECRETARIAT": "a@ditp.example.fr; secrétariat"}, "FTAP_MAIL_SECRETARIAT",
     "FTAP_MAIL_SECRETARIAT : « secrétariat » n'est pas une adresse électronique valide (prenom.nom@exemple.gouv.fr)."),
    ({**RELAY, "FTAP_MAIL_SECRETARIAT": " ; , "}, "FTAP_MAIL_SECRETARIAT",
     "FTAP_MAIL_SECRETARIAT : aucune adresse dans la liste ; séparez les adresses par « , » ou « ; »."),
    ({**RELAY, "FTAP_MAIL_FROM": "FTAP <ftap@ditp.example.fr>"}, "FTAP_MAIL_FROM",
     "FTAP_MAIL_FROM : « FTAP <ftap@ditp.example.fr> » n'est pas une adresse électronique valide "
     "(prenom.nom@exemple.gouv.fr)."),
    ({**RELAY, "FTAP_SMTP_HOST": "smtp ditp"}, "FTAP_SMTP_HOST",
     "FTAP_SMTP_HOST : « smtp ditp » n'est pas un nom de serveur (par exemple smtp.exemple.gouv.fr)."),
    ({**RELAY, "FTAP_SMTP_PASSWORD": PASSWORD}, "FTAP_SMTP_USER",
     "FTAP_SMTP_USER : un mot de passe est donné (FTAP_SMTP_PASSWORD) sans nom d'utilisateur."),
])
def test_a_wrong_setting_is_refused_in_french_naming_its_variable(environ: dict[str, str], variable: str,
                                                                  message: str) -> None:
    error = _refused(environ)
    assert (error.variable, error.message, str(error)) == (variable, message, message)
    assert PASSWORD not in repr(error)


def test_a_wrong_setting_is_refused_even_without_a_relay() -> None:
    """A typo is found now, not on the day the relay is set."""
    assert _refused({"FTAP_SMTP_PORT": "vingt-cinq"}).variable == "FTAP_SMTP_PORT"
    assert _refused({"FTAP_MAIL_SECRETARIAT": "pas une adresse"}).variable == "FTAP_MAIL_SECRETARIAT"


def test_the_password_may_come_from_the_prefect_block() -> None:
    calls: list[int] = []

    def loader() -> str:
        calls.append(1)
        return PASSWORD

    smtp = _smtp({**RELAY, "FTAP_SMTP_USER": "robot"}, password_loader=loader)
    assert smtp.password is not None
    assert smtp.password.reveal() == PASSWORD
    assert calls == [1]
    # Not called when the environment gives the password, nor without a user or a relay.
    _smtp({**RELAY, "FTAP_SMTP_USER": "robot", "FTAP_SMTP_PASSWORD": "autre"}, password_loader=loader)
    _smtp(RELAY, password_loader=loader)
    load_settings({"FTAP_SMTP_USER": "robot"}, password_loader=loader)
    assert calls == [1]


@pytest.mark.parametrize("outcome", ["none", "raises", "no loader"])
def test_a_user_without_a_password_names_the_variable_and_the_block(outcome: str) -> None:
    def loader() -> str | None:
        if outcome == "raises":
            raise RuntimeError(f"block unreachable {PASSWORD}")
        return None

    error = _refused({**RELAY, "FTAP_SMTP_USER": "robot"}, password_loader=None if outcome == "no loader" else loader)
    assert error.variable == "FTAP_SMTP_PASSWORD"
    assert error.message.startswith("FTAP_SMTP_PASSWORD : FTAP_SMTP_USER est défini mais aucun mot de passe n'est "
                                    f"donné : définissez FTAP_SMTP_PASSWORD, ou créez le bloc Secret Prefect "
                                    f"« {PASSWORD_BLOCK} ».")
    assert error.message.endswith("(lecture du bloc impossible : RuntimeError)" if outcome == "raises" else "».")
    assert PASSWORD not in str(error)
    assert error.__cause__ is None
    assert error.__suppress_context__ is (outcome == "raises")  # the loader's own error is not chained for display


# --- the file named by FTAP_CONFIG ----------------------------------------------------------------------


def test_the_config_file_and_the_environment_over_it(tmp_path: Path) -> None:
    config = tmp_path / "ftap.env"
    config.write_text("# Réglages FTAP\n\nexport FTAP_SMTP_HOST=smtp.ditp.example.fr\n"
                      "FTAP_SMTP_PORT = '2525'\nFTAP_MAIL_FROM=\"ftap@ditp.example.fr\"\n"
                      "FTAP_MAIL_SECRETARIAT=secretariat@ditp.example.fr;chef@ditp.example.fr\n"
                      f"FTAP_SMTP_USER=robot\nFTAP_SMTP_PASSWORD='{PASSWORD}'\nFTAP_OUTPUTS=/srv/ftap/sorties\n",
                      encoding="utf-8")
    found = load_settings({"FTAP_CONFIG": str(config), "FTAP_SMTP_PORT": "465", "FTAP_SMTP_SECURITY": "ssl"})
    assert found.smtp is not None
    assert (found.smtp.host, found.smtp.port, found.smtp.security, found.smtp.mail_from) == \
        ("smtp.ditp.example.fr", 465, "ssl", "ftap@ditp.example.fr")
    assert found.smtp.secretariat == ("secretariat@ditp.example.fr", "chef@ditp.example.fr")
    assert found.smtp.password is not None
    assert found.smtp.password.reveal() == PASSWORD
    assert found.outputs == Path("/srv/ftap/sorties")


@pytest.mark.parametrize(("content", "why"), [
    (f"FTAP_SMTP_HOST=smtp.ditp.example.fr\n\nFTAP_SMTP_PASSWORD {PASSWORD}\n",
     "attendu NOM=valeur (par exemple FTAP_SMTP_HOST=smtp.exemple.gouv.fr)."),
    (f"# ok\nFTAP_SMTP_HOST=smtp.ditp.example.fr\nFTAP_SMTP_PASSWORD='{PASSWORD}\n",
     "le guillemet ouvert n'est pas refermé en fin de ligne."),
    (f"\n\n{PASSWORD}=x\n", "attendu NOM=valeur (par exemple FTAP_SMTP_HOST=smtp.exemple.gouv.fr)."),
])
def test_a_malformed_line_names_the_file_and_its_number_not_its_content(tmp_path: Path, content: str, why: str) -> None:
    config = tmp_path / "ftap.env"
    config.write_text(content, encoding="utf-8")
    error = _refused({"FTAP_CONFIG": str(config)})
    assert error.variable == "FTAP_CONFIG"
    assert error.message == f"FTAP_CONFIG : ligne 3 du fichier {config} : {why}"
    assert PASSWORD not in error.message


def test_a_config_file_that_is_missing_or_unreadable(tmp_path: Path) -> None:
    missing = tmp_path / "absent.env"
    assert _refused({"FTAP_CONFIG": str(missing)}).message == \
        f"FTAP_CONFIG : le fichier de réglages {missing} n'existe pas."
    assert _refused({"FTAP_CONFIG": str(tmp_path)}).message == \
        f"FTAP_CONFIG : le fichier de réglages {tmp_path} ne peut pas être lu."
    binary = tmp_path / "binaire.env"
    binary.write_bytes(b"\xff\xfe\x00FTAP")
    assert _refused({"FTAP_CONFIG": str(binary)}).message == \
        f"FTAP_CONFIG : le fichier de réglages {binary} n'est pas un texte UTF-8."


# --- the password is never printed ----------------------------------------------------------------------


def test_a_secret_never_prints() -> None:
    secret = Secret(PASSWORD)
    smtp = _smtp({**RELAY, "FTAP_SMTP_USER": "robot", "FTAP_SMTP_PASSWORD": PASSWORD})
    for text in (repr(secret), str(secret), f"{secret}", repr(smtp), str(smtp), repr(load_settings(
            {**RELAY, "FTAP_SMTP_USER": "robot", "FTAP_SMTP_PASSWORD": PASSWORD})), str(dataclasses.asdict(smtp))):
        assert PASSWORD not in text
    assert repr(secret) == str(secret) == "********"
    assert secret.reveal() == PASSWORD
    with pytest.raises(AttributeError):
        secret._value = "autre"
    # It still crosses to another process (a Prefect task) and survives a copy.
    assert pickle.loads(pickle.dumps(smtp)) == smtp
    assert copy.deepcopy(secret).reveal() == PASSWORD


_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)
_PASSWORDS = st.text(string.ascii_letters + string.digits, min_size=12, max_size=24).map(lambda s: "Pw-" + s)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.dictionaries(st.sampled_from([v for v in (*VARIABLES, "FTAP_CONFIG") if v != "FTAP_SMTP_PASSWORD"]),
                              st.one_of(_TEXT, st.sampled_from(["", "smtp.ditp.example.fr", "ssl", "aucune", "25",
                                                                "a@b.fr", "a@b.fr; c@d.fr", "robot", "2,5"]))),
       password=st.one_of(st.none(), _PASSWORDS), loaded=st.one_of(st.none(), _PASSWORDS))
def test_any_text_gives_settings_or_a_settings_error_and_never_shows_the_password(
        values: dict[str, str], password: str | None, loaded: str | None) -> None:
    secrets = [p for p in (password, loaded) if p is not None]
    assume(not any(p in v for p in secrets for v in values.values()))
    environ = dict(values)
    if password is not None:
        environ["FTAP_SMTP_PASSWORD"] = password
    variable: str | None = None
    try:
        found = load_settings(environ, password_loader=lambda: loaded)
    except SettingsError as exc:
        shown = [str(exc), repr(exc), exc.message, exc.variable]
        variable = exc.variable
    else:
        shown = [str(found), repr(found)]
        if found.smtp is not None:
            assert found.smtp.port in range(1, 65536)
            assert found.smtp.timeout_s > 0
            assert found.smtp.secretariat
    assert variable is None or variable in (*VARIABLES, "FTAP_CONFIG")
    for text in shown:
        assert not any(p in text for p in secrets)
