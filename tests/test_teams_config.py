"""`[[teams]]` in config.toml: checked at start-up naming the key; the webhook URL only ever from the environment,
and never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CH_STOP_SMOKING_CONFIG, REPO_ROOT

from bot import config
from bot.config import ConfigError

URL = "https://prod-27.uksouth.logic.azure.com:443/workflows/9a8b/triggers/manual/paths/invoke?api-version=2016-06-01" \
      "&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Zm9vYmFyU0VDUkVU"
ENTRY = """
[[teams]]
name = "council"
organisation = "example-council"
url_env = "KPIBOT_TEAMS_URL_COUNCIL"
"""


def load(tmp_path: Path, teams: str = ENTRY, environ: dict[str, str] | None = None, top: str = ""
         ) -> config.Settings:
    path = tmp_path / "kpibot.toml"
    path.write_text(top + CH_STOP_SMOKING_CONFIG + teams, encoding="utf-8")
    return config.load(path, environ={"KPIBOT_TEAMS_URL_COUNCIL": URL} if environ is None else environ)


def refused(tmp_path: Path, teams: str = ENTRY, environ: dict[str, str] | None = None, top: str = "") -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, teams, environ, top)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "kpibot.toml")) and "Zm9vYmFy" not in message and "logic.azure" \
        not in message
    return message


def test_the_url_comes_from_the_variable_the_entry_names_and_is_never_shown(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings.teams_urls == {"council": URL} and [t.name for t in settings.reachable_teams()] == ["council"]
    assert "Zm9vYmFy" not in repr(settings) and "Zm9vYmFy" not in settings.model_dump_json()
    assert "teams_urls" not in settings.model_dump()


def test_an_entry_without_its_variable_is_off(tmp_path: Path) -> None:
    settings = load(tmp_path, environ={})
    assert settings.teams_urls == {} and settings.reachable_teams() == ()


def test_the_example_config_has_a_council_and_a_provider_channel() -> None:
    settings = config.load(REPO_ROOT / "config.toml", environ={"KPIBOT_TEAMS_URL_EXAMPLE_COUNCIL": URL})
    assert [(t.name, t.organisation, t.contracts) for t in settings.teams] == [
        ("example-council", "example-council", ()), ("breathe-easy", "breathe-easy", ("ch-stop-smoking",))]
    assert [t.name for t in settings.reachable_teams()] == ["example-council"]


@pytest.mark.parametrize(("teams", "message"), [
    (ENTRY.replace("url_env", "urlenv"), "teams #1 (name 'council'): urlenv: is not a known setting (check its spelling)"),
    (ENTRY + 'channel = "x"\n', "teams #1 (name 'council'): channel: is not a known setting (check its spelling)"),
    (ENTRY.replace('organisation = "example-council"', 'organisation = "nobody"'),
     "teams #1 (name 'council'): organisation: 'nobody' is not in organisations"),
    (ENTRY + 'contracts = ["lifestyle"]\n', "teams #1 (name 'council'): contracts: 'lifestyle' is not a contract of "
                                            "'example-council'"),
    (ENTRY.replace("KPIBOT_TEAMS_URL_COUNCIL", "DATABASE_URL"),
     "teams #1 (name 'council'): url_env: has characters that are not allowed here"),
    (ENTRY.replace('name = "council"', 'name = "Council Channel"'),
     "teams #1 (name 'Council Channel'): name: may hold only lower-case letters"),
    (ENTRY + ENTRY, "teams: name council appears more than once"),
])
def test_a_bad_entry_fails_naming_the_key(tmp_path: Path, teams: str, message: str) -> None:
    assert message in refused(tmp_path, teams)


@pytest.mark.parametrize("key", ["url", "webhook_url"])
def test_a_url_pasted_into_the_file_is_refused_without_repeating_it(tmp_path: Path, key: str) -> None:
    message = refused(tmp_path, ENTRY + f'{key} = "{URL}"\n')
    assert f"teams #1 (name 'council'): {key}: the webhook URL must not be in the file; put it in an environment variable " \
           "(KPIBOT_TEAMS_...) and name that variable in url_env" in message


def test_teams_urls_cannot_be_set_in_the_file(tmp_path: Path) -> None:
    assert "teams_urls must not be in the file" in refused(tmp_path, top=f'teams_urls = {{ council = "{URL}" }}\n')


@pytest.mark.parametrize("url", ["http://prod-27.uksouth.logic.azure.com/workflows/x?sig=Zm9vYmFy",
                                 "prod-27.uksouth.logic.azure.com/workflows/x?sig=Zm9vYmFy",
                                 "https://prod-27.uksouth.logic.azure.com/work flows?sig=Zm9vYmFy"])
def test_a_variable_holding_no_https_url_fails_naming_the_variable_not_its_value(tmp_path: Path, url: str) -> None:
    message = refused(tmp_path, environ={"KPIBOT_TEAMS_URL_COUNCIL": url})
    assert "teams #1 (name 'council'): url_env: KPIBOT_TEAMS_URL_COUNCIL " in message


def test_http_is_allowed_only_to_this_machine(tmp_path: Path) -> None:
    settings = load(tmp_path, environ={"KPIBOT_TEAMS_URL_COUNCIL": "http://127.0.0.1:8080/hook?sig=x"})
    assert settings.teams_urls["council"].startswith("http://127.0.0.1")


def test_two_entries_with_one_webhook_are_refused(tmp_path: Path) -> None:
    second = ENTRY.replace('name = "council"', 'name = "again"').replace("URL_COUNCIL", "URL_AGAIN")
    message = refused(tmp_path, ENTRY + second, {"KPIBOT_TEAMS_URL_COUNCIL": URL, "KPIBOT_TEAMS_URL_AGAIN": URL})
    assert "teams: council and again hold the same webhook URL; one entry per webhook" in message
