"""No secret reaches a log, a status line, a database row, an exception message or any output (issue 19).

'`kpibot status` prints "The token `987654:SECRET...` was rejected by the server", and the heartbeat table stores
it.' `kpibot run` runs as a real process with recognisable secrets in its environment, and every connection is
broken: Telegram refuses the token, the SMTP server refuses the password, the IMAP server refuses the login, the
OAuth token endpoint cannot be reached, the database URL carries a password (and, once, points nowhere). Then the
service's log, every row of every table, and what `kpibot status`, `status --json`, `outbox list`, `run --once` and
`init` print are searched for each secret.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from fake_telegram import running_fake_bot_api
from intake_fixtures import ALICE, deployment
from mail_fixtures import MailServer
from services import free_port
from sqlmodel import Session, SQLModel, select
from test_telegram_service import until

import bot.storage.answer_models  # noqa: F401  (every table is searched)
import bot.storage.delivery_models  # noqa: F401  (every table is searched)
import bot.storage.meeting_models  # noqa: F401  (every table is searched)
import bot.storage.plan_models  # noqa: F401  (every table is searched)
import bot.storage.review_models  # noqa: F401  (every table is searched)
import bot.storage.setup_models  # noqa: F401  (every table is searched)
import bot.storage.web_models  # noqa: F401  (every table is searched)
from bot.clock import utc_now
from bot.storage import db
from bot.storage.models import Contact, Heartbeat, OutboxMessage

pytestmark = pytest.mark.timeout(300)
KPIBOT = Path(sys.executable).parent / "kpibot"
TOKEN = "987654:SECRETtelegramTOKENvalue0123456789abcdEF"
SECRETS = {
    "KPIBOT_TELEGRAM_TOKEN": TOKEN,
    "KPIBOT_SMTP_PASSWORD": "SMTP-SECRET-p4ss-7q2w",
    "KPIBOT_IMAP_PASSWORD": "IMAP-SECRET-p4ss-8r3e",
    "KPIBOT_OAUTH_CLIENT_SECRET": "OAUTH-SECRET-v4lue-9t4r",
}
DB_PASSWORD = "PG-SECRET-p4ss-5y6u"


def leaked(text: str) -> list[str]:
    """The secrets (or a recognisable part of one) found in `text`."""
    needles = [*SECRETS.values(), TOKEN.split(":")[1], "SECRETtelegram", "SMTP-SECRET", "IMAP-SECRET",
               "OAUTH-SECRET", "PG-SECRET"]
    return [n for n in needles if n in text]


class RefusingSignIn:
    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        return "250 OK"


@pytest.fixture
def smtp_refusing_sign_in() -> Iterator[int]:
    port = free_port()

    def refuse(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
        return AuthResult(success=False, handled=False)

    controller = Controller(RefusingSignIn(), hostname="127.0.0.1", port=port, authenticator=refuse,
                            auth_require_tls=False)
    controller.start()
    yield port
    controller.stop()


def everything_in(engine: sa.Engine) -> str:
    """Every row of every table, as text."""
    rows = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows += [f"{table.name}: {tuple(row)}" for row in connection.execute(sa.select(table))]
    return "\n".join(rows)


def with_password(url: str) -> str:
    return sa.engine.make_url(url).set(password=DB_PASSWORD).render_as_string(hide_password=False) \
        if url.startswith("postgresql") else url


# Each run takes a while (a real service, three broken servers): a password on SQLite, OAuth on PostgreSQL (whose URL
# carries the database password).
@pytest.mark.long
@pytest.mark.parametrize(("database_url", "auth"), [
    ("sqlite", "password"), pytest.param("postgresql", "oauth2", marks=pytest.mark.postgres)], indirect=["database_url"])
def test_no_secret_is_logged_stored_or_shown_when_every_connection_fails(
        tmp_path: Path, database_url: str, mail_server: MailServer, smtp_refusing_sign_in: int, auth: str) -> None:
    url = with_password(database_url)
    closed = free_port()
    with running_fake_bot_api() as api:  # its token is another: every call with ours is refused (401)
        email = (f'imap_port = {mail_server.port}\nimap_user = "{mail_server.user}"\nimap_security = "plain"\n'
                 f'smtp_port = {smtp_refusing_sign_in}\nsmtp_user = "kpibot"\n')
        if auth == "oauth2":  # the servers answer; the token endpoint does not
            email += (f'auth = "oauth2"\noauth_client_id = "app"\n'
                      f'oauth_token_url = "http://127.0.0.1:{closed}/token"\n')
        deployment(tmp_path, "sqlite:///unused.db", f'[telegram]\nbase_url = "{api.base_url}"\n'
                                                    f'base_file_url = "{api.base_file_url}"\n'
                                                    '[email]\nimap_host = "127.0.0.1"\nsmtp_host = "127.0.0.1"\n'
                                                    'smtp_security = "plain"\nfrom_address = "kpibot@council.example"\n'
                                                    f'authserv_id = "mx.council.example"\n{email}'
                                                    "[outbox]\nbackoff_seconds = 1\n[reports]\nattach_pdf = false\n")
        config = tmp_path / "config.toml"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("KPIBOT_")}, **SECRETS,
               "KPIBOT_CONFIG": str(config), "DATABASE_URL": url, "NO_PROXY": "127.0.0.1,localhost",
               "no_proxy": "127.0.0.1,localhost"}
        if auth == "password":
            env.pop("KPIBOT_OAUTH_CLIENT_SECRET")

        def kpibot(*args: str, environ: dict[str, str] = env) -> str:
            done = subprocess.run([str(KPIBOT), *args], env=environ, capture_output=True, text=True, timeout=120)
            return f"$ kpibot {' '.join(args)} -> {done.returncode}\n{done.stdout}{done.stderr}"

        outputs = [kpibot("init")]
        engine = db.make_engine(url)
        queue_to_alice(engine)
        log = tmp_path / "service.log"
        with log.open("wb") as out:
            service = subprocess.Popen([str(KPIBOT), "run"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        try:
            until(lambda: broken(engine, "telegram", "email"), "each channel to have failed", seconds=120)
            until(lambda: sent_or_tried(engine), "the outbox to have tried both messages", seconds=120)
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(service.pid, signal.SIGKILL)
        outputs += [kpibot("status"), kpibot("status", "--json"), kpibot("outbox", "list"), kpibot("run", "--once"),
                    kpibot("status", environ={**env, "DATABASE_URL": with_password(
                        f"postgresql+psycopg://kpibot@127.0.0.1:{closed}/kpibot")})]
        stored = everything_in(engine)
        engine.dispose()
    said = "\n".join(outputs)
    assert "refused the bot token (KPIBOT_TELEGRAM_TOKEN)" in said  # the failures are shown...
    assert ("refused kpibot's sign-in" if auth == "password" else "OAuth") in said, said
    assert "paused" in said
    assert "cannot use the database" in said
    text = log.read_text(errors="replace")
    assert "refused" in text
    assert leaked(text) == [], [line for line in text.splitlines() if leaked(line)][:5]  # ...and no secret
    assert leaked(said) == [], [line for line in said.splitlines() if leaked(line)][:5]
    assert leaked(stored) == [], [line for line in stored.splitlines() if leaked(line)][:5]


def queue_to_alice(engine: sa.Engine) -> None:
    """A notice to Alice by email and one to her chat, for the outbox to try."""
    now = utc_now()
    with Session(engine) as session:
        alice = session.exec(select(Contact).where(Contact.email == ALICE)).one()
        for channel, address in (("email", ALICE), ("telegram", "1001")):
            session.add(OutboxMessage(dedupe_key=f"notice:{channel}", created_at=now, contact_id=alice.id,
                                      channel=channel, address=address, kind="reminder", subject="Q2 return due",
                                      body_text="Your Q2 return is due.", next_attempt_at=now - timedelta(minutes=1)))
        session.commit()


def broken(engine: sa.Engine, *names: str) -> bool:
    with Session(engine) as session:
        beats = {h.name: h for h in session.exec(select(Heartbeat))}
    return all(name in beats and beats[name].detail.get("error") for name in names)


def sent_or_tried(engine: sa.Engine) -> bool:
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    return len(rows) == 2 and all(r.last_error for r in rows)

