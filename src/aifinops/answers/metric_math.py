"""CloudWatch metric math over the ids defined in one GetMetricData request.

Supported: numbers, query ids, ``+ - * /``, unary minus, parentheses, arrays ``[a, b]``, ``METRICS()``
and the functions SUM, AVG, MIN, MAX (a single series → a scalar; an array → a series, value by
value), ABS. As in CloudWatch, two series combine at matching timestamps, a scalar applies to every
value, and a division by zero drops that point. The parser is our own small recursive descent: no
``eval``, no SQL. An id that no query defines is an error naming it. An expression is at most
``MAX_EXPRESSION_CHARS`` long and nested at most ``MAX_EXPRESSION_DEPTH`` deep (parentheses, arrays,
function calls, unary minus), so the parser's recursion is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aifinops.answers.limits import MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH, clip
from aifinops.errors import ArgumentError

Series = dict[datetime, float]
Value = float | Series | list[Series]
_TOKEN_RE = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\S))")
_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "SUM": sum,
    "AVG": lambda xs: sum(xs) / len(xs),
    "MIN": min,
    "MAX": max,
}
FUNCTIONS = [*_REDUCERS, "ABS", "METRICS"]


def referenced_ids(expression: str) -> list[str]:
    """The query ids an expression reads (function names excluded), in order of appearance."""
    names = []
    for number, name, _ in _tokens(expression):
        if name and name.upper() not in FUNCTIONS and name not in names and not number:
            names.append(name)
    return names


def evaluate(expression: str, lookup: Callable[[str], Series], all_ids: list[str]) -> Series | float:
    """Evaluate ``expression``; ``lookup(id)`` returns a defined query's series."""
    parser = _Parser(expression, lookup, all_ids)
    value = parser.expr()
    if parser.peek() is not None:
        raise _syntax(expression, f"unexpected {parser.peek()!r}")
    if isinstance(value, list):
        raise _syntax(expression, "an array must be reduced with SUM, AVG, MIN or MAX")
    return value


def _tokens(text: str) -> list[tuple[str, str, str]]:
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ArgumentError(
            f"The metric math expression {clip(text)!r} is over the {MAX_EXPRESSION_CHARS:,}-character limit "
            "(CloudWatch's own).",
            "split it: give parts their own query id and combine those ids in a shorter expression.",
        )
    out = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            break
        if match.group(0).strip():
            out.append((match.group(1) or "", match.group(2) or "", match.group(3) or ""))
        pos = match.end()
    return out


def _syntax(expression: str, what: str) -> ArgumentError:
    return ArgumentError(
        f"Cannot read the metric math expression {clip(expression, 200)!r}: {what}.",
        "use query ids, numbers, + - * /, parentheses and SUM/AVG/MIN/MAX/ABS, e.g. \"m1 / m2 * 100\".",
    )


class _Parser:
    def __init__(self, expression: str, lookup: Callable[[str], Series], all_ids: list[str]):
        self.text = expression
        self.toks = _tokens(expression)
        self.i = 0
        self.depth = 0
        self.lookup = lookup
        self.all_ids = all_ids

    def nested(self, parse: Callable[[], Value]) -> Value:
        """``parse()`` one level deeper; refused past ``MAX_EXPRESSION_DEPTH`` (no unbounded recursion)."""
        self.depth += 1
        if self.depth > MAX_EXPRESSION_DEPTH:
            raise ArgumentError(
                f"The metric math expression {clip(self.text)!r} nests parentheses, arrays, functions or minus "
                f"signs over {MAX_EXPRESSION_DEPTH} levels deep, the limit.",
                "write it flatter, or give inner parts their own query id and refer to those ids.",
            )
        try:
            return parse()
        finally:
            self.depth -= 1

    def peek(self) -> str | None:
        if self.i >= len(self.toks):
            return None
        number, name, sym = self.toks[self.i]
        return number or name or sym

    def take(self) -> tuple[str, str, str]:
        if self.i >= len(self.toks):
            raise _syntax(self.text, "it ends too early")
        self.i += 1
        return self.toks[self.i - 1]

    def expect(self, sym: str) -> None:
        if self.peek() != sym:
            raise _syntax(self.text, f"expected {sym!r}")
        self.i += 1

    def expr(self) -> Value:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()[2]
            value = _combine(value, self.term(), op, self.text)
        return value

    def term(self) -> Value:
        value = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()[2]
            value = _combine(value, self.unary(), op, self.text)
        return value

    def unary(self) -> Value:
        if self.peek() == "-":
            self.take()
            return _combine(-1.0, self.nested(self.unary), "*", self.text)
        return self.atom()

    def atom(self) -> Value:
        number, name, sym = self.take()
        if number:
            return float(number)
        if sym == "(":
            value = self.nested(self.expr)
            self.expect(")")
            return value
        if sym == "[":
            items = [self.nested(self.expr)]
            while self.peek() == ",":
                self.take()
                items.append(self.nested(self.expr))
            self.expect("]")
            return [s for s in items if isinstance(s, dict)]
        if name and self.peek() == "(":
            return self.call(name.upper())
        if name:
            return self.lookup(name)
        raise _syntax(self.text, f"unexpected {sym!r}")

    def call(self, fn: str) -> Value:
        self.expect("(")
        if fn == "METRICS":
            self.expect(")")
            return [self.lookup(i) for i in self.all_ids]
        arg = self.nested(self.expr)
        self.expect(")")
        if fn == "ABS":
            return _combine(arg, 0.0, "abs", self.text)
        if fn not in _REDUCERS:
            raise _syntax(self.text, f"function {fn} is not supported")
        reduce = _REDUCERS[fn]
        if isinstance(arg, list):
            stamps = sorted({ts for s in arg for ts in s})
            return {ts: reduce([s[ts] for s in arg if ts in s]) for ts in stamps}
        if isinstance(arg, dict):
            return reduce(list(arg.values())) if arg else 0.0
        return arg


def _combine(left: Value, right: Value, op: str, text: str) -> Value:
    if isinstance(left, list) or isinstance(right, list):
        raise _syntax(text, "arithmetic on an array needs SUM, AVG, MIN or MAX first")
    if op == "abs":
        return {ts: abs(v) for ts, v in left.items()} if isinstance(left, dict) else abs(left)
    pairs: list[tuple[datetime, float, float]]
    if isinstance(left, dict):
        if isinstance(right, dict):
            pairs = [(ts, left[ts], right[ts]) for ts in left if ts in right]
        else:
            pairs = [(ts, v, right) for ts, v in left.items()]
    elif isinstance(right, dict):
        pairs = [(ts, left, v) for ts, v in right.items()]
    else:
        result = _apply(left, right, op)
        return 0.0 if result is None else result
    out: Series = {}
    for ts, a, b in pairs:
        result = _apply(a, b, op)
        if result is not None:
            out[ts] = result
    return out


def _apply(a: Any, b: Any, op: str) -> float | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return None if b == 0 else a / b
