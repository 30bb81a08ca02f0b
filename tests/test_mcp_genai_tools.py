"""The GenAI attribution MCP tools (cost_per_agent, cost_per_request, reconcile_gateway) through a real MCP client
session over stdio against the installed ``aifinops mcp``: each answer validates against the tool's published
output schema, equals ``aifinops genai … --format json`` run as a subprocess (money at the cent), and its sums
equal SQL written here over the demo's own files (its CUR 2.0 Parquet and LiteLLM spend log) and the store's
logged requests. A store with a bill but no logs gets the refusal that says how to get them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anyio
import duckdb
import jsonschema
import pytest
from mcp import Client, StdioServerParameters

from aifinops.answers import MAX_ANSWER_BYTES
from aifinops.store import Store
from clirun import AIFINOPS, run_cli
from test_genai_agents import TRIAGE_ROLE, agents_bill_store

GATEWAY_ROLE = "arn:aws:iam::111122223333:role/litellm-gateway"
TOOLS = ("cost_per_agent", "cost_per_request", "reconcile_gateway")
DEMO_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("cost_per_agent", {}),
    ("cost_per_request", {}),
    ("cost_per_request", {"group_by": ["metadata:application"]}),
    ("cost_per_request", {"group_by": ["inference_profile"]}),
    ("reconcile_gateway", {}),
    ("reconcile_gateway", {"principal": "all"}),
    ("reconcile_gateway", {"principal": "not-a-role"}),
]


def stdio_session(store: Path, calls: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], list[Any]]:
    """The tools listed and each call's result, in one stdio session with ``aifinops mcp --store store``."""
    # the test's environment (conftest points the data, cache and default store folders into tmp): the SDK passes
    # the server only a few variables of its own otherwise, and the server would use the real home folders
    params = StdioServerParameters(command=AIFINOPS, args=["mcp", "--store", str(store)], env=dict(os.environ))

    async def main() -> tuple[dict[str, Any], list[Any]]:
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            return tools, [await client.call_tool(name, args) for name, args in calls]

    return anyio.run(main)


def cli(*args: str) -> dict[str, Any]:
    done = run_cli("genai", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def is_money(key: str) -> bool:
    return key.endswith("_usd")


def assert_same(mcp: Any, cli_doc: Any, key: str = "", money: bool = False, near: bool = False) -> None:
    """The MCP answer equals the CLI's document: money at the cent (the CLI keeps six decimals of some), other
    floats to the six decimals the server keeps, everything else exactly.

    ``near``: the CLI's six-decimal money (the gateway reconciliation's) is shown in cents that add up to the totals
    beside it (largest remainder, tests/test_totals_add_up.py): each figure is within a cent of the CLI's, a tier's
    cost is money too, and a gap's explanation names the same token class (its dollars are the answer's cents)."""
    if isinstance(cli_doc, dict):
        assert isinstance(mcp, dict) and set(cli_doc) <= set(mcp), (key, set(cli_doc) - set(mcp or {}))
        for k, v in cli_doc.items():
            assert_same(mcp[k], v, k, money or is_money(k) or (near and k == "billed_by_tier"), near)
    elif isinstance(cli_doc, list):
        assert isinstance(mcp, list) and len(mcp) == len(cli_doc), key
        for m, c in zip(mcp, cli_doc, strict=True):
            assert_same(m, c, key, money, near)
    elif isinstance(cli_doc, float) and not isinstance(cli_doc, bool):
        places = 2 if money or is_money(key) else 6
        if near and places == 2:
            assert round(mcp, 2) == mcp and abs(mcp - cli_doc) < 0.01, (key, mcp, cli_doc)
        else:
            assert mcp == pytest.approx(round(cli_doc, places), abs=1e-9), (key, mcp, cli_doc)
    elif near and key == "explained_by" and cli_doc is not None:
        assert mcp.split(":", 1)[0] == cli_doc.split(":", 1)[0], (key, mcp, cli_doc)
    else:
        assert mcp == cli_doc, (key, mcp, cli_doc)


@pytest.fixture(scope="module")
def demo(demo_store: Store) -> dict[str, Any]:
    tools, results = stdio_session(demo_store.path, DEMO_CALLS)
    answers = {}
    for (name, args), result in zip(DEMO_CALLS, results, strict=True):
        text = result.content[0].text
        answers[(name, json.dumps(args, sort_keys=True))] = (bool(result.is_error), text, result.structured_content)
    return {"tools": tools, "answers": answers, "store": str(demo_store.path)}


def answer(demo: dict[str, Any], name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    is_error, text, structured = demo["answers"][(name, json.dumps(args or {}, sort_keys=True))]
    assert not is_error, text
    assert len(text.encode()) <= MAX_ANSWER_BYTES
    doc = json.loads(text)
    assert structured == doc  # the structured content and the text block carry the same answer
    jsonschema.validate(doc, demo["tools"][name].output_schema)
    return doc


@pytest.fixture(scope="module")
def demo_files() -> dict[str, Any]:
    from aifinops.demo import demo_dir

    root = demo_dir()  # the files the session's demo store was loaded from
    return {"cur": sorted(str(p) for p in (root / "cur2").rglob("*.parquet")),
            "spend": str(root / "gateway" / "litellm_spend_logs.json")}


def cents(x: float) -> int:
    return round(x * 100)


# ----------------------------------------------------------------------------------------------- the tool list


def test_the_tools_are_listed_read_only_with_typed_output_schemas(demo):
    for name in TOOLS:
        tool = demo["tools"][name]
        assert tool.annotations.read_only_hint and not tool.annotations.destructive_hint
        assert tool.input_schema.get("additionalProperties") is False
        schema = tool.output_schema
        assert schema and schema["type"] == "object"
    props = {n: demo["tools"][n].output_schema["properties"] for n in TOOLS}
    assert {"agents", "unassigned", "knowledge_base_shared_usd"} <= set(props["cost_per_agent"])
    assert {"billed_bedrock_usd", "allocated_usd", "unallocated_usd", "rows", "unallocated", "scaling"} \
        <= set(props["cost_per_request"])
    assert {"billed_usd", "gateway_usd", "rows", "principal", "gateway_rates_usd_per_1m"} \
        <= set(props["reconcile_gateway"])
    # the row types are spelled out, not free-form objects
    defs = demo["tools"]["reconcile_gateway"].output_schema["$defs"]
    assert {"gap_usd", "gap_class", "explained_by", "classes"} <= set(defs["GatewayRow"]["properties"])
    assert {"token_class", "volume_gap_usd", "rate_gap_usd"} <= set(defs["GatewayClass"]["properties"])


# ----------------------------------------------------------------------------------------------- per request


@pytest.mark.parametrize("group_by,sql_key", [
    (None, "coalesce(nullif(identity_arn, ''), 'unknown')"),
    ("metadata:application", "coalesce(json_extract_string(request_metadata, '$.application'), '(none)')"),
    ("inference_profile", "coalesce(inference_profile_arn, 'none')"),
])
def test_cost_per_request_equals_the_cli_and_adds_up_to_the_bill(demo, demo_files, group_by, sql_key):
    args = {"group_by": [group_by]} if group_by else {}
    doc = answer(demo, "cost_per_request", args)
    assert_same(doc, cli("requests", *(["-g", group_by] if group_by else []), "--store", demo["store"]))
    key = group_by or "identity"
    # the billed Bedrock cost of the logged days, from the CUR 2.0 files themselves
    period = (f"line_item_usage_start_date >= TIMESTAMP '{doc['start']}' "
              f"AND line_item_usage_start_date < TIMESTAMP '{doc['end']}'")
    (billed,) = duckdb.sql(f"SELECT sum(line_item_unblended_cost) FROM read_parquet({demo_files['cur']}) "
                           f"WHERE line_item_product_code LIKE 'AmazonBedrock%' AND {period}").fetchall()[0]
    assert cents(doc["billed_bedrock_usd"]) == cents(billed)
    shown = sum(cents(r["cost_usd"]) for r in doc["rows"]) + sum(cents(u["cost_usd"]) for u in doc["unallocated"])
    assert shown == cents(billed)  # the cents shown add up to the bill exactly
    assert cents(doc["allocated_usd"]) + cents(doc["unallocated_usd"]) == cents(billed)
    # each group's requests and tokens, counted here from the logged requests
    with duckdb.connect(demo["store"], read_only=True) as con:
        expected = {g: (n, i, o) for g, n, i, o in con.execute(
            f"SELECT {sql_key}, count(*), sum(input_tokens), sum(output_tokens) FROM bedrock_invocations "
            "WHERE ts >= CAST(? AS TIMESTAMP) AND ts < CAST(? AS TIMESTAMP) GROUP BY 1",
            [doc["start"], doc["end"]]).fetchall()}
    assert {r[key]: (r["requests"], r["input_tokens"], r["output_tokens"]) for r in doc["rows"]} == expected
    assert doc["rows_total"] == len(expected)


def test_cost_per_application_is_its_callers_bill(demo, demo_files):
    """An application whose requests all come from one role costs what the bill's caller-identity column says
    that role cost on those days (the per-request cost is scaled to the bill per day, model and token class)."""
    doc = answer(demo, "cost_per_request", {"group_by": ["metadata:application"]})
    with duckdb.connect(demo["store"], read_only=True) as con:
        sole = dict(con.execute(
            "SELECT json_extract_string(request_metadata, '$.application'), min(identity_arn) FROM bedrock_invocations "
            "GROUP BY 1 HAVING count(DISTINCT identity_arn) = 1").fetchall())
    period = (f"line_item_usage_start_date >= TIMESTAMP '{doc['start']}' "
              f"AND line_item_usage_start_date < TIMESTAMP '{doc['end']}'")
    by_role = dict(duckdb.sql(
        f"SELECT line_item_iam_principal, sum(line_item_unblended_cost) FROM read_parquet({demo_files['cur']}) "
        f"WHERE line_item_product_code LIKE 'AmazonBedrock%' AND {period} GROUP BY 1").fetchall())
    checked = 0
    for row in doc["rows"]:
        identity = sole.get(row["metadata:application"])
        if identity and ":assumed-role/" in identity:  # arn:aws:sts::ACCT:assumed-role/ROLE/SESSION
            account = identity.split(":")[4]
            role = identity.split(":assumed-role/", 1)[1].split("/", 1)[0]
            assert abs(cents(row["cost_usd"]) - cents(by_role[f"arn:aws:iam::{account}:role/{role}"])) <= 1
            checked += 1
    assert checked >= 2  # the demo's summarizer and chatbot (the gateway serves several users)


# ----------------------------------------------------------------------------------------------- the gateway


def test_reconcile_gateway_equals_the_cli_and_names_the_cache_read_gap(demo, demo_files):
    doc = answer(demo, "reconcile_gateway")
    assert_same(doc, cli("reconcile", "--store", demo["store"]), near=True)
    assert doc["principal"] == GATEWAY_ROLE and doc["principal_match"]["inferred"] is True
    period = (f"line_item_usage_start_date >= TIMESTAMP '{doc['start']}' "
              f"AND line_item_usage_start_date < TIMESTAMP '{doc['end']}'")
    cur = f"read_parquet({demo_files['cur']})"
    role = f"line_item_iam_principal = '{GATEWAY_ROLE}' AND line_item_product_code LIKE 'AmazonBedrock%'"
    (billed,) = duckdb.sql(f"SELECT sum(line_item_unblended_cost) FROM {cur} WHERE {role} AND {period} "
                           "AND line_item_line_item_type = 'Usage'").fetchall()[0]
    assert cents(doc["billed_usd"]) == cents(billed)
    # the gateway's own spend, per day and model, from its spend log as LiteLLM wrote it
    spend = duckdb.sql(
        f"SELECT CAST(startTime AS DATE)::VARCHAR AS day, CASE WHEN model ILIKE '%nova-lite%' THEN 'Nova Lite' "
        "WHEN model ILIKE '%claude-sonnet-4-5%' THEN 'Claude Sonnet 4.5' ELSE model END AS m, sum(spend) "
        f"FROM read_json_auto('{demo_files['spend']}') WHERE custom_llm_provider = 'bedrock' "
        "AND status = 'success' GROUP BY ALL").fetchall()
    assert cents(doc["gateway_usd"]) == cents(sum(s for _, _, s in spend))
    # each row within a cent of its spend log (in cents that add up to the gateway total, largest remainder)
    logged = {(d, m): s for d, m, s in spend}
    assert {(r["day"], r["model"]) for r in doc["rows"]} == set(logged)
    assert all(abs(r["gateway_usd"] - logged[(r["day"], r["model"])]) < 0.01 for r in doc["rows"]), doc["rows"]
    assert sum(cents(r["gateway_usd"]) for r in doc["rows"]) == cents(doc["gateway_usd"])
    # the planted discrepancy: the gateway prices Claude's cache reads at $0, so each day's Claude gap is the
    # billed cache reads of that day, named as such; Nova Lite, priced right, has no gap
    cache_reads = dict(duckdb.sql(
        f"SELECT CAST(line_item_usage_start_date AS DATE)::VARCHAR, sum(line_item_unblended_cost) FROM {cur} "
        f"WHERE {role} AND {period} AND line_item_usage_type LIKE '%CacheRead%' GROUP BY 1").fetchall())
    claude = [r for r in doc["rows"] if r["model"] == "Claude Sonnet 4.5"]
    assert len(claude) == len(cache_reads) == 3
    for r in claude:
        assert r["gap_class"] == "cache-read" and r["explained_by"].startswith("cache-read")
        assert abs(cents(r["gap_usd"]) - cents(cache_reads[r["day"]])) <= 1
        by_class = {c["token_class"]: c for c in r["classes"]}
        assert by_class["cache-read"]["gateway_usd_per_1m"] == 0.0
        assert cents(by_class["cache-read"]["billed_usd"]) == cents(cache_reads[r["day"]])
    for r in doc["rows"]:
        if r["model"] == "Nova Lite":
            assert abs(r["gap_usd"]) < 0.01 and r["gap_class"] is None


def test_reconcile_gateway_against_every_caller_equals_the_cli(demo):
    doc = answer(demo, "reconcile_gateway", {"principal": "all"})
    assert_same(doc, cli("reconcile", "--principal", "all", "--store", demo["store"]), near=True)
    assert doc["principal"] is None


def test_a_bad_principal_is_refused_with_the_fix(demo):
    is_error, text, _ = demo["answers"][("reconcile_gateway", json.dumps({"principal": "not-a-role"}))]
    assert is_error and "Bad principal" in text and "To fix:" in text and "arn:aws:iam::" in text


# ----------------------------------------------------------------------------------------------- per agent


def test_cost_per_agent_on_the_demo_equals_the_cli(demo):
    doc = answer(demo, "cost_per_agent")
    assert_same(doc, cli("agents", "--store", demo["store"]))
    assert doc["agents"] == [] and "names no agent" in doc["aifinops_notes"][0]  # the demo runs no agent


@pytest.fixture(scope="module")
def agents_store(tmp_path_factory) -> Store:
    """test_genai_agents's bill (a support agent by runtime ARN, tag and role tag; a triage agent by its role and
    a tagged vector store; shared knowledge-base retrieval): a bill, and neither invocation logs nor spend logs."""
    return agents_bill_store(tmp_path_factory.mktemp("agents"))


AGENT_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("cost_per_agent", {"agent_roles": {"triage": TRIAGE_ROLE}}),
    ("cost_per_agent", {"agent_roles": {"triage": "triage-exec"}}),
    ("cost_per_request", {}),
    ("reconcile_gateway", {}),
]


@pytest.fixture(scope="module")
def agents_answers(agents_store) -> tuple[dict[str, Any], list[Any]]:
    return stdio_session(agents_store.path, AGENT_CALLS)


def test_cost_per_agent_with_an_execution_role_by_hand(agents_store, agents_answers):
    tools, results = agents_answers
    assert not results[0].is_error, results[0].content[0].text
    doc = json.loads(results[0].content[0].text)
    jsonschema.validate(doc, tools["cost_per_agent"].output_schema)
    assert_same(doc, cli("agents", "--agent-role", f"triage={TRIAGE_ROLE}", "--store", str(agents_store.path)))
    by = {a["agent"]: a for a in doc["agents"]}
    # support: runtime 1.79 + memory 0.25; inference 3.00 (its role's tag); retrieval 0.80 shared 3 : 1 → 0.60
    assert (by["support_agent-a1b2"]["agentcore_usd"], by["support_agent-a1b2"]["inference_usd"],
            by["support_agent-a1b2"]["knowledge_base_share_usd"], by["support_agent-a1b2"]["total_usd"]) == \
        (2.04, 3.0, 0.6, 5.64)
    # triage: inference 1.00 (agent_roles), its tagged vector store 0.40, retrieval share 0.20
    assert (by["triage"]["inference_usd"], by["triage"]["knowledge_base_usd"], by["triage"]["total_usd"]) == \
        (1.0, 0.4, 1.6)
    assert doc["unassigned"] == {"agentcore_usd": 0.05, "knowledge_base_usd": 0.0}
    assert [a["agent"] for a in doc["agents"]] == ["support_agent-a1b2", "triage"]  # largest first
    bad = results[1]
    assert bad.is_error and "agent_roles" in bad.content[0].text and "To fix:" in bad.content[0].text


def test_a_store_without_logs_is_refused_saying_how_to_get_them(agents_answers):
    _, results = agents_answers
    requests, gateway = results[2], results[3]
    assert requests.is_error and gateway.is_error
    text = requests.content[0].text
    assert "no Bedrock model invocation log records" in text and "aifinops ingest" in text
    assert "BedrockModelInvocationLogs" in text and "Traceback" not in text
    text = gateway.content[0].text
    assert "no gateway spend logs" in text and "aifinops ingest" in text and "LiteLLM" in text
    assert "Traceback" not in text


# ----------------------------------------------------------------------------------------------- the answer cap


@pytest.mark.parametrize("tool,listed", [("reconcile_gateway", ["rows"]), ("cost_per_request", ["rows", "scaling"])])
def test_a_long_answer_is_cut_to_the_cap_with_a_note(demo_store, monkeypatch, tool, listed):
    """A month of a busy gateway is more (day, model) rows than one answer holds: the answer lists the first ones,
    says how many there are and how to ask for the rest, and keeps the totals of them all. The cap is lowered to
    half the demo's answer here (the library call the tool makes, in process)."""
    from aifinops.answers import args, genai

    def compact(doc: dict[str, Any]) -> int:
        return len(json.dumps(doc, separators=(",", ":"), default=str).encode())

    with demo_store.connect(read_only=True) as con:
        full = getattr(genai, tool)(con)
        cap = compact(full) // 2
        monkeypatch.setattr(args, "MAX_ANSWER_BYTES", cap)
        cut = getattr(genai, tool)(con)
    assert "aifinops_notes" not in full and compact(cut) <= cap
    assert "Cut to fit one answer" in cut["aifinops_notes"][0]
    assert any(len(cut[k]) < len(full[k]) for k in listed)
    for k in listed:
        assert cut[k] == full[k][:len(cut[k])]  # the first ones, in the full answer's order
    counts = ("aifinops_notes", "rows_total", "scaling_total")
    assert {k: v for k, v in cut.items() if k not in (*listed, *counts)} \
        == {k: v for k, v in full.items() if k not in (*listed, *counts)}  # the totals count them all
    assert cut["rows_total"] == (len(full["rows"]) if tool == "reconcile_gateway" else full["rows_total"])
    if len(cut.get("scaling", [])) < len(full.get("scaling", [])):
        assert cut["scaling_total"] == len(full["scaling"])
