"""Bedrock model invocation logs, read-only, from where the account's logging configuration sends them.

``GetModelInvocationLoggingConfiguration`` (one per region) names an S3 bucket and key prefix and/or a
CloudWatch Logs group. Bedrock writes to S3 under
``<prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/*.json.gz`` (the bucket is in
the configuration's region); each object holds gzipped JSON lines, one ``ModelInvocationLog`` record a line.
To CloudWatch Logs it writes one event per record. When both are configured the same records are in each, so
only S3 is read.

What is read is bounded: only the day folders of the window, newest first, and at most ``max_bytes`` of
objects or log events and ``max_objects`` objects per region (an object that would pass the cap is not read: a
partial gzip is useless).
The ``bedrock-invocation-logging`` record says where the logs are, what was read and the time span it covers,
so a check knows whether the rows are the whole window or its most recent part. Records become
``bedrock_invocations`` rows through ``ingest.bedrock_logs`` (no prompt text kept; requestMetadata redacted).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aifinops import resource_types as rt
from aifinops.aws.runner import Scope, Skip
from aifinops.errors import InputError
from aifinops.ingest.bedrock_logs import LOG_FOLDER, InvocationRows, records_in

DEFAULT_MAX_BYTES = 256 * 2**20  # per region and collect: ~1M typical records gzipped
DEFAULT_MAX_OBJECTS = 5000  # per region: one GetObject each, so this bounds the calls as the bytes cap cannot


def log_prefix(key_prefix: str | None, account_id: str, region: str) -> str:
    """The S3 key prefix Bedrock writes a region's records under (``keyPrefix`` may be empty)."""
    head = (key_prefix or "").strip("/")
    return f"{head + '/' if head else ''}AWSLogs/{account_id}/{LOG_FOLDER}/{region}/"


def invocation_logs(scope: Scope, since: datetime, until: datetime, rows: InvocationRows, collected_at: str,
                    max_bytes: int = DEFAULT_MAX_BYTES, max_objects: int = DEFAULT_MAX_OBJECTS) -> list[dict]:
    """Read the region's invocation logs of ``[since, until)`` into ``rows``; return the logging record (or none
    when logging is off or its configuration could not be read)."""
    answer = scope.call("bedrock", "GetModelInvocationLoggingConfiguration")
    config = (answer or {}).get("loggingConfig")
    if not config:
        return []
    s3 = config.get("s3Config") or {}
    group = (config.get("cloudWatchConfig") or {}).get("logGroupName")
    before = len(rows)
    if s3.get("bucketName"):
        read = _read_s3(scope, s3["bucketName"], s3.get("keyPrefix"), since, until, rows, max_bytes, max_objects)
    elif group:
        read = _read_log_group(scope, group, since, until, rows, max_bytes)
    else:
        read = {"Destination": None}
    times = [t for t in rows.cols["ts"][before:] if t is not None]
    read.update({
        "Records": len(rows) - before,
        "WindowStart": since.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "WindowEnd": until.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "FirstRecordAt": min(times).isoformat() + "Z" if times else None,
        "LastRecordAt": max(times).isoformat() + "Z" if times else None,
        "MaxBytes": max_bytes,
        "MaxObjects": max_objects,
    })
    arn = f"arn:aws:bedrock:{scope.region}:{scope.account_id}:model-invocation-logging"
    return [{
        "account_id": scope.account_id, "region": scope.region, "resource_type": rt.BEDROCK_INVOCATION_LOGGING,
        "resource_id": arn, "name": "model-invocation-logging", "collected_at": collected_at,
        "attributes": {"LoggingConfig": config, "Read": read},
    }]


def _days(since: datetime, until: datetime) -> list[str]:
    """The ``YYYY/MM/DD/`` folders of the window, newest first."""
    day, last = since.astimezone(UTC).date(), (until.astimezone(UTC) - timedelta(microseconds=1)).date()
    out = []
    while day <= last:
        out.append(day.strftime("%Y/%m/%d/"))
        day += timedelta(days=1)
    return out[::-1]


def _read_s3(scope: Scope, bucket: str, key_prefix: str | None, since: datetime, until: datetime,
             rows: InvocationRows, max_bytes: int, max_objects: int) -> dict:
    prefix = log_prefix(key_prefix, scope.account_id, scope.region)
    read: dict[str, Any] = {"Destination": f"s3://{bucket}/{prefix}", "Objects": 0, "ObjectsLeftOut": 0, "Bytes": 0,
            "Truncated": False}
    for day in _days(since, until):
        listed = scope.pages("s3", "ListObjectsV2", "Contents", Bucket=bucket, Prefix=prefix + day)
        if listed is None:
            read["Truncated"] = True  # recorded as a skip; the other days are still read
            continue
        for obj in sorted(listed, key=lambda o: o["Key"], reverse=True):
            size = int(obj.get("Size") or 0)
            if read["Bytes"] + size > max_bytes or read["Objects"] >= max_objects:
                read["Truncated"] = True
                read["ObjectsLeftOut"] += 1
                continue
            data = _get_object(scope, bucket, obj["Key"], size)
            if data is None:
                read["Truncated"] = True
                continue
            read["Objects"] += 1
            read["Bytes"] += len(data)
            _add_records(scope, rows, data, f"s3://{bucket}/{obj['Key']}", "GetObject", since, until)
    return read


def _get_object(scope: Scope, bucket: str, key: str, size: int) -> bytes | None:
    try:
        body = scope.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
        try:
            return body.read(size + 1) if size else body.read()
        finally:
            body.close()
    except Exception as exc:  # noqa: BLE001 - recorded; the next object is still read
        scope.record("s3", "GetObject", exc)
        return None


def _read_log_group(scope: Scope, group: str, since: datetime, until: datetime, rows: InvocationRows,
                    max_bytes: int) -> dict:
    read: dict[str, Any] = {"Destination": f"logs:{group}", "Events": 0, "Bytes": 0, "Truncated": False}
    params: dict[str, Any] = {"logGroupName": group, "startTime": int(since.timestamp() * 1000),
              "endTime": int(until.timestamp() * 1000)}
    client = scope.client("logs")
    while True:
        try:
            page = client.filter_log_events(**params)
        except Exception as exc:  # noqa: BLE001 - recorded; what was read so far is kept
            scope.record("logs", "FilterLogEvents", exc)
            read["Truncated"] = True
            return read
        for event in page.get("events") or []:
            message = str(event.get("message") or "").encode()
            if read["Bytes"] + len(message) > max_bytes:
                read["Truncated"] = True
                return read
            read["Events"] += 1
            read["Bytes"] += len(message)
            _add_records(scope, rows, message, f"logs:{group}/{event.get('logStreamName', '')}", "FilterLogEvents",
                         since, until)
        token = page.get("nextToken")
        if not token or token == params.get("nextToken"):
            return read
        params["nextToken"] = token


def _add_records(scope: Scope, rows: InvocationRows, data: bytes, name: str, operation: str, since: datetime,
                 until: datetime) -> None:
    low, high = since.astimezone(UTC).replace(tzinfo=None), until.astimezone(UTC).replace(tzinfo=None)
    try:
        for record in records_in(data, name):
            if rows.add(record) and not (low <= (rows.cols["ts"][-1] or low) < high):
                _drop_last(rows)  # an hour folder straddles the window's edge
    except InputError as exc:
        service = "s3" if operation == "GetObject" else "logs"
        scope.skips.add(Skip(scope.account_id, scope.region, service, operation, "unreadable", exc.problem))


def _drop_last(rows: InvocationRows) -> None:
    for column in rows.cols.values():
        column.pop()
