"""CUR 2.0 line items (DAILY granularity, resource ids included) for the demo company.

Each row is a dict keyed by ``CUR2_SCHEMA`` column names; columns a row leaves out are written as null.
``line_item_unblended_cost`` is always ``line_item_usage_amount x line_item_unblended_rate`` (rates are
strings with 10 decimals, as in real exports), except Credit and Tax rows, which carry no rate.

Shapes follow the AWS Data Exports CUR 2.0 table dictionary and the AWS CUR Savings Plans page
(SavingsPlanNegation rows carry a negative usage amount and no resource id). Strings not verified against a
real bill: managed Spot training is billed as ``<R>-TrSpt:ml.*`` instance-hours at an
effective rate of on-demand x ``SAGEMAKER_SPOT_BILLABLE_FRACTION``; the Comprehend/Textract/Rekognition
usage types carry the ``USE1-`` prefix; Marketplace Bedrock rows use product code
``AmazonBedrockFoundationModels`` and ``1M tokens``; the SageMaker Savings Plan fee rows use product
code ``MachineLearningSavingsPlans``.
"""

from __future__ import annotations

import calendar
import gzip
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from aifinops.demo import prices as p
from aifinops.demo.account import (
    ACCOUNT_NAMES,
    CLAUDE_SONNET_45_ID,
    CLAUDE_SONNET_45_NAME,
    NOVA_LITE_ID,
    PAYER,
    REGIONS,
    DemoAccount,
    Endpoint,
    Notebook,
    StudioApp,
    TrainingJob,
    ai_service_usage,
    bedrock_usage,
    days,
    running_hours,
    stable_id,
)
from aifinops.ingest.cur2_columns import CUR2_SCHEMA

SP_ARN = (
    f"arn:aws:savingsplans::{PAYER}:savingsplan/{stable_id('savings-plan', length=8)}-"
    f"{stable_id('sp', 1, length=4)}-{stable_id('sp', 2, length=4)}-{stable_id('sp', 3, length=4)}-"
    f"{stable_id('sp', 4, length=12)}"
)
SP_START, SP_END = "2024-06-01T00:00:00.000Z", "2025-06-01T00:00:00.000Z"
_NORMALIZATION = {"xlarge": 8.0, "2xlarge": 16.0, "4xlarge": 32.0, "24xlarge": 192.0}


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _daily(day: date, **fields: Any) -> dict:
    """One CUR 2.0 row for the usage of ``day`` (DAILY granularity)."""
    return line(*_day_bounds(day), **fields)


def _period(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, 1, tzinfo=UTC)
    end = datetime(day.year + day.month // 12, day.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _prefixed(region: str, usage: str, bare_in_use1: bool = False) -> str:
    """EC2-family usage types carry no prefix in us-east-1 (``BoxUsage:p4d.24xlarge``); everything else does."""
    if bare_in_use1 and region == "us-east-1":
        return usage
    return f"{REGIONS[region][0]}-{usage}"


def line(
    start: datetime,
    end: datetime,
    *,
    account: str,
    region: str | None,
    product_code: str,
    product_name: str,
    usage_type: str | None,
    operation: str | None,
    usage: float,
    rate: float | None,
    unit: str | None,
    description: str,
    resource_id: str | None = None,
    tags: dict[str, str] | None = None,
    line_type: str = "Usage",
    term: str | None = "OnDemand",
    od_rate: float | None = None,
    servicecode: str | None = None,
    family: str | None = None,
    instance_type: str | None = None,
    entity: str = "AWS",
    legal_entity: str = "Amazon Web Services, Inc.",
    cost: float | None = None,
    extra: dict | None = None,
) -> dict:
    """One CUR 2.0 row; ``cost`` defaults to ``usage x rate`` (the rate rounded as it is printed)."""
    period_start, period_end = _period(start.date())
    rate = round(rate, 10) if rate is not None else None
    od_rate = round(od_rate, 10) if od_rate is not None else rate
    if cost is None:
        cost = usage * rate if rate is not None else 0.0
    location = REGIONS[region][1] if region else None
    key: tuple = (account, start, product_code, usage_type, operation, resource_id, line_type, description)
    if extra and extra.get("line_item_iam_principal"):
        key += (extra["line_item_iam_principal"],)  # one line item per caller
    row = {
        "bill_bill_type": "Anniversary",
        "bill_billing_entity": entity,
        "bill_billing_period_start_date": period_start,
        "bill_billing_period_end_date": period_end,
        "bill_invoice_id": str(int(stable_id(entity, period_start), 16) % 10**10),
        "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "bill_payer_account_id": PAYER,
        "bill_payer_account_name": ACCOUNT_NAMES[PAYER],
        "identity_line_item_id": stable_id(*key, length=52),
        "identity_time_interval": f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}",
        "line_item_blended_cost": cost,
        "line_item_blended_rate": _rate(rate),
        "line_item_currency_code": "USD",
        "line_item_legal_entity": legal_entity,
        "line_item_line_item_description": description,
        "line_item_line_item_type": line_type,
        "line_item_net_unblended_cost": cost,
        "line_item_net_unblended_rate": _rate(rate),
        "line_item_operation": operation,
        "line_item_product_code": product_code,
        "line_item_resource_id": resource_id,
        "line_item_unblended_cost": cost,
        "line_item_unblended_rate": _rate(rate),
        "line_item_usage_account_id": account,
        "line_item_usage_account_name": ACCOUNT_NAMES[account],
        "line_item_usage_amount": usage,
        "line_item_usage_end_date": end,
        "line_item_usage_start_date": start,
        "line_item_usage_type": usage_type,
        "pricing_currency": "USD" if rate is not None else None,
        "pricing_public_on_demand_cost": usage * od_rate if od_rate is not None else 0.0,
        "pricing_public_on_demand_rate": _rate(od_rate),
        "pricing_term": term,
        "pricing_unit": unit,
        "product": {
            "product_name": product_name,
            "servicename": product_name,
            **({"region": region} if region else {}),
        },
        "product_location": location,
        "product_location_type": "AWS Region" if region else None,
        "product_operation": operation,
        "product_pricing_unit": unit,
        "product_product_family": family,
        "product_region_code": region,
        "product_servicecode": servicecode or product_code,
        "product_usagetype": usage_type,
        "resource_tags": dict(tags or {}),
    }
    if rate is not None:
        sku = stable_id(product_code, region, usage_type, length=16).upper()
        row.update(
            {
                "product_sku": sku,
                "pricing_rate_code": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                "pricing_rate_id": str(int(stable_id(sku, term), 16) % 10**10),
            }
        )
    if instance_type:
        row["product_instance_type"] = instance_type
        row["product_instance_family"] = instance_type.removeprefix("ml.").split(".")[0]
    if extra:
        row.update(extra)
    return row


def _rate(rate: float | None) -> str | None:
    return None if rate is None else f"{rate:.10f}"


def _sagemaker(
    day: date,
    res: Endpoint | Notebook | StudioApp | TrainingJob,
    component: str,
    detail: str,
    hours: float,
    words: str,
    rate: float | None = None,
    term: str = "OnDemand",
) -> dict:
    """A SageMaker instance-hours row of ``res`` (account, region, arn, tags, instance type) for ``day``."""
    itype, region = res.instance_type, res.region
    od = p.SAGEMAKER_USD_PER_HOUR[itype]
    rate = od if rate is None else rate
    return _daily(
        day,
        account=res.account,
        region=region,
        product_code="AmazonSageMaker",
        product_name="Amazon SageMaker",
        usage_type=_prefixed(region, f"{component}:{detail}"),
        operation="RunInstance",
        usage=hours,
        rate=rate,
        od_rate=od,
        unit="Hrs",
        description=words.format(rate=p.rate_text(rate), itype=itype, loc=REGIONS[region][1]),
        resource_id=res.arn,
        tags=res.tags,
        term=term,
        family="ML Instance",
        instance_type=itype,
    )


def _endpoint_rows(acct: DemoAccount, rows: list[dict], sp_used: dict[date, float]) -> None:
    negations: dict[tuple, float] = defaultdict(float)
    for e in acct.endpoints:
        for day in days():
            start, _ = _day_bounds(day)
            hours = float(sum(e.instances_at(start + timedelta(hours=h)) for h in range(24)))
            if not hours:
                continue
            row = _sagemaker(day, e, "Host", e.instance_type, hours, "{rate} per Hosting {itype} hour in {loc}")
            if e.savings_plan:
                sp_rate = round(p.SAGEMAKER_USD_PER_HOUR[e.instance_type] * (1 - p.SAVINGS_PLAN_DISCOUNT), 10)
                row["line_item_line_item_type"] = "SavingsPlanCoveredUsage"
                row["identity_line_item_id"] = stable_id(row["identity_line_item_id"], "sp", length=52)
                row.update(
                    savings_plan_savings_plan_a_r_n=SP_ARN,
                    savings_plan_savings_plan_rate=sp_rate,
                    savings_plan_savings_plan_effective_cost=sp_rate * hours,
                    savings_plan_net_savings_plan_effective_cost=sp_rate * hours,
                )
                sp_used[day] += sp_rate * hours
                negations[(day, e.account, e.region, e.instance_type, row["product_sku"])] += hours
            rows.append(row)
    for (day, account, region, itype, sku), hours in sorted(negations.items()):
        rows.append(
            _daily(
                day,
                account=account,
                region=region,
                product_code="AmazonSageMaker",
                product_name="Amazon SageMaker",
                usage_type=_prefixed(region, f"Host:{itype}"),
                operation="RunInstance",
                usage=-hours,
                rate=p.SAGEMAKER_USD_PER_HOUR[itype],
                unit="Hrs",
                description=f"SavingsPlanNegation used by AccountId : {account} and UsageSku : {sku}",
                line_type="SavingsPlanNegation",
                family="ML Instance",
                instance_type=itype,
                extra={"savings_plan_savings_plan_a_r_n": SP_ARN},
            )
        )


def savings_plan_commitment_usd_per_hour(acct: DemoAccount) -> float:
    """The plan was sized at purchase to about 97 % of the covered endpoints' discounted hourly cost."""
    covered = sum(p.SAGEMAKER_USD_PER_HOUR[e.instance_type] * e.count for e in acct.endpoints if e.savings_plan)
    return round(covered * (1 - p.SAVINGS_PLAN_DISCOUNT) / 0.97, 2)


def _savings_plan_fees(acct: DemoAccount, rows: list[dict], sp_used: dict[date, float]) -> None:
    commitment = savings_plan_commitment_usd_per_hour(acct)
    for day in days():
        month_hours = 24 * calendar.monthrange(day.year, day.month)[1]
        rows.append(
            _daily(
                day,
                account=PAYER,
                region=None,
                product_code="MachineLearningSavingsPlans",
                product_name="Savings Plans for AWS Machine Learning",
                usage_type="SageMakerSP:1yrNoUpfront",
                operation=None,
                usage=24.0,
                rate=commitment,
                unit="Hrs",
                term=None,
                resource_id=SP_ARN,
                description="1 year No Upfront SageMaker Savings Plan",
                line_type="SavingsPlanRecurringFee",
                extra={
                    "savings_plan_savings_plan_a_r_n": SP_ARN,
                    "savings_plan_total_commitment_to_date": commitment * 24,
                    "savings_plan_used_commitment": sp_used[day],
                    "savings_plan_recurring_commitment_for_billing_period": commitment * month_hours,
                    "savings_plan_net_recurring_commitment_for_billing_period": commitment * month_hours,
                    "savings_plan_amortized_upfront_commitment_for_billing_period": 0.0,
                    "savings_plan_offering_type": "SageMakerSavingsPlans",
                    "savings_plan_payment_option": "No Upfront",
                    "savings_plan_purchase_term": "1yr",
                    "savings_plan_start_time": SP_START,
                    "savings_plan_end_time": SP_END,
                },
            )
        )


def _scheduled_rows(acct: DemoAccount, rows: list[dict]) -> None:
    notebooks = [(nb, "Notebk", nb.instance_type, "Notebook") for nb in acct.notebooks]
    studio_apps = [(app, "Studio", f"JupyterLab-{app.instance_type}", "Studio-JupyterLab") for app in acct.studio_apps]
    for res, component, detail, what in notebooks + studio_apps:
        words = f"{{rate}} per {what} {{itype}} hour in {{loc}}"
        for day in days():
            hours = len(running_hours(res.schedule, day))
            if hours:
                rows.append(_sagemaker(day, res, component, detail, float(hours), words))


def _training_rows(acct: DemoAccount, rows: list[dict]) -> None:
    for job in acct.training_jobs:
        od = p.SAGEMAKER_USD_PER_HOUR[job.instance_type]
        rate: float | None = None
        component, words, term = "Train", "{rate} for Training job {itype} per hour", "OnDemand"
        if job.spot:
            rate = od * p.SAGEMAKER_SPOT_BILLABLE_FRACTION
            component, words, term = "TrSpt", "{rate} for Spot Training job {itype} per hour", "Spot"
        day = job.start.date()
        while True:
            day_start, day_end = _day_bounds(day)
            overlap_s = (min(job.end, day_end) - max(job.start, day_start)).total_seconds()
            if overlap_s <= 0:
                break
            hours = overlap_s / 3600 * job.count
            rows.append(_sagemaker(day, job, component, job.instance_type, hours, words, rate=rate, term=term))
            day += timedelta(days=1)


# Who calls Bedrock (CUR 2.0 caller identity, docs/genai.md): each on-demand day's tokens are split between
# the calling IAM principals by these shares (integer tokens, the remainder to the last), so the split rows
# add up to the same bill. Principal tags arrive in CUR 2.0's prefixed ``tags`` column; the LiteLLM gateway
# role carries none (who is behind it is unknown to the bill). Batch jobs carry no caller: unattributed.
def _role(name: str) -> str:
    return f"arn:aws:iam::{PAYER}:{name}"


BEDROCK_PRINCIPALS: dict[str, dict[str, str]] = {
    _role("role/doc-summarizer"): {"iamPrincipal/team": "genai", "iamPrincipal/application": "summarizer"},
    _role("role/support-chatbot"): {"iamPrincipal/team": "support", "iamPrincipal/application": "chatbot"},
    _role("user/alice"): {"iamPrincipal/team": "research"},
    _role("role/litellm-gateway"): {},
}
BEDROCK_CALLERS: dict[str, list[tuple[str, float]]] = {
    NOVA_LITE_ID: [(_role("role/doc-summarizer"), 0.7), (_role("role/litellm-gateway"), 0.3)],
    CLAUDE_SONNET_45_ID: [
        (_role("role/support-chatbot"), 0.5), (_role("role/litellm-gateway"), 0.3), (_role("user/alice"), 0.2),
    ],
}
# The support chatbot calls Claude through an application inference profile: its ARN is the line item's resource.
SUPPORT_PROFILE_ARN = (
    f"arn:aws:bedrock:us-east-1:{PAYER}:application-inference-profile/{stable_id('chatbot', length=12)}"
)
PROFILE_OF = {_role("role/support-chatbot"): SUPPORT_PROFILE_ARN}


def split_tokens(tokens: int, shares: list[tuple[str, float]]) -> list[tuple[str, int]]:
    """``tokens`` split by ``shares`` in whole tokens, the remainder to the last caller."""
    parts = [(who, int(tokens * share)) for who, share in shares[:-1]]
    return [*parts, (shares[-1][0], tokens - sum(n for _, n in parts))]


def _caller(principal: str | None) -> dict[str, Any]:
    if principal is None:
        return {}
    return {"line_item_iam_principal": principal, "tags": dict(BEDROCK_PRINCIPALS[principal])}


def _bedrock_rows(rows: list[dict]) -> None:
    for day in days():
        use = bedrock_usage(day)
        nova = use[NOVA_LITE_ID]
        for kind, suffix, factor, feature in (
            ("input", "input-tokens", 1.0, "On-demand Inference"),
            ("output", "output-tokens", 1.0, "On-demand Inference"),
            ("batch-input", "input-tokens-batch", 0.5, "Batch Inference"),
            ("batch-output", "output-tokens-batch", 0.5, "Batch Inference"),
        ):
            tokens = nova[kind]
            if not tokens:
                continue
            rate = p.NOVA_LITE_USD_PER_1K[kind.removeprefix("batch-")] * factor
            callers: list[tuple[str | None, int]] = (
                [(None, tokens)] if factor < 1 else list(split_tokens(tokens, BEDROCK_CALLERS[NOVA_LITE_ID]))
            )
            for principal, part in callers:
                row = _daily(
                    day,
                    account=PAYER,
                    region="us-east-1",
                    product_code="AmazonBedrock",
                    product_name="Amazon Bedrock",
                    usage_type=f"USE1-NovaLite-{suffix}",
                    operation="InvokeModelInference",
                    usage=part / 1000,
                    rate=rate,
                    unit="1K tokens",
                    description=f"{p.rate_text(rate)} per 1K {kind.split('-')[-1]} tokens for Amazon Nova Lite "
                    f"{'batch ' if factor < 1 else ''}in US East (N. Virginia)",
                    tags={"user:team": "genai", "user:workload-type": "inference"},
                    extra=_caller(principal),
                )
                row["product"].update(model="Nova Lite", feature=feature)
                rows.append(row)
        claude = use[CLAUDE_SONNET_45_ID]
        for kind, counter in (
            ("input", "InputTokenCount"),
            ("output", "OutputTokenCount"),
            ("cache-read", "CacheReadInputTokenCount"),
        ):
            rate = p.CLAUDE_SONNET_45_USD_PER_1M[kind]
            for principal, part in split_tokens(claude[kind], BEDROCK_CALLERS[CLAUDE_SONNET_45_ID]):
                rows.append(
                    _daily(
                        day,
                        account=PAYER,
                        region="us-east-1",
                        product_code="AmazonBedrockFoundationModels",
                        product_name=CLAUDE_SONNET_45_NAME,
                        usage_type=f"USE1-MP:USE1_{counter}-Units",
                        operation="Usage",
                        usage=part / 1e6,
                        rate=rate,
                        unit="1M tokens",
                        description=f"{p.rate_text(rate)} per 1M {kind} tokens for {CLAUDE_SONNET_45_NAME} "
                        "in US East (N. Virginia)",
                        entity="AWS Marketplace",
                        legal_entity="Anthropic, PBC",
                        resource_id=PROFILE_OF.get(principal),
                        extra=_caller(principal),
                    )
                )


# Model invocation logging (docs/genai.md): the demo logs the requests of its last LOGGED_DAYS days, one
# ModelInvocationLog record per request without prompt bodies, whose tokens add up to the billed tokens of each
# (day, caller, model, token class). Roles log as assumed-role sessions; the gateway role's requests carry the
# users behind it in requestMetadata, which the bill cannot see.
LOGGED_DAYS = 3
TOKENS_PER_LOGGED_REQUEST = {NOVA_LITE_ID: 30_000, CLAUDE_SONNET_45_ID: 50_000}  # input tokens, roughly
GATEWAY_USERS = ["dana", "eli", "farah", "gus"]


def _logged_identity(principal: str) -> str:
    if ":role/" in principal:
        name = principal.split(":role/", 1)[1]
        return principal.replace(":iam::", ":sts::").replace(f":role/{name}", f":assumed-role/{name}/{name}-session")
    return principal


def _weights(n: int, *key: object) -> list[int]:
    return [50 + int(stable_id(*key, i, length=4), 16) % 100 for i in range(n)]


def _split(total: int, weights: list[int]) -> list[int]:
    """``total`` in whole parts proportional to ``weights``, the remainder to the last."""
    parts = [total * w // sum(weights) for w in weights[:-1]]
    return [*parts, total - sum(parts)]


def invocation_records() -> list[dict]:
    """The demo's logged requests: ModelInvocationLog records as Bedrock writes them (bodies left out)."""
    records: list[dict] = []
    for day in days()[-LOGGED_DAYS:]:
        use = bedrock_usage(day)
        claude_kinds = ("input", "output", "cache-read")
        for model, kinds in ((NOVA_LITE_ID, ("input", "output")), (CLAUDE_SONNET_45_ID, claude_kinds)):
            by_kind = {k: dict(split_tokens(use[model][k], BEDROCK_CALLERS[model])) for k in kinds}
            for principal, _ in BEDROCK_CALLERS[model]:
                n = max(1, by_kind["input"][principal] // TOKENS_PER_LOGGED_REQUEST[model])
                weights = _weights(n, day, model, principal)
                parts = {k: _split(by_kind[k][principal], weights) for k in kinds}
                tags = BEDROCK_PRINCIPALS[principal]
                for i in range(n):
                    ts = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=(86_400 * i) // n)
                    metadata = ({"application": tags.get("iamPrincipal/application", "notebook")} if tags else
                                {"application": "gateway", "user": GATEWAY_USERS[i % len(GATEWAY_USERS)]})
                    records.append({
                        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
                        "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "accountId": PAYER, "region": "us-east-1",
                        "requestId": stable_id("request", day, model, principal, i, length=32),
                        # a call through an application inference profile logs the profile's ARN as its model
                        "operation": "Converse", "modelId": PROFILE_OF.get(principal, model),
                        "identity": {"arn": _logged_identity(principal)}, "requestMetadata": metadata,
                        "input": {"inputContentType": "application/json", "inputTokenCount": parts["input"][i],
                                  "cacheReadInputTokenCount": parts["cache-read"][i] if "cache-read" in parts else 0,
                                  "cacheWriteInputTokenCount": 0},
                        "output": {"outputContentType": "application/json", "outputTokenCount": parts["output"][i]},
                    })
    return records


# The LiteLLM gateway's own spend log for the logged days (docs/genai.md): its requests priced from its price
# table, which (the planted discrepancy) prices Claude's cache reads at $0 where the bill charges 0.1x input.
GATEWAY_USD_PER_1M = {NOVA_LITE_ID: {"input": 0.06, "output": 0.24, "cache-read": 0.015},
                      CLAUDE_SONNET_45_ID: {"input": 3.0, "output": 15.0, "cache-read": 0.0}}


def litellm_spend_logs(records: list[dict]) -> list[dict]:
    """LiteLLM_SpendLogs rows (its /spend/logs JSON shape) for the gateway role's logged requests."""
    gateway = _logged_identity(_role("role/litellm-gateway"))
    rows = []
    for r in records:
        if r["identity"]["arn"] != gateway:
            continue
        model, inp, out = r["modelId"], r["input"]["inputTokenCount"], r["output"]["outputTokenCount"]
        cached = r["input"].get("cacheReadInputTokenCount", 0)
        price = GATEWAY_USD_PER_1M[model]
        spend = (inp * price["input"] + out * price["output"] + cached * price["cache-read"]) / 1e6
        rows.append({
            "request_id": "chatcmpl-" + r["requestId"], "call_type": "acompletion", "spend": round(spend, 10),
            "prompt_tokens": inp + cached, "completion_tokens": out, "total_tokens": inp + cached + out,
            "startTime": r["timestamp"], "endTime": r["timestamp"], "model": f"bedrock/{model}",
            "model_group": model.split(".")[1].split("-v")[0], "custom_llm_provider": "bedrock",
            "user": r["requestMetadata"].get("user"), "status": "success",
            "metadata": {"usage_object": {"cache_read_input_tokens": cached, "cache_creation_input_tokens": 0}},
        })
    return rows


def write_invocation_logs(records: list[dict], out_dir: Path) -> list[Path]:
    """Write ``records`` as Bedrock does to S3: gzipped JSON lines under
    ``AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/`` (one object per day here)."""
    by_day: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_day[r["timestamp"][:10]].append(r)
    written = []
    for day, day_records in sorted(by_day.items()):
        folder = out_dir / "AWSLogs" / PAYER / "BedrockModelInvocationLogs" / "us-east-1" / day.replace("-", "/") / "00"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{PAYER}_BedrockModelInvocationLogs_us-east-1_{day}T000000Z_{stable_id(day, length=16)}.json.gz"
        path = folder / name
        body = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in day_records)
        path.write_bytes(gzip.compress(body, mtime=0))
        written.append(path)
    return written


def _ai_service_rows(rows: list[dict]) -> None:
    specs = [
        (
            "comprehend-units",
            "comprehend",
            "Amazon Comprehend",
            "USE1-Comprehend-SA",
            "DetectSentiment",
            p.COMPREHEND_USD_PER_UNIT,
            "Units",
            "per unit of sentiment analysis",
            "nlp",
        ),
        (
            "textract-pages",
            "AmazonTextract",
            "Amazon Textract",
            "USE1-PagesforDocumentText",
            "DetectDocumentText",
            p.TEXTRACT_DETECT_TEXT_USD_PER_PAGE,
            "Pages",
            "per page for DetectDocumentText",
            None,
        ),
        (
            "rekognition-images",
            "AmazonRekognition",
            "Amazon Rekognition",
            "USE1-Group2-ImagesProcessed",
            "DetectLabels",
            p.REKOGNITION_GROUP2_USD_PER_IMAGE,
            "Images",
            "per image processed (Group 2 APIs)",
            "vision",
        ),
    ]
    for day in days():
        use = ai_service_usage(day)
        for key, code, name, usage_type, op, rate, unit, words, team in specs:
            rows.append(
                _daily(
                    day,
                    account=PAYER,
                    region="us-east-1",
                    product_code=code,
                    product_name=name,
                    usage_type=usage_type,
                    operation=op,
                    usage=float(use[key]),
                    rate=rate,
                    unit=unit,
                    description=f"{p.rate_text(rate)} {words} in US East (N. Virginia)",
                    tags={"user:team": team} if team else {},
                )
            )


def _ec2_rows(acct: DemoAccount, rows: list[dict]) -> None:
    ec2 = {"product_code": "AmazonEC2", "product_name": "Amazon Elastic Compute Cloud"}
    for inst in acct.instances:
        size = inst.instance_type.split(".")[1]
        od = p.EC2_USD_PER_HOUR[inst.instance_type]
        rate = od * p.EC2_SPOT_FRACTION if inst.spot else od
        kind, words = ("SpotUsage", "Linux/UNIX (Amazon VPC) Spot") if inst.spot else ("BoxUsage", "On Demand Linux")
        where = {**ec2, "account": inst.account, "region": inst.region, "tags": inst.tags}
        az = {"line_item_availability_zone": inst.az}
        for day in days():
            dim = calendar.monthrange(day.year, day.month)[1]
            row = _daily(
                day,
                **where,
                usage_type=_prefixed(inst.region, f"{kind}:{inst.instance_type}", bare_in_use1=True),
                operation="RunInstances",
                usage=24.0,
                rate=rate,
                od_rate=od,
                unit="Hrs",
                description=f"{p.rate_text(rate)} per {words} {inst.instance_type} Instance Hour",
                resource_id=inst.instance_id,
                term="Spot" if inst.spot else "OnDemand",
                family="Compute Instance",
                instance_type=inst.instance_type,
                extra={
                    **az,
                    "line_item_normalization_factor": _NORMALIZATION[size],
                    "line_item_normalized_usage_amount": 24.0 * _NORMALIZATION[size],
                },
            )
            rows.append(row)
            rows.append(
                _daily(
                    day,
                    **where,
                    usage_type=_prefixed(inst.region, "EBS:VolumeUsage.gp3", bare_in_use1=True),
                    operation="CreateVolume-Gp3",
                    usage=inst.volume_gb / dim,
                    rate=p.EBS_GP3_USD_PER_GB_MONTH,
                    unit="GB-Mo",
                    description=f"{p.rate_text(p.EBS_GP3_USD_PER_GB_MONTH)} per GB-month of General "
                    "Purpose (gp3) provisioned storage",
                    resource_id="vol-0" + inst.instance_id[3:],
                    family="Storage",
                    extra=az,
                )
            )
    web = next(i for i in acct.instances if i.instance_type == "m5.4xlarge" and i.region == "us-east-1")
    for day in days():
        rate = p.TRANSFER_INTERNET_USD_PER_GB
        rows.append(
            _daily(
                day,
                account=web.account,
                region="us-east-1",
                **ec2,
                usage_type="DataTransfer-Out-Bytes",
                operation="RunInstances",
                usage=float(_gb(day, 260)),
                rate=rate,
                unit="GB",
                description=f"{p.rate_text(rate)} per GB - first 10 TB / month data transfer out beyond "
                "the global free tier",
                resource_id=web.instance_id,
                tags=web.tags,
                servicecode="AWSDataTransfer",
                family="Data Transfer",
            )
        )


def _gb(day: date, base: float) -> float:
    return round(base * (1.0 if day.weekday() < 5 else 0.7), 3)


def _other_rows(acct: DemoAccount, rows: list[dict]) -> None:
    for account, region, name, cls in acct.rds:
        rate = 2 * p.RDS_MYSQL_USD_PER_HOUR[cls]
        for day in days():
            rows.append(
                _daily(
                    day,
                    account=account,
                    region=region,
                    product_code="AmazonRDS",
                    product_name="Amazon Relational Database Service",
                    usage_type=_prefixed(region, f"Multi-AZUsage:{cls}", bare_in_use1=True),
                    operation="CreateDBInstance:0002",
                    usage=24.0,
                    rate=rate,
                    unit="Hrs",
                    description=f"{p.rate_text(rate)} per RDS {cls} Multi-AZ instance hour (or partial "
                    "hour) running MySQL",
                    resource_id=f"arn:aws:rds:{region}:{account}:db:{name}",
                    tags={"user:team": "platform", "user:environment": "production"},
                    family="Database Instance",
                    instance_type=cls,
                )
            )
    for k, account in enumerate(sorted({a for a, *_ in acct.rds})):
        fn = f"arn:aws:lambda:us-east-1:{account}:function:order-events-{k}"
        for day in days():
            for usage_type, usage, rate, unit in (
                ("USE1-Lambda-GB-Second", _gb(day, 1.6e6), p.LAMBDA_USD_PER_GB_SECOND, "Lambda-GB-Second"),
                ("USE1-Request", _gb(day, 2.4e7), p.LAMBDA_USD_PER_REQUEST, "Requests"),
            ):
                rows.append(
                    _daily(
                        day,
                        account=account,
                        region="us-east-1",
                        product_code="AWSLambda",
                        product_name="AWS Lambda",
                        usage_type=usage_type,
                        operation="Invoke",
                        usage=usage,
                        rate=rate,
                        unit=unit,
                        family="Serverless",
                        resource_id=fn,
                        description=f"AWS Lambda - {unit} - US East (N. Virginia)",
                        tags={"user:team": "platform"},
                    )
                )


def _s3_rows(acct: DemoAccount, rows: list[dict]) -> None:
    s3 = {"product_code": "AmazonS3", "product_name": "Amazon Simple Storage Service"}
    reads = {j.start.date() for j in acct.training_jobs if j.region == "us-west-2"}
    for b in acct.buckets:
        bucket = {**s3, "account": b.account, "region": b.region, "resource_id": b.name, "tags": b.tags}
        for i, day in enumerate(days()):
            dim = calendar.monthrange(day.year, day.month)[1]
            size_gb = b.standard_gb + b.growth_gb_per_day * i
            rows.append(
                _daily(
                    day,
                    **bucket,
                    usage_type=_prefixed(b.region, "TimedStorage-ByteHrs", bare_in_use1=True),
                    operation="StandardStorage",
                    usage=size_gb / dim,
                    rate=p.S3_STANDARD_USD_PER_GB_MONTH,
                    unit="GB-Mo",
                    description=f"{p.rate_text(p.S3_STANDARD_USD_PER_GB_MONTH)} per GB - "
                    "first 50 TB / month of storage used",
                    family="Storage",
                )
            )
            if b.get_requests_per_day:
                rows.append(
                    _daily(
                        day,
                        **bucket,
                        usage_type=_prefixed(b.region, "Requests-Tier2", bare_in_use1=True),
                        operation="GetObject",
                        usage=float(round(b.get_requests_per_day)),
                        rate=p.S3_GET_USD_PER_REQUEST,
                        unit="Requests",
                        description="$0.004 per 10,000 GET and all other requests",
                        family="API Request",
                    )
                )
            if b.region == "us-east-1" and b.ai and day in reads and b.name.endswith("training-data"):
                rate = p.TRANSFER_INTER_REGION_USD_PER_GB
                rows.append(
                    _daily(
                        day,
                        **bucket,
                        usage_type="USE1-USW2-AWS-Out-Bytes",
                        operation="GetObject",
                        usage=_gb(day, 640),
                        rate=rate,
                        unit="GB",
                        description=f"{p.rate_text(rate)} per GB - US East (Northern Virginia) data "
                        "transfer to US West (Oregon)",
                        servicecode="AWSDataTransfer",
                        family="Data Transfer",
                        extra={
                            "product_from_location": "US East (N. Virginia)",
                            "product_from_location_type": "AWS Region",
                            "product_from_region_code": "us-east-1",
                            "product_to_location": "US West (Oregon)",
                            "product_to_location_type": "AWS Region",
                            "product_to_region_code": "us-west-2",
                        },
                    )
                )


def _monthly_rows(rows: list[dict]) -> None:
    """A promotional credit and a sales-tax line per month (both without a rate, as in real exports)."""
    sagemaker: dict[date, float] = defaultdict(float)
    for r in rows:
        if r["line_item_product_code"] == "AmazonSageMaker":
            sagemaker[r["bill_billing_period_start_date"].date()] += r["line_item_unblended_cost"]
    for month, total in sorted(sagemaker.items()):
        start, end = _period(month)
        rows.append(
            line(
                start,
                end,
                account=PAYER,
                region="us-east-1",
                product_code="AmazonBedrock",
                product_name="Amazon Bedrock",
                usage_type="USE1-NovaLite-input-tokens",
                operation="InvokeModelInference",
                usage=0.0,
                rate=None,
                unit=None,
                term=None,
                description="AWS Credits: Generative AI promotional credit",
                line_type="Credit",
                cost=-40.0,
            )
        )
        rows.append(
            line(
                start,
                end,
                account=PAYER,
                region=None,
                product_code="AmazonSageMaker",
                product_name="Amazon SageMaker",
                usage_type=None,
                operation=None,
                usage=0.0,
                rate=None,
                unit=None,
                term=None,
                description="Tax for product code AmazonSageMaker",
                line_type="Tax",
                cost=round(total * p.SALES_TAX_RATE, 2),
                extra={"line_item_tax_type": "USSalesTax"},
            )
        )


def cur_rows(acct: DemoAccount) -> list[dict]:
    """Every CUR 2.0 row of the demo period, in a fixed order."""
    rows: list[dict] = []
    sp_used: dict[date, float] = defaultdict(float)
    _endpoint_rows(acct, rows, sp_used)
    _savings_plan_fees(acct, rows, sp_used)
    _scheduled_rows(acct, rows)
    _training_rows(acct, rows)
    _bedrock_rows(rows)
    _ai_service_rows(rows)
    _ec2_rows(acct, rows)
    _other_rows(acct, rows)
    _s3_rows(acct, rows)
    _monthly_rows(rows)
    return rows


def write_cur(rows: list[dict], out_dir: Path, export_name: str) -> list[Path]:
    """Write one Snappy Parquet file per billing period the way Data Exports lays them out."""
    by_period: dict[datetime, list[dict]] = defaultdict(list)
    for r in rows:
        by_period[r["bill_billing_period_start_date"]].append(r)
    written = []
    for period_start, period_rows in sorted(by_period.items()):
        columns = {}
        for name, kind in zip(CUR2_SCHEMA.names, CUR2_SCHEMA.types, strict=True):
            values = [r.get(name) for r in period_rows]
            if pa.types.is_map(kind):
                values = [None if v is None else list(v.items()) for v in values]
            columns[name] = pa.array(values, type=kind)
        table = pa.Table.from_pydict(columns, schema=CUR2_SCHEMA)
        folder = out_dir / export_name / "data" / f"BILLING_PERIOD={period_start:%Y-%m}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{export_name}-00001.snappy.parquet"
        pq.write_table(table, path, compression="snappy")
        written.append(path)
    return written
