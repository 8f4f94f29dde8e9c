"""Findings: what is wrong with a return, where, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a return. `where` names the sheet and cell or the CSV line."""

    severity: Severity
    code: str
    message: str
    where: str = ""
    fix: str = ""
    item: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def text(self) -> str:
        """One line for a person: 'Error at Data!D7: ... Fix: ...'."""
        head = f"{self.severity.capitalize()}" + (f" at {self.where}" if self.where else "")
        tail = f" {self.fix}" if self.fix else ""
        return f"{head}: {self.message}.{tail}".replace("..", ".")

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "code": self.code, "message": self.message, "where": self.where,
                "fix": self.fix, "item": self.item}


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.is_error for f in findings)
