"""What the Bedrock model invocation logs (``bedrock_invocations``) tell the Bedrock checks.

- ``canonical_model``: one name for a model, whether the bill names it ('NovaPro', 'Claude Sonnet 4.5 (Amazon
  Bedrock Edition)') or a log does ('amazon.nova-pro-v1:0', 'us.anthropic.claude-…'); ``pricing.lookups`` holds
  the aliases.
- ``caller_shapes``: per account, model and caller identity, the traffic shape over a window: requests, tokens,
  hours and days with traffic, weekend vs weekday volume, the share of streamed calls (a person waiting).
- ``prefix_reuse``: per account and model, how many input tokens a prompt cache would read instead of re-send:
  requests grouped by the hash of their prompt's leading characters, in time order; a request within the cache
  TTL of the previous one of its group reads the cached prefix, any other writes it.

Both return {} when the store has no invocation logs (the table is absent, empty, or holds nothing in the
window): the checks then fall back to billing and say that their shares are assumed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from aifinops.checks.base import CheckContext, Window, table_has_rows
from aifinops.pricing.lookups import canonical_model
from aifinops.sums import DUCKDB_SUM

# Calls a person waits on: the response streams back as it is generated.
STREAMING_OPERATIONS = ("InvokeModelWithResponseStream", "ConverseStream")


def _bounds(window: Window) -> tuple[datetime, datetime]:
    start = datetime(window.start.year, window.start.month, window.start.day)
    return start, datetime(window.end.year, window.end.month, window.end.day) + timedelta(days=1)


@dataclass
class CallerShape:
    """One caller identity's traffic to one model over the logged span."""

    identity: str
    requests: int
    input_tokens: float
    output_tokens: float
    active_hours: int
    span_hours: int  # hours from the model's first to its last logged call (the span every caller is judged on)
    weekend_tokens_per_day: float
    weekday_tokens_per_day: float
    streamed_share: float

    @property
    def active_hour_share(self) -> float:
        return self.active_hours / self.span_hours if self.span_hours else 0.0

    @property
    def weekend_ratio(self) -> float | None:
        return self.weekend_tokens_per_day / self.weekday_tokens_per_day if self.weekday_tokens_per_day else None


@dataclass
class ModelLogs:
    """The logged calls of one model in one account: its callers and the logged span."""

    first: datetime
    last: datetime
    callers: list[CallerShape] = field(default_factory=list)


def caller_shapes(ctx: CheckContext, window: Window) -> dict[tuple[str, str], ModelLogs]:
    """(account, canonical model) -> the logged calls' callers and span in ``window``; {} without logs."""
    return ctx.cached(("bedrock-caller-shapes", window), lambda: _read_caller_shapes(ctx, window))


def _read_caller_shapes(ctx: CheckContext, window: Window) -> dict[tuple[str, str], ModelLogs]:
    if not table_has_rows(ctx, "bedrock_invocations"):
        return {}
    start, end = _bounds(window)
    marks = ", ".join(f"'{op}'" for op in STREAMING_OPERATIONS)
    rows = ctx.query(
        f"""SELECT COALESCE(account_id, '') AS account_id, model_id,
                   COALESCE(NULLIF(identity_arn, ''), 'unknown') AS identity,
                   CAST(ts AS DATE) AS day, count(*) AS requests,
                   sum(COALESCE(input_tokens, 0)) AS input_tokens, sum(COALESCE(output_tokens, 0)) AS output_tokens,
                   count(DISTINCT date_trunc('hour', ts)) AS active_hours,
                   count(*) FILTER (WHERE operation IN ({marks})) AS streamed,
                   min(ts) AS first, max(ts) AS last
            FROM bedrock_invocations
            WHERE ts >= ? AND ts < ? AND status IS NULL AND model_id IS NOT NULL
            GROUP BY ALL ORDER BY ALL""",
        [start, end],
    )
    names = {r["model_id"]: canonical_model(r["model_id"]) for r in rows}
    # (account, model) -> identity -> day -> (requests, in, out, hours, streamed)
    per: dict[tuple[str, str], dict[str, dict[date, list[float]]]] = defaultdict(lambda: defaultdict(dict))
    spans: dict[tuple[str, str], list[datetime]] = {}
    for r in rows:
        key = (r["account_id"], names[r["model_id"]])
        day = per[key][r["identity"]].setdefault(r["day"], [0.0, 0.0, 0.0, 0.0, 0.0])
        for i, col in enumerate(("requests", "input_tokens", "output_tokens", "active_hours", "streamed")):
            day[i] += float(r[col] or 0)
        span = spans.setdefault(key, [r["first"], r["last"]])
        span[0], span[1] = min(span[0], r["first"]), max(span[1], r["last"])
    out: dict[tuple[str, str], ModelLogs] = {}
    for key in sorted(per):
        first, last = spans[key]
        span_hours = int((last - first).total_seconds() // 3600) + 1
        days = [first.date() + timedelta(days=i) for i in range((last.date() - first.date()).days + 1)]
        weekend_days = sum(1 for d in days if d.weekday() >= 5)
        weekday_days = len(days) - weekend_days
        logs = ModelLogs(first, last)
        for identity in sorted(per[key]):
            by_day = per[key][identity]
            tokens = {d: v[1] + v[2] for d, v in by_day.items()}
            requests = sum(v[0] for v in by_day.values())
            logs.callers.append(
                CallerShape(
                    identity=identity,
                    requests=int(requests),
                    input_tokens=sum(v[1] for v in by_day.values()),
                    output_tokens=sum(v[2] for v in by_day.values()),
                    active_hours=int(sum(v[3] for v in by_day.values())),
                    span_hours=span_hours,
                    weekend_tokens_per_day=(
                        sum(n for d, n in tokens.items() if d.weekday() >= 5) / weekend_days if weekend_days else 0.0
                    ),
                    weekday_tokens_per_day=(
                        sum(n for d, n in tokens.items() if d.weekday() < 5) / weekday_days if weekday_days else 0.0
                    ),
                    streamed_share=sum(v[4] for v in by_day.values()) / requests if requests else 0.0,
                )
            )
        out[key] = logs
    return out


@dataclass
class PrefixReuse:
    """Prompt-prefix reuse of one model's logged calls (tokens are input tokens)."""

    requests: int  # logged calls with a prompt
    input_tokens: float  # their input tokens
    repeated_requests: int  # calls whose prefix hash another call shares
    prefixes: int  # distinct shared prefixes
    read_tokens: float  # prefix tokens a cache would read (a call within the TTL of its group's previous one)
    write_tokens: float  # prefix tokens a cache would write (a group's first call, or after a gap over the TTL)
    bounded_groups: int  # groups whose shared length is the lower bound (the hashed characters), not the shortest


def prefix_reuse(
    ctx: CheckContext, window: Window, ttl_s: float, min_prefix_tokens: float, tight_spread: float
) -> dict[tuple[str, str], PrefixReuse]:
    """(account, canonical model) -> the input tokens a prompt cache would read and write; {} without logs.

    The logs keep a hash of each prompt's leading characters (``prompt_prefix_chars`` of them), never the text:
    calls with equal hashes share at least those characters and at most their group's shortest prompt. When a
    group's prompt lengths are tight (median within ``tight_spread`` of the shortest: a long fixed prefix, a short
    varying question) the shared part is taken as the shortest prompt; otherwise only the hashed characters. A
    call's prefix tokens are its input tokens x shared / its prompt characters; prefixes under
    ``min_prefix_tokens`` cannot be cached.
    """
    key = ("bedrock-prefix-reuse", window, ttl_s, min_prefix_tokens, tight_spread)
    return ctx.cached(key, lambda: _read_prefix_reuse(ctx, window, ttl_s, min_prefix_tokens, tight_spread))


def _read_prefix_reuse(
    ctx: CheckContext, window: Window, ttl_s: float, min_prefix_tokens: float, tight_spread: float
) -> dict[tuple[str, str], PrefixReuse]:
    if not table_has_rows(ctx, "bedrock_invocations"):
        return {}
    start, end = _bounds(window)
    rows = ctx.query(
        f"""WITH req AS (
               SELECT COALESCE(account_id, '') AS account_id, model_id, prompt_prefix_sha256 AS h, ts, request_id,
                      input_tokens, prompt_chars, prompt_prefix_chars,
                      epoch(ts) - epoch(lag(ts) OVER (PARTITION BY account_id, model_id, prompt_prefix_sha256
                                                      ORDER BY ts, request_id)) AS gap_s
               FROM bedrock_invocations
               WHERE ts >= ? AND ts < ? AND status IS NULL AND model_id IS NOT NULL AND input_tokens > 0
                 AND prompt_chars > 0 AND prompt_prefix_sha256 IS NOT NULL
           ), grp AS (
               SELECT account_id, model_id, h, count(*) AS n,
                      CASE WHEN median(prompt_chars) - min(prompt_chars) <= ? * min(prompt_chars)
                           THEN min(prompt_chars) ELSE max(prompt_prefix_chars) END AS shared_chars,
                      median(prompt_chars) - min(prompt_chars) > ? * min(prompt_chars) AS bounded
               FROM req GROUP BY ALL HAVING count(*) >= 2
           ), priced AS (
               SELECT r.account_id, r.model_id, r.h, r.gap_s, g.bounded,
                      r.input_tokens * least(1.0, g.shared_chars / r.prompt_chars) AS prefix_tokens
               FROM req r JOIN grp g ON r.account_id = g.account_id AND r.model_id = g.model_id AND r.h = g.h
           ), reuse AS (
               SELECT account_id, model_id, count(*) AS repeated_requests, count(DISTINCT h) AS prefixes,
                      count(DISTINCT h) FILTER (WHERE bounded) AS bounded_groups,
                      {DUCKDB_SUM}(prefix_tokens) FILTER (WHERE prefix_tokens >= ? AND gap_s <= ?) AS read_tokens,
                      {DUCKDB_SUM}(prefix_tokens) FILTER (WHERE prefix_tokens >= ? AND (gap_s IS NULL OR gap_s > ?))
                          AS write_tokens
               FROM priced GROUP BY ALL
           ), total AS (
               SELECT account_id, model_id, count(*) AS requests, sum(input_tokens) AS input_tokens
               FROM req GROUP BY ALL
           )
           SELECT t.account_id, t.model_id, t.requests, t.input_tokens,
                  COALESCE(u.repeated_requests, 0) AS repeated_requests, COALESCE(u.prefixes, 0) AS prefixes,
                  COALESCE(u.bounded_groups, 0) AS bounded_groups,
                  COALESCE(u.read_tokens, 0) AS read_tokens, COALESCE(u.write_tokens, 0) AS write_tokens
           FROM total t LEFT JOIN reuse u ON t.account_id = u.account_id AND t.model_id = u.model_id
           ORDER BY ALL""",
        [start, end, tight_spread, tight_spread, min_prefix_tokens, ttl_s, min_prefix_tokens, ttl_s],
    )
    out: dict[tuple[str, str], PrefixReuse] = {}
    for r in rows:
        key = (r["account_id"], canonical_model(r["model_id"]))
        got = out.setdefault(key, PrefixReuse(0, 0.0, 0, 0, 0.0, 0.0, 0))
        got.requests += int(r["requests"])
        got.input_tokens += float(r["input_tokens"] or 0)
        got.repeated_requests += int(r["repeated_requests"])
        got.prefixes += int(r["prefixes"])
        got.read_tokens += float(r["read_tokens"] or 0)
        got.write_tokens += float(r["write_tokens"] or 0)
        got.bounded_groups += int(r["bounded_groups"])
    return out


def logs_for(found: dict[tuple[str, str], Any], account_id: str | None, model: str | None) -> Any:
    """The logs' entry for a billed (account, model), or None."""
    return found.get((account_id or "", canonical_model(model)))
