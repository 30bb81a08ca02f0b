"""Rebuild the price snapshot from the live AWS Price List API and the SageMaker Savings Plans rates.

Read-only: ``pricing:GetProducts`` (us-east-1 endpoint; each PriceList element is a JSON string; NextToken
pagination) and ``savingsplans:DescribeSavingsPlansOfferingRates``. Clients come from the allowlisted
``aifinops.aws.session.SessionFactory`` (``aws_clients``) and are passed in (tests use botocore's
Stubber); the output CSV has the bundled snapshot's columns and is written atomically, so a failed
refresh leaves the previous snapshot untouched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aifinops.errors import AifinopsError
from aifinops.pricing.seed import COMPONENT_ALIASES, PRICE_COLUMNS, price_row, write_csv
from aifinops.whole_file import replace_file

if TYPE_CHECKING:
    from aifinops.aws.session import SessionFactory

DEFAULT_SERVICES = ("AmazonSageMaker", "AmazonBedrock", "AmazonBedrockFoundationModels", "AmazonEC2")
DEFAULT_REGIONS = ("us-east-1", "us-west-2")
SAVINGS_PLANS_SERVICE = "AWSMachineLearningSavingsPlans"
# EC2 has hundreds of thousands of SKUs per region: only Linux, shared-tenancy, no-software, used capacity.
_EC2_FILTERS = [("operatingSystem", "Linux"), ("tenancy", "Shared"), ("preInstalledSw", "NA"),
                ("capacitystatus", "Used")]
_THROTTLE = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
_S3_CLASSES = {"standard": "STANDARD", "standard - infrequent access": "STANDARD_IA",
               "one zone - infrequent access": "ONEZONE_IA", "glacier instant retrieval": "GLACIER_IR",
               "amazon glacier": "GLACIER", "glacier deep archive": "DEEP_ARCHIVE",
               "intelligent-tiering frequent access": "INTELLIGENT_TIERING",
               "intelligent-tiering infrequent access": "INTELLIGENT_TIERING_IA"}


class PriceRefreshError(AifinopsError):
    """The Price List or Savings Plans API refused or failed; the previous snapshot is kept."""


PRICE_LIST_REGION = "us-east-1"  # the Price List API answers in us-east-1 (and ap-south-1) only
REFRESH_MAX_ATTEMPTS = 8  # GetProducts throttles at a few requests a second; a refresh makes hundreds


def aws_clients(profile: str | None = None, factory: SessionFactory | None = None) -> tuple[Any, Any]:
    """(pricing, savingsplans) clients from the one allowlisted factory (``aifinops.aws.session``).

    Each refuses every operation outside ``READ_OPERATIONS`` before a request is signed, as ``collect``'s do.
    """
    try:
        from aifinops.aws.session import SessionFactory
    except ImportError as exc:
        raise PriceRefreshError("boto3 is not installed.", "pip install 'aifinops[aws]'.") from exc
    factory = factory or SessionFactory(profile, max_attempts=REFRESH_MAX_ATTEMPTS)
    return factory.client("pricing", PRICE_LIST_REGION), factory.client("savingsplans", PRICE_LIST_REGION)


def _call(fn: Callable, what: str, **kwargs) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return fn(**kwargs)
    except NoCredentialsError as exc:
        raise PriceRefreshError(f"No AWS credentials for {what}.",
                                "configure a profile (aws configure / aws sso login) or pass --profile.") from exc
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _THROTTLE:
            raise PriceRefreshError(f"AWS throttled {what} ({code}); the previous snapshot was kept.",
                                    "wait a minute and run `aifinops pricing refresh` again, "
                                    "or fetch fewer services with --service.") from exc
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
            raise PriceRefreshError(f"AWS denied {what} ({code}).",
                                    "grant pricing:GetProducts and savingsplans:DescribeSavingsPlansOfferingRates "
                                    "(read-only) to this identity.") from exc
        raise PriceRefreshError(f"{what} failed: {code}: {exc.response.get('Error', {}).get('Message', '')}",
                                "check the service code and region, then retry.") from exc
    except BotoCoreError as exc:
        raise PriceRefreshError(f"{what} failed: {exc}.", "check the network and AWS configuration.") from exc


def iter_products(client, service_code: str, filters: list[tuple[str, str]]) -> Iterable[dict]:
    """Every product of a GetProducts query, pages followed, JSON strings parsed."""
    token = None
    while True:
        kwargs = {"ServiceCode": service_code, "FormatVersion": "aws_v1", "MaxResults": 100,
                  "Filters": [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in filters]}
        if token:
            kwargs["NextToken"] = token
        page = _call(client.get_products, f"pricing:GetProducts({service_code})", **kwargs)
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item
        token = page.get("NextToken")
        if not token:
            return


def _ondemand_dimension(item: dict) -> tuple[dict, str] | None:
    """The first paid USD tier of the on-demand term, and the term's effective date.

    Tiered products often open with a free allowance ("$0.00 per GB - first 100 GB / month"); taking
    that tier would price every GB at zero, so the lowest tier with a positive price wins. A product
    whose every tier is free (data transfer in) keeps its real $0.00.
    """
    for term in item.get("terms", {}).get("OnDemand", {}).values():
        dims = sorted(term.get("priceDimensions", {}).values(), key=lambda d: float(d.get("beginRange", "0") or 0))
        usd = [d for d in dims if "USD" in d.get("pricePerUnit", {})]
        if usd:
            paid = [d for d in usd if float(d["pricePerUnit"]["USD"]) > 0]
            return (paid or usd)[0], term.get("effectiveDate", "")[:10]
    return None


def _our_attributes(service_code: str, product: dict) -> dict | None:
    a, family = product.get("attributes", {}), product.get("productFamily", "")
    usage = a.get("usagetype", "")
    ours: dict = {"sku": product.get("sku", "")}
    if service_code == "AmazonSageMaker":
        if family == "ML Serverless" or "ServerlessInf" in usage:
            mem = re.search(r"Mem-(\d+)GB", usage)
            return {**ours, "component": "ServerlessInf", "memory_gb": int(mem.group(1))} if mem else None
        match = re.search(r"(ml\.[a-z0-9-]+\.[a-z0-9]+)", a.get("instanceName") or usage)
        component = COMPONENT_ALIASES.get(re.sub(r"[^a-z0-9]", "", a.get("component", "").lower()))
        if not match or not component:  # e.g. TrainingPlanUpfrontFee rows carry no component: not hourly
            return None
        return {**ours, "instance_type": match.group(1), "component": component}
    if service_code == "AmazonEC2":
        if not a.get("instanceType") or "BoxUsage" not in usage:
            return None
        return {**ours, "instance_type": a["instanceType"], "operating_system": "Linux", "tenancy": "Shared"}
    if service_code.startswith("AmazonBedrock"):
        return {**ours, **_bedrock_attributes(service_code, a, usage)}
    if service_code == "AmazonS3" and a.get("volumeType", "").lower() in _S3_CLASSES:
        return {**ours, "storage_class": _S3_CLASSES[a["volumeType"].lower()], "volume_type": a["volumeType"]}
    return ours


def _bedrock_attributes(service_code: str, a: dict, usage: str) -> dict:
    low = usage.lower()
    kind = ("cache-read" if "cacheread" in low.replace("-", "").replace("_", "") else
            "cache-write" if "cachewrite" in low.replace("-", "").replace("_", "") else
            "output" if "output" in low else "input")
    tier = next((t for t in ("batch", "flex", "priority") if t in low), "standard")
    routing = "global" if "global" in low else "in-region"
    if service_code == "AmazonBedrockFoundationModels":
        model = a.get("servicename", "").removesuffix(" (Amazon Bedrock Edition)")
        token = ""
    else:
        model = a.get("model") or a.get("titanModel") or ""
        found = re.match(r"^[A-Z0-9]+-(.+?)-(?:input|output|cache)", usage)
        token = found.group(1) if found else ""
    return {"model": model, "usage_token": token, "model_id": a.get("modelId", ""), "provider": a.get("provider", ""),
            "token_kind": kind, "tier": tier, "routing": routing}


def product_rows(service_code: str, region: str, items: Iterable[dict], fetched_at: str) -> list[dict]:
    rows = []
    for item in items:
        product = item.get("product", {})
        attrs = _our_attributes(service_code, product)
        priced = _ondemand_dimension(item)
        if attrs is None or priced is None:
            continue
        dim, effective = priced
        rows.append(price_row(service_code, region, product.get("attributes", {}).get("usagetype", ""), attrs,
                         dim.get("unit", ""), float(dim["pricePerUnit"]["USD"]),
                         f"AWS Price List API GetProducts {service_code} ({fetched_at})", "A", fetched_at,
                         operation=product.get("attributes", {}).get("operation", ""),
                         product_family=product.get("productFamily", ""), effective_from=effective,
                         description=dim.get("description", "")))
    return rows


def savings_plan_rows(client, regions: list[str], fetched_at: str) -> list[dict]:
    rows, token = [], None
    while True:
        kwargs = {"savingsPlanTypes": ["SageMaker"], "products": ["SageMaker"], "serviceCodes": ["AmazonSageMaker"],
                  "filters": [{"name": "region", "values": list(regions)}], "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page = _call(client.describe_savings_plans_offering_rates,
                     "savingsplans:DescribeSavingsPlansOfferingRates", **kwargs)
        for r in page.get("searchResults", []):
            props = {p["name"]: p["value"] for p in r.get("properties", [])}
            offering = r.get("savingsPlanOffering", {})
            match = re.search(r"-([A-Za-z]+):(ml\.[a-z0-9-]+\.[a-z0-9]+)", r.get("usageType", ""))
            if not match or "rate" not in r:
                continue
            years = round(offering.get("durationSeconds", 0) / 31_536_000) or 1
            component = COMPONENT_ALIASES.get(match.group(1).lower(), match.group(1))
            attrs = {"instance_type": props.get("instanceType", match.group(2)), "component": component,
                     "term": f"{years}yr", "payment_option": offering.get("paymentOption", ""),
                     "offering_id": offering.get("offeringId", "")}
            rows.append(price_row(SAVINGS_PLANS_SERVICE, props.get("region", ""), r.get("usageType", ""), attrs,
                             r.get("unit", "Hrs"), float(r["rate"]),
                             f"AWS savingsplans:DescribeSavingsPlansOfferingRates ({fetched_at})", "A", fetched_at,
                             operation=r.get("operation", ""), product_family="SageMakerSavingsPlans",
                             description=f"SageMaker Savings Plan {years}yr {offering.get('paymentOption', '')} "
                                         f"rate for {r.get('usageType', '')}"))
        token = page.get("nextToken")
        if not token:
            return rows


def write_atomic(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, lambda tmp: write_csv(tmp, PRICE_COLUMNS, rows))


def refresh_snapshot(pricing_client, savingsplans_client, out: Path, services: list[str] | None = None,
                     regions: list[str] | None = None, today: date | None = None,
                     progress: Callable[[str], None] | None = None) -> dict:
    """Fetch, convert and write the snapshot; returns a summary. Nothing is written unless all calls succeed."""
    fetched_at = (today or datetime.now(UTC).date()).isoformat()
    rows: list[dict] = []
    for service in services or DEFAULT_SERVICES:
        for region in regions or DEFAULT_REGIONS:
            if progress:
                progress(f"GetProducts {service} {region}")
            filters = [("regionCode", region)] + (_EC2_FILTERS if service == "AmazonEC2" else [])
            rows += product_rows(service, region, iter_products(pricing_client, service, filters), fetched_at)
    sp_rows = savings_plan_rows(savingsplans_client, list(regions or DEFAULT_REGIONS), fetched_at) \
        if savingsplans_client is not None else []
    if not rows and not sp_rows:
        raise PriceRefreshError("The Price List API returned no prices; nothing was written.",
                                "check --service and --region values.")
    write_atomic(Path(out), rows + sp_rows)
    return {"rows": len(rows) + len(sp_rows), "savings_plan_rates": len(sp_rows), "fetched_at": fetched_at,
            "path": str(out)}
