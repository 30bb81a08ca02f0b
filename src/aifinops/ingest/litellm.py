"""LiteLLM spend logs (a gateway's own cost estimate per request) → rows to reconcile with the bill.

LiteLLM's proxy keeps one row per request in its ``LiteLLM_SpendLogs`` table (BerriAI/litellm
``schema.prisma``): ``request_id``, ``call_type``, ``spend`` (USD, from LiteLLM's own price map),
``prompt_tokens``, ``completion_tokens``, ``total_tokens``, ``startTime``, ``endTime``, ``model``,
``model_group``, ``custom_llm_provider``, ``user``, ``team_id``, ``end_user``, ``metadata`` (JSON, whose
``usage_object`` carries ``cache_read_input_tokens`` and ``cache_creation_input_tokens``) and ``request_tags``.
The same rows come out of its ``/spend/logs`` API (a JSON list) and of a CSV export of the table.

``prompt_tokens`` follows OpenAI's usage semantics, where cached tokens are part of the prompt: the uncached
input is ``prompt_tokens - cache_read - cache_creation`` (when the prompt is smaller than its cached parts,
the gateway reported them apart and ``prompt_tokens`` is taken as uncached input). Only Bedrock calls are kept
(``custom_llm_provider`` 'bedrock…' or a model named ``bedrock/…``); failed calls are dropped.

LiteLLM's FOCUS export (BerriAI/litellm ``integrations/focus/transformer.py``) is read too: one FOCUS row per
day, key and model with ``BilledCost``, ``ChargePeriodStart``, ``ResourceId`` (the model) and ``ProviderName``
(the provider); it carries no token counts, so its rows reconcile per model and day without naming a token class.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from aifinops.errors import InputError
from aifinops.ingest.files import text_head

GATEWAY_SCHEMA = pa.schema([
    ("request_id", pa.string()),
    ("day", pa.date32()),
    ("model", pa.string()),          # as the gateway logged it, provider prefix removed
    ("user", pa.string()),
    ("team_id", pa.string()),
    ("spend_usd", pa.float64()),
    ("input_tokens", pa.int64()),    # uncached input
    ("output_tokens", pa.int64()),
    ("cache_read_tokens", pa.int64()),
    ("cache_write_tokens", pa.int64()),
])
_PREFIXES = ("bedrock/converse/", "bedrock/invoke/", "bedrock/", "converse/", "invoke/")
MAX_BYTES = 512 * 2**20


def _records(path: Path) -> list[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}).", "check the path and its permissions.") from exc
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES // 2**20} MiB.", "split the export by date.")
    text = raw.decode("utf-8-sig", errors="replace")
    head = text.lstrip()[:1]
    try:
        if head == "[":
            data = json.loads(text)
            return [r for r in data if isinstance(r, dict)]
        if head == "{":
            first = json.loads(text) if "\n" not in text.strip() else None
            if isinstance(first, dict) and isinstance(first.get("data"), list):  # a paged API answer
                return [r for r in first["data"] if isinstance(r, dict)]
            return [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON at line {exc.lineno} ({exc.msg}).",
                         "pass the /spend/logs answer or a CSV export of LiteLLM_SpendLogs.") from exc
    return list(csv.DictReader(io.StringIO(text)))


def _tokens(value: Any, problem: str) -> int:
    """A row's token count: empty reads as 0; text that is not a number, NaN and infinities are refused
    (``problem`` names the row and field), as a spend is (_finite_usd), instead of counting as no tokens."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    try:
        count = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{problem} {value!r}, which is not a number.",
                         "write token counts as plain whole numbers (1200, not 1,200) or re-export the spend logs, "
                         "then ingest the file again; nothing was stored.") from None
    if not math.isfinite(count):
        raise InputError(f"{problem} {value!r}.", "re-export the spend logs (a token count is a finite number), "
                         "then ingest the file again; nothing was stored.")
    return int(count)


def _metadata(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _day(value: Any) -> Any:
    if value in (None, ""):
        return None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (ts.astimezone(UTC) if ts.tzinfo else ts).date()


def is_bedrock(row: dict[str, Any]) -> bool:
    provider = str(row.get("custom_llm_provider") or "").lower()
    model = str(row.get("model") or "").lower()
    return provider.startswith("bedrock") or model.startswith("bedrock/")


def _model_id(value: Any) -> str:
    """The model id LiteLLM names, without its route prefix ('bedrock/converse/…', 'invoke/…')."""
    model = str(value or "")
    for prefix in _PREFIXES:
        if model.lower().startswith(prefix):
            return model[len(prefix):]
    return model


def _finite_usd(value: Any, problem: str) -> float:
    """A row's dollar amount: empty reads as 0.0; text that is not a number, NaN and infinities are refused
    (``problem`` names the row and field)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0.0
    try:
        usd = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{problem} {value!r}, which is not a number.",
                         "write the amount as a plain number with a dot for decimals (12.3, not 12,3) or "
                         "re-export the spend logs, then ingest the file again; nothing was stored.") from None
    if not math.isfinite(usd):
        raise InputError(f"{problem} {value!r}.", "re-export the spend logs; an amount must be a finite number.")
    return usd


def _converted(path: Path, records: list[dict[str, Any]],
               convert: Callable[[dict[str, Any]], dict[str, Any] | None]) -> list[dict[str, Any]]:
    """``convert`` over the records, dated rows only; a refused row's error names the file and the record."""
    rows = []
    for number, record in enumerate(records, 1):
        try:
            row = convert(record)
        except InputError as exc:
            raise InputError(f"{path}: record {number}: {exc.problem}", exc.fix) from None
        if row is not None and row["day"] is not None:
            rows.append(row)
    return rows


def gateway_row(row: dict[str, Any]) -> dict[str, Any] | None:
    """One spend-log row as GATEWAY_SCHEMA, None for a failed call or another provider's."""
    if not is_bedrock(row) or str(row.get("status") or "success").lower() not in ("success", ""):
        return None
    meta = _metadata(row.get("metadata"))
    found = meta.get("usage_object")
    usage: dict[str, Any] = found if isinstance(found, dict) else {}
    where = f"LiteLLM spend log row {row.get('request_id')!r} has"
    cache_read = _tokens(row.get("cache_read_input_tokens") or usage.get("cache_read_input_tokens"),
                         f"{where} cache_read_input_tokens")
    cache_write = _tokens(row.get("cache_creation_input_tokens") or usage.get("cache_creation_input_tokens"),
                          f"{where} cache_creation_input_tokens")
    prompt = _tokens(row.get("prompt_tokens"), f"{where} prompt_tokens")
    uncached = prompt - cache_read - cache_write if prompt >= cache_read + cache_write else prompt
    model = _model_id(row.get("model"))
    spend = _finite_usd(row.get("spend"), f"{where} spend")
    return {
        "request_id": str(row.get("request_id") or "") or None,
        "day": _day(row.get("startTime") or row.get("start_time")),
        "model": model or None,
        "user": str(row.get("user") or row.get("end_user") or "") or None,
        "team_id": str(row.get("team_id") or "") or None,
        "spend_usd": spend,
        "input_tokens": uncached,
        "output_tokens": _tokens(row.get("completion_tokens"), f"{where} completion_tokens"),
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
    }


def focus_row(row: dict[str, Any]) -> dict[str, Any] | None:
    """One row of LiteLLM's FOCUS export as GATEWAY_SCHEMA (no token counts), None for another provider's."""
    provider = str(row.get("ProviderName") or row.get("InvoiceIssuerName") or "").lower()
    if not provider.startswith("bedrock"):
        return None
    spend = _finite_usd(row.get("BilledCost"), "LiteLLM FOCUS row has BilledCost")
    model = _model_id(row.get("ResourceId") or row.get("ChargeDescription"))
    return {"request_id": None, "day": _day(row.get("ChargePeriodStart")), "model": model or None,
            "user": str(row.get("BillingAccountName") or "") or None, "team_id": str(row.get("SubAccountId") or "")
            or None, "spend_usd": spend, "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
            "cache_write_tokens": 0}


def read_spend_logs(path: str | Path) -> pa.Table:
    """The Bedrock rows of a LiteLLM spend-log export (JSON list, JSON lines, paged API answer or CSV), or of its
    FOCUS export (CSV or JSON)."""
    path = Path(path).expanduser()
    records = _records(path)
    if records and all("BilledCost" in r and "ChargePeriodStart" in r for r in records[:50]):
        focus = _converted(path, records, focus_row)
        if not focus:
            raise InputError(f"{path}: no Bedrock row in {len(records)} FOCUS row(s) (ProviderName bedrock…).",
                             "pass the FOCUS export of a LiteLLM proxy that routes to Bedrock.")
        return pa.Table.from_pylist(focus, schema=GATEWAY_SCHEMA)
    if records and not any("spend" in r and ("startTime" in r or "start_time" in r) for r in records[:50]):
        raise InputError(f"{path}: no spend and startTime fields: not a LiteLLM spend-log export.",
                         "export LiteLLM_SpendLogs (or save GET /spend/logs) and pass that file.")
    rows = _converted(path, records, gateway_row)
    if not rows:
        raise InputError(f"{path}: no successful Bedrock request in {len(records)} spend-log row(s).",
                         "pass the spend logs of a LiteLLM proxy that routes to Bedrock.")
    seen: set[str] = set()
    unique = []
    for r in rows:  # a request id once (an export and an API page may overlap)
        if r["request_id"] and r["request_id"] in seen:
            continue
        if r["request_id"]:
            seen.add(r["request_id"])
        unique.append(r)
    return pa.Table.from_pylist(unique, schema=GATEWAY_SCHEMA)


# ------------------------------------------------------------------------------------------------- into the store

SPEND_LOG_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".json.gz", ".jsonl.gz", ".csv.gz")


def is_spend_log_file(path: Path) -> bool:
    """A LiteLLM spend-log export (not its FOCUS export, which reads as a FOCUS bill): a JSON or CSV file whose
    first rows carry ``request_id``, ``spend`` and ``startTime``."""
    if not path.is_file() or not path.name.lower().endswith(SPEND_LOG_SUFFIXES):
        return False
    sample = text_head(path)
    if sample is None:
        return False
    if sample.lstrip()[:1] in ("[", "{"):
        return ('"request_id"' in sample and '"spend"' in sample and ('"startTime"' in sample or '"start_time"'
                in sample) and '"schemaType"' not in sample)
    header = next(csv.reader(io.StringIO(sample.split("\n", 1)[0])), [])
    return {"request_id", "spend"} <= set(header) and bool({"startTime", "start_time"} & set(header))


def spend_log_files(path: Path) -> list[Path]:
    """The spend-log exports ``path`` names: itself when it is one; for a folder, its files when every one of them
    is one (what `aifinops demo --out` writes under gateway/); else none."""
    if path.is_dir():
        files = sorted(f for f in path.rglob("*") if f.is_file() and not f.name.startswith((".", "_")))
        return files if files and all(is_spend_log_file(f) for f in files) else []
    return [path] if is_spend_log_file(path) else []


def load_spend_logs(con: Any, path: Path, source: str | None = None) -> dict[str, Any]:
    """Load a LiteLLM spend-log export into ``gateway_requests``; the caller owns the transaction. Rows loaded
    earlier from the same file, and rows of the same request ids (an export and an API page overlap), are
    replaced."""
    path = Path(path).expanduser()
    table = read_spend_logs(path)
    if not any(table.column("request_id").to_pylist()):  # LiteLLM's FOCUS export: per day and key, no requests
        raise InputError(f"{path}: LiteLLM's FOCUS export holds no request to store.",
                         "ingest the spend logs (LiteLLM_SpendLogs); reconcile a FOCUS export with "
                         "`aifinops genai reconcile FILE`.")
    source = source or f"litellm:{path.resolve()}"
    # a statement run to its end first: duckdb 2 refuses register() while a result is partly fetched
    con.execute("DELETE FROM gateway_requests WHERE source = ?", [source])
    con.register("litellm_new", table)
    try:
        con.execute("DELETE FROM gateway_requests WHERE request_id IN "
                    "(SELECT request_id FROM litellm_new WHERE request_id IS NOT NULL)")
        con.execute("INSERT INTO gateway_requests (request_id, day, model, user_id, team_id, spend_usd, input_tokens, "
                    "output_tokens, cache_read_tokens, cache_write_tokens, source) SELECT request_id, day, model, "
                    '"user", team_id, spend_usd, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, ? '
                    "FROM litellm_new", [source])
    finally:
        con.unregister("litellm_new")
    days = [d for d in table.column("day").to_pylist() if d is not None]
    return {"source": source, "requests": table.num_rows, "spend_usd": round(sum(table.column("spend_usd")
            .to_pylist()), 2), "first_day": min(days).isoformat(), "last_day": max(days).isoformat()}
