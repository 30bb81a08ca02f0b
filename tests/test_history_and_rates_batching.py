"""Two batched paths of a scan keep their answers: ``history.record_scan`` (one INSERT from an Arrow table) stores
each finding as the scan reported it, and ``pricing.rates`` computes the per-resource billed rates only when a
resource is asked about, with the same answers as the per-call statement."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import duckdb

from aifinops.history import record_scan
from aifinops.pricing import billed_rate
from aifinops.pricing.rates import _BY_CONNECTION
from aifinops.store import Store
from usagerows import insert_usage, usage_row


def _finding(i: int, title: str) -> dict:
    return {
        "id": f"chk:{i:04d}", "check": "chk", "title": title, "resource_id": f"arn:aws:x:us-east-1:1:thing/{i}",
        "resource_type": "thing", "region": None, "account_id": "1", "monthly_cost_usd": 10.0 + i / 3,
        "monthly_savings_usd": i / 7, "confidence": "high", "evidence": {"z": [1, 2.5, None], "a": {"b": "é"}},
        "assumptions": [], "actions": [], "group": None,
    }


def test_record_scan_keeps_every_finding_as_reported(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with store.transaction():
        pass
    findings = [_finding(i, "Idle → stop it" if i % 2 else "plain") for i in range(1203)]  # more than one chunk
    doc = {"findings": findings, "source": {"as_of": "2025-06-30", "kind": "store"},
           "period": {"start": "2025-06-01", "end": "2025-06-30"}, "savings": {"total_monthly_usd": 12.5}}
    owners = {findings[5]["resource_id"]: "team=ml"}
    run_id = record_scan(store, doc, owners)
    con = duckdb.connect(str(store.path), read_only=True)
    rows = con.execute(
        "SELECT finding_id, check_id, resource_id, resource_type, owner, monthly_cost_usd, monthly_savings_usd, "
        "confidence, CAST(finding AS VARCHAR), run_id FROM finding_history ORDER BY finding_id").fetchall()
    run = con.execute("SELECT run_id, findings, total_monthly_usd, source_kind FROM scan_runs").fetchall()
    con.close()
    assert run == [(run_id, 1203, 12.5, "store")]
    assert len(rows) == 1203
    for row, f in zip(rows, findings, strict=True):
        fid, check, rid, rtype, owner, cost, saving, conf, text, rid_run = row
        assert (fid, check, rid, rtype, conf, rid_run) == (f["id"], "chk", f["resource_id"], "thing", "high", run_id)
        assert owner == ("team=ml" if f is findings[5] else None)
        assert cost == f["monthly_cost_usd"] and saving == f["monthly_savings_usd"]  # doubles, not rounded
        # the text as the JSON module writes it with sorted keys (non-ASCII escaped), and it reads back the same
        assert text == json.dumps(f, sort_keys=True)
        assert json.loads(text) == f


END = date(2025, 6, 30)
ARN = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/alpha"


def test_resource_rates_are_computed_on_the_first_resource_question(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    sm = dict(instance_type="ml.g5.xlarge", component="Host")
    with store.transaction() as con:
        insert_usage(con, [
            usage_row(**sm, resource_id=ARN, usage_date=END, usage_quantity=24.0, billed_cost=30.0),
            usage_row(**sm, resource_id=ARN, usage_date=END - timedelta(days=1), usage_quantity=24.0,
                      billed_cost=36.0),
            usage_row(**sm, resource_id="arn:aws:sagemaker:us-east-1:111122223333:endpoint/beta", usage_date=END,
                      usage_quantity=10.0, billed_cost=20.0),
        ])
    with store.connect(read_only=True) as con:
        account = billed_rate(con, "ml.g5.xlarge", "us-east-1", "Hosting")
        assert account is not None and math.isclose(account.usd_per_unit, (30 + 36 + 20) / 58)
        assert 30 in _BY_CONNECTION[con] and ("resources", 30) not in _BY_CONNECTION[con]
        own = billed_rate(con, "ml.g5.xlarge", "us-east-1", "Hosting", resource_id=ARN.upper())
        assert own is not None and math.isclose(own.usd_per_unit, 66 / 48)
        assert ("resources", 30) in _BY_CONNECTION[con]
        assert billed_rate(con, "ml.g5.xlarge", "us-east-1", "Hosting", resource_id="arn:unknown") is None
