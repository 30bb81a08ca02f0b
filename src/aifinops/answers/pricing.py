"""``get_pricing`` arguments (the AWS Labs pricing tool's shape) → the price catalog's GetProducts.

``region`` is a code or a list of codes; ``filters`` a list of {Field, Type, Value} (Type EQUALS,
ANY_OF, CONTAINS, NONE_OF as in the AWS Labs tool, or the Price List API's TERM_MATCH).
"""

from __future__ import annotations

import re
from typing import Any

from aifinops.answers.args import fit, json_arg, page, string_list
from aifinops.errors import ArgumentError, did_you_mean
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
    max_allowed_characters: int | None = None,
    output_options: Any = None,
) -> dict[str, Any]:
    """Products of ``service_code`` matching the filters, in each region asked, paged.

    ``output_options`` (the AWS Labs tool's) keeps some pricing terms or product attributes and can drop
    free products; ``max_allowed_characters`` refuses a larger answer with how to narrow it (-1: no limit
    beyond the server's own answer cap).
    """
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
        products.extend(_shaped(p, output_options) for p in answer.get("PriceList", []))
        notes.extend(answer.get("aifinops_notes", []))
    if (json_arg(output_options, "output_options", dict, _OPTIONS_EXAMPLE) or {}).get("exclude_free_products"):
        products = [p for p in products if not _free(p)]
    request = [service_code, regions, parsed, output_options]

    def build(size: int) -> dict[str, Any]:
        chunk, token = page(products, min(size, max_results), next_token, request)
        out: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": chunk, "aifinops_total": len(products)}
        if token:
            out["NextToken"] = token
        if notes:
            out["aifinops_notes"] = list(dict.fromkeys(notes))
        return out

    answer = fit(build, max_results)
    if max_allowed_characters is not None and max_allowed_characters != -1:
        from aifinops.answers.args import to_json

        size = len(to_json(answer))
        if size > max_allowed_characters:
            raise ArgumentError(
                f"The pricing answer is {size:,} characters, over max_allowed_characters {max_allowed_characters:,}.",
                "add filters (instanceType, regionCode, productFamily), lower max_results, pass output_options "
                '{"product_attributes": [...]}, or raise max_allowed_characters.')
    return answer


_OPTIONS_EXAMPLE = ('{"pricing_terms": ["OnDemand"], "product_attributes": ["instanceType"], '
                    '"exclude_free_products": true}')


def _shaped(item: Any, options: Any) -> Any:
    """One PriceList item (a JSON string) trimmed by the AWS Labs tool's ``output_options``; None drops it."""
    import json

    opts = json_arg(options, "output_options", dict, _OPTIONS_EXAMPLE)
    if not opts:
        return item
    unknown = set(opts) - {"pricing_terms", "product_attributes", "exclude_free_products"}
    if unknown:
        raise ArgumentError(f"output_options has no field {sorted(unknown)[0]!r}.",
                            f"pass e.g. output_options={_OPTIONS_EXAMPLE}.")
    doc = json.loads(item) if isinstance(item, str) else dict(item)
    terms = opts.get("pricing_terms")
    if terms:
        doc["terms"] = {k: v for k, v in doc.get("terms", {}).items() if k in terms}
    keep = opts.get("product_attributes")
    if keep:
        attrs = doc.get("product", {}).get("attributes", {})
        doc["product"]["attributes"] = {k: v for k, v in attrs.items() if k in keep}
    return json.dumps(doc)


def _free(item: Any) -> bool:
    """True when every price dimension of a PriceList item is $0."""
    import json

    doc = json.loads(item) if isinstance(item, str) else item
    prices = [float(d.get("pricePerUnit", {}).get("USD", 0)) for term in doc.get("terms", {}).values()
              for offer in term.values() for d in offer.get("priceDimensions", {}).values()]
    return all(p == 0 for p in prices)


# ---------------------------------------------------------------- the pricing server's discovery tools


def _attributes_by_service() -> dict[str, dict[str, set[str]]]:
    """{service code: {attribute name: values}} over the price snapshot (Price List attribute names)."""
    from aifinops.pricing.catalog import load_catalog
    from aifinops.pricing.products import product_attributes

    out: dict[str, dict[str, set[str]]] = {}
    for row in load_catalog().rows:
        attrs = out.setdefault(row.service_code, {})
        for name, value in product_attributes(row).items():
            attrs.setdefault(name, set()).add(str(value))
        if row.product_family:
            attrs.setdefault("productFamily", set()).add(row.product_family)
    return out


def _matching(names: list[str], pattern: str | None, what: str) -> list[str]:
    if not pattern:
        return names
    try:
        regex = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ArgumentError(f"filter {pattern!r} is not a regular expression ({exc.msg}).",
                            f"pass a regular expression over {what}, e.g. 'sagemaker'.") from None
    return [n for n in names if regex.search(n)]


def service_codes(filter: str | None = None) -> dict[str, Any]:  # noqa: A002 - the AWS Labs tool's name
    """get_pricing_service_codes: the service codes the price snapshot holds (a regex ``filter`` narrows them)."""
    codes = _matching(sorted(_attributes_by_service()), filter, "service codes")
    notes = ["Service codes of aifinops's dated price snapshot (AI services and what surrounds them), not every "
             "AWS service; `aifinops pricing refresh` rebuilds it from the Price List API."]
    return {"service_codes": codes, "aifinops_notes": notes}


def _service(service_code: str) -> dict[str, set[str]]:
    every = _attributes_by_service()
    if service_code not in every:
        raise ArgumentError(f"No service code {service_code!r} in the price snapshot."
                            f"{did_you_mean(service_code, every)}",
                            f"call get_pricing_service_codes; codes held: {', '.join(sorted(every))}.")
    return every[service_code]


def service_attributes(service_code: str, filter: str | None = None) -> dict[str, Any]:  # noqa: A002
    """get_pricing_service_attributes: the attribute names products of ``service_code`` carry."""
    names = _matching(sorted(_service(service_code)), filter, "attribute names")
    return {"service_code": service_code, "attributes": names}


def attribute_values(service_code: str, attribute_names: Any, filters: Any = None) -> dict[str, Any]:
    """get_pricing_attribute_values: each attribute's values ({name: regex} ``filters`` narrow them)."""
    attrs = _service(service_code)
    names = string_list(attribute_names, "attribute_names", '["instanceType", "regionCode"]')
    if not names:
        raise ArgumentError("attribute_names is empty.", 'pass e.g. attribute_names=["instanceType"].')
    patterns = json_arg(filters, "filters", dict, '{"instanceType": "ml\\\\.g5"}') or {}
    values: dict[str, list[str]] = {}
    for name in names:
        if name not in attrs:
            raise ArgumentError(f"{service_code} products have no attribute {name!r}.{did_you_mean(name, attrs)}",
                                "call get_pricing_service_attributes for the names.")
        values[name] = _matching(sorted(attrs[name]), patterns.get(name), f"{name} values")
    return {"service_code": service_code, "attribute_values": values}
