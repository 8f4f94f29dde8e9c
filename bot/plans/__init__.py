"""Service improvement action plans (seed 002, schedule 2.7) and requests for information (schedule 2.6)."""
