"""Settings: config.toml read once into a validated object; secrets only from the environment."""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bot import config
from bot.config import ConfigError, Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO_ROOT / "config.toml"
SECRETS = set(config.SECRET_ENV) | {"source"}  # fields the file may not set


def unknown_keys(data: dict[str, Any], model: type[BaseModel], where: str = "") -> list[str]:
    """Every key of `data` that `model` (walked through nested tables and arrays of tables) does not define."""
    found = []
    fields = {name: f for name, f in model.model_fields.items() if model is not Settings or name not in SECRETS}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in fields:
            found.append(path)
            continue
        annotation = fields[key].annotation
        if typing.get_origin(annotation) is tuple:
            annotation = typing.get_args(annotation)[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for index, entry in enumerate(value if isinstance(value, list) else [value]):
                found += unknown_keys(entry, annotation, f"{path}[{index}]" if isinstance(value, list) else path)
    return found


def load_text(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "kpibot.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path, environ={} if environ is None else environ)


def test_the_example_config_toml_loads() -> None:
    settings = config.load(EXAMPLE_CONFIG, environ={})
    assert {c.id for c in settings.contracts} >= {"ch-stop-smoking", "solihull-stop-smoking", "lifestyle",
                                                  "ch-substance-misuse"}
    assert settings.contract("ch-stop-smoking").value == 720000
    assert settings.contract("lifestyle").start_month == 11
    assert settings.telegram_token == ""


def test_every_key_in_the_example_config_toml_is_a_known_setting() -> None:
    data = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    assert unknown_keys(data, Settings) == []
    assert not SECRETS & set(data)


def test_the_key_checker_would_catch_a_stray_key() -> None:
    data = {"timezone": "Europe/London", "storage": {"databse_url": "x"}, "contracts": [{"id": "a", "vaule": 1}]}
    assert unknown_keys(data, Settings) == ["storage.databse_url", "contracts[0].vaule"]


def test_a_minimal_config_loads(tmp_path: Path, ch_stop_smoking_config: Path) -> None:
    settings = config.load(ch_stop_smoking_config, environ={})
    contract = settings.contract("ch-stop-smoking")
    assert contract.start_month == 4  # from the framework's calendar
    assert settings.storage.database_url == f"sqlite:///{tmp_path / 'var' / 'kpibot.db'}"
    assert settings.source == str(ch_stop_smoking_config)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("", 'timezon = "Europe/London"\n'), "timezon"),
        (("", '[storage]\ndatabse_url = "sqlite:///x.db"\n'), "storage.databse_url"),
        (("", '[email]\nsmtp_prot = 25\n'), "email.smtp_prot"),
        (("value = 720000", "vaule = 720000"), "contracts #1 (id 'ch-stop-smoking'): vaule"),
        (('kind = "council"', 'kind = "council"\nwebsite = "x"'), "organisations #1 (id 'example-council'): website"),
    ],
)
def test_a_misspelt_key_fails_naming_it(tmp_path: Path, ch_stop_smoking_config: Path, change: tuple[str, str],
                                        key: str) -> None:
    old, new = change
    text = ch_stop_smoking_config.read_text(encoding="utf-8")
    text = new + text if not old else text.replace(old, new)
    with pytest.raises(ConfigError) as excinfo:
        load_text(tmp_path, text)
    assert f"{key}: is not a known setting (check its spelling)" in str(excinfo.value)
    assert str(excinfo.value).startswith(str(tmp_path / "kpibot.toml"))


@pytest.mark.parametrize(
    ("key", "variable"),
    [("telegram_token", "KPIBOT_TELEGRAM_TOKEN"), ("smtp_password", "KPIBOT_SMTP_PASSWORD"),
     ("imap_password", "KPIBOT_IMAP_PASSWORD")],
)
def test_a_secret_in_the_file_is_refused(tmp_path: Path, ch_stop_smoking_config: Path, key: str,
                                         variable: str) -> None:
    text = f'{key} = "s3cret-value"\n' + ch_stop_smoking_config.read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_text(tmp_path, text)
    message = str(excinfo.value)
    assert f"{key} must not be in the file; set {variable} in the environment instead" in message
    assert "s3cret-value" not in message


@pytest.mark.parametrize("section", ["telegram", "email"])
def test_a_secret_inside_a_section_is_refused_too(tmp_path: Path, ch_stop_smoking_config: Path,
                                                  section: str) -> None:
    text = f'[{section}]\npassword = "s3cret-value"\ntoken = "s3cret-value"\n' + ch_stop_smoking_config.read_text()
    with pytest.raises(ConfigError) as excinfo:
        load_text(tmp_path, text)
    assert f"{section}.password: is not a known setting" in str(excinfo.value)
    assert "s3cret-value" not in str(excinfo.value)


def test_secrets_come_from_the_environment(ch_stop_smoking_config: Path) -> None:
    settings = config.load(ch_stop_smoking_config, environ={"KPIBOT_TELEGRAM_TOKEN": "123:abc",
                                                            "KPIBOT_SMTP_PASSWORD": "smtp",
                                                            "KPIBOT_IMAP_PASSWORD": "imap"})
    assert (settings.telegram_token, settings.smtp_password, settings.imap_password) == ("123:abc", "smtp", "imap")
    assert "123:abc" not in repr(settings)
    assert "telegram_token" not in settings.model_dump()


def test_database_url_in_the_environment_overrides_the_file(tmp_path: Path, ch_stop_smoking_config: Path) -> None:
    text = '[storage]\ndatabase_url = "sqlite:///from-file.db"\nfiles_dir = "files"\n' + \
        ch_stop_smoking_config.read_text(encoding="utf-8")
    url = "postgresql+psycopg://kpibot@127.0.0.1:55432/kpibot"
    assert load_text(tmp_path, text, {"DATABASE_URL": url}).storage.database_url == url
    from_file = f"sqlite:///{tmp_path / 'from-file.db'}"
    assert load_text(tmp_path, text, {}).storage.database_url == from_file
    assert load_text(tmp_path, text, {"DATABASE_URL": ""}).storage.database_url == from_file
    assert load_text(tmp_path, text, {"DATABASE_URL": url}).storage.files_dir == tmp_path / "files"


def test_relative_storage_paths_are_read_from_the_config_files_folder(tmp_path: Path,
                                                                      ch_stop_smoking_config: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`kpibot --config /srv/kpibot/config.toml status` run from elsewhere uses the deployment's database."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    text = '[storage]\ndatabase_url = "sqlite:///data/k.db?timeout=5"\noutbox_dir = "out"\n' + \
        ch_stop_smoking_config.read_text(encoding="utf-8")
    storage = load_text(tmp_path, text, {}).storage
    assert storage.database_url == f"sqlite:///{tmp_path / 'data' / 'k.db'}?timeout=5"
    assert storage.sqlite_path == tmp_path / "data" / "k.db"
    assert (storage.files_dir, storage.outbox_dir) == (tmp_path / "var" / "files", tmp_path / "out")
    absolute = load_text(tmp_path, text.replace("sqlite:///data/k.db", "sqlite:////srv/k.db"), {}).storage
    assert absolute.sqlite_path == Path("/srv/k.db")
    from_env = load_text(tmp_path, text, {"DATABASE_URL": "sqlite:///env.db"}).storage
    assert from_env.sqlite_path == elsewhere / "env.db"  # the environment's paths are the shell's


@pytest.mark.parametrize("url", ["mysql://kpibot:secret@db/kpibot", "oracle://x", "kpibot.db"])
def test_an_unsupported_database_url_fails_naming_its_source(ch_stop_smoking_config: Path, url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config.load(ch_stop_smoking_config, environ={"DATABASE_URL": url})
    assert "DATABASE_URL (from the environment): " in str(raised.value)
    assert "is not a database kpibot supports; use SQLite (sqlite:///path/to/kpibot.db)" in str(raised.value)
    assert "secret" not in str(raised.value)


def test_database_url_applies_without_a_storage_section(ch_stop_smoking_config: Path) -> None:
    settings = config.load(ch_stop_smoking_config, environ={"DATABASE_URL": "sqlite:////tmp/other.db"})
    assert settings.storage.database_url == "sqlite:////tmp/other.db"


def test_kpibot_config_names_the_file_when_no_path_is_given(ch_stop_smoking_config: Path) -> None:
    settings = config.load(None, environ={"KPIBOT_CONFIG": str(ch_stop_smoking_config)})
    assert settings.source == str(ch_stop_smoking_config)


def test_a_missing_file_says_how_to_name_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file \\(set KPIBOT_CONFIG or pass --config\\)"):
        config.load(tmp_path / "absent.toml", environ={})


def test_invalid_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_text(tmp_path, "[storage\n")
    assert str(excinfo.value).startswith(f"{tmp_path / 'kpibot.toml'}: cannot read the configuration")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('framework = "ch-stop-smoking"', 'framework = "no-such-framework"'),
         "contracts #1 (id 'ch-stop-smoking'): framework: unknown framework 'no-such-framework'; known: "),
        (('provider = "breathe-easy"', 'provider = "example-council"'),
         "contracts #1 (id 'ch-stop-smoking'): provider: 'example-council' is not a provider in organisations"),
        (("value = 720000", "value = -1"), "contracts #1 (id 'ch-stop-smoking'): value: must be 0 or more (not -1)"),
        (("start = 2025-04-01", 'start = "April"'),
         "contracts #1 (id 'ch-stop-smoking'): start: must be a date written as 2025-04-01, without quotes"),
        (('kind = "provider"', 'kind = "charity"'),
         "organisations #2 (id 'breathe-easy'): kind: must be 'council' or 'provider' (not 'charity')"),
    ],
)
def test_a_bad_value_fails_naming_the_key(tmp_path: Path, ch_stop_smoking_config: Path, change: tuple[str, str],
                                          message: str) -> None:
    old, new = change
    text = ch_stop_smoking_config.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(ConfigError) as excinfo:
        load_text(tmp_path, text.replace(old, new, 1))
    assert message in str(excinfo.value)


def test_an_unknown_contract_lists_the_configured_ones(ch_stop_smoking_config: Path) -> None:
    settings = config.load(ch_stop_smoking_config, environ={})
    with pytest.raises(ConfigError, match="unknown contract 'nope'; configured: ch-stop-smoking"):
        settings.contract("nope")


def test_settings_are_frozen(ch_stop_smoking_config: Path) -> None:
    settings = config.load(ch_stop_smoking_config, environ={})
    with pytest.raises(ValidationError):
        settings.timezone = "UTC"  # type: ignore[misc]


# ----------------------------------------------------------------------------- the mailbox ([email])

def test_mail_is_encrypted_unless_plain_is_asked_for_on_this_machine(ch_stop_smoking_config: Path) -> None:
    email = config.load(ch_stop_smoking_config, environ={}).email
    assert (email.imap_security, email.imap_port, email.smtp_security, email.smtp_port) == ("tls", 993,
                                                                                            "starttls", 587)
    assert not email.mailbox_configured  # no imap_user: no mailbox is read


@pytest.mark.parametrize(("settings", "problem"), [
    ('imap_host = "outlook.office365.com"\nimap_security = "plain"',
     'email: imap_security = "plain" sends the password unencrypted, so it is allowed only to this machine'),
    ('smtp_host = "10.0.0.5"\nsmtp_security = "plain"', 'email: smtp_security = "plain" sends the password'),
    ('imap_security = "ssl"', "email.imap_security: must be 'tls', 'starttls' or 'plain' (not 'ssl')"),
    ('processed_folder = "INBOX"', "email: processed_folder must differ from folder"),
    ("poll_seconds = 1800", "email.poll_seconds: must be 1500 or less (not 1800)"),
    ('from_address = "kpibot"', "email.from_address: must be an email address"),
])
def test_unsafe_or_wrong_mailbox_settings_fail_naming_the_key(tmp_path: Path, ch_stop_smoking_config: Path,
                                                               settings: str, problem: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_text(tmp_path, f"[email]\n{settings}\n" + ch_stop_smoking_config.read_text(encoding="utf-8"))
    assert problem in str(excinfo.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.53"])
def test_plain_mail_is_allowed_to_this_machine(tmp_path: Path, ch_stop_smoking_config: Path, host: str) -> None:
    settings = load_text(tmp_path, f'[email]\nimap_host = "{host}"\nimap_security = "plain"\n'
                                   + ch_stop_smoking_config.read_text(encoding="utf-8"))
    assert settings.email.imap_security == "plain"


def test_a_contact_may_be_limited_to_telegram(tmp_path: Path, ch_stop_smoking_config: Path) -> None:
    text = ch_stop_smoking_config.read_text(encoding="utf-8") + (
        '\n[[contacts]]\nemail = "Alice@Example.org"\nname = "Alice"\norganisation = "breathe-easy"\n'
        'role = "provider_submitter"\ntelegram_chat_id = 1001\nchannel = "telegram"\n')
    [contact] = load_text(tmp_path, text).contacts
    assert (contact.email, contact.channel) == ("alice@example.org", "telegram")


# ----------------------------------------------------------------------------- mistakes said as a person counts

def test_a_timezone_that_is_not_a_real_zone_is_refused_when_the_file_is_read(tmp_path: Path,
                                                                             ch_stop_smoking_config: Path) -> None:
    """Issue 20: `timezone = "London"` was accepted by validation, then `kpibot init` failed on an unexpected
    fault. It is a mistake in the file, said when the file is read, with the name to write instead."""
    with pytest.raises(ConfigError) as excinfo:
        load_text(tmp_path, 'timezone = "London"\n' + ch_stop_smoking_config.read_text(encoding="utf-8"))
    assert "timezone: 'London' is not a time zone name; use one from the IANA list, such as 'Europe/London'" \
        in str(excinfo.value)
    assert load_text(tmp_path, 'timezone = "Europe/Dublin"\n' + ch_stop_smoking_config.read_text(
        encoding="utf-8")).timezone == "Europe/Dublin"


def test_kpibot_init_with_a_timezone_that_is_not_a_zone_is_one_error_line(tmp_path: Path,
                                                                          ch_stop_smoking_config: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    path = tmp_path / "config.toml"
    path.write_text('timezone = "London"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "init"])
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and "'London' is not a time zone name" in result.output
    assert "unexpected fault" not in result.output and not (tmp_path / "var").exists()


def test_an_empty_config_file_is_refused_naming_what_it_needs(tmp_path: Path) -> None:
    """Issue 20: an empty config.toml was initialised silently, a database made for no council at all."""
    with pytest.raises(ConfigError) as excinfo:
        load_text(tmp_path, "")
    message = str(excinfo.value)
    assert message.startswith(f"{tmp_path / 'kpibot.toml'}: the file is empty")
    assert all(table in message for table in ("[[organisations]]", "[[contracts]]", "[[contacts]]"))


def test_kpibot_init_refuses_a_config_with_no_contracts_and_creates_nothing(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    path = tmp_path / "config.toml"
    path.write_text('timezone = "Europe/London"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "init"])
    assert result.exit_code != 0
    assert result.output.startswith(f"Error: {path} has no [[organisations]] and no [[contracts]]: there is "
                                    "nothing to set up")
    assert not (tmp_path / "var").exists()


def test_mistakes_name_entries_the_way_a_person_counts_them(tmp_path: Path, ch_stop_smoking_config: Path) -> None:
    """Issue 20: "contracts.0.framework" counted from 0; a council officer counts the first contract as #1 and
    knows it by its id."""
    text = ch_stop_smoking_config.read_text(encoding="utf-8") + (
        '\n[[contracts]]\nid = "second"\nname = "Second"\nframework = "no-such"\nprovider = "breathe-easy"\n'
        'commissioner = "example-council"\nvalue = 1\nstart = 2025-04-01\n'
        '\n[[contacts]]\nemail = "ann@example.org"\nname = "Ann"\norganisation = "nowhere"\n'
        'role = "provider_submitter"\n')
    with pytest.raises(ConfigError) as excinfo:
        load_text(tmp_path, text)
    message = str(excinfo.value)
    assert "contracts #2 (id 'second'): framework: unknown framework 'no-such'; known: ch-stop-smoking" in message
    assert ".0." not in message and "[0]" not in message and "[1]" not in message
