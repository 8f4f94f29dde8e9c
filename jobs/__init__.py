"""Scheduled work: reminders, overdue notices, escalations and exception reports."""
