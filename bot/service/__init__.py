"""The running service: the run loop that drives periodic tasks and channels (`loop.py`), and what a channel or the
web workspace may use of the application (`parts.py`)."""
