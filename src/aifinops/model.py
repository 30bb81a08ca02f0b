"""Core types shared by analysis and outputs: findings and the scan result (aifinops.scan/1)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

SCAN_SCHEMA: Final = "aifinops.scan/1"

Confidence = Literal["high", "medium", "low"]
# Where a scan's data came from; store: what an earlier command put in the store.
SourceKind = Literal["demo", "billing-files", "aws", "store"]


class Action(BaseModel):
    """One remediation step, emitted as text for a human to apply (aifinops never changes AWS)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["console", "cli", "custodian", "note"]
    text: str


class GroupMember(BaseModel):
    """One finding inside a finding group: enough to rank it and to ask for it in full (``findings show ID``)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    resource_id: str
    region: str | None = None
    monthly_cost_usd: float
    monthly_savings_usd: float
    confidence: Confidence


class GroupRest(BaseModel):
    """The members a group does not list one by one: how many, and their dollars."""

    model_config = ConfigDict(extra="forbid")

    count: int
    monthly_cost_usd: float
    monthly_savings_usd: float


class FindingGroup(BaseModel):
    """Many findings of one check, account and resource type that a person reads as one (so that a large account's
    document does not repeat one finding's assumptions and commands thousands of times): the group's dollars are
    its members' sums, ``members`` lists the largest (all of them when the scan was not kept in the
    store's history) and ``rest`` adds up the others, which ``more`` says where to find."""

    model_config = ConfigDict(extra="forbid")

    members_count: int
    members: list[GroupMember] = Field(description="largest saving first")
    rest: GroupRest | None = None
    more: str | None = None
    regions: dict[str, int] = Field(default_factory=dict, description="members per region")
    confidence_counts: dict[str, int] = Field(default_factory=dict, description="members per confidence")


class Finding(BaseModel):
    """One resource's waste, in dollars, with the numbers that prove it (the contract in docs/design.md).

    A finding with ``group`` stands for many findings of one check (aifinops.finding_groups): its resource is
    the group, its dollars the members' sums, its evidence and assumptions what the members share."""

    model_config = ConfigDict(extra="forbid")

    id: str = ""
    check: str
    title: str
    resource_id: str
    resource_type: str
    region: str | None = None
    account_id: str | None = None
    monthly_cost_usd: float
    monthly_savings_usd: float
    confidence: Confidence
    evidence: dict[str, Any] = Field(default_factory=dict)
    assumptions: list[str] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    group: FindingGroup | None = None

    def model_post_init(self, __context: Any) -> None:
        if not self.id:
            digest = hashlib.sha1(f"{self.check}|{self.resource_id}".encode()).hexdigest()[:12]
            self.id = f"{self.check}:{digest}"
        if self.monthly_savings_usd < 0 or self.monthly_cost_usd < 0:
            raise ValueError(f"{self.check}: negative money in a finding for {self.resource_id}")
        if self.monthly_savings_usd > self.monthly_cost_usd + 1e-6:
            raise ValueError(f"{self.check}: savings exceed cost for {self.resource_id}")


# ---------------------------------------------------------------- the scan document (aifinops.scan/1)
# The scan document (docs/design.md, "Contracts"): the fields it names, plus the ones added since (adding is
# fine; renaming or removing needs a new schema version). docs/schema/scan.schema.json is generated from these
# (`python -m aifinops.model`) and a test fails when it is stale.


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BillingSource(_Doc):
    format: str  # cur2 | cur-legacy | focus
    storage: str  # native (copied into the store) | in-place (Parquet read where it lies)
    periods: int
    rows: int
    billed_cost_usd: float


class ProviderTotal(_Doc):
    provider: str  # 'AWS', or another cloud of a multi-provider FOCUS file
    line_items: int
    billed_cost_usd: float
    ai_cost_usd: float
    checked: bool  # whether the waste checks cover it (AWS only)


class NotUnderstood(_Doc):
    what: str
    line_items: int
    billed_cost_usd: float
    effect: str


class DetachedSource(_Doc):
    billing_period: str
    missing: str  # the first file of its in-place source that is gone


class ScanSource(_Doc):
    kind: SourceKind
    demo_version: str | None = None
    store: str
    inputs: list[str] = Field(default_factory=list)
    ingested_files: list[str] = Field(default_factory=list)
    skipped_files: list[str] = Field(default_factory=list)
    detached_sources: list[DetachedSource] = Field(default_factory=list)
    billing_sources: list[BillingSource] = Field(default_factory=list)
    inventory_resources: int = 0
    metric_datapoints: int = 0
    as_of: str | None = None
    billing: bool
    providers: list[ProviderTotal] = Field(default_factory=list)
    not_understood: list[NotUnderstood] = Field(default_factory=list)
    aws: dict[str, Any] | None = None  # what `collect` read and skipped, when --aws
    aifinops_version: str


class Period(_Doc):
    start: str  # YYYY-MM-DD
    end: str  # YYYY-MM-DD, exclusive


class ExpectedShare(_Doc):
    min: float
    max: float


class CostDriver(_Doc):
    id: str
    name: str
    counts: str
    cost_usd: float
    share_of_ai: float | None
    expected_share: ExpectedShare
    in_range: bool | None


class Totals(_Doc):
    ai_cost_usd: float
    total_cost_usd: float
    ai_share: float | None
    by_service: dict[str, float]
    by_workload: dict[str, float]
    cost_drivers: list[CostDriver]


class SkippedCheck(_Doc):
    check: str
    reason: str


class CheckError(_Doc):
    check: str
    error: str


class ChecksRun(_Doc):
    ran: list[str]
    skipped: list[SkippedCheck]
    errors: list[CheckError]
    scope: str | None = None  # what the checks cover (AWS rows only)


class Savings(_Doc):
    gross_monthly_usd: float
    total_monthly_usd: float  # deduplicated per resource


class ScanDocument(_Doc):
    """The scan result: what was read, the totals, the findings with their evidence, the savings."""

    schema_: Literal["aifinops.scan/1"] = Field(SCAN_SCHEMA, alias="schema")
    generated_at: str
    source: ScanSource
    period: Period
    currency: str = "USD"
    totals: Totals
    findings: list[Finding]
    checks: ChecksRun
    savings: Savings

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


# ---------------------------------------------------------------- anomalies and forecasts
# What `aifinops anomalies` / `forecast` (and the MCP tools over them) answer. monitor.anomalies and
# monitor.forecast build their answers through these models, so a field added or renamed there fails at once;
# docs/schema/anomalies.schema.json and forecast.schema.json are generated from them.


class _MonitorDoc(_Doc):
    # validators built on first use, not at import: processes that import this module for the scan document (a
    # scan, every check) never use these (2 ms of CPU in all)
    model_config = ConfigDict(defer_build=True)


class AnomalyDay(_MonitorDoc):
    date: str
    actual_usd: float
    expected_usd: float | None
    z: float | None


class Anomaly(_MonitorDoc):
    id: str
    dimension: str = Field(description="the Cost Explorer dimension of the series (SERVICE, USAGE_TYPE, ...)")
    value: str
    start_date: str
    end_date: str = Field(description="last anomalous day, inclusive as in GetAnomalies")
    days: int
    actual_usd: float
    expected_usd: float
    impact_usd: float
    impact_pct: float | None
    max_impact_usd: float
    max_z: float
    max_score: float
    current_score: float
    daily: list[AnomalyDay]
    root_causes: dict[str, list[dict[str, Any]]]


class AnomaliesDocument(_MonitorDoc):
    start: str
    end: str = Field(description="exclusive")
    by: str
    ai_only: bool
    currency: str = "USD"
    params: dict[str, Any]
    anomalies: list[Anomaly] = Field(description="largest impact first")
    notes: list[str]


class ForecastMonth(_MonitorDoc):
    start: str
    end: str = Field(description="exclusive")
    days_remaining: int | None = None
    actual_to_date_usd: float | None = None
    forecast_remaining_usd: float | None = None
    mean_usd: float
    lower_usd: float
    upper_usd: float


class MonthlyItems(_MonitorDoc):
    previous_month_usd: float
    this_month_so_far_usd: float
    expected_remaining_usd: float
    expected_next_month_usd: float


class ForecastDay(_MonitorDoc):
    date: str
    mean_usd: float
    lower_usd: float
    upper_usd: float


class HistoryDay(_MonitorDoc):
    date: str
    actual_usd: float


class ForecastDocument(_MonitorDoc):
    as_of: str = Field(description="the last day of data the forecast starts from")
    currency: str = "USD"
    metric: str
    ai_only: bool
    level_pct: float
    method: str
    current_month: ForecastMonth
    next_month: ForecastMonth
    monthly_items: MonthlyItems
    daily_sigma_usd: float
    history: list[HistoryDay]
    daily: list[ForecastDay]
    notes: list[str]


DOCUMENTS: dict[str, type[BaseModel]] = {
    "anomalies": AnomaliesDocument,
    "forecast": ForecastDocument,
}


def document_json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one of the documents in DOCUMENTS ('anomalies', 'forecast')."""
    schema = DOCUMENTS[name].model_json_schema(by_alias=True)
    schema["$id"] = f"https://aifinops.invalid/schema/aifinops.{name}.json"
    schema["title"] = f"aifinops {name}"
    return schema


def scan_json_schema() -> dict[str, Any]:
    schema = ScanDocument.model_json_schema(by_alias=True)
    schema["$id"] = "https://aifinops.invalid/schema/aifinops.scan-1.json"
    schema["title"] = "aifinops.scan/1"
    return schema


def write_schemas(folder: Path) -> list[Path]:
    """Write docs/schema/*.schema.json; returns the files written."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    schemas = {"scan": scan_json_schema()} | {name: document_json_schema(name) for name in DOCUMENTS}
    written = []
    for name, schema in schemas.items():
        path = folder / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    for written in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schema")):
        print(f"wrote {written}")
