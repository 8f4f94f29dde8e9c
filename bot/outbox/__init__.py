"""Outgoing messages: rows in the outbox, delivered by one dispatcher through small transports."""
