"""Sections of `config.toml`, each validated on its own; bot/config.py puts them together in Settings."""
