"""Cost per agent (issue 17): AgentCore charges + inference by the agent's execution role + its knowledge-base
share, on a CUR 2.0 fixture with caller identity; expectations by hand below."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from aifinops.costs.genai import agent_costs
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from clirun import run_cli
from curfixtures import cur2_row, write_cur2

ACCT = "111122223333"
RUNTIME = f"arn:aws:bedrock-agentcore:us-east-1:{ACCT}:runtime/support_agent-a1b2"
SUPPORT_ROLE = f"arn:aws:iam::{ACCT}:role/support-agent-exec"
TRIAGE_ROLE = f"arn:aws:iam::{ACCT}:role/triage-exec"
D = "2026-05-03"
AC = "AmazonBedrockAgentCore"


def rows() -> list[dict]:
    tok = "USE1-NovaPro-input-tokens"
    return [
        cur2_row("2026-05", D, AC, "USE1-Runtime:Consumption-based:vCPU", 1.79, line_item_resource_id=RUNTIME),
        cur2_row("2026-05", D, AC, "USE1-Memory:Consumption-based:Short-Term-Memory", 0.25,
                 tags={"user_agent": "support_agent-a1b2"}),
        cur2_row("2026-05", D, AC, "USE1-Gateway:Consumption-based:API-Invocations", 0.05),  # nobody's
        cur2_row("2026-05", D, "AmazonBedrock", tok, 3.0, line_item_iam_principal=SUPPORT_ROLE),
        cur2_row("2026-05", D, "AmazonBedrock", tok, 1.0, line_item_iam_principal=TRIAGE_ROLE),
        cur2_row("2026-05", D, "AmazonBedrock", tok, 2.0, line_item_iam_principal=f"arn:aws:iam::{ACCT}:user/alice"),
        cur2_row("2026-05", D, AC, "USE1-Knowledge-Base:Consumption-based:Retrieval", 0.80),  # shared
        cur2_row("2026-05", D, "AmazonES", "USE1-SearchOCU", 0.40, tags={"user_agent": "triage"}),
    ]


def agents_bill_store(tmp: Path) -> Store:
    """``rows()`` ingested into ``tmp/s.duckdb``, the support agent's execution role tagged with its agent (CUR
    2.0 prefixed tags column): the bill the agent tests here, in the dashboard and over MCP read."""
    data = rows()
    for r in data:
        r["tags"] = [("iamPrincipal/agent", "support_agent-a1b2")] if r.get("line_item_iam_principal") == \
            SUPPORT_ROLE else []
    s = Store(tmp / "s.duckdb")
    ingest_paths(s, [write_cur2(tmp / "cur" / "x.parquet", data)])
    return s


@pytest.fixture
def store(tmp_path) -> Store:
    return agents_bill_store(tmp_path)


def test_cost_per_agent(store):
    with store.connect(read_only=True) as con:
        doc = agent_costs(con, date(2026, 5, 1), date(2026, 6, 1), {"triage": TRIAGE_ROLE})
    by = {a["agent"]: a for a in doc["agents"]}
    support, triage = by["support_agent-a1b2"], by["triage"]
    # support: runtime 1.79 + memory 0.25; inference 3.00 (its role's tag); KB share 0.80 x 3 / (3 + 1)
    assert support["agentcore_usd"] == pytest.approx(2.04)
    assert support["inference_usd"] == pytest.approx(3.0)
    assert support["knowledge_base_share_usd"] == pytest.approx(0.60)
    assert support["total_usd"] == pytest.approx(5.64)
    # triage: inference 1.00 (--agent-role), its own vector store 0.40, KB share 0.80 x 1 / 4
    assert triage["total_usd"] == pytest.approx(1.0 + 0.40 + 0.20)
    assert doc["unassigned"] == {"agentcore_usd": pytest.approx(0.05), "knowledge_base_usd": 0.0}
    assert set(by) == {"support_agent-a1b2", "triage"}  # alice is a caller, not an agent


def test_cli(store):
    done = run_cli("genai", "agents", "--agent-role", f"triage={TRIAGE_ROLE}", "-f", "json", "--store",
                   str(store.path))
    assert done.returncode == 0, done.stderr
    assert {a["agent"] for a in json.loads(done.stdout)["agents"]} == {"support_agent-a1b2", "triage"}
    bad = run_cli("genai", "agents", "--agent-role", "triage", "--store", str(store.path))
    assert bad.returncode == 2 and "AGENT=arn:aws:iam" in bad.stderr
