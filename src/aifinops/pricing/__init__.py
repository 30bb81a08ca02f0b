"""Price catalog: a dated, sourced price snapshot and the lookups every dollar figure goes through.

Library API (the checks, simulators, CLI and MCP server code against these names)::

    instance_hourly("ml.g5.xlarge", "us-east-1", "Hosting", as_of=None) -> Price       # $/hour
    instance_specs("g5.xlarge") -> InstanceSpec; similar_instances(...) -> list[InstanceSpec]
    spot_discount("p4d.24xlarge") -> (low, typical, high) with .source   # the one Spot discount figure
    bedrock_token_price("NovaLite", "input", tier="batch") -> Price                      # $/1K tokens
    s3_storage_price("STANDARD_IA") / transfer_price("inter-region") / serverless_inference_price(3)
    rate(con, "ml.g5.xlarge", "us-east-1", "Hosting") -> Price (basis 'billing' from your usage rows, else 'list')
    billed_rate(con, ...) -> Price | None; rate_or_none(con, ...) -> Price | None      # the rule: rates.py
    get_products("AmazonSageMaker", [{"Field": ..., "Value": ..., "Type": "TERM_MATCH"}]) -> GetProducts dict

A missing price raises ``PriceNotFound`` ("no price for …; did you mean …"), never a silent zero.
"""

from aifinops.pricing.catalog import Catalog, Price, PriceNotFound, load_catalog
from aifinops.pricing.lookups import (
    InstanceSpec,
    SpotDiscount,
    bedrock_token_price,
    instance_hourly,
    instance_specs,
    resolve_model,
    s3_request_price,
    s3_storage_price,
    savings_plan_hourly,
    serverless_inference_price,
    similar_instances,
    spot_discount,
    transfer_price,
    usage_type_price,
)
from aifinops.pricing.products import get_products
from aifinops.pricing.rates import billed_rate, rate, rate_or_none

__all__ = [
    "Catalog",
    "InstanceSpec",
    "Price",
    "PriceNotFound",
    "SpotDiscount",
    "bedrock_token_price",
    "billed_rate",
    "get_products",
    "instance_hourly",
    "instance_specs",
    "load_catalog",
    "rate",
    "rate_or_none",
    "resolve_model",
    "s3_request_price",
    "savings_plan_hourly",
    "s3_storage_price",
    "serverless_inference_price",
    "similar_instances",
    "spot_discount",
    "transfer_price",
    "usage_type_price",
]
