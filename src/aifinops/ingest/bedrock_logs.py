"""Bedrock model invocation log records → rows of the store's ``bedrock_invocations`` table.

Bedrock writes one JSON record per model call (``schemaType`` ``ModelInvocationLog``, documented in the
Bedrock user guide, "Monitor model invocation using CloudWatch Logs and Amazon S3"): to S3 as gzipped JSON
lines under ``<prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/``, and to a
CloudWatch Logs group as one event per record. The fields read here:

``timestamp, accountId, region, requestId, operation, modelId, identity.arn, inferenceRegion,
requestMetadata, status/errorCode, performanceConfig.latency, input.inputTokenCount,
input.cacheReadInputTokenCount, input.cacheWriteInputTokenCount, output.outputTokenCount,
input.inputBodyJson`` (only to measure and hash the prompt's leading characters).

No prompt or completion text is stored: a row keeps the prompt's length and the SHA-256 of its first
``PROMPT_PREFIX_CHARS`` characters, so equal hashes show a repeated prefix (what prompt caching saves on)
without the text. ``requestMetadata`` passes through ``aws.redact``.

The same parser serves ``collect`` (aws/bedrock_logs.py reads S3 objects and log events) and
``aifinops ingest <folder>`` for a copy of the S3 prefix (``load_invocation_logs``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from aifinops.errors import InputError
from aifinops.ingest.files import text_head

SCHEMA_TYPE = "ModelInvocationLog"
LOG_FOLDER = "BedrockModelInvocationLogs"  # the S3 key segment Bedrock writes under AWSLogs/<account>/
# Claude models on Bedrock cache prefixes of at least 1,024 tokens (Bedrock user guide, "Prompt caching");
# at roughly 4 characters a token that is 4,096 characters: the shortest prefix worth comparing.
PROMPT_PREFIX_CHARS = 4096
# The geography prefixes of system-defined cross-Region inference profile ids (Bedrock user guide, "Supported
# Regions and models for inference profiles"): ``us.anthropic.claude-…``, ``global.…``.
PROFILE_GEOGRAPHIES = frozenset({"us", "eu", "apac", "us-gov", "global", "jp", "au", "ca"})
MAX_FILE_BYTES = 256 * 2**20  # decompressed bytes per log file: a bigger one is not a log Bedrock wrote
LOG_SUFFIXES = (".json.gz", ".jsonl.gz", ".json", ".jsonl", ".gz")

INVOCATIONS_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("ts", pa.timestamp("us")),
        ("account_id", pa.string()),
        ("region", pa.string()),
        ("model_id", pa.string()),
        ("operation", pa.string()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("cache_read_tokens", pa.int64()),
        ("cache_write_tokens", pa.int64()),
        ("identity_arn", pa.string()),
        ("inference_profile_arn", pa.string()),
        ("request_metadata", pa.string()),  # JSON text; the store's column is JSON
        ("inference_region", pa.string()),
        ("status", pa.string()),
        ("latency_tier", pa.string()),
        ("prompt_chars", pa.int64()),
        ("prompt_prefix_chars", pa.int32()),
        ("prompt_prefix_sha256", pa.string()),
    ]
)
INVOCATION_COLUMNS = INVOCATIONS_SCHEMA.names


def prompt_text(body: Any) -> str | None:
    """The prompt of an ``inputBodyJson``, in the order a cache sees it: tools, system, then messages.

    Handles the Converse shape (``system`` and ``content`` as lists of ``{"text": …}``), the Anthropic
    Messages shape (``system`` a string, ``content`` a string or typed blocks), and single-prompt bodies
    (``inputText``, ``prompt``). None when the body holds no text (text delivery off, or a large body that
    Bedrock moved to ``inputBodyS3Path``).
    """
    if not isinstance(body, dict):
        return None
    parts: list[str] = []
    tools = body.get("toolConfig", {}).get("tools") if isinstance(body.get("toolConfig"), dict) else body.get("tools")
    if tools:
        parts.append("tools:" + json.dumps(tools, sort_keys=True, separators=(",", ":")))
    system = _text_of(body.get("system"))
    if system:
        parts.append("system:" + system)
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            parts.append(f"{message.get('role', '')}:" + _text_of(message.get("content")))
    for key in ("inputText", "prompt"):
        if isinstance(body.get(key), str):
            parts.append(body[key])
    return "\n".join(parts) if parts else None


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text_of(v) for v in value)
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            return value["text"]
        if "cachePoint" in value:
            return ""
        return json.dumps(value, sort_keys=True, separators=(",", ":"))  # tool use/results: their JSON
    return ""


def invocation_row(record: Any, prefix_chars: int = PROMPT_PREFIX_CHARS) -> dict | None:
    """One row of ``INVOCATIONS_SCHEMA`` from one record; None when it is not a ModelInvocationLog record."""
    from aifinops.aws.redact import redact  # here: the aws package imports this module while it loads

    if not isinstance(record, dict) or record.get("schemaType") != SCHEMA_TYPE:
        return None
    inp = _object(record.get("input"))
    out = _object(record.get("output"))
    model_id = _str(record.get("modelId"))
    text = prompt_text(inp.get("inputBodyJson"))
    prefix = text[:prefix_chars] if text is not None else None
    metadata = record.get("requestMetadata")
    performance = _object(record.get("performanceConfig"))
    return {
        "request_id": _str(record.get("requestId")),
        "ts": _timestamp(record.get("timestamp")),
        "account_id": _str(record.get("accountId")),
        "region": _str(record.get("region")),
        "model_id": model_id,
        "operation": _str(record.get("operation")),
        "input_tokens": _count(inp.get("inputTokenCount")),
        "output_tokens": _count(out.get("outputTokenCount")),
        "cache_read_tokens": _count(inp.get("cacheReadInputTokenCount")),
        "cache_write_tokens": _count(inp.get("cacheWriteInputTokenCount")),
        "identity_arn": _str(_object(record.get("identity")).get("arn")),
        "inference_profile_arn": inference_profile_arn(model_id, record.get("region"), record.get("accountId")),
        "request_metadata": json.dumps(redact(metadata), sort_keys=True, separators=(",", ":"))
        if isinstance(metadata, dict) else None,
        "inference_region": _str(record.get("inferenceRegion")),
        "status": _str(record.get("errorCode") or record.get("status")),
        "latency_tier": _str(performance.get("latency")),
        "prompt_chars": len(text) if text is not None else None,
        "prompt_prefix_chars": len(prefix) if prefix is not None else None,
        "prompt_prefix_sha256": hashlib.sha256(prefix.encode()).hexdigest() if prefix else None,
    }


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def inference_profile_arn(model_id: str | None, region: Any, account_id: Any) -> str | None:
    """The inference profile a call went through: an ARN logged as the model id (application or system profile),
    or a cross-Region profile id (``us.anthropic.…``) written as its ARN; None for a plain model id."""
    if not model_id:
        return None
    if model_id.startswith("arn:"):
        return model_id if "inference-profile/" in model_id else None
    if model_id.split(".", 1)[0] in PROFILE_GEOGRAPHIES and region and account_id:
        return f"arn:aws:bedrock:{region}:{account_id}:inference-profile/{model_id}"
    return None


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _count(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


class InvocationRows:
    """Rows appended as records are read; ``table()`` gives ``INVOCATIONS_SCHEMA``. Counts what was left out."""

    def __init__(self, prefix_chars: int = PROMPT_PREFIX_CHARS) -> None:
        self.prefix_chars = prefix_chars
        self.cols: dict[str, list] = {name: [] for name in INVOCATION_COLUMNS}
        self.not_records = 0  # JSON values that are not ModelInvocationLog records (large-data objects, …)

    def add(self, record: Any) -> bool:
        row = invocation_row(record, self.prefix_chars)
        if row is None:
            self.not_records += 1
            return False
        for name in INVOCATION_COLUMNS:
            self.cols[name].append(row[name])
        return True

    def __len__(self) -> int:
        return len(self.cols["request_id"])

    def table(self) -> pa.Table:
        return pa.Table.from_pydict(self.cols, schema=INVOCATIONS_SCHEMA)


def records_in(data: bytes, name: str) -> Iterator[Any]:
    """The JSON values of one log file or object: gzipped or not, JSON lines or one JSON document.

    Raises InputError naming ``name`` and the line when the content is damaged.
    """
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{name}: a damaged gzip file ({exc}).",
                             "copy the object again from S3; a partial download cannot be read.") from exc
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{name}: more than {MAX_FILE_BYTES:,} bytes of JSON, not a Bedrock log file.",
                         "pass the BedrockModelInvocationLogs folder; Bedrock's own files are far smaller.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text ({exc.reason}).", "pass the .json.gz files Bedrock wrote.") from exc
    stripped = text.strip()
    if not stripped:
        return
    try:
        whole = json.loads(stripped)  # one record (a CloudWatch event, a pretty-printed sample) or an array
    except ValueError:
        whole = None
    else:
        yield from whole if isinstance(whole, list) else [whole]
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name} line {number}: not valid JSON ({exc.msg}).",
                             "copy the file again from S3; Bedrock writes one JSON record a line.") from exc


def log_files(folder: Path) -> list[Path]:
    """The log files under ``folder`` (recursively), sorted; hidden files and folders left out."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).parts
        if any(part.startswith(".") for part in rel):
            continue
        if path.is_file() and path.name.lower().endswith(LOG_SUFFIXES):
            found.append(path)
    return sorted(found)


def is_invocation_log_path(path: Path) -> bool:
    """A folder or file holding model invocation logs: an S3 copy with the ``BedrockModelInvocationLogs``
    layout, or files whose first record is a ModelInvocationLog."""
    if path.is_dir():
        if LOG_FOLDER in path.parts or next(path.glob(f"**/{LOG_FOLDER}"), None) is not None:
            return True
        first = next(iter(log_files(path)), None)
        return first is not None and _first_is_record(first)
    return path.is_file() and path.name.lower().endswith(LOG_SUFFIXES) and _first_is_record(path)


def _first_is_record(path: Path) -> bool:
    sample = text_head(path)
    return sample is not None and '"schemaType"' in sample and f'"{SCHEMA_TYPE}"' in sample


def replace_rows(con: duckdb.DuckDBPyConnection, table: pa.Table, source: str) -> int:
    """Replace the ``source`` rows of ``bedrock_invocations`` with ``table``; return the rows stored.

    A request id is stored once: a row loaded now replaces a row with the same id from any other source
    (S3 and CloudWatch Logs carry the same records), and within ``table`` the first record of an id wins.
    """
    columns = ", ".join(INVOCATION_COLUMNS)
    con.execute("DELETE FROM bedrock_invocations WHERE source = ?", [source])
    con.register("_invocations", table)
    try:
        con.execute(
            """DELETE FROM bedrock_invocations
               WHERE request_id IN (SELECT request_id FROM _invocations WHERE request_id IS NOT NULL)"""
        )
        select = columns.replace("request_metadata", "request_metadata::JSON AS request_metadata")
        con.execute(
            f"""INSERT INTO bedrock_invocations ({columns}, source)
                SELECT {select}, ? FROM (
                    SELECT *, row_number() OVER (PARTITION BY coalesce(request_id, '#' || ordinal)
                                                 ORDER BY ordinal) AS copy
                    FROM (SELECT *, row_number() OVER () AS ordinal FROM _invocations))
                WHERE copy = 1""",
            [source],
        )
    finally:
        con.unregister("_invocations")
    (count,) = con.execute("SELECT count(*) FROM bedrock_invocations WHERE source = ?", [source]).fetchone() or (0,)
    return int(count)


def load_invocation_logs(con: duckdb.DuckDBPyConnection, path: Path, source: str | None = None) -> dict:
    """Load a folder (or one file) of invocation logs into ``bedrock_invocations``; the caller owns the
    transaction. Rows earlier loaded from the same folder are replaced."""
    path = Path(path).expanduser()
    files = log_files(path) if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: no log files (.json.gz, .json, .jsonl) under it.",
                         "pass the folder copied from s3://BUCKET/PREFIX/AWSLogs/ACCOUNT/BedrockModelInvocationLogs/.")
    rows = InvocationRows()
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise InputError(f"{file}: cannot be read ({exc.strerror}).",
                             "check the path and its permissions.") from exc
        for record in records_in(data, str(file)):
            rows.add(record)
    if not len(rows):
        raise InputError(f"{path}: none of its {len(files)} file(s) holds a ModelInvocationLog record.",
                         "pass a folder of Bedrock model invocation logs (each record has schemaType "
                         "ModelInvocationLog).")
    source = source or f"bedrock-logs:{path.resolve()}"
    stored = replace_rows(con, rows.table(), source)
    return {"source": source, "files": len(files), "records": len(rows), "invocations": stored,
            "not_records": rows.not_records}
