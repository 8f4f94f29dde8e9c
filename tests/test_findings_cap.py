"""A file's findings are capped: the first ones in full, then one summary counting the rest by kind."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_core.findings import MAX_LISTED, MORE, Finding, cap_findings, has_errors


def unknown(n: int, severity: str = "error") -> Finding:
    return Finding(severity, "unknown_item", f"'x{n}' is not a data item", where=f"line {n}")  # type: ignore[arg-type]


def test_a_list_within_the_limit_is_unchanged() -> None:
    findings = [unknown(n) for n in range(MAX_LISTED)]
    assert cap_findings(findings) == findings


def test_beyond_the_limit_the_rest_are_counted_by_kind_in_one_summary() -> None:
    findings = [unknown(n) for n in range(1000)] + [Finding("warning", "rule:a_within_b", "a > b")] * 2
    capped = cap_findings(findings)
    assert capped[:MAX_LISTED] == findings[:MAX_LISTED]
    summary = capped[-1]
    assert len(capped) == MAX_LISTED + 1
    assert (summary.code, summary.severity) == (MORE, "error")
    hidden = 1000 - MAX_LISTED
    assert summary.message == f"{hidden + 2} more problems not listed: unknown item ({hidden}), rule a within b (2)"
    assert summary.extra == {"unknown_item": str(hidden), "rule:a_within_b": "2"}
    assert summary.fix


def test_the_summary_is_only_a_warning_when_everything_it_counts_is_one() -> None:
    findings = [unknown(n) for n in range(MAX_LISTED)] + [unknown(n, "warning") for n in range(3)]
    assert cap_findings(findings)[-1].severity == "warning"
    assert cap_findings(findings, limit=2)[-1].severity == "error"


severities = st.sampled_from(["error", "warning"])
codes = st.sampled_from(["unknown_item", "not_a_number", "negative", "rule:x", "missing_item"])
finding_lists = st.lists(st.builds(lambda s, c, n: Finding(s, c, f"problem {n}"), severities, codes,
                                   st.integers(0, 10**6)), max_size=150)


@settings(max_examples=150, deadline=None)
@given(finding_lists, st.integers(0, 60), st.integers(0, 60))
def test_capping_keeps_every_count_and_the_verdict_and_capping_again_changes_nothing(
        findings: list[Finding], limit: int, again: int) -> None:
    capped = cap_findings(findings, limit)
    assert len(capped) <= limit + 1
    assert has_errors(capped) == has_errors(findings)
    listed = [f for f in capped if f.code != MORE]
    counted = sum(int(n) for f in capped if f.code == MORE for n in f.extra.values())
    assert listed == findings[:limit] and len(listed) + counted == len(findings)
    assert cap_findings(capped, limit) == capped
    twice = cap_findings(capped, min(limit, again))
    assert has_errors(twice) == has_errors(findings)
    assert len([f for f in twice if f.code != MORE]) + sum(
        int(n) for f in twice if f.code == MORE for n in f.extra.values()) == len(findings)
