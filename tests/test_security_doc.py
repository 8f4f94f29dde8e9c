"""docs/security.md proves each claim with a test it names: every test it names exists."""

from __future__ import annotations

import re

from conftest import REPO_ROOT

REFERENCE = re.compile(r"tests/(test_\w+\.py)(?:::(\w+))?")


def test_every_test_the_security_page_names_exists() -> None:
    page = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = set(REFERENCE.findall(page))
    assert len(named) >= 30
    missing = [f"{module}::{test}" for module, test in sorted(named)
               if not (REPO_ROOT / "tests" / module).is_file()
               or (test and f"def {test}(" not in (REPO_ROOT / "tests" / module).read_text(encoding="utf-8"))]
    assert missing == []
