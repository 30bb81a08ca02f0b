"""The FinOps Foundation FOCUS 1.0 sample (real, anonymised; no AWS ``x_`` columns): GPU instance hours
are found from ChargeDescription. Expectations are computed here from the raw CSV with Python's csv."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store

SAMPLE = Path(__file__).parent / "data" / "focus" / "focus_sample_1000.csv"
# "$1.624 per On Demand Linux g5.4xlarge Instance Hour" (AWS Price List wording).
ON_DEMAND_HOUR = re.compile(r"per On Demand \S+ (\S+) Instance Hour$")
GPU_FAMILIES = {"g3", "g4dn", "g5", "g6", "p3", "p4d", "p5"}  # the ones that could occur; the file has g3, g5
PREFIX = {"us-east-1": "", "us-east-2": "USE2-", "us-west-2": "USW2-", "eu-west-2": "EUW2-", "ap-south-1": "APS3-"}


def raw_aws_rows() -> list[dict]:
    with SAMPLE.open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["ProviderName"] == "AWS"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    s = Store(tmp_path_factory.mktemp("focus-real") / "s.duckdb")
    ingest_paths(s, [SAMPLE])
    return s


def test_gpu_instance_hours_are_gpu_ec2(store):
    gpu = [
        r
        for r in raw_aws_rows()
        if (m := ON_DEMAND_HOUR.search(r["ChargeDescription"])) and m.group(1).split(".")[0] in GPU_FAMILIES
    ]
    expected = sum(float(r["BilledCost"]) for r in gpu)
    assert round(expected, 2) == 12.13  # the figure: g5.4xlarge + g3.4xlarge
    with store.connect(read_only=True) as con:
        got, types = con.execute(
            "SELECT sum(billed_cost), list(DISTINCT instance_type ORDER BY instance_type) FROM usage_daily"
            " WHERE ai_service = 'gpu-ec2' AND accelerated AND workload = 'compute'"
        ).fetchone()
        (ai,) = con.execute("SELECT sum(billed_cost) FROM usage_daily WHERE is_ai AND provider = 'AWS'").fetchone()
    assert abs(got - expected) < 0.005
    assert types == sorted({ON_DEMAND_HOUR.search(r["ChargeDescription"]).group(1) for r in gpu})
    assert abs(ai - expected) < 0.005  # nothing else of AWS's is AI (Azure ML is, by its category)


def test_on_demand_hours_get_cur_usage_types(store):
    expected: dict[str, float] = {}
    for r in raw_aws_rows():
        m = ON_DEMAND_HOUR.search(r["ChargeDescription"])
        if m and r["ServiceName"] == "Amazon Elastic Compute Cloud":
            key = PREFIX[r["RegionId"]] + "BoxUsage:" + m.group(1)
            expected[key] = expected.get(key, 0.0) + float(r["BilledCost"])
    with store.connect(read_only=True) as con:
        got = dict(
            con.execute(
                "SELECT usage_type, sum(billed_cost) FROM usage_daily WHERE usage_type LIKE '%BoxUsage:%' GROUP BY 1"
            ).fetchall()
        )
    assert got.keys() == expected.keys()
    for key, cost in expected.items():
        assert abs(got[key] - cost) < 1e-9, key


def test_ebs_optimized_surcharges_are_not_instance_hours(store):
    """A "$0.00 for 1000 Mbps per c5.xlarge instance-hour" row is CUR's EBSOptimized:…, not an instance hour."""
    surcharges = [r for r in raw_aws_rows() if "Mbps per" in r["ChargeDescription"]]
    assert surcharges
    with store.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT usage_type, instance_type FROM charges WHERE description LIKE '%Mbps per%'"
        ).fetchall()
    assert len(rows) == len(surcharges)
    assert all(u is None and t is None for u, t in rows)
