"""A gateway's cost estimate against the bill, per model and day (docs/genai.md).

Gateways such as LiteLLM price each request from their own price table, and drift from the invoice: cache
tokens priced at $0, 1-hour cache writes at the 5-minute rate, batch or flex traffic at the standard rate.
``reconcile_gateway(con, requests)`` compares, per (day, model), what the gateway logged (``requests``: the
rows of ``ingest.litellm.read_spend_logs``) with the billed Bedrock cost in ``usage_daily``, and names the token
class behind each gap:

1. The gateway's own per-token rate of each class (input, output, cache read, cache write) is recovered from
   its requests by least squares (spend = sum over classes of tokens x rate, one fit per model): a class the
   gateway prices at $0 shows a rate of 0.
2. Per class, the gap is ``billed cost - gateway tokens x gateway rate``; it splits into a *volume* part (tokens
   the bill counts and the gateway does not: traffic that bypasses it, batch jobs) valued at the billed rate,
   and a *rate* part (gateway tokens x (billed rate - gateway rate)).
3. ``explained_by`` names the class with the largest gap, with what the bill shows for it: the tiers billed
   (batch, flex, priority) and 1-hour cache writes (``cache-write-1h``, billed at 2x input, not 1.25x);
   ``gap_class`` is that class alone.

The billed side is one caller's rows when the gateway's IAM role is known (``principal``): a gateway shares its
models with other callers, whose cost is no gap of the gateway's. Without a principal, the billed side is every
caller's cost of the models the gateway logged. ``principal='auto'`` (the default of the CLI and the dashboard)
finds the role: the caller whose billed input and output tokens per (day, model) match the gateway's
logged ones, within ``MATCH_TOLERANCE``; no caller that close (or a bill without caller identity) compares with
every caller. Billed cost is summed over accounts (a gateway does not know them); credits, refunds and tax are
left out.

Spend logs ingested into the store (``aifinops ingest spend_logs.json``: table ``gateway_requests``) are read by
``reconcile_stored``, which the CLI (``aifinops genai reconcile`` without a file) and the dashboard share.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from aifinops.costs.dimensions import DIMENSIONS, UNATTRIBUTED
from aifinops.costs.genai import register_models
from aifinops.errors import ArgumentError, StoreError
from aifinops.money import cents, largest_remainder_cents
from aifinops.store import day_span, one_row
from aifinops.sums import DUCKDB_SUM, exact_sum
from aifinops.taxonomy import tokens_sql

CLASSES = ("input", "output", "cache-read", "cache-write")
_COLUMNS = {"input": "input_tokens", "output": "output_tokens", "cache-read": "cache_read_tokens",
            "cache-write": "cache_write_tokens"}
AUTO = "auto"  # principal: find the gateway's role in the bill
MATCH_TOLERANCE = 0.2  # |billed - logged| input+output tokens over the logged ones, at most, for a caller to match
_INPUT = "gateway_input"  # the requests being reconciled, registered on the connection under this name


def fit_rates(rows: list[tuple[float, dict[str, float]]]) -> dict[str, float | None]:
    """Least-squares per-token rates (no intercept) from (spend, tokens by class) rows; a class with no tokens
    gets None. Solved through the normal equations (at most four unknowns)."""
    used = [k for k in CLASSES if any(t.get(k, 0) for _, t in rows)]
    a = {(i, j): sum(t.get(i, 0) * t.get(j, 0) for _, t in rows) for i in used for j in used}
    b = {i: sum(spend * t.get(i, 0) for spend, t in rows) for i in used}
    return solve_rates(used, a, b)


def solve_rates(used: list[str], a_sums: dict[tuple[str, str], float], b_sums: dict[str, float]
                ) -> dict[str, float | None]:
    """The rates of the classes ``used`` from the normal equations' sums: ``a_sums[(i, j)]`` = sum of tokens_i x
    tokens_j, ``b_sums[i]`` = sum of spend x tokens_i over the requests; the other classes get None."""
    n = len(used)
    if not n:
        return dict.fromkeys(CLASSES)
    a = [[float(a_sums[(i, j)]) for j in used] for i in used]
    b = [float(b_sums[i]) for i in used]
    for col in range(n):  # Gauss-Jordan with partial pivoting
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-30:
            return dict.fromkeys(CLASSES)  # collinear classes: no unique rates
        a[col], a[pivot], b[col], b[pivot] = a[pivot], a[col], b[pivot], b[col]
        for r in range(n):
            if r != col and a[r][col]:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
                b[r] -= f * b[col]
    solved = {k: b[i] / a[i][i] for i, k in enumerate(used)}
    return {k: (max(0.0, solved[k]) if abs(solved[k]) > 1e-15 else 0.0) if k in solved else None for k in CLASSES}


def _fit_by_model(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, dict[str, float | None]]:
    """fit_rates per model, its sums taken in SQL (exact DECIMAL sums: the same bytes whatever the row order), so
    a month of a busy gateway's requests never travels into Python."""
    cols = list(_COLUMNS.items())
    pairs = [(i, j) for i in range(len(cols)) for j in range(i, len(cols))]
    select = [exact_sum(f"g.{cols[i][1]} * g.{cols[j][1]}") for i, j in pairs]
    select += [exact_sum(f"g.spend_usd * g.{c}") for _, c in cols]
    select += [f"bool_or(g.{c} <> 0)" for _, c in cols]
    out: dict[str, dict[str, float | None]] = {}
    for model, *values in con.execute(
            f"SELECT m.canonical, {', '.join(select)} FROM {_INPUT} g JOIN genai_models m ON m.name = g.model "
            "WHERE g.day >= ? AND g.day < ? GROUP BY 1 ORDER BY 1", [start, end]).fetchall():
        products, spends, present = values[:len(pairs)], values[len(pairs):-len(cols)], values[-len(cols):]
        a: dict[tuple[str, str], float] = {}
        for (i, j), v in zip(pairs, products, strict=True):
            a[(cols[i][0], cols[j][0])] = a[(cols[j][0], cols[i][0])] = float(v or 0)
        used = [k for (k, _), seen in zip(cols, present, strict=True) if seen]
        out[model] = solve_rates(used, a, {k: float(v or 0) for (k, _), v in zip(cols, spends, strict=True)})
    return out


def reconcile_gateway(
    con: duckdb.DuckDBPyConnection, requests: pa.Table, start: date | None = None, end: date | None = None,
    principal: str | None = None,
) -> dict[str, Any]:
    """Gateway cost vs billed cost per (day, model), each gap named by its token class (module docstring).

    ``principal``: the gateway's IAM role as the bill names its caller (CUR 2.0 caller identity); the billed side
    is then that caller's rows only, so other callers of the same models are not counted against the gateway.
    None compares with every caller; ``'auto'`` finds the role (``match_principal``)."""
    if requests.num_rows == 0:
        raise ArgumentError("The gateway export holds no request.", "pass a spend-log export with Bedrock calls.")
    # duckdb 2 refuses register() while a result of this connection is partly fetched (a caller's fetchone()):
    # one statement read to its end first.
    con.execute("SELECT 1").fetchall()
    con.register(_INPUT, requests)
    try:
        days = con.execute(f"SELECT min(day), max(day) FROM {_INPUT}").fetchone() or (None, None)
        start = start or days[0]
        end = end or (days[1] + timedelta(days=1) if days[1] else None)
        if start is None or end is None:
            raise ArgumentError("The gateway export has no request dates.", "pass rows with a startTime.")
        return _reconcile_input(con, start, end, principal)
    finally:
        con.unregister(_INPUT)


def _reconcile_input(con: duckdb.DuckDBPyConnection, start: date, end: date, principal: str | None) -> dict[str, Any]:
    """The reconciliation of the requests named ``gateway_input`` on ``con``."""
    register_models(con, f"SELECT DISTINCT model FROM {_INPUT} WHERE day >= ? AND day < ?", start, end)
    match = None
    if principal == AUTO:
        match = match_principal(con, start, end)
        principal = match["principal"]
    doc = _reconcile(con, start, end, principal)
    doc["principal_match"] = match
    return doc


def match_principal(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    """The caller in the bill whose input and output tokens per (day, model) over [start, end) are closest to the
    gateway's (registered as ``gateway_input``, models in ``genai_models``): ``mismatch`` = sum of |billed -
    logged| tokens over the logged tokens. ``principal`` is None when no caller is within MATCH_TOLERANCE."""
    caller = DIMENSIONS["PRINCIPAL"]  # the caller as `costs -g principal` names it, 'unattributed' when none
    tokens = tokens_sql("usage_quantity", "pricing_unit")
    rows = con.execute(
        f"""WITH g AS (
              SELECT g.day, m.canonical AS model, sum(g.input_tokens) AS i, sum(g.output_tokens) AS o
              FROM {_INPUT} g JOIN genai_models m ON m.name = g.model WHERE g.day >= ? AND g.day < ?
              GROUP BY ALL),
            b AS (
              SELECT {caller.text} AS principal, usage_date AS day, m.canonical AS model,
                     {DUCKDB_SUM}({tokens}) FILTER (WHERE token_kind = 'input') AS i,
                     {DUCKDB_SUM}({tokens}) FILTER (WHERE token_kind = 'output') AS o
              FROM usage_daily u JOIN genai_models m ON m.name = u.model
              WHERE ai_service = 'bedrock' AND usage_date >= ? AND usage_date < ?
                AND token_kind IN ('input', 'output') AND coalesce(inference_tier, 'standard') <> 'batch'
                AND coalesce(line_item_type, 'Usage') NOT IN ('Credit', 'Refund', 'Tax')
              GROUP BY ALL HAVING principal <> ?),
            p AS (SELECT DISTINCT principal FROM b)
        SELECT p.principal, {DUCKDB_SUM}(abs(coalesce(b.i, 0) - g.i) + abs(coalesce(b.o, 0) - g.o)) / sum(g.i + g.o)
        FROM p CROSS JOIN g LEFT JOIN b ON b.principal = p.principal AND b.day = g.day AND b.model = g.model
        GROUP BY 1 HAVING sum(g.i + g.o) > 0 ORDER BY 2, 1""",
        [start, end, *caller.params, start, end, UNATTRIBUTED]).fetchall()
    best = rows[0] if rows else None
    close = best is not None and best[1] <= MATCH_TOLERANCE
    return {"principal": best[0] if close and best else None, "inferred": True,
            "mismatch": None if best is None else round(float(best[1]), 6),
            "closest": None if best is None else best[0],
            "note": (f"the bill's caller whose tokens match the gateway's (mismatch {best[1]:.1%})" if close and best
                     else "no caller in the bill matches the gateway's tokens: compared with every caller")}


def gateway_span(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """[first day, day after the last) of the gateway requests in the store."""
    return day_span(con, "gateway_requests", "day", StoreError(
        "The store holds no gateway spend logs.",
        "run `aifinops ingest spend_logs.json` with a LiteLLM spend-log export (the "
        "LiteLLM_SpendLogs table as CSV, or the /spend/logs JSON)."))


def reconcile_stored(
    con: duckdb.DuckDBPyConnection, start: date | None = None, end: date | None = None, principal: str | None = AUTO,
) -> dict[str, Any]:
    """``reconcile_gateway`` over the spend logs ingested into the store, over [start, end) (default: the days they
    cover)."""
    first, after = gateway_span(con)
    start, end = start or first, end or after
    if start >= end:
        raise ArgumentError(f"The period {start} to {end} is empty.", "pass --start before --end.")
    (count,) = one_row(con, "SELECT count(*) FROM gateway_requests WHERE day >= ? AND day < ?", [start, end])
    if not count:
        raise ArgumentError(f"No gateway request in the store from {start} to {end} (end exclusive).",
                            f"pick dates within the spend logs: {first} to {after}.")
    # A temp view (allowed on a read-only connection) under the name the reconciliation reads; the dates are
    # date objects, spelled by isoformat, never text from a user.
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_INPUT} AS SELECT * FROM gateway_requests "
                f"WHERE day >= DATE '{start.isoformat()}' AND day < DATE '{end.isoformat()}'")
    try:
        return _reconcile_input(con, start, end, principal)
    finally:
        con.execute(f"DROP VIEW IF EXISTS {_INPUT}")


def _reconcile(con: duckdb.DuckDBPyConnection, start: date, end: date, principal: str | None) -> dict[str, Any]:
    # Every caller's rows of the models the gateway logged, or the gateway role's rows of any model (a model it
    # called around its own logging is a gap of its own).
    caller = (f"m.canonical IN (SELECT m2.canonical FROM {_INPUT} g2 JOIN genai_models m2 ON m2.name = g2.model "
              "WHERE g2.day >= ? AND g2.day < ?)")
    caller_params: list[Any] = [start, end]
    if principal:
        caller = DIMENSIONS["PRINCIPAL"].text + " = ?"
        caller_params = [*DIMENSIONS["PRINCIPAL"].params, principal]
    rates = _fit_by_model(con, start, end)
    gateway = con.execute(
        f"SELECT g.day, m.canonical, {DUCKDB_SUM}(g.spend_usd), count(*), "
        + ", ".join(f"sum(g.{c})" for c in _COLUMNS.values())
        + f" FROM {_INPUT} g JOIN genai_models m ON m.name = g.model WHERE g.day >= ? AND g.day < ? "
        "GROUP BY ALL ORDER BY ALL", [start, end]).fetchall()
    billed = con.execute(
        f"""SELECT usage_date, m.canonical, token_kind, coalesce(inference_tier, 'standard'),
                   {DUCKDB_SUM}(billed_cost), {DUCKDB_SUM}({tokens_sql('usage_quantity', 'pricing_unit')})
            FROM usage_daily u JOIN genai_models m ON m.name = u.model
            WHERE ai_service = 'bedrock' AND usage_date >= ? AND usage_date < ? AND {caller}
              AND coalesce(line_item_type, 'Usage') NOT IN ('Credit', 'Refund', 'Tax')
              AND token_kind IN ('input', 'output', 'cache-read', 'cache-write', 'cache-write-1h')
            GROUP BY ALL ORDER BY ALL""", [start, end, *caller_params]).fetchall()
    cells: dict[tuple[date, str], dict[str, Any]] = {}  # added up in the rows' order (ORDER BY ALL): one answer

    def cell(day: date, model: str) -> dict[str, Any]:
        return cells.setdefault((day, model), {
            "gateway_usd": 0.0, "requests": 0, "billed_usd": 0.0,
            "classes": {k: {"billed_usd": 0.0, "billed_tokens": 0.0, "gateway_tokens": 0.0, "billed_detail": {}}
                        for k in CLASSES}})

    for day, model, spend, count, *tokens in gateway:
        c = cell(day, model)
        c["gateway_usd"] += spend or 0.0
        c["requests"] += count
        for k, t in zip(CLASSES, tokens, strict=True):
            c["classes"][k]["gateway_tokens"] += float(t or 0)
    for day, model, kind, tier, cost, tokens in billed:
        c = cell(day, model)
        c["billed_usd"] += cost or 0.0
        k = "cache-write" if kind.startswith("cache-write") else kind
        detail = "1h" if kind == "cache-write-1h" else tier
        entry = c["classes"][k]
        entry["billed_usd"] += cost or 0.0
        entry["billed_tokens"] += tokens or 0.0
        entry["billed_detail"][detail] = entry["billed_detail"].get(detail, 0.0) + (cost or 0.0)
    rows = [_row(day, model, c, rates.get(model) or dict.fromkeys(CLASSES)) for (day, model), c in cells.items()]
    rows.sort(key=lambda r: (r["day"], -abs(r["gap_usd"]), r["model"]))
    return {
        "start": start.isoformat(), "end": end.isoformat(), "principal": principal,
        "billed_usd": round(sum(c["billed_usd"] for c in cells.values()), 2),
        "gateway_usd": round(sum(c["gateway_usd"] for c in cells.values()), 2),
        "gateway_rates_usd_per_1m": {m: {k: None if v is None else round(v * 1e6, 6) for k, v in r.items()}
                                     for m, r in sorted(rates.items())},
        "rows": rows,
    }


def _row(day: date, model: str, c: dict[str, Any], rate: dict[str, float | None]) -> dict[str, Any]:
    classes = []
    for k in CLASSES:
        e = c["classes"][k]
        g_rate = rate[k] or 0.0
        b_rate = e["billed_usd"] / e["billed_tokens"] if e["billed_tokens"] else None
        estimate = e["gateway_tokens"] * g_rate
        gap = e["billed_usd"] - estimate
        volume = (e["billed_tokens"] - e["gateway_tokens"]) * (b_rate if b_rate is not None else g_rate)
        classes.append({
            "token_class": k,
            "billed_tokens": e["billed_tokens"], "gateway_tokens": e["gateway_tokens"],
            "billed_usd": round(e["billed_usd"], 6), "gateway_usd": round(estimate, 6), "gap_usd": round(gap, 6),
            "volume_gap_usd": round(volume, 6), "rate_gap_usd": round(gap - volume, 6),
            "billed_usd_per_1m": None if b_rate is None else round(b_rate * 1e6, 6),
            "gateway_usd_per_1m": None if rate[k] is None else round(g_rate * 1e6, 6),
            "billed_by_tier": {t: round(v, 6) for t, v in sorted(e["billed_detail"].items())},
        })
    gap = c["billed_usd"] - c["gateway_usd"]
    worst = max(classes, key=lambda x: abs(x["gap_usd"]))
    counted = any(e["gateway_tokens"] for e in c["classes"].values())
    if abs(gap) < 0.005:
        explained = None
    elif counted or not c["requests"]:
        explained = _explain(worst)
    else:  # a FOCUS export: cost per model and day, no token counts to compare
        explained = "no token counts in the gateway export (FOCUS rows): the gap is per model and day only"
    return {
        "day": day.isoformat(), "model": model, "requests": c["requests"],
        "billed_usd": round(c["billed_usd"], 6), "gateway_usd": round(c["gateway_usd"], 6), "gap_usd": round(gap, 6),
        "explained_by": explained,
        "gap_class": explained.split(":", 1)[0] if explained and explained.split(":", 1)[0] in CLASSES else None,
        "classes": classes,
    }


def in_cents(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` (a reconciliation) with its money in cents that add up, for an answer that shows cents (MCP, the
    CLI's table): the rows' billed and gateway cost add up to the totals, each class's billed cost to its row's,
    each tier's to its class's (largest remainder: each within a cent of its six decimals), a gap is the billed
    minus the gateway figure beside it (``_split_cents``), and a class's volume and rate gaps add up to its gap.
    ``explained_by``
    is written again from the class in cents it names. The six-decimal document stays the CLI's JSON."""
    rows = doc["rows"]
    billed = largest_remainder_cents([r["billed_usd"] for r in rows], doc["billed_usd"])
    gateway = _split_cents(billed, [r["gateway_usd"] for r in rows], [r["gap_usd"] for r in rows], doc["gateway_usd"])
    out = []
    for r, b, g in zip(rows, billed, gateway, strict=True):
        classes = [_class_in_cents(c, cb) for c, cb in zip(
            r["classes"], largest_remainder_cents([c["billed_usd"] for c in r["classes"]], b), strict=True)]
        explained = r["explained_by"]
        if r["gap_class"] is not None:
            explained = _explain(next(c for c in classes if c["token_class"] == r["gap_class"]))
        out.append({**r, "billed_usd": b, "gateway_usd": g, "gap_usd": cents(b - g), "explained_by": explained,
                    "classes": classes})
    return {**doc, "rows": out}


def _split_cents(totals: list[float], parts: list[float], others: list[float], parts_total: float) -> list[float]:
    """``parts`` in cents adding up to ``parts_total`` in cents, such that ``totals[i] - parts[i]`` (``totals`` in
    cents; ``parts[i] + others[i]`` before rounding) is a neighbouring cent of ``others[i]`` as ``parts[i]``'s is of
    its own: a row's billed cost, gateway cost and gap each within a cent, the gateway column adding up. Each row
    whose two floors leave one cent of its total gives it to the part or the other; the parts take the cents their
    column needs from the rows where the other is the nearer to whole cents. When that cannot reach the column's
    total, the parts are rounded by largest remainder alone (a gap may then be a cent further)."""
    floors = [int((v * 100) // 1) for v in parts]
    rest = [round(t * 100) - f - int((o * 100) // 1) for t, f, o in zip(totals, floors, others, strict=True)]
    need = round(round(parts_total, 2) * 100) - sum(floors) - rest.count(2)
    ones = sorted((i for i, r in enumerate(rest) if r == 1),
                  key=lambda i: (-((parts[i] * 100) % 1 - (others[i] * 100) % 1), i))
    if any(r not in (0, 1, 2) for r in rest) or not 0 <= need <= len(ones):
        return largest_remainder_cents(parts, parts_total)
    up = set(ones[:need])
    return [(f + (r == 2 or i in up)) / 100 for i, (f, r) in enumerate(zip(floors, rest, strict=True))]


def _class_in_cents(c: dict[str, Any], billed: float) -> dict[str, Any]:
    tiers = dict(zip(c["billed_by_tier"], largest_remainder_cents(list(c["billed_by_tier"].values()), billed),
                     strict=True))
    # the gateway estimate and the gap add up to the billed cost: a class priced as billed shows no gap
    gateway, gap = largest_remainder_cents([c["gateway_usd"], c["gap_usd"]], billed)
    volume, rate = largest_remainder_cents([c["volume_gap_usd"], c["rate_gap_usd"]], gap)
    return {**c, "billed_usd": billed, "gateway_usd": gateway, "gap_usd": gap, "volume_gap_usd": volume,
            "rate_gap_usd": rate, "billed_by_tier": tiers}


def _explain(e: dict[str, Any]) -> str:
    """One line naming the token class behind a gap and what the bill shows for it."""
    k = e["token_class"]
    tiers = {t: v for t, v in e["billed_by_tier"].items() if t not in ("standard",) and v}
    why = []
    if "1h" in tiers:
        why.append(f"1-hour cache writes billed ${tiers.pop('1h'):.2f}")
    if tiers:
        why.append("billed tiers " + ", ".join(f"{t} ${v:.2f}" for t, v in tiers.items()))
    if e["gateway_usd_per_1m"] is not None and e["billed_usd_per_1m"] is not None:
        why.append(f"billed ${e['billed_usd_per_1m']:.4f}/1M vs gateway ${e['gateway_usd_per_1m']:.4f}/1M")
    if abs(e["volume_gap_usd"]) >= 0.005:
        why.append(f"{e['billed_tokens'] - e['gateway_tokens']:,.0f} tokens billed the gateway did not log")
    return f"{k}: ${e['gap_usd']:+.2f}" + (f" ({'; '.join(why)})" if why else "")
