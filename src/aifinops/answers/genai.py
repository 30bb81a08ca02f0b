"""GenAI cost attribution for the MCP tools (docs/genai.md): cost per agent, cost per request reconciled to the
bill, and the stored gateway spend logs against the bill, each the same answer as ``aifinops genai agents |
requests | reconcile --format json`` (money rounded to the cent by the server; the reconciliation's six-decimal
money in cents that add up to its totals, each within a cent: ``costs.gateway.in_cents``) with its output schema
below.

The work is ``aifinops.costs.genai`` and ``aifinops.costs.gateway``'s; here the tools' arguments are read as the
CLI reads its options (the same defaults), and a long answer is cut to ``MAX_ANSWER_BYTES`` with a note saying
what was left out and how to ask for the rest.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from aifinops.answers.args import fit, parse_date
from aifinops.answers.shapes import Answer
from aifinops.errors import ArgumentError

# ----------------------------------------------------------------------------------------------- output shapes


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow")


class AgentCost(_Row):
    agent: str = Field(description="the agent: its runtime name, `agent` tag or execution role's agent tag")
    agentcore_usd: float = Field(description="its AgentCore charges (runtime, memory, gateway, …)")
    inference_usd: float = Field(description="model inference billed to its execution role")
    knowledge_base_usd: float = Field(description="knowledge-base and vector-store cost tagged with the agent")
    knowledge_base_share_usd: float = Field(description="its share of the untagged knowledge-base cost")
    total_usd: float


class AgentCostsAnswer(Answer):
    """Cost per agent over [start, end): AgentCore + inference by execution role + knowledge-base share."""

    start: str
    end: str = Field(description="exclusive")
    agents: list[AgentCost] = Field(description="largest total first")
    unassigned: dict[str, float] = Field(description="AgentCore and knowledge-base cost no agent claims, USD")
    knowledge_base_shared_usd: float = Field(description="untagged knowledge-base cost shared by inference share")


class RequestCostRow(_Row):
    """One group: its group_by keys (identity, model, metadata:KEY, …) as fields, then these."""

    requests: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float = Field(description="its requests priced at the billed rate, scaled to the bill")


class Unallocated(_Row):
    reason: str = Field(description="batch, provisioned throughput, non-token charge, credit, billed but not logged")
    model: str | None
    cost_usd: float


class ScaleCell(_Row):
    day: str
    account_id: str | None
    model: str
    token_class: str
    billed_usd: float
    billed_tokens: float
    logged_tokens: float
    usd_per_1k_tokens: float | None
    scale_factor: float | None = Field(description="billed / logged tokens: far from 1 means logging misses traffic")


class RequestCostsAnswer(Answer):
    """Per-request Bedrock cost grouped by ``group_by``; rows + unallocated = the billed Bedrock cost, to the cent."""

    start: str
    end: str = Field(description="exclusive")
    group_by: list[str]
    billed_bedrock_usd: float
    allocated_usd: float = Field(description="the sum of every group's cost_usd (rows_total groups)")
    unallocated_usd: float
    rows: list[RequestCostRow] = Field(description="largest cost first")
    rows_total: int
    unallocated: list[Unallocated]
    scaling: list[ScaleCell] = Field(description="per (day, account, model, token class) cell")
    scaling_total: int | None = Field(None, description="cells in all when the answer lists fewer")


class GatewayClass(_Row):
    token_class: str = Field(description="input | output | cache-read | cache-write")
    billed_tokens: float
    gateway_tokens: float
    billed_usd: float
    gateway_usd: float = Field(description="gateway tokens x the gateway's own fitted rate")
    gap_usd: float = Field(description="billed - gateway")
    volume_gap_usd: float = Field(description="tokens the bill counts and the gateway does not, at the billed rate")
    rate_gap_usd: float = Field(description="gateway tokens x (billed rate - gateway rate)")
    billed_usd_per_1m: float | None
    gateway_usd_per_1m: float | None
    billed_by_tier: dict[str, float] = Field(description="billed cost by tier (standard, batch, flex, …; 1h: "
                                                         "1-hour cache writes)")


class GatewayRow(_Row):
    day: str
    model: str
    requests: int
    billed_usd: float
    gateway_usd: float
    gap_usd: float = Field(description="billed - gateway")
    explained_by: str | None = Field(description="the token class behind the gap and what the bill shows for it")
    gap_class: str | None = Field(description="that token class alone")
    classes: list[GatewayClass]


class GatewayReconciliationAnswer(Answer):
    """The stored LiteLLM spend logs against the bill per (day, model), each gap named by its token class."""

    start: str
    end: str = Field(description="exclusive")
    principal: str | None = Field(description="the gateway's role whose billed rows were compared; None: every caller")
    billed_usd: float
    gateway_usd: float
    gateway_rates_usd_per_1m: dict[str, dict[str, float | None]] = Field(
        description="the gateway's own per-token rates per model and token class, fitted from its requests")
    principal_match: dict[str, Any] | None = Field(description="how the gateway's role was found (principal auto)")
    rows: list[GatewayRow] = Field(description="by day, largest gap first")
    rows_total: int | None = Field(None, description="rows in all when the answer lists fewer")


# --------------------------------------------------------------------------------------------------- answers


def _period(start_date: str | None, end_date: str | None) -> tuple[date | None, date | None]:
    return (parse_date(start_date, "start_date") if start_date else None,
            parse_date(end_date, "end_date") if end_date else None)


def cost_per_agent(con: duckdb.DuckDBPyConnection, start_date: str | None = None, end_date: str | None = None,
                   agent_roles: dict[str, str] | None = None) -> dict[str, Any]:
    """``aifinops genai agents``: the period defaults to the data's, ``agent_roles`` is {agent: role ARN}."""
    from aifinops.costs.breakdown import data_period
    from aifinops.costs.genai import agent_costs

    roles = {}
    for name, role in (agent_roles or {}).items():
        if not str(name).strip() or not str(role).strip().startswith("arn:"):
            raise ArgumentError(f"Bad agent_roles entry {str(name)[:60]!r}.",
                                'pass {"AGENT": "arn:aws:iam::ACCOUNT:role/NAME"}.')
        roles[str(name).strip()] = str(role).strip()
    start, end = _period(start_date, end_date)
    first, after = data_period(con)
    doc = agent_costs(con, start or first, end or after, roles)
    if not doc["agents"]:
        doc["aifinops_notes"] = [
            "The bill names no agent in this period: no AgentCore runtime ARN, no `agent` tag, no execution role "
            "tagged iamPrincipal/agent. Pass agent_roles {agent: execution role ARN} to count a role's inference."]
    return doc


def cost_per_request(con: duckdb.DuckDBPyConnection, group_by: list[str] | None = None,
                     start_date: str | None = None, end_date: str | None = None, top: int | None = None
                     ) -> dict[str, Any]:
    """``aifinops genai requests -g …``: per-request cost from the invocation logs, scaled to the bill."""
    from aifinops.costs.genai import request_costs

    start, end = _period(start_date, end_date)
    doc = request_costs(con, list(group_by or ["identity"]), start, end, top)
    rows, cells = doc["rows"], doc["scaling"]

    def build(size: int) -> dict[str, Any]:
        out = {**doc, "rows": rows[:size], "scaling": cells[:size]}
        if size < len(cells):
            out["scaling_total"] = len(cells)
        if size < len(rows) or size < len(cells):
            out["aifinops_notes"] = [
                f"Cut to fit one answer: the largest {min(size, len(rows))} of {len(rows)} groups and the first "
                f"{min(size, len(cells))} of {len(cells)} scaling cells; the totals count them all. For the rest: a "
                "shorter period (start_date, end_date), or `aifinops genai requests --format json`."]
        return out

    return fit(build, max(len(rows), len(cells), 1))


def reconcile_gateway(con: duckdb.DuckDBPyConnection, start_date: str | None = None, end_date: str | None = None,
                      principal: str = "auto") -> dict[str, Any]:
    """``aifinops genai reconcile`` over the spend logs ingested into the store: ``principal`` 'auto' finds the
    gateway's role in the bill, 'all' compares with every caller, an ARN names it."""
    from aifinops.costs.gateway import in_cents, reconcile_stored

    if principal not in ("auto", "all") and not principal.startswith("arn:"):
        raise ArgumentError(f"Bad principal {principal[:80]!r}.",
                            "pass the gateway's role ARN (arn:aws:iam::ACCOUNT:role/NAME), 'auto' or 'all'.")
    start, end = _period(start_date, end_date)
    # in cents that add up (rows to the totals, classes to their row): the server would round each one alone
    doc = in_cents(reconcile_stored(con, start, end, None if principal == "all" else principal))
    rows = doc["rows"]

    def build(size: int) -> dict[str, Any]:
        if size >= len(rows):
            return doc
        return {**doc, "rows": rows[:size], "rows_total": len(rows), "aifinops_notes": [
            f"Cut to fit one answer: the first {size} of {len(rows)} (day, model) rows; billed_usd and gateway_usd "
            "count them all. For the rest: a shorter period (start_date, end_date)."]}

    return fit(build, max(len(rows), 1))
