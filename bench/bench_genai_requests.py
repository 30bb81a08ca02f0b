"""How long the per-request Bedrock report takes on a large invocation log (issue 17).

``.venv/bin/python bench/bench_genai_requests.py [--requests 1000000] [--days 30] [--callers 200]``

Builds a temporary store with ``--requests`` synthetic ``bedrock_invocations`` rows spread over ``--days`` days,
two models and ``--callers`` identities, and the matching billed Bedrock rows of ``usage_daily`` (tokens billed =
tokens logged x 1.02, so every scale factor is about 1.02), then times ``costs.genai.request_costs`` grouped by
identity and by a requestMetadata key. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from aifinops.costs.genai import request_costs
from aifinops.store import USAGE_DAILY_COLUMN_NAMES, Store


def build(store: Store, requests: int, days: int, callers: int) -> None:
    with store.transaction() as con:
        con.execute(
            f"""INSERT INTO bedrock_invocations (request_id, ts, account_id, region, model_id, operation, input_tokens,
                                                output_tokens, cache_read_tokens, cache_write_tokens, identity_arn,
                                                request_metadata, source)
                SELECT 'r' || i, TIMESTAMP '2026-04-01' + to_seconds(CAST(i * (86400 * {days}) / {requests} AS BIGINT)),
                       '111122223333', 'us-east-1',
                       CASE WHEN i % 3 = 0 THEN 'anthropic.claude-sonnet-4-5-20250929-v1:0'
                            ELSE 'amazon.nova-lite-v1:0' END,
                       'Converse', 500 + i % 1500, 50 + i % 400, CASE WHEN i % 3 = 0 THEN i % 2000 ELSE 0 END, 0,
                       'arn:aws:iam::111122223333:role/caller-' || (i % {callers}),
                       json_object('application', 'app-' || (i % 17)), 'bench'
                FROM range({requests}) t(i)""")
        cols = ", ".join(USAGE_DAILY_COLUMN_NAMES)
        con.execute(
            f"""INSERT INTO usage_daily ({cols})
                SELECT {', '.join(_billed(c) for c in USAGE_DAILY_COLUMN_NAMES)} FROM (
                  SELECT CAST(ts AS DATE) AS day, model_id, k.kind,
                         sum(CASE k.kind WHEN 'input' THEN input_tokens WHEN 'output' THEN output_tokens
                             ELSE cache_read_tokens END) * 1.02 AS tokens
                  FROM bedrock_invocations, (VALUES ('input'), ('output'), ('cache-read')) k(kind) GROUP BY ALL)""")


def _billed(column: str) -> str:
    nova = "model_id LIKE 'amazon.nova%'"
    rate = (f"CASE WHEN {nova} THEN (CASE kind WHEN 'input' THEN 0.06 WHEN 'output' THEN 0.24 ELSE 0.015 END) "
            "ELSE (CASE kind WHEN 'input' THEN 3.0 WHEN 'output' THEN 15.0 ELSE 0.3 END) END")
    return {
        "billing_period": "CAST(date_trunc('month', day) AS DATE)", "usage_date": "day",
        "account_id": "'111122223333'", "region": "'us-east-1'", "ai_service": "'bedrock'", "workload": "'tokens'",
        "model": f"CASE WHEN {nova} THEN 'NovaLite' ELSE 'Claude Sonnet 4.5' END", "token_kind": "kind",
        "inference_tier": "'standard'", "line_item_type": "'Usage'", "pricing_unit": "'1M tokens'",
        "usage_quantity": "tokens / 1e6", "billed_cost": f"tokens / 1e6 * {rate}", "tags": "'{}'",
        "is_ai": "true", "line_items": "1",
    }.get(column, "NULL")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--callers", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        build(store, args.requests, args.days, args.callers)
        print(f"built {args.requests:,} requests over {args.days} days in {time.perf_counter() - t0:.1f} s")
        with store.connect(read_only=True) as con:
            for group in (["identity"], ["metadata:application"], ["model", "day"]):
                t0 = time.perf_counter()
                doc = request_costs(con, group)
                took = time.perf_counter() - t0
                factors = [s["scale_factor"] for s in doc["scaling"] if s["scale_factor"]]
                print(f"request_costs by {'+'.join(group)}: {took:.2f} s, {doc['rows_total']} rows, billed "
                      f"${doc['billed_bedrock_usd']:,.2f} = allocated ${doc['allocated_usd']:,.2f} + unallocated "
                      f"${doc['unallocated_usd']:,.2f}, scale factors {min(factors):.3f}-{max(factors):.3f}")


if __name__ == "__main__":
    main()
