"""Shared fixtures: the shipped ch-stop-smoking framework and a one-contract config for KPI and CLI tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import redaction
from kpi_core import loader
from kpi_core.framework.model import Framework

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_FRAMEWORKS = REPO_ROOT / "kpi_core" / "frameworks"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the long tests first (marker `long`), in their usual order, then the rest: a worker handed a long test
    near the end would finish alone while the other waits (pyproject.toml's addopts hand out one test at a time)."""
    items[:] = sorted(items, key=lambda item: item.get_closest_marker("long") is None)


# ----------------------------------------------------------------------------- KPI domain and command line

# A deployment with one contract only: the seed's PbR worked example (a £720,000 contract). Tests that run the
# command line use it so they do not depend on the other shipped frameworks.
CH_STOP_SMOKING_CONFIG = """
[[organisations]]
id = "example-council"
name = "Example Council Public Health"
kind = "council"

[[organisations]]
id = "breathe-easy"
name = "Breathe Easy Stop Smoking CIC"
kind = "provider"

[[contracts]]
id = "ch-stop-smoking"
name = "City and Hackney Stop Smoking Service"
framework = "ch-stop-smoking"
provider = "breathe-easy"
commissioner = "example-council"
value = 720000
start = 2025-04-01
"""


@pytest.fixture(scope="session")
def ch_stop_smoking() -> Framework:
    """The shipped City and Hackney framework, read from its file (independent of other shipped files)."""
    return loader.load_path(SHIPPED_FRAMEWORKS / "ch-stop-smoking.toml")


@pytest.fixture
def ch_stop_smoking_config(tmp_path: Path) -> Path:
    """A config.toml holding only the ch-stop-smoking contract."""
    path = tmp_path / "config.toml"
    path.write_text(CH_STOP_SMOKING_CONFIG, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- storage, intake and outbox
# Real databases (a SQLite file and a PostgreSQL server, each test on its own copy) and the deployment whose
# people are described in intake_fixtures.py: Alice, Dave and Bob submit returns, Carol commissions.
from db_fixtures import (  # noqa: E402,F401
    database_url,
    empty_database_url,
    engine,
    postgres_server,
    sqlite_template,
)
from intake_fixtures import files, intake, loaded, render_queue, settings  # noqa: E402,F401

# Real mail servers for the email channel (a Dovecot IMAP server, an aiosmtpd SMTP server): mail_fixtures.py.
from mail_fixtures import dovecot, mail_server, smtp  # noqa: E402,F401

# ----------------------------------------------------------------------------- secrets


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Loading settings registers their secrets for redaction (bot/settings/redaction.py), process-wide: each test
    starts with none, so one test's `imap` password does not hide the word in another's output."""
    redaction.forget_all()
    yield
    redaction.forget_all()


@pytest.fixture(autouse=True, scope="session")
def _framework_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands run by the tests keep checked frameworks (kpi_core/framework_cache.py) and validated settings
    (bot/settings/kept.py) in a folder of the run's own, not in the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KPIBOT_CACHE_DIR", str(tmp_path_factory.mktemp("kpibot-cache")))
        yield


# The review (review_fixtures.py): a second commissioner of the same council, and a commissioner of another one.
from review_fixtures import desk  # noqa: E402,F401  # isort: skip

# The whole demo year, replayed once per session for every worker (demo_fixtures.py).
from demo_fixtures import whole_demo  # noqa: E402,F401  # isort: skip

# The web workspace over that deployment, driven in-process (web_fixtures.py).
from web_fixtures import workspace  # noqa: E402,F401
