"""What the documentation promises a council can be acted on: no placeholder where a real contact is needed."""

from __future__ import annotations

import re

from conftest import REPO_ROOT

# Domains reserved for examples (RFC 2606, RFC 6761): mail to them goes nowhere.
PLACEHOLDER = re.compile(r"[\w.+-]+@[\w.-]+\.(?:example|invalid|test|localhost)\b|@example\.(?:com|org|net)\b")


def test_security_md_tells_a_reporter_a_way_that_reaches_someone() -> None:
    """Issue 20: "security.md's placeholder reporting address"."""
    text = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    section = text[text.index("## Reporting a vulnerability"):]
    assert PLACEHOLDER.findall(section) == []
    assert "Report a vulnerability" in section and "never in a public issue" in section
