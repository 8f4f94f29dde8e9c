"""Microsoft Teams: notices posted as Adaptive Cards to a channel's Power Automate Workflows webhook (docs/teams.md).

`transport.py` posts (the outbox's `teams` channel), `cards.py` draws the card, `folder.py` writes cards to a
folder for the demo, `status.py` is its part of `kpibot status`, and `check.py` posts a test card to a URL: the
go-live check calls `check(url) -> (ok, message)`. The `[[teams]]` settings are in bot/settings/teams.py.
"""
