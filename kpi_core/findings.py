"""Findings: what is wrong with a return, where, and how to fix it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)


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


MAX_LISTED = 200  # a return with more problems than this is listed in part, the rest counted by kind
MORE = "more_findings"


def cap_findings(findings: Sequence[Finding], limit: int = MAX_LISTED) -> list[Finding]:
    """The first `limit` findings in full, then one finding counting the rest by kind.

    A list within the limit comes back unchanged. The summary is an error when any finding it counts is one, so
    capping never turns a rejected return into an accepted one; capping twice gives the same list (an earlier
    summary is merged into the new one). Codes and counts of what was left out are in the summary's `extra`.
    """
    if len(findings) <= limit and not any(f.code == MORE for f in findings):
        return list(findings)
    kept: list[Finding] = []
    left_out: Counter[str] = Counter()
    hidden_error = False
    for finding in findings:
        if finding.code == MORE:  # an earlier summary: fold its counts in
            left_out.update({code: int(n) for code, n in finding.extra.items()})
            hidden_error = hidden_error or finding.is_error
        elif len(kept) < limit:
            kept.append(finding)
        else:
            left_out[finding.code] += 1
            hidden_error = hidden_error or finding.is_error
    if not left_out:
        return kept
    total = sum(left_out.values())
    kinds = ", ".join(f"{_kind(code)} ({n:,})" for code, n in left_out.most_common())
    kept.append(Finding("error" if hidden_error else "warning", MORE,
                        f"{total:,} more {'problem' if total == 1 else 'problems'} not listed: {kinds}",
                        fix="Correct the problems listed and send the file again; if most of them are the same, "
                            "the file may not be the return for this contract.",
                        extra={code: str(n) for code, n in left_out.items()}))
    return kept


def _kind(code: str) -> str:
    """A finding code as words: `unknown_item` -> `unknown item`, `rule:co_within_quits` -> `rule co within quits`."""
    return code.replace(":", " ").replace("_", " ")
