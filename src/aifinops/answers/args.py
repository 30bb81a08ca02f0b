"""Argument normalization for the MCP tools, and paging that keeps every answer small.

Assistants pass the same argument in several shapes: a JSON string or an object, ``metric_stat``
or ``MetricStat``, ``"2024-11-01"`` or ``"2024-11-01T00:00:00Z"``. Everything here turns those into
one Python shape or raises ``ArgumentError`` naming the argument and the fix.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from typing import Any

from aifinops.dates import parse_date as parse_date  # re-exported: the MCP adapters import it from here
from aifinops.dates import parse_time as parse_time
from aifinops.errors import ArgumentError, did_you_mean
from aifinops.money import decimal_text
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


# The rounding rule of every answer (STYLE.md: money is rounded at the boundary), so two identical questions give
# identical bytes whatever order DuckDB summed in:
# - money (dollars) to the cent;
# - every other number (usage quantities in their unit: hours, GB-Mo, tokens, requests; utilization; metric values)
#   to QUANTITY_SIGNIFICANT significant digits, with at least OTHER_DECIMALS decimals (a quantity above 0.1 prints as
#   it always has) and at most QUANTITY_MAX_DECIMALS (the decimals Cost Explorer prints its amounts with). Fixed
#   decimals alone would print a forecast of 0.004 GB-Mo a day as 0.00 at two decimals, and 3e-8 GB-Mo (a kilobyte
#   stored a day) as 0 at six; six significant digits keep them, and float noise (1e-16 of the value, or 1e-13 left
#   of two sums that cancel) never reaches the digits shown.
MONEY_DECIMALS = 2
# The JSON documents of the HTTP API and the CLI's --format json (rounded_document) keep money at six decimals
# instead: their readers are programs that sum rows, and each figure stays within half a millionth of a dollar of its
# full value, while float noise (1191.5063999999995, 0.015000000000000001) never reaches the bytes.
DOCUMENT_MONEY_DECIMALS = 6
QUANTITY_SIGNIFICANT = 6
OTHER_DECIMALS = 6
QUANTITY_MAX_DECIMALS = 10

# Keys whose numbers are dollars wherever they are. GetAnomalies' Impact {MaxImpact, TotalImpact, TotalActualSpend,
# TotalExpectedSpend}, a root cause's Impact {Contribution} and GetSavingsPlansCoverage's SpendCoveredBySavingsPlans are
# dollars too (TotalImpactPercentage is not).
_MONEY_SUFFIXES = ("_usd", "Cost", "cost", "Commitment", "Savings", "CostEquivalent", "AmortizedRecurringFee",
                   "estimatedMonthlySavings", "estimatedMonthlyCost", "estimatedTotalDedupedSavings", "Impact",
                   "Spend", "Contribution", "SpendCoveredBySavingsPlans")
# Keys whose numbers are in the unit of their Cost Explorer shape: the "Unit" beside them (MetricValue {Amount, Unit};
# a comparison's {BaselineTimePeriodAmount, ComparisonTimePeriodAmount, Difference, Unit}; aifinops_summary), or,
# in GetCostForecast / GetUsageForecast, the Unit of the Total beside ForecastResultsByTime. Money when that unit is
# USD (or absent), a quantity otherwise: a usage forecast's MeanValue is hours or GB-Mo, not dollars. These keep
# their string form (Cost Explorer prints them as strings), rounded.
_UNIT_KEYS = ("Amount", "total", "MeanValue", "PredictionIntervalLowerBound", "PredictionIntervalUpperBound",
              "BaselineTimePeriodAmount", "ComparisonTimePeriodAmount", "Difference")

# Keys of Cost Explorer's reservation and Savings Plans answers whose strings are quantities (hours, percentages).
_QUANTITY_STRING_SUFFIXES = ("Hours", "Percentage")


def _is_money(key: str, usd: bool) -> bool:
    return usd if key in _UNIT_KEYS else key.endswith(_MONEY_SUFFIXES)


def quantity_places(value: float) -> int:
    """The decimals a quantity keeps under the rule above: 6 for 1234.5678901, 8 for 0.00412345678, 10 at most."""
    if value == 0 or value != value or value in (float("inf"), float("-inf")):
        return OTHER_DECIMALS
    leading = -math.floor(math.log10(abs(value)))  # 3 for 0.004: the first significant digit's decimal place
    return max(OTHER_DECIMALS, min(QUANTITY_MAX_DECIMALS, leading + QUANTITY_SIGNIFICANT - 1))


def quantity_text(value: float) -> str:
    """A quantity as Cost Explorer's string amounts print it, under the rule above: '0.004', '1234.567', '0'."""
    return decimal_text(float(value), quantity_places(float(value)))


def _unit_of(value: dict[str, Any], usd: bool) -> bool:
    """Whether the unit-following numbers of ``value`` (and below it) are dollars: its own Unit, else its Total's."""
    total = value.get("Total")
    unit = value.get("Unit", total.get("Unit") if isinstance(total, dict) and "Amount" in total else None)
    return usd if unit is None else unit == "USD"


def rounded(value: Any, key: str = "", usd: bool = True, inherited: bool = False,
            money_places: int = MONEY_DECIMALS) -> Any:
    """``value`` with money at cents (``money_places``) and other numbers under the quantity rule above, through dicts
    and lists.

    Numbers under ``_UNIT_KEYS`` follow their shape's Unit: a Cost Explorer ``{"Amount": "…", "Unit": "USD"}`` keeps
    its string form at cents; an Amount (or a forecast's MeanValue) in another unit (hours, GB-Mo, tokens) is a
    quantity.
    """
    if isinstance(value, dict):
        is_usd = _unit_of(value, usd)
        # {"aifinops_cost_usd": {"team-a": 1.234}}: the values under a money key are money too.
        under_money = inherited or (key.endswith("_usd") and key != "")
        return {k: rounded(v, str(k), is_usd, under_money, money_places) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, key, usd, inherited, money_places) for v in value]
    if isinstance(value, bool) or not isinstance(value, float | str):
        return value
    money = inherited or _is_money(key, usd)
    if isinstance(value, str):
        # Cost Explorer prints its numbers as strings: those of a unit-following, money, hours or percentage key
        # are rounded like numbers; any other string (an id, a name, a dimension value) is left as it is
        if not (key in _UNIT_KEYS or _is_money(key, usd) or key.endswith(_QUANTITY_STRING_SUFFIXES)):
            return value
        try:
            number = float(value)
        except ValueError:
            return value
        if number != number or number in (float("inf"), float("-inf")):
            return value
        return decimal_text(number, money_places if money else quantity_places(number))
    if value != value or value in (float("inf"), float("-inf")):
        return None
    out = round(value, money_places if money else quantity_places(value))
    return 0.0 if out == 0 else out


def rounded_document(value: Any) -> Any:
    """A JSON document (the HTTP API, the CLI's --format json) under the rule above with money at
    DOCUMENT_MONEY_DECIMALS: every number as
    two identical questions print it, whatever order DuckDB summed in."""
    return rounded(value, money_places=DOCUMENT_MONEY_DECIMALS)
