"""Savings tracking from the bill, through the CLI: the demo account as real billing files, a scan, then a
December built from the demo's own November rows without the idle endpoint; `aifinops savings` must show
that endpoint's saving as realized, to the cent of the bill (expected values from SQL over the files)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from clirun import run_cli

IDLE_ENDPOINT = "arn:aws:sagemaker:us-east-1:444455556666:endpoint/demo-chatbot-endpoint"


def _ok(*args: str, env: dict | None = None):
    done = run_cli(*args, env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    return done


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """A store holding the demo as real billing files, one recorded scan, and a later December bill."""
    base = tmp_path_factory.mktemp("tracking")
    demo, store = base / "demo", base / "store.duckdb"
    _ok("demo", "--out", str(demo))
    _ok("ingest", str(demo), "--store", str(store))  # the folder `demo --out` writes, as a whole
    scan = json.loads(_ok("scan", "--store", str(store), "--format", "json").stdout)
    november = next((demo / "cur2").rglob("BILLING_PERIOD=2024-11/*.parquet"))
    december = base / "dec" / "data" / "BILLING_PERIOD=2024-12" / "december.parquet"
    december.parent.mkdir(parents=True)
    con = duckdb.connect()
    # November's rows moved 30 days on (Dec 1-30), less every row of the deleted endpoint
    con.execute(
        f"""COPY (SELECT * EXCLUDE (BILLING_PERIOD) REPLACE (
              bill_billing_period_start_date + INTERVAL 30 DAY AS bill_billing_period_start_date,
              TIMESTAMP '2025-01-01' AS bill_billing_period_end_date,
              line_item_usage_start_date + INTERVAL 30 DAY AS line_item_usage_start_date,
              line_item_usage_end_date + INTERVAL 30 DAY AS line_item_usage_end_date)
            FROM '{november}' WHERE coalesce(line_item_resource_id, '') <> ?) TO '{december}' (FORMAT parquet)""",
        [IDLE_ENDPOINT],
    )
    later = _ok("ingest", str(base / "dec"), "--store", str(store), env={"COLUMNS": "200"})
    return {"ingest": later.stdout, "store": store, "scan": scan, "november": november, "december": december,
            "con": con}


def _bill(con, path: Path, resource: str | None = None) -> tuple[float, int]:
    """(billed cost of ``resource`` in the file, days with any usage in the file), straight from the rows."""
    cost = con.execute(
        f"SELECT coalesce(sum(line_item_unblended_cost), 0) FROM '{path}' WHERE line_item_resource_id = ?", [resource]
    ).fetchone()[0]
    days = con.execute(f"SELECT count(DISTINCT CAST(line_item_usage_start_date AS DATE)) FROM '{path}'").fetchone()[0]
    return cost, days


def test_the_deleted_idle_endpoint_shows_as_realized_to_the_cent(tracked):
    con, store = tracked["con"], str(tracked["store"])
    finding = next(
        f for f in tracked["scan"]["findings"]
        if f["check"] == "sagemaker-idle-endpoint" and f["resource_id"] == IDLE_ENDPOINT
    )
    nov_cost, nov_days = _bill(con, tracked["november"], IDLE_ENDPOINT)
    dec_cost, dec_days = _bill(con, tracked["december"], IDLE_ENDPOINT)
    assert nov_cost > 500 and dec_cost == 0 and nov_days == 30 and dec_days == 30
    expected = round((nov_cost / nov_days - dec_cost / dec_days) * 730 / 24, 2)

    report = json.loads(_ok("savings", "--store", store, "--format", "json").stdout)
    outcome = next(o for o in report["findings"] if o["id"] == finding["id"])
    assert outcome["status"] == "fell" and outcome["held"] is True
    assert outcome["baseline"] == {"month": "2024-11-01", "days": 30, "billed_cost_usd": round(nov_cost, 2)}
    assert outcome["months"] == [{"month": "2024-12-01", "days": 30, "billed_cost_usd": 0.0, "status": "fell",
                                  "realized_monthly_usd": expected}]
    assert outcome["predicted_monthly_usd"] == round(finding["monthly_savings_usd"], 2)
    assert outcome["team"] == "team=genai"  # the endpoint's team tag in the billing rows
    # every other endpoint kept its cost: nothing else fell, and the month's realized total is this resource once
    fell = {o["resource_id"] for o in report["findings"] if o["status"] == "fell"}
    assert fell == {IDLE_ENDPOINT}
    assert report["by_month"][0]["month"] == "2024-12-01"
    assert report["by_month"][0]["realized_monthly_usd"] == expected
    check = next(c for c in report["by_check"] if c["check"] == "sagemaker-idle-endpoint")
    assert check["fell"] == 1 and check["held"] == 1 and check["calibration"] == 1.0
    # the other idle endpoints stayed: still open, no saving shown for them
    others = [o for o in report["findings"] if o["check"] == "sagemaker-idle-endpoint" and o["id"] != finding["id"]]
    assert others and all(o["status"] == "stayed" for o in others)

    # the later ingest says it at once (every finding on the deleted endpoint fell; the resource counts once)
    n_fell = sum(o["status"] == "fell" for o in report["findings"])
    assert f"{n_fell} finding(s) whose resource cost fell, ${expected:,.2f}/month realized" in tracked["ingest"]
    text = _ok("savings", "--store", store, env={"COLUMNS": "120"}).stdout
    assert f"${expected:,.2f}/month against ${finding['monthly_savings_usd']:,.2f} predicted" in text
    assert f"billed ${nov_cost:,.2f} in 2024-11 (30 days), $0.00 in 2024-12 (30 days)" in text


def test_decisions_hold_across_scans_and_leave_the_plan(tracked, tmp_path):
    store = str(tracked["store"])
    listed = json.loads(_ok("findings", "list", "--store", store, "--format", "json").stdout)["findings"]
    first, second = listed[0], listed[1]
    bad = run_cli("findings", "dismiss", first["id"], "--store", store)
    assert bad.returncode == 2 and "--reason" in bad.stderr
    _ok("findings", "dismiss", first["id"], "--reason", "the research team needs it", "--store", store)
    _ok("findings", "snooze", second["id"], "--days", "30", "--store", store)
    unknown = run_cli("findings", "accept", first["id"] + "x", "--store", store)
    assert unknown.returncode == 2 and "Did you mean" in unknown.stderr
    _ok("scan", "--store", store, "--format", "json")  # a new scan: the decisions are kept by finding id
    after = json.loads(_ok("findings", "list", "--store", store, "--format", "json").stdout)
    ids = [r["id"] for r in after["findings"]]
    assert first["id"] not in ids and second["id"] not in ids
    hidden = {h["id"]: h for h in after["hidden"]}
    assert hidden[first["id"]]["state"] == "dismissed" and hidden[first["id"]]["reason"] == "the research team needs it"
    # snoozed for 30 data days from the as-of date, 2024-12-30 after the December ingest
    assert hidden[second["id"]]["state"] == "snoozed" and hidden[second["id"]]["until"] == "2025-01-29"
    md = _ok("scan", "--store", store, "--format", "markdown").stdout
    assert "1 dismissed, 1 snoozed left out" in md
    _ok("findings", "reopen", first["id"], "--store", store)
    again = json.loads(_ok("findings", "list", "--store", store, "--format", "json").stdout)
    assert first["id"] in [r["id"] for r in again["findings"]]
    # a later scan does not move the baseline: the first scan that reported a finding sets it
    report = json.loads(_ok("savings", "--store", store, "--format", "json").stdout)
    tracked_again = next(o for o in report["findings"] if o["resource_id"] == IDLE_ENDPOINT
                         and o["check"] == "sagemaker-idle-endpoint")
    assert tracked_again["status"] == "fell" and tracked_again["first_seen_as_of"] == "2024-11-30"
    assert report["scans_recorded"] == 3 and report["last_scan_as_of"] == "2024-12-30"


def test_the_mcp_savings_tool_answers_the_same_through_a_client(tracked):
    import anyio
    from mcp import Client

    from aifinops.mcp_server import build_server
    from aifinops.store import Store

    async def main() -> tuple[bool, str]:
        async with Client(build_server(Store(tracked["store"]))) as client:
            result = await client.call_tool("savings", {})
            return bool(result.is_error), result.content[0].text

    is_error, text = anyio.run(main)
    assert not is_error, text
    doc = json.loads(text)
    cli = json.loads(_ok("savings", "--store", str(tracked["store"]), "--format", "json").stdout)
    assert doc["by_month"] == cli["by_month"] and doc["by_check"] == cli["by_check"]
    nov_cost, nov_days = _bill(tracked["con"], tracked["november"], IDLE_ENDPOINT)
    assert doc["totals"]["realized_monthly_usd"] == round(nov_cost / nov_days * 730 / 24, 2)
    # the answer lists the findings whose cost moved first: the deleted endpoint's
    assert doc["findings_total"] == len(cli["findings"]) and len(doc["findings"]) == 10
    assert doc["findings"][0]["resource_id"] == IDLE_ENDPOINT and doc["findings"][0]["status"] == "fell"


def test_real_billing_data_takes_the_demo_history_with_it(tmp_path):
    store = str(tmp_path / "store.duckdb")
    scan = json.loads(_ok("scan", "--store", store, "--format", "json").stdout)  # the demo, recorded
    assert scan["source"]["kind"] == "demo" and scan["findings"]
    first = scan["findings"][0]["id"]
    _ok("findings", "dismiss", first, "--reason", "demo only", "--store", store)
    legacy = Path(__file__).parent / "data" / "legacy_cur" / "legacy_cur_2024-10.csv"
    _ok("ingest", str(legacy), "--store", store)
    con = duckdb.connect(store, read_only=True)
    counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("scan_runs", "finding_history", "finding_states")]
    con.close()
    assert counts == [0, 0, 0]  # no demo finding or decision is ever tracked against a real bill
