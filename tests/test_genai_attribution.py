"""Attribution from the bill (issue 17): CUR 2.0 caller identity, principal tags and inference profiles.

Expectations are sums over the raw billing files written in each test (a second SQL over the Parquet or the
rows by hand), never the store's own answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from aifinops.costs import cost_breakdown
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from clirun import run_cli
from curfixtures import cur2_row, write_cur2

ACCT = "111122223333"
ALICE = f"arn:aws:iam::{ACCT}:user/alice"
BOT = f"arn:aws:iam::{ACCT}:role/support-bot"
GATEWAY = f"arn:aws:iam::{ACCT}:role/litellm-gateway"
PROFILE = f"arn:aws:bedrock:us-east-1:{ACCT}:application-inference-profile/a1b2c3d4e5f6"
MP = {"bill_billing_entity": "AWS Marketplace",
      "product": {"product_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)"}}


def bill_rows() -> list[dict]:
    d = "2026-05-03"
    return [
        # the shape of AWS's own example: principal ARN beside the usage type and cost
        cur2_row("2026-05", d, "AmazonBedrock", "USE1-Claude4.6Sonnet-input-tokens", 0.069,
                 line_item_iam_principal=ALICE, tags={"user_team": "ml"}),
        cur2_row("2026-05", d, "AmazonBedrock", "USE1-Claude4.6Sonnet-output-tokens", 0.214,
                 line_item_iam_principal=ALICE),
        cur2_row("2026-05", d, "AmazonBedrockFoundationModels", "USE1-MP:USE1_InputTokenCount-Units", 3.3,
                 line_item_iam_principal=BOT, line_item_resource_id=PROFILE, **MP),
        cur2_row("2026-05", d, "AmazonBedrockFoundationModels", "USE1-MP:USE1_InputTokenCount_Global-Units", 1.25,
                 line_item_iam_principal=GATEWAY, **MP),
        cur2_row("2026-05", d, "AmazonBedrockService", "USE1-Claude4Sonnet-input-tokens-cross-region-global-batch",
                 0.5),  # a batch job: no caller on the line item
        cur2_row("2026-05", d, "AmazonS3", "USE1-TimedStorage-ByteHrs", 2.0),
    ]


def with_principal_tags(rows: list[dict]) -> list[dict]:
    """CUR 2.0's prefixed ``tags`` column: the caller's tags as 'iamPrincipal/…' beside other prefixes."""
    tag_sets = {
        ALICE: {"iamPrincipal/team": "research", "resourceTags/user:team": "ml"},
        BOT: {"iamPrincipal/team": "support", "iamPrincipal/application": "chatbot"},
        GATEWAY: {"accountTag/department": "platform"},
    }
    for row in rows:
        row["tags"] = list(tag_sets.get(row.get("line_item_iam_principal"), {}).items())
    return rows


@pytest.fixture(params=["parquet", "csv.gz"])
def store(request, tmp_path) -> tuple[Store, Path]:
    rows = with_principal_tags(bill_rows())
    path = write_cur2(tmp_path / "cur" / f"x.{request.param}", rows)
    parquet = write_cur2(tmp_path / "raw" / "x.parquet", rows)
    s = Store(tmp_path / "s.duckdb")
    ingest_paths(s, [path])
    return s, parquet


def _sums(rows: list[dict], key: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in rows:
        out[r[key]] = round(out.get(r[key], 0.0) + r["amount"], 6)
    return out


def test_principal_groups_match_the_raw_column(store):
    s, raw = store
    expected = dict(duckdb.sql(
        f"SELECT coalesce(line_item_iam_principal, 'unattributed'), round(sum(line_item_unblended_cost), 6) "
        f"FROM read_parquet('{raw}') GROUP BY 1").fetchall())
    with s.connect(read_only=True) as con:
        got = _sums(cost_breakdown(con, None, None, ["principal"]), "principal")
    assert got == expected
    assert got["unattributed"] == pytest.approx(0.5 + 2.0)  # the batch job and S3: their own row
    assert got[ALICE] == pytest.approx(0.069 + 0.214)


def test_principal_tags_and_unattributed_bedrock(store):
    s, _ = store
    with s.connect(read_only=True) as con:
        got = _sums(cost_breakdown(con, None, None, ["tag:iamPrincipal/team"], filters={"ai_service": "bedrock"}),
                    "tag:iamPrincipal/team")
    # by hand: research = Alice's two rows, support = the bot, no tag = the gateway + the batch job
    assert got == {"research": pytest.approx(0.283), "support": pytest.approx(3.3), None: pytest.approx(1.75)}


def test_inference_profiles(store):
    s, _ = store
    with s.connect(read_only=True) as con:
        got = _sums(cost_breakdown(con, None, None, ["inference_profile"]), "inference_profile")
    assert got == {
        PROFILE: pytest.approx(3.3),                  # the application profile's ARN on the line item
        "system:global": pytest.approx(1.25 + 0.5),   # '_Global' and '-cross-region-global' usage types
        "none:in-region": pytest.approx(0.283),
        "unattributed": pytest.approx(2.0),           # not Bedrock
    }


def test_export_without_caller_identity_is_all_unattributed(tmp_path):
    rows = bill_rows()
    for r in rows:
        r.pop("line_item_iam_principal", None)
    path = write_cur2(tmp_path / "cur" / "x.parquet", rows)
    # the file as an export without the option writes it: the column absent
    table = duckdb.sql(f"SELECT * EXCLUDE (line_item_iam_principal, tags) FROM read_parquet('{path}')").to_arrow_table()
    pq.write_table(table, path)
    s = Store(tmp_path / "s.duckdb")
    ingest_paths(s, [path])
    with s.connect(read_only=True) as con:
        got = _sums(cost_breakdown(con, None, None, ["principal"]), "principal")
    assert got == {"unattributed": pytest.approx(sum(r["line_item_unblended_cost"] for r in rows))}


def _demo_bedrock_sql(demo: Path, by: str) -> dict[str, float]:
    files = sorted(str(p) for p in (demo / "cur2").rglob("*.parquet"))
    return dict(duckdb.sql(
        f"SELECT {by}, round(sum(line_item_unblended_cost), 2) FROM read_parquet({files}) "
        "WHERE line_item_product_code LIKE 'AmazonBedrock%' GROUP BY 1").fetchall())


def test_demo_costs_by_principal_add_up_to_billed_bedrock(demo_store):
    from aifinops.demo import demo_dir

    demo = demo_dir()  # the files the session's demo store was loaded from
    done = run_cli("costs", "-g", "principal", "--filter", "ai_service=bedrock", "-f", "json",
                   "--store", str(demo_store.path))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    rows = answer["rows"] if isinstance(answer, dict) else answer
    got: dict[str, float] = {}
    for r in rows:
        got[r["principal"]] = round(got.get(r["principal"], 0.0) + r["amount"], 2)
    expected = _demo_bedrock_sql(demo, "coalesce(line_item_iam_principal, 'unattributed')")
    assert got == pytest.approx(expected, abs=0.011)
    assert round(sum(got.values()), 2) == pytest.approx(round(sum(expected.values()), 2), abs=0.011)
    # the gateway role is a caller the bill cannot see behind; it has no principal tags
    assert f"arn:aws:iam::{ACCT}:role/litellm-gateway" in got


def test_demo_per_request_report_adds_up_to_the_bill_by_caller(demo_store):
    """The demo logs its last days' requests; priced and scaled per (day, model, token class), each caller's
    requests cost what the bill's caller-identity column says that caller cost on those days (to the cent)."""
    from aifinops.demo import demo_dir

    demo = demo_dir()  # the files the session's demo store was loaded from
    done = run_cli("genai", "requests", "-g", "identity", "-f", "json", "--store", str(demo_store.path))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    files = sorted(str(p) for p in (demo / "cur2").rglob("*.parquet"))
    period = (f"line_item_usage_start_date >= TIMESTAMP '{doc['start']}' "
              f"AND line_item_usage_start_date < TIMESTAMP '{doc['end']}'")
    billed = duckdb.sql(f"SELECT round(sum(line_item_unblended_cost), 2) FROM read_parquet({files}) "
                        f"WHERE line_item_product_code LIKE 'AmazonBedrock%' AND {period}").fetchall()[0][0]
    assert doc["billed_bedrock_usd"] == pytest.approx(billed, abs=1e-9)
    shown = sum(r["cost_usd"] for r in doc["rows"]) + sum(u["cost_usd"] for u in doc["unallocated"])
    assert round(shown, 2) == pytest.approx(billed, abs=1e-9)
    by_principal = dict(duckdb.sql(
        f"SELECT line_item_iam_principal, round(sum(line_item_unblended_cost), 2) FROM read_parquet({files}) "
        f"WHERE line_item_product_code LIKE 'AmazonBedrock%' AND {period} AND line_item_iam_principal IS NOT NULL "
        "GROUP BY 1").fetchall())

    def as_principal(identity: str) -> str:  # a role's session as logged → the role as billed
        if ":assumed-role/" in identity:
            role = identity.split(":assumed-role/", 1)[1].split("/", 1)[0]
            return identity.split(":sts::", 1)[0] + ":iam::" + identity.split(":sts::", 1)[1].split(":", 1)[0] \
                + f":role/{role}"
        return identity

    got = {as_principal(r["identity"]): r["cost_usd"] for r in doc["rows"]}
    assert got == pytest.approx(by_principal, abs=0.011)
    assert {s["scale_factor"] for s in doc["scaling"]} == {1.0}


def test_mcp_cost_explorer_groups_by_principal(store):
    """The MCP cost_explorer tool answers the same dimensions through a real client session."""
    import anyio
    from mcp import Client

    from aifinops.mcp_server import build_server

    s, raw = store

    async def main() -> str:
        async with Client(build_server(s)) as client:
            result = await client.call_tool("cost_explorer", {
                "operation": "getCostAndUsage", "start_date": "2026-05-01", "end_date": "2026-06-01",
                "granularity": "MONTHLY", "group_by": [{"Type": "DIMENSION", "Key": "PRINCIPAL"}],
                "filter": {"Dimensions": {"Key": "INFERENCE_PROFILE", "Values": ["system:global"]}}})
            assert not result.is_error, result.content[0].text
            return result.content[0].text

    answer = json.loads(anyio.run(main))
    groups = {g["Keys"][0]: float(g["Metrics"]["UnblendedCost"]["Amount"])
              for r in answer["ResultsByTime"] for g in r["Groups"]}
    expected = dict(duckdb.sql(
        f"SELECT coalesce(line_item_iam_principal, 'unattributed'), round(sum(line_item_unblended_cost), 2) "
        f"FROM read_parquet('{raw}') WHERE line_item_usage_type ILIKE '%global%' GROUP BY 1").fetchall())
    assert groups == pytest.approx(expected, abs=0.005)
