"""A small deployment for storage and intake tests, on a real database of each kind.

Who may see what:
- Alice submits for Breathe Easy, restricted to the City and Hackney contract.
- Dave also works for Breathe Easy, unrestricted: both its contracts (so kpibot must ask him which one).
- Bob submits for Turning Point (substance misuse) and may not submit Breathe Easy's returns.
- Carol is the council's commissioner.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot import config
from bot.intake.received import Received
from bot.intake.service import Intake
from bot.reports.queue import RenderQueue
from bot.storage.files import FileStore
from bot.storage.models import Contract
from bot.storage.sync import ensure_obligations, sync_settings
from kpi_core import loader, samples

DEPLOYMENT = """
timezone = "Europe/London"

[[organisations]]
id = "example-council"
name = "Example Council"
kind = "council"

[[organisations]]
id = "breathe-easy"
name = "Breathe Easy CIC"
kind = "provider"

[[organisations]]
id = "turning-point"
name = "Turning Point"
kind = "provider"

[[contracts]]
id = "ch-stop-smoking"
name = "City and Hackney Stop Smoking Service"
framework = "ch-stop-smoking"
provider = "breathe-easy"
commissioner = "example-council"
value = 720000
start = 2025-04-01

[[contracts]]
id = "solihull-stop-smoking"
name = "Solihull Stop Smoking"
framework = "solihull-stop-smoking"
provider = "breathe-easy"
commissioner = "example-council"
value = 450000
start = 2025-04-01

[[contracts]]
id = "ch-substance-misuse"
name = "Hackney and City Substance Misuse"
framework = "ch-substance-misuse"
provider = "turning-point"
commissioner = "example-council"
value = 5400000
start = 2025-04-01

[[contacts]]
email = "alice@breathe-easy.example"
name = "Alice"
organisation = "breathe-easy"
role = "provider_submitter"
telegram_chat_id = 1001
contracts = ["ch-stop-smoking"]

[[contacts]]
email = "dave@breathe-easy.example"
name = "Dave"
organisation = "breathe-easy"
role = "provider_manager"

[[contacts]]
email = "bob@turning-point.example"
name = "Bob"
organisation = "turning-point"
role = "provider_submitter"

[[contacts]]
email = "carol@example-council.example"
name = "Carol"
organisation = "example-council"
role = "commissioner"
"""

ALICE = "alice@breathe-easy.example"
DAVE = "dave@breathe-easy.example"
BOB = "bob@turning-point.example"
# 10:00 in London on 1 October 2025: Q2 2025-26 ended yesterday, its return is due on 15 October.
NOW = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


def deployment(tmp_path: Path, database_url: str, extra: str = "") -> config.Settings:
    path = tmp_path / "config.toml"
    text = DEPLOYMENT.replace('timezone = "Europe/London"', 'timezone = "Europe/London"\n' + extra)
    text += f'\n[storage]\ndatabase_url = "{database_url}"\nfiles_dir = "{tmp_path / "files"}"\n' \
            f'outbox_dir = "{tmp_path / "outbox"}"\n'
    path.write_text(text, encoding="utf-8")
    return config.load(path, environ={})


def sample_csv(framework_id: str = "ch-stop-smoking", seed: int = 1, level: float = 0.9,
               overrides: dict[tuple[str, str], Fraction] | None = None) -> bytes:
    values = dict(_sample_values(framework_id, seed, level))
    values.update(overrides or {})
    return samples.to_csv(values).encode()


@cache
def _sample_values(framework_id: str, seed: int, level: float) -> dict[tuple[str, str], Fraction]:
    """The same figures every time for the same arguments (fitting them to the rules takes tens of milliseconds,
    and most tests send the same few returns): a copy is taken before any change."""
    return samples.sample_values(loader.get(framework_id), "quarterly", seed=seed, level=level)


def received(data: bytes, message_id: str = "m1", sender: str = ALICE, at: datetime = NOW, caption: str = "",
             channel: str = "email", filename: str = "return.csv", **kw: object) -> Received:
    return Received(channel=channel, message_id=message_id, sender=sender, filename=filename, data=data,  # type: ignore[arg-type]
                    received_at=at, caption=caption, **kw)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> config.Settings:
    """The deployment; PDF reports are left off replies (a second each) unless a test is marked `with_pdf`."""
    with_pdf = request.node.get_closest_marker("with_pdf") is not None
    return deployment(tmp_path, database_url, f"[reports]\nattach_pdf = {str(with_pdf).lower()}\n")


@pytest.fixture
def loaded(settings: config.Settings, engine: sa.Engine) -> sa.Engine:
    """The database with the deployment and its obligations up to NOW. On SQLite the first test of a worker loads
    it and the others of the same deployment get a copy of the file it left (loading it took some 40 ms a test)."""
    key = settings.model_dump_json(exclude={"storage"}) if engine.dialect.name == "sqlite" else ""
    path = Path(engine.url.database or "")
    if key in _LOADED_SQLITE:
        engine.dispose()  # nothing is open on the file it replaces
        for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        path.write_bytes(_LOADED_SQLITE[key])
        return engine
    with Session(engine) as session:
        sync_settings(session, settings, NOW)
        for contract in session.exec(select(Contract)):
            ensure_obligations(session, contract, NOW.date())
        session.commit()
    if key:
        with engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # every row in the file itself
        _LOADED_SQLITE[key] = path.read_bytes()
    return engine


_LOADED_SQLITE: dict[str, bytes] = {}  # a loaded SQLite database file, by the deployment (storage paths aside)


@pytest.fixture
def files(settings: config.Settings) -> FileStore:
    return FileStore(settings.storage.files_dir)


@pytest.fixture
def intake(loaded: sa.Engine, settings: config.Settings, files: FileStore) -> Iterator[Intake]:
    yield Intake(loaded, settings, files)


@pytest.fixture
def render_queue(loaded: sa.Engine, settings: config.Settings, files: FileStore) -> RenderQueue:
    """The queue that draws the PDF reports replies wait for (its clock is the fixed NOW)."""
    return RenderQueue(loaded, settings, files, clock=lambda: NOW)
