"""What every check's parameter model is made of: the base that refuses unknown fields, and the parameters
many checks share (the look-back in days, the noise floor in dollars a month), each defined once.

A check's ``Params`` subclasses ``CheckParams``; every field has a default whose description names its source
(``tests/test_checks_framework.py`` holds every registered check to that).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CheckParams(BaseModel):
    """The base of every check's parameter model: unknown fields are refused, so a mistyped threshold fails
    instead of being ignored.

    Its validator is built on first use, not when the check's module is imported (``defer_build``): a scan with
    no parameters builds none of them (base.parse_params takes the defaults as declared), which was 16 ms of the
    28 models' 40 ms import."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


# The longest look-back a check reads: a year, with a leap day.
MAX_LOOKBACK_DAYS = 366


def lookback_field(default: int, description: str, *, at_least: int = 1) -> Any:
    """The ``lookback_days`` parameter of a check: whole days up to the last billed day, ``at_least`` to a year."""
    return Field(default, ge=at_least, le=MAX_LOOKBACK_DAYS, description=description)


def noise_floor_field(usd: float) -> Any:
    """A check's ``min_monthly_cost_usd`` / ``min_monthly_savings_usd``: the dollars a month under which a finding
    is noise and not reported."""
    return Field(usd, ge=0, description=f"Noise floor. Default ${usd:g}.")
