"""Payment by results and incentive tiers, with the arithmetic shown.

Amounts are exact until the last step and rounded to the penny half-up, so the worked example in a contract comes
out to the pound: a £720,000 contract with a 5% pot and a 52.5% quit rate (a quarter of the way from 50% to 60%)
pays £9,000.

A payment is worked out in full only on a full year of activity ("based on a full year of activity", City and
Hackney Note 1; incentives "paid annually"): the annual return, or the last quarter with every earlier quarter's
figures; it is then "calculated", and a person confirms it. Before that it is a forecast; a last quarter with
earlier quarters missing is provisional and names them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from kpi_core import formatting
from kpi_core.calendar import Period
from kpi_core.framework.payment_rules import LinearPayment, PaymentRule, TierPayment
from kpi_core.results import IndicatorResult, PaymentResult, Scorecard

PENNY = Decimal("0.01")


def pounds(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(PENNY, rounding=ROUND_HALF_UP)


def _contract_value(value: object) -> Fraction | None:
    if value is None:
        return None
    return Fraction(str(value)) if not isinstance(value, Fraction) else value


def _basis(result: IndicatorResult, period: Period) -> tuple[Fraction | None, str, bool]:
    """The value a payment is worked out on, its label, and whether it is not final (a forecast or provisional)."""
    if period.frequency == "annual":
        return result.period_value.value, "year", False
    if result.ytd is None:
        return result.period_value.value, "this period", not period.is_last_in_year
    if period.is_last_in_year:
        if result.missing_periods:
            return result.ytd.value, "year so far", True
        return result.ytd.value, "year", False
    if result.forecast is not None and result.forecast != result.ytd.value:
        return result.forecast, "forecast for the year", True
    return result.ytd.value, "year to date", True


def pay(rule: PaymentRule, card: Scorecard, contract_value: object) -> PaymentResult:
    result = card.result(rule.indicator)
    ind = result.indicator
    value = _contract_value(contract_value)
    basis, label, forecast = _basis(result, card.period)
    shown = formatting.value(basis, ind.kind, ind.per) if basis is not None else "no data"
    lines: list[str] = []
    if isinstance(rule, LinearPayment):
        max_share = rule.share
        low, high = Fraction(str(rule.minimum)), Fraction(str(rule.stretch))
        lines.append(f"{ind.ref} {label}: {shown}")
        if basis is None:
            progress = Fraction(0)
            lines.append("No figure yet, so nothing is earned.")
        else:
            progress = min(Fraction(1), max(Fraction(0), (basis - low) / (high - low)))
            lo, hi, b = (formatting.number(x, 2) for x in (low, high, basis))
            lines.append(f"Progress from minimum {lo} to stretch {hi}: ({b} - {lo}) / ({hi} - {lo}) = "
                         f"{formatting.share(progress)} (capped to 0%..100%)")
        earned = max_share * progress
        if value is not None:
            pot = value * max_share
            lines.insert(0, f"Pot: {formatting.money(pounds(value))} x {formatting.share(max_share)} = "
                            f"{formatting.money(pounds(pot))}")
            lines.append(f"Payment: {formatting.money(pounds(pot))} x {formatting.share(progress)} = "
                         f"{formatting.money(pounds(pot * progress))} ({formatting.share(earned)} of contract value)")
        else:
            lines.append(f"Payment: {formatting.share(earned)} of contract value (no contract value given)")
        critical = False
    else:
        assert isinstance(rule, TierPayment)
        max_share = sum((t.share for t in rule.tiers), Fraction(0))
        lines.append(f"{ind.ref} {label}: {shown}")
        earned = Fraction(0)
        for tier in rule.tiers:
            at = Fraction(str(tier.at))
            # A tier is reached on the indicator's good side: at or above it, or at or below for lower-is-better.
            reached = basis is not None and (basis >= at if ind.higher_is_better else basis <= at)
            if reached:
                earned += tier.share
            name = tier.label or f"tier at {formatting.number(tier.at)}"
            money = f" = {formatting.money(pounds(value * tier.share))}" if value is not None else ""
            lines.append(f"{name} ({formatting.number(tier.at)}): {'reached' if reached else 'not reached'}, "
                         f"+{formatting.share(tier.share)}{money if reached else ''}")
        judged = result.forecast_judgement if forecast and result.forecast_judgement else result.judgement
        critical = judged.critical_failure and not forecast
        if critical:
            lines.append("Below the critical failure level: a critical performance failure.")
        elif forecast and (judged.at_risk or result.judgement.at_risk):
            lines.append("At risk of critical failure: the forecast is past the annual critical level, which is "
                         "judged on the full year.")
        if value is not None:
            lines.append(f"Incentive: {formatting.money(pounds(value))} x {formatting.share(earned)} = "
                         f"{formatting.money(pounds(value * earned))}")
    missing = result.missing_periods if card.period.is_last_in_year and card.period.frequency != "annual" else ()
    if missing:
        lines.append(f"Provisional: no figures for {', '.join(missing)}; the payment is based on a full year of "
                     "activity and is worked out again when they are in.")
    elif forecast:
        lines.append("Forecast: the year is not complete; the payment is worked out on the full year's figures.")
    amount = pounds(value * earned) if value is not None else None
    maximum = pounds(value * max_share) if value is not None else None
    at_risk = forecast and (result.judgement.at_risk or bool(result.forecast_judgement and
                                                             result.forecast_judgement.at_risk))
    return PaymentResult(rule, ind.ref, basis, label, earned, max_share, amount, maximum, forecast, tuple(lines),
                         critical, at_risk, missing)
