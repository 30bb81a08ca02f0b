"""Answer Price List ``GetProducts`` requests from the catalog, in the real response shape
(AWS Price List API ``pricing:GetProducts``, format ``aws_v1``).

``{"FormatVersion": "aws_v1", "PriceList": ["<json string>", ...], "NextToken": ...}``; each item has
``product.attributes`` in Price List names and ``terms.OnDemand.<sku>.JRTCKXETXF.priceDimensions`` with
``pricePerUnit.USD`` as a 10-decimal string. Each item also carries ``x_aifinops`` (source, confidence,
fetched_at) so that a reader can always say where a price came from. A filter value that no product of
the service has (the guide's ``productFamily='ML Inference'``) is answered with the values that exist.
"""

from __future__ import annotations

import base64
import hashlib
import json

from aifinops.errors import ArgumentError
from aifinops.pricing.catalog import PriceNotFound, PriceRow, close_matches, load_catalog
from aifinops.pricing.seed import REGIONS

OFFER_TERM = "JRTCKXETXF"  # the on-demand offer term code (AWS Price List bulk offer files)
RATE_CODE = "6YS6EN2CT7"
FILTER_TYPES = ("TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF")
SERVICE_NAMES = {"AmazonSageMaker": "Amazon SageMaker", "AmazonEC2": "Amazon Elastic Compute Cloud",
                 "AmazonBedrock": "Amazon Bedrock", "AmazonS3": "Amazon Simple Storage Service",
                 "AWSDataTransfer": "AWS Data Transfer", "comprehend": "Amazon Comprehend",
                 "AmazonTextract": "Amazon Textract", "AmazonRekognition": "Amazon Rekognition"}
_INFERENCE_TYPE = {"input": "Input tokens", "output": "Output tokens", "cache-read": "Cache read input tokens",
                   "cache-write": "Cache write input tokens"}
_FEATURE = {"standard": "On-demand Inference", "batch": "Batch Inference", "flex": "Flex Inference",
            "priority": "Priority Inference"}


def sku_of(row: PriceRow) -> str:
    if row.attributes.get("sku"):
        return str(row.attributes["sku"])
    key = "|".join([row.service_code, row.region, row.usage_type, json.dumps(row.attributes, sort_keys=True)])
    return base64.b32encode(hashlib.sha1(key.encode()).digest()).decode()[:16]


def _spec_attributes(instance_type: str) -> dict[str, str]:
    from aifinops.pricing.lookups import instance_specs

    try:
        s = instance_specs(instance_type)
    except PriceNotFound:
        return {}
    return {"vCpu": str(s.vcpu), "memory": f"{s.memory_gib:g} GiB", "gpu": str(s.gpus) if s.gpus else "N/A",
            "gpuMemory": f"{s.gpu_memory_gib:g} GiB" if s.gpus else "N/A",
            "currentGeneration": "Yes" if s.generation == "current" else "No"}


def product_attributes(row: PriceRow) -> dict[str, str]:
    """The row's attributes under Price List names (``instanceName``, ``component``, ``volumeType``, …)."""
    a = row.attributes
    location = REGIONS.get(row.region, (None, row.region))[1]
    attrs = {"servicecode": row.service_code, "servicename": SERVICE_NAMES.get(row.service_code, row.service_code),
             "location": location, "locationType": "AWS Region", "regionCode": row.region}
    if row.usage_type:
        attrs["usagetype"] = row.usage_type
    if row.operation:
        attrs["operation"] = row.operation
    if "instance_type" in a:
        it = a["instance_type"]
        attrs.update({"instanceType": it, **_spec_attributes(it)})
        if row.service_code == "AmazonSageMaker":
            attrs.update(instanceName=it, component=a["component"], platoinstancetype=a["component"])
        else:
            attrs.update(operatingSystem=a.get("operating_system", "Linux"), tenancy=a.get("tenancy", "Shared"),
                         preInstalledSw="NA", capacitystatus="Used", instanceFamily=it.split(".")[0])
    if "model" in a:
        attrs.update(model=a["model"], provider=a.get("provider", ""), modelId=a.get("model_id", ""),
                     inferenceType=_INFERENCE_TYPE[a["token_kind"]], feature=_FEATURE[a["tier"]],
                     crossRegion=a["routing"])
        if row.service_code == "AmazonBedrockFoundationModels":
            attrs["servicename"] = f"{a['model']} (Amazon Bedrock Edition)"
    for ours, theirs in (("volume_type", "volumeType"), ("memory_gb", "memory"), ("kind", "transferType"),
                         ("request_tier", "group"), ("api", "group"), ("component", "component")):
        if ours in a and theirs not in attrs:
            attrs[theirs] = f"{a[ours]} GB" if ours == "memory_gb" else str(a[ours])
    return attrs


def product_item(row: PriceRow) -> dict:
    sku = sku_of(row)
    usd = f"{row.usd_per_unit:.10f}"
    product = {"sku": sku, "attributes": product_attributes(row)}
    if row.product_family:
        product = {"productFamily": row.product_family, **product}
    effective = (row.effective_from or row.fetched_at).isoformat() + "T00:00:00Z"
    return {
        "product": product,
        "serviceCode": row.service_code,
        "terms": {"OnDemand": {f"{sku}.{OFFER_TERM}": {
            "offerTermCode": OFFER_TERM, "sku": sku, "effectiveDate": effective, "termAttributes": {},
            "priceDimensions": {f"{sku}.{OFFER_TERM}.{RATE_CODE}": {
                "unit": row.unit, "beginRange": "0", "endRange": "Inf", "description": row.description,
                "pricePerUnit": {"USD": usd}, "appliesTo": []}}}}},
        "version": row.fetched_at.strftime("%Y%m%d000000"),
        "publicationDate": row.fetched_at.isoformat() + "T00:00:00Z",
        "x_aifinops": {"source": row.source, "confidence": row.confidence, "fetched_at": row.fetched_at.isoformat(),
                       "effective_from": row.effective_from.isoformat() if row.effective_from else None},
    }


def _field_value(attrs: dict[str, str], family: str, sku: str, name: str) -> str | None:
    if name == "productFamily":
        return family or None
    if name == "sku":
        return sku
    lowered = {k.lower(): v for k, v in attrs.items()}
    return lowered.get(name.lower())


def _matches(value: str | None, ftype: str, wanted: str) -> bool:
    if value is None:
        return ftype == "NONE_OF"
    v = value.lower()
    options = [w.strip().lower() for w in wanted.split(",")]
    if ftype in ("TERM_MATCH", "EQUALS"):
        return v == wanted.lower()
    if ftype == "CONTAINS":
        return wanted.lower() in v
    if ftype == "ANY_OF":
        return v in options
    return v not in options  # NONE_OF


def _check_filters(filters: list[dict]) -> list[tuple[str, str, str]]:
    out = []
    for f in filters or []:
        if not isinstance(f, dict) or "Field" not in f or "Value" not in f:
            raise ArgumentError(f"Bad filter {f!r}.", 'give {"Field": NAME, "Value": VALUE, "Type": "TERM_MATCH"}.')
        ftype = str(f.get("Type", "TERM_MATCH")).upper()
        if ftype not in FILTER_TYPES:
            raise ArgumentError(f"Unknown filter Type {f.get('Type')!r}.", f"use one of {', '.join(FILTER_TYPES)}.")
        out.append((str(f["Field"]), str(f["Value"]), ftype))
    return out


def get_products(service_code: str, filters: list[dict] | None = None, region: str | None = None,
                 max_results: int = 100, next_token: str | None = None) -> dict:
    """Price List ``GetProducts`` over the catalog (current prices only)."""
    cat = load_catalog()
    if service_code not in cat.service_codes():
        raise PriceNotFound(f"service {service_code!r}", close_matches(service_code, cat.service_codes()),
                            fix=f"service codes in the snapshot: {', '.join(cat.service_codes())}.")
    if not 1 <= max_results <= 100:
        raise ArgumentError(f"MaxResults {max_results} is out of range.", "pass 1 to 100.")
    checks = _check_filters(filters or [])
    if region:
        checks.append(("regionCode", region, "TERM_MATCH"))
    newest: dict[tuple, PriceRow] = {}
    for row in cat.rows:
        if row.service_code == service_code and row.valid_at(None):
            key = (row.region, row.usage_type, json.dumps(row.attributes, sort_keys=True))
            if key not in newest or row.fetched_at >= newest[key].fetched_at:
                newest[key] = row
    candidates = [(row, product_attributes(row), sku_of(row)) for row in newest.values()]
    _explain_impossible(service_code, checks, candidates)
    hits = [row for row, attrs, sku in candidates
            if all(_matches(_field_value(attrs, row.product_family, sku, f), t, v) for f, v, t in checks)]
    hits.sort(key=lambda r: (r.region, r.usage_type, r.description))
    start = _offset(next_token)
    page = hits[start:start + max_results]
    end = start + len(page)
    token = base64.urlsafe_b64encode(f"offset:{end}".encode()).decode() if end < len(hits) else None
    return {"FormatVersion": "aws_v1", "PriceList": [json.dumps(product_item(r)) for r in page],
            **({"NextToken": token} if token else {})}


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "offset":
            return int(number)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ArgumentError("The NextToken is not one this server gave out.", "repeat the request without NextToken.")


def _explain_impossible(service_code: str, checks, candidates) -> None:
    """A TERM_MATCH/EQUALS value that no product of the service has gets the values that exist."""
    for fname, value, ftype in checks:
        seen = {v for row, attrs, sku in candidates
                if (v := _field_value(attrs, row.product_family, sku, fname)) is not None}
        if not seen:
            fields = sorted({k for _, attrs, _ in candidates for k in attrs} | {"productFamily", "sku"})
            raise PriceNotFound(f"{service_code} products with a {fname!r} attribute",
                                close_matches(fname, fields),
                                fix=f"{service_code} attributes are: {', '.join(fields)}.")
        if ftype in ("TERM_MATCH", "EQUALS") and value.lower() not in {s.lower() for s in seen}:
            listed = sorted(seen)
            shown = ", ".join(listed[:25]) + (f", … ({len(listed)} values)" if len(listed) > 25 else "")
            raise PriceNotFound(f"{service_code} products with {fname}={value!r}", close_matches(value, listed),
                                fix=f"{fname} values in the catalog: {shown}.")
