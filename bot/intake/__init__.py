"""The one intake every channel hands received files to (see service.py for the steps)."""

from bot.intake.received import IntakeResult, Outcome, Received
from bot.intake.service import Intake, Unavailable

__all__ = ["Intake", "IntakeResult", "Outcome", "Received", "Unavailable"]
