"""Every total shown beside its breakdown is the sum of the breakdown, to the cent.

A user adding up the rows of an answer must get the total printed beside them. The sums here are computed in the
test (``Decimal`` of the printed figures), never with the code under test. Each place is checked on the demo
account, on a store ingested from a real export (tests/data/real), and on hand-made rows whose amounts sit on half
cents, where rounding each row on its own and the total on its own drifts apart.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from aifinops.actions import action_plan
from aifinops.mcp_server import build_server
from aifinops.store import Store, refresh_summaries
from clirun import run_cli
from test_json_answers_rounded import badly_printed
from usagerows import insert_usage, usage_row

FOCUS = Path(__file__).parent / "data" / "real" / "focus-sample-1.0" / "focus_sample_1000.csv"
HALF_CENT_MONTH = {"start_date": "2025-06-01", "end_date": "2025-07-01"}


def dollars(value: Any) -> Decimal:
    """A printed figure (number or CE ``Amount`` string) as the exact decimal a reader sees."""
    return Decimal(str(value))


def to_cent(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def adds_up(parts: list[Any], total: Any) -> bool:
    """The parts, added by hand, give the total to the cent."""
    return to_cent(sum((dollars(p) for p in parts), Decimal(0))) == to_cent(dollars(total))


def call(store: Store, name: str, args: dict[str, Any]) -> dict[str, Any]:
    async def main() -> tuple[bool, str]:
        async with Client(build_server(store)) as client:
            result = await client.call_tool(name, args)
            return bool(result.is_error), result.content[0].text

    is_error, text = anyio.run(main)
    assert not is_error, text
    return json.loads(text)


@pytest.fixture(scope="module")
def focus_store(tmp_path_factory) -> Store:
    from aifinops.ingest.pipeline import ingest_paths

    store = Store(tmp_path_factory.mktemp("focus-real") / "s.duckdb")
    ingest_paths(store, [FOCUS])
    return store


# Rows of half a cent (and less), across services and workloads: rounding each breakdown row alone gives cents the
# total does not hold (three rows of $0.005 round to $0.03 beside a total of $0.01 or $0.02).
HALF_CENT_ROWS = [
    *(usage_row(ai_service="sagemaker", workload="inference", billed_cost=0.005, line_items=1,
                resource_id=f"endpoint-{i}") for i in range(3)),
    *(usage_row(service_code="AmazonBedrock", ai_service="bedrock", workload="genai", billed_cost=0.004,
                line_items=1, usage_date=date(2025, 6, 10 + i)) for i in range(7)),
    usage_row(service_code="comprehend", ai_service="comprehend", workload="nlp", billed_cost=798044.595,
              line_items=1, usage_date=date(2025, 6, 2)),
    usage_row(service_code="AmazonEC2", ai_service=None, workload=None, is_ai=False, billed_cost=0.005,
              line_items=1, usage_date=date(2025, 6, 3)),
]


@pytest.fixture(scope="module")
def half_cent_store(tmp_path_factory) -> Store:
    store = Store(tmp_path_factory.mktemp("half-cents") / "s.duckdb")
    with store.connect() as con:
        insert_usage(con, HALF_CENT_ROWS)
        refresh_summaries(con)
    return store


# ---------------------------------------------------------------- ai_cost_overview (MCP): AI cost by service, workload


def _overview_adds_up(doc: dict[str, Any]) -> None:
    assert doc["by_ai_service"] and doc["by_workload"]
    assert adds_up(list(doc["by_ai_service"].values()), doc["ai_cost_usd"]), doc
    assert adds_up(list(doc["by_workload"].values()), doc["ai_cost_usd"]), doc


def test_overview_breakdowns_add_up_on_the_demo(demo_store):
    _overview_adds_up(call(demo_store, "ai_cost_overview", {}))


def test_overview_breakdowns_add_up_on_a_real_focus_export(focus_store):
    _overview_adds_up(call(focus_store, "ai_cost_overview", {}))


def test_overview_breakdowns_add_up_on_half_cents(half_cent_store):
    doc = call(half_cent_store, "ai_cost_overview", HALF_CENT_MONTH)
    _overview_adds_up(doc)
    # the total itself is the rows' sum, added here by hand
    exact = sum((Decimal(str(r["billed_cost"])) for r in HALF_CENT_ROWS if r["is_ai"]), Decimal(0))
    assert dollars(doc["ai_cost_usd"]) == to_cent(exact)


# ---------------------------------------------------------------- aifinops scan --format json


def test_scan_json_totals_and_savings_add_up(demo_store_copy, tmp_path):
    store = demo_store_copy("totals")
    out = tmp_path / "scan.json"
    done = run_cli("scan", "--store", str(store.path), "--format", "json", "--output", str(out))
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text())
    assert doc["findings"] and badly_printed(doc) == []  # every number under the one rule of JSON answers
    totals = doc["totals"]
    assert adds_up(list(totals["by_service"].values()), totals["ai_cost_usd"])
    assert adds_up(list(totals["by_workload"].values()), totals["ai_cost_usd"])
    assert doc["findings"]
    assert adds_up([f["monthly_savings_usd"] for f in doc["findings"]], doc["savings"]["gross_monthly_usd"])
    # the providers' billed cost beside the period's total cost
    assert adds_up([p["billed_cost_usd"] for p in doc["source"]["providers"]], totals["total_cost_usd"])


# ---------------------------------------------------------------- the action plan (dashboard, exports): gross savings


def _finding(i: int, savings: float) -> dict[str, Any]:
    return {"id": f"idle-endpoint:{i:012d}", "check": "idle-endpoint", "title": f"Idle endpoint {i}",
            "resource_id": f"arn:aws:sagemaker:us-east-1:111122223333:endpoint/e{i}", "resource_type": "endpoint",
            "region": "us-east-1", "account_id": "111122223333", "monthly_cost_usd": 10.0,
            "monthly_savings_usd": savings, "confidence": "high"}


def test_action_plan_gross_savings_add_up_on_half_cents(con):
    findings = [_finding(i, 0.005) for i in range(3)] + [_finding(3 + i, 0.004) for i in range(5)]
    plan = action_plan(con, findings)
    assert len(plan["actions"]) == len(findings)
    assert adds_up([a["monthly_savings_usd"] for a in plan["actions"]], plan["gross_monthly_usd"]), plan
    # each resource is priced once: the deduplicated total is the gross here, and the gross is the findings' sum
    exact = sum((Decimal(str(f["monthly_savings_usd"])) for f in findings), Decimal(0))
    assert abs(dollars(plan["gross_monthly_usd"]) - exact) < Decimal("0.01")


def test_action_plan_never_shows_a_saving_above_its_cost(con):
    """Idle resources save all they cost: $10.004 three times. Largest remainder alone would give one of them the
    cent the gross ($30.01) needs, and show $10.01 of savings beside a cost of $10.00; each stays at its cost."""
    findings = [{**_finding(i, 10.004), "monthly_cost_usd": 10.004} for i in range(3)]
    plan = action_plan(con, findings)
    for action in plan["actions"]:
        assert dollars(action["monthly_savings_usd"]) <= dollars(action["monthly_cost_usd"]) == Decimal("10.00")
    assert plan["gross_monthly_usd"] == 30.01  # the findings' sum, 30.012, in cents; the actions show 30.00


def test_action_plan_gross_savings_add_up_on_the_demo(demo_store):
    from aifinops.checks import run_checks

    with demo_store.connect(read_only=True) as con:
        findings = [f.model_dump(mode="json") for f in run_checks(con).findings]
        plan = action_plan(con, findings)
    assert plan["actions"]
    assert adds_up([a["monthly_savings_usd"] for a in plan["actions"]], plan["gross_monthly_usd"])


# ---------------------------------------------------------------- forecasts: the Total beside its periods


def test_cost_forecast_total_is_its_periods(demo_store):
    for granularity in ("MONTHLY", "DAILY"):
        doc = call(demo_store, "get_cost_forecast",
                   {"date_range": {"start_date": "2024-12-01", "end_date": "2025-02-01"},
                    "granularity": granularity})
        periods = doc["ForecastResultsByTime"]
        assert len(periods) > 1
        assert adds_up([p["MeanValue"] for p in periods], doc["Total"]["Amount"]), granularity


# ---------------------------------------------------------------- find_waste (MCP): every page's findings vs the gross


def test_find_waste_findings_add_up_to_the_gross_on_the_demo(demo_store):
    pages = [call(demo_store, "find_waste", {"top": 50})]
    while pages[-1].get("next_token"):
        pages.append(call(demo_store, "find_waste", {"top": 50, "next_token": pages[-1]["next_token"]}))
    savings = [f["monthly_savings_usd"] for p in pages for f in p["findings"]]
    assert len(savings) == pages[0]["findings_total"] > 1
    assert adds_up(savings, pages[0]["savings"]["gross_monthly_usd"])
    shown = [f for p in pages for f in p["findings"]]
    assert all(dollars(f["monthly_savings_usd"]) <= dollars(f["monthly_cost_usd"]) for f in shown
               if f["monthly_savings_usd"] <= f["monthly_cost_usd"] + 0.01)  # none pushed above the cost it saves


# ---------------------------------------------------------------- cost-comparison (MCP): groups vs TotalCostAndUsage


def test_cost_comparison_groups_add_up_to_the_total_on_half_cents(half_cent_store):
    doc = call(half_cent_store, "cost-comparison", {
        "operation": "getCostAndUsageComparisons", "baseline_start_date": "2025-05-01",
        "baseline_end_date": "2025-06-01", "comparison_start_date": "2025-06-01", "comparison_end_date": "2025-07-01",
        "group_by": "SERVICE", "max_results": 50})
    groups = [g["Metrics"]["UnblendedCost"] for g in doc["CostAndUsageComparisons"]]
    total = doc["TotalCostAndUsage"]["UnblendedCost"]
    assert len(groups) == 4 and "NextPageToken" not in doc
    for key in ("BaselineTimePeriodAmount", "ComparisonTimePeriodAmount", "Difference"):
        assert adds_up([g[key] for g in groups], total[key]), (key, groups, total)


# ---------------------------------------------------------------- the GenAI views (MCP): agents, requests, gateway


def _agent_parts_add_up(doc: dict[str, Any]) -> None:
    assert doc["agents"]
    for agent in doc["agents"]:
        parts = [v for k, v in agent.items() if k.endswith("_usd") and k != "total_usd"]
        assert len(parts) == 4
        assert adds_up(parts, agent["total_usd"]), agent


def test_cost_per_agent_rows_add_up_on_half_cents(tmp_path):
    from aifinops.ingest.pipeline import ingest_paths
    from curfixtures import cur2_row, write_cur2

    acct, day, tok = "111122223333", "2026-05-03", "USE1-NovaPro-input-tokens"
    role = f"arn:aws:iam::{acct}:role/support-agent-exec"
    bill = [
        # AgentCore $1.005 + inference $2.005 = $3.01, where the parts rounded alone show $1.00 + $2.00
        cur2_row("2026-05", day, "AmazonBedrockAgentCore", "USE1-Runtime:Consumption-based:vCPU", 1.005,
                 line_item_resource_id=f"arn:aws:bedrock-agentcore:us-east-1:{acct}:runtime/support_agent-a1b2"),
        cur2_row("2026-05", day, "AmazonBedrock", tok, 2.005, line_item_iam_principal=role),
    ]
    bill[1]["tags"] = [("iamPrincipal/agent", "support_agent-a1b2")]
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [write_cur2(tmp_path / "cur" / "x.parquet", bill)])
    doc = call(store, "cost_per_agent", {"start_date": "2026-05-01", "end_date": "2026-06-01"})
    assert [a["agent"] for a in doc["agents"]] == ["support_agent-a1b2"]
    assert dollars(doc["agents"][0]["total_usd"]) == Decimal("3.01")
    _agent_parts_add_up(doc)


def test_cost_per_request_rows_add_up_on_the_demo(demo_store):
    doc = call(demo_store, "cost_per_request", {"group_by": ["model"]})
    assert doc["rows"] and doc["rows_total"] == len(doc["rows"])
    assert adds_up([r["cost_usd"] for r in doc["rows"]], doc["allocated_usd"])
    assert adds_up([doc["allocated_usd"], doc["unallocated_usd"]], doc["billed_bedrock_usd"])


def test_reconcile_gateway_rows_add_up_on_the_demo(demo_store):
    """The CLI's reconciliation keeps its rows to six decimals: they add up to the totals in cents. (The MCP answer
    shows them in cents that add up, each within a cent of the CLI's and of its spend log:
    test_reconcile_gateway_mcp_rows_add_up_on_half_cents below, tests/test_mcp_genai_tools.py.)"""
    done = run_cli("genai", "reconcile", "--store", str(demo_store.path), "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert len(doc["rows"]) > 1
    assert adds_up([r["billed_usd"] for r in doc["rows"]], doc["billed_usd"])
    assert adds_up([r["gateway_usd"] for r in doc["rows"]], doc["gateway_usd"])


# ---------------------------------------------------------------- the scan's providers beside its totals


def test_providers_add_up_to_the_scan_totals_on_half_cents(tmp_path):
    from aifinops.costs.summary import ai_cost_summary, coverage

    rows = [*HALF_CENT_ROWS,
            *(usage_row(provider="Microsoft", service_code="Virtual Machines", ai_service=None, workload=None,
                        is_ai=False, billed_cost=0.005, line_items=1, usage_date=date(2025, 6, 4 + i))
              for i in range(3))]
    with Store(tmp_path / "s.duckdb").connect() as con:
        insert_usage(con, rows)
        refresh_summaries(con)
        summary = ai_cost_summary(con, date(2025, 6, 1), date(2025, 7, 1))
        providers = coverage(con, date(2025, 6, 1), date(2025, 7, 1))["providers"]
    assert {p["provider"] for p in providers} == {"AWS", "Microsoft"}
    assert adds_up([p["billed_cost_usd"] for p in providers], summary["total_cost_usd"]), (providers, summary)
    assert adds_up([p["ai_cost_usd"] for p in providers], summary["ai_cost_usd"]), (providers, summary)
    exact = sum((Decimal(str(r["billed_cost"])) for r in rows), Decimal(0))
    assert dollars(summary["total_cost_usd"]) == to_cent(exact)


def test_providers_add_up_to_the_totals_on_a_real_focus_export(focus_store):
    """The FOCUS sample's AWS, Microsoft and Oracle rows: rounded alone, $18.01 + $0.54 + $1.98 beside $20.52."""
    from aifinops.costs.summary import ai_cost_summary, coverage

    with focus_store.connect(read_only=True) as con:
        summary = ai_cost_summary(con)
        providers = coverage(con, summary["start"], summary["end"])["providers"]
    assert len(providers) == 3
    assert adds_up([p["billed_cost_usd"] for p in providers], summary["total_cost_usd"]), (providers, summary)
    assert adds_up([p["ai_cost_usd"] for p in providers], summary["ai_cost_usd"]), (providers, summary)


def test_forecast_spend_month_is_actual_plus_remaining(demo_store):
    """forecast_spend's current month: the mean is the actual to date plus the forecast of the days left, each
    shown in cents (a few as-of days of the demo, so a half cent has the chance to fall either way)."""
    for day in ("2024-11-05", "2024-11-12", "2024-11-19", "2024-11-26"):
        doc = call(demo_store, "forecast_spend", {"as_of": day})
        month = doc["current_month"]
        assert adds_up([month["actual_to_date_usd"], month["forecast_remaining_usd"]], month["mean_usd"]), (day, month)


# ---------------------------------------------------------------- aifinops costs --format json: rows vs the summary


@pytest.mark.parametrize("which", ["demo", "half-cents"])
def test_costs_json_rows_add_up_to_the_summary(which, demo_store, half_cent_store):
    store = demo_store if which == "demo" else half_cent_store
    done = run_cli("costs", "--store", str(store.path), "--start", "2024-11-01" if which == "demo" else "2025-06-01",
                   "--end", "2024-12-01" if which == "demo" else "2025-07-01", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert len(doc["rows"]) > 1
    assert adds_up([r["amount"] for r in doc["rows"]], doc["summary"]["total_cost_usd"])


# ---------------------------------------------------------------- aifinops savings: teams beside the totals


def test_savings_report_teams_add_up_to_the_totals(demo_store_copy):
    """The demo scanned, then a December that repeats November without the demo's idle endpoint: the report's
    teams (each resource belongs to one team, counted once) beside its totals (each resource counted once)."""
    store = demo_store_copy("tracking")
    done = run_cli("scan", "--store", str(store.path), "--format", "json")
    assert done.returncode == 0, done.stderr
    with store.connect() as con:
        con.execute("INSERT INTO usage_daily SELECT * REPLACE (DATE '2024-12-01' AS billing_period,"
                    " CAST(usage_date + INTERVAL 30 DAY AS DATE) AS usage_date) FROM usage_daily"
                    " WHERE billing_period = DATE '2024-11-01' AND coalesce(resource_id, '') NOT LIKE '%demo-chatbot%'")
        refresh_summaries(con)
    done = run_cli("savings", "--store", str(store.path), "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    teams, totals = report["by_team"], report["totals"]
    assert len(teams) > 1 and totals["fell"] > 0
    for key in ("predicted_monthly_usd", "realized_monthly_usd"):
        assert adds_up([t[key] for t in teams], totals[key]), (key, teams, totals)


# ---------------------------------------------------------------- cost_explorer (MCP): the summary's groups vs total


@pytest.mark.parametrize("which", ["demo", "half-cents"])
def test_cost_explorer_summary_groups_add_up_to_its_total(which, demo_store, half_cent_store):
    store, (start, end) = ((demo_store, ("2024-09-01", "2024-12-01")) if which == "demo"
                           else (half_cent_store, ("2025-06-01", "2025-07-01")))
    doc = call(store, "cost_explorer", {"start_date": start, "end_date": end, "granularity": "MONTHLY",
                                        "group_by": [{"type": "DIMENSION", "key": "REGION"}],
                                        "metrics": ["UnblendedCost"]})
    summary = doc["aifinops_summary"]
    assert 1 <= summary["groups"] == len(summary["top"])  # every group listed: they make the whole total
    assert adds_up([g["Amount"] for g in summary["top"]], summary["total"]), summary


def test_cost_explorer_summary_groups_add_up_on_half_cents_by_service(half_cent_store):
    doc = call(half_cent_store, "cost_explorer", {"start_date": "2025-06-01", "end_date": "2025-07-01",
                                                  "group_by": [{"type": "DIMENSION", "key": "SERVICE"}],
                                                  "metrics": ["UnblendedCost"]})
    summary = doc["aifinops_summary"]
    assert summary["groups"] == len(summary["top"]) == 4
    assert adds_up([g["Amount"] for g in summary["top"]], summary["total"]), summary


# ---------------------------------------------------------------- reconcile_gateway (MCP) on half cents


# (day, billed input = billed output tokens' cost, the gateway's spend logged that day)
GATEWAY_DAYS = [(f"2026-05-0{i}", 0.0025, 0.005) for i in range(1, 5)] + [("2026-05-05", 0.0045, 0.001),
                                                                            ("2026-05-06", 0.0025, 0.005)]


@pytest.fixture(scope="module")
def half_cent_gateway(tmp_path_factory) -> dict[str, Any]:
    """Nova Lite over six days: on four, $0.0025 of input and $0.0025 of output tokens billed ($0.005) and the
    gateway's request logged at $0.005; rounded alone, each shows $0.01 billed of $0.00 + $0.00 and $0.01 logged.
    On the fifth, $0.009 billed against $0.001 logged: one of the three cents the billed total needs goes there, and
    rounding the gateway column on its own gives its third cent to a $0.005 day the billed column left at $0.00
    (the third), whose gap ($0) would show -$0.01."""
    from aifinops.ingest.pipeline import ingest_paths
    from curfixtures import cur2_row, write_cur2

    tmp = tmp_path_factory.mktemp("gateway-half-cents")
    bill = [cur2_row("2026-05", day, "AmazonBedrock", f"USE1-NovaLite-{kind}-tokens", cost, amount=amount)
            for day, cost, _ in GATEWAY_DAYS for kind, amount in (("input", 1000.0), ("output", 200.0))]
    logs = [{"request_id": f"req-{i}", "call_type": "acompletion", "spend": spend, "prompt_tokens": 1000,
             "completion_tokens": 200, "startTime": f"{day}T10:00:00.000Z", "endTime": f"{day}T10:00:02.000Z",
             "model": "bedrock/amazon.nova-lite-v1:0", "custom_llm_provider": "bedrock", "user": "team-a",
             "status": "success"} for i, (day, _, spend) in enumerate(GATEWAY_DAYS)]
    spend_file = tmp / "spend.json"
    spend_file.write_text(json.dumps(logs))
    store = Store(tmp / "s.duckdb")
    ingest_paths(store, [write_cur2(tmp / "cur" / "x.parquet", bill)])
    done = run_cli("ingest", str(spend_file), "--store", str(store.path))
    assert done.returncode == 0, done.stderr
    cli = run_cli("genai", "reconcile", "--store", str(store.path), "--format", "json")
    assert cli.returncode == 0, cli.stderr
    return {"store": store, "cli": json.loads(cli.stdout)}


def test_reconcile_gateway_mcp_rows_add_up_on_half_cents(half_cent_gateway):
    doc = call(half_cent_gateway["store"], "reconcile_gateway", {})
    cli = half_cent_gateway["cli"]
    assert sorted(r["day"] for r in doc["rows"]) == [d for d, _, _ in GATEWAY_DAYS]
    assert {r["model"] for r in doc["rows"]} == {"Nova Lite"}
    # the totals: the bill's and the spend logs' sums, added here by hand ($0.034 and $0.026)
    billed = {d: 2 * Decimal(str(c)) for d, c, _ in GATEWAY_DAYS}
    logged = {d: Decimal(str(s)) for d, _, s in GATEWAY_DAYS}
    assert dollars(doc["billed_usd"]) == to_cent(sum(billed.values(), Decimal(0))) == Decimal("0.03")
    assert dollars(doc["gateway_usd"]) == to_cent(sum(logged.values(), Decimal(0))) == Decimal("0.03")
    assert adds_up([r["billed_usd"] for r in doc["rows"]], doc["billed_usd"]), doc["rows"]
    assert adds_up([r["gateway_usd"] for r in doc["rows"]], doc["gateway_usd"]), doc["rows"]
    by_cli = {(r["day"], r["model"]): r for r in cli["rows"]}
    for row in doc["rows"]:
        mine = by_cli[(row["day"], row["model"])]
        # each figure within a cent of the CLI's six decimals, of its day's bill and of its day's spend log
        for key in ("billed_usd", "gateway_usd", "gap_usd"):
            assert abs(dollars(row[key]) - dollars(mine[key])) < Decimal("0.01"), (key, row, mine)
        assert abs(dollars(row["billed_usd"]) - billed[row["day"]]) < Decimal("0.01"), row
        assert abs(dollars(row["gateway_usd"]) - logged[row["day"]]) < Decimal("0.01"), row
        # the gap beside them is their difference, and the classes' billed cost is the row's
        assert dollars(row["gap_usd"]) == dollars(row["billed_usd"]) - dollars(row["gateway_usd"]), row
        assert adds_up([c["billed_usd"] for c in row["classes"]], row["billed_usd"]), row
        for c in row["classes"]:
            assert adds_up(list(c["billed_by_tier"].values()) or [0], c["billed_usd"]), c
            assert dollars(c["gap_usd"]) == dollars(c["billed_usd"]) - dollars(c["gateway_usd"]), c
            assert adds_up([c["volume_gap_usd"], c["rate_gap_usd"]], c["gap_usd"]), c


# ---------------------------------------------------------------- aifinops savings (CLI, MCP) on half cents


def _tracked_half_cents(path: Path) -> Store:
    """One recorded scan as of 2025-06-30 with a finding per team on its own resource, each predicting $0.005 a
    month; each resource billed $1.006 x 24 / 730 on June 30 and nothing in July, so each realizes $1.006 a month.
    Rounded alone, the four teams show $0.01 predicted and $1.01 realized each: $0.04 and $4.04 beside totals of
    $0.02 and $4.02 ($4.024)."""
    store = Store(path)
    teams = ("team-a", "team-b", "team-c", "team-d")
    with store.connect() as con:
        insert_usage(con, [usage_row(resource_id=f"endpoint-{t}", billed_cost=1.006 * 24 / 730, line_items=1)
                           for t in teams] + [usage_row(resource_id="other", billed_cost=1.0, line_items=1,
                                                        usage_date=date(2025, 7, 1),
                                                        billing_period=date(2025, 7, 1))])
        refresh_summaries(con)
        con.execute("INSERT INTO scan_runs VALUES ('run-1', TIMESTAMP '2025-07-01 08:00:00', DATE '2025-06-30', "
                    "DATE '2025-06-01', DATE '2025-07-01', 'test', 4, 0.02)")
        for t in teams:
            finding = {"title": f"Idle endpoint of {t}", "monthly_savings_usd": 0.005, "monthly_cost_usd": 0.005}
            con.execute("INSERT INTO finding_history VALUES ('run-1', ?, 'idle-endpoint', ?, 'endpoint', ?, 0.005, "
                        "0.005, 'high', ?)", [f"idle-endpoint:{t}", f"endpoint-{t}", t, json.dumps(finding)])
    return store


def _savings_teams_add_up(report: dict[str, Any]) -> None:
    teams, totals = report["by_team"], report["totals"]
    assert [t["team"] for t in teams] == ["team-a", "team-b", "team-c", "team-d"] and totals["fell"] == 4
    assert dollars(totals["predicted_monthly_usd"]) == to_cent(Decimal("0.005") * 4)
    assert abs(dollars(totals["realized_monthly_usd"]) - Decimal("4.024")) < Decimal("0.005")
    for key, each in (("predicted_monthly_usd", Decimal("0.005")), ("realized_monthly_usd", Decimal("1.006"))):
        assert adds_up([t[key] for t in teams], totals[key]), (key, teams, totals)
        assert all(abs(dollars(t[key]) - each) < Decimal("0.01") for t in teams), (key, teams)


def test_savings_teams_add_up_on_half_cents(tmp_path):
    store = _tracked_half_cents(tmp_path / "s.duckdb")
    done = run_cli("savings", "--store", str(store.path), "--format", "json")
    assert done.returncode == 0, done.stderr
    _savings_teams_add_up(json.loads(done.stdout))
    _savings_teams_add_up(call(store, "savings", {}))


# ---------------------------------------------------------------- cost per agent: the shared knowledge-base column


def test_cost_per_agent_shares_add_up_to_the_shared_knowledge_base_and_rows_to_totals(tmp_path):
    """Three agents, each $1.00 of inference by its role's agent tag, share $0.02 of untagged knowledge-base
    retrieval: a third each, $0.006667. Each row rounded on its own gives every share $0.01 (its total $1.01), and
    the shares $0.03 beside the $0.02 shared; the shares must add up to it while each row adds up to its total."""
    from aifinops.ingest.pipeline import ingest_paths
    from curfixtures import cur2_row, write_cur2

    acct, day, agents = "111122223333", "2026-05-03", ("alpha", "beta", "gamma")
    bill = [cur2_row("2026-05", day, "AmazonBedrock", "USE1-NovaPro-input-tokens", 1.0,
                     line_item_iam_principal=f"arn:aws:iam::{acct}:role/{a}-exec") for a in agents]
    for row, agent in zip(bill, agents, strict=True):
        row["tags"] = [("iamPrincipal/agent", agent)]
    bill.append(cur2_row("2026-05", day, "AmazonBedrockAgentCore", "USE1-Knowledge-Base:Consumption-based:Retrieval",
                         0.02))
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [write_cur2(tmp_path / "cur" / "x.parquet", bill)])
    docs = [call(store, "cost_per_agent", {"start_date": "2026-05-01", "end_date": "2026-06-01"})]
    done = run_cli("genai", "agents", "--store", str(store.path), "--start", "2026-05-01", "--end", "2026-06-01",
                   "--format", "json")
    assert done.returncode == 0, done.stderr
    docs.append(json.loads(done.stdout))
    for doc in docs:
        assert sorted(a["agent"] for a in doc["agents"]) == list(agents)
        _agent_parts_add_up(doc)
        shares = [a["knowledge_base_share_usd"] for a in doc["agents"]]
        assert adds_up(shares, Decimal("0.02")), shares
        assert adds_up(shares, doc["knowledge_base_shared_usd"]), (shares, doc["knowledge_base_shared_usd"])
        third = Decimal("0.02") / 3
        for a in doc["agents"]:
            assert abs(dollars(a["knowledge_base_share_usd"]) - third) < Decimal("0.01"), a
            assert abs(dollars(a["total_usd"]) - (1 + third)) < Decimal("0.01"), a


def test_savings_teams_sharing_a_resource_are_each_shown_whole(tmp_path):
    """A resource whose owner tag changed between two findings on it is each team's: the totals count it once, the
    teams each count it, so the teams do not split the totals and each keeps its own figure in cents (never pulled
    to add up to a total they do not split)."""
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        insert_usage(con, [*(usage_row(resource_id="endpoint-x", billed_cost=24.0, line_items=1, usage_date=day)
                             for day in (date(2025, 6, 29), date(2025, 6, 30))),
                           usage_row(resource_id="other", billed_cost=1.0, line_items=1, usage_date=date(2025, 7, 1),
                                     billing_period=date(2025, 7, 1))])
        refresh_summaries(con)
        for run, as_of, team, check in (("run-1", "2025-06-29", "team-a", "idle-endpoint"),
                                        ("run-2", "2025-06-30", "team-b", "oversized-endpoint")):
            con.execute("INSERT INTO scan_runs VALUES (?, TIMESTAMP '2025-07-01 08:00:00', ?, DATE '2025-06-01', "
                        "DATE '2025-07-01', 'test', 1, 10.004)", [run, as_of])
            con.execute("INSERT INTO finding_history VALUES (?, ?, ?, 'endpoint-x', 'endpoint', ?, 10.004, 10.004, "
                        "'high', ?)", [run, f"{check}:x", check, team, json.dumps({"title": check})])
    done = run_cli("savings", "--store", str(store.path), "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(t["team"], t["predicted_monthly_usd"]) for t in report["by_team"]] == [("team-a", 10.0), ("team-b", 10.0)]
    assert report["totals"]["predicted_monthly_usd"] == 10.0
    # $24 a day before, nothing in July: $730 a month realized, by each team and once in the totals
    assert [t["realized_monthly_usd"] for t in report["by_team"]] == [730.0, 730.0]
    assert report["totals"]["realized_monthly_usd"] == 730.0


def test_reconcile_gateway_cli_table_adds_up_on_the_demo(demo_store):
    """The CLI's table shows each row in cents under the totals it prints: on the demo, Nov 30's Nova Lite row
    ($1.40299 billed and logged) rounded alone showed $1.40, and the rows $78.23 beside "Billed $78.24"."""
    done = run_cli("genai", "reconcile", "--store", str(demo_store.path), env={"COLUMNS": "250"})
    assert done.returncode == 0, done.stderr
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in done.stdout.splitlines()
            if line.startswith("│ 20")]
    assert len(rows) == 6, done.stdout
    totals = re.search(r"Billed \$([\d,.]+) .*gateway \$([\d,.]+)\.", " ".join(done.stdout.split()))
    assert totals, done.stdout
    for column, total in ((3, totals[1]), (4, totals[2])):
        assert adds_up([r[column].replace(",", "") for r in rows], total.replace(",", "")), (column, rows, total)
    for r in rows:
        assert dollars(r[5]) == dollars(r[3]) - dollars(r[4]), r  # the gap is the difference shown beside it


# ---------------------------------------------------------------- the HTML report and the dashboard page as printed


class _PrintedPage(HTMLParser):
    """A page as a reader sees it: each table with an id, its rows as (class, [cell text]), and each KPI's label
    and figure."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[str, list[str]]]] = {}
        self.kpis: dict[str, str] = {}
        self._table: list[tuple[str, list[str]]] | None = None
        self._cells: list[str] | None = None
        self._text: list[str] | None = None
        self._kpi: list[str] | None = None
        self._bold: list[str] | None = None
        self.text = ""  # the page's text, tags dropped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = self.tables.setdefault(str(a["id"]), [])
        elif tag == "tr" and self._table is not None:
            self._cells = []
            self._table.append((a.get("class") or "", self._cells))
        elif tag in ("td", "th") and self._cells is not None:
            self._text = []
        elif tag == "div" and a.get("class") == "kpi":
            self._kpi = []
        elif tag == "b" and self._kpi is not None:
            self._bold = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = self._cells = None
        elif tag in ("td", "th") and self._text is not None and self._cells is not None:
            self._cells.append(" ".join("".join(self._text).split()))
            self._text = None
        elif tag == "b" and self._bold is not None and self._kpi is not None:
            self.kpis[" ".join("".join(self._kpi).split())] = "".join(self._bold).strip()
            self._kpi = self._bold = None

    def handle_data(self, data: str) -> None:
        for text in (self._text, self._bold if self._bold is not None else self._kpi):
            if text is not None:
                text.append(data)


def _printed(figure: str) -> Decimal:
    """'$1,234.56' or '-$42.00' as printed, to the decimal a reader adds."""
    assert re.fullmatch(r"-?\$[\d,]+\.\d\d", figure), figure
    return dollars(figure.replace("$", "").replace(",", ""))


def _kpi(page: _PrintedPage, label: str) -> Decimal:
    found = [v for k, v in page.kpis.items() if k.startswith(label)]
    assert len(found) == 1, (label, page.kpis)
    return _printed(found[0])


def _read_page(html: str) -> _PrintedPage:
    page = _PrintedPage()
    page.feed(html)
    page.text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    return page


def _report(store: Store, out: Path) -> _PrintedPage:
    """The page ``aifinops report`` writes for ``store``."""
    done = run_cli("report", "--html", str(out), "--store", str(store.path))
    assert done.returncode == 0, done.stderr
    return _read_page(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def printed_pages(demo_store, tmp_path_factory) -> dict[str, _PrintedPage]:
    """The demo as the dashboard serves its page over HTTP and as ``aifinops report`` writes its file."""
    import httpx

    from aifinops.web import create_app
    from localserver import serving

    with serving(create_app(demo_store)) as url:
        r = httpx.get(url + "/", timeout=300)
        assert r.status_code == 200, r.text
    return {"dashboard": _read_page(r.text),
            "report": _report(demo_store, tmp_path_factory.mktemp("report") / "report.html")}


def _gateway_rows_add_up(page: _PrintedPage) -> list[list[str]]:
    """The gateway table's Billed and Gateway columns add up to the KPIs above it, each gap is the difference."""
    rows = [cells for cls, cells in page.tables["genai-gateway"] if cls == "gap-row"]
    billed, gateway, gap = ([_printed(r[i]) for r in rows] for i in (3, 4, 5))
    assert sum(billed, Decimal(0)) == _kpi(page, "Billed 20"), (rows, page.kpis)
    assert sum(gateway, Decimal(0)) == _kpi(page, "Gateway's estimate"), (rows, page.kpis)
    assert gap == [b - g for b, g in zip(billed, gateway, strict=True)], rows  # each gap is the difference shown
    return rows


def _callers_add_up(page: _PrintedPage) -> list[Decimal]:
    """Bedrock cost by caller adds up to the Total row under it."""
    principals = page.tables["genai-principals"]
    callers = [_printed(cells[1]) for cls, cells in principals if "caller" in cls.split()]
    assert principals[-1][1][0] == "Total", principals
    assert sum(callers, Decimal(0)) == _printed(principals[-1][1][1]), principals
    return callers


@pytest.mark.parametrize("face", ["dashboard", "report"])
def test_gateway_table_adds_up_to_its_totals_on_the_page(printed_pages, face):
    """The gateway table printed under "Billed" and "Gateway's estimate": on the demo each six-decimal row formatted
    alone showed $78.23 of billed rows under $78.24 (Nov 30's Nova Lite, $1.40299, printed $1.40)."""
    rows = _gateway_rows_add_up(printed_pages[face])
    assert len(rows) == 6, rows  # the demo's spend log: two models on three days


@pytest.mark.parametrize("face", ["dashboard", "report"])
def test_genai_money_tables_add_up_to_their_totals_on_the_page(printed_pages, face):
    """Bedrock cost by caller above its Total row (on the demo the callers' rows, each rounded alone, showed
    $6,039.22 above $6,039.23), and the per-request callers and unallocated rows under their KPIs."""
    page = printed_pages[face]
    assert len(_callers_add_up(page)) >= 5  # the demo's four callers and the unattributed row
    requests = page.tables["genai-request-callers"]
    carried = [_printed(cells[-1]) for cls, cells in requests if cls == "caller"]
    unallocated = [_printed(cells[-1]) for cls, cells in requests if cls == "unallocated"]
    assert carried and sum(carried) == _kpi(page, "Carried by requests"), (face, requests, page.kpis)
    assert sum(unallocated, Decimal(0)) == _kpi(page, "Unallocated"), (face, requests, page.kpis)
    assert _kpi(page, "Carried by requests") + _kpi(page, "Unallocated") == _kpi(page, "Billed Bedrock")


def test_gateway_table_adds_up_on_the_page_on_half_cents(half_cent_gateway, tmp_path):
    """The half-cent gateway bill above, in the report: formatted alone, its days of $0.005 billed and logged
    show $0.01 each, six days of cents under totals of $0.03."""
    rows = _gateway_rows_add_up(_report(half_cent_gateway["store"], tmp_path / "report.html"))
    assert [r[0] for r in rows] == [d for d, _, _ in GATEWAY_DAYS]


def test_callers_add_up_on_the_page_on_half_cents(tmp_path):
    """Three callers billed $0.005 each for Bedrock: formatted alone each shows $0.01, $0.03 above a total of
    $0.015 printed $0.01 (or $0.02); in cents that add up, each stays within a cent of its $0.005."""
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        insert_usage(con, [usage_row(service_code="AmazonBedrock", ai_service="bedrock", workload="genai",
                                     billed_cost=0.005, line_items=1,
                                     tags=json.dumps({"aws_iamprincipal": f"arn:aws:iam::111122223333:role/r{i}"}))
                           for i in range(3)])
        refresh_summaries(con)
    callers = _callers_add_up(_report(store, tmp_path / "report.html"))
    assert len(callers) == 4  # the three roles and the unattributed row at $0
    assert sum(callers) in (Decimal("0.01"), Decimal("0.02")) and all(c in (0, Decimal("0.01")) for c in callers)


def _kinds_add_up(page: _PrintedPage) -> list[Decimal]:
    """Training, inference and other, printed under their chart, add up to the period's AI spend."""
    found = re.search(r"Totals: training (\S+), inference (\S+), other (\S+)\.", page.text)
    assert found, page.text[:2000]
    kinds = [_printed(found[i]) for i in (1, 2, 3)]
    assert sum(kinds) == _kpi(page, "AI spend in period"), (kinds, page.kpis)
    return kinds


def test_training_inference_and_other_add_up_to_the_ai_spend_on_the_page(printed_pages, tmp_path):
    """On the demo, and on $0.005 of each kind: formatted alone each showed $0.01, $0.03 beside AI spend of $0.02."""
    _kinds_add_up(printed_pages["report"])
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        insert_usage(con, [usage_row(workload=w, billed_cost=0.005, line_items=1, resource_id=f"job-{w}")
                           for w in ("training", "inference", "notebook")])
        refresh_summaries(con)
    kinds = _kinds_add_up(_report(store, tmp_path / "report.html"))
    assert all(k in (0, Decimal("0.01")) for k in kinds), kinds


@pytest.mark.parametrize("face", ["dashboard", "report"])
def test_a_finding_prints_one_saving_in_the_plan_and_the_findings_table(printed_pages, face):
    """The action plan's savings are cents that add up to its gross; the findings table beside it rounded each saving
    alone, so on the demo one training job showed $458.06 in the plan and $458.05 among the findings."""
    page = printed_pages[face]
    actions = [cells for cls, cells in page.tables["plan"] if cls == "action"]
    findings = [cells for _, cells in page.tables["findings-table"][1:]]
    assert len(actions) == 10 and len(findings) == 25
    matched = 0
    for title_check, resource, cost, saving, _ in findings:
        title = title_check.rsplit(" (", 1)[0]
        for _, text, short, planned, *_ in actions:
            if short == resource and text.startswith(title + " "):
                assert saving == planned and _printed(saving) <= _printed(cost), (title, saving, planned)
                matched += 1
    assert matched >= 10  # every action on the plan's first page is among the 25 largest findings
