"""store.inventory_rows: the one reader of inventory rows of a resource type with their attributes parsed (the
checks, the MCP inventory and metrics answers, alerts and budgets each wrote it before)."""

from __future__ import annotations

import json

from aifinops.store import Store, inventory_rows


def _store(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    rows = [  # written in this order; resource ids sort differently
        ("111122223333", "us-east-1", "budget", "b-2", "zeta", json.dumps({"BudgetName": "zeta"})),
        ("111122223333", "us-east-1", "cloudwatch-alarm", "a-9", "high-cpu", json.dumps({"StateValue": "ALARM"})),
        ("111122223333", "us-east-1", "budget", "b-1", "alpha", json.dumps({"BudgetName": "alpha"})),
        ("111122223333", "us-east-1", "cloudwatch-alarm", "a-1", "no-attrs", None),
    ]
    with store.transaction() as con:
        con.executemany("INSERT INTO resources (account_id, region, resource_type, resource_id, name, attributes)"
                        " VALUES (?, ?, ?, ?, ?, ?)", rows)
    return store


def test_one_type_several_and_all(tmp_path):
    with _store(tmp_path).connect(read_only=True) as con:
        budgets = inventory_rows(con, "budget")
        assert [r["resource_id"] for r in budgets] == ["b-1", "b-2"]  # the default order: by resource id
        assert budgets[0]["attributes"] == {"BudgetName": "alpha"} and budgets[0]["name"] == "alpha"
        assert [r["resource_id"] for r in inventory_rows(con, ["budget", "cloudwatch-alarm"])] == [
            "a-1", "a-9", "b-1", "b-2"]
        assert len(inventory_rows(con)) == 4
        assert inventory_rows(con, "sagemaker-endpoint") == []


def test_orders_and_missing_attributes(tmp_path):
    with _store(tmp_path).connect(read_only=True) as con:
        alarms = inventory_rows(con, "cloudwatch-alarm", order="rowid")
        assert [r["resource_id"] for r in alarms] == ["a-9", "a-1"]  # as written
        assert alarms[0]["attributes"] == {"StateValue": "ALARM"} and alarms[1]["attributes"] is None
        assert [r["name"] for r in inventory_rows(con, "budget", order="name DESC")] == ["zeta", "alpha"]
