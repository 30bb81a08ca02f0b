"""What one MCP tool call may cost the server: argument size, structure, expression depth, time, answer.

An assistant (or anyone who can reach the server) can send a 1 MB filter or 5,000 nested parentheses;
without limits that burned 29 s of CPU building a 19.8 MB answer before refusing it. Each limit here
is checked as early as it can be, and refusing says which limit and what to ask instead:

- ``check_arguments``: before a tool runs, the arguments as JSON (JSON strings inside them too) are
  at most ``MAX_ARGUMENTS_BYTES``, nested at most ``MAX_DEPTH`` deep, with at most ``MAX_VALUES``
  values (a filter's ``Values`` lists are where these come from).
- ``metric_math`` refuses expressions over ``MAX_EXPRESSION_CHARS`` or nested over ``MAX_EXPRESSION_DEPTH``.
- ``call_budget``: one call gets ``CALL_SECONDS``; a running DuckDB query is interrupted at the end,
  and Python loops that build answers call ``check_time``.
- ``encoded_within``: serializing an answer stops as soon as it is certain to exceed the answer cap.
- ``clip`` and ``short_message``: no error (and so no log line) quotes an argument in full.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

from aifinops.errors import ArgumentError

# Generous for every real request (a CloudWatch GetMetricData of 500 queries is ~60 KB; a CE filter
# listing a few hundred usage types ~10 KB), small enough that checking it is instant.
MAX_ARGUMENTS_BYTES = 100_000
# An And of Ors of Nots with their Dimensions/Values lists is 8 levels deep.
MAX_DEPTH = 16
# Strings, numbers and booleans in one call's arguments (500 metric queries are ~4,000).
MAX_VALUES = 5_000
# Items in any one list: a filter's Values (each unknown value costs a 'Did you mean' search), or
# GetMetricData's queries (CloudWatch takes 500).
MAX_LIST_ITEMS = 1_000
# CloudWatch's own limit on a MetricDataQuery Expression is 2,048 characters.
MAX_EXPRESSION_CHARS = 2_048
MAX_EXPRESSION_DEPTH = 32
# No answer here takes more than a few seconds on a large store; a call that does is asking too much.
CALL_SECONDS = 30.0
MAX_MESSAGE_CHARS = 1_000

_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("aifinops_mcp_deadline", default=None)


def clip(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was (errors quote arguments this way)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def short_message(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """An error message of at most about ``limit`` characters that still ends with its 'To fix: …'."""
    if len(message) <= limit:
        return message
    head, sep, fix = message.rpartition(" To fix: ")
    if not sep or len(fix) > limit // 2:
        head, fix = message, ""
    cut = head[: max(100, limit - len(fix) - 40)]
    return f"{cut}… ({len(message):,} characters cut short)" + (f" To fix: {fix}" if fix else "")


def _size_error(what: str, size: str, limit: str, fix: str) -> ArgumentError:
    return ArgumentError(f"{what}: {size}, over the {limit} limit of one call.", fix)


def check_arguments(tool: str, arguments: dict[str, Any]) -> None:
    """Refuse arguments over the size, depth or value-count limits, naming the argument and the limit."""
    try:
        size = len(json.dumps(arguments, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    except (RecursionError, ValueError):
        size = MAX_ARGUMENTS_BYTES + 1
    if size > MAX_ARGUMENTS_BYTES:
        biggest = max(arguments, key=lambda k: len(str(arguments[k])), default="?")
        raise _size_error(
            f"The arguments of {tool} are too large ({clip(str(biggest), 40)!r} the largest)", f"{size:,} bytes",
            f"{MAX_ARGUMENTS_BYTES:,}-byte",
            "ask with fewer values: filter on a broader dimension (SERVICE, WORKLOAD, ai_service) instead of "
            "listing many values, or split the question into several calls.",
        )
    values = 0
    for name, value in arguments.items():
        depth, count, longest = _shape(value)
        values += count
        if longest > MAX_LIST_ITEMS:
            raise _size_error(
                f"Argument {clip(str(name), 40)!r} of {tool} holds a list of too many items",
                f"{longest:,} or more", f"{MAX_LIST_ITEMS:,}-item",
                "ask with fewer values: filter on a broader dimension (SERVICE, WORKLOAD, ai_service) or "
                "group_by the dimension instead of listing its values, or split the question into several calls.",
            )
        if depth > MAX_DEPTH:
            raise ArgumentError(
                f"Argument {clip(str(name), 40)!r} of {tool} is nested {depth} levels deep, over the limit of "
                f"{MAX_DEPTH}.",
                "flatten it: an And/Or/Not tree a few levels deep says the same (And of Ors, each with a Values list).",
            )
        if values > MAX_VALUES:
            raise _size_error(
                f"Argument {clip(str(name), 40)!r} of {tool} holds too many values ({count:,} or more in it)",
                f"{values:,} values in the call", f"{MAX_VALUES:,}-value",
                "ask with fewer values: filter on a broader dimension (SERVICE, WORKLOAD, ai_service) or "
                "group_by the dimension instead of listing its values, or split the question into several calls.",
            )


def _shape(value: Any) -> tuple[int, int, int]:
    """(nesting depth, scalar values, longest list) of a JSON-like value; JSON text inside is read too."""
    depth_max, count, longest = 0, 0, 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str) and item[:1] in ("{", "[") and len(item) > 1:
            try:
                item = json.loads(item)
            except (ValueError, RecursionError):
                depth_max = max(depth_max, depth + item.count("[") + item.count("{"))
                count += 1
                continue
        if isinstance(item, dict):
            depth_max = max(depth_max, depth)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            depth_max = max(depth_max, depth)
            longest = max(longest, len(item))
            stack.extend((v, depth + 1) for v in item)
        else:
            count += 1
        if depth_max > MAX_DEPTH or count > MAX_VALUES or longest > MAX_LIST_ITEMS:
            break
    return depth_max, count, longest


@contextmanager
def call_budget(con: Any = None, seconds: float | None = None) -> Iterator[None]:
    """One call within ``seconds`` (default ``CALL_SECONDS``): a running DuckDB query is interrupted at
    the end, and ``check_time`` raises after it."""
    seconds = CALL_SECONDS if seconds is None else seconds
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    timer = threading.Timer(seconds, con.interrupt) if con is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        yield
    except Exception as exc:
        if type(exc).__name__ == "InterruptException":  # duckdb.InterruptException, after con.interrupt()
            raise over_time(seconds) from None
        raise
    finally:
        if timer is not None:
            timer.cancel()
        _DEADLINE.reset(token)


def over_time(seconds: float | None = None) -> ArgumentError:
    seconds = CALL_SECONDS if seconds is None else seconds
    return ArgumentError(
        f"The call ran past {seconds:g} s, the time limit of one call, and was stopped.",
        "ask for less: a shorter period, a filter, MONTHLY instead of DAILY, fewer group_by keys or a smaller "
        "max_results or top.",
    )


def check_time() -> None:
    """Raise when the current call's time budget is spent (a no-op outside ``call_budget``)."""
    budget = _DEADLINE.get()
    if budget is not None and time.monotonic() > budget[0]:
        raise over_time(budget[1])


def encoded_within(obj: Any, limit: int, default: Any = None) -> tuple[str | None, int]:
    """(compact JSON of ``obj``, its size in UTF-8 bytes) — or (None, bytes seen) once the size is certain to pass
    ``limit``.

    The same bytes as ``json.dumps(obj, separators=(",", ":"), default=default, ensure_ascii=False)``, made by the
    json module's C encoder (the incremental ``JSONEncoder.iterencode`` is the pure-Python one, several times
    slower) a piece at a time: a dict or list is encoded in batches of its items that grow while the limit is far
    and shrink near it, and a single item that is a dict or list is entered the same way, so a huge answer stops
    about one item past the limit instead of being encoded whole. A batch is sized from the items before it: an
    item far larger than those may be encoded whole before the size passes the limit."""
    dumps = partial(json.dumps, separators=(",", ":"), default=default, ensure_ascii=False)
    parts: list[str] = []
    size = _encode_into(obj, dumps, parts, 0, limit, set())
    return (None, size) if size > limit else ("".join(parts), size)


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def _encode_into(obj: Any, dumps: Any, parts: list[str], size: int, limit: int, path: set[int]) -> int:
    """Append ``obj``'s JSON to ``parts`` until ``size`` passes ``limit``; return the new size."""
    if not isinstance(obj, dict | list | tuple) or not obj:
        text = dumps(obj)
        parts.append(text)
        return size + _utf8_size(text)
    if id(obj) in path:
        raise ValueError("Circular reference detected")  # json's own message
    path.add(id(obj))
    is_dict = isinstance(obj, dict)
    items: Any = list(obj.items()) if isinstance(obj, dict) else obj
    parts.append("{" if is_dict else "[")
    size += 1
    i, batch, n = 0, 1, len(items)
    while i < n and size <= limit:
        if i:
            parts.append(",")
            size += 1
        before = size
        item = items[i]
        value = item[1] if is_dict else item
        if batch == 1 and isinstance(value, dict | list | tuple) and value:
            if is_dict:  # the key as json writes it (a number or a bool as a string), then the value entered
                key = dumps({item[0]: 0})[1:-2]
                parts.append(key)
                size = _encode_into(value, dumps, parts, size + _utf8_size(key), limit, path)
            else:
                size = _encode_into(value, dumps, parts, size, limit, path)
        else:
            chunk = items[i : i + batch]
            text = dumps(dict(chunk) if is_dict else list(chunk))[1:-1]
            parts.append(text)
            size += _utf8_size(text)
        done = batch
        i += done
        # Next batch: twice as many items while the limit is far, about as many as the room left holds near it.
        per_item = max(1, (size - before + 1) // done)
        batch = max(1, min(2 * done, (limit - size) // per_item + 1, n - i))
    path.discard(id(obj))
    parts.append("}" if is_dict else "]")
    return size + 1
