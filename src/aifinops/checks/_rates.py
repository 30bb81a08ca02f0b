"""The checks' price look-ups, each ``aifinops.pricing`` with a missing price as None instead of an error.

Hourly rates are ``aifinops.pricing.rate`` (the account's billed rate, else the catalog's list price; the
rule lives in ``pricing/rates.py``); every function returns the one ``Price`` type, whose ``basis`` says
where the number came from, or None: a check then skips the priced part of its finding and says so.
Nothing here invents a price.
"""

from __future__ import annotations

from typing import Any

from aifinops.checks.base import CheckContext
from aifinops.pricing import (
    InstanceSpec,
    Price,
    PriceNotFound,
    bedrock_token_price,
    rate_or_none,
    s3_storage_price,
)
from aifinops.pricing import instance_specs as _instance_specs
from aifinops.pricing import similar_instances as _similar_instances


def hourly(ctx: CheckContext, instance_type: str, region: str | None, component: str | None = None) -> Price | None:
    """The account's billed on-demand $/h for the type, else the catalog's list rate, else None.

    ``component`` is the SageMaker usage-type component ('Host', 'Train', 'Notebk', 'Studio', …; default Host).
    Asked once per context and (type, region, component): checks ask per resource, for a handful of types (1,553
    calls for 3 distinct answers on a 100k-resource bill), and the store does not change while they run.
    """
    comp = component or "Hosting"
    return ctx.cached(("hourly", instance_type, region, comp),
                      lambda: rate_or_none(ctx.con, instance_type, region, comp))


def list_hourly(instance_type: str, region: str | None, component: str | None = None) -> Price | None:
    """The catalog's on-demand $/h for ``instance_type`` (SageMaker types keep their 'ml.' prefix)."""
    return rate_or_none(None, instance_type, region, component or "Hosting")


def similar_instances(instance_type: str, region: str | None, **filters: Any) -> list[InstanceSpec]:
    """The catalog's rightsizing candidates for ``instance_type``, cheapest first ([] when unknown)."""
    if not region:
        return []
    try:
        return list(_similar_instances(instance_type, region=region, **filters))
    except PriceNotFound:
        return []


def instance_specs(instance_type: str) -> InstanceSpec | None:
    """The catalog's hardware specs of a type (GPUs, GPU memory), None when unknown."""
    try:
        return _instance_specs(instance_type)
    except PriceNotFound:
        return None


def s3_storage(region: str | None, storage_class: str) -> Price | None:
    """$/GB-month of an S3 storage class from the catalog (e.g. 'STANDARD', 'STANDARD_IA')."""
    if not region:
        return None
    try:
        return s3_storage_price(storage_class, region)
    except PriceNotFound:
        return None


def bedrock_token(model: str, token_kind: str, region: str | None) -> Price | None:
    """$/1K tokens of a Bedrock model and token kind ('input', 'output', …) from the catalog."""
    if not region:
        return None
    try:
        return bedrock_token_price(model, token_kind, region=region)
    except PriceNotFound:
        return None


def usd_per_token(price: Price) -> float:
    """A token price per single token, whatever its unit ('1K tokens', '1M tokens', 'tokens')."""
    unit = price.unit.lower().replace(" ", "")
    scale = 1e6 if unit.startswith(("1m", "m", "permillion")) else 1e3 if unit.startswith(("1k", "k")) else 1.0
    return price.usd_per_unit / scale
