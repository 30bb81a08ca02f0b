"""Unit economics over time (issue 17): the library function, `aifinops costs --unit`, and the MCP tool through a
real client session, on a CUR 2.0 fixture whose unit costs are worked out by hand."""

from __future__ import annotations

import json
from datetime import date, datetime

import anyio
import pytest

from aifinops.costs.unit_economics import periods, unit_series
from aifinops.errors import ArgumentError
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from clirun import run_cli
from curfixtures import cur2_row, write_cur2

NOVA = {"pricing_unit": "1K tokens"}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    tmp = tmp_path_factory.mktemp("unit")
    rows = []
    for month, scale in (("2026-04", 1.0), ("2026-05", 2.0)):
        d = f"{month}-10"
        rows += [
            # Nova Lite: input $0.00006 / 1K, output $0.00024 / 1K
            cur2_row(month, d, "AmazonBedrock", "USE1-NovaLite-input-tokens", 0.06 * scale, amount=1000 * scale,
                     **NOVA),
            cur2_row(month, d, "AmazonBedrock", "USE1-NovaLite-output-tokens", 0.048 * scale, amount=200 * scale,
                     **NOVA),
            cur2_row(month, d, "AmazonBedrock", "USE1-NovaLite-input-tokens", -0.01, amount=0.0,
                     line_item_line_item_type="Credit"),  # never part of a unit cost
        ]
    s = Store(tmp / "s.duckdb")
    ingest_paths(s, [write_cur2(tmp / "cur" / "x.parquet", rows)])
    with s.transaction() as con:  # CloudWatch's Invocations for the model, as collect stores them
        for day, n in (("2026-04-10", 400.0), ("2026-05-10", 1000.0)):
            con.execute("INSERT INTO metrics (account_id, region, namespace, metric_name, dimensions, ts, period_s, "
                        "statistic, value, unit, source) VALUES ('111122223333', 'us-east-1', 'AWS/Bedrock', "
                        "'Invocations', MAP {'ModelId': 'amazon.nova-lite-v1:0'}, ?, 86400, 'Sum', ?, 'Count', 'aws')",
                        [datetime.fromisoformat(day), n])
    return s


def test_tokens_per_class_per_month(store):
    with store.connect(read_only=True) as con:
        doc = unit_series(con, "tokens")
    got = {(r["start"], r["detail"]): r["usd_per_unit"] for r in doc["rows"]}
    # $ per 1K tokens: the rate itself in both months (twice the tokens, twice the cost), credits left out
    assert got == {("2026-04-10", "input"): pytest.approx(0.00006), ("2026-04-10", "output"): pytest.approx(0.00024),
                   ("2026-05-01", "input"): pytest.approx(0.00006), ("2026-05-01", "output"): pytest.approx(0.00024)}


def test_cost_per_request_from_cloudwatch(store):
    with store.connect(read_only=True) as con:
        doc = unit_series(con, "request")
    got = {r["start"]: (r["subject"], r["detail"], r["usd_per_unit"]) for r in doc["rows"]}
    assert got["2026-04-10"] == ("Nova Lite", "cloudwatch", pytest.approx((0.06 + 0.048) / 400))
    assert got["2026-05-01"] == ("Nova Lite", "cloudwatch", pytest.approx((0.12 + 0.096) / 1000))


def test_periods():
    assert periods(date(2026, 4, 29), date(2026, 5, 12), "WEEKLY") == [
        (date(2026, 4, 29), date(2026, 5, 4)), (date(2026, 5, 4), date(2026, 5, 11)),
        (date(2026, 5, 11), date(2026, 5, 12))]  # 2026-05-04 is a Monday
    assert periods(date(2026, 12, 30), date(2027, 1, 2), "MONTHLY") == [
        (date(2026, 12, 30), date(2027, 1, 1)), (date(2027, 1, 1), date(2027, 1, 2))]
    with pytest.raises(ArgumentError, match="Unknown granularity"):
        periods(date(2026, 1, 1), date(2026, 2, 1), "HOURLY")


def test_cli_and_mcp_answer_the_same(store):
    done = run_cli("costs", "--unit", "tokens", "-f", "json", "--store", str(store.path))
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)

    from mcp import Client

    from aifinops.mcp_server import build_server

    async def main() -> str:
        async with Client(build_server(store)) as client:
            result = await client.call_tool("unit_economics", {"unit": "tokens"})
            assert not result.is_error, result.content[0].text
            return result.content[0].text

    mcp = json.loads(anyio.run(main))
    assert [(r["start"], r["detail"]) for r in mcp["rows"]] == [(r["start"], r["detail"]) for r in cli["rows"]]
    assert [r["usd_per_unit"] for r in cli["rows"]] == pytest.approx([0.00006, 0.00024, 0.00006, 0.00024])
    bad = run_cli("costs", "--unit", "tokenz", "--store", str(store.path))
    assert bad.returncode == 2 and "Did you mean 'tokens'" in bad.stderr
    mixed = run_cli("costs", "--unit", "tokens", "-g", "model", "--store", str(store.path))
    assert mixed.returncode == 2 and "--unit answers on its own" in mixed.stderr
