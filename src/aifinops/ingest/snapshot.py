"""Load a snapshot folder into the store's ``resources``, ``metrics``, ``metrics_coverage`` and
``bedrock_invocations`` tables.

A snapshot folder (written by the demo account, or by ``collect``) holds:

- ``resources.jsonl``: one JSON object a line with ``account_id``, ``region``, ``resource_type``,
  ``resource_id``, ``name``, ``attributes`` (an object: the AWS API response) and optionally
  ``collected_at`` (ISO-8601, UTC). Blank lines are skipped.
- ``metrics.parquet``: CloudWatch datapoints with the ``metrics`` table's columns (``account_id, region,
  namespace, metric_name, dimensions`` map<string,string>, ``ts`` timestamp UTC, ``period_s, statistic,
  value, unit``); a ``source`` column, if present, is ignored.
- ``metrics_coverage.parquet`` (optional): one row per series collect asked for (``metrics_columns.COVERAGE_SCHEMA``).
- ``bedrock_invocations.parquet`` (optional): model invocation log rows (``bedrock_logs.INVOCATIONS_SCHEMA``).
- ``manifest.json`` (optional): ``{"schema": "aifinops.snapshot/1", ...}``; only the schema is checked.

Rows are tagged with the caller's ``source``; earlier rows of that source are replaced. The caller owns
the transaction (``Store.transaction()``), so a bad file leaves the store as it was.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from aifinops.errors import InputError
from aifinops.ingest.bedrock_logs import INVOCATIONS_SCHEMA, replace_rows
from aifinops.ingest.metrics_columns import COVERAGE_SCHEMA, METRICS_SCHEMA
from aifinops.store import one_row

SNAPSHOT_SCHEMAS = {"aifinops.snapshot/1"}
RESOURCE_FIELDS = ["account_id", "region", "resource_type", "resource_id", "name", "attributes"]
METRIC_COLUMNS = METRICS_SCHEMA.names
_RESOURCES_SCHEMA = pa.schema(
    [(name, pa.string()) for name in RESOURCE_FIELDS] + [("collected_at", pa.timestamp("us"))]
)


def load_snapshot(con: duckdb.DuckDBPyConnection, snapshot_dir: Path, source: str) -> dict:
    """Replace the ``source`` rows of ``resources`` and ``metrics`` with the snapshot's; return counts."""
    folder = Path(snapshot_dir)
    if not folder.is_dir():
        raise InputError(
            f"The snapshot folder {folder} does not exist.",
            "pass the folder that holds resources.jsonl and metrics.parquet.",
        )
    _check_manifest(folder / "manifest.json")
    resources = _read_resources(folder / "resources.jsonl")
    metrics_path = folder / "metrics.parquet"
    ts_sql = _check_metrics(metrics_path)
    con.execute("DELETE FROM resources WHERE source = ?", [source])
    con.execute("DELETE FROM metrics WHERE source = ?", [source])
    con.register("_snapshot_resources", resources)
    try:
        con.execute(
            """INSERT INTO resources
               SELECT account_id, region, resource_type, resource_id, name, attributes::JSON, collected_at, ?
               FROM _snapshot_resources""",
            [source],
        )
    finally:
        con.unregister("_snapshot_resources")
    columns = ", ".join(METRIC_COLUMNS)
    select = columns.replace("ts,", f"{ts_sql} AS ts,")
    try:
        con.execute(
            f"INSERT INTO metrics ({columns}, source) SELECT {select}, ? FROM read_parquet(?)",
            [source, str(metrics_path)],
        )
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise InputError(
            f"{metrics_path} cannot be loaded as metrics: {first}.",
            f"write the columns {', '.join(METRIC_COLUMNS)} with the metrics table's types "
            "(dimensions as map<string,string>, ts as timestamp).",
        ) from exc
    (bad,) = one_row(con, "SELECT count(*) FILTER (WHERE NOT isfinite(value)) FROM metrics WHERE source = ?", [source])
    if bad:
        raise InputError(
            f"{metrics_path}: {bad} datapoint(s) have a NaN or infinite value.",
            "write finite values only (CloudWatch never returns NaN); leave a missing datapoint out.",
        )
    counts = con.execute(
        "SELECT resource_type, count(*) FROM resources WHERE source = ? GROUP BY 1 ORDER BY 1", [source]
    ).fetchall()
    (n_metrics,) = one_row(con, "SELECT count(*) FROM metrics WHERE source = ?", [source])
    loaded = {
        "source": source,
        "resources": resources.num_rows,
        "metrics": n_metrics,
        "resource_types": dict(counts),
    }
    con.execute("DELETE FROM metrics_coverage WHERE source = ?", [source])
    coverage = _optional_table(folder / "metrics_coverage.parquet", COVERAGE_SCHEMA)
    if coverage is not None:
        con.register("_snapshot_coverage", coverage)
        try:
            names = ", ".join(COVERAGE_SCHEMA.names)
            con.execute(f"INSERT INTO metrics_coverage ({names}, source) SELECT {names}, ? FROM _snapshot_coverage",
                        [source])
        finally:
            con.unregister("_snapshot_coverage")
        loaded["metric_series"] = coverage.num_rows
    invocations = _optional_table(folder / "bedrock_invocations.parquet", INVOCATIONS_SCHEMA)
    con.execute("DELETE FROM bedrock_invocations WHERE source = ?", [source])
    if invocations is not None:
        loaded["bedrock_invocations"] = replace_rows(con, invocations, source)
    return loaded


def _optional_table(path: Path, schema: pa.Schema) -> pa.Table | None:
    """A snapshot's optional Parquet file, read with ``schema``'s columns (older snapshots lack the file)."""
    if not path.exists():
        return None
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path} is not a readable Parquet file: {exc}.",
                         "write it again, or delete it (the snapshot loads without it).") from exc
    missing = [name for name in schema.names if name not in table.schema.names]
    if missing:
        raise InputError(f"{path} lacks the column(s) {', '.join(missing)}.",
                         f"write the columns {', '.join(schema.names)}, or delete the file.")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowException, ValueError) as exc:
        raise InputError(f"{path}: a column has the wrong type ({exc}).",
                         f"write the columns with the types of {path.stem}'s schema, or delete the file.") from exc


def _check_manifest(path: Path) -> None:
    if not path.exists():
        return
    if not path.is_file():
        raise InputError(f"{path} is not a regular file.", "write the manifest as a file, or delete it.")
    try:
        schema = json.loads(path.read_text(encoding="utf-8")).get("schema")
    except (ValueError, AttributeError, OSError) as exc:
        raise InputError(f"{path} is not a JSON object: {exc}.", "fix or delete the manifest file.") from exc
    if schema not in SNAPSHOT_SCHEMAS:
        raise InputError(
            f"{path} has schema {schema!r}; this aifinops reads {sorted(SNAPSHOT_SCHEMAS)}.",
            "write the snapshot again with this aifinops version.",
        )


def _read_resources(path: Path) -> pa.Table:
    if not path.is_file():
        raise InputError(
            f"The snapshot has no {path.name} ({path} is missing).",
            "write the inventory there, one JSON object a line, or pass the right folder.",
        )
    columns: dict[str, list] = {name: [] for name in _RESOURCES_SCHEMA.names}
    with open(path, encoding="utf-8", errors="strict") as fh:
        try:
            for number, text in enumerate(fh, start=1):
                if text.strip():
                    _add_resource(columns, text, path, number)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path} is not UTF-8 text: {exc}.", "write the inventory as UTF-8 JSON lines."
            ) from exc
    return pa.Table.from_pydict(columns, schema=_RESOURCES_SCHEMA)


def _add_resource(columns: dict[str, list], text: str, path: Path, number: int) -> None:
    where = f"{path} line {number}"
    try:
        obj = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise InputError(
            f"{where} is not valid JSON: {exc}.", "fix that line or write the snapshot again."
        ) from exc
    if not isinstance(obj, dict):
        raise InputError(
            f"{where} is a JSON {type(obj).__name__}, not an object.",
            f"write one object per line with the keys {', '.join(RESOURCE_FIELDS)}.",
        )
    missing = [key for key in RESOURCE_FIELDS if key not in obj]
    if missing:
        raise InputError(
            f"{where} lacks {', '.join(missing)}.", f"give every line the keys {', '.join(RESOURCE_FIELDS)}."
        )
    if not isinstance(obj["attributes"], dict):
        raise InputError(f"{where}: attributes is not a JSON object.", "store the API response object there.")
    for key in ("account_id", "region", "resource_type", "resource_id"):
        if not isinstance(obj[key], str) or not obj[key]:
            raise InputError(f"{where}: {key} must be a non-empty string.", f"fill {key} on that line.")
    collected_at = obj.get("collected_at")
    if collected_at is not None:
        try:
            collected_at = datetime.fromisoformat(str(collected_at).replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError(
                f"{where}: collected_at {collected_at!r} is not an ISO-8601 time.",
                "write it like 2024-11-30T23:30:00Z.",
            ) from exc
    for key in RESOURCE_FIELDS[:5]:
        columns[key].append(None if obj[key] is None else str(obj[key]))
    columns["attributes"].append(json.dumps(obj["attributes"], separators=(",", ":")))
    if collected_at is not None and collected_at.tzinfo is not None:
        collected_at = collected_at.astimezone(UTC).replace(tzinfo=None)
    columns["collected_at"].append(collected_at)


def _no_constant(name: str) -> float:
    raise ValueError(f"the bare constant {name} is not JSON")


def _check_metrics(path: Path) -> str:
    """Check the file's columns; return the SQL that reads ``ts`` as a UTC TIMESTAMP."""
    if not path.is_file():
        raise InputError(
            f"The snapshot has no {path.name} ({path} is missing).",
            "write the CloudWatch datapoints there (an empty file with the columns is fine).",
        )
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"{path} is not a readable Parquet file: {exc}.",
            "write it again; a partial copy or another format cannot be read.",
        ) from exc
    missing = [name for name in METRIC_COLUMNS if name not in schema.names]
    if missing:
        raise InputError(
            f"{path} lacks the column(s) {', '.join(missing)}.",
            f"write the columns {', '.join(METRIC_COLUMNS)}.",
        )
    if not pa.types.is_map(schema.field("dimensions").type):
        raise InputError(
            f"{path}: dimensions is {schema.field('dimensions').type}, not a map.",
            "write dimensions as map<string,string> (CloudWatch Name -> Value).",
        )
    ts_type = schema.field("ts").type
    if pa.types.is_timestamp(ts_type) and ts_type.tz is not None:
        return "timezone('UTC', ts)"  # a zoned timestamp: keep the UTC wall time
    return "ts"
