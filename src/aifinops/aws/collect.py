"""``collect``: read inventory, metrics and costs from live AWS into the store (and a snapshot folder).

For each account (the caller's own, or each ``--role-arn`` assumed in turn) and each region it reads the
inventory (inventory.py), CloudWatch metrics (metrics.py) with their per-series coverage, alarms and
dashboards (alarms.py), Bedrock model invocation logs (bedrock_logs.py), then S3 buckets, Budgets and Cost
Explorer (ce_collect.py) once per account. Nothing is ever changed in AWS. What cannot be read is skipped and
listed precisely in the result: a throttled call after its retries, AccessDenied on one service, a disabled
region, expired credentials (the rest of that account). The records become a snapshot folder (``--out``, else
a temporary one) loaded with ``load_snapshot(source='aws')``, so the store and the folder always agree.
Everything read passes through ``redact.py`` first: no key, token, password or URL credential is kept.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aifinops.aws import alarms, bedrock_logs, ce_collect, inventory, metrics, redact
from aifinops.aws.ce_client import DEFAULT_MAX_AGE_S, USD_PER_REQUEST, CostExplorer
from aifinops.aws.runner import Scope, ScopeStopped, Skip, SkipLog, TimeBudget, classify, iso
from aifinops.aws.session import SessionFactory, known_regions
from aifinops.errors import AifinopsError, ArgumentError, did_you_mean
from aifinops.ingest.bedrock_logs import InvocationRows
from aifinops.store import Store

Progress = Callable[[str, int, int], None]
SOURCE = "aws"


@dataclass
class CollectOptions:
    profile: str | None = None
    regions: list[str] = field(default_factory=list)  # default: the profile's region
    role_arns: list[str] = field(default_factory=list)  # when given, only these accounts are read
    days: int = 14  # jobs created and costs of the last N days
    metric_days: int = 14  # CloudWatch series, hourly
    out_dir: Path | None = None
    cost_explorer: bool = True
    ce_cache_dir: Path | None = None
    ce_max_age_s: float = DEFAULT_MAX_AGE_S
    max_attempts: int | None = None  # default $AWS_MAX_ATTEMPTS, else 5 (standard retry mode)
    # GetMetricData of the whole collect stops after this; $AIFINOPS_METRICS_BUDGET_S sets it for every command
    metrics_budget_s: float = field(default_factory=lambda: _budget_from_env())
    invocation_logs: bool = True  # read Bedrock model invocation logs where logging sends them
    invocation_log_max_bytes: int = bedrock_logs.DEFAULT_MAX_BYTES  # per region
    invocation_log_max_objects: int = bedrock_logs.DEFAULT_MAX_OBJECTS  # per region


BUDGET_ENV = metrics.BUDGET_ENV


def _budget_from_env() -> float:
    text = os.environ.get(BUDGET_ENV)
    if not text:
        return metrics.DEFAULT_BUDGET_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds <= 0:
        raise ArgumentError(f"${BUDGET_ENV} is {text!r}, not a number of seconds above 0.",
                            f"set it like {BUDGET_ENV}=1800, or unset it for the default "
                            f"({metrics.DEFAULT_BUDGET_S:g} s).")
    return seconds


@dataclass
class CollectResult:
    collected_at: str
    accounts: list[dict] = field(default_factory=list)  # {"account_id", "via", "regions"}
    resource_counts: dict[str, int] = field(default_factory=dict)
    resources: int = 0
    metrics: int = 0
    metric_coverage: dict[str, int] = field(default_factory=dict)  # series per coverage status
    bedrock_invocations: int = 0
    skipped: list[Skip] = field(default_factory=list)
    ce_paid_calls: int = 0
    ce_cached_calls: int = 0
    snapshot_dir: str | None = None
    store: str | None = None
    replaced_demo: bool = False

    @property
    def ce_cost_usd(self) -> float:
        return self.ce_paid_calls * USD_PER_REQUEST

    def to_dict(self) -> dict:
        return {
            "collected_at": self.collected_at,
            "accounts": self.accounts,
            "resources": self.resources,
            "resource_counts": self.resource_counts,
            "metric_datapoints": self.metrics,
            "metric_series_coverage": self.metric_coverage,
            "bedrock_invocations": self.bedrock_invocations,
            "cost_explorer": {"paid_calls": self.ce_paid_calls, "cached_calls": self.ce_cached_calls,
                              "cost_usd": self.ce_cost_usd},
            "skipped": [s.to_dict() for s in self.skipped],
            "snapshot_dir": self.snapshot_dir,
            "store": self.store,
            "replaced_demo": self.replaced_demo,
        }


def collect(store: Store | None, options: CollectOptions, factory: SessionFactory | None = None,
            now: datetime | None = None, progress: Progress | None = None,
            policy: metrics.FetchPolicy | None = None) -> CollectResult:
    """Collect from AWS; write the snapshot (``options.out_dir``) and load it into ``store`` (source 'aws')."""
    from aifinops.attribution import apply_ai_attribution
    from aifinops.ingest.snapshot import load_snapshot
    from aifinops.ingest.snapshot_writer import write_snapshot
    from aifinops.store import clear_demo, refresh_summaries, usage_fingerprint

    records, tables, result = collect_records(options, factory, now, progress, policy)
    manifest = {"source": SOURCE, "collected_at": result.collected_at, "accounts": result.accounts,
                "skipped": [s.to_dict() for s in result.skipped]}
    with tempfile.TemporaryDirectory(prefix="aifinops-collect-") as tmp:
        folder = write_snapshot(options.out_dir or Path(tmp), records, tables.datapoints.table(), manifest,
                                coverage=tables.coverage.table(), invocations=tables.invocations.table())
        if options.out_dir:
            result.snapshot_dir = str(folder)
        if store is not None:
            # A snapshot fills the inventory and metrics tables, not usage_daily: the summary tables are kept
            # (usage=False). Two steps can touch usage_daily all the same. Replacing the demo deletes its rollup,
            # which moves usage_daily's fingerprint, and the store rebuilds them. The new inventory can re-mark
            # billed S3 or transfer rows as AI (apply_ai_attribution), an UPDATE the fingerprint does not see:
            # that is rebuilt here.
            with store.transaction(usage=False) as con:
                before, marks = usage_fingerprint(con), _ai_marks(con)
                result.replaced_demo = clear_demo(con)
                load_snapshot(con, folder, source=SOURCE)
                apply_ai_attribution(con)
                if _ai_marks(con) != marks and usage_fingerprint(con) == before:
                    refresh_summaries(con)
            result.store = str(store.path)
    return result


def _ai_marks(con) -> tuple:
    """Which attributed rows (S3, data transfer) are AI and why: the part of usage_daily apply_ai_attribution
    rewrites, as a count and a sum of row hashes (rowids survive an UPDATE; a changed mark changes the sum unless
    two 64-bit hashes cancel). store.usage_fingerprint does not see such an UPDATE."""
    from aifinops.attribution import attributed_scope_sql
    from aifinops.store import one_row

    return one_row(con, "SELECT count(*) FILTER (WHERE is_ai), sum(hash(rowid, is_ai, ai_reason)) "
                        f"FROM usage_daily WHERE {attributed_scope_sql()}")


@dataclass
class Tables:
    """The rows a collect gathers besides the inventory records."""

    datapoints: metrics.MetricRows = field(default_factory=metrics.MetricRows)
    coverage: metrics.CoverageRows = field(default_factory=metrics.CoverageRows)
    invocations: InvocationRows = field(default_factory=InvocationRows)


def collect_records(options: CollectOptions, factory: SessionFactory | None = None, now: datetime | None = None,
                    progress: Progress | None = None, policy: metrics.FetchPolicy | None = None,
                    ) -> tuple[list[dict], Tables, CollectResult]:
    """Read every account and region; return (records, tables, result). Raises when nothing was read.

    ``policy``: how GetMetricData splits, backs off and stops (default: ``options.metrics_budget_s``)."""
    _check_options(options)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    base = factory or SessionFactory(options.profile, max_attempts=options.max_attempts)
    result = CollectResult(collected_at=iso(now))
    skips = SkipLog()
    records: list[dict] = []
    tables = Tables()
    policy = policy or metrics.FetchPolicy(TimeBudget(options.metrics_budget_s))
    targets = _targets(base, options.role_arns, skips)
    regions = options.regions or [base.default_region]
    total, done = len(targets) * len(regions), 0
    runs: list[_AccountRun] = []
    for via, f in targets:
        try:
            account_id = f.account_id()
        except Exception as exc:  # noqa: BLE001 - recorded, the next account is still read
            kind, message, _ = classify(exc, f.max_attempts)
            skips.add(Skip(_arn_account(via), "*", "sts", "GetCallerIdentity", kind, message))
            continue
        run = _AccountRun(f, account_id, skips, options, now, records, tables, policy)
        runs.append(run)
        read = run.collect(regions)
        done += len(regions)
        result.accounts.append({"account_id": account_id, "via": via, "regions": read})
        if progress:
            progress("Collecting from AWS", done, total)
    result.skipped = skips.items
    for skip in result.skipped:  # AWS error messages can quote what was sent or stored
        skip.message = redact.redact_text(skip.message)
    if not result.accounts:
        lines = "; ".join(s.line() for s in result.skipped) or "no account given"
        raise AifinopsError(f"Nothing could be read from AWS: {lines}.",
                            "check the credentials (`aws sts get-caller-identity`), --profile and --role-arn.")
    # the one redaction rule (redact.py), before anything reaches a snapshot or the store
    records = [redact.redact(r) for r in _unique(records)]
    for cols in (tables.datapoints.cols, tables.coverage.cols):
        cols["dimensions"] = [[(n, redact.redact({"Name": n, "Value": v})["Value"]) for n, v in dims]
                              for dims in cols["dimensions"]]
    for account in result.accounts:
        account["via"] = redact.redact_text(account["via"])
    result.resources = len(records)
    counts: dict[str, int] = {}
    for r in records:
        counts[r["resource_type"]] = counts.get(r["resource_type"], 0) + 1
    result.resource_counts = dict(sorted(counts.items()))
    result.metrics = len(tables.datapoints)
    result.metric_coverage = tables.coverage.statuses()
    result.bedrock_invocations = len(tables.invocations)
    result.ce_paid_calls = sum(run.ce.paid_calls for run in runs if run.ce)
    result.ce_cached_calls = sum(run.ce.cached_calls for run in runs if run.ce)
    return records, tables, result


def _check_options(options: CollectOptions) -> None:
    if options.days < 1 or options.metric_days < 1:
        raise ArgumentError("--days must be at least 1.", "pass --days 14 (the default) or more.")
    if options.metric_days > 63:
        raise ArgumentError("CloudWatch keeps hourly datapoints for 63 days only.", "pass --metric-days 63 or less.")
    known = set(known_regions())
    for region in options.regions:
        if region not in known:
            raise ArgumentError(f"Unknown AWS region {region!r}.{did_you_mean(region, sorted(known))}",
                                "pass a region code such as us-east-1.")
    for arn in options.role_arns:
        if not arn.startswith("arn:") or ":role/" not in arn:
            raise ArgumentError(f"{arn!r} is not an IAM role ARN.",
                                "pass --role-arn arn:aws:iam::123456789012:role/NAME.")


def _targets(base: SessionFactory, role_arns: list[str], skips: SkipLog) -> list[tuple[str, SessionFactory]]:
    """(how the account is reached, its factory): the caller's account, or each role assumed."""
    if not role_arns:
        return [(base.label, base)]
    out = []
    for arn in role_arns:
        try:
            out.append((arn, base.assume(arn)))
        except Exception as exc:  # noqa: BLE001 - recorded; the other roles are still read
            kind, message, _ = classify(exc, base.max_attempts)
            skips.add(Skip(_arn_account(arn), "*", "sts", "AssumeRole", kind, f"{arn}: {message}"))
    return out


def _arn_account(text: str) -> str:
    parts = text.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else "?"


def _unique(records: list[dict]) -> list[dict]:
    """One record per (account, type, id): dashboards and buckets are seen from several regions."""
    seen: dict[tuple[str, str, str], dict] = {}
    for r in records:
        seen.setdefault((r["account_id"], r["resource_type"], r["resource_id"]), r)
    return list(seen.values())


class _AccountRun:
    """Everything read from one account: its regions, then S3, Budgets and Cost Explorer."""

    def __init__(self, factory: SessionFactory, account_id: str, skips: SkipLog, options: CollectOptions,
                 now: datetime, records: list[dict], tables: Tables, policy: metrics.FetchPolicy):
        self.factory, self.account_id, self.skips, self.options = factory, account_id, skips, options
        self.now, self.records, self.tables, self.policy = now, records, tables, policy
        self.at = iso(now)
        self.ce: CostExplorer | None = None

    def scope(self, region: str) -> Scope:
        return Scope(self.factory, self.account_id, region, self.skips)

    def collect(self, regions: list[str]) -> list[str]:
        """Read the account; return the regions read (fully or in part)."""
        home = self.scope(ce_collect.CE_REGION)  # always enabled; Cost Explorer, Budgets and S3 listing answer there
        read: list[str] = []
        finished: list[str] = []
        try:
            enabled = self._enabled(home, regions)
            buckets = inventory.bucket_regions(home)
            for region in enabled:
                read.append(region)
                try:
                    self._region(self.scope(region), buckets)
                except ScopeStopped as stop:
                    if stop.level == "account":
                        raise
                    self.skips.add(Skip(self.account_id, region, "*", "*", stop.kind,
                                        "the rest of this region was not read"))
                finished.append(region)
            self._account(home)
        except ScopeStopped as stop:
            rest = [r for r in regions if r not in finished]
            what = f"regions {', '.join(rest)} and " if rest else ""
            self.skips.add(Skip(self.account_id, ",".join(rest) or "*", "*", "*", stop.kind,
                                f"{what}Budgets and Cost Explorer of account {self.account_id} were not read"))
        return read

    def _enabled(self, home: Scope, regions: list[str]) -> list[str]:
        """The regions enabled for this account (DescribeRegions OptInStatus); disabled ones are skipped."""
        answer = home.call("ec2", "DescribeRegions", AllRegions=True)
        if answer is None:
            return regions  # cannot tell: try them all, failures are recorded per call
        status = {r["RegionName"]: r.get("OptInStatus", "opt-in-not-required") for r in answer.get("Regions", [])}
        enabled = []
        for region in regions:
            if status.get(region) == "not-opted-in":
                self.skips.add(Skip(self.account_id, region, "ec2", "DescribeRegions", "region-disabled",
                                    f"{region} is not enabled for account {self.account_id} (OptInStatus "
                                    "not-opted-in); enable it under Account settings or leave it out"))
            else:
                enabled.append(region)
        return enabled

    def _region(self, scope: Scope, buckets: dict[str, tuple[dict, str]]) -> None:
        """One region; records join ``self.records`` as they are read, so a stop keeps what came before."""
        at, keep = self.at, self.records.extend
        since = self.now - timedelta(days=self.options.days)
        endpoints = inventory.sagemaker_endpoints(scope, at)
        keep(endpoints)
        keep(inventory.notebooks(scope, at))
        keep(inventory.studio(scope, at))
        jobs = inventory.jobs(scope, since, at)
        keep(jobs)
        keep(inventory.bedrock_provisioned(scope, at))
        gpus = inventory.gpu_instances(scope, at)
        keep(gpus)
        keep(inventory.comprehend_endpoints(scope, at))
        keep(alarms.alarms(scope, at))
        keep(alarms.dashboards(scope, at))
        here = {name: bucket for name, (bucket, region) in buckets.items() if region == scope.region}
        training = {j["name"] for j in jobs if j["resource_type"] == "sagemaker-training-job"}
        series = metrics.endpoint_series(endpoints) + metrics.discovered_series(
            scope, training, {g["name"] for g in gpus}, set(here))
        end = self.now.replace(minute=0, second=0, microsecond=0)
        metrics.fetch(scope, series, end - timedelta(days=self.options.metric_days), end, self.tables.datapoints,
                      self.tables.coverage, self.policy)
        for name, bucket in sorted(here.items()):
            keep([inventory.s3_bucket(scope, bucket, scope.region,
                                      metrics.latest_bucket_bytes(self.tables.datapoints, name), at)])
        if self.options.invocation_logs:
            keep(bedrock_logs.invocation_logs(scope, since, self.now, self.tables.invocations, at,
                                              self.options.invocation_log_max_bytes,
                                              self.options.invocation_log_max_objects))

    def _account(self, home: Scope) -> None:
        self.records.extend(ce_collect.budgets(home, self.at))
        if self.options.cost_explorer:
            self.ce = CostExplorer(lambda: self.factory.client("ce", ce_collect.CE_REGION), self.account_id,
                                   self.options.ce_cache_dir, self.options.ce_max_age_s)
            self.records.extend(ce_collect.cost_explorer_records(home, self.ce, self.now.date(), self.options.days,
                                                            self.at))
