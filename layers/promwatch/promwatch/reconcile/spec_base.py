"""What every spec model shares: strict keys with a suggestion, located validator messages."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from promwatch.reconcile import checks

__all__ = ["Strict", "at"]


def at(field: str, message: str) -> str:
    """A validator message located at ``field`` of the object being validated."""
    return f"@{field}: {message}"


class Strict(BaseModel):
    """Unknown keys are refused with the keys that are known (and the closest one); numbers are
    finite (CloudWatch takes no NaN or infinite threshold, bound or annotation)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = list(cls.model_fields)
            for key in data:
                if key not in known:
                    hint = checks.suggestion(str(key), known)
                    raise ValueError(f"unknown key {key!r}; expected one of {', '.join(known)}{hint}")
        return data
