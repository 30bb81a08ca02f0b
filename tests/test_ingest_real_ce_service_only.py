"""Saved Cost Explorer answers at the fidelity people save them: MONTHLY by SERVICE (the commonest),
ungrouped, DAILY by SERVICE, and a list of NextPageToken pages. No published real answer was found, so
these are written in the exact shape `aws ce get-cost-and-usage` prints; totals are summed here."""

from __future__ import annotations

import json

from aifinops.ingest.inputs import ingest_inputs
from aifinops.store import Store


def period(start: str, end: str, groups: dict[str, str] | None, estimated: bool = False, total: str | None = None):
    out = {"TimePeriod": {"Start": start, "End": end}, "Total": {}, "Groups": [], "Estimated": estimated}
    if groups is None:
        out["Total"] = {"UnblendedCost": {"Amount": total, "Unit": "USD"}}
    else:
        out["Groups"] = [
            {"Keys": [k], "Metrics": {"UnblendedCost": {"Amount": v, "Unit": "USD"}}} for k, v in groups.items()
        ]
    return out


def load(tmp_path, answer) -> tuple[dict, float, dict]:
    path = tmp_path / "ce.json"
    path.write_text(json.dumps(answer))
    store = Store(tmp_path / "s.duckdb")
    result = ingest_inputs(store, [path])
    with store.connect(read_only=True) as con:
        (total,) = con.execute("SELECT COALESCE(sum(billed_cost), 0) FROM usage_daily").fetchone()
        by_ai = dict(con.execute("SELECT ai_service, sum(billed_cost) FROM usage_daily GROUP BY 1").fetchall())
    return result.snapshots[0], total, by_ai


def test_monthly_by_service_pages(tmp_path):
    group_defs = [{"Type": "DIMENSION", "Key": "SERVICE"}]
    page1 = {
        "GroupDefinitions": group_defs,
        "NextPageToken": "abc",
        "DimensionValueAttributes": [],
        "ResultsByTime": [
            period("2025-01-01", "2025-02-01", {"Amazon SageMaker": "120.50", "Amazon Simple Storage Service": "10.25"})
        ],
    }
    page2 = {
        "GroupDefinitions": group_defs,
        "DimensionValueAttributes": [],
        "ResultsByTime": [
            period("2025-02-01", "2025-02-15", {"Amazon SageMaker": "60.00", "Tax": "5.00"}, estimated=True)
        ],
    }
    snap, total, by_ai = load(tmp_path, [page1, page2])
    assert abs(total - (120.50 + 10.25 + 60.00 + 5.00)) < 0.005
    assert abs(by_ai["sagemaker"] - 180.50) < 0.005
    assert snap["cost_explorer_periods"] == ["2025-01-01", "2025-02-01"]
    assert "usage-type-based check" in snap["left_out"] and "DAILY" in snap["left_out"]


def test_ungrouped_monthly(tmp_path):
    answer = {"GroupDefinitions": [], "ResultsByTime": [period("2025-03-01", "2025-04-01", None, total="42.42")]}
    snap, total, _ = load(tmp_path, answer)
    assert abs(total - 42.42) < 0.005
    assert "only the total" in snap["left_out"]


def test_daily_by_service(tmp_path):
    answer = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": [
            period(f"2025-04-0{d}", f"2025-04-0{d + 1}", {"Amazon Bedrock": "1.10"}) for d in range(1, 4)
        ],
    }
    snap, total, by_ai = load(tmp_path, answer)
    assert abs(total - 3.30) < 0.005 and abs(by_ai["bedrock"] - 3.30) < 0.005
    assert "usage-type-based check" in snap["left_out"] and "DAILY" not in snap["left_out"]
