"""Calls that fail softly: each AWS call either answers or becomes a precise "skipped" entry.

A ``Scope`` is one (account, region). Its ``call``/``pages`` return the response, or ``None``
after recording a ``Skip`` (throttled after the retries, AccessDenied, an AWS or network error).
An expired token stops the whole account and a disabled region stops the region (``ScopeStopped``):
every later call there would fail the same way. Responses are cleaned into the snapshot's JSON
form (``ResponseMetadata`` and page tokens dropped, datetimes as ISO-8601 UTC strings).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

import botocore.exceptions
from botocore import xform_name

from aifinops.aws.session import OperationNotAllowed, SessionFactory
from aifinops.errors import AifinopsError

THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "LimitExceededException",  # Cost Explorer's throttling code
    "ProvisionedThroughputExceededException",
}
ACCESS_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "Forbidden",
}
EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
INVALID_CREDENTIAL_CODES = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
}
REGION_DISABLED_CODES = {"OptInRequired"}
_XML_CODE = re.compile(r"<Code>([A-Za-z0-9.]+)</Code>")
_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.S)
_DROPPED_KEYS = {"ResponseMetadata", "NextToken", "NextPageToken", "nextToken", "NextMarker"}


@dataclass
class Skip:
    """Something that could not be read, and why. ``count``: how many calls failed this way."""

    account_id: str
    region: str
    service: str
    operation: str
    kind: str  # throttled | access-denied | expired-credentials | invalid-credentials | region-disabled | …
    message: str
    count: int = 1

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        times = f" ({self.count} calls)" if self.count > 1 else ""
        return f"{self.account_id} {self.region} {self.service}:{self.operation}: {self.kind}: {self.message}{times}"


class SkipLog:
    """Skips, merged by (account, region, service, operation, kind)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, ...], Skip] = {}

    def add(self, skip: Skip) -> None:
        key = (skip.account_id, skip.region, skip.service, skip.operation, skip.kind)
        if key in self._items:
            self._items[key].count += 1
        else:
            self._items[key] = skip

    @property
    def items(self) -> list[Skip]:
        return list(self._items.values())


class ScopeStopped(Exception):
    """Every later call in this account (``level='account'``) or region would fail: stop there."""

    def __init__(self, level: str, kind: str, message: str):
        super().__init__(message)
        self.level, self.kind, self.message = level, kind, message


def classify(exc: Exception, attempts: int) -> tuple[str, str, str | None]:
    """(kind, message, stop level or None) for an exception raised by a boto3 call."""
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        text = str(error.get("Message") or "").strip()
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        embedded = _XML_CODE.search(text)
        if embedded and (not code or code.isdigit()):  # an XML error body where JSON was expected (proxies, moto)
            code = embedded.group(1)
            message = _XML_MESSAGE.search(text)
            text = message.group(1) if message else ""
        detail = f"{code}: {text}" if text else code
        if code in THROTTLING_CODES:
            return "throttled", f"{detail} (still throttled after {attempts} attempts)", None
        if code in ACCESS_DENIED_CODES:
            return "access-denied", detail, None
        if code in EXPIRED_CODES:
            return "expired-credentials", detail, "account"
        if code in REGION_DISABLED_CODES:
            return "region-disabled", detail, "region"
        if code in INVALID_CREDENTIAL_CODES:
            return "invalid-credentials", detail, None
        if status == 403:
            return "access-denied", detail or "HTTP 403", None
        if isinstance(status, int) and status >= 500:
            name = "" if code in ("", str(status)) else f" {code}"
            return "service-error", f"HTTP {status}{name}: the service failed or does not offer this API here", None
        return "error", detail or f"HTTP {status}", None
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "no-credentials", str(exc), "account"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return "unreachable", str(exc), None
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return "error", str(exc), None
    raise exc


class Scope:
    """One account and region: guarded calls that record what they could not read."""

    def __init__(self, factory: SessionFactory, account_id: str, region: str, skips: SkipLog):
        self.factory = factory
        self.account_id = account_id
        self.region = region
        self.skips = skips

    def client(self, service: str, region: str | None = None, **config: Any) -> Any:
        return self.factory.client(service, region or self.region, **config)

    def call(
        self,
        service: str,
        operation: str,
        region: str | None = None,
        missing: frozenset[str] = frozenset(),
        **params: Any,
    ) -> dict | None:
        """One call: the cleaned response; ``{}`` for an error code in ``missing`` (e.g. the bucket has
        no lifecycle configuration); None when it failed (recorded as a skip)."""
        try:
            method = getattr(self.client(service, region), xform_name(operation))
            return clean(method(**params))
        except OperationNotAllowed:
            raise
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in missing:
                return {}
            self._record(service, operation, exc, region)
            return None
        except Exception as exc:  # noqa: BLE001 - every other failure becomes a recorded skip
            self._record(service, operation, exc, region)
            return None

    def pages(self, service: str, operation: str, key: str, region: str | None = None, **params: Any) -> list | None:
        """Every item under ``key`` across all pages; None when any page failed (recorded)."""
        client = self.client(service, region)
        name = xform_name(operation)
        try:
            if client.can_paginate(name):
                items: list = []
                for page in client.get_paginator(name).paginate(**params):
                    items.extend(page.get(key) or [])
                return clean(items)
            return clean(getattr(client, name)(**params).get(key) or [])
        except OperationNotAllowed:
            raise
        except Exception as exc:  # noqa: BLE001
            self._record(service, operation, exc, region)
            return None

    def run(self, service: str, operation: str, fn: Callable[[], Any]) -> Any:
        """``fn()`` (calls made elsewhere, e.g. the Cost Explorer cache); None when it failed (recorded)."""
        try:
            return fn()
        except (OperationNotAllowed, AifinopsError):
            raise
        except Exception as exc:  # noqa: BLE001
            self._record(service, operation, exc, None)
            return None

    def record(self, service: str, operation: str, exc: Exception, region: str | None = None) -> None:
        """Record a failure of a call made outside ``call``/``pages``; raises ScopeStopped as they would."""
        self._record(service, operation, exc, region)

    def _record(self, service: str, operation: str, exc: Exception, region: str | None) -> None:
        kind, message, stop = classify(exc, self.factory.max_attempts)
        self.skips.add(Skip(self.account_id, region or self.region, service, operation, kind, message))
        if stop:
            raise ScopeStopped(stop, kind, message)


def is_transient(exc: Exception) -> bool:
    """A failure that may pass if the call is made again, smaller or later: throttling, a read or connect
    timeout, a dropped connection, an HTTP 5xx."""
    if isinstance(exc, botocore.exceptions.ClientError):
        code = str(exc.response.get("Error", {}).get("Code") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in THROTTLING_CODES or (isinstance(status, int) and status >= 500)
    return isinstance(exc, botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectTimeoutError
                      | botocore.exceptions.ConnectionClosedError | botocore.exceptions.EndpointConnectionError)


class TimeBudget:
    """A deadline shared by the calls of one collect: ``remaining_s()`` never below zero."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = seconds, clock
        self.deadline = clock() + seconds

    def remaining_s(self) -> float:
        return max(0.0, self.deadline - self.clock())

    def spent(self) -> bool:
        return self.remaining_s() <= 0.0


def iso(ts: datetime | date) -> str:
    """ISO-8601 UTC with milliseconds and 'Z', as the demo snapshot writes times."""
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
    return ts.isoformat()


def clean(obj: Any) -> Any:
    """A boto3 response as plain JSON: no metadata or page tokens, datetimes as ISO strings."""
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items() if k not in _DROPPED_KEYS}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, datetime | date):
        return iso(obj)
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode()
    if hasattr(obj, "read"):  # streaming bodies never belong in a snapshot
        return None
    return obj
