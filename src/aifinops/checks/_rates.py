"""Rates the checks price with: the user's own bill first, the price catalog second, else None.

Every function returns a ``Rate`` that says where the number came from (``basis`` 'billing' for a
rate read from the user's own usage rows, 'list' for the catalog) or None when no price is known:
a check then skips the priced part of its finding and says so. Nothing here invents a price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aifinops.checks.base import HOURS_UNIT_SQL, USAGE_LINE_SQL, CheckContext


@dataclass(frozen=True)
class Rate:
    usd_per_unit: float
    unit: str
    basis: str  # 'billing' | 'list'
    source: str

    def describe(self) -> dict[str, Any]:
        return {"usd_per_unit": self.usd_per_unit, "unit": self.unit, "basis": self.basis, "source": self.source}


def _catalog() -> Any | None:
    try:
        import aifinops.pricing as pricing
    except ImportError:  # the catalog is optional: without it only billed rates are known
        return None
    return pricing


def _from_price(price: Any, fallback_unit: str) -> Rate | None:
    value = getattr(price, "usd_per_unit", None)
    if value is None or value <= 0:
        return None
    return Rate(
        float(value),
        getattr(price, "unit", None) or fallback_unit,
        getattr(price, "basis", None) or "list",
        str(getattr(price, "source", "") or "aifinops price catalog")
        + (f" (fetched {price.fetched_at})" if getattr(price, "fetched_at", None) else ""),
    )


def _ask(name: str, *args: Any, fallback_unit: str, **kwargs: Any) -> Rate | None:
    pricing = _catalog()
    func = getattr(pricing, name, None) if pricing else None
    if func is None:
        return None
    not_found = getattr(pricing, "PriceNotFound", LookupError)
    try:
        return _from_price(func(*args, **kwargs), fallback_unit)
    except not_found:  # a missing price is reported by the check as 'not priced'
        return None


def billed_hourly(
    ctx: CheckContext, instance_type: str, region: str | None, component: str | None = None
) -> Rate | None:
    """The on-demand $/h this bill itself charges for ``instance_type`` in ``region``."""
    where = "instance_type = ? AND region IS NOT DISTINCT FROM ? AND purchase_option = 'on-demand'"
    params: list[Any] = [instance_type, region]
    if component:
        where += " AND component = ?"
        params.append(component)
    rows = ctx.query(
        f"""SELECT sum(billed_cost) AS cost, sum(usage_quantity) AS hours FROM usage_daily
            WHERE {where} AND {USAGE_LINE_SQL} AND {HOURS_UNIT_SQL} AND usage_quantity > 0""",
        params,
    )
    if not rows or not rows[0]["hours"] or not rows[0]["cost"] or rows[0]["cost"] <= 0:
        return None
    what = f"{component}:{instance_type}" if component else instance_type
    return Rate(rows[0]["cost"] / rows[0]["hours"], "hour", "billing", f"your bill ({what} in {region})")


def list_hourly(instance_type: str, region: str | None, component: str | None = None) -> Rate | None:
    """The catalog's on-demand $/h for ``instance_type`` (SageMaker types keep their 'ml.' prefix).

    ``component`` is the usage-type component ('Host', 'Train', 'Notebk', 'Studio', …); SageMaker
    bills Studio apps and spot training at the notebook and training rates of the same type.
    """
    if not region:
        return None
    if not instance_type.startswith("ml."):
        return _ask("instance_hourly", instance_type, region, fallback_unit="hour")
    component = {"TrSpt": "Train"}.get(component or "Host", component or "Host")
    return _ask("instance_hourly", instance_type, region, component, fallback_unit="hour")


def similar_instances(instance_type: str, region: str | None, **filters: Any) -> list[Any]:
    """The catalog's rightsizing candidates for ``instance_type``, cheapest first ([] without a catalog)."""
    pricing = _catalog()
    if pricing is None or not region or not hasattr(pricing, "similar_instances"):
        return []
    try:
        return list(pricing.similar_instances(instance_type, region=region, **filters))
    except pricing.PriceNotFound:
        return []


def instance_specs(instance_type: str) -> Any | None:
    """The catalog's hardware specs of a type (GPUs, GPU memory), None when unknown."""
    pricing = _catalog()
    if pricing is None:
        return None
    try:
        return pricing.instance_specs(instance_type)
    except pricing.PriceNotFound:
        return None


def hourly(ctx: CheckContext, instance_type: str, region: str | None, component: str | None = None) -> Rate | None:
    """The bill's own on-demand rate for the type, else the catalog's list rate, else None."""
    return billed_hourly(ctx, instance_type, region, component) or list_hourly(instance_type, region, component)


def s3_storage(region: str | None, storage_class: str) -> Rate | None:
    """$/GB-month of an S3 storage class from the catalog (e.g. 'STANDARD', 'STANDARD_IA')."""
    if not region:
        return None
    return _ask("s3_storage_price", storage_class, region, fallback_unit="GB-Mo")


def bedrock_token(model: str, token_kind: str, region: str | None) -> Rate | None:
    """$/1K tokens of a Bedrock model and token kind ('input', 'output', …) from the catalog."""
    if not region:
        return None
    return _ask("bedrock_token_price", model, token_kind, region=region, fallback_unit="1K tokens")


def usd_per_token(rate: Rate) -> float:
    """A token rate per single token, whatever its unit ('1K tokens', '1M tokens', 'tokens')."""
    unit = rate.unit.lower().replace(" ", "")
    scale = 1e6 if unit.startswith(("1m", "m", "permillion")) else 1e3 if unit.startswith(("1k", "k")) else 1.0
    return rate.usd_per_unit / scale
