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
from dataclasses import dataclass
from pathlib import Path

REQUIRED = os.environ.get("KPIBOT_REQUIRE_SERVICES") == "1"


class ServiceUnavailable(RuntimeError):
    pass


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
