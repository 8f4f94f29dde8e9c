"""Validated settings kept between runs (bot/settings/kept.py, bot/config.py): the same settings as validating
config.toml in full, never a stale entry, a bad file explained as always, and no secret ever written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from intake_fixtures import DEPLOYMENT
from test_council_frameworks import OWN

from bot import config
from kpi_core import loader

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:kept-settings-telegram-token"
SMTP = "kept-settings-smtp-password"


@pytest.fixture(autouse=True)
def shipped_frameworks_only() -> Iterator[None]:
    """Each test starts and ends with the shipped frameworks only, and no framework cache (the registry is per
    process)."""
    loader.use_folder(None)
    yield
    loader.use_folder(None)
    loader.use_cache(None)


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "settings").glob("*.pickle"))


def written(cache: Path) -> bytes:
    """Every byte kept in the cache folder (frameworks and settings)."""
    return b"".join(path.read_bytes() for path in sorted(cache.rglob("*")) if path.is_file())


def same(a: config.Settings, b: config.Settings) -> bool:
    """Two settings are the same: every field, the secrets too (they are left out of model_dump)."""
    return a == b and a.model_dump() == b.model_dump() and all(
        getattr(a, key) == getattr(b, key) for key in [*config.SECRET_ENV, "teams_urls", "source"])


@pytest.mark.parametrize("environ", [
    {},
    {"KPIBOT_TELEGRAM_TOKEN": TOKEN, "KPIBOT_SMTP_PASSWORD": SMTP},
    {"DATABASE_URL": "postgresql+psycopg://kpibot@db.example/kpibot"},
    {"DATABASE_URL": "sqlite:///elsewhere/kpibot.db", "KPIBOT_IMAP_PASSWORD": SMTP},
], ids=["plain", "secrets", "database-url", "relative-sqlite-and-a-secret"])
def test_settings_read_back_are_the_settings_validated_in_full(tmp_path: Path, environ: dict[str, str]) -> None:
    cache = tmp_path / "cache"
    full = config.load(ROOT / "config.toml", environ=environ)  # no cache folder named: validated in full
    first = config.load(ROOT / "config.toml", environ={**environ, "KPIBOT_CACHE_DIR": str(cache)})
    assert len(entries(cache)) == 1
    kept = entries(cache)[0].stat().st_mtime_ns
    again = config.load(ROOT / "config.toml", environ={**environ, "KPIBOT_CACHE_DIR": str(cache)})
    assert entries(cache)[0].stat().st_mtime_ns == kept  # read back, not validated and written again
    assert same(full, first) and same(full, again)
    assert again.contract("ch-stop-smoking").contract_terms() == full.contract("ch-stop-smoking").contract_terms()


def test_no_secret_is_ever_written_and_each_comes_from_the_environment_of_the_run(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with_secrets = {"KPIBOT_TELEGRAM_TOKEN": TOKEN, "KPIBOT_SMTP_PASSWORD": SMTP, "KPIBOT_CACHE_DIR": str(cache)}
    config.load(ROOT / "config.toml", environ=with_secrets)
    other = config.load(ROOT / "config.toml", environ={**with_secrets, "KPIBOT_TELEGRAM_TOKEN": "654321:another"})
    assert other.telegram_token == "654321:another" and other.smtp_password == SMTP
    assert len(entries(cache)) == 1  # the same entry: a secret's value is not part of what is validated
    assert TOKEN.encode() not in written(cache) and SMTP.encode() not in written(cache)


def test_settings_holding_a_database_password_or_reading_a_webhook_url_are_never_kept(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    password = "kept-settings-db-password"
    url = f"postgresql+psycopg://kpibot:{password}@db.example/kpibot"
    settings = config.load(ROOT / "config.toml", environ={"DATABASE_URL": url, "KPIBOT_CACHE_DIR": str(cache)})
    assert settings.storage.database_url == url
    path = tmp_path / "config.toml"
    path.write_text(DEPLOYMENT + '\n[[teams]]\nname = "commissioners"\norganisation = "example-council"\n'
                    'url_env = "KPIBOT_TEAMS_COMMISSIONERS"\n', encoding="utf-8")
    hook = "https://example.webhook.office.com/webhookb2/kept-settings-hook"
    teams = config.load(path, environ={"KPIBOT_TEAMS_COMMISSIONERS": hook, "KPIBOT_CACHE_DIR": str(cache)})
    assert teams.teams_urls == {"commissioners": hook}
    assert entries(cache) == []
    assert password.encode() not in written(cache) and b"kept-settings-hook" not in written(cache)


def test_a_bad_config_toml_is_never_kept_and_reads_as_it_always_did(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = tmp_path / "config.toml"
    path.write_text(DEPLOYMENT.replace('value = 720000', 'value = -1', 1), encoding="utf-8")
    with pytest.raises(config.ConfigError) as full:
        config.load(path, environ={})
    for _ in range(2):
        with pytest.raises(config.ConfigError) as cached:
            config.load(path, environ={"KPIBOT_CACHE_DIR": str(cache)})
        assert str(cached.value) == str(full.value) and "value" in str(full.value)
    assert entries(cache) == []


def test_a_secret_that_validation_asks_for_is_checked_on_every_run(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = tmp_path / "config.toml"
    path.write_text(DEPLOYMENT + '\n[web]\noidc_tenant = "contoso.onmicrosoft.com"\noidc_client_id = '
                    '"11111111-2222-3333-4444-555555555555"\n', encoding="utf-8")
    secret = {"KPIBOT_WEB_OIDC_CLIENT_SECRET": "kept-settings-client-secret", "KPIBOT_CACHE_DIR": str(cache)}
    assert config.load(path, environ=secret).web.oidc_enabled
    with pytest.raises(config.ConfigError, match="KPIBOT_WEB_OIDC_CLIENT_SECRET"):
        config.load(path, environ={"KPIBOT_CACHE_DIR": str(cache)})
    assert b"kept-settings-client-secret" not in written(cache)


def test_a_changed_framework_is_validated_again_never_served_stale(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (tmp_path / "frameworks").mkdir()
    own = tmp_path / "frameworks" / "quit-line.toml"
    own.write_text(OWN, encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(DEPLOYMENT + (
        '\n[[contracts]]\nid = "quit-line"\nname = "Hackney Quit Line"\nframework = "hackney-quit-line"\n'
        'provider = "breathe-easy"\ncommissioner = "example-council"\nvalue = 50000\nstart = 2025-04-01\n'
        '\n[frameworks]\nfolder = "frameworks"\n'), encoding="utf-8")
    environ = {"KPIBOT_CACHE_DIR": str(cache)}
    assert config.load(path, environ=environ).contract("quit-line").framework == "hackney-quit-line"
    own.write_text(OWN.replace('id = "hackney-quit-line"', 'id = "hackney-quit-line-2"'), encoding="utf-8")
    with pytest.raises(config.ConfigError, match="unknown framework 'hackney-quit-line'"):
        config.load(path, environ=environ)
