"""A payment as the reports and messages print it: the amount, what it is worked out on, and its state.

kpibot calculates; a person confirms. A payment is `Calculated` on the full year's figures, `Provisional` while
periods of the year are missing (named), or a `Forecast` in year; `Confirmed` only when a commissioner confirmed
this very figure (bot/review/payments.py, read from storage). Nothing is paid on a rejected return, so no payment is
shown for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from bot.reports import display
from kpi_core import formatting
from kpi_core.framework.indicators import Indicator
from kpi_core.framework.model import Framework
from kpi_core.framework.payment_rules import LinearPayment
from kpi_core.results import PaymentResult


@dataclass(frozen=True)
class PaymentView:
    name: str
    indicator: str
    amount: str
    maximum: str
    basis: str  # `the year-end forecast: 52.5%`
    state: str  # `Calculated`, `Provisional`, `Forecast`, or `Confirmed` (by a person)
    summary: str  # `£9,000.00, a forecast: 1.5 is heading for 52.5% this year`
    lines: tuple[str, ...]
    critical_failure: bool


# How each basis of a payment (kpi_core.payments basis labels) reads in a sentence, and as what it is worked out on.
PAYMENT_BASIS = {"year": "was {} for the year", "forecast for the year": "is heading for {} this year",
                 "year to date": "stands at {} so far this year"}
BASIS_NAME = {"year": "the full year", "forecast for the year": "the year-end forecast",
              "year to date": "the year so far"}
STATE_WORDS = {"Forecast": "a forecast",
               "Calculated": "calculated on the full year; the council confirms it once it has signed off the "
                             "year's returns",
               "Provisional": "provisional until the year's missing returns arrive"}


def payment_view(payment: PaymentResult, framework: Framework, confirmed: str = "") -> PaymentView:
    """`confirmed`: who confirmed this very figure and when (`by Carol on 20 May 2026 at 10:00`), read from
    storage; kpibot itself never confirms a payment, it calculates it."""
    ind = framework.indicator(payment.indicator)
    basis = display.value_text(payment.basis, ind)
    amount = formatting.money(payment.amount) if payment.amount is not None else "no contract value given"
    state = "Confirmed" if confirmed else payment.state.capitalize()
    why = f"confirmed {confirmed}" if confirmed else STATE_WORDS[state]
    if payment.basis is None:
        reading = f"{ind.ref} has no figure yet"
    else:
        reading = f"{ind.ref} {PAYMENT_BASIS.get(payment.basis_label, payment.basis_label + ': {}').format(basis)}"
    return PaymentView(
        name=payment.rule.name,
        indicator=payment.indicator,
        amount=amount,
        maximum=formatting.money(payment.maximum) if payment.maximum is not None else "–",
        basis=f"{BASIS_NAME.get(payment.basis_label, payment.basis_label)}: {basis}",
        state=state,
        summary=f"{amount}, {why}: {reading}",
        lines=payment.arithmetic,
        critical_failure=payment.critical_failure,
    )


def part_payment_note(payment: PaymentResult, ind: Indicator) -> str:
    """`Part payment: £9,000.00 of £36,000.00 (a forecast), in proportion between the minimum (50%) and the stretch
    target (60%).`"""
    rule = payment.rule
    if not isinstance(rule, LinearPayment):
        return ""
    earned = (f"{formatting.money(payment.amount)} of {formatting.money(payment.maximum)}"
              if payment.amount is not None and payment.maximum is not None
              else f"{formatting.share(payment.earned_share)} of contract value")
    state = {"forecast": " (a forecast)", "provisional": " (provisional)"}.get(payment.state, "")
    low, high = (display.value_text(Fraction(str(v)), ind) for v in (rule.minimum, rule.stretch))
    return (f"Part payment: {earned}{state}, in proportion between the minimum ({low}) and the stretch target "
            f"({high}).")
