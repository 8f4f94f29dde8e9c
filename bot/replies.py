"""Plain-text replies the intake sends back on the channel a return came in on."""

from __future__ import annotations

from kpi_core.assess import Assessment
from kpi_core.findings import Finding

STATUS_MARK = {"green": "🟢 Green", "amber": "🟠 Amber", "red": "🔴 Red", "no_data": "⚪ No data", "info": "ℹ️ Info"}
MAX_FINDINGS = 25


def _findings(findings: list[Finding] | tuple[Finding, ...]) -> list[str]:
    ordered = sorted(findings, key=lambda f: not f.is_error)
    lines = [f"- {f.text()}" for f in ordered[:MAX_FINDINGS]]
    if len(ordered) > MAX_FINDINGS:
        lines.append(f"- ... and {len(ordered) - MAX_FINDINGS} more; see the full report.")
    return lines


def submission_reply(contract_name: str, result: Assessment, version: int, on_time: bool | None,
                     superseded_version: int | None) -> str:
    """The reply to a return that was read: accepted with its headline results, or rejected with every finding."""
    period = result.period.label
    if not result.accepted:
        lines = [f"❌ {contract_name}, {period}: return version {version} NOT accepted.",
                 f"{len(result.errors)} problem(s) must be fixed before it can be scored:"]
        lines += _findings(result.findings)
        lines.append("Correct the file and send it again.")
        return "\n".join(lines)
    card = result.scorecard
    counts = card.counts()
    timing = "on time" if on_time else "late"
    lines = [f"✅ {contract_name}, {period}: return version {version} accepted ({timing})."]
    if superseded_version:
        lines.append(f"It replaces version {superseded_version}.")
    lines.append(f"🔴 {counts['red']} red, 🟠 {counts['amber']} amber, 🟢 {counts['green']} green, "
                 f"⚪ {counts['no_data']} no data, ℹ️ {counts['info']} for information.")
    for r in sorted(card.indicators, key=lambda r: (r.status != "red", r.status != "amber")):
        if r.status in ("red", "amber"):
            lines.append(f"{STATUS_MARK[r.status]}  {r.ref} {r.indicator.name}: {r.as_dict()['display_value']}"
                         f" ({r.gap_text})")
    for p in card.payments:
        amount = "–" if p.amount is None else f"£{p.amount:,.2f}"
        lines.append(f"💷 {p.rule.name}: {amount}{' (forecast)' if p.forecast else ''}")
    if result.warnings:
        lines.append("Warnings:")
        lines += _findings(result.warnings)
    return "\n".join(lines)


def refusal(filename: str, findings: list[Finding]) -> str:
    return "\n".join([f"❌ {filename} was not accepted:"] + _findings(findings))


def unknown_sender(channel: str, sender: str) -> str:
    where = "Telegram chat id" if channel == "telegram" else "address"
    return (f"Your {where} ({sender}) is not registered with kpibot, so your file was kept but not processed. "
            "Ask your commissioner to add you as a contact, then send it again.")


def failure(filename: str) -> str:
    return (f"⚠️ {filename} was received and kept safely, but kpibot could not process it because of a fault on our "
            "side. The commissioning team has been told; you do not need to send it again.")
