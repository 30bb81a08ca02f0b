"""Page tokens: an offset bound to the request that made it (one home for Cost Explorer answers and MCP tools).

A token is the URL-safe base64 of ``{"o": offset, "f": fingerprint}``; the fingerprint is a short hash of the
request, so a token passed back with another request is refused instead of paging through the wrong answer.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from aifinops.errors import ArgumentError


def fingerprint(request: Any) -> str:
    """A short stable hash of a request (keys sorted, values as JSON, anything else as its text)."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_token(offset: int, owner: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "f": owner}).encode()).decode()


def decode_token(token: Any, owner: str, name: str = "next_token") -> int:
    """The offset ``token`` carries (0 for none); ArgumentError, naming ``name``, when it belongs elsewhere."""
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        offset, mine = int(data["o"]), data["f"] == owner
    except (ValueError, TypeError, KeyError):
        offset, mine = -1, False
    if not mine or offset < 0:
        raise ArgumentError(
            f"{name} does not belong to this request.",
            "pass the token back with the same request that returned it, or drop it.",
        )
    return offset
