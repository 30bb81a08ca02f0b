"""Cost Explorer with an answer cache: each CE request costs $0.01, an identical request costs nothing twice.

``CostExplorer`` pages through GetCostAndUsage, GetAnomalies and GetDimensionValues itself (boto3
has no CE paginators) and merges the pages. Answers are cached on disk under the cache dir
(default ``<user cache dir>/aifinops/cost-explorer``), one JSON file per (account, operation,
request), for ``max_age_s``. ``paid_calls`` counts the requests sent to AWS (one per page);
``cached_calls`` the answers read from the cache. Only requests and responses are written, never
credentials.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aifinops.aws.runner import clean
from aifinops.config import env_path, user_dir
from aifinops.errors import ArgumentError
from aifinops.whole_file import replace_file

USD_PER_REQUEST = 0.01  # https://aws.amazon.com/aws-cost-management/aws-cost-explorer/pricing/
DEFAULT_MAX_AGE_S = 86400
MAX_GROUP_BYS = 2
CACHE_ENV = "AIFINOPS_CE_CACHE"
log = logging.getLogger(__name__)

# operation -> (list keys merged across pages, request token field, response token field)
_PAGED: dict[str, tuple[tuple[str, ...], str, str]] = {
    "GetCostAndUsage": (("ResultsByTime", "DimensionValueAttributes"), "NextPageToken", "NextPageToken"),
    "GetAnomalies": (("Anomalies",), "NextPageToken", "NextPageToken"),
    "GetDimensionValues": (("DimensionValues",), "NextPageToken", "NextPageToken"),
}


def default_cache_dir() -> Path:
    return env_path(CACHE_ENV, user_dir("cache") / "cost-explorer")


class CostExplorer:
    """Cached Cost Explorer reads for one account; ``client`` returns the guarded ``ce`` client."""

    def __init__(self, client: Callable[[], Any], account_id: str, cache_dir: Path | None = None,
                 max_age_s: float = DEFAULT_MAX_AGE_S):
        self._client = client
        self.account_id = account_id
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.max_age_s = max_age_s
        self.paid_calls = 0
        self.cached_calls = 0

    @property
    def cost_usd(self) -> float:
        return self.paid_calls * USD_PER_REQUEST

    def get_cost_and_usage(self, request: dict) -> dict:
        group_by = request.get("GroupBy") or []
        if len(group_by) > MAX_GROUP_BYS:
            raise ArgumentError(
                f"GetCostAndUsage takes at most {MAX_GROUP_BYS} GroupBy entries; got {len(group_by)}.",
                "group by two keys and filter on the others.",
            )
        return self.answer("GetCostAndUsage", request)

    def get_cost_forecast(self, request: dict) -> dict:
        return self.answer("GetCostForecast", request)

    def get_anomalies(self, request: dict) -> dict:
        return self.answer("GetAnomalies", request)

    def get_dimension_values(self, request: dict) -> dict:
        return self.answer("GetDimensionValues", request)

    def answer(self, operation: str, request: dict) -> dict:
        """The merged response from the cache, else from AWS (then cached). AWS errors propagate."""
        request = clean(request)
        path = self.cache_dir / f"{self._key(operation, request)}.json"
        cached = self._read(path)
        if cached is not None:
            self.cached_calls += 1
            return cached
        response = self._fetch(operation, request)
        self._write(path, operation, request, response)
        return response

    def _key(self, operation: str, request: dict) -> str:
        text = json.dumps({"account": self.account_id, "operation": operation, "request": request},
                          sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _fetch(self, operation: str, request: dict) -> dict:
        from botocore import xform_name

        method = getattr(self._client(), xform_name(operation))
        keys, token_in, token_out = _PAGED.get(operation, ((), "", ""))
        merged: dict[str, Any] = {}
        params = dict(request)
        while True:
            page = method(**params)
            self.paid_calls += 1  # a request that AWS answered is billed
            token = page.get(token_out) if keys else None
            page = clean(page)
            if not merged:
                merged = page
            else:
                for key in keys:
                    merged.setdefault(key, []).extend(page.get(key) or [])
            if not token:
                return merged
            params[token_in] = token

    def _read(self, path: Path) -> dict | None:
        try:
            if time.time() - path.stat().st_mtime > self.max_age_s:
                return None
            return json.loads(path.read_text(encoding="utf-8"))["response"]
        except (OSError, ValueError, KeyError):
            return None

    def _write(self, path: Path, operation: str, request: dict, response: dict) -> None:
        doc = {"account_id": self.account_id, "operation": operation, "request": request,
               "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "response": response}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            replace_file(path, lambda tmp: tmp.write_text(json.dumps(doc), encoding="utf-8"))
        except OSError as exc:  # an unwritable cache costs money later, never correctness now: say so
            log.warning("Cost Explorer answer not cached (%s); the same request will be paid again. "
                        "To fix: make %s writable or set %s.", exc, self.cache_dir, CACHE_ENV)
