"""The ways returns come in besides the command line: thin adapters over the one intake (bot/intake)."""
