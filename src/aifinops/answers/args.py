"""Argument normalization for the MCP tools, and paging that keeps every answer small.

Assistants pass the same argument in several shapes: a JSON string or an object, ``metric_stat``
or ``MetricStat``, ``"2024-11-01"`` or ``"2024-11-01T00:00:00Z"``. Everything here turns those into
one Python shape or raises ``ArgumentError`` naming the argument and the fix.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from aifinops.dates import parse_date as parse_date  # re-exported: the MCP adapters import it from here
from aifinops.dates import parse_time as parse_time
from aifinops.errors import ArgumentError, did_you_mean
from aifinops.paging import decode_token, encode_token, fingerprint

# No answer should cost the assistant more context than this (the AWS Labs billing server offloads
# answers over 25 KB); tools page past it.
MAX_ANSWER_BYTES = 25_000

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def to_json(obj: Any) -> str:
    """Compact JSON: dates as ISO strings, no spaces."""
    return json.dumps(obj, separators=(",", ":"), default=_default, ensure_ascii=False)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


json_default = _default  # for serializers that stop early (aifinops.answers.limits.encoded_within)


def iso_time(ts: datetime) -> str:
    """A UTC timestamp as CloudWatch prints it ('2024-11-01T00:00:00Z')."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def snake(key: str) -> str:
    """'MetricStat' → 'metric_stat', 'metric_name' stays."""
    return _CAMEL_RE.sub("_", key).lower()


def snake_keys(value: Any) -> Any:
    """The same structure with every dict key in snake_case (values untouched)."""
    if isinstance(value, dict):
        return {snake(str(k)): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def json_arg(value: Any, name: str, kind: type | tuple[type, ...], example: str) -> Any:
    """An argument given as a JSON string or as the object itself; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            # JSONDecodeError carries the parser's reason in .msg; a plain ValueError is the int digit
            # limit (a number of more than 4300 digits), whose message ends with how to lift it: keep the reason.
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc).split(":")[0]
            raise ArgumentError(f"{name} is not valid JSON ({reason}).", f"pass e.g. {name}={example}.") from None
    if not isinstance(value, kind):
        raise ArgumentError(f"{name} has the wrong shape ({type(value).__name__}).", f"pass e.g. {name}={example}.")
    return value


def string_list(value: Any, name: str, example: str) -> list[str]:
    """A list of strings given as a list, a JSON list string, or one plain string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        value = json_arg(text, name, list, example) if text.startswith("[") else [text]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ArgumentError(f"{name} must be a list of strings.", f"pass e.g. {name}={example}.")
    return list(value)


def check_keys(given: dict[str, Any], allowed: list[str], where: str) -> None:
    """Refuse keys a request object does not take, suggesting the closest one."""
    for key in given:
        if key not in allowed:
            raise ArgumentError(
                f"{where} has no field {key!r}.{did_you_mean(key, allowed)}", f"use only {', '.join(allowed)}."
            )


def choose(value: Any, name: str, choices: list[str], aliases: dict[str, str] | None = None) -> str:
    """One of ``choices``, matched case-insensitively (or through ``aliases``)."""
    text = str(value)
    by_folded = {c.lower(): c for c in choices}
    by_folded.update({k.lower(): v for k, v in (aliases or {}).items()})
    if text.lower() in by_folded:
        return by_folded[text.lower()]
    raise ArgumentError(f"Unknown {name} {text!r}.{did_you_mean(text, choices)}", f"use one of {', '.join(choices)}.")


def page(items: list[Any], limit: int, token: Any, request: Any) -> tuple[list[Any], str | None]:
    """Items ``[offset, offset + limit)`` and the token of the next page (None on the last)."""
    if limit < 1:
        raise ArgumentError(f"max_results {limit} is below 1.", "pass a positive max_results.")
    owner = fingerprint(request)
    offset = decode_token(token, owner)
    chunk = items[offset : offset + limit]
    nxt = offset + limit
    return chunk, (encode_token(nxt, owner) if nxt < len(items) else None)


def paged(
    answer: dict[str, Any], token: str | None, notes: list[str] | None = None, token_key: str = "NextToken"
) -> dict[str, Any]:
    """``answer`` with the next page's token and the notes added, each only when there is one."""
    if token:
        answer[token_key] = token
    if notes:
        answer["aifinops_notes"] = notes
    return answer


def fit(build: Any, size: int, floor: int = 1) -> dict[str, Any]:
    """``build(size)`` with the page size halved until the answer fits ``MAX_ANSWER_BYTES``.

    Measuring stops early (a huge answer is never serialized in full), each try checks the call's time
    budget, and halving stops once two sizes show the part that does not page is over the cap alone
    (then no page size can fit: the caller's answer is refused rather than rebuilt down to one item).
    """
    from aifinops.answers.limits import check_time, encoded_within

    measure_to = 40 * MAX_ANSWER_BYTES
    before: tuple[int, int] | None = None
    while True:
        check_time()
        answer = build(size)
        text, measured = encoded_within(answer, measure_to, json_default)
        if size <= floor or (text is not None and measured <= MAX_ANSWER_BYTES):  # measured: UTF-8 bytes
            return answer
        if text is not None and before is not None:
            # Linear in the page size: measured = fixed + size * per_item.
            (big_size, big), small = before, measured
            fixed = small - (big - small) * size / max(1, big_size - size)
            if fixed > MAX_ANSWER_BYTES:
                return answer
        before = (size, measured) if text is not None else None
        size = max(floor, size // 2)


# Keys whose numbers are dollars: rounded to the cent in every answer (STYLE.md: money is rounded at the
# boundary), so two identical questions give identical bytes whatever order DuckDB summed in.
_MONEY_SUFFIXES = ("_usd", "Cost", "cost", "Commitment", "Savings", "CostEquivalent", "AmortizedRecurringFee",
                   "TimePeriodAmount", "Difference", "estimatedMonthlySavings", "estimatedMonthlyCost",
                   "estimatedTotalDedupedSavings")
_MONEY_STRINGS = ("MeanValue", "PredictionIntervalLowerBound", "PredictionIntervalUpperBound")
# Other measures (utilization, hours, tokens, metric values) keep this many decimals.
OTHER_DECIMALS = 6


def _is_money(key: str) -> bool:
    return key.endswith(_MONEY_SUFFIXES) or key in ("total", "Amount")


def _decimal_text(value: float, places: int) -> str:
    text = f"{value:.{places}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def rounded(value: Any, key: str = "", usd: bool = True, inherited: bool = False) -> Any:
    """``value`` with money at cents and other floats at ``OTHER_DECIMALS`` places, through dicts and lists.

    A Cost Explorer ``{"Amount": "…", "Unit": "USD"}`` keeps its string form, rounded; an Amount in another
    unit (hours, tokens) keeps ``OTHER_DECIMALS`` places.
    """
    if isinstance(value, dict):
        unit = value.get("Unit")
        is_usd = unit in (None, "USD") if "Amount" in value else usd
        # {"aifinops_cost_usd": {"team-a": 1.234}}: the values under a money key are money too.
        under_money = inherited or (key.endswith("_usd") and key != "")
        return {k: rounded(v, str(k), is_usd, under_money) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, key, usd, inherited) for v in value]
    if isinstance(value, bool) or not isinstance(value, float | str):
        return value
    money = inherited or (_is_money(key) and (key != "Amount" or usd)) or key in _MONEY_STRINGS
    places = 2 if money else OTHER_DECIMALS
    if isinstance(value, str):
        if key not in ("Amount", *_MONEY_STRINGS):
            return value
        try:
            number = float(value)
        except ValueError:
            return value
        return _decimal_text(number, places)
    if value != value or value in (float("inf"), float("-inf")):
        return None
    out = round(value, places)
    return 0.0 if out == 0 else out
