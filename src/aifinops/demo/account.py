"""The demo company: every resource of the synthetic AI account, built once from a fixed seed.

Billing (``billing.py``), inventory (``inventory.py``) and metrics (``metrics.py``) all read this one
description, so the three always agree: an endpoint billed 24 h a day is InService in the inventory
and reports CloudWatch datapoints (unless it is the one meant to report none).

The situations of the "AI Workloads Cost Optimization Guide" (the AWS cost optimization Kiro power,
vpullela-powers/aws-cost-optimization, ``steering/services/ai-workloads-cost-optimization.md``) are laid
out on purpose:
on-demand GPU training near $25k/month, 50+ low-traffic endpoints near $12k/month (``my-model-endpoint``
among them; some idle, some over-provisioned, one with no datapoints, one with nightly bursts, one
deleted mid-period), always-on notebooks and a Studio GPU app, Bedrock chat traffic (Nova Lite and
Claude via Marketplace), a p4d.24xlarge running 24/7 at low utilization, training data in S3 Standard
with no lifecycle, cross-region reads, untagged AI resources, a Savings Plan, and a training spike on
2024-11-14.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from aifinops.demo.prices import SAGEMAKER_SPOT_BILLABLE_FRACTION

SEED = 20241130
PAYER = "111122223333"
LINKED = "444455556666"
ACCOUNT_NAMES = {PAYER: "acme-ai-payer", LINKED: "acme-ai-ml-prod"}
REGIONS = {"us-east-1": ("USE1", "US East (N. Virginia)"), "us-west-2": ("USW2", "US West (Oregon)")}
PERIOD_START = date(2024, 9, 1)
PERIOD_END = date(2024, 12, 1)  # exclusive
SNAPSHOT_AT = datetime(2024, 11, 30, 23, 30, tzinfo=UTC)
ANOMALY_DAY = date(2024, 11, 14)
STUDIO_DOMAIN = "d-7xq2k4m9p1ab"


def days() -> list[date]:
    """Every day of the demo period."""
    n = (PERIOD_END - PERIOD_START).days
    return [PERIOD_START + timedelta(d) for d in range(n)]


def stable_id(*parts: object, length: int = 17) -> str:
    """A hex id derived from its parts: the same parts give the same id on every run."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:length]


def arn(service: str, region: str, account: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def tags(
    team: str | None, model: str | None = None, env: str | None = None, workload: str | None = None
) -> dict[str, str]:
    """Cost allocation tags as CUR 2.0 keys them ('user:team'); None leaves a tag off."""
    pairs = {"user:team": team, "user:model": model, "user:environment": env, "user:workload-type": workload}
    return {k: v for k, v in pairs.items() if v is not None}


def diurnal(hour_utc: int, weekday: int) -> float:
    """Traffic shape: peak at 16:00 UTC (US midday), trough at 04:00, weekends at 60 %."""
    shape = 0.25 + 0.75 * (0.5 - 0.5 * math.cos(2 * math.pi * (hour_utc - 4) / 24))
    return shape * (0.6 if weekday >= 5 else 1.0)


@dataclass(frozen=True)
class Endpoint:
    name: str
    account: str
    region: str
    instance_type: str
    count: int
    role: str  # steady | idle | overprovisioned | unknown | burst
    peak_invocations_per_hour: float
    cpu_peak_pct: float  # CPUUtilization at peak traffic (per instance)
    memory_pct: float
    gpu_peak_pct: float | None = None  # None for CPU instances
    tags: dict[str, str] = field(default_factory=dict)
    created: datetime = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
    deleted: datetime | None = None
    autoscaling: tuple[int, int] | None = None  # (min, max) desired instance count
    data_capture: bool = False
    savings_plan: bool = False  # usage covered by the Savings Plan

    @property
    def arn(self) -> str:
        return arn("sagemaker", self.region, self.account, f"endpoint/{self.name}")

    def instances_at(self, ts: datetime) -> int:
        """InService instances during the hour starting at ``ts`` (0 before creation/after deletion)."""
        if ts < self.created or (self.deleted is not None and ts >= self.deleted):
            return 0
        if self.autoscaling and self.role == "steady" and 14 <= ts.hour < 20 and ts.weekday() < 5:
            return self.autoscaling[1] - 1  # target tracking scales out over the US business peak
        return self.count

    def invocations_at(self, ts: datetime, noise: float) -> float:
        if self.role in ("idle", "unknown"):
            return 0.0
        if self.role == "burst":
            return round(self.peak_invocations_per_hour * (0.8 + 0.4 * noise)) if ts.hour == 2 else 0.0
        return float(round(self.peak_invocations_per_hour * diurnal(ts.hour, ts.weekday()) * (0.8 + 0.4 * noise)))


@dataclass(frozen=True)
class Notebook:
    name: str
    account: str
    region: str
    instance_type: str
    schedule: str  # always | weekdays-8h
    tags: dict[str, str]
    lifecycle_config: str | None = None
    created: datetime = datetime(2024, 2, 12, 10, 0, tzinfo=UTC)

    @property
    def arn(self) -> str:
        return arn("sagemaker", self.region, self.account, f"notebook-instance/{self.name}")


@dataclass(frozen=True)
class StudioApp:
    space: str
    account: str
    region: str
    instance_type: str
    schedule: str  # always | weekdays-8h
    tags: dict[str, str]

    @property
    def arn(self) -> str:
        return arn("sagemaker", self.region, self.account, f"app/{STUDIO_DOMAIN}/{self.space}/jupyterlab/default")


@dataclass(frozen=True)
class TrainingJob:
    name: str
    account: str
    region: str
    instance_type: str
    count: int
    start: datetime
    training_s: int
    spot: bool
    input_uri: str
    output_uri: str
    checkpoint_uri: str | None
    gpu_util_pct: float
    tags: dict[str, str]

    @property
    def arn(self) -> str:
        return arn("sagemaker", self.region, self.account, f"training-job/{self.name}")

    @property
    def billable_s(self) -> int:
        return round(self.training_s * SAGEMAKER_SPOT_BILLABLE_FRACTION) if self.spot else self.training_s

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.training_s)


@dataclass(frozen=True)
class Ec2Instance:
    instance_id: str
    account: str
    region: str
    instance_type: str
    spot: bool
    tags: dict[str, str]
    volume_gb: int
    gpu_util_pct: float | None = None  # GPU instances only
    gpus: int = 0
    gpu_name: str = ""
    launch: datetime = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)

    @property
    def az(self) -> str:
        return self.region + ("a" if int(self.instance_id[-1], 16) % 2 else "b")


@dataclass(frozen=True)
class Bucket:
    name: str
    account: str
    region: str
    standard_gb: float  # size on the first day
    growth_gb_per_day: float
    tags: dict[str, str]
    lifecycle_rules: list[dict] | None  # None: no lifecycle configuration
    get_requests_per_day: float = 0.0
    ai: bool = False


@dataclass(frozen=True)
class DemoAccount:
    endpoints: list[Endpoint]
    notebooks: list[Notebook]
    studio_apps: list[StudioApp]
    training_jobs: list[TrainingJob]
    instances: list[Ec2Instance]
    buckets: list[Bucket]
    rds: list[tuple[str, str, str, str]]  # (account, region, db identifier, db instance class)


def running_hours(schedule: str, day: date) -> list[int]:
    """UTC hours of ``day`` during which a scheduled resource runs."""
    if schedule == "always":
        return list(range(24))
    if schedule == "weekdays-8h":
        return list(range(13, 21)) if day.weekday() < 5 else []  # 9:00-17:00 US Eastern
    raise ValueError(schedule)


def _endpoints() -> list[Endpoint]:
    # fmt: off
    gpu = [
        Endpoint("my-model-endpoint", PAYER, "us-east-1", "ml.g5.xlarge", 1, "steady", 120, 18, 41, 6,
            tags("ml-platform", "my-model", "production", "inference"), data_capture=True),
        Endpoint("image-embed-endpoint", PAYER, "us-east-1", "ml.g4dn.xlarge", 2, "overprovisioned", 260, 9, 35, 12,
            tags("vision", "clip-embed", "production", "inference")),
        Endpoint("search-rerank-endpoint", LINKED, "us-east-1", "ml.g5.xlarge", 1, "steady", 2400, 38, 52, 45,
            tags("search", "rerank-xl", "production", "inference"), autoscaling=(1, 3), data_capture=True),
    ]
    over = [
        Endpoint("fraud-score-endpoint", LINKED, "us-east-1", "ml.c5.2xlarge", 3, "overprovisioned", 800, 4, 22,
            tags=tags("risk", "fraud-gbm", "production", "inference"), autoscaling=(3, 6)),
        Endpoint("churn-predict-endpoint", PAYER, "us-east-1", "ml.m5.2xlarge", 4, "overprovisioned", 150, 3, 18,
            tags=tags("growth", "churn-xgb", "production", "inference")),
        Endpoint("price-optimizer-endpoint", PAYER, "us-east-1", "ml.m5.xlarge", 3, "overprovisioned", 90, 5, 27,
            tags=tags("pricing", None, "production", "inference")),
    ]
    categories = [
        "books", "electronics", "fashion", "home", "garden", "toys", "sports", "beauty", "grocery", "pets", "auto",
        "music", "movies", "games", "office", "baby", "health", "jewelry", "shoes", "outdoor", "kitchen", "tools",
        "crafts", "luggage", "watches", "software", "industrial", "appliances", "furniture", "lighting", "bedding",
        "camera", "phones", "computers", "audio", "video", "wearables", "smart-home", "deals", "home-feed",
    ]
    # fmt: on
    reco = []
    for i, cat in enumerate(categories):
        itype = "ml.m5.xlarge" if i % 5 in (0, 3) else "ml.m5.large"
        region, account = ("us-west-2", LINKED) if i % 10 == 7 else ("us-east-1", PAYER)
        tagged = i % 9 != 4  # a few reco endpoints were deployed without cost allocation tags
        reco.append(
            Endpoint(
                f"reco-{cat}-v2",
                account,
                region,
                itype,
                1,
                "steady",
                15 + (i * 37) % 180,
                7 + (i * 5) % 9,
                30 + (i * 7) % 25,
                tags=tags("recsys", f"reco-{cat}", "production", "inference") if tagged else {},
                autoscaling=(1, 2) if cat == "home-feed" else None,
            )
        )
    covered = [e for e in reco if e.instance_type == "ml.m5.xlarge" and e.account == PAYER and e.tags][:10]
    reco = [replace(e, savings_plan=True) if e in covered else e for e in reco]
    # fmt: off
    odd = [
        Endpoint("legacy-sentiment-v1", PAYER, "us-east-1", "ml.m5.large", 1, "idle", 0, 2, 24),
        Endpoint("ab-test-ranker-b", PAYER, "us-east-1", "ml.c5.xlarge", 1, "idle", 0, 2, 19,
            tags=tags("recsys", "ranker-b", "staging", "experimentation")),
        Endpoint("demo-chatbot-endpoint", LINKED, "us-east-1", "ml.g4dn.xlarge", 1, "idle", 0, 1, 46, 0.5,
            tags=tags("genai", "chatbot-demo", "development", "experimentation")),
        Endpoint("reco-toys-v1", PAYER, "us-east-1", "ml.m5.large", 1, "idle", 0, 2, 31,
            tags=tags("recsys", "reco-toys", "production", "inference")),
        Endpoint("forecast-old-endpoint", LINKED, "us-west-2", "ml.m5.xlarge", 1, "idle", 0, 2, 28),
        Endpoint("nlp-ner-staging", LINKED, "us-east-1", "ml.m5.large", 1, "idle", 0, 2, 26,
            tags=tags("nlp", "ner-bert", "staging", "inference")),
        Endpoint("partner-scoring-endpoint", PAYER, "us-east-1", "ml.m5.xlarge", 1, "unknown", 0, 0, 0),
        Endpoint("nightly-batch-scorer", PAYER, "us-east-1", "ml.c5.2xlarge", 1, "burst", 42000, 85, 33,
            tags=tags("growth", "ltv-model", "production", "inference")),
        Endpoint("churn-model-v1", PAYER, "us-east-1", "ml.m5.xlarge", 1, "steady", 40, 6, 25,
            tags=tags("growth", "churn-xgb", "production", "inference"),
            deleted=datetime(2024, 10, 20, 17, 0, tzinfo=UTC)),
    ]
    # fmt: on
    return gpu + over + reco + odd


def _notebooks() -> list[Notebook]:
    # fmt: off
    return [
        Notebook("research-gpu-notebook", PAYER, "us-east-1", "ml.g4dn.xlarge", "always",
            tags("vision", None, "development", "experimentation")),
        Notebook("data-explore-notebook", PAYER, "us-east-1", "ml.m5.xlarge", "always", {}),
        Notebook("team-shared-notebook", LINKED, "us-east-1", "ml.t3.medium", "always",
            tags("nlp", None, "development", "experimentation")),
        Notebook("feature-eng-notebook", LINKED, "us-east-1", "ml.m5.2xlarge", "always",
            tags("recsys", None, "development", "experimentation")),
        Notebook("analyst-notebook", PAYER, "us-east-1", "ml.m5.xlarge", "weekdays-8h",
            tags("growth", None, "development", "experimentation"), lifecycle_config="auto-stop-idle"),
    ]
    # fmt: on


def _studio_apps() -> list[StudioApp]:
    # fmt: off
    return [
        StudioApp("vision-lab", PAYER, "us-east-1", "ml.g4dn.xlarge", "always",
            tags("vision", None, "development", "experimentation")),
        StudioApp("nlp-sandbox", PAYER, "us-east-1", "ml.t3.medium", "weekdays-8h", {}),
        StudioApp("analytics", PAYER, "us-east-1", "ml.m5.large", "weekdays-8h",
            tags("growth", None, "development", "experimentation")),
    ]
    # fmt: on


# (name, account, region, instance type, count, cadence, start hour, hours lo/hi, spot, model, team, gpu %)
# fmt: off
_PIPELINES = [
    ("cv-detector-train", PAYER, "us-east-1", "ml.p3.8xlarge", 2, "daily", 1, (10, 14), False,
        "yolo-detector", "vision", 61),
    ("cv-segmenter-train", PAYER, "us-east-1", "ml.g5.12xlarge", 2, "daily", 2, (12, 18), False,
        "mask-segmenter", "vision", 58),
    ("recsys-ranker-train", LINKED, "us-west-2", "ml.p3.2xlarge", 4, "daily", 3, (7, 11), False,
        "reco-ranker", "recsys", 55),
    ("cv-backbone-pretrain", PAYER, "us-east-1", "ml.p3.16xlarge", 1, "mondays", 0, (18, 24), False,
        "vit-backbone", "vision", 66),
    ("nlp-intent-train", LINKED, "us-east-1", "ml.g5.2xlarge", 1, "weekdays", 14, (6, 10), False,
        "intent-bert", "nlp", 52),
    ("exp", PAYER, "us-east-1", "ml.g5.12xlarge", 1, "half", 10, (3, 10), False, None, None, 47),
    ("asr-finetune-spot", LINKED, "us-east-1", "ml.g5.2xlarge", 1, "daily", 5, (5, 9), True, "whisper-ft", "nlp", 63),
    ("ocr-layout-spot", PAYER, "us-east-1", "ml.p3.2xlarge", 1, "weekdays", 20, (3, 6), True, "layout-lm",
        "vision", 59),
]
# fmt: on
_DATA_BUCKET = "acme-ml-training-data"
_ARTIFACT_BUCKET = "acme-ml-model-artifacts"
_CHECKPOINT_BUCKET = "acme-ml-checkpoints"


def _runs_on(cadence: str, day: date, rng: random.Random) -> bool:
    if cadence == "daily":
        return True
    if cadence == "weekdays":
        return day.weekday() < 5
    if cadence == "mondays":
        return day.weekday() == 0
    return rng.random() < 0.5  # "half": ad-hoc experiments


def _training_jobs(rng: random.Random) -> list[TrainingJob]:
    jobs = []
    for day in days():
        for name, account, region, itype, count, cadence, hour, (lo, hi), spot, model, team, gpu in _PIPELINES:
            if not _runs_on(cadence, day, rng):
                continue
            start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            start += timedelta(minutes=int(rng.random() * 50))
            job = f"{name}-{start:%Y-%m-%d-%H-%M-%S}"
            seconds = int((lo + (hi - lo) * rng.random()) * 3600)
            ckpt = f"s3://{_CHECKPOINT_BUCKET}/{name}/{job}/" if spot or name.startswith("cv-backbone") else None
            jobs.append(
                TrainingJob(
                    job,
                    account,
                    region,
                    itype,
                    count,
                    start,
                    seconds,
                    spot,
                    f"s3://{_DATA_BUCKET}/{model or 'scratch'}/",
                    f"s3://{_ARTIFACT_BUCKET}/{name}/",
                    ckpt,
                    gpu + 6 * (rng.random() - 0.5),
                    tags(team, model, "training", "training") if team else {},
                )
            )
        if day == ANOMALY_DAY:  # a hyperparameter sweep launched 8 parallel jobs by mistake
            for k in range(8):
                start = datetime(day.year, day.month, day.day, 3, 5 + k, tzinfo=UTC)
                jobs.append(
                    TrainingJob(
                        f"cv-segmenter-hpo-{start:%Y%m%d}-{k:03d}",
                        PAYER,
                        "us-east-1",
                        "ml.g5.12xlarge",
                        1,
                        start,
                        int((19 + rng.random() * 2) * 3600),
                        False,
                        f"s3://{_DATA_BUCKET}/mask-segmenter/",
                        f"s3://{_ARTIFACT_BUCKET}/cv-segmenter-hpo/",
                        None,
                        29 + 4 * rng.random(),
                        tags("vision", "mask-segmenter", "training", "training"),
                    )
                )
    return jobs


def _instances() -> list[Ec2Instance]:
    # fmt: off
    gpu = [
        Ec2Instance("i-0a1b2c3d4e5f60718", PAYER, "us-east-1", "p4d.24xlarge", False,
            tags("research", "llm-pretrain", "development", "training"), 2000, 11.0, 8, "NVIDIA A100-SXM4-40GB",
            launch=datetime(2024, 7, 15, 8, 30, tzinfo=UTC)),
        Ec2Instance("i-0f9e8d7c6b5a40321", LINKED, "us-east-1", "g5.xlarge", True,
            {}, 500, 71.0, 1, "NVIDIA A10G", launch=datetime(2024, 8, 20, 12, 0, tzinfo=UTC)),
    ]
    # fmt: on
    fleet = []
    for kind, n, team in (
        ("m5.4xlarge", 80, "web"),
        ("c5.4xlarge", 34, "api"),
        ("r5.4xlarge", 22, "platform"),
        ("m5.2xlarge", 24, "data"),
    ):
        for k in range(n):
            account = PAYER if k % 3 else LINKED
            region = "us-west-2" if k % 8 == 5 else "us-east-1"
            iid = "i-0" + stable_id(kind, k, length=16)
            fleet.append(Ec2Instance(iid, account, region, kind, False, tags(team, None, "production", None), 500))
    return gpu + fleet


def _buckets() -> list[Bucket]:
    expire_logs = [{"ID": "expire-logs", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 30}}]
    to_ia = [
        {
            "ID": "artifacts-to-ia",
            "Filter": {"Prefix": ""},
            "Status": "Enabled",
            "Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"}],
        }
    ]
    # fmt: off
    return [
        Bucket(_DATA_BUCKET, PAYER, "us-east-1", 28_000, 20,
            tags("vision", None, "training", "training"), None, 2_500_000, ai=True),
        Bucket(_ARTIFACT_BUCKET, PAYER, "us-east-1", 2_500, 4,
            tags("ml-platform", None, "production", "inference"), to_ia, 40_000, ai=True),
        Bucket(_CHECKPOINT_BUCKET, PAYER, "us-east-1", 4_000, 6, {}, None, 8_000, ai=True),
        Bucket("acme-bedrock-batch-io", LINKED, "us-east-1", 300, 1,
            tags("genai", None, "production", "inference"), None, 2_000, ai=True),
        Bucket("acme-web-assets", PAYER, "us-east-1", 1_500, 0, tags("web", None, "production", None), None, 900_000),
        Bucket("acme-app-logs", LINKED, "us-east-1", 7_000, 0,
            tags("platform", None, "production", None), expire_logs, 5_000),
        Bucket("acme-db-backups", PAYER, "us-west-2", 3_000, 2, tags("platform", None, "production", None), None, 100),
    ]
    # fmt: on


def _rds() -> list[tuple[str, str, str, str]]:
    databases = [("orders", "db.r5.4xlarge"), ("catalog", "db.r5.4xlarge"), ("users", "db.r5.4xlarge"),
                 ("payments", "db.r5.4xlarge"), ("search", "db.r5.2xlarge"), ("cms", "db.r5.2xlarge"),
                 ("reports", "db.r5.2xlarge"), ("audit", "db.r5.2xlarge")]  # fmt: skip
    return [(PAYER if k % 2 else LINKED, "us-east-1", f"{name}-db", cls) for k, (name, cls) in enumerate(databases)]


def build_account(seed: int = SEED) -> DemoAccount:
    """The demo company; the same seed always gives the same company."""
    rng = random.Random(seed)
    return DemoAccount(
        _endpoints(), _notebooks(), _studio_apps(), _training_jobs(rng), _instances(), _buckets(), _rds()
    )


# Bedrock model ids as CloudWatch (AWS/Bedrock, dimension ModelId) names them.
NOVA_LITE_ID = "amazon.nova-lite-v1:0"
CLAUDE_SONNET_45_ID = "anthropic.claude-sonnet-4-5-20250929-v1:0"
CLAUDE_SONNET_45_NAME = "Claude Sonnet 4.5 (Amazon Bedrock Edition)"


def _volume(day: date, base: float, weekend: float = 0.55, growth_per_day: float = 0.006) -> int:
    """A daily volume with a weekly dip, slow growth and a smooth wobble (no randomness needed)."""
    i = (day - PERIOD_START).days
    wobble = 1 + 0.1 * math.sin(2 * math.pi * i / 7.3) + 0.05 * math.sin(2 * math.pi * i / 17.0)
    return int(base * (1.0 if day.weekday() < 5 else weekend) * (1 + growth_per_day * i) * wobble)


def bedrock_usage(day: date) -> dict[str, dict[str, int]]:
    """Raw token and request counts per Bedrock model id for one day (billing and CloudWatch agree)."""
    sunday = day.weekday() == 6
    return {
        NOVA_LITE_ID: {
            "input": _volume(day, 45e6),
            "output": _volume(day, 9e6),
            "invocations": _volume(day, 30_000),
            "batch-input": int(120e6) if sunday else 0,
            "batch-output": int(20e6) if sunday else 0,
        },
        CLAUDE_SONNET_45_ID: {
            "input": _volume(day, 11e6),
            "output": _volume(day, 1.1e6),
            "cache-read": _volume(day, 18e6),
            "invocations": _volume(day, 4_000),
        },
    }


def ai_service_usage(day: date) -> dict[str, int]:
    """Daily Comprehend units (100 chars), Textract pages and Rekognition images."""
    return {
        "comprehend-units": _volume(day, 80_000, 0.3),
        "textract-pages": _volume(day, 3_000, 0.2),
        "rekognition-images": _volume(day, 2_000, 0.5),
    }


# (vCPUs, GPUs) per instance type: CloudWatch sums CPUUtilization over vCPUs and GPU metrics over GPUs.
INSTANCE_SPECS: dict[str, tuple[int, int]] = {
    "ml.t3.medium": (2, 0),
    "ml.m5.large": (2, 0),
    "ml.m5.xlarge": (4, 0),
    "ml.m5.2xlarge": (8, 0),
    "ml.c5.xlarge": (4, 0),
    "ml.c5.2xlarge": (8, 0),
    "ml.g4dn.xlarge": (4, 1),
    "ml.g5.xlarge": (4, 1),
    "ml.g5.2xlarge": (8, 1),
    "ml.g5.12xlarge": (48, 4),
    "ml.p3.2xlarge": (8, 1),
    "ml.p3.8xlarge": (32, 4),
    "ml.p3.16xlarge": (64, 8),
}
