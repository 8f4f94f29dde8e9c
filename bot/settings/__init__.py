"""The sections of config.toml, one module per concern; bot/config.py reads the file into them."""
