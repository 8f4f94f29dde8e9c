"""What every section of config.toml shares: frozen models that refuse unknown keys, and ids."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-_]*$", max_length=64)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
