"""Per-request Bedrock cost that sums to the invoice (docs/genai.md).

``request_costs(con, group_by=[...])`` prices every logged model call (``bedrock_invocations``, from the model
invocation logs) with the account's own billed rate and scales it to the bill:

- A **cell** is (usage day, account, model, token class): input, output, cache read, cache write. The bill's
  cell holds its cost and tokens (``usage_daily``, every on-demand tier together: standard, flex, priority,
  latency-optimized, in-region and cross-region); the logs' cell holds the tokens of the requests of that day.
- The billed rate is cost / billed tokens; a request's token class is priced at that rate, then scaled by
  ``scale_factor`` = billed tokens / logged tokens, so a cell's requests add up to the cell's billed cost. A
  factor far from 1 means logging misses traffic (> 1) or logs more than was billed (< 1): it is reported per
  cell, never hidden.
- Bedrock cost no request can carry is **unallocated**, one row per reason: batch jobs (batch inference writes
  no invocation log record), billed cells no logged request matches, non-token charges (provisioned
  throughput, knowledge bases, guardrails, customization, agents) and credits, refunds and tax.

So ``sum(rows) + sum(unallocated)`` is the period's billed Bedrock cost, and the cents shown add up to the
rounded total exactly (largest-remainder rounding). Models are matched through the price catalog's model
aliases (``pricing.lookups.resolve_model``: ``us.anthropic.claude-sonnet-4-5-…`` and "Claude Sonnet 4.5
(Amazon Bedrock Edition)" are one model); a name it does not know is compared letters-and-digits only.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import duckdb

from aifinops.errors import ArgumentError, StoreError, did_you_mean
from aifinops.money import largest_remainder_cents
from aifinops.pricing.lookups import canonical_model
from aifinops.store import day_span, one_row
from aifinops.sums import DUCKDB_SUM
from aifinops.taxonomy import tokens_sql

TOKEN_CLASSES = {  # token class → the bedrock_invocations column that counts it
    "input": "input_tokens",
    "output": "output_tokens",
    "cache-read": "cache_read_tokens",
    "cache-write": "cache_write_tokens",
}
# Dimensions a per-request report groups by (SQL over the priced requests, never text from a request).
REQUEST_DIMENSIONS = {
    "identity": "coalesce(nullif(identity_arn, ''), 'unknown')",
    "model": "model",
    "model_id": "model_id",
    "day": "CAST(day AS VARCHAR)",
    "account": "account_id",
    "inference_profile": "coalesce(nullif(inference_profile_arn, ''), 'none')",
    "operation": "coalesce(operation, 'unknown')",
}
_METADATA_KEY_RE = re.compile(r"^[\w .:/=+\-@]{1,128}$")


def _dimension(name: str) -> str:
    if name.startswith("metadata:"):
        key = name.split(":", 1)[1]
        if not _METADATA_KEY_RE.match(key):
            raise ArgumentError(f"Metadata key {key!r} is not a requestMetadata key.",
                                "use letters, digits, spaces and _ . : / = + - @ (at most 128).")
        return f"coalesce(nullif(json_extract_string(request_metadata, '$.\"{key}\"'), ''), '(none)')"
    if name not in REQUEST_DIMENSIONS:
        raise ArgumentError(f"Unknown request dimension {name!r}.{did_you_mean(name, REQUEST_DIMENSIONS)}",
                            f"use one of {', '.join(REQUEST_DIMENSIONS)}, or metadata:KEY.")
    return REQUEST_DIMENSIONS[name]


def register_models(con: duckdb.DuckDBPyConnection, others_sql: str, start: date, end: date) -> None:
    """A temp table ``genai_models`` of every bill model in the period and every name ``others_sql`` (a SELECT of
    one column, its two ``?`` the period) lists, each with its canonical name."""
    names = {r[0] for r in con.execute(
        "SELECT DISTINCT model FROM usage_daily WHERE ai_service = 'bedrock' AND usage_date >= ? AND usage_date < ?"
        f" UNION {others_sql}", [start, end, start, end]).fetchall()}
    # An application inference profile is logged by its ARN; its line items name that ARN as their resource and
    # carry the model it routes to.
    profiles = dict(con.execute(
        "SELECT resource_id, min(model) FROM usage_daily WHERE ai_service = 'bedrock' AND model IS NOT NULL "
        "AND resource_id LIKE 'arn:aws%:bedrock:%:application-inference-profile/%' GROUP BY resource_id").fetchall())
    con.execute("CREATE OR REPLACE TEMP TABLE genai_models (name VARCHAR, canonical VARCHAR)")
    con.executemany("INSERT INTO genai_models VALUES (?, ?)",
                    [[n, canonical_model(profiles.get(n, n))] for n in sorted(n for n in names if n is not None)])


def log_span(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """[first day, day after the last) of the logged requests."""
    return day_span(con, "bedrock_invocations", "CAST(ts AS DATE)", StoreError(
        "The store holds no Bedrock model invocation log records.",
        "run `aifinops collect` with invocation logging on, or `aifinops ingest` a copy of "
        "the logs' S3 prefix (AWSLogs/<account>/BedrockModelInvocationLogs/)."))


def _cells_sql() -> str:
    """Billed and logged tokens and cost per cell, with the billed rate and the scale factor."""
    unpivot = " UNION ALL ".join(
        f"SELECT CAST(ts AS DATE) AS day, account_id, model_id, '{k}' AS kind, CAST({col} AS DOUBLE) AS tokens "
        f"FROM bedrock_invocations WHERE CAST(ts AS DATE) >= $start AND CAST(ts AS DATE) < $end"
        for k, col in TOKEN_CLASSES.items()
    )
    return f"""
    billed AS (
      SELECT usage_date AS day, account_id, m.canonical AS model,
             CASE WHEN token_kind LIKE 'cache-write%' THEN 'cache-write' ELSE token_kind END AS kind,
             {DUCKDB_SUM}(billed_cost) AS cost, {DUCKDB_SUM}({tokens_sql('usage_quantity', 'pricing_unit')}) AS tokens
      FROM usage_daily u LEFT JOIN genai_models m ON m.name = u.model
      WHERE ai_service = 'bedrock' AND usage_date >= $start AND usage_date < $end
        AND coalesce(line_item_type, 'Usage') NOT IN ('Credit', 'Refund', 'Tax')
        AND token_kind IN ('input', 'output', 'cache-read', 'cache-write', 'cache-write-1h')
        AND coalesce(inference_tier, 'standard') NOT IN ('batch', 'provisioned')
      GROUP BY ALL),
    logged_tokens AS (
      SELECT l.day, l.account_id, m.canonical AS model, l.kind, l.model_id, l.tokens
      FROM ({unpivot}) l LEFT JOIN genai_models m ON m.name = l.model_id WHERE l.tokens > 0),
    logged AS (SELECT day, account_id, model, kind, {DUCKDB_SUM}(tokens) AS tokens FROM logged_tokens GROUP BY ALL),
    cells AS (
      SELECT coalesce(b.day, g.day) AS day, coalesce(b.account_id, g.account_id) AS account_id,
             coalesce(b.model, g.model) AS model, coalesce(b.kind, g.kind) AS kind,
             coalesce(b.cost, 0) AS billed_usd, coalesce(b.tokens, 0) AS billed_tokens,
             coalesce(g.tokens, 0) AS logged_tokens
      FROM billed b FULL OUTER JOIN logged g
        ON b.day = g.day AND b.account_id IS NOT DISTINCT FROM g.account_id AND b.model = g.model
           AND b.kind = g.kind)"""


def request_costs(
    con: duckdb.DuckDBPyConnection,
    group_by: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Per-request Bedrock cost grouped by ``group_by`` (identity, model, day, inference_profile, metadata:KEY, …)
    over ``[start, end)`` (default: the days the logs cover), reconciled to the billed Bedrock cost."""
    group_by = list(group_by or ["identity"])
    dims = [_dimension(g) for g in group_by]
    if start is None or end is None:
        first, after = log_span(con)
        start, end = start or first, end or after
    if start >= end:
        raise ArgumentError(f"The period {start} to {end} is empty.", "pass --start before --end.")
    register_models(con, "SELECT DISTINCT model_id FROM bedrock_invocations WHERE CAST(ts AS DATE) >= ? "
                         "AND CAST(ts AS DATE) < ?", start, end)
    params = {"start": start, "end": end}
    # The cells once, as a temp table the three answers below read (the logs are unpivoted a single time).
    con.execute(f"CREATE OR REPLACE TEMP TABLE genai_cells AS WITH {_cells_sql()} SELECT * FROM cells", params)
    cells = "cells AS (SELECT * FROM genai_cells)"
    priced = f"""WITH {cells},
    rates AS (  -- one row per (day, account, model): the $ per logged token of each token class
      SELECT day, account_id, model, {', '.join(
          f"max(CASE WHEN kind = '{k}' THEN billed_usd / logged_tokens END) AS r{i}"
          for i, k in enumerate(TOKEN_CLASSES))}
      FROM cells WHERE logged_tokens > 0 GROUP BY ALL),
    req AS (
      SELECT i.*, CAST(i.ts AS DATE) AS day, m.canonical AS model FROM bedrock_invocations i
      LEFT JOIN genai_models m ON m.name = i.model_id
      WHERE CAST(i.ts AS DATE) >= $start AND CAST(i.ts AS DATE) < $end),
    cost AS (
      SELECT req.*, {' + '.join(
          f"coalesce(CAST(req.{col} AS DOUBLE) * r.r{i}, 0)" for i, col in enumerate(TOKEN_CLASSES.values())
      )} AS cost_usd
      FROM req LEFT JOIN rates r ON r.day = req.day AND r.account_id IS NOT DISTINCT FROM req.account_id
                                 AND r.model = req.model)"""
    select_dims = ", ".join(f"{d} AS g{i}" for i, d in enumerate(dims))
    order = ", ".join(f"g{i}" for i in range(len(dims)))
    token_sums = ", ".join(f"sum(coalesce({col}, 0))" for col in TOKEN_CLASSES.values())
    rows = con.execute(
        f"{priced} SELECT {select_dims}, count(*) AS requests, {token_sums}, "
        f"{DUCKDB_SUM}(cost_usd) AS cost FROM cost GROUP BY ALL ORDER BY cost DESC, {order}",
        params,
    ).fetchall()
    scaling = con.execute(
        f"WITH {cells} SELECT day, account_id, model, kind, billed_usd, billed_tokens, logged_tokens FROM cells "
        "ORDER BY day, account_id, model, kind").fetchall()
    unallocated = _unallocated(con, cells, params)
    total = one_row(con, f"SELECT coalesce({DUCKDB_SUM}(billed_cost), 0) FROM usage_daily WHERE ai_service = 'bedrock' "
                         "AND usage_date >= ? AND usage_date < ?", [start, end])[0]
    out_rows = [
        {**{g: r[i] for i, g in enumerate(group_by)}, "requests": r[len(dims)],
         "input_tokens": int(r[len(dims) + 1]), "output_tokens": int(r[len(dims) + 2]),
         "cache_read_tokens": int(r[len(dims) + 3]), "cache_write_tokens": int(r[len(dims) + 4]),
         "cost_usd": r[len(dims) + 5]}
        for r in rows
    ]
    cents = largest_remainder_cents([r["cost_usd"] for r in out_rows] + [u["cost_usd"] for u in unallocated], total)
    for r, c in zip(out_rows + unallocated, cents, strict=True):
        r["cost_usd"] = c
    allocated = round(sum(r["cost_usd"] for r in out_rows), 2)
    shown = out_rows if limit is None else out_rows[:limit]
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "group_by": group_by,
        "billed_bedrock_usd": round(total, 2),
        "allocated_usd": allocated,
        "unallocated_usd": round(round(total, 2) - allocated, 2),
        "rows": shown,
        "rows_total": len(out_rows),
        "unallocated": unallocated,
        "scaling": [_scale_row(*s) for s in scaling],
    }


def _scale_row(day: date, account: str | None, model: str, kind: str, billed_usd: float, billed_tokens: float,
               logged_tokens: float) -> dict[str, Any]:
    return {
        "day": day.isoformat(), "account_id": account, "model": model, "token_class": kind,
        "billed_usd": round(billed_usd, 6), "billed_tokens": billed_tokens, "logged_tokens": logged_tokens,
        "usd_per_1k_tokens": round(1000 * billed_usd / billed_tokens, 8) if billed_tokens else None,
        # billed tokens per logged token: 1 when the logs saw every billed token
        "scale_factor": round(billed_tokens / logged_tokens, 6) if logged_tokens and billed_tokens else None,
    }


def _unallocated(con: duckdb.DuckDBPyConnection, cells: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Billed Bedrock cost no logged request carries, by reason (the module docstring lists them)."""
    rows = con.execute(
        f"""WITH {cells},
        other AS (
          SELECT CASE
                   WHEN line_item_type IN ('Credit', 'Refund', 'Tax') THEN lower(line_item_type)
                   WHEN inference_tier = 'batch' THEN 'batch (no invocation log records)'
                   WHEN inference_tier = 'provisioned' THEN 'provisioned throughput'
                   ELSE 'non-token charge: ' || coalesce(workload, 'other') END AS reason,
                 coalesce(model, '') AS model, {DUCKDB_SUM}(billed_cost) AS cost
          FROM usage_daily
          WHERE ai_service = 'bedrock' AND usage_date >= $start AND usage_date < $end
            AND NOT (coalesce(line_item_type, 'Usage') NOT IN ('Credit', 'Refund', 'Tax')
                     AND token_kind IN ('input', 'output', 'cache-read', 'cache-write', 'cache-write-1h')
                     AND coalesce(inference_tier, 'standard') NOT IN ('batch', 'provisioned'))
          GROUP BY ALL),
        unlogged AS (
          SELECT 'billed, no logged request' AS reason, model, {DUCKDB_SUM}(billed_usd) AS cost FROM cells
          WHERE logged_tokens = 0 GROUP BY ALL)
        SELECT reason, model, cost FROM other UNION ALL SELECT reason, model, cost FROM unlogged
        ORDER BY reason, model""",
        params,
    ).fetchall()
    return [{"reason": r, "model": m or None, "cost_usd": c} for r, m, c in rows if abs(c) > 1e-12]


# ---------------------------------------------------------------------------------------------- cost per agent

AGENT_TAG = "agent"  # a cost allocation tag naming the agent a resource serves (canonical key)
PRINCIPAL_AGENT_TAG = "iamPrincipal/agent"  # the same tag on the agent's execution role, as the bill carries it


def _row_in_cents(values: list[float], fixed: float, total: float) -> list[float]:
    """``values`` in cents that add up, with ``fixed`` (a figure already in cents: a share whose column adds up to
    its own total), to ``total`` in cents, or to the cent on its other side when that one cannot be reached
    without moving a value past its own neighbouring cents: each value is then its floor or ceiling in cents, and the
    row's total too (with ``fixed`` one of its own two neighbours, one of the two totals always can)."""
    floors = sum(int((v * 100) // 1) for v in values)
    room = sum(1 for v in values if v * 100 - (v * 100) // 1 > 0)
    shown, lower = round(round(total, 2) * 100), int((total * 100) // 1)
    given = round(fixed * 100)
    for target in (shown, *(t for t in (lower, lower + 1) if t != shown)):
        if floors <= target - given <= floors + room:
            return largest_remainder_cents(values, (target - given) / 100)
    return largest_remainder_cents(values, total - fixed)


def agent_costs(
    con: duckdb.DuckDBPyConnection, start: date, end: date, agent_roles: dict[str, str] | None = None
) -> dict[str, Any]:
    """Cost per agent over [start, end): its AgentCore charges (runtime, memory, gateway, … : rows whose resource is
    the agent's runtime ARN ``…:runtime/<agent>`` or that carry an ``agent`` tag), its model inference (Bedrock
    token rows whose caller is its execution role: ``agent_roles`` {agent: role ARN}, or a role tagged
    ``iamPrincipal/agent``), and its share of knowledge-base and vector-store cost (rows tagged with the agent
    are its own; the rest is shared in proportion to the agents' inference cost). What no agent claims is listed
    as ``unassigned``."""
    from aifinops.taxonomy import PRINCIPAL_TAG, canonical_tag_key

    roles = {role: agent for agent, role in (agent_roles or {}).items()}
    principal = '$."' + canonical_tag_key(PRINCIPAL_TAG) + '"'
    role_tag = '$."' + canonical_tag_key(PRINCIPAL_AGENT_TAG) + '"'
    agent_tag = '$."' + canonical_tag_key(AGENT_TAG) + '"'
    rows = con.execute(
        f"""SELECT CASE WHEN component LIKE 'agentcore%' THEN 'agentcore'
                        WHEN workload IN ('knowledge-base', 'vector-store') THEN 'knowledge-base'
                        WHEN workload = 'tokens' THEN 'inference' END AS part,
                   nullif(json_extract_string(tags, ?), '') AS agent_tag,
                   nullif(json_extract_string(tags, ?), '') AS role_agent,
                   nullif(json_extract_string(tags, ?), '') AS principal,
                   CASE WHEN resource_id LIKE 'arn:aws%:bedrock-agentcore:%:runtime/%'
                        THEN regexp_extract(resource_id, ':runtime/([^/]+)$', 1) END AS runtime,
                   {DUCKDB_SUM}(billed_cost) AS cost
            FROM usage_daily
            WHERE usage_date >= ? AND usage_date < ? AND ai_service IN ('bedrock', 'vector-store')
              AND coalesce(line_item_type, 'Usage') NOT IN ('Credit', 'Refund', 'Tax')
            GROUP BY ALL HAVING part IS NOT NULL ORDER BY ALL""",
        [agent_tag, role_tag, principal, start, end]).fetchall()
    agents: dict[str, dict[str, float]] = {}  # added up in the rows' order (ORDER BY ALL): one answer's bytes
    unassigned = {"agentcore_usd": 0.0, "knowledge_base_usd": 0.0}
    shared_kb = 0.0

    def entry(name: str) -> dict[str, float]:
        return agents.setdefault(name, {"agentcore_usd": 0.0, "inference_usd": 0.0, "knowledge_base_usd": 0.0})

    for part, tagged, role_agent, caller, runtime, cost in rows:
        if part == "agentcore":
            name = tagged or runtime
            if name:
                entry(name)["agentcore_usd"] += cost
            else:
                unassigned["agentcore_usd"] += cost
        elif part == "inference":
            name = tagged or role_agent or roles.get(caller or "")
            if name:
                entry(name)["inference_usd"] += cost
        elif tagged:
            entry(tagged)["knowledge_base_usd"] += cost
        else:
            shared_kb += cost
    inference_total = sum(a["inference_usd"] for a in agents.values())
    for a in agents.values():
        a["knowledge_base_share_usd"] = shared_kb * a["inference_usd"] / inference_total if inference_total else 0.0
    if not inference_total:
        unassigned["knowledge_base_usd"] += shared_kb
    out: list[dict[str, Any]] = []
    # in cents, an agent's parts add up to its total and the shares to the shared cost (rounded alone they drift)
    shares = dict(zip(agents, largest_remainder_cents([a["knowledge_base_share_usd"] for a in agents.values()],
                                                      shared_kb if inference_total else 0.0), strict=True))
    for name, a in agents.items():
        parts = _row_in_cents([a["agentcore_usd"], a["inference_usd"], a["knowledge_base_usd"]], shares[name],
                              sum(a.values()))
        out.append({"agent": name, **dict(zip(a, [*parts, shares[name]], strict=True)),
                    "total_usd": round(sum(parts) + shares[name], 2)})
    out.sort(key=lambda r: (-float(r["total_usd"]), str(r["agent"])))
    return {"start": start.isoformat(), "end": end.isoformat(), "agents": out,
            "unassigned": {k: round(v, 6) for k, v in unassigned.items()},
            "knowledge_base_shared_usd": round(shared_kb, 6)}
