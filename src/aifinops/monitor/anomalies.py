"""Spend anomalies in daily AI cost, with root causes ranked by their contribution.

Each series (by default one per Cost Explorer SERVICE over AI spend, like Cost Anomaly Detection's
AWS-services monitor) is judged day by day against its weekday baseline (``baseline.py``). A day is
anomalous when its robust z-score, its dollar impact and its percent impact all pass their
thresholds; consecutive anomalous days form one anomaly. Only increases are anomalies (Cost Anomaly
Detection also reports spend increases only).

Root causes re-run the same baseline on the anomaly's series broken down by
(service, region, account, usage type), by resource and by cost allocation tag, and rank each part by
what it added over its own expected spend on the anomalous days.

``get_anomalies`` returns the Cost Explorer GetAnomalies response shape
(botocore ``ce/2017-10-25`` model) for the MCP ``cost_anomaly`` tool.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from aifinops.costs import data_period
from aifinops.costs.breakdown import group_spec
from aifinops.costs.dimensions import DIMENSIONS, Sql, tag_value
from aifinops.dates import parse_date
from aifinops.errors import ArgumentError
from aifinops.model import AnomaliesDocument
from aifinops.monitor.baseline import (
    BaselineParams,
    DayBaseline,
    baselines,
    daily_series,
    filter_sql,
    usage_condition,
)


@dataclass(frozen=True)
class AnomalyParams:
    z_threshold: float = 5.0  # robust z-score (MAD sigmas) a day must exceed
    # Dollar and percent floors keep small series quiet; the guide's cost_anomaly alert starts at $100
    # of total impact (POWER.md thresholds), detection itself starts lower.
    min_impact_usd: float = 25.0
    min_impact_pct: float = 15.0
    baseline: BaselineParams = field(default_factory=BaselineParams)

    @property
    def history_days(self) -> int:
        return 7 * self.baseline.weeks + self.baseline.residual_days


@dataclass
class Anomaly:
    dimension: str  # the series' dimension ('SERVICE', 'USAGE_TYPE', 'TAG:team', …)
    value: str  # the series' value ('Amazon SageMaker')
    start: date
    end: date  # last anomalous day (inclusive, as in GetAnomalies)
    days: list[DayBaseline]
    root_causes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def actual_usd(self) -> float:
        return sum(d.actual_usd for d in self.days)

    @property
    def expected_usd(self) -> float:
        return sum(d.expected_usd or 0.0 for d in self.days)

    @property
    def impact_usd(self) -> float:
        return self.actual_usd - self.expected_usd

    @property
    def impact_pct(self) -> float | None:
        return 100.0 * self.impact_usd / self.expected_usd if self.expected_usd > 0 else None

    @property
    def max_impact_usd(self) -> float:
        return max(d.actual_usd - (d.expected_usd or 0.0) for d in self.days)

    def as_dict(self, threshold: float) -> dict[str, Any]:
        scores = [score(d.z, threshold) for d in self.days]
        return {
            "id": anomaly_id(self.dimension, self.value, self.start),
            "dimension": self.dimension,
            "value": self.value,
            "start_date": self.start.isoformat(),
            "end_date": self.end.isoformat(),
            "days": len(self.days),
            "actual_usd": self.actual_usd,
            "expected_usd": self.expected_usd,
            "impact_usd": self.impact_usd,
            "impact_pct": self.impact_pct,
            "max_impact_usd": self.max_impact_usd,
            "max_z": max(d.z or 0.0 for d in self.days),
            "max_score": max(scores),
            "current_score": scores[-1],
            "daily": [
                {"date": d.day.isoformat(), "actual_usd": d.actual_usd, "expected_usd": d.expected_usd, "z": d.z}
                for d in self.days
            ],
            "root_causes": self.root_causes,
        }


def score(z: float | None, threshold: float) -> float:
    """A 0-1 anomaly score from a robust z-score: 0.5 at the detection threshold, towards 1 above."""
    if z is None or z <= 0:
        return 0.0
    return 1.0 - math.pow(0.5, z / threshold)


def anomaly_id(dimension: str, value: str, start: date) -> str:
    digest = hashlib.sha256(f"{dimension}|{value}|{start.isoformat()}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def is_anomalous(d: DayBaseline, params: AnomalyParams) -> bool:
    if d.expected_usd is None or d.z is None:
        return False
    impact = d.actual_usd - d.expected_usd
    pct = 100.0 * impact / d.expected_usd if d.expected_usd > 0 else math.inf
    return d.z >= params.z_threshold and impact >= params.min_impact_usd and pct >= params.min_impact_pct


def find_anomalies(
    values: list[float],
    first_day: date,
    params: AnomalyParams | None = None,
    value: str = "total",
    dimension: str = "TOTAL",
) -> list[Anomaly]:
    """Anomalies of one consecutive daily series; each judged only from the days before it."""
    params = params or AnomalyParams()
    days = baselines(values, first_day, params.baseline)
    out: list[Anomaly] = []
    current: list[DayBaseline] = []
    for d in days + [None]:
        if d is not None and is_anomalous(d, params):
            current.append(d)
            continue
        if current:
            out.append(Anomaly(dimension, value, current[0].day, current[-1].day, current))
            current = []
    return out


# ---------------------------------------------------------------- over the store


def _series_key(by: str) -> tuple[str, Sql]:
    if by in ("total", "TOTAL"):
        return "TOTAL", Sql("'AI spend'")
    spec = group_spec(by)
    if spec["Type"] == "TAG":
        return f"TAG:{spec['Key']}", tag_value(spec["Key"])
    return spec["Key"], DIMENSIONS[spec["Key"]]


def _dates(con: duckdb.DuckDBPyConnection, start: date | str | None, end: date | str | None) -> tuple[date, date]:
    first, end_excl = data_period(con)
    lo = parse_date(start, "start") if start else first
    hi = parse_date(end, "end") if end else end_excl
    if hi <= lo:
        raise ArgumentError(f"End {hi} is not after start {lo}.", "give an end date after the start (end exclusive).")
    return lo, hi


def detect_anomalies(
    con: duckdb.DuckDBPyConnection,
    start: date | str | None = None,
    end: date | str | None = None,
    by: str = "service",
    filters: Any = None,
    ai_only: bool = True,
    params: AnomalyParams | None = None,
    top_causes: int = 5,
) -> dict[str, Any]:
    """Anomalies with a day in [start, end) (default: all the data), largest impact first.

    ``by``: 'service' (CE SERVICE), 'ai_service', 'workload', 'usage_type', 'resource_id', 'region',
    'account', 'tag:KEY' or 'total'. ``filters``: a Cost Explorer Expression (dict or JSON text).
    """
    params = params or AnomalyParams()
    lo, hi = _dates(con, start, end)
    notes: list[str] = []
    dimension, key = _series_key("resource_id" if by == "resource" else by)
    condition = usage_condition(ai_only, filter_sql(con, filters, notes))
    data_first, _ = data_period(con)
    history_start = max(data_first, lo - timedelta(days=params.history_days))
    series = daily_series(con, history_start, hi, condition, key)
    if dimension == "RESOURCE_ID":
        series = merge_families(series)
    found: list[Anomaly] = []
    for value, values in series.items():
        for a in find_anomalies(values, history_start, params, str(value), dimension):
            if a.end >= lo:
                a.root_causes = root_causes(con, a, key, condition, params, top_causes)
                found.append(a)
    found.sort(key=lambda a: -a.impact_usd)
    document = {
        "start": lo.isoformat(),
        "end": hi.isoformat(),
        "by": dimension,
        "ai_only": ai_only,
        "currency": "USD",
        "params": asdict(params),
        "anomalies": [a.as_dict(params.z_threshold) for a in found],
        "notes": notes,
    }
    return AnomaliesDocument.model_validate(document).model_dump(mode="json")


def root_causes(
    con: duckdb.DuckDBPyConnection, anomaly: Anomaly, key: Sql, condition: Sql, params: AnomalyParams, top: int
) -> dict[str, list[dict[str, Any]]]:
    """What added the spend: (service, region, account, usage type), resources and tags, by contribution."""
    first = max(data_period(con)[0], anomaly.start - timedelta(days=params.history_days))
    end = anomaly.end + timedelta(days=1)
    if anomaly.dimension == "RESOURCE_ID" and anomaly.value.endswith("-*"):  # a job family
        within = condition + Sql(" AND starts_with(coalesce(resource_id, ''), ?)", (anomaly.value[:-1],))
    else:
        within = condition + Sql(" AND ") + key + Sql(" = ?", (anomaly.value,))
    offsets = [(d.day - first).days for d in anomaly.days]

    def ranked(parts: dict[Any, list[float]]) -> list[tuple[Any, float]]:
        out = []
        for part, values in parts.items():
            days = baselines(values, first, params.baseline)
            contribution = sum(days[i].actual_usd - (days[i].expected_usd or 0.0) for i in offsets)
            if contribution > max(0.01, 0.001 * abs(anomaly.impact_usd)):
                out.append((part, contribution))
        return sorted(out, key=lambda pc: -pc[1])[:top]

    combo = (
        Sql("struct_pack(service := ")
        + DIMENSIONS["SERVICE"]
        + Sql(
            ", region := coalesce(region, ''), account := coalesce(account_id, ''),"
            " usage_type := coalesce(usage_type, ''))"
        )
    )
    total = anomaly.impact_usd or 1.0
    ce = [
        {
            "Service": c[0],
            "Region": c[1],
            "LinkedAccount": c[2],
            "UsageType": c[3],
            "Impact": {"Contribution": value},
            "share_of_impact": value / total,
        }
        for c, value in ranked(daily_series(con, first, end, within, combo))
    ]
    per_resource = daily_series(con, first, end, within, Sql("coalesce(resource_id, '')"))
    per_resource.pop("", None)
    members: dict[str, int] = {}
    for rid, values in per_resource.items():
        fam = resource_family(rid)
        members[fam] = members.get(fam, 0) + (1 if any(values[i] > 0 for i in offsets) else 0)
    families = merge_families(per_resource)
    resources = [
        {"resource_id": r, "resources_on_anomaly_days": members[r], "contribution_usd": v, "share_of_impact": v / total}
        for r, v in ranked(families)
    ]
    by_tag: dict[str, list[float]] = {}
    for tags_json, values in daily_series(con, first, end, within, Sql("coalesce(tags, '{}')")).items():
        for k, v in (json.loads(tags_json) or {}).items():
            acc = by_tag.setdefault(f"{k}={v}", [0.0] * len(values))
            for i, x in enumerate(values):
                acc[i] += x
    tags = [{"tag": t, "contribution_usd": v, "share_of_impact": v / total} for t, v in ranked(by_tag)]
    return {"usage": ce, "resources": resources, "tags": tags}


# Job names usually end in a timestamp or a counter ('cv-detector-train-2024-11-14-01-16-00',
# 'sweep-20241114-003'): every run is a new resource. Jobs are grouped by the name without that
# suffix, so a job that runs every day is expected and a new family of jobs stands out.
_JOB_ARN = re.compile(
    r"^(arn:aws[\w-]*:sagemaker:[^:]*:[^:]*:(?:training|processing|transform|hyper-parameter-tuning)-job/)(.+)$"
)
_RUN_SUFFIX = re.compile(r"([-_](\d+|[0-9a-f]{8,}))+$")


def resource_family(resource_id: str) -> str:
    """A job ARN with its run suffix replaced by '*'; any other resource id unchanged."""
    m = _JOB_ARN.match(resource_id)
    if not m:
        return resource_id
    stem = _RUN_SUFFIX.sub("", m.group(2))
    return f"{m.group(1)}{stem}-*" if stem != m.group(2) else resource_id


def merge_families(series: dict[Any, list[float]]) -> dict[Any, list[float]]:
    """Series per resource summed per resource family (jobs by name without their run suffix)."""
    out: dict[Any, list[float]] = {}
    for rid, values in series.items():
        acc = out.setdefault(resource_family(str(rid)) if rid else rid, [0.0] * len(values))
        for i, x in enumerate(values):
            acc[i] += x
    return out


def get_anomalies(
    con: duckdb.DuckDBPyConnection,
    start: date | str,
    end: date | str | None = None,
    filters: Any = None,
    *,
    total_impact: dict[str, Any] | None = None,
    max_results: int | None = None,
    next_page_token: str | None = None,
    params: AnomalyParams | None = None,
) -> dict[str, Any]:
    """Cost Explorer GetAnomalies over the store: anomalies whose last day is in [start, end).

    ``end`` is exclusive (aifinops convention; CE's DateInterval EndDate is inclusive: pass the day
    after). ``filters``: a CE Expression (dict or JSON text), e.g. SERVICE in Amazon SageMaker,
    Amazon Bedrock. ``total_impact``: {NumericOperator, StartValue, EndValue} as in CE.
    Feedback is absent (nobody gave any), as in CE for anomalies without feedback.
    """
    result = detect_anomalies(con, start, end, by="service", filters=filters, params=params)
    lo = date.fromisoformat(result["start"])
    payer = _payer(con)
    monitor_arn = f"arn:aws:ce::{payer}:anomalymonitor/aifinops-ai-services"
    items = []
    for a in result["anomalies"]:
        if date.fromisoformat(a["end_date"]) < lo:
            continue
        if total_impact and not _impact_matches(a["impact_usd"], total_impact):
            continue
        items.append(
            {
                "AnomalyId": a["id"],
                "AnomalyStartDate": a["start_date"],
                "AnomalyEndDate": a["end_date"],
                "DimensionValue": a["value"],
                "RootCauses": [
                    {k: v for k, v in rc.items() if k != "share_of_impact"} for rc in a["root_causes"]["usage"]
                ],
                "AnomalyScore": {"MaxScore": a["max_score"], "CurrentScore": a["current_score"]},
                "Impact": {
                    "MaxImpact": a["max_impact_usd"],
                    "TotalImpact": a["impact_usd"],
                    "TotalActualSpend": a["actual_usd"],
                    "TotalExpectedSpend": a["expected_usd"],
                    "TotalImpactPercentage": a["impact_pct"],
                },
                "MonitorArn": monitor_arn,
            }
        )
    offset = int(next_page_token) if next_page_token and str(next_page_token).isdigit() else 0
    page = items[offset : offset + max_results] if max_results else items[offset:]
    response: dict[str, Any] = {"Anomalies": page}
    if max_results and offset + max_results < len(items):
        response["NextPageToken"] = str(offset + max_results)
    if result["notes"]:
        response["aifinops_notes"] = result["notes"]
    return response


def _payer(con: duckdb.DuckDBPyConnection) -> str:
    """The payer account the answer names: the least one (min, not any_value: the same at every call)."""
    row = con.execute(
        "SELECT coalesce(min(billing_account_id), min(account_id), '000000000000') FROM usage_daily"
    ).fetchall()
    return row[0][0] if row else "000000000000"


def _impact_matches(value: float, spec: dict[str, Any]) -> bool:
    op = str(spec.get("NumericOperator", "GREATER_THAN_OR_EQUAL")).upper()
    lo = float(spec.get("StartValue", 0))
    hi = float(spec["EndValue"]) if spec.get("EndValue") is not None else None
    tests = {
        "EQUAL": lambda: value == lo,
        "GREATER_THAN_OR_EQUAL": lambda: value >= lo,
        "GREATER_THAN": lambda: value > lo,
        "LESS_THAN_OR_EQUAL": lambda: value <= lo,
        "LESS_THAN": lambda: value < lo,
        "BETWEEN": lambda: hi is not None and lo <= value <= hi,
    }
    if op not in tests:
        raise ArgumentError(f"Unknown NumericOperator {op!r}.", f"use one of {', '.join(tests)}.")
    return tests[op]()
