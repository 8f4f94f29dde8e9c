"""How a review's findings count against the accuracy of returns (a data-submission KPI, schedule 2.5 b), said in
the words of the contract's own indicator: the reply to a corrected return and a spot check's message say why."""

from __future__ import annotations

from bot import config
from bot.assessment.in_context import terms_of
from bot.review.scene import Scene
from kpi_core import formatting
from kpi_core.framework.indicators import Indicator
from kpi_core.framework.model import Framework

WHY = {
    "spot_check": "A spot check that finds the figures inaccurate",
    "query": "A return corrected after the council's query",
    "corrected": "A return corrected after it was accepted",
}


def accuracy_indicator(framework: Framework) -> Indicator | None:
    """The framework's accuracy-of-returns indicator (its target is the contract's accuracy term), if any."""
    return next((i for i in framework.indicators if i.term == "accuracy"), None)


def counts_against(settings: config.Settings, scene: Scene, why: str) -> str:
    """`A return corrected after the council's query counts against DS.2 Accuracy of data and information
    submissions (target 95%).`; '' for a contract without data-submission KPIs."""
    terms = terms_of(settings, scene.contract, scene.period)
    if terms.data_submission is None:
        return ""
    indicator = accuracy_indicator(scene.framework)
    what = f"{indicator.ref} {indicator.name}" if indicator else "the accuracy of returns"
    target = formatting.number(terms.data_submission.accuracy_target)
    return f"{WHY[why]} counts against {what} (target {target}%)."
