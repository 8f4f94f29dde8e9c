"""What every part of a framework file shares: frozen models that refuse unknown keys, ids and refs, shares."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)]
Ref = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=32)]


class Model(BaseModel):
    # Validators are built when first used: frameworks read back from kpi_core/framework_cache.py are never
    # validated again, so a command line that scores one return does not build them.
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, defer_build=True)


def share(value: object) -> Fraction:
    """Accept 0.05 or '5%' for a share of contract value."""
    if isinstance(value, str):
        text = value.strip()
        if not text.endswith("%"):
            raise ValueError("write a share as a fraction (0.05) or a percentage ('5%')")
        result = Fraction(text[:-1].strip()) / 100
    else:
        result = Fraction(str(value))
    if not 0 <= result <= 1:
        raise ValueError("a share must lie between 0 and 1 (0% and 100%)")
    return result

