"""``get_pricing`` arguments (the AWS Labs pricing tool's shape) → the price catalog's GetProducts.

``region`` is a code or a list of codes; ``filters`` a list of {Field, Type, Value} (Type EQUALS,
ANY_OF, CONTAINS, NONE_OF as in the AWS Labs tool, or the Price List API's TERM_MATCH).
"""

from __future__ import annotations

from typing import Any

from aifinops.answers.args import fit, json_arg, page, string_list
from aifinops.errors import ArgumentError
from aifinops.pricing import PriceNotFound, get_products

FILTER_TYPES = ["EQUALS", "TERM_MATCH", "ANY_OF", "CONTAINS", "NONE_OF"]
_EXAMPLE = '[{"Field": "instanceType", "Value": "ml.p3.2xlarge", "Type": "EQUALS"}]'


def pricing_filters(value: Any) -> list[dict[str, str]]:
    items = json_arg(value, "filters", (list, dict), _EXAMPLE) or []
    items = [items] if isinstance(items, dict) else items
    out = []
    for item in items:
        folded = {str(k).lower(): v for k, v in item.items()} if isinstance(item, dict) else {}
        if "field" not in folded or "value" not in folded:
            raise ArgumentError(f"Pricing filter {item!r} needs Field and Value.", f"pass e.g. filters={_EXAMPLE}.")
        kind = str(folded.get("type", "EQUALS")).upper()
        if kind not in FILTER_TYPES:
            raise ArgumentError(f"Unknown filter Type {kind!r}.", f"use one of {', '.join(FILTER_TYPES)}.")
        out.append({"Field": str(folded["field"]), "Type": kind, "Value": folded["value"]})
    return out


def get_pricing(
    service_code: str,
    region: Any = None,
    filters: Any = None,
    max_results: int = 25,
    next_token: str | None = None,
) -> dict[str, Any]:
    """Products of ``service_code`` matching the filters, in each region asked, paged."""
    asked = string_list(region, "region", '["us-east-1"]')
    regions: list[str | None] = list(asked) if asked else [None]  # None: the catalog's default region
    parsed = pricing_filters(filters)
    products: list[Any] = []
    notes: list[str] = []
    for code in regions:
        try:
            answer = get_products(service_code, parsed, region=code) if code else get_products(service_code, parsed)
        except PriceNotFound as exc:  # a guessed filter value: say which values exist instead of failing
            notes.append(exc.message)
            continue
        products.extend(answer.get("PriceList", []))
        notes.extend(answer.get("aifinops_notes", []))
    request = [service_code, regions, parsed]

    def build(size: int) -> dict[str, Any]:
        chunk, token = page(products, min(size, max_results), next_token, request)
        out: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": chunk, "aifinops_total": len(products)}
        if token:
            out["NextToken"] = token
        if notes:
            out["aifinops_notes"] = list(dict.fromkeys(notes))
        return out

    return fit(build, max_results)
