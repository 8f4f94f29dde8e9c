"""The schema revision this kpibot needs, read from the migration files without importing Alembic or SQLAlchemy (so
`kpibot score` can check a database's revision and start at once)."""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"

REVISION_LINE = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*["\']?([\w]+)["\']?', re.M)


def head_revision() -> str:
    """The last migration, read from the version files' `revision` and `down_revision` lines without importing
    them (Alembic's ScriptDirectory executes every file; tests/test_migrations.py checks both agree)."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            down = found.get("down_revision")
            revisions[found["revision"]] = None if down in (None, "None") else down
    heads = set(revisions) - {down for down in revisions.values() if down}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must form one line; found heads {sorted(heads)}")
    return heads.pop()
