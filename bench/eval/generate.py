"""A seeded whole account with known waste: CUR 2.0 export, moto-server state, CloudWatch metrics, Bedrock logs.

``generate(seed, out_dir, session)`` writes the export under ``out_dir/cur/data/BILLING_PERIOD=…/`` and seeds the
moto server the boto3 ``session`` points at, then returns the ``Truth`` list: for every waste it injected, the
lever (the check ids that name it), the resource, and the monthly saving computed here from the generator's own
parameters (``basis`` says how), plus the clean look-alikes that must not be flagged with dollars.

The account ends yesterday (the last billed day) and its metrics end at the current hour, as a live account
does. Count metrics (Invocations, token counts) have datapoints only in hours where something was counted.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from aifinops.ingest.cur2_columns import CUR2_SCHEMA

from . import facts as F

ACCOUNT = "123456789012"  # moto's account
REGIONS = ("us-east-1", "us-west-2")
PREFIX = {"us-east-1": "USE1", "us-west-2": "USW2"}
BILLED_DAYS = 30
GAP_SHARE = 0.03
STORAGE_DAYS = 45  # buckets are older than the window: the export holds their earlier storage days too
METRIC_HOURS = 14 * 24
MARKETPLACE_PRODUCT_CODE = "eval7mq2kx9bz1fs4ve8wd0np"  # made up: the real Marketplace code is not public
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole"
GOOD_TAGS = {"team": "ml", "environment": "prod", "model": "m1", "workload-type": "inference"}


@dataclass
class Truth:
    """One injected waste (``savings > 0``) or a clean look-alike (``clean``: no dollar claim expected)."""

    kind: str
    checks: tuple[str, ...]  # the check ids that name this lever
    ids: tuple[str, ...]  # ARN, name, instance id, bucket; '…/' = a prefix; '~x' = x inside (letters and digits)
    region: str
    monthly_savings_usd: float
    basis: str
    clean: bool = False


@dataclass
class Account:
    seed: int
    now: datetime
    cur_dir: Path
    regions: tuple[str, ...]
    truths: list[Truth] = field(default_factory=list)
    datapoints: int = 0
    log_records: int = 0


def generate(seed: int, out_dir: Path, session: Any, scale: int = 1, regions: tuple[str, ...] = REGIONS,
             now: datetime | None = None) -> Account:
    """``scale`` resources of each kind per region; ``regions`` a subset of ``REGIONS`` (smaller accounts)."""
    gen = _Generator(seed, out_dir, session, scale, now or datetime.now(UTC), regions)
    gen.build()
    return gen.account


def _arn(region: str, kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT}:{kind}/{name}"


class _Generator:
    def __init__(self, seed: int, out_dir: Path, session: Any, scale: int, now: datetime, regions: tuple[str, ...]):
        self.rng = random.Random(seed)
        self.session = session
        self.scale = max(1, scale)
        self.top = now.replace(minute=0, second=0, microsecond=0)
        self.last_day = (self.top - timedelta(days=1)).date()
        self.days = [self.last_day - timedelta(days=d) for d in range(BILLED_DAYS - 1, -1, -1)]
        self.hours = [self.top - timedelta(hours=METRIC_HOURS - i) for i in range(METRIC_HOURS)]
        self.account = Account(seed, now, out_dir / "cur", regions)
        self.rows: list[dict] = []
        self.steady_usd_per_h = 0.0  # SageMaker on-demand $/h still running around the clock after every fix
        self.n = 0

    # --- plumbing ------------------------------------------------------------------------------------------

    def _name(self, stem: str) -> str:
        self.n += 1
        return f"{stem}-{self.rng.randrange(16**4):04x}{self.n}"

    def client(self, service: str, region: str) -> Any:
        return self.session.client(service, region_name=region)

    def truth(self, kind: str, checks: tuple[str, ...], ids: tuple[str, ...], region: str, usd: float,
              basis: str) -> None:
        self.account.truths.append(Truth(kind, checks, ids, region, round(usd, 4), basis))

    def clean(self, kind: str, ids: tuple[str, ...], region: str, why: str) -> None:
        self.account.truths.append(Truth(kind, (), ids, region, 0.0, why, clean=True))

    def row(self, day: date, region: str, product_code: str, usage_type: str, amount: float, rate: float, *,
            resource: str = "", unit: str = "Hrs", tags: dict | None = None, product: dict | None = None,
            entity: str = "AWS", term: str = "OnDemand", instance_type: str = "", operation: str = "",
            servicecode: str = "") -> None:
        start = datetime(day.year, day.month, 1)
        end = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1)
        cost = amount * rate
        self.rows.append({
            "bill_billing_entity": entity, "bill_payer_account_id": ACCOUNT, "bill_bill_type": "Anniversary",
            "bill_billing_period_start_date": start, "bill_billing_period_end_date": end,
            "line_item_usage_account_id": ACCOUNT, "line_item_line_item_type": "Usage",
            "line_item_currency_code": "USD", "line_item_product_code": product_code,
            "line_item_usage_type": usage_type, "line_item_operation": operation,
            "line_item_usage_start_date": datetime(day.year, day.month, day.day),
            "line_item_usage_end_date": datetime(day.year, day.month, day.day) + timedelta(days=1),
            "line_item_usage_amount": amount, "line_item_unblended_rate": f"{rate:.10g}",
            "line_item_unblended_cost": cost, "line_item_net_unblended_cost": cost,
            "line_item_blended_cost": cost, "line_item_blended_rate": f"{rate:.10g}",
            "pricing_public_on_demand_cost": cost, "pricing_public_on_demand_rate": f"{rate:.10g}",
            "line_item_resource_id": resource, "pricing_term": term, "pricing_unit": unit,
            "product_pricing_unit": unit, "product_region_code": region, "product_instance_type": instance_type or None,
            "product_servicecode": servicecode or product_code, "product_usagetype": usage_type,
            "line_item_line_item_description": f"{usage_type} in {region}",
            "resource_tags": [(f"user_{k.replace('-', '_')}", v) for k, v in (tags or {}).items()],
            "product": list((product or {}).items()),
        })  # fmt: skip

    def put(self, region: str, namespace: str, metric: str, dims: dict, values: list[float | None],
            unit: str = "None") -> None:
        """Hourly datapoints over the metric window; None = no datapoint that hour.

        Utilization series lose ``GAP_SHARE`` of their hours at random (CloudWatch has collection gaps),
        never their busiest hour: the truth is sized on it, and a check cannot see a peak that was not sent."""
        if unit == "Percent" and any(v is not None for v in values):
            top = max(range(len(values)), key=lambda i: -1.0 if values[i] is None else float(values[i] or 0))
            values = [None if i != top and self.rng.random() < GAP_SHARE else v for i, v in enumerate(values)]
        data = [{"MetricName": metric, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                 "Timestamp": ts, "Value": v, "Unit": unit}
                for ts, v in zip(self.hours, values, strict=True) if v is not None]
        cw = self.client("cloudwatch", region)
        for i in range(0, len(data), 500):
            cw.put_metric_data(Namespace=namespace, MetricData=data[i : i + 500])
        self.account.datapoints += len(data)

    def diurnal(self, low: float, peak: float) -> list[float]:
        """A daily cycle from ``low`` (night) to ``peak`` in one hour of the last billed week, a little lower elsewhere.

        The peak falls on or before the last billed day: the checks read metrics up to the day the bill ends."""
        week = self.last_day - timedelta(days=6)
        billed = [i for i, ts in enumerate(self.hours) if week <= ts.date() <= self.last_day]
        peak_hour = self.rng.choice(billed)
        out = []
        for i, ts in enumerate(self.hours):
            shape = 0.5 - 0.5 * math.cos((ts.hour - 2) / 24 * 2 * math.pi)
            v = low + (peak - low) * shape * self.rng.uniform(0.8, 0.95)
            out.append(peak if i == peak_hour else v)
        return out

    # --- SageMaker endpoints -----------------------------------------------------------------------------

    def endpoint(self, stem: str, itype: str, count: int, region: str, *, invocations: list[float | None] | None,
                 cpu_per_vcpu: list[float], mem_pct: list[float], gpu_per_gpu: list[float] | None = None,
                 gpu_mem_pct: list[float] | None = None, latency_ms: float | None = None, image: str | None = None,
                 autoscale: bool = False, tags: dict | None = None) -> tuple[str, str]:
        name = self._name(stem)
        sm = self.client("sagemaker", region)
        image = image or f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{name}:1"
        sm.create_model(ModelName=f"{name}-model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": image})
        sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": f"{name}-model", "InitialInstanceCount": count,
             "InstanceType": itype}])
        tag_list = [{"Key": k, "Value": v} for k, v in (tags if tags is not None else GOOD_TAGS).items()]
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config",
                           **({"Tags": tag_list} if tag_list else {}))
        if autoscale:
            aas = self.client("application-autoscaling", region)
            rid = f"endpoint/{name}/variant/AllTraffic"
            dim = "sagemaker:variant:DesiredInstanceCount"
            aas.register_scalable_target(ServiceNamespace="sagemaker", ResourceId=rid, ScalableDimension=dim,
                                         MinCapacity=2, MaxCapacity=count + 2)
            aas.put_scaling_policy(
                PolicyName="invocations", ServiceNamespace="sagemaker", ResourceId=rid, ScalableDimension=dim,
                PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": 1000.0,
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
        dims = {"EndpointName": name, "VariantName": "AllTraffic"}
        vcpus, _, gpus, _, _ = F.spec(itype)
        if invocations is not None:
            self.put(region, "AWS/SageMaker", "Invocations", dims, invocations)
            self.put(region, "AWS/SageMaker", "InvocationsPerInstance", dims,
                     [None if v is None else v / count for v in invocations])
            if latency_ms is not None:
                self.put(region, "AWS/SageMaker", "ModelLatency", dims,
                         [None if not v else latency_ms * 1000 * self.rng.uniform(0.9, 1.1) for v in invocations],
                         "Microseconds")
        self.put(region, "/aws/sagemaker/Endpoints", "CPUUtilization", dims, [v * vcpus for v in cpu_per_vcpu],
                 "Percent")
        self.put(region, "/aws/sagemaker/Endpoints", "MemoryUtilization", dims, mem_pct, "Percent")
        if gpus and gpu_per_gpu is not None:
            self.put(region, "/aws/sagemaker/Endpoints", "GPUUtilization", dims, [v * gpus for v in gpu_per_gpu],
                     "Percent")
            self.put(region, "/aws/sagemaker/Endpoints", "GPUMemoryUtilization", dims,
                     [v * gpus for v in (gpu_mem_pct or gpu_per_gpu)], "Percent")
        arn = _arn(region, "endpoint", name)
        rate = F.sm_rate(itype)
        for day in self.days:
            self.row(day, region, "AmazonSageMaker", f"{PREFIX[region]}-Host:{itype}", 24.0 * count, rate,
                     resource=arn, tags=tags if tags is not None else GOOD_TAGS, instance_type=itype,
                     operation="RunInstance", product={"product_name": "Amazon SageMaker", "region": region})
        return name, arn

    def ab_endpoint(self, region: str) -> None:
        """Variant A (2 x ml.m5.xlarge) serves every request; variant B (1 x ml.m5.xlarge) none for 14 days."""
        name = self._name("abtest")
        sm = self.client("sagemaker", region)
        itype = "ml.m5.xlarge"
        variants = {"A": 2, "B": 1}
        for v in variants:
            sm.create_model(ModelName=f"{name}-{v}", ExecutionRoleArn=ROLE,
                            PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{name}-{v}:1"})
        sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[
            {"VariantName": v, "ModelName": f"{name}-{v}", "InitialInstanceCount": n, "InstanceType": itype,
             "InitialVariantWeight": 1.0 if v == "A" else 0.0} for v, n in variants.items()])
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config",
                           Tags=[{"Key": k, "Value": v} for k, v in GOOD_TAGS.items()])
        for v, n in variants.items():
            dims = {"EndpointName": name, "VariantName": v}
            inv = self.traffic((3000, 6000)) if v == "A" else [0.0] * len(self.hours)
            self.put(region, "AWS/SageMaker", "Invocations", dims, inv)
            self.put(region, "AWS/SageMaker", "InvocationsPerInstance", dims, [x / n if x else x for x in inv])
            cpu = self.diurnal(20, self.rng.uniform(62, 75)) if v == "A" else self.flat(0.2, 1.0)
            self.put(region, "/aws/sagemaker/Endpoints", "CPUUtilization", dims, [c * 4 for c in cpu], "Percent")
            self.put(region, "/aws/sagemaker/Endpoints", "MemoryUtilization", dims, self.flat(30, 40), "Percent")
        arn = _arn(region, "endpoint", name)
        for day in self.days:
            self.row(day, region, "AmazonSageMaker", f"{PREFIX[region]}-Host:{itype}", 24.0 * 3, F.sm_rate(itype),
                     resource=arn, tags=GOOD_TAGS, instance_type=itype, operation="RunInstance",
                     product={"product_name": "Amazon SageMaker", "region": region})
        self.steady_usd_per_h += 2 * F.sm_rate(itype)
        self.truth("idle variant", ("sagemaker-idle-endpoint",), (arn, name, f"{arn}/"), region,
                   F.sm_rate(itype) * F.HOURS_PER_MONTH, "variant B: 1 x ml.m5.xlarge, zero requests in 14 days")

    def traffic(self, per_hour: tuple[float, float], active_share: float = 1.0) -> list[float | None]:
        return [round(self.rng.uniform(*per_hour)) if self.rng.random() < active_share else None for _ in self.hours]

    def flat(self, lo: float, hi: float) -> list[float]:
        return [self.rng.uniform(lo, hi) for _ in self.hours]

    def endpoints(self, region: str) -> None:
        rng = self.rng
        # idle: no requests; half publish no Invocations datapoint at all (instance metrics prove collection works)
        for _ in range(self.scale):
            itype = rng.choice(["ml.m5.xlarge", "ml.c5.xlarge", "ml.g4dn.xlarge"])
            count = rng.choice([1, 2])
            silent = rng.random() < 0.5
            gpu = F.spec(itype)[2] > 0
            name, arn = self.endpoint("idle", itype, count, region,
                                      invocations=None if silent else [0.0] * len(self.hours),
                                      cpu_per_vcpu=self.flat(0.2, 1.0), mem_pct=self.flat(10, 12),
                                      gpu_per_gpu=self.flat(0, 0.5) if gpu else None)
            self.truth("idle endpoint", ("sagemaker-idle-endpoint",), (arn, name), region,
                       F.sm_rate(itype) * count * F.HOURS_PER_MONTH,
                       f"{count} x {itype} ${F.sm_rate(itype)}/h x 730 h, no request in 14 days"
                       + (" (no Invocations datapoint, CPU/memory reported hourly)" if silent else ""))
        # over-provisioned: many instances, busiest hour 31-38% CPU per vCPU, no autoscaling
        for _ in range(self.scale):
            itype = rng.choice(["ml.m5.xlarge", "ml.c5.2xlarge"])
            count = rng.randint(4, 6)
            peak = rng.uniform(31, 38)
            name, arn = self.endpoint("overprov", itype, count, region, invocations=self.traffic((3000, 6000)),
                                      cpu_per_vcpu=self.diurnal(peak / 4, peak), mem_pct=self.flat(20, 30))
            needed = max(F.MIN_INSTANCES, math.ceil(count * peak / 100 / F.TARGET_UTIL))
            self.steady_usd_per_h += needed * F.sm_rate(itype)
            self.truth("over-provisioned endpoint", ("sagemaker-overprovisioned-endpoint",), (arn, name), region,
                       (count - needed) * F.sm_rate(itype) * F.HOURS_PER_MONTH,
                       f"{count} -> {needed} x {itype}: peak {peak:.1f}% per vCPU x {count} / 60% target, min 2")
        # clean look-alike: used for nine days, quiet for the last five (not idle over the 14-day look-back)
        for _ in range(self.scale):
            cut = len(self.hours) - 5 * 24
            inv = [float(rng.randint(500, 1500)) if i < cut else None for i in range(len(self.hours))]
            name, arn = self.endpoint("paused", "ml.m5.xlarge", 1, region, invocations=inv,
                                      cpu_per_vcpu=[rng.uniform(20, 45) if i < cut else 0.5 for i in range(len(inv))],
                                      mem_pct=self.flat(30, 40))
            self.steady_usd_per_h += F.sm_rate("ml.m5.xlarge")
            self.clean("recently used endpoint", (arn, name), region, "requests until five days ago")
        # clean look-alikes: autoscaled multi-instance endpoint, busy multi-instance endpoint
        for _ in range(self.scale):
            itype = "ml.m5.xlarge"
            name, arn = self.endpoint("autoscaled", itype, 4, region, invocations=self.traffic((3000, 6000)),
                                      cpu_per_vcpu=self.diurnal(8, 25), mem_pct=self.flat(20, 30), autoscale=True)
            self.steady_usd_per_h += 4 * F.sm_rate(itype)
            self.clean("autoscaled endpoint", (arn, name), region, "autoscaling manages its count")
            name, arn = self.endpoint("busy", itype, 3, region, invocations=self.traffic((8000, 12000)),
                                      cpu_per_vcpu=self.diurnal(30, rng.uniform(62, 80)), mem_pct=self.flat(40, 60))
            self.steady_usd_per_h += 3 * F.sm_rate(itype)
            self.clean("busy endpoint", (arn, name), region, "peak CPU above 60% per vCPU")
        # consolidation: single-instance CPU endpoints of one image, each well under one request a minute
        members = rng.randint(3, 5) + (self.scale - 1) * 2
        image = f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/sklearn-mme:1"
        loads = []
        names = []
        for _ in range(members):
            peak = rng.uniform(2, 8)
            mem = rng.uniform(8, 18)
            name, arn = self.endpoint("tiny", "ml.m5.large", 1, region, invocations=self.traffic((10, 50)),
                                      cpu_per_vcpu=self.diurnal(peak / 3, peak), mem_pct=self.flat(mem * 0.8, mem),
                                      image=image, latency_ms=rng.uniform(20, 60))
            loads.append((peak / 100 * 2, mem / 100 * 8))  # (vCPUs busy at peak, GiB)
            names.append(name)
        plan_usd, plan = _pack(loads)
        before = members * F.sm_rate("ml.m5.large")
        self.steady_usd_per_h += plan_usd
        self.truth("consolidation", ("sagemaker-endpoint-consolidation",),
                   (f"consolidation:{ACCOUNT}/{region}/m5/", *names), region,
                   (before - plan_usd) * F.HOURS_PER_MONTH,
                   f"{members} x ml.m5.large -> {plan} (first-fit by memory at 80% fill, 60% CPU, 8 models)")
        # serverless fit: CPU endpoint with traffic in a minority of hours
        for _ in range(self.scale):
            itype = "ml.c5.xlarge"
            share = rng.uniform(0.15, 0.35)
            inv = self.traffic((2, 30), share)
            latency = rng.uniform(80, 400)
            mem = rng.uniform(10, 25)
            name, arn = self.endpoint("sporadic", itype, 1, region, invocations=inv, cpu_per_vcpu=self.flat(0.5, 3),
                                      mem_pct=self.flat(mem * 0.7, mem), latency_ms=latency)
            peak_gb = mem / 100 * F.spec(itype)[1] * 1.25
            size = next(s for s in F.SERVERLESS_SIZES_GB if s >= peak_gb)
            per_month = sum(v or 0 for v in inv) * F.HOURS_PER_MONTH / len(self.hours)
            serverless = per_month * latency / 1000 * size * F.SERVERLESS_USD_PER_GB_S
            current = F.sm_rate(itype) * F.HOURS_PER_MONTH
            self.truth("serverless fit", ("sagemaker-serverless-fit",), (arn, name), region, current - serverless,
                       f"${current:.2f} - {per_month:.0f} req x {latency:.0f} ms x {size} GB x $0.00002/GB-s")
        # real-time endpoint for a nightly batch: all traffic in 2-3 consecutive hours
        for _ in range(self.scale):
            itype = rng.choice(["ml.m5.xlarge", "ml.c5.2xlarge"])
            start, width = rng.randint(0, 5), rng.randint(2, 3)
            weekdays = rng.random() < 0.5  # half the batches run Monday to Friday only
            inv = [float(rng.randint(4000, 8000)) if start <= ts.hour < start + width
                   and (ts.weekday() < 5 or not weekdays) else None for ts in self.hours]
            name, arn = self.endpoint("nightly", itype, 1, region, invocations=inv,
                                      cpu_per_vcpu=[50.0 if v else 1.0 for v in inv], mem_pct=self.flat(30, 40),
                                      latency_ms=rng.uniform(30, 90))
            runs = F.HOURS_PER_MONTH / 24 * (5 / 7 if weekdays else 1)
            batch = (width + F.BATCH_START_OVERHEAD_H) * runs * F.sm_rate(itype)
            self.truth("real-time endpoint for batch", ("sagemaker-realtime-for-batch",), (arn, name), region,
                       F.sm_rate(itype) * F.HOURS_PER_MONTH - batch,
                       f"730 h - ({width} h + 0.25 h start) x {runs:.1f} runs a month of {itype}")
        # an A/B endpoint whose second variant gets no traffic
        for _ in range(self.scale):
            self.ab_endpoint(region)
        # over-provisioned GPU endpoint: four T4s, the busiest hour at 25-35% per GPU
        for _ in range(self.scale):
            itype, count, peak = "ml.g4dn.xlarge", 4, rng.uniform(25, 35)
            name, arn = self.endpoint("gpufleet", itype, count, region, invocations=self.traffic((2000, 4000)),
                                      cpu_per_vcpu=self.flat(5, 10), mem_pct=self.flat(20, 30),
                                      gpu_per_gpu=self.diurnal(peak / 4, peak), gpu_mem_pct=self.flat(40, 50))
            needed = max(F.MIN_INSTANCES, math.ceil(count * peak / 100 / F.TARGET_UTIL))
            self.steady_usd_per_h += needed * F.sm_rate(itype)
            self.truth("over-provisioned endpoint", ("sagemaker-overprovisioned-endpoint",), (arn, name), region,
                       (count - needed) * F.sm_rate(itype) * F.HOURS_PER_MONTH,
                       f"{count} -> {needed} x {itype}: GPU peak {peak:.1f}% per GPU x {count} / 60% target, min 2")
        # GPU rightsizing: a 4-GPU endpoint whose busiest hour uses 10.5-15% per GPU
        for _ in range(self.scale):
            itype = "ml.g4dn.12xlarge"  # moto's endpoint configs know no g5/g6 types
            peak = rng.uniform(10.5, 15)
            gmem = rng.uniform(15, 20)
            hmem = rng.uniform(3, 5)
            name, arn = self.endpoint("bigvision", itype, 1, region, invocations=self.traffic((300, 900)),
                                      cpu_per_vcpu=self.flat(2, 5), mem_pct=self.flat(hmem * 0.8, hmem),
                                      gpu_per_gpu=self.diurnal(peak / 3, peak), gpu_mem_pct=self.flat(gmem * 0.9, gmem))
            target, why = _gpu_target(itype, peak, gmem, hmem)
            self.steady_usd_per_h += F.sm_rate(target)
            self.truth("GPU rightsizing", ("sagemaker-gpu-rightsizing",), (arn, name), region,
                       (F.sm_rate(itype) - F.sm_rate(target)) * F.HOURS_PER_MONTH, f"{itype} -> {target}: {why}")
        # previous generation: a busy ml.p3.2xlarge (V100) endpoint; ml.g5.2xlarge does the same work for less
        itype, new = "ml.p3.2xlarge", "ml.g5.2xlarge"
        name, arn = self.endpoint("v100", itype, 1, region, invocations=self.traffic((2000, 4000)),
                                  cpu_per_vcpu=self.flat(20, 40), mem_pct=self.flat(30, 40),
                                  gpu_per_gpu=self.diurnal(40, rng.uniform(60, 80)), gpu_mem_pct=self.flat(40, 60))
        self.steady_usd_per_h += F.sm_rate(new)
        self.truth("previous-generation accelerator", ("previous-gen-accelerators",), (arn, name), region,
                   (F.sm_rate(itype) - F.sm_rate(new)) * F.HOURS_PER_MONTH,
                   "same count on ml.g5.2xlarge (A10G 125 = V100 125 FP16 TFLOPS, 24 GB >= 16 GB)")

    # --- notebooks and training ----------------------------------------------------------------------------

    def notebooks(self, region: str) -> None:
        sm = self.client("sagemaker", region)
        for _ in range(self.scale):
            itype = self.rng.choice(["ml.m5.xlarge", "ml.c5.xlarge", "ml.t3.medium"])
            name = self._name("research-nb")
            sm.create_notebook_instance(NotebookInstanceName=name, InstanceType=itype, RoleArn=ROLE)
            arn = _arn(region, "notebook-instance", name)
            for day in self.days:
                self.row(day, region, "AmazonSageMaker", f"{PREFIX[region]}-Notebk:{itype}", 24.0, F.sm_rate(itype),
                         resource=arn, tags={"team": "research"}, instance_type=itype, operation="RunInstance")
            need = self.rng.uniform(*F.WORKING_HOURS_NEEDED_RANGE)
            self.truth("notebook always on", ("sagemaker-notebook-always-on", "sagemaker-notebook-no-autostop"),
                       (arn, name), region, F.sm_rate(itype) * F.HOURS_PER_MONTH * (1 - need / 168),
                       f"{itype} 24x7, its owner works {need:.0f} h a week in it")
            # on all week, stopped at weekends only: 120 of 168 hours
            itype = self.rng.choice(["ml.m5.xlarge", "ml.c5.xlarge"])
            name = self._name("weekday-nb")
            sm.create_notebook_instance(NotebookInstanceName=name, InstanceType=itype, RoleArn=ROLE)
            arn = _arn(region, "notebook-instance", name)
            for day in self.days:
                if day.weekday() < 5:
                    self.row(day, region, "AmazonSageMaker", f"{PREFIX[region]}-Notebk:{itype}", 24.0,
                             F.sm_rate(itype), resource=arn, tags={"team": "research"}, instance_type=itype,
                             operation="RunInstance")
            need = self.rng.uniform(*F.WORKING_HOURS_NEEDED_RANGE)
            self.truth("notebook on all week", ("sagemaker-notebook-always-on", "sagemaker-notebook-no-autostop"),
                       (arn, name), region, F.sm_rate(itype) * F.HOURS_PER_MONTH * (120 - need) / 168,
                       f"{itype} 24 h on weekdays, off at weekends; its owner works {need:.0f} h a week in it")
            # clean: stopped every night and at weekends by a lifecycle configuration
            name = self._name("scheduled-nb")
            sm.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=f"{name}-stop",
                                                         OnStart=[{"Content": "aWRsZS1zdG9w"}])
            sm.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.m5.xlarge", RoleArn=ROLE,
                                        LifecycleConfigName=f"{name}-stop")
            arn = _arn(region, "notebook-instance", name)
            for day in self.days:
                if day.weekday() < 5:
                    self.row(day, region, "AmazonSageMaker", f"{PREFIX[region]}-Notebk:ml.m5.xlarge", 9.0,
                             F.sm_rate("ml.m5.xlarge"), resource=arn, tags={"team": "research"},
                             instance_type="ml.m5.xlarge", operation="RunInstance")
            self.clean("scheduled notebook", (arn, name), region, "9 h on weekdays, auto-stop configured")

    def training(self, region: str) -> None:
        sm = self.client("sagemaker", region)
        for i in range(self.scale * 2):
            itype = self.rng.choice(["ml.g5.2xlarge", "ml.g5.12xlarge"])
            spot = i % 2 == 1
            name = self._name("spot-train" if spot else "train")
            sm.create_training_job(
                TrainingJobName=name, RoleArn=ROLE,
                AlgorithmSpecification={"TrainingImage": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/train:1",
                                        "TrainingInputMode": "File"},
                OutputDataConfig={"S3OutputPath": "s3://eval-models/out/"},
                ResourceConfig={"InstanceType": itype, "InstanceCount": 1, "VolumeSizeInGB": 50},
                StoppingCondition={"MaxRuntimeInSeconds": 86400 * 3,
                                   **({"MaxWaitTimeInSeconds": 86400 * 4} if spot else {})},
                EnableManagedSpotTraining=spot, CheckpointConfig={"S3Uri": f"s3://eval-models/ckpt/{name}/"})
            arn = _arn(region, "training-job", name)
            first = self.rng.randint(3, 20)
            run_days = self.rng.randint(2, 4)
            hours = 0.0
            for d in range(run_days):
                day = self.last_day - timedelta(days=first - d)
                h = self.rng.uniform(8, 24)
                hours += h
                comp = "TrSpt" if spot else "Train"
                rate = F.sm_rate(itype) * (1 - F.SPOT_DISCOUNT if spot else 1)
                self.row(day, region, "AmazonSageMaker", f"{PREFIX[region]}-{comp}:{itype}", h, rate, resource=arn,
                         tags=GOOD_TAGS | {"workload-type": "training"}, instance_type=itype, operation="RunInstance",
                         term="Spot" if spot else "OnDemand")
            self.put(region, "/aws/sagemaker/TrainingJobs", "GPUUtilization", {"Host": f"{name}/algo-1"},
                     [None] * (len(self.hours) - 24) + self.flat(75, 90)[:24], "Percent")
            if spot:
                self.clean("spot training", (arn, name), region, "already on managed Spot with checkpoints")
            else:
                monthly = hours * F.sm_rate(itype) * F.HOURS_PER_MONTH / (BILLED_DAYS * 24)
                self.truth("training on demand", ("sagemaker-training-on-demand",), (arn, name), region,
                           monthly * F.SPOT_DISCOUNT,
                           f"{hours:.0f} h of {itype} in 30 days, checkpointed (all of it can move) x 70% Spot")

    # --- EC2 GPU ----------------------------------------------------------------------------------------------

    def ec2(self, region: str) -> None:
        ec2 = self.client("ec2", region)
        ut_prefix = "" if region == "us-east-1" else f"{PREFIX[region]}-"

        def instance(itype: str, util: list[float], stem: str) -> str:
            iid = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType=itype,
                                    TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                        {"Key": "Name", "Value": self._name(stem)}]}])["Instances"][0]["InstanceId"]
            gpus, gpu_name = F.spec(itype)[2], F.spec(itype)[4]
            for g in range(gpus):
                self.put(region, "CWAgent", "nvidia_smi_utilization_gpu",
                         {"InstanceId": iid, "InstanceType": itype, "index": str(g), "name": f"NVIDIA {gpu_name}"},
                         [max(0.0, v + self.rng.uniform(-1, 1)) for v in util], "Percent")
            for day in self.days:
                self.row(day, region, "AmazonEC2", f"{ut_prefix}BoxUsage:{itype}", 24.0, F.EC2_USD_PER_H[itype],
                         resource=iid, tags={"team": "cv", "workload-type": "training"}, instance_type=itype,
                         operation="RunInstances", product={"product_name": "Amazon Elastic Compute Cloud"})
            return iid

        for _ in range(self.scale):
            itype = self.rng.choice(["g5.xlarge", "g5.2xlarge"])
            iid = instance(itype, self.flat(0.5, 3), "gpu-idle")
            self.truth("GPU EC2 idle", ("gpu-ec2-idle",), (iid,), region, F.EC2_USD_PER_H[itype] * F.HOURS_PER_MONTH,
                       f"{itype} 24x7, mean GPU under 3%: stop it")
            mean = self.rng.uniform(8, 12)
            iid = instance("g5.12xlarge", self.flat(mean - 2, mean + 2), "gpu-low")
            need = 4 * mean / 100 * F.GPU_TFLOPS["A10G"] / F.TARGET_GPU_UTIL
            target = min((t for t in ("g4dn.xlarge", "g5.xlarge", "g6.xlarge")
                          if F.GPU_TFLOPS[F.spec(t)[4]] >= need), key=lambda t: F.EC2_USD_PER_H[t])
            self.truth("GPU EC2 oversized", ("gpu-ec2-idle",), (iid,), region,
                       (F.EC2_USD_PER_H["g5.12xlarge"] - F.EC2_USD_PER_H[target]) * F.HOURS_PER_MONTH,
                       f"g5.12xlarge at {mean:.0f}% of 4 A10G = {need:.0f} TFLOPS at 70% -> {target}")
            iid = instance("g5.xlarge", self.flat(55, 85), "gpu-busy")
            self.clean("busy GPU EC2", (iid,), region, "GPU 55-85% busy")
            iid = instance("p3.2xlarge", self.flat(55, 85), "v100-busy")
            self.truth("previous-generation accelerator", ("previous-gen-accelerators",), (iid,), region,
                       (F.EC2_USD_PER_H["p3.2xlarge"] - F.EC2_USD_PER_H["g5.2xlarge"]) * F.HOURS_PER_MONTH,
                       "same count on g5.2xlarge (A10G = V100 FP16 TFLOPS), cheaper per hour")
            iid = instance("g4dn.xlarge", self.flat(60, 85), "t4-busy")
            self.clean("busy single g4dn", (iid,), region,
                       "g6.xlarge costs more per hour; one busy instance cannot shrink: advice, $0")

    # --- S3 and transfer --------------------------------------------------------------------------------------

    def buckets(self, region: str) -> None:
        s3 = self.client("s3", region)
        cfg = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        cw = self.client("cloudwatch", region)
        ut_prefix = "" if region == "us-east-1" else f"{PREFIX[region]}-"  # S3 and EC2 in us-east-1: no prefix
        for kind in ("nolifecycle", "lifecycle"):
            name = self._name(f"eval-{kind}-{region}")
            s3.create_bucket(Bucket=name, **cfg)
            tags = {"team": "ml", "workload-type": "training"}
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
            if kind == "lifecycle":
                s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
                    {"ID": "tier", "Status": "Enabled", "Filter": {"Prefix": ""},
                     "Transitions": [{"Days": 30, "StorageClass": "INTELLIGENT_TIERING"}]}]})
            base_gb = self.rng.uniform(20_000, 80_000)
            growth = self.rng.uniform(100, 600)  # GB written a day; read only in their first 30 days

            def size_gb(days_ago: int, base_gb: float = base_gb, growth: float = growth) -> float:
                return base_gb - growth * days_ago

            day0 = self.top.replace(hour=0)
            cw.put_metric_data(Namespace="AWS/S3", MetricData=[
                {"MetricName": "BucketSizeBytes", "Timestamp": day0 - timedelta(days=d),
                 "Value": size_gb(d) * 2**30, "Unit": "Bytes",
                 "Dimensions": [{"Name": "BucketName", "Value": name},
                                {"Name": "StorageType", "Value": "StandardStorage"}]}
                for d in range(0, 36)])
            self.account.datapoints += 36
            for day in [self.last_day - timedelta(days=d) for d in range(STORAGE_DAYS - 1, -1, -1)]:
                ago = (self.top.date() - day).days
                mdays = (date(day.year + (day.month == 12), day.month % 12 + 1, 1) - date(day.year, day.month, 1)).days
                self.row(day, region, "AmazonS3", f"{ut_prefix}TimedStorage-ByteHrs", size_gb(ago) / mdays,
                         F.S3_STANDARD_USD_PER_GB_MONTH, resource=name, unit="GB-Mo", tags=tags,
                         operation="StandardStorage", product={"product_name": "Amazon Simple Storage Service"})
            if kind == "lifecycle":
                self.clean("bucket with lifecycle", (name,), region, "transitions after 30 days")
            else:
                old = size_gb(30)
                self.truth("S3 lifecycle", ("s3-ai-data-no-lifecycle",), (name,), region,
                           old * (F.S3_STANDARD_USD_PER_GB_MONTH - F.S3_IT_INFREQUENT_USD_PER_GB_MONTH),
                           f"{old:.0f} GB older than 30 days, never read again, to Intelligent-Tiering IA")
        if region == "us-east-1":
            name = self._name("eval-features")
            s3.create_bucket(Bucket=name)
            gb = self.rng.uniform(300, 1500)
            tags = {"team": "ml", "workload-type": "training"}
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
            for day in self.days:
                self.row(day, region, "AmazonS3", "USE1-USW2-AWS-Out-Bytes", gb * self.rng.uniform(0.9, 1.1),
                         F.INTER_REGION_USD_PER_GB, resource=name, unit="GB", tags=tags,
                         operation="GetObject", product={"product_name": "Amazon Simple Storage Service"})
            window_usd = sum(r["line_item_unblended_cost"] for r in self.rows if r["line_item_resource_id"] == name
                             and r["line_item_usage_type"].endswith("AWS-Out-Bytes"))
            monthly = window_usd * F.HOURS_PER_MONTH / (BILLED_DAYS * 24)
            self.truth("cross-region transfer", ("cross-region-ai-transfer",), (name,), region, monthly,
                       "training in us-west-2 reads this us-east-1 bucket daily; co-located, all of it goes")

    # --- Bedrock ------------------------------------------------------------------------------------------------

    def bedrock(self) -> None:
        region = "us-east-1"
        logs = self._name("eval-bedrock-logs")
        s3 = self.client("s3", region)
        s3.create_bucket(Bucket=logs)
        self.client("bedrock", region).put_model_invocation_logging_configuration(loggingConfig={
            "s3Config": {"bucketName": logs, "keyPrefix": "invocations"}, "textDataDeliveryEnabled": True,
            "imageDataDeliveryEnabled": False, "embeddingDataDeliveryEnabled": False})
        records: list[dict] = []
        start = datetime(self.days[0].year, self.days[0].month, self.days[0].day, tzinfo=UTC)
        end = start + timedelta(days=BILLED_DAYS)
        rng = self.rng
        # 1. Nova Pro: a service role sends steady traffic around the clock; people add a little on weekdays
        service_role = f"arn:aws:sts::{ACCOUNT}:assumed-role/doc-enricher/worker"
        nova = "amazon.nova-pro-v1:0"
        per_hour = rng.randint(8, 14)
        human_share = rng.uniform(0.05, 0.2)
        batch_usd = 0.0
        t = start
        while t < end:
            for _ in range(per_hour):
                ts = t + timedelta(seconds=rng.uniform(0, 3600))
                i_tok, o_tok = rng.randint(15000, 25000), rng.randint(2000, 4000)
                doc = f"Document {rng.getrandbits(64):016x}: " + "d" * 200
                records.append(_record(ts, nova, service_role, i_tok, o_tok, doc, {"app": "enrich"}))
                batch_usd += (i_tok * F.NOVA_PRO[0] + o_tok * F.NOVA_PRO[1]) / 1e6
            if t.weekday() < 5 and 9 <= t.hour < 18:
                for _ in range(round(per_hour * 24 * human_share / 9)):
                    ts = t + timedelta(seconds=rng.uniform(0, 3600))
                    user = f"arn:aws:sts::{ACCOUNT}:assumed-role/analyst/user{rng.randint(1, 5)}"
                    records.append(_record(ts, nova, user, rng.randint(15000, 25000), rng.randint(2000, 4000),
                                           f"{rng.getrandbits(64):016x} Question: " + "q" * 200, {"app": "chat"}))
            t += timedelta(hours=1)
        self.truth("Bedrock batch", ("bedrock-batch-candidate",), ("~novapro", nova), region,
                   batch_usd * F.BATCH_DISCOUNT * F.HOURS_PER_MONTH / (BILLED_DAYS * 24),
                   "the service role's 24x7 requests (from the invocation logs) at the 50% batch price")
        # 2. Claude Sonnet 4.5: an assistant with a long shared system prompt, office hours
        sonnet = "anthropic.claude-sonnet-4-5-20250929-v1:0"
        prefix_tok = rng.randint(4000, 8000)
        prefix_text = "You are the support assistant of Example Corp. " + "p" * (prefix_tok * 4)
        rate = rng.uniform(8, 25)  # requests an hour in office hours
        save_usd = 0.0
        last: datetime | None = None
        t = start
        while t < end:
            if t.weekday() < 5 and 8 <= t.hour < 18:
                stamps = sorted(t + timedelta(seconds=rng.uniform(0, 3600)) for _ in range(_poisson(rng, rate)))
                for ts in stamps:
                    q, o = rng.randint(150, 400), rng.randint(550, 900)
                    records.append(_record(ts, sonnet, f"arn:aws:sts::{ACCOUNT}:assumed-role/support/agent",
                                           prefix_tok + q, o, prefix_text + " Q: " + "u" * (q * 4), {"app": "support"}))
                    hit = last is not None and (ts - last).total_seconds() <= F.CACHE_TTL_S
                    mult = F.CLAUDE_CACHE_READ if hit else F.CLAUDE_CACHE_WRITE
                    save_usd += prefix_tok * (1 - mult) * F.SONNET_45[0] / 1e6
                    last = ts
            t += timedelta(hours=1)
        self.truth("Bedrock prompt caching", ("bedrock-prompt-caching",), ("~claudesonnet45", sonnet), region,
                   save_usd * F.HOURS_PER_MONTH / (BILLED_DAYS * 24),
                   f"{prefix_tok}-token shared system prompt: reads at 0.1x, writes at 1.25x after a >5 min gap")
        self._bedrock_bill_and_metrics(records, region)
        self._write_logs(records, logs, region)

    def _bedrock_bill_and_metrics(self, records: list[dict], region: str) -> None:
        by_day: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
        by_hour: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0, 0])
        for r in records:
            ts = datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00"))
            by_day[(r["modelId"], ts.date())][0] += r["input"]["inputTokenCount"]
            by_day[(r["modelId"], ts.date())][1] += r["output"]["outputTokenCount"]
            h = by_hour[(r["modelId"], ts.replace(minute=0, second=0, microsecond=0))]
            h[0] += 1
            h[1] += r["input"]["inputTokenCount"]
            h[2] += r["output"]["outputTokenCount"]
        for (model, day), (i_tok, o_tok) in sorted(by_day.items()):
            if day > self.last_day:
                continue
            if model.startswith("amazon.nova-pro"):
                for kind, tok, price in (("input", i_tok, F.NOVA_PRO[0]), ("output", o_tok, F.NOVA_PRO[1])):
                    self.row(day, region, "AmazonBedrock", f"USE1-NovaPro-{kind}-tokens", tok / 1000, price / 1000,
                             unit="1K tokens", operation="InvokeModelInference",
                             product={"product_name": "Amazon Bedrock", "model": "Nova Pro"})
            else:
                name = "Claude Sonnet 4.5 (Amazon Bedrock Edition)"
                for counter, tok, price in (("InputTokenCount", i_tok, F.SONNET_45[0]),
                                            ("OutputTokenCount", o_tok, F.SONNET_45[1])):
                    self.row(day, region, MARKETPLACE_PRODUCT_CODE, f"USE1-MP:USE1_{counter}-Units", tok / 1e6, price,
                             unit="1M tokens", entity="AWS Marketplace", operation="Usage",
                             servicecode="AmazonBedrockFoundationModels",
                             product={"product_name": name, "servicename": name, "region": region})
        for model in sorted({m for m, _ in by_hour}):
            for idx, metric in enumerate(("Invocations", "InputTokenCount", "OutputTokenCount")):
                values: list[float | None] = []
                for ts in self.hours:
                    got = by_hour.get((model, ts))
                    values.append(float(got[idx]) if got else None)
                self.put(region, "AWS/Bedrock", metric, {"ModelId": model}, values)

    def _write_logs(self, records: list[dict], bucket: str, region: str) -> None:
        s3 = self.client("s3", region)
        by_hour: dict[str, list[dict]] = defaultdict(list)
        for r in records:
            ts = r["timestamp"]
            by_hour[f"{ts[0:4]}/{ts[5:7]}/{ts[8:10]}/{ts[11:13]}"].append(r)
        for hour, recs in sorted(by_hour.items()):
            body = io.BytesIO()
            with gzip.GzipFile(fileobj=body, mode="wb", mtime=0) as gz:
                for r in sorted(recs, key=lambda r: r["timestamp"]):
                    gz.write((json.dumps(r) + "\n").encode())
            key = (f"invocations/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{region}/{hour}/"
                   f"{hour.replace('/', '')}_{hashlib.sha256(hour.encode()).hexdigest()[:12]}.json.gz")
            s3.put_object(Bucket=bucket, Key=key, Body=body.getvalue())
        self.account.log_records += len(records)

    # --- the whole account --------------------------------------------------------------------------------------

    def build(self) -> None:
        for region in self.account.regions:
            self.endpoints(region)
            self.notebooks(region)
            self.training(region)
            self.ec2(region)
            self.buckets(region)
        self.bedrock()
        self.truth("savings plan", ("sagemaker-savings-plan",), (ACCOUNT,), "global",
                   self.steady_usd_per_h * F.SAVINGS_PLAN_DISCOUNT * F.HOURS_PER_MONTH,
                   f"${self.steady_usd_per_h:.2f}/h of SageMaker left running 24x7 after the fixes x 20% plan rate")
        self._write_cur()

    def _write_cur(self) -> None:
        by_period: dict[str, list[dict]] = defaultdict(list)
        for r in self.rows:
            by_period[r["bill_billing_period_start_date"].strftime("%Y-%m")].append(r)
        for period, rows in sorted(by_period.items()):
            columns = {name: [r.get(name) for r in rows] for name in CUR2_SCHEMA.names}
            for name in ("cost_category", "tags"):
                columns[name] = [[] for _ in rows]
            table = pa.table(columns, schema=CUR2_SCHEMA)
            path = self.account.cur_dir / "data" / f"BILLING_PERIOD={period}" / "part-00000.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path)


def _record(ts: datetime, model: str, identity: str, input_tokens: int, output_tokens: int, prompt: str,
            metadata: dict) -> dict:
    """One ModelInvocationLog record (Converse), the shape Bedrock delivers to S3."""
    return {
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
        "timestamp": ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "accountId": ACCOUNT,
        "identity": {"arn": identity}, "region": "us-east-1",
        "requestId": str(uuid.UUID(int=random.Random(f"{ts.isoformat()}{identity}{input_tokens}").getrandbits(128))),
        "operation": "Converse", "modelId": model,
        "input": {"inputContentType": "application/json",
                  "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": prompt}]}],
                                    "inferenceConfig": {"maxTokens": 1024}},
                  "inputTokenCount": input_tokens, "cacheReadInputTokenCount": 0, "cacheWriteInputTokenCount": 0},
        "output": {"outputContentType": "application/json",
                   "outputBodyJson": {"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
                                      "stopReason": "end_turn",
                                      "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens,
                                                "totalTokens": input_tokens + output_tokens}},
                   "outputTokenCount": output_tokens},
        "requestMetadata": metadata,
    }  # fmt: skip


def _poisson(rng: random.Random, mean: float) -> int:
    n, t = 0, rng.expovariate(1.0)
    while t < mean:
        n += 1
        t += rng.expovariate(1.0)
    return n


def _pack(loads: list[tuple[float, float]]) -> tuple[float, str]:
    """Cheapest multi-model plan over ml.m5 sizes: first-fit decreasing by memory, 80% memory, 60% CPU, 8 models."""
    best: tuple[float, str] | None = None
    for itype in ("ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge"):
        vcpus, mem = F.spec(itype)[:2]
        bins: list[list[float]] = []  # [cpu, mem, models]
        for cpu, gib in sorted(loads, key=lambda x: -x[1]):
            for b in bins:
                if b[0] + cpu <= vcpus * F.TARGET_UTIL and b[1] + gib <= mem * 0.8 and b[2] < 8:
                    b[0], b[1], b[2] = b[0] + cpu, b[1] + gib, b[2] + 1
                    break
            else:
                bins.append([cpu, gib, 1])
        usd = len(bins) * F.sm_rate(itype)
        if best is None or usd < best[0] - 1e-9:
            best = (usd, f"{len(bins)} x {itype}")
    assert best is not None
    return best


def _gpu_target(itype: str, peak_pct: float, gpu_mem_pct: float, host_mem_pct: float) -> tuple[str, str]:
    """Cheapest one-GPU type with the throughput for the peak at 70% and memory x 1.2 (GPU and host)."""
    _, host_gib, gpus, gpu_gib, model = F.spec(itype)
    need_tflops = gpus * peak_pct / 100 * F.GPU_TFLOPS[model] / F.TARGET_GPU_UTIL
    need_gpu_gib = gpus * gpu_gib * gpu_mem_pct / 100 * F.MEMORY_HEADROOM
    need_host_gib = host_gib * host_mem_pct / 100 * F.MEMORY_HEADROOM
    fits = [t for t in ("ml.g4dn.xlarge", "ml.g5.xlarge", "ml.g6.xlarge")
            if F.GPU_TFLOPS[F.spec(t)[4]] >= need_tflops and F.spec(t)[3] >= need_gpu_gib
            and F.spec(t)[1] >= need_host_gib]
    target = min(fits, key=F.sm_rate)
    return target, f"{need_tflops:.0f} TFLOPS at 70%, {need_gpu_gib:.1f} GiB GPU, {need_host_gib:.1f} GiB host"
