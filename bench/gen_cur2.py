"""Synthetic CUR 2.0 Parquet for the scan benchmark: many rows, the real schema, bounded memory.

``python bench/gen_cur2.py --rows 10000000 --out bench/out/cur2_10m.parquet [--seed 7] [--periods 1]
[--resources 50000] [--pool notebooks=2000 --pool gpu-ec2=500]``

Writes exactly ``aifinops.ingest.cur2_columns.CUR2_SCHEMA`` (rates are strings, ``product`` and
``resource_tags`` are MAP columns) in row groups of ``--batch-rows`` with ``pyarrow.parquet.ParquetWriter``
(snappy), so memory stays at one batch whatever ``--rows`` is. Rows are sampled from a catalogue of line
kinds (``line_catalog``): SageMaker, Bedrock first-party and Marketplace, comprehend, GPU EC2, S3,
inter-region transfer and non-AI EC2/RDS/Lambda/CloudWatch, about 30 % AI rows. Each kind with resources owns
a pool of resource ids, ``--resources`` in all (split by the kinds' row weights, at least one per kind, so
never fewer than the 108 resource kinds); ``--pool CLASS=COUNT`` sets one class's pools apart (classes in
POOL_CLASSES: notebooks, gpu-ec2, endpoints, training-jobs) and the other kinds share what is left. Each
resource belongs to one usage account and carries fixed tags. Line item types are mostly Usage, with
SavingsPlanCoveredUsage/SavingsPlanNegation on compute and some Credit and Tax.

Rows come in series: one kind, one resource, L consecutive hourly lines (wrapping round the end of the
``--periods`` months from ``--start``), L = max(1, min(hours, rows // N)) where N is how many series it takes
for every pool to get one (``make_plan``). So a file holds ``--resources`` distinct resource ids at any row
count that gives each pool a series (then N <= rows); with fewer rows, or when all of a series' lines happen to
be Credit/Tax (0.04**L), it holds fewer. Resources are short-lived when rows are few for their number (at 10M
rows, ~2,800 resources and 3 months a series is 143 hours) and whole-period when rows are many. The kinds
follow a fixed cycle that keeps their row shares whatever ``--resources`` is; a series' resource is the next
one of its kind's pool, so a pool fills before any resource gets a second series, and a resource's later
series follow its earlier one in time (they overlap only when the file has more of that kind's rows than its
pool has resource-hours).

Version 2 (GENERATOR_VERSION): version 1 gave every series all the hours of the periods and drew its resource
at random, so the ids present were at most rows / hours whatever ``--resources`` said (1,751 at 2M rows and
``--resources 100000``); the same arguments now give other rows.

Only pyarrow compute is used (no numpy): ``pc.random`` with an integer initializer is deterministic, so a
given seed and batch size always give the same file. Rates are approximate list prices from
shared/reference/data-formats-and-prices.md §3 (eu-west-1 scaled by 1.12: synthetic, not a price source).
The Marketplace product code is a made-up opaque code: the real value is not known (reference §6).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from aifinops.ingest.cur2_columns import CUR2_SCHEMA

GENERATOR_VERSION = 2  # raise when the same arguments give other rows: bench_scan.py puts it in file names
LUT_SIZE = 1 << 16  # weighted choices are table look-ups of a uniform variate; 1/65536 resolution
CYCLE_STEP = 40_503  # odd, about LUT_SIZE / 1.618: the kind cycle's stride over the LUT (see make_plan)
HOUR_MS = 3_600_000
PAYER_ACCOUNT_ID = "111122223333"
ACCOUNT_NAMES = [
    "ml-research",
    "ml-prod",
    "genai-apps",
    "data-platform",
    "web-prod",
    "web-staging",
    "analytics",
    "shared-services",
    "security",
    "sandbox-1",
    "sandbox-2",
    "finance",
]
ACCOUNTS = [(f"{400000000000 + 7919 * i:012d}", name) for i, name in enumerate(ACCOUNT_NAMES)]
REGIONS = [  # (code, usage-type prefix, location name, price factor)
    ("us-east-1", "USE1", "US East (N. Virginia)", 1.0),
    ("us-west-2", "USW2", "US West (Oregon)", 1.0),
    ("eu-west-1", "EU", "EU (Ireland)", 1.12),
]
TAG_VALUES = {
    "user:team": ["nlp", "vision", "recsys", "platform", "search", "growth"],
    "user:project": [f"proj-{i:02d}" for i in range(20)],
    "user:env": ["prod", "staging", "dev"],
}
# line item type and share of rows; SP types apply to SP-eligible kinds only (the rest stay Usage)
LINE_ITEM_TYPES = [
    ("Usage", 0.86),
    ("SavingsPlanCoveredUsage", 0.05),
    ("SavingsPlanNegation", 0.05),
    ("Credit", 0.02),
    ("Tax", 0.02),
]
GROUP_SHARES = {"ai": 0.30, "storage": 0.10, "other": 0.60}  # share of rows per LineKind.group
GPU_FAMILIES = ("g4dn", "g5", "g6", "g6e", "p3", "p4d", "p5", "inf2", "trn1")
SPOT_FACTOR = 0.35  # synthetic Spot price as a share of on-demand (reference §3b: 60-70 % off)
SP_DISCOUNT = 0.28  # synthetic Savings Plan discount on covered usage
TAX_RATE = 0.08
MARKETPLACE_PRODUCT_CODE = "b7q3kx2m9fz1cs4ve8wd0np5t"  # made up, shaped like a Marketplace code
NORMALIZATION = {
    "medium": 2.0,
    "large": 4.0,
    "xlarge": 8.0,
    "2xlarge": 16.0,
    "12xlarge": 96.0,
    "24xlarge": 192.0,
    "48xlarge": 384.0,
}

SAGEMAKER_USD_PER_HOUR = {  # us-east-1, shared/reference §3a
    "ml.t3.medium": 0.05,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.c5.xlarge": 0.204,
    "ml.g4dn.xlarge": 0.7364,
    "ml.g5.xlarge": 1.4084,
    "ml.g5.2xlarge": 1.515,
    "ml.g5.12xlarge": 7.09,
    "ml.g6.xlarge": 1.127,
    "ml.g6e.2xlarge": 2.8026,
    "ml.inf2.xlarge": 0.99,
    "ml.p4d.24xlarge": 25.2513,
    "ml.p5.48xlarge": 63.296,
}
EC2_USD_PER_HOUR = {  # us-east-1 Linux, shared/reference §3b and common CPU list prices
    "g4dn.xlarge": 0.526,
    "g5.xlarge": 1.006,
    "g5.12xlarge": 5.672,
    "g6e.xlarge": 1.861,
    "p4d.24xlarge": 21.957642,
    "p5.48xlarge": 55.04,
    "t3.medium": 0.0416,
    "m5.xlarge": 0.192,
    "m5.2xlarge": 0.384,
    "c5.2xlarge": 0.34,
}

# The catalogue, per region. Weights are relative inside their group (GROUP_SHARES fixes the groups).
# fmt: off
SM_ARN = "arn:aws:sagemaker:{region}:{acct}:"
SAGEMAKER_LINES = [  # (component, instance type, weight, resource after SM_ARN); TrSpt = managed Spot
    ("Host", "ml.g5.xlarge", 0.020, "endpoint/ep-{k}"),
    ("Host", "ml.g5.2xlarge", 0.008, "endpoint/ep-{k}"),
    ("Host", "ml.g6.xlarge", 0.008, "endpoint/ep-{k}"),
    ("Host", "ml.m5.xlarge", 0.012, "endpoint/ep-{k}"),
    ("Host", "ml.inf2.xlarge", 0.004, "endpoint/ep-{k}"),
    ("AsyncInf", "ml.g6e.2xlarge", 0.003, "endpoint/async-{k}"),
    ("Train", "ml.p4d.24xlarge", 0.006, "training-job/train-{k}"),
    ("Train", "ml.g5.12xlarge", 0.005, "training-job/train-{k}"),
    ("Train", "ml.p5.48xlarge", 0.002, "training-job/train-{k}"),
    ("TrSpt", "ml.g5.2xlarge", 0.003, "training-job/spot-{k}"),
    ("Notebk", "ml.t3.medium", 0.012, "notebook-instance/nb-{k}"),
    ("Notebk", "ml.g4dn.xlarge", 0.004, "notebook-instance/nb-{k}"),
    ("Studio", "ml.m5.large", 0.004, "app/d-studio/user-{k}/jupyterlab/default"),
    ("Tsform", "ml.c5.xlarge", 0.002, "transform-job/bt-{k}"),
    ("Processing", "ml.m5.xlarge", 0.004, "processing-job/proc-{k}"),
]
JOB_COMPONENTS = ("Train", "TrSpt", "Tsform", "Processing")  # jobs run part of an hour, the rest full hours
BEDROCK_LINES = [  # (model, usage-type suffix, USD per 1K tokens), reference §3c
    ("NovaLite", "input-tokens", 0.00006),
    ("NovaLite", "output-tokens", 0.00024),
    ("Claude3Haiku", "input-tokens", 0.00025),
    ("Claude3Haiku", "output-tokens", 0.00125),
    ("NovaPro", "input-tokens-batch", 0.0004),
    ("TitanEmbeddingV2-Text", "input-tokens", 0.00002),
]
MARKETPLACE_LINES = [  # (model, counter, USD per 1M tokens), billed by AWS Marketplace
    ("Claude Sonnet 4.5", "InputTokenCount", 3.0),
    ("Claude Sonnet 4.5", "OutputTokenCount", 15.0),
    ("Claude Sonnet 4.5", "CacheReadInputTokenCount", 0.3),
    ("Claude Haiku 4.5", "InputTokenCount", 1.0),
]
EC2_LINES = [  # (instance type, weight, spot); GPU families are AI, the rest "other"
    ("g5.xlarge", 0.008, False), ("g4dn.xlarge", 0.004, False), ("p4d.24xlarge", 0.002, False),
    ("g6e.xlarge", 0.002, False), ("g5.12xlarge", 0.002, False), ("g5.xlarge", 0.003, True),
    ("p5.48xlarge", 0.001, True),
    ("t3.medium", 0.06, False), ("m5.xlarge", 0.05, False), ("m5.2xlarge", 0.03, False),
    ("c5.2xlarge", 0.03, False),
]
# (group, weight, product code, service code, usage type ({p} region prefix with "-", {e} the same but empty
#  in us-east-1 as EC2 does, {to} the destination prefix of a transfer), operation, product family, pricing
#  unit, USD per unit, usage amount per row (lo, hi), resource id pattern, product name)
OTHER_LINES = [
    ("ai", 0.002, "AmazonSageMaker", "AmazonSageMaker", "{p}ServerlessInf:Mem-3GB", "RunInstance",
     "ML Serverless", "Second", 0.00006, (1.0, 3600.0), SM_ARN + "endpoint/sls-{k}", "Amazon SageMaker"),
    ("ai", 0.004, "comprehend", "comprehend", "{p}Comprehend-EA", "DetectEntities",
     "Machine Learning Service", "Units", 0.0001, (3.0, 50000.0), "", "Amazon Comprehend"),
    ("ai", 0.002, "comprehend", "comprehend", "{p}DetectPiiEntities", "DetectPiiEntities",
     "Machine Learning Service", "Units", 0.0001, (3.0, 50000.0), "", "Amazon Comprehend"),
    ("storage", 0.020, "AmazonS3", "AmazonS3", "{p}TimedStorage-ByteHrs", "StandardStorage",
     "Storage", "GB-Mo", 0.023, (0.01, 200.0), "ml-bucket-{acct}-{k}", "Amazon Simple Storage Service"),
    ("storage", 0.005, "AmazonS3", "AmazonS3", "{p}Requests-Tier1", "PutObject",
     "API Request", "Requests", 0.000005, (1.0, 100000.0), "ml-bucket-{acct}-{k}",
     "Amazon Simple Storage Service"),
    ("storage", 0.004, "AmazonS3", "AWSDataTransfer", "{p}{to}-AWS-Out-Bytes", "GetObject",
     "Data Transfer", "GB", 0.02, (0.01, 500.0), "ml-bucket-{acct}-{k}", "AWS Data Transfer"),
    ("storage", 0.004, "AmazonEC2", "AWSDataTransfer", "{p}DataTransfer-Out-Bytes", "RunInstances",
     "Data Transfer", "GB", 0.09, (0.01, 100.0), "i-{k:017x}", "AWS Data Transfer"),
    ("other", 0.010, "AmazonEC2", "AmazonEC2", "{e}EBS:VolumeUsage.gp3", "CreateVolume-Gp3",
     "Storage", "GB-Mo", 0.08, (0.01, 2.0), "vol-{k:017x}", "Amazon Elastic Compute Cloud"),
    ("other", 0.008, "AmazonRDS", "AmazonRDS", "{p}InstanceUsage:db.r6g.large", "CreateDBInstance:0014",
     "Database Instance", "Hrs", 0.225, (1.0, 1.0), "arn:aws:rds:{region}:{acct}:db:db-{k}", "Amazon RDS"),
    ("other", 0.006, "AWSLambda", "AWSLambda", "{p}Lambda-GB-Second", "Invoke",
     "Serverless", "Lambda-GB-Second", 0.0000166667, (1.0, 50000.0),
     "arn:aws:lambda:{region}:{acct}:function:fn-{k}", "AWS Lambda"),
    ("other", 0.004, "AmazonCloudWatch", "AmazonCloudWatch", "{p}TimedStorage-ByteHrs", "PutLogEvents",
     "Storage Snapshot", "GB-Mo", 0.03, (0.01, 5.0), "arn:aws:logs:{region}:{acct}:log-group:/app/lg-{k}",
     "AmazonCloudWatch"),
    ("other", 0.002, "AmazonCloudWatch", "AmazonCloudWatch", "{p}CW:MetricMonitorUsage", "MetricStorage",
     "Metric", "Metrics", 0.3 / 730, (1.0, 50.0), "", "AmazonCloudWatch"),
]


# --pool classes: resource kinds whose pool size can be set apart from --resources (issue 15's account has
# about 2,000 notebook instances and 1,000 GPU instances among ~2,800 resources)
POOL_CLASSES = {
    "notebooks": lambda k: k.resource.endswith("notebook-instance/nb-{k}"),
    "gpu-ec2": lambda k: k.product_code == "AmazonEC2" and k.unit == "Hrs" and k.instance_family in GPU_FAMILIES,
    "endpoints": lambda k: "endpoint/" in k.resource,
    "training-jobs": lambda k: "training-job/" in k.resource,
}


@dataclass(frozen=True)
class LineKind:
    """One kind of CUR line: a product, usage type, price and resource pool the rows are sampled from."""

    group: str  # "ai", "storage" (S3 and transfer) or "other": see GROUP_SHARES
    weight: float
    product_code: str
    servicecode: str
    usage_type: str
    operation: str
    family: str  # product_product_family
    unit: str  # pricing_unit
    usd_per_unit: float  # what the row is billed at
    amount: tuple[float, float]  # usage amount per row: lo + (hi - lo) * u**3
    region: tuple[str, str, str, float]
    description: str
    resource: str = ""  # str.format pattern with {region} {acct} {k}; "" = no resource id
    product: tuple[tuple[str, str], ...] = ()  # the product MAP column
    instance_type: str = ""
    instance_family: str = ""
    spot: bool = False
    entity: str = "AWS"
    legal_entity: str = "Amazon Web Services, Inc."
    to_region: tuple[str, str, str, float] | None = None

    @property
    def od_usd_per_unit(self) -> float:
        return self.usd_per_unit / SPOT_FACTOR if self.spot else self.usd_per_unit

    @property
    def sp_eligible(self) -> bool:
        return self.unit == "Hrs" and not self.spot and self.product_code in ("AmazonSageMaker", "AmazonEC2")


def _product(name: str, region: tuple, **extra: str) -> tuple[tuple[str, str], ...]:
    return (("product_name", name), ("servicename", name), ("region", region[0]), *extra.items())


# fmt: off
def _region_kinds(region: tuple[str, str, str, float]) -> list[LineKind]:
    code, prefix, location, factor = region
    kinds = []
    for component, itype, weight, resource in SAGEMAKER_LINES:
        spot = component == "TrSpt"
        rate = SAGEMAKER_USD_PER_HOUR[itype] * factor * (SPOT_FACTOR if spot else 1.0)
        detail = f"JupyterLab-{itype}" if component == "Studio" else itype
        kinds.append(LineKind(
            "ai", weight, "AmazonSageMaker", "AmazonSageMaker", f"{prefix}-{component}:{detail}",
            "RunInstance",
            "ML Instance", "Hrs", rate, (0.1, 1.0) if component in JOB_COMPONENTS else (1.0, 1.0), region,
            f"${rate:.4f} per {component} {itype} hour in {location}", SM_ARN + resource,
            _product("Amazon SageMaker", region, component=component), itype, itype.split(".")[1], spot))
    for itype, weight, spot in EC2_LINES:
        kind = "SpotUsage" if spot else "BoxUsage"
        rate = EC2_USD_PER_HOUR[itype] * factor * (SPOT_FACTOR if spot else 1.0)
        family = itype.split(".")[0]
        kinds.append(LineKind(
            "ai" if family in GPU_FAMILIES else "other", weight, "AmazonEC2", "AmazonEC2",
            f"{kind}:{itype}" if prefix == "USE1" else f"{prefix}-{kind}:{itype}", "RunInstances",
            "Compute Instance", "Hrs", rate, (1.0, 1.0), region,
            f"${rate:.4f} per {'Spot' if spot else 'On Demand'} Linux {itype} Instance Hour", "i-{k:017x}",
            _product("Amazon Elastic Compute Cloud", region, operating_system="Linux", tenancy="Shared"),
            itype, family, spot))
    for model, suffix, usd_per_1k in BEDROCK_LINES:
        kinds.append(LineKind(
            "ai", 0.004, "AmazonBedrock", "AmazonBedrock", f"{prefix}-{model}-{suffix}",
            "InvokeModelInference", "Amazon Bedrock", "1K tokens", usd_per_1k * factor, (1.0, 4000.0), region,
            f"Amazon Bedrock {model} {suffix} in {location}",
            product=_product("Amazon Bedrock", region, model=model)))
    for model, counter, usd_per_1m in MARKETPLACE_LINES:
        name = f"{model} (Amazon Bedrock Edition)"
        kinds.append(LineKind(
            "ai", 0.004, MARKETPLACE_PRODUCT_CODE, "AmazonBedrockFoundationModels",
            f"{prefix}-MP:{prefix}_{counter}-Units", "Usage", "Amazon Bedrock", "1M tokens",
            usd_per_1m * factor, (0.01, 20.0), region, f"{name} {counter} in {location}",
            product=_product(name, region),
            entity="AWS Marketplace", legal_entity="Anthropic, PBC"))
    for line in OTHER_LINES:
        group, weight, product_code, servicecode, usage_type, operation, family, unit, usd, amount = line[:10]
        resource, name = line[10:]
        destinations = [r for r in REGIONS if r is not region] if "{to}" in usage_type else [None]
        for to_region in destinations:
            ut = usage_type.format(p=prefix + "-", e="" if prefix == "USE1" else prefix + "-",
                                   to=to_region[1] if to_region else "")
            kinds.append(LineKind(
                group, weight, product_code, servicecode, ut, operation, family, unit, usd * factor, amount,
                region, f"${usd * factor:.6g} per {unit} for {ut} in {location}", resource,
                _product(name, region), to_region=to_region))
    return kinds
# fmt: on


def line_catalog() -> list[LineKind]:
    """Every line kind the generator samples from, for every region in REGIONS."""
    return [kind for region in REGIONS for kind in _region_kinds(region)]


def _weighted_lut(weights: list[float]) -> pa.Array:
    """A table of LUT_SIZE slots where choice i fills a share of slots proportional to weights[i]."""
    total = sum(weights)
    bounds = [round(LUT_SIZE * sum(weights[: i + 1]) / total) for i in range(len(weights))]
    slots, start = [], 0
    for i, end in enumerate(bounds):
        slots.extend([i] * (end - start))
        start = end
    return pa.array(slots, pa.int32())


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _rate_str(usd: float) -> str:
    return f"{usd:.10f}"


@dataclass
class Plan:
    """What every batch samples from: per-kind constant columns, resource pools, the hours of the periods."""

    kinds: list[LineKind]
    kind_cols: dict[str, pa.Array]
    res_first: pa.Array  # per kind: index of its first resource in the pool
    res_count: pa.Array
    res_ids: pa.Array
    res_account: pa.Array  # per resource: index into ACCOUNTS
    res_tags: pa.Array
    res_first_hour: pa.Array  # per resource: the hour its first series starts at (its later ones follow)
    cycle_kind: pa.Array  # per position in the kind cycle (CYCLE series): the kind of that series
    cycle_rank: pa.Array  # per position: how many series of the same kind came before it in the cycle
    kind_slots: pa.Array  # per kind: its series per cycle (its share of LUT_SIZE slots)
    series_hours: int  # hours (rows) per series
    first_hour_ms: int
    total_hours: int
    hour_period: pa.Array  # per hour: period index
    hour_interval: pa.Array  # per hour: identity_time_interval
    periods: list[tuple[datetime, datetime]]


def _add_months(day: datetime, months: int) -> datetime:
    year, month = divmod(day.month - 1 + months, 12)
    return day.replace(year=day.year + year, month=month + 1)


def _apportion(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, at least 1 each (largest remainders; sum = max(total, n))."""
    quotas = [total * w / sum(weights) for w in weights]
    counts = [max(1, int(q)) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - quotas[i], i))
    i = 0
    while sum(counts) < total:  # add to the largest remainders first
        counts[by_remainder[i % len(counts)]] += 1
        i += 1
    while sum(counts) > total and max(counts) > 1:  # over because of the minimums: take from the most over
        j = max((i for i in range(len(counts)) if counts[i] > 1), key=lambda i: (counts[i] - quotas[i], -i))
        counts[j] -= 1
    return counts


def pool_class(kind: LineKind) -> str | None:
    """The POOL_CLASSES name a resource kind belongs to (None: only --resources sizes its pool)."""
    for name, belongs in POOL_CLASSES.items():
        if kind.resource and belongs(kind):
            return name
    return None


def pool_sizes(kinds: list[LineKind], weights: list[float], resources: int, pools: dict[str, int]) -> list[int]:
    """Resources per kind: each ``pools`` class gets its count, the other resource kinds share the rest.

    Inside a class or the rest, counts follow the kinds' row weights with at least one resource per kind, so
    the pools hold exactly ``resources`` ids unless there are more kinds than ids to share.
    """
    unknown = sorted(set(pools) - set(POOL_CLASSES))
    if unknown:
        raise ValueError(f"unknown pool class {unknown[0]!r}; use one of {', '.join(POOL_CLASSES)}")
    counts = [0 if kind.resource else 1 for kind in kinds]
    classes = [pool_class(kind) if kind.resource else "" for kind in kinds]
    rest = resources - sum(pools.values())
    if rest < 0:
        raise ValueError(f"--resources {resources} is less than the pools' {sum(pools.values())}; raise --resources")
    for name in pools:
        members = [i for i, c in enumerate(classes) if c == name]
        if pools[name] < len(members):
            raise ValueError(f"--pool {name}={pools[name]}: at least {len(members)}, one per kind of that class")
        for i, n in zip(members, _apportion(pools[name], [weights[i] for i in members]), strict=True):
            counts[i] = n
    others = [i for i, c in enumerate(classes) if c != "" and c not in pools]
    for i, n in zip(others, _apportion(rest, [weights[i] for i in others]), strict=True):
        counts[i] = n
    return counts


def make_plan(
    resources: int,
    periods: int,
    start: datetime,
    rows: int = 0,
    seed: int = 7,
    pools: dict[str, int] | None = None,
) -> Plan:
    """The pools, the kind cycle and the series length for a file of ``rows`` rows (see the module docstring)."""
    kinds = line_catalog()
    group_weight = {g: sum(k.weight for k in kinds if k.group == g) for g in GROUP_SHARES}
    weights = [k.weight / group_weight[k.group] * GROUP_SHARES[k.group] for k in kinds]
    counts = pool_sizes(kinds, weights, resources, pools or {})
    bounds = [(_add_months(start, i), _add_months(start, i + 1)) for i in range(periods)]
    hour_period, hour_interval = [], []
    for p, (begin, end) in enumerate(bounds):
        hour = begin
        while hour < end:
            nxt = hour + timedelta(hours=1)
            hour_period.append(p)
            hour_interval.append(f"{hour:%Y-%m-%dT%H:%M:%SZ}/{nxt:%Y-%m-%dT%H:%M:%SZ}")
            hour = nxt
    total_hours = len(hour_period)

    res_first, res_count, res_ids, res_account, res_tags, res_first_hour = [], [], [], [], [], []
    for kind, count in zip(kinds, counts, strict=True):
        res_first.append(len(res_ids))
        res_count.append(count)
        for _ in range(count):
            k = len(res_ids)
            h = _stable_int(f"resource-{k}")
            acct = h % len(ACCOUNTS)
            res_account.append(acct)
            res_ids.append(kind.resource.format(region=kind.region[0], acct=ACCOUNTS[acct][0], k=k))
            tags = []
            if h % 10 < 7:  # 70 % of resources carry cost-allocation tags
                for j, (key, values) in enumerate(TAG_VALUES.items()):
                    if j == 0 or (h >> (8 * j)) % 3:
                        tags.append((key, values[(h >> (8 * j + 4)) % len(values)]))
            res_tags.append(tags)
            res_first_hour.append(_stable_int(f"start-{seed}-{k}") % total_hours)

    # The kind cycle: series s has the kind of LUT slot (s * CYCLE_STEP + offset) mod LUT_SIZE. CYCLE_STEP is odd
    # (a bijection on the slots) and near LUT_SIZE / golden ratio, so every prefix of the cycle holds each kind in
    # proportion to its weight, give or take a series or two, and its n-th series is known without counting.
    lut = _weighted_lut(weights).to_pylist()
    offset = _stable_int(f"cycle-{seed}") % LUT_SIZE
    cycle_kind, cycle_rank, seen = [], [], [0] * len(kinds)
    positions: list[list[int]] = [[] for _ in kinds]
    for j in range(LUT_SIZE):
        kind = lut[(j * CYCLE_STEP + offset) % LUT_SIZE]
        cycle_kind.append(kind)
        cycle_rank.append(seen[kind])
        positions[kind].append(j)
        seen[kind] += 1
    missing = [kinds[i].usage_type for i, n in enumerate(seen) if n == 0]
    assert not missing, f"kinds with no slot in the LUT: {missing}"
    # Series needed for every resource to get one: the position of each resource kind's count-th series.
    needed = max(
        (count - 1) // seen[i] * LUT_SIZE + positions[i][(count - 1) % seen[i]] + 1
        for i, (kind, count) in enumerate(zip(kinds, counts, strict=True))
        if kind.resource
    )
    series_hours = max(1, min(total_hours, rows // needed))

    def col(values, typ=None):
        return pa.array(values, typ or pa.string())

    skus = [f"{_stable_int(k.usage_type + k.region[0] + k.operation):016X}"[:16] for k in kinds]
    norm = [NORMALIZATION.get(k.instance_type.rsplit(".", 1)[-1]) if k.instance_type else None for k in kinds]
    kind_cols = {
        "bill_billing_entity": col([k.entity for k in kinds]),
        "line_item_availability_zone": col(
            [k.region[0] + "a" if k.product_code == "AmazonEC2" and k.unit == "Hrs" else "" for k in kinds]
        ),
        "line_item_legal_entity": col([k.legal_entity for k in kinds]),
        "line_item_line_item_description": col([k.description for k in kinds]),
        "line_item_normalization_factor": col(norm, pa.float64()),
        "line_item_operation": col([k.operation for k in kinds]),
        "line_item_product_code": col([k.product_code for k in kinds]),
        "line_item_unblended_rate": col([_rate_str(k.usd_per_unit) for k in kinds]),
        "line_item_usage_type": col([k.usage_type for k in kinds]),
        "pricing_public_on_demand_rate": col([_rate_str(k.od_usd_per_unit) for k in kinds]),
        "pricing_rate_code": col([f"{s}.JRTCKXETXF.6YS6EN2CT7" for s in skus]),
        "pricing_rate_id": col([str(_stable_int(s) % 10**10) for s in skus]),
        "pricing_term": col(["Spot" if k.spot else "OnDemand" for k in kinds]),
        "pricing_unit": col([k.unit for k in kinds]),
        "product": pa.array([list(k.product) for k in kinds], CUR2_SCHEMA.field("product").type),
        "product_from_location": col([k.region[2] if k.to_region else None for k in kinds]),
        "product_from_location_type": col(["AWS Region" if k.to_region else None for k in kinds]),
        "product_from_region_code": col([k.region[0] if k.to_region else None for k in kinds]),
        "product_instance_family": col([k.instance_family or None for k in kinds]),
        "product_instance_type": col([k.instance_type or None for k in kinds]),
        "product_location": col([k.region[2] for k in kinds]),
        "product_location_type": col(["AWS Region" for _ in kinds]),
        "product_operation": col([k.operation for k in kinds]),
        "product_pricing_unit": col([k.unit for k in kinds]),
        "product_product_family": col([k.family for k in kinds]),
        "product_region_code": col([k.region[0] for k in kinds]),
        "product_servicecode": col([k.servicecode for k in kinds]),
        "product_sku": col(skus),
        "product_to_location": col([k.to_region[2] if k.to_region else None for k in kinds]),
        "product_to_location_type": col(["AWS Region" if k.to_region else None for k in kinds]),
        "product_to_region_code": col([k.to_region[0] if k.to_region else None for k in kinds]),
        "product_usagetype": col([k.usage_type for k in kinds]),
        # per-kind numbers for the money columns; rates as written to the file, so cost = usage x rate
        "_usd_per_unit": col([float(_rate_str(k.usd_per_unit)) for k in kinds], pa.float64()),
        "_od_usd_per_unit": col([float(_rate_str(k.od_usd_per_unit)) for k in kinds], pa.float64()),
        "_amount_lo": col([k.amount[0] for k in kinds], pa.float64()),
        "_amount_span": col([k.amount[1] - k.amount[0] for k in kinds], pa.float64()),
        "_sp_eligible": col([k.sp_eligible for k in kinds], pa.bool_()),
    }
    return Plan(
        kinds,
        kind_cols,
        pa.array(res_first, pa.int64()),
        pa.array(res_count, pa.int64()),
        pa.array(res_ids, pa.string()),
        pa.array(res_account, pa.int32()),
        pa.array(res_tags, CUR2_SCHEMA.field("resource_tags").type),
        pa.array(res_first_hour, pa.int64()),
        pa.array(cycle_kind, pa.int64()),
        pa.array(cycle_rank, pa.int64()),
        pa.array(seen, pa.int64()),
        series_hours,
        int(start.timestamp() * 1000),
        total_hours,
        pa.array(hour_period, pa.int32()),
        pa.array(hour_interval, pa.string()),
        bounds,
    )


def _pick(u: pa.Array, n) -> pa.Array:
    """Uniform [0, 1) variates to integers in [0, n) (n a scalar or an array)."""
    scale = pc.cast(n, pa.float64()) if isinstance(n, pa.Array) else float(n)
    return pc.cast(pc.floor(pc.multiply(u, scale)), pa.int64())


def _mod(x: pa.Array, n) -> pa.Array:
    """x mod n for non-negative integers (n a scalar or an array): pyarrow compute has no modulo."""
    return pc.subtract(x, pc.multiply(pc.divide(x, n), n))


def make_batch(plan: Plan, rows: int, seed: int, batch_index: int, first_row: int) -> pa.Table:
    """One batch of ``rows`` CUR 2.0 rows; the same (plan, seed, batch_index) always gives the same rows."""
    u = pc.random(rows * 2, initializer=seed * 1_000_003 + batch_index)
    u_type, u_amount = u.slice(0, rows), u.slice(rows, rows)
    # Row i is hour i mod L of series i // L (L = plan.series_hours): one kind, one resource, L hourly lines.
    # The series' kind comes from the kind cycle; its resource is the next one of that kind's pool (so the pool
    # fills up before any resource gets a second series), and a resource's later series follow its earlier
    # ones in time. None of it depends on the batch boundaries.
    idx = pa.array(range(first_row, first_row + rows), pa.int64())
    series = pc.divide(idx, plan.series_hours)
    offset = pc.subtract(idx, pc.multiply(series, plan.series_hours))
    cycle_pos = _mod(series, LUT_SIZE)
    kind = pc.take(plan.cycle_kind, cycle_pos)
    nth = pc.add(  # how many series of this kind came before this one
        pc.multiply(pc.divide(series, LUT_SIZE), pc.take(plan.kind_slots, kind)), pc.take(plan.cycle_rank, cycle_pos)
    )
    count = pc.take(plan.res_count, kind)
    res = pc.add(pc.take(plan.res_first, kind), _mod(nth, count))
    start_hour = pc.add(pc.take(plan.res_first_hour, res), pc.multiply(pc.divide(nth, count), plan.series_hours))
    hour = _mod(pc.add(start_hour, offset), plan.total_hours)
    kc = plan.kind_cols
    lit = pc.take(_LIT_LUT, _pick(u_type, LUT_SIZE))
    lit = pc.if_else(pc.or_(pc.greater_equal(lit, 3), pc.take(kc["_sp_eligible"], kind)), lit, 0)
    is_sp_covered, is_tax = pc.equal(lit, 1), pc.equal(lit, 4)
    is_period_line = pc.greater_equal(lit, 3)  # Credit and Tax cover the whole period, no resource

    period = pc.take(plan.hour_period, hour)
    period_start_ms = pa.array([int(b.timestamp() * 1000) for b, _ in plan.periods], pa.int64())
    period_end_ms = pa.array([int(e.timestamp() * 1000) for _, e in plan.periods], pa.int64())
    bp_start = pc.take(period_start_ms, period)
    bp_end = pc.take(period_end_ms, period)
    hour_start = pc.add(pc.multiply(hour, HOUR_MS), plan.first_hour_ms)
    usage_start = pc.if_else(is_period_line, bp_start, hour_start)
    usage_end = pc.if_else(is_period_line, bp_end, pc.add(hour_start, HOUR_MS))
    period_interval = pa.array([f"{b:%Y-%m-%dT%H:%M:%SZ}/{e:%Y-%m-%dT%H:%M:%SZ}" for b, e in plan.periods])

    def ts(ms: pa.Array) -> pa.Array:
        return pc.cast(ms, pa.int64()).view(pa.timestamp("ms"))

    cube = pc.multiply(pc.multiply(u_amount, u_amount), u_amount)  # skewed towards small amounts
    amount = pc.add(pc.take(kc["_amount_lo"], kind), pc.multiply(pc.take(kc["_amount_span"], kind), cube))
    rate = pc.take(kc["_usd_per_unit"], kind)
    gross_usd = pc.multiply(amount, rate)
    cost_usd = pc.multiply(gross_usd, pc.take(_LIT_COST_FACTOR, lit))
    usage_amount = pc.multiply(amount, pc.take(_LIT_USAGE_FACTOR, lit))
    list_cost_usd = pc.multiply(
        pc.multiply(amount, pc.take(kc["_od_usd_per_unit"], kind)), pc.take(_LIT_USAGE_FACTOR, lit)
    )
    norm = pc.take(kc["line_item_normalization_factor"], kind)
    account = pc.take(plan.res_account, res)
    null_f = pa.nulls(rows, pa.float64())

    cols: dict[str, pa.Array] = {
        name: pc.take(values, kind)
        for name, values in kc.items()
        if not name.startswith("_") and name != "line_item_normalization_factor"
    }
    cols["line_item_line_item_description"] = pc.if_else(
        pc.greater_equal(lit, 2), pc.take(_LIT_DESCRIPTION, lit), cols["line_item_line_item_description"]
    )
    cols["line_item_usage_type"] = pc.if_else(is_tax, "", cols["line_item_usage_type"])
    cols["line_item_operation"] = pc.if_else(is_tax, "", cols["line_item_operation"])
    cols.update(
        {
            "bill_bill_type": pa.repeat("Anniversary", rows),
            "bill_billing_period_start_date": ts(bp_start),
            "bill_billing_period_end_date": ts(bp_end),
            "bill_invoice_id": pc.take(
                pa.array([f"EUINUS{b:%y%m}-{_stable_int(str(b)) % 10**6:06d}" for b, _ in plan.periods]),
                period,
            ),
            "bill_invoicing_entity": pa.repeat("Amazon Web Services, Inc.", rows),
            "bill_payer_account_id": pa.repeat(PAYER_ACCOUNT_ID, rows),
            "bill_payer_account_name": pa.repeat("acme-payer", rows),
            "cost_category": pa.repeat(pa.scalar([], CUR2_SCHEMA.field("cost_category").type), rows),
            "discount": pa.repeat(pa.scalar([], CUR2_SCHEMA.field("discount").type), rows),
            "identity_line_item_id": pc.cast(
                pc.add(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), rows)), first_row), pa.string()
            ),
            "identity_time_interval": pc.if_else(
                is_period_line, pc.take(period_interval, period), pc.take(plan.hour_interval, hour)
            ),
            "line_item_blended_cost": cost_usd,
            "line_item_blended_rate": cols["line_item_unblended_rate"],
            "line_item_currency_code": pa.repeat("USD", rows),
            "line_item_line_item_type": pc.take(_LIT_NAMES, lit),
            "line_item_net_unblended_cost": cost_usd,
            "line_item_net_unblended_rate": cols["line_item_unblended_rate"],
            "line_item_normalization_factor": norm,
            "line_item_normalized_usage_amount": pc.multiply(usage_amount, norm),
            "line_item_resource_id": pc.if_else(is_period_line, "", pc.take(plan.res_ids, res)),
            "line_item_tax_type": pc.if_else(is_tax, "VAT", pa.nulls(rows, pa.string())),
            "line_item_unblended_cost": cost_usd,
            "line_item_usage_account_id": pc.take(pa.array([a for a, _ in ACCOUNTS]), account),
            "line_item_usage_account_name": pc.take(pa.array([n for _, n in ACCOUNTS]), account),
            "line_item_usage_amount": usage_amount,
            "line_item_usage_start_date": ts(usage_start),
            "line_item_usage_end_date": ts(usage_end),
            "pricing_currency": pa.repeat("USD", rows),
            "pricing_public_on_demand_cost": list_cost_usd,
            "resource_tags": pc.take(plan.res_tags, res),
            "savings_plan_savings_plan_a_r_n": pc.if_else(
                pc.or_(is_sp_covered, pc.equal(lit, 2)),
                f"arn:aws:savingsplans::{PAYER_ACCOUNT_ID}:savingsplan/0f3c1c9e-sp-synthetic",
                pa.nulls(rows, pa.string()),
            ),
            "savings_plan_savings_plan_effective_cost": pc.if_else(
                is_sp_covered, pc.multiply(gross_usd, 1.0 - SP_DISCOUNT), null_f
            ),
            "savings_plan_savings_plan_rate": pc.if_else(
                is_sp_covered, pc.multiply(rate, 1.0 - SP_DISCOUNT), null_f
            ),
        }
    )
    unknown = set(cols) - set(CUR2_SCHEMA.names)
    assert not unknown, f"columns not in CUR2_SCHEMA: {unknown}"
    arrays = [cols[f.name].cast(f.type) if f.name in cols else pa.nulls(rows, f.type) for f in CUR2_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=CUR2_SCHEMA)


_LIT_NAMES = pa.array([name for name, _ in LINE_ITEM_TYPES])
_LIT_LUT = _weighted_lut([share for _, share in LINE_ITEM_TYPES])
_LIT_COST_FACTOR = pa.array([1.0, 1.0, -1.0, -1.0, TAX_RATE])  # Usage, SPCovered, SPNegation, Credit, Tax
_LIT_USAGE_FACTOR = pa.array([1.0, 1.0, 0.0, 0.0, 0.0])
_LIT_DESCRIPTION = pa.array(
    ["", "", "Savings Plan negation of covered on-demand usage", "AWS Credit", "Tax for the billing period"]
)


def generate(
    rows: int,
    out: Path,
    seed: int = 7,
    periods: int = 1,
    resources: int = 50_000,
    batch_rows: int = 250_000,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    pools: dict[str, int] | None = None,
) -> int:
    """Write ``rows`` synthetic CUR 2.0 rows to ``out`` (Parquet, snappy), one row group per batch.

    Returns the file size in bytes. The file is written beside ``out`` and renamed into place at the end.
    """
    plan = make_plan(resources, periods, start, rows, seed, pools)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with pq.ParquetWriter(partial, CUR2_SCHEMA, compression="snappy") as writer:
        for batch_index, first_row in enumerate(range(0, rows, batch_rows)):
            n = min(batch_rows, rows - first_row)
            writer.write_table(make_batch(plan, n, seed, batch_index, first_row), row_group_size=n)
    os.replace(partial, out)
    return out.stat().st_size


def parse_pool(text: str) -> tuple[str, int]:
    """``CLASS=COUNT`` of ``--pool`` (argparse type): the class must be one of POOL_CLASSES."""
    name, _, count = text.partition("=")
    if name not in POOL_CLASSES or not count.isdigit():
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected CLASS=COUNT with CLASS one of {', '.join(POOL_CLASSES)}, e.g. notebooks=2000"
        )
    return name, int(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--periods", type=int, default=1, help="billing months, from --start")
    parser.add_argument("--start", default="2026-01", help="first billing month, YYYY-MM")
    parser.add_argument("--resources", type=int, default=50_000, help="distinct resource ids, all pools together")
    parser.add_argument("--pool", type=parse_pool, action="append", default=[], metavar="CLASS=COUNT",
                        help=f"resources of one class ({', '.join(POOL_CLASSES)}) out of --resources; repeatable")
    parser.add_argument("--batch-rows", type=int, default=250_000, help="rows per batch and row group")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.periods < 1 or args.batch_rows < 1 or args.resources < 1:
        parser.error("--rows, --periods, --batch-rows and --resources must be positive")
    start = datetime.strptime(args.start, "%Y-%m").replace(tzinfo=UTC)
    t0 = time.perf_counter()
    try:
        size = generate(args.rows, args.out, args.seed, args.periods, args.resources, args.batch_rows, start,
                        dict(args.pool))
    except ValueError as exc:
        parser.error(str(exc))
    elapsed_s = time.perf_counter() - t0
    print(f"wrote {args.rows:,} rows to {args.out} ({size / 2**20:,.1f} MiB) in {elapsed_s:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
