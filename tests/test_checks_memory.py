"""Checks that scale with the data, not the resource count, in memory: a check reads one row per resource (grouped in
the store), not one per resource and day, and its findings are the ones a second computation written here gets from
the raw rows. Rows are counted where they enter Python: a wrapper around the DuckDB connection counts every fetched
row and refuses the fetches it cannot count."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest

from aifinops.checks import run_checks
from aifinops.store import Store
from usagerows import AS_OF, insert_usage, usage_row

DAYS = 14  # gpu-ec2-idle's default look-back
GPU_TYPES = [("p4d.24xlarge", 32.7726), ("g5.xlarge", 1.006), ("g5.12xlarge", 5.672), ("p3.2xlarge", 3.06)]
ACCOUNTS = ["111122223333", "444455556666"]
REGIONS = ["us-east-1", "us-west-2"]


class _CountingCursor:
    def __init__(self, cur: Any, owner: CountingConnection) -> None:
        self._cur, self._owner = cur, owner

    @property
    def description(self) -> Any:
        return self._cur.description

    def fetchone(self) -> Any:
        row = self._cur.fetchone()
        self._owner.fetched += row is not None
        return row

    def fetchmany(self, size: int = 1) -> list:
        rows = self._cur.fetchmany(size)
        self._owner.fetched += len(rows)
        return rows

    def fetchall(self) -> list:
        rows = self._cur.fetchall()
        self._owner.fetched += len(rows)
        return rows

    def __getattr__(self, name: str) -> Any:
        if name.startswith("fetch") or name in {"df", "pl", "arrow", "record_batch"}:
            raise AssertionError(f"{name}: rows fetched this way are not counted")
        return getattr(self._cur, name)


class CountingConnection:
    """A DuckDB connection that counts the rows its results hand to Python."""

    def __init__(self, con: Any) -> None:
        self._con, self.fetched = con, 0

    def execute(self, sql: str, params: Any = None) -> _CountingCursor:
        cur = self._con.execute(sql) if params is None else self._con.execute(sql, params)
        return _CountingCursor(cur, self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


# --- gpu-ec2-idle --------------------------------------------------------------------------------------


def _gpu_rows(n: int, seed: int) -> tuple[list[dict], set[str]]:
    """``n`` GPU EC2 instances over the look-back, real-shaped: mixed types, accounts and regions; a quarter run
    8 h a day; some start late; every third ends on a day split between on-demand and Savings Plan hours; Tax
    lines beside the usage. Returns the rows (shuffled) and the instance ids whose GPUs report 2% utilization."""
    rnd = random.Random(seed)
    rows, idle = [], set()
    for i in range(n):
        iid = f"i-{i:017x}"
        itype, rate = GPU_TYPES[i % len(GPU_TYPES)]
        rate += rnd.randint(0, 999) / 10_000  # a rate that is not round
        account, region = ACCOUNTS[i % 2], REGIONS[(i // 2) % 2]
        hours = 8.0 if i % 4 == 3 else 24.0
        start = rnd.randint(0, 3) if i % 5 == 1 else 0
        common = dict(
            account_id=account,
            billing_account_id=account,
            region=region,
            service_code="AmazonEC2",
            ai_service="gpu-ec2",
            workload="compute",
            resource_id=iid,
            instance_type=itype,
            instance_family=itype.split(".")[0],
            accelerated=True,
            usage_type=f"BoxUsage:{itype}",
        )
        for d in range(start, DAYS):
            day = AS_OF - timedelta(days=DAYS - 1 - d)
            last = d == DAYS - 1
            if last and i % 3 == 0:  # the last day: part on-demand, part covered by a Savings Plan
                rows.append(
                    usage_row(**common, usage_date=day, usage_quantity=hours - 14.0, billed_cost=(hours - 14.0) * rate)
                )
                rows.append(
                    usage_row(
                        **common,
                        usage_date=day,
                        usage_quantity=14.0,
                        billed_cost=14.0 * rate * 0.6,
                        line_item_type="SavingsPlanCoveredUsage",
                        purchase_option="savings-plan",
                    )
                )
            else:
                rows.append(usage_row(**common, usage_date=day, usage_quantity=hours, billed_cost=hours * rate))
            if d % 7 == 0:
                rows.append(
                    usage_row(
                        **common,
                        usage_date=day,
                        usage_quantity=0.0,
                        billed_cost=rate,
                        line_item_type="Tax",
                        pricing_unit=None,
                    )
                )
        if i % 5 == 0:
            idle.add(iid)
    rnd.shuffle(rows)
    return rows, idle


def _insert_idle_metrics(con: Any, idle: set[str]) -> None:
    for iid in sorted(idle):
        for d in range(DAYS):
            day = AS_OF - timedelta(days=d)
            for hour in (3, 15):
                con.execute(
                    "INSERT INTO metrics (account_id, region, namespace, metric_name, dimensions, ts, period_s, "
                    "statistic, value, unit, source) VALUES (NULL, NULL, 'CWAgent', 'nvidia_smi_utilization_gpu', "
                    "MAP {'InstanceId': ?, 'index': '0'}, ?, 3600, 'Average', 2.0, 'Percent', 'aws')",
                    [iid, datetime(day.year, day.month, day.day, hour)],
                )


def _expected_gpu(rows: list[dict], idle: set[str]) -> dict[str, dict]:
    """The findings by a second computation: the usage lines' hours and cost per instance, in Python."""
    by_instance: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["line_item_type"] in ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"):
            by_instance[r["resource_id"]].append(r)
    expected = {}
    for iid, rs in by_instance.items():
        hours = sum(r["usage_quantity"] for r in rs)
        cost = sum(r["billed_cost"] for r in rs)
        days = {r["usage_date"] for r in rs}
        hours_per_day = hours / ((max(days) - min(days)).days + 1)
        monthly = cost * 730 / (24 * DAYS)
        if hours_per_day < 20 or monthly < 1.0:
            continue
        last_day = [r for r in rs if r["usage_date"] == max(days)]
        latest = max(last_day, key=lambda r: r["usage_quantity"])
        expected[iid] = {
            "instance_type": latest["instance_type"],
            "purchase_option": latest["purchase_option"],
            "hours_per_day_avg": hours_per_day,
            "window_cost_usd": cost,
            "usd_per_hour": cost / hours,
            "monthly": monthly,
            "savings": monthly if iid in idle else 0.0,
            "account_id": rs[0]["account_id"],
            "region": rs[0]["region"],
        }
    return expected


def _run_gpu(tmp_path, n: int) -> tuple[int, dict, dict]:
    rows, idle = _gpu_rows(n, seed=n)
    with Store(tmp_path / f"gpu{n}.duckdb").connect() as con:
        insert_usage(con, rows)
        _insert_idle_metrics(con, idle)
        counting = CountingConnection(con)
        run = run_checks(counting, only=["gpu-ec2-idle"])  # type: ignore[arg-type]
    assert run.errors == [] and run.skipped == []
    return counting.fetched, {f.resource_id: f for f in run.findings}, _expected_gpu(rows, idle)


def test_gpu_ec2_idle_findings_match_a_second_computation(tmp_path):
    _, got, expected = _run_gpu(tmp_path, 24)
    assert set(got) == set(expected) and len(expected) == 18  # the 8 h/day quarter is not left running
    purchase = {e["purchase_option"] for e in expected.values()}
    assert purchase == {"on-demand", "savings-plan"}  # the split last day names the Savings Plan row
    for iid, e in expected.items():
        f = got[iid]
        assert (f.account_id, f.region) == (e["account_id"], e["region"])
        assert (
            f.evidence["instance_type"] == e["instance_type"] and f.evidence["purchase_option"] == e["purchase_option"]
        )
        for name in ("hours_per_day_avg", "window_cost_usd", "usd_per_hour"):
            assert f.evidence[name] == pytest.approx(e[name], rel=1e-9), (iid, name)
        assert f.monthly_cost_usd == pytest.approx(e["monthly"], rel=1e-9)
        assert f.monthly_savings_usd == pytest.approx(e["savings"], rel=1e-9)
        assert f.confidence == ("high" if e["savings"] else "low")


def test_gpu_ec2_idle_fetches_a_row_per_instance_not_per_day(tmp_path):
    few_fetched, few, _ = _run_gpu(tmp_path, 8)
    many_fetched, many, _ = _run_gpu(tmp_path, 80)
    assert len(few) == 6 and len(many) == 60
    # per instance: its grouped usage row and (idle ones) its utilization row; a few more for the store's dates.
    # One row per instance and day would be 14 x 80 = 1,120 rows.
    assert many_fetched <= 2 * 80 + 10 and few_fetched <= 2 * 8 + 10
    assert many_fetched - few_fetched <= 2 * (80 - 8)


# --- previous-gen-accelerators ---------------------------------------------------------------------------

PREV_DAYS = 30  # previous-gen-accelerators' default look-back


def _prev_gen_rows(n: int, seed: int) -> list[dict]:
    """``n`` previous-generation resources over the look-back: GPU EC2 g4dn instances (by id), SageMaker p3
    endpoints (by ARN) and SageMaker g4dn training hours without a resource id (grouped per account, region,
    component and type); hours vary by day, some days are missing, some days are Savings Plan covered, Tax lines
    beside the usage."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        account, region = ACCOUNTS[i % 2], REGIONS[(i // 2) % 2]
        kind = i % 3
        if kind == 0:
            itype, extra = (
                "g4dn.xlarge",
                dict(service_code="AmazonEC2", ai_service="gpu-ec2", resource_id=f"i-{i:017x}"),
            )
        elif kind == 1:
            arn = f"arn:aws:sagemaker:{region}:{account}:endpoint/ep-{i:04d}"
            itype, extra = "ml.p3.2xlarge", dict(component="Hosting", resource_id=arn)
        else:
            itype, extra = "ml.g4dn.xlarge", dict(component="Train", resource_id=None)
        rate = 0.5 + rnd.randint(0, 9999) / 1000
        common = dict(
            account_id=account,
            billing_account_id=account,
            region=region,
            instance_type=itype,
            instance_family=itype.removeprefix("ml.").split(".")[0],
            accelerated=True,
            usage_type=f"BoxUsage:{itype}",
            **extra,
        )
        for d in range(PREV_DAYS):
            if rnd.random() < 0.3:
                continue
            day = AS_OF - timedelta(days=d)
            hours = rnd.randint(1, 24) * 1.0
            sp = rnd.random() < 0.2
            rows.append(
                usage_row(
                    **common,
                    usage_date=day,
                    usage_quantity=hours,
                    billed_cost=hours * rate * (0.6 if sp else 1),
                    purchase_option="savings-plan" if sp else "on-demand",
                    line_item_type="SavingsPlanCoveredUsage" if sp else "Usage",
                )
            )
            if d % 10 == 0:
                rows.append(
                    usage_row(
                        **common,
                        usage_date=day,
                        usage_quantity=0.0,
                        billed_cost=rate,
                        line_item_type="Tax",
                        pricing_unit=None,
                    )
                )
    rnd.shuffle(rows)
    return rows


def _expected_prev_gen(rows: list[dict]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["line_item_type"] == "Tax":
            continue
        key = r["resource_id"] or f"{r['account_id']}/{r['region']}/{r['component'] or 'EC2'}/{r['instance_type']}"
        groups[key].append(r)
    expected = {}
    for key, rs in groups.items():
        hours = sum(r["usage_quantity"] for r in rs)
        cost = sum(r["billed_cost"] for r in rs)
        monthly = cost * 730 / (24 * PREV_DAYS)
        if monthly < 1.0 or hours <= 0:
            continue
        first = rs[0]
        expected[key] = {
            "instance_type": first["instance_type"],
            "component": first["component"],
            "purchase_option": min(r["purchase_option"] for r in rs),  # the first row: other columns are equal
            "hours": hours,
            "window_cost_usd": cost,
            "usd_per_hour": cost / hours,
            "billed_days": len({r["usage_date"] for r in rs}),
            "monthly": monthly,
            "account_id": first["account_id"],
            "region": first["region"],
        }
    return expected


def _run_prev_gen(tmp_path, n: int) -> tuple[int, dict, dict]:
    rows = _prev_gen_rows(n, seed=n)
    with Store(tmp_path / f"prev{n}.duckdb").connect() as con:
        insert_usage(con, rows)
        counting = CountingConnection(con)
        run = run_checks(counting, only=["previous-gen-accelerators"])  # type: ignore[arg-type]
    assert run.errors == [] and run.skipped == []
    return counting.fetched, {f.resource_id: f for f in run.findings}, _expected_prev_gen(rows)


def test_previous_gen_findings_match_a_second_computation(tmp_path):
    _, got, expected = _run_prev_gen(tmp_path, 30)
    assert set(got) == set(expected) and len(expected) == 10 + 10 + 4  # training hours: 2 accounts x 2 regions
    replacement = {"g4dn.xlarge": "g6.xlarge", "ml.p3.2xlarge": "ml.g5.2xlarge", "ml.g4dn.xlarge": "ml.g6.xlarge"}
    for key, e in expected.items():
        f = got[key]
        assert (f.account_id, f.region) == (e["account_id"], e["region"])
        for name in ("instance_type", "component", "purchase_option", "billed_days"):
            assert f.evidence[name] == e[name], (key, name)
        assert f.evidence["replacement"] == replacement[e["instance_type"]]
        for name in ("hours", "window_cost_usd", "usd_per_hour"):
            assert f.evidence[name] == pytest.approx(e[name], rel=1e-9), (key, name)
        assert f.monthly_cost_usd == pytest.approx(e["monthly"], rel=1e-9)


def test_previous_gen_fetches_a_row_per_resource_not_per_day(tmp_path):
    few_fetched, few, _ = _run_prev_gen(tmp_path, 9)
    many_fetched, many, _ = _run_prev_gen(tmp_path, 90)
    assert len(few) == 3 + 3 + 3 and len(many) == 30 + 30 + 4
    # one grouped row per finding's resource, a few more for the store's dates and prices; one row per resource
    # and billed day would be about 0.7 x 30 x 90 = 1,900 rows
    assert many_fetched <= 2 * 64 + 20 and few_fetched <= 2 * 9 + 20


# --- sagemaker-savings-plan ------------------------------------------------------------------------------

SP_DAYS = 30  # sagemaker-savings-plan's default look-back
PAYERS = ["999988887777", "555566667777"]


def _sp_rows(n: int, seed: int) -> list[dict]:
    """``n`` SageMaker resources billed on demand over the look-back under two payers: always-on GPU notebook
    instances (by ARN: the notebook check's findings cut their spend), endpoint hours without a resource id, a few
    Spot training days (left out); hours vary by day and some days are missing."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        account, region, payer = ACCOUNTS[i % 2], REGIONS[(i // 2) % 2], PAYERS[(i // 4) % 2]
        if i % 3 == 0:
            name = f"arn:aws:sagemaker:{region}:{account}:notebook-instance/nb{i:04d}"
            itype, comp, rid, always = "ml.g4dn.xlarge", "Notebk", name, True
        elif i % 3 == 1:
            itype, comp, rid, always = "ml.g5.xlarge", "Host", None, False
        else:
            itype, comp, rid, always = (
                "ml.p3.2xlarge",
                "Train",
                f"arn:aws:sagemaker:{region}:{account}:training-job/j{i}",
                False,
            )
        rate = 0.5 + rnd.randint(0, 9999) / 1000
        common = dict(
            account_id=account,
            billing_account_id=payer,
            region=region,
            instance_type=itype,
            component=comp,
            resource_id=rid,
            usage_type=f"USE1-{comp}:{itype}",
            accelerated=True,
            instance_family=itype.split(".")[1],
        )
        for d in range(SP_DAYS):
            if not always and rnd.random() < 0.25:
                continue
            hours = 24.0 if always else rnd.randint(1, 24) * 1.0
            spot = comp == "Train" and rnd.random() < 0.2
            rows.append(
                usage_row(
                    **common,
                    usage_date=AS_OF - timedelta(days=d),
                    usage_quantity=hours,
                    billed_cost=hours * rate * (0.3 if spot else 1.0),
                    purchase_option="spot" if spot else "on-demand",
                )
            )
    rnd.shuffle(rows)
    return rows


def _percentile(values: list[float], pct: float) -> float:
    """numpy's default (linear) percentile, written out: rank (n - 1) x pct / 100 between its two neighbours."""
    values = sorted(values)
    rank = (len(values) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def test_savings_plan_findings_match_a_second_computation(tmp_path):
    rows = _sp_rows(36, seed=7)
    with Store(tmp_path / "sp.duckdb").connect() as con:
        insert_usage(con, rows)
        run = run_checks(con)
    assert run.errors == []
    # cuts: per resource, the largest share of its cost a phase-1 finding saves (the notebooks are always on)
    cuts: dict[str, float] = {}
    for f in run.findings:
        if f.check != "sagemaker-savings-plan" and f.monthly_cost_usd > 0 and f.monthly_savings_usd > 0:
            cuts[f.resource_id] = max(
                cuts.get(f.resource_id, 0.0), min(1.0, f.monthly_savings_usd / f.monthly_cost_usd)
            )
    assert sum(rid.split("/")[-1].startswith("nb") for rid in cuts) == 12
    got = {f.resource_id: f for f in run.findings if f.check == "sagemaker-savings-plan"}
    assert set(got) == {f"sagemaker-savings-plan/{p}" for p in PAYERS}
    for payer in PAYERS:
        mine = [r for r in rows if r["billing_account_id"] == payer and r["purchase_option"] == "on-demand"]
        daily: dict = defaultdict(float)
        for r in mine:
            keys = [
                r["resource_id"],
                f"{r['account_id']}/{r['region']}/{r['usage_type']}",
                f"{r['account_id']}/{r['region']}/{r['instance_type']}",
                f"{r['account_id']}/{r['region']}/{r['component']}/{r['instance_type']}",
            ]
            cut = max(cuts.get(k, 0.0) for k in keys if k)
            daily[r["usage_date"]] += r["billed_cost"] * (1 - cut)
        hourly = [daily.get(AS_OF - timedelta(days=d), 0.0) / 24 for d in range(SP_DAYS)]
        commit = _percentile(hourly, 10)
        e = got[f"sagemaker-savings-plan/{payer}"].evidence
        assert e["window_on_demand_cost_usd"] == pytest.approx(sum(r["billed_cost"] for r in mine), rel=1e-9)
        assert e["window_on_demand_cost_after_other_findings_usd"] == pytest.approx(sum(daily.values()), rel=1e-9)
        assert e["covered_on_demand_usd_per_hour"] == pytest.approx(commit, rel=1e-9)
        assert e["hourly_on_demand_max_usd"] == pytest.approx(max(hourly), rel=1e-9)
        assert got[f"sagemaker-savings-plan/{payer}"].monthly_savings_usd == pytest.approx(commit * 0.2 * 730, rel=1e-9)


def _run_sp_counting(tmp_path, n: int) -> tuple[int, int]:
    with Store(tmp_path / f"sp{n}.duckdb").connect() as con:
        insert_usage(con, _sp_rows(n, seed=n))
        counting = CountingConnection(con)
        params = {"sagemaker-savings-plan": {"net_of_findings": False}}  # only this check's own questions
        run = run_checks(counting, only=["sagemaker-savings-plan"], params=params)  # type: ignore[arg-type]
    assert run.errors == []
    return counting.fetched, len(run.findings)


def test_savings_plan_fetches_a_row_per_payer_and_day_not_per_resource(tmp_path):
    few_fetched, few = _run_sp_counting(tmp_path, 8)
    many_fetched, many = _run_sp_counting(tmp_path, 120)
    assert few == many == 2
    # per payer: its gross row and a row per billed day; a few more for the store's dates. One row per resource
    # and day would be about 120 x 30 x 0.8 = 2,900 rows.
    assert many_fetched <= 2 * (1 + SP_DAYS) + 10 and few_fetched <= 2 * (1 + SP_DAYS) + 10
