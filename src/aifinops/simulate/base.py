"""What every simulator shares: the 730-hour month, argument checks, quantiles, catalog look-ups.

Simulators are pure functions over numbers the caller passes; the only outside call is the
optional price look-up (``aifinops.pricing.rate``), made when the caller names an instance type instead of a rate.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from aifinops.config import HOURS_PER_MONTH
from aifinops.errors import ArgumentError
from aifinops.pricing import instance_specs, rate, spot_discount

# The Spot discount's one home is the catalog; without an instance type a simulator uses its planning range.
PLANNING_SPOT_DISCOUNT = spot_discount()

# Monthly figures use config's 730-hour month (8,760 h / 12), as AWS's pricing pages do (docs/checks.md).
DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0


class Result:
    """Mixin for result dataclasses: a JSON-friendly dict (MCP tools and ``--format json`` use it)."""

    def to_dict(self) -> dict[str, Any]:
        if not dataclasses.is_dataclass(self) or isinstance(self, type):
            raise TypeError(f"{type(self).__name__} mixes in Result but is not a dataclass")
        return dataclasses.asdict(self)


def need(condition: bool, problem: str, fix: str) -> None:
    """Raise ArgumentError(problem, fix) unless ``condition`` holds."""
    if not condition:
        raise ArgumentError(problem, fix)


def need_share(name: str, value: float, *, allow_one: bool = True) -> None:
    ok = math.isfinite(value) and 0.0 <= value and (value <= 1.0 if allow_one else value < 1.0)
    bound = "1" if allow_one else "below 1"
    need(ok, f"{name} must be a share between 0 and {bound}, got {value!r}.", f"pass {name} as a fraction, e.g. 0.7.")


def need_non_negative(name: str, value: float) -> None:
    need(math.isfinite(value) and value >= 0, f"{name} must be a finite number >= 0, got {value!r}.",
         f"pass a non-negative {name}.")


def need_positive(name: str, value: float) -> None:
    need(math.isfinite(value) and value > 0, f"{name} must be a finite number > 0, got {value!r}.",
         f"pass a positive {name}.")


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile of ``values`` by linear interpolation between order statistics (numpy's default)."""
    need(len(values) > 0, "Cannot take a quantile of no values.", "pass at least one value.")
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def share(part: float, whole: float) -> float:
    """part / whole, 0 when whole is 0 (a saving on nothing is no saving)."""
    return part / whole if whole else 0.0


def catalog_hourly_usd(instance_type: str, region: str, component: str) -> tuple[float, str]:
    """The list price of an instance (``aifinops.pricing.rate`` without a store) and where it came from."""
    price = rate(None, instance_type, region, component)
    need(price.usd_per_unit > 0, f"The catalog's {instance_type} {component} rate in {region} is "
         f"${price.usd_per_unit}/h ({price.source}); a simulator cannot use a zero rate.",
         "pass the hourly rate you pay (usd_per_hour), or fix the price snapshot.")
    origin = f"catalog: {instance_type} {component} {region}, {price.source}, {price.fetched_at}"
    return float(price.usd_per_unit), origin


def catalog_memory_gib(instance_type: str) -> float:
    """Instance memory from aifinops.pricing's instance specs."""
    return float(instance_specs(instance_type).memory_gib)


def catalog_spot_discount(instance_type: str) -> tuple[float, str]:
    """The catalog's typical Spot discount for an instance type and where it comes from."""
    found = spot_discount(instance_type)
    return float(found.typical), f"catalog: typical of {found.low:.0%}-{found.high:.0%}, {found.source}"


def hourly_rate(
    usd_per_hour: float | None, instance_type: str | None, region: str, component: str
) -> tuple[float, str]:
    """An explicit rate wins; otherwise the catalog's list price for ``instance_type``."""
    if usd_per_hour is not None:
        need_positive("usd_per_hour", usd_per_hour)
        return float(usd_per_hour), "given"
    need(instance_type is not None, "No hourly rate and no instance type given.",
         "pass an hourly rate (usd_per_hour) or an instance type to price from the catalog.")
    return catalog_hourly_usd(str(instance_type), region, component)
