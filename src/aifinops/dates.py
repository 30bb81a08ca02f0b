"""Dates and times given as arguments (CLI options, MCP tool arguments, Cost Explorer request fields), read
one way everywhere: a 'YYYY-MM-DD' day (a timestamp's date part accepted) or an ISO-8601 instant as naive UTC,
and a bad one is an ArgumentError naming the argument. Base layer, so analysis and outputs share it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from aifinops.errors import ArgumentError


def parse_date(value: Any, name: str) -> date:
    """A 'YYYY-MM-DD' date (a timestamp's date part is accepted)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ArgumentError(f"{name} {value!r} is not a date.", "write dates as YYYY-MM-DD (UTC).") from None


def parse_time(value: Any, name: str) -> datetime:
    """An ISO-8601 instant as a naive UTC datetime (the store's timestamps are UTC)."""
    if isinstance(value, datetime):
        ts = value
    else:
        text = str(value).strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            ts = datetime.fromisoformat(text)
        except ValueError:
            raise ArgumentError(
                f"{name} {value!r} is not an ISO-8601 time.", f'write e.g. {name}="2024-11-01T00:00:00Z" (UTC).'
            ) from None
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts
