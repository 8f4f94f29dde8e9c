"""`[frameworks]`: where the council's own framework files are, loaded beside the ones kpibot ships."""

from __future__ import annotations

from pathlib import Path

from bot.settings.base import Model


class Frameworks(Model):
    """`[frameworks]`: the council's own framework files, loaded beside the shipped ones."""

    folder: Path | None = None  # relative to the config file's folder; every *.toml in it is a framework
