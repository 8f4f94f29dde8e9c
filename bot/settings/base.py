"""What every section of config.toml shares: frozen models that refuse unknown keys, and ids."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-_]*$", max_length=64)]


class Model(BaseModel):
    # Validators are built when first used: settings read back from bot/settings/kept.py are not validated again,
    # so a command line that finds them there builds none.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
