"""Real servers for the test session, started on 127.0.0.1 from the machine's own binaries.

PostgreSQL: a throwaway cluster (initdb + pg_ctl, fsync off) unless KPIBOT_TEST_POSTGRES_URL names a server.
When the binaries are missing, tests that need the server are skipped locally; in CI (KPIBOT_REQUIRE_SERVICES=1)
that is a failure instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

REQUIRED = os.environ.get("KPIBOT_REQUIRE_SERVICES") == "1"


class ServiceUnavailable(RuntimeError):
    pass


S = TypeVar("S")


def started(name: str, start: Callable[[], S]) -> S:
    """`start()`'s server; when it cannot start, the test is skipped here and fails in CI."""
    try:
        return start()
    except ServiceUnavailable as exc:
        if REQUIRED:
            pytest.fail(f"{name} is required in CI: {exc}")
        pytest.skip(f"{name} not available: {exc}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server tools as the postgres user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class Postgres:
    url: str  # a server URL without a database name
    data_dir: Path | None = None
    bin_dir: Path | None = None

    def stop(self) -> None:
        if self.data_dir is not None and self.bin_dir is not None:
            subprocess.run(_as_postgres([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate",
                                         "stop"]), capture_output=True, check=False)
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def database_url(self, name: str) -> str:
        return f"{self.url}/{name}"


def start_postgres() -> Postgres:
    if os.environ.get("KPIBOT_TEST_POSTGRES_URL"):
        return Postgres(os.environ["KPIBOT_TEST_POSTGRES_URL"].rstrip("/"))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = Path(candidates[-1]) if candidates else (Path(shutil.which("initdb")) if shutil.which("initdb") else None)
    if initdb is None:
        raise ServiceUnavailable("no PostgreSQL server binaries (apt-get install postgresql)")
    bin_dir = initdb.parent
    root = Path(tempfile.mkdtemp(prefix="kpibot-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    os.chmod(root, 0o700)
    run = subprocess.run(_as_postgres([str(initdb), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                       "--locale=C.UTF-8", "--no-sync"]), capture_output=True, text=True)
    if run.returncode != 0:
        raise ServiceUnavailable(f"initdb failed: {run.stderr.strip()[-500:]}")
    port = free_port()
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=200")
    run = subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                                       "-w", "-o", options, "start"]), capture_output=True, text=True)
    if run.returncode != 0:
        log = (root / "server.log").read_text(errors="replace")[-500:] if (root / "server.log").exists() else ""
        raise ServiceUnavailable(f"PostgreSQL did not start: {run.stderr.strip()[-300:]} {log}")
    return Postgres(f"postgresql+psycopg://postgres@127.0.0.1:{port}", data, bin_dir)


# ----------------------------------------------------------------------------- Dovecot (IMAP)
# A throwaway Dovecot from Debian's dovecot-imapd on a free port: any user name logs in with PASSWORD, and each
# user is a fresh Maildir, so every test has a mailbox of its own. Plain IMAP, on 127.0.0.1 only.

DOVECOT_PASSWORD = "secret"
_DOVECOT_CONF = """
base_dir = {root}/run
state_dir = {root}/state
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
{oauth}
log_path = {root}/dovecot.log
mail_location = maildir:~/Maildir
first_valid_uid = 1
{users}
passdb {{
  driver = static
  {password_mechanisms}
  args = password={password}
}}
{oauth_passdb}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
{services}
"""


# Failed sign-ins are expected in these tests: Dovecot's growing penalty for them (2 s, then 4, 8... from one
# address, kept by its anvil service) is turned off by removing the listener it is kept through.
_NO_PENALTY = "  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n"


# With OAuth (tests of XOAUTH2): tokens go to a second passdb that asks the test's token server about them (RFC 7662
# introspection); passwords still go to the static one. Failed sign-ins are not slowed down (they are expected).
_OAUTH = """auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
"""
_OAUTH_PASSDB = """passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}"""
_OAUTH_EXT = """introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
"""
_TLS = """ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
"""


@dataclass
class Dovecot:
    port: int
    root: Path
    binary: Path
    tls_port: int = 0  # implicit TLS (imaps), when started with a certificate; `port` then offers STARTTLS

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    def stop(self) -> None:
        subprocess.run([str(self.binary), "-c", str(self.config), "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False, timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


def _wait_for_port(port: int, seconds: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def start_dovecot(introspection_url: str | None = None, tls: tuple[Path, Path] | None = None) -> Dovecot:
    """Start Dovecot as root (mail stored as `nobody`) or, for an ordinary user, as that user. With
    `introspection_url` it also takes OAuth 2.0 tokens (XOAUTH2), checked there; with `tls` (key, certificate) it
    offers STARTTLS and implicit TLS too."""
    import grp
    import pwd

    binary = Path(shutil.which("dovecot") or "/usr/sbin/dovecot")
    if not binary.exists():
        raise ServiceUnavailable("no Dovecot (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="kpibot-dovecot-"))
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    port, tls_port = free_port(), free_port() if tls else 0
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        uid, gid = user.pw_uid, user.pw_gid
        shutil.chown(root / "mail", uid, gid)
        os.chmod(root, 0o755)
        users, chroot, services = "", "", f"service anvil {{\n{_NO_PENALTY}}}"
    else:  # Dovecot's own documented set-up for running without root
        uid, gid = os.getuid(), os.getgid()
        name, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
        users = f"default_login_user = {name}\ndefault_internal_user = {name}\ndefault_internal_group = {group}"
        chroot = "chroot ="
        services = f"service anvil {{\n  chroot =\n{_NO_PENALTY}}}\nservice imap {{\n  chroot =\n}}"
    oauth = {"oauth": "", "oauth_passdb": "", "password_mechanisms": ""}
    if introspection_url:
        (root / "oauth2.conf.ext").write_text(_OAUTH_EXT.format(url=introspection_url))
        oauth = {"oauth": _OAUTH, "oauth_passdb": _OAUTH_PASSDB.format(root=root),
                 "password_mechanisms": "mechanisms = plain login"}
    conf = _DOVECOT_CONF.format(root=root, port=port, tls_port=tls_port, uid=uid, gid=gid, users=users,
                                chroot=chroot, services=services, password=DOVECOT_PASSWORD, **oauth)
    if tls:
        conf = conf.replace("ssl = no\n", _TLS.format(key=tls[0], cert=tls[1]))
    (root / "dovecot.conf").write_text(conf)
    with open(root / "start.log", "wb") as out:  # not a pipe: the daemon keeps it open
        run = subprocess.run([str(binary), "-c", str(root / "dovecot.conf")], stdout=out, stderr=out)
    if run.returncode != 0 or not _wait_for_port(port):
        log = " ".join((root / name).read_text(errors="replace")[-400:] for name in ("start.log", "dovecot.log")
                       if (root / name).exists())
        Dovecot(port, root, binary).stop()
        raise ServiceUnavailable(f"Dovecot did not start: {log.strip()}")
    return Dovecot(port, root, binary, tls_port)
