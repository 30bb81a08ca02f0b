"""The DuckDB store: schema, connections and ingest bookkeeping.

One file holds everything (docs/design.md "The store"). Only inputs write it; analysis reads it.
Many readers, one writer: a writer works on a copy of the file and swaps it in atomically when it is done
(``Store.connect``), so a dashboard or an MCP server keeps answering from the store as it was while an
ingest runs, and sees the new one on its next request. Every write that may change the rollup also rebuilds
the small summary tables (``refresh_summaries``) that answer the common cost questions without reading the whole
rollup; bookkeeping writes (scan history, finding states) keep them (``Store.connect`` ``usage=False``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from glob import escape as glob_escape
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from aifinops import duck
from aifinops.config import default_store_path
from aifinops.errors import StoreError
from aifinops.sums import DUCKDB_SUM, exact_sum

SCHEMA_VERSION = 5  # 2: provider (multi-provider FOCUS files keep every row) and product_family;
# 3: bedrock_invocations (model invocation logs) and metrics_coverage (per-series GetMetricData coverage)
# 4: scan_runs, finding_history and finding_states (savings tracking, decisions on findings)
# 5: gateway_requests (a LLM gateway's own per-request cost: LiteLLM spend logs)

# The normalized line-item columns every loader produces, in FOCUS-aligned names.
# Costs keep full precision (DOUBLE, as in CUR 2.0 and AWS FOCUS exports).
CHARGE_COLUMNS: list[tuple[str, str]] = [
    ("billing_period", "DATE"),  # first day of the billing month (a period is [start, end))
    ("charge_period_start", "TIMESTAMP"),
    ("charge_period_end", "TIMESTAMP"),
    ("billing_account_id", "VARCHAR"),  # payer
    ("sub_account_id", "VARCHAR"),  # usage (linked) account
    ("region_id", "VARCHAR"),
    ("availability_zone", "VARCHAR"),
    ("service_code", "VARCHAR"),  # CUR line_item_product_code / FOCUS x_ServiceCode
    ("service_name", "VARCHAR"),  # human name; Marketplace rows "… (Amazon Bedrock Edition)"
    ("billing_entity", "VARCHAR"),  # 'AWS' | 'AWS Marketplace'
    ("usage_type", "VARCHAR"),
    ("operation", "VARCHAR"),
    ("resource_id", "VARCHAR"),
    ("line_item_type", "VARCHAR"),  # CUR line_item_line_item_type (FOCUS: derived)
    ("charge_category", "VARCHAR"),  # FOCUS ChargeCategory
    ("pricing_term", "VARCHAR"),  # OnDemand | Spot | Reserved | …
    ("pricing_category", "VARCHAR"),  # FOCUS PricingCategory
    ("commitment_discount_id", "VARCHAR"),
    ("commitment_discount_type", "VARCHAR"),
    ("instance_type", "VARCHAR"),
    ("product_family", "VARCHAR"),
    ("usage_quantity", "DOUBLE"),
    ("pricing_unit", "VARCHAR"),
    ("list_cost", "DOUBLE"),
    ("billed_cost", "DOUBLE"),
    ("effective_cost", "DOUBLE"),
    ("currency", "VARCHAR"),
    ("description", "VARCHAR"),
    ("tags", "MAP(VARCHAR, VARCHAR)"),  # tag keys without the 'user:' prefix
    ("source_format", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("provider", "VARCHAR"),  # 'AWS', or the FOCUS ProviderName of another cloud's rows in the same file
]
CHARGE_COLUMN_NAMES = [name for name, _ in CHARGE_COLUMNS]

# One row per day x account x region x service x usage type x resource x pricing category
# (plus the columns that follow from those), with the AI taxonomy. Built by rollup.py.
USAGE_DAILY_COLUMNS: list[tuple[str, str]] = [
    ("billing_period", "DATE"),
    ("usage_date", "DATE"),
    ("billing_account_id", "VARCHAR"),
    ("account_id", "VARCHAR"),
    ("region", "VARCHAR"),
    ("service_code", "VARCHAR"),
    ("service_name", "VARCHAR"),
    ("billing_entity", "VARCHAR"),
    ("usage_type", "VARCHAR"),
    ("operation", "VARCHAR"),
    ("resource_id", "VARCHAR"),
    ("line_item_type", "VARCHAR"),
    ("charge_category", "VARCHAR"),
    ("pricing_term", "VARCHAR"),
    ("pricing_category", "VARCHAR"),
    ("product_instance_type", "VARCHAR"),
    ("pricing_unit", "VARCHAR"),
    ("currency", "VARCHAR"),
    ("tags", "VARCHAR"),  # JSON object of the row's tags, '{}' when none
    ("usage_quantity", "DOUBLE"),
    ("list_cost", "DOUBLE"),
    ("billed_cost", "DOUBLE"),
    ("effective_cost", "DOUBLE"),
    ("line_items", "BIGINT"),
    # AI taxonomy (taxonomy.py)
    ("ai_service", "VARCHAR"),
    ("workload", "VARCHAR"),
    ("component", "VARCHAR"),
    ("instance_type", "VARCHAR"),
    ("instance_family", "VARCHAR"),
    ("accelerated", "BOOLEAN"),
    ("purchase_option", "VARCHAR"),
    ("model", "VARCHAR"),
    ("token_kind", "VARCHAR"),
    ("inference_tier", "VARCHAR"),
    ("cross_region", "BOOLEAN"),
    ("is_ai", "BOOLEAN"),
    ("ai_reason", "VARCHAR"),  # why the row counts as AI (service, tag, bucket rule, inventory)
    ("provider", "VARCHAR"),  # 'AWS' | another provider of a FOCUS file ('Microsoft', 'Oracle', …)
    ("product_family", "VARCHAR"),  # CUR product family; FOCUS ServiceCategory ('AI and Machine Learning', …)
]
# Columns added after schema version 1, with the version that added them (appended, so old and new stores
# keep one column order).
_ADDED_COLUMNS = {
    2: [("charges_native", "provider", "VARCHAR"), ("usage_daily", "provider", "VARCHAR"),
        ("usage_daily", "product_family", "VARCHAR")],
}
USAGE_DAILY_COLUMN_NAMES = [name for name, _ in USAGE_DAILY_COLUMNS]


def _columns_sql(columns: list[tuple[str, str]]) -> str:
    return ",\n  ".join(f"{name} {kind}" for name, kind in columns)


SCHEMA_SQL = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS charges_native (
  {_columns_sql(CHARGE_COLUMNS)}
);
CREATE TABLE IF NOT EXISTS sources (
  source_id VARCHAR,          -- one row per (input files, billing period)
  ingest_id VARCHAR,
  format VARCHAR,             -- cur2 | cur-legacy | focus
  storage VARCHAR,            -- 'native' (copied into charges_native) | 'in-place' (Parquet read where it lies)
  paths VARCHAR[],
  billing_period DATE,
  rows BIGINT,
  billed_cost DOUBLE,
  active BOOLEAN,             -- false once a later ingest of the same period supersedes it
  ingested_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS ingests (
  ingest_id VARCHAR PRIMARY KEY,
  started_at TIMESTAMP,
  finished_at TIMESTAMP,
  format VARCHAR,
  paths VARCHAR[],
  billing_periods DATE[],
  rows BIGINT,
  billed_cost DOUBLE,
  note VARCHAR
);
CREATE TABLE IF NOT EXISTS usage_daily (
  {_columns_sql(USAGE_DAILY_COLUMNS)}
);
CREATE TABLE IF NOT EXISTS resources (
  account_id VARCHAR,
  region VARCHAR,
  resource_type VARCHAR,      -- sagemaker-endpoint | sagemaker-notebook | training-job | s3-bucket | …
  resource_id VARCHAR,        -- ARN where one exists, else a stable key
  name VARCHAR,
  attributes JSON,            -- the API response, credentials never included
  collected_at TIMESTAMP,
  source VARCHAR              -- demo | aws | snapshot
);
CREATE TABLE IF NOT EXISTS metrics (
  account_id VARCHAR,
  region VARCHAR,
  namespace VARCHAR,
  metric_name VARCHAR,
  dimensions MAP(VARCHAR, VARCHAR),
  ts TIMESTAMP,
  period_s INTEGER,
  statistic VARCHAR,
  value DOUBLE,
  unit VARCHAR,
  source VARCHAR
);
-- One row per CloudWatch series collect asked for: how much of [window_start, window_end) came back. A series
-- with status 'complete' and no datapoint means CloudWatch had nothing to count (a count metric's silence); any
-- other status means the datapoints are incomplete and a check must say so (docs/aws.md "Metrics coverage").
CREATE TABLE IF NOT EXISTS metrics_coverage (
  account_id VARCHAR,
  region VARCHAR,
  namespace VARCHAR,
  metric_name VARCHAR,
  dimensions MAP(VARCHAR, VARCHAR),
  statistic VARCHAR,
  period_s INTEGER,
  window_start TIMESTAMP,     -- UTC, inclusive
  window_end TIMESTAMP,       -- UTC, exclusive
  expected_periods INTEGER,   -- (window_end - window_start) / period_s
  received_periods INTEGER,   -- datapoints returned (a count metric returns none where nothing was counted)
  status VARCHAR,             -- complete | partial (pages left unread) | error | timeout (time budget spent)
  detail VARCHAR,             -- why, when not complete (redacted AWS message)
  source VARCHAR
);
-- Per SageMaker endpoint variant and collect: do its instance metrics arrive, and was Invocations read in full?
-- silence_means_zero_invocations: no Invocations datapoint in a completely read window while the endpoint's own
-- instance metrics (CPU, memory, GPU) have datapoints: the endpoint served no request (not "no data").
CREATE OR REPLACE VIEW endpoint_metric_presence AS
SELECT *, coalesce(instance_metrics_seen AND invocations_complete AND invocation_periods = 0, false)
          AS silence_means_zero_invocations
FROM (
  SELECT account_id, region, dimensions['EndpointName'] AS endpoint_name, dimensions['VariantName'] AS variant_name,
         source, min(window_start) AS window_start, max(window_end) AS window_end,
         coalesce(bool_or(namespace = '/aws/sagemaker/Endpoints' AND received_periods > 0), false)
           AS instance_metrics_seen,
         coalesce(max(received_periods) FILTER (WHERE namespace = '/aws/sagemaker/Endpoints'), 0)
           AS instance_metric_periods,   -- the most datapoints any instance metric returned
         max(received_periods) FILTER (WHERE metric_name = 'Invocations') AS invocation_periods,
         bool_and(status = 'complete') FILTER (WHERE metric_name = 'Invocations') AS invocations_complete,
         bool_and(status = 'complete') AS all_series_complete
  FROM metrics_coverage
  WHERE namespace IN ('AWS/SageMaker', '/aws/sagemaker/Endpoints') AND dimensions['EndpointName'] IS NOT NULL
  GROUP BY ALL
);
-- One row per Bedrock model invocation log record (schemaType ModelInvocationLog). No prompt or completion text:
-- prompt_prefix_sha256 hashes the leading characters of input.inputBodyJson's prompt (docs/aws.md).
CREATE TABLE IF NOT EXISTS bedrock_invocations (
  request_id VARCHAR,
  ts TIMESTAMP,               -- the record's timestamp, UTC
  account_id VARCHAR,
  region VARCHAR,
  model_id VARCHAR,           -- as logged: a model id, or an inference profile id/ARN
  operation VARCHAR,          -- InvokeModel | InvokeModelWithResponseStream | Converse | ConverseStream | …
  input_tokens BIGINT,
  output_tokens BIGINT,
  cache_read_tokens BIGINT,
  cache_write_tokens BIGINT,
  identity_arn VARCHAR,
  inference_profile_arn VARCHAR,  -- model_id when it names an inference profile, else NULL
  request_metadata JSON,      -- the caller's requestMetadata tags, redacted
  source VARCHAR,             -- 'aws' (collect), 'demo', or 'bedrock-logs:<folder>' (ingest of a log folder)
  inference_region VARCHAR,   -- where a cross-Region profile ran the request
  status VARCHAR,             -- the record's status / errorCode when the call failed, else NULL
  latency_tier VARCHAR,       -- performanceConfig.latency (standard | optimized)
  prompt_chars BIGINT,        -- length of the prompt text found in inputBodyJson (NULL when text is not logged)
  prompt_prefix_chars INTEGER,  -- how many leading characters the hash covers (min(prompt_chars, the cap))
  prompt_prefix_sha256 VARCHAR  -- SHA-256 of those characters: equal hashes = a repeated prefix
);
-- One row per request a LLM gateway logged with its own cost estimate (LiteLLM spend logs, ingest.litellm).
CREATE TABLE IF NOT EXISTS gateway_requests (
  request_id VARCHAR,
  day DATE,                   -- the request's start, UTC
  model VARCHAR,              -- as the gateway logged it, provider prefix removed
  user_id VARCHAR,            -- LiteLLM user (or end_user)
  team_id VARCHAR,
  spend_usd DOUBLE,           -- the gateway's estimate, from its own price table
  input_tokens BIGINT,        -- uncached input
  output_tokens BIGINT,
  cache_read_tokens BIGINT,
  cache_write_tokens BIGINT,
  source VARCHAR              -- 'demo', or 'litellm:<file>' (ingest of a spend-log export)
);
CREATE TABLE IF NOT EXISTS scan_runs (
  run_id VARCHAR PRIMARY KEY, -- one row per recorded scan (aifinops.history.record_scan)
  run_at TIMESTAMP,           -- wall clock, UTC
  as_of DATE,                 -- the last day of usage data the checks read
  period_start DATE,
  period_end DATE,            -- exclusive
  source_kind VARCHAR,
  findings INTEGER,
  total_monthly_usd DOUBLE    -- deduplicated savings of the run
);
CREATE TABLE IF NOT EXISTS finding_history (
  run_id VARCHAR,
  finding_id VARCHAR,         -- stable across scans: check + resource
  check_id VARCHAR,
  resource_id VARCHAR,
  resource_type VARCHAR,
  owner VARCHAR,              -- the resource's team/owner tag when the scan ran; NULL when none
  monthly_cost_usd DOUBLE,
  monthly_savings_usd DOUBLE,
  confidence VARCHAR,
  finding JSON                -- the whole finding as the scan reported it
);
CREATE TABLE IF NOT EXISTS finding_states (
  finding_id VARCHAR PRIMARY KEY,
  state VARCHAR,              -- accepted | dismissed | snoozed
  reason VARCHAR,
  until DATE,                 -- snoozed: hidden while the data's as-of date is before it
  updated_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS prices (
  service_code VARCHAR,
  region VARCHAR,
  usage_type VARCHAR,
  attributes JSON,
  unit VARCHAR,
  usd_per_unit DOUBLE,
  source VARCHAR,
  fetched_at DATE
);
"""


class Store:
    """A handle on one DuckDB store file: many readers, one writer at a time, neither waiting on the other.

    A writer never writes the file readers read: it copies the store to a temporary file beside it, writes
    there, rebuilds the summary tables (unless the write leaves usage_daily alone), and swaps the result in with
    one atomic ``os.replace``. Readers open read-only per request and see the store as it was before the swap or
    as it is after it, never half of a write (a write in place could not give that: duckdb refuses to open the
    file for writing while any reader holds it, and a reader opening during the write would have to wait).
    Writers queue on a lock file (``<store>.lock``) so no write is lost.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path).expanduser() if path else default_store_path()

    @contextmanager
    def connect(
        self, read_only: bool = False, wait_s: float = 30.0, usage: bool = True
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the store; create and migrate it when opened for writing.

        Read-only connections (every command that only reads) work on a file this process cannot
        write, and any number of them can be open at once, in this process and others, while a writer works.
        A write connection lands all of its changes when the block ends normally, and none of them otherwise.
        ``usage=False`` declares a bookkeeping write that leaves ``usage_daily`` alone (scan history, finding
        states, meta): the summary tables are kept instead of rebuilt, unless usage_daily's fingerprint
        (``usage_fingerprint``) shows the block changed it after all.
        """
        self._check_path(read_only)
        if not read_only:
            with self._write(wait_s, usage) as con:
                yield con
            return
        con = _open_reader(self.path, wait_s)
        try:
            version = _stored_version(con, self.path)
            if version is not None and version < SCHEMA_VERSION:
                con.close()  # written by an older aifinops: upgrade once (added columns), then read
                with self.connect(wait_s=wait_s):
                    pass
                con = _open_reader(self.path, wait_s)
                version = _stored_version(con, self.path)
            if version != SCHEMA_VERSION:
                raise StoreError(f"The store {self.path} has an unknown schema version.",
                                 "re-ingest into a new store with --store PATH.")
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self, usage: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection inside one transaction: all of it lands, or none of it. ``usage=False``: the block
        leaves usage_daily alone (Store.connect)."""
        with self.connect(usage=usage) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def file_version(self) -> tuple[int, int, int]:
        """The store file's identity now (inode, modification time, size): a writer's swap changes it, so a
        server keeps a reader, and answers, per version (``shared_reader``)."""
        info = self.path.stat()
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    @contextmanager
    def shared_reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on a read-only connection this process keeps open while the store file stays the same.

        For servers that answer many requests: the connection is opened once per version of the file (its
        inode, modification time and size) and each call gets its own cursor, so calls may run in parallel
        threads. After a writer swaps a new file in, the next call opens that one; calls already running
        finish on the file they started with.
        """
        self._check_path(read_only=True)
        version = self.file_version()
        with _SHARED_LOCK:
            held = _SHARED.get(self.path)
            if held is None or held[0] != version:
                with self.connect(read_only=True):  # checks (and upgrades) the schema version once
                    pass
                held = (version, _open_reader(self.path, 30.0))
                _SHARED[self.path] = held  # the one it replaces closes when its last cursor is done
            cursor = held[1].cursor()
        try:
            cursor.execute("USE store")
            yield cursor
        finally:
            cursor.close()

    @property
    def lock_path(self) -> Path:
        """The file writers queue on (kept beside the store; it holds no data)."""
        return self.path.with_name(self.path.name + ".lock")

    def _check_path(self, read_only: bool) -> None:
        if self.path.is_dir():
            raise StoreError(
                f"The store path {self.path} is a folder, not a store file.",
                f"pass --store {self.path / 'aifinops.duckdb'} (a file path; it is created on first ingest).",
            )
        if read_only and not self.path.exists():
            raise StoreError(
                f"No store at {self.path}.",
                "run `aifinops ingest PATH` or `aifinops scan` first, or pass --store PATH.",
            )

    @contextmanager
    def _write(self, wait_s: float, usage: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """Copy the store, yield a connection on the copy, swap it in when the block ends normally.

        The summary tables are rebuilt at the end of a write that may change usage_daily (``usage``), and of
        one that said it would not but whose usage_daily fingerprint moved; a block that rebuilt them itself
        (``freshen_summaries``) keeps them unless usage_daily moved after that."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the store folder {self.path.parent}: {exc}.",
                             "pass --store PATH in a writable folder.") from exc
        with _writer_lock(self.lock_path, self.path, wait_s):
            if self.path.exists() and not os.access(self.path, os.W_OK):
                raise _cannot_write(self.path)
            _checkpoint_wal(self.path, wait_s)
            # Holding the lock, no other writer is at work: a working copy still here is a killed writer's.
            for stale in self.path.parent.glob(f".{glob_escape(self.path.name)}.*.writing*"):
                _remove(stale)
            work = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.writing")
            try:
                if self.path.exists():
                    shutil.copyfile(self.path, work)
                    shutil.copymode(self.path, work)
                con = _open_with_retry(work, False, wait_s, shown=self.path)
                try:
                    # DuckDB takes up to 80% of the machine's memory by default; a writer spills to ``<work>.tmp``
                    # past this instead, so an ingest of many resources keeps the process near a fixed size
                    con.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
                    _ensure_schema(con, self.path)
                    before = None if usage else usage_fingerprint(con)
                    if usage:
                        drop_summaries(con)  # while the block writes, questions read usage_daily itself
                    yield con
                    fresh = _fresh_fingerprint(con)  # the block rebuilt them itself (freshen_summaries)
                    if fresh is not None:
                        rebuild = repr(usage_fingerprint(con)) != fresh
                    else:
                        rebuild = usage or usage_fingerprint(con) != before
                    if rebuild or not _has_summaries(con):
                        refresh_summaries(con)
                    con.execute("CHECKPOINT")
                finally:
                    con.close()
                os.replace(work, self.path)  # the one moment the store changes, for every reader at once
                _sync_folder(self.path.parent)
            except PermissionError as exc:
                raise _cannot_write(self.path) from exc
            finally:
                for leftover in (work, work.with_name(work.name + ".wal"), work.with_name(work.name + ".tmp")):
                    _remove(leftover)


# A writer's DuckDB memory limit, so that a scan stays under 1 GB of peak RSS whatever the bill's size: past it hash
# tables and temp tables spill to disk. 800 MB kept a 10M-row, 100k-resource scan at 0.92 GB peak RSS (1.23 GB
# without a limit; bench/bench_scan.py).
WRITER_MEMORY_LIMIT = "800MB"


def _remove(path: Path) -> None:
    """Remove a writer's leftover: its working copy, log, or spill folder."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# Store.shared_reader's connections: store path -> (file version, connection)
_SHARED: dict[Path, tuple[tuple[int, int, int], duckdb.DuckDBPyConnection]] = {}
_SHARED_LOCK = threading.Lock()


def _cannot_write(path: Path) -> StoreError:
    return StoreError(
        f"Cannot write the store {path}: permission denied (commands that only read work on it).",
        "pass --store PATH in a folder you can write, or give your user write access to the file and its folder.",
    )


@contextmanager
def _writer_lock(lock_path: Path, store_path: Path, wait_s: float) -> Iterator[None]:
    """Hold the store's writer lock (an advisory ``flock`` on ``lock_path``), waiting up to ``wait_s``."""
    if getattr(_held, "paths", None) is None:
        _held.paths = set()
    if lock_path in _held.paths:
        raise RuntimeError(f"a write connection to {store_path} is already open in this thread")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError as exc:
        raise _cannot_write(store_path) from exc
    try:
        deadline = time.monotonic() + wait_s
        delay = 0.05
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"The store {store_path} is in use by another process that writes it (waited {wait_s:.0f}s).",
                        "wait for the other aifinops command (ingest, scan, collect) to finish, or pass --store PATH.",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        _held.paths.add(lock_path)
        try:
            yield
        finally:
            _held.paths.discard(lock_path)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


_held = threading.local()  # the writer locks this thread holds (a second one would wait for itself)


def _checkpoint_wal(path: Path, wait_s: float) -> None:
    """Fold a write-ahead log left beside the store (a writer of an older aifinops that stopped) into it.

    The copy a writer starts from is the main file alone, so its log must be in it first.
    """
    if path.exists() and path.with_name(path.name + ".wal").exists():
        con = _open_with_retry(path, False, wait_s)
        try:
            con.execute("CHECKPOINT")
        finally:
            con.close()


def _sync_folder(folder: Path) -> None:
    """Make the swap itself durable (the rename lives in the folder's entry)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _open_reader(path: Path, wait_s: float) -> duckdb.DuckDBPyConnection:
    """A read-only connection on the store file as it is now.

    The file is attached to a private in-memory database instead of opened by path: duckdb reuses an open
    database of the same path within a process, which would keep answering from a file a writer has since
    replaced.
    """
    return _open_with_retry(path, True, wait_s)


def _open_with_retry(
    path: Path, read_only: bool, wait_s: float, shown: Path | None = None
) -> duckdb.DuckDBPyConnection:
    shown = shown or path
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            if not read_only:
                return duck.connect(str(path))
            con = duck.connect(":memory:")
            try:
                literal = "'" + str(path).replace("'", "''") + "'"
                con.execute(f"ATTACH {literal} AS store (READ_ONLY)")
                con.execute("USE store")
            except BaseException:
                con.close()
                raise
            return con
        except duckdb.IOException as exc:
            text = str(exc)
            locked = "lock" in text.lower()
            if locked and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            if locked:
                raise StoreError(
                    f"The store {shown} is in use by another process (waited {wait_s:.0f}s).",
                    "wait for the other aifinops command to finish, or pass --store PATH.",
                ) from exc
            if "permission denied" in text.lower() or "read-only file system" in text.lower():
                if read_only:
                    raise StoreError(f"Cannot read the store {shown}: permission denied.",
                                     "give your user read access to the file, or pass --store PATH.") from exc
                raise _cannot_write(shown) from exc
            if "not a valid duckdb database" in text.lower():
                raise StoreError(f"Cannot open the store {shown}: it is not a DuckDB database.",
                                 "pass --store PATH to a new file; this one is not an aifinops store.") from exc
            raise StoreError(f"Cannot open the store {shown}: {text}.",
                             "pass --store PATH to another file; keep this one if it holds data you need.") from exc
        except duckdb.Error as exc:
            raise StoreError(f"Cannot open the store {shown}: {exc}.",
                             "pass --store PATH to a new file; this one is not a DuckDB database.") from exc


def _ensure_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.execute(SCHEMA_SQL)
    rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    row = rows[0] if rows else None
    if row is None:
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        native_charges_view(con)
    elif int(row[0]) < SCHEMA_VERSION:
        _migrate(con, int(row[0]))
    elif int(row[0]) != SCHEMA_VERSION:
        raise StoreError(
            f"The store {path} has schema version {row[0]}; this aifinops uses {SCHEMA_VERSION}.",
            "re-ingest into a new store with --store PATH.",
        )


def _migrate(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Bring a store written by an older aifinops up to SCHEMA_VERSION (added columns; tables added since are
    created by SCHEMA_SQL before this runs)."""
    for step in range(version + 1, SCHEMA_VERSION + 1):
        for table, column, kind in _ADDED_COLUMNS.get(step, []):
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
        if step == 2:
            con.execute("UPDATE usage_daily SET provider = 'AWS' WHERE provider IS NULL")
            con.execute("UPDATE charges_native SET provider = 'AWS' WHERE provider IS NULL")
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
    # The ``charges`` view keeps its old columns until the next ingest rebuilds it (ingest owns the in-place
    # sources' SQL); nothing reads it but the rollup, which every ingest runs after that rebuild.


def _stored_version(con: duckdb.DuckDBPyConnection, path: Path) -> int | None:
    try:
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.CatalogException as exc:
        raise StoreError(f"{path} is not an aifinops store.", "pass --store PATH to an aifinops store.") from exc
    return int(rows[0][0]) if rows else None


# --- summary tables ---------------------------------------------------------------------------------
# ``usage_daily`` summed over the per-resource detail, rebuilt at the end of every write that may change it, so
# questions that do not name a resource or a tag (cost by service, usage type, account, AI service, workload,
# per day or month) read a table a fraction of the rollup's size. Money keeps full precision here; answers
# round it. A question a summary cannot answer (its SQL names a column the summary lacks) reads usage_daily.

_T = TypeVar("_T")
SUMMARY_MEASURES = ("usage_quantity", "list_cost", "billed_cost", "effective_cost", "line_items")
# The AI summary keeps the day, the AI taxonomy and the pricing unit only: what the AI cost overview
# (costs.summary) and a Cost Explorer question on AI dimensions (AI_SERVICE, WORKLOAD, COMPONENT, INSTANCE_TYPE,
# MODEL, PURCHASE_TYPE, IS_AI, …) read. Without account, region and usage type it is a few thousand rows a quarter
# (6,369 days x taxonomy rows for a 10M-line CUR of three months, against 41,722 in usage_summary_daily).
AI_SUMMARY_KEYS = ("usage_date", "is_ai", "ai_service", "workload", "component", "accelerated", "instance_type",
                   "instance_family", "inference_tier", "model", "token_kind", "purchase_option", "pricing_unit")
_NOT_AI_KEYS = tuple(c for c, _ in USAGE_DAILY_COLUMNS if c not in AI_SUMMARY_KEYS and c not in SUMMARY_MEASURES)
# Smallest first: (table, columns left out, whether usage_date is the first day of its month).
# No summary keeps tags: tag sets are mostly per resource, so one would be nearly the rollup's size.
SUMMARY_TABLES: list[tuple[str, tuple[str, ...], bool]] = [
    ("usage_summary_ai_monthly", _NOT_AI_KEYS, True),
    ("usage_summary_monthly", ("resource_id", "tags"), True),
    ("usage_summary_ai_daily", _NOT_AI_KEYS, False),
    ("usage_summary_daily", ("resource_id", "tags"), False),
]
_RETIRED_SUMMARIES = ("usage_summary_tagged",)  # built by earlier versions of this code; dropped on the next write
# A summary kept as a table holds at most this share of its source's rows (estimated); past it, a view
# (refresh_summaries)
SUMMARY_KEEP_AT_MOST = 0.5


def refresh_summaries(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every summary table from ``usage_daily`` (inside the writer's copy, before it is swapped in).

    Daily tables first; a monthly one is summed from the daily table that leaves out the same columns (a
    fraction of the rollup's rows), when there is one. A summary that would keep more than SUMMARY_KEEP_AT_MOST
    of its source's rows (a bill whose rows are mostly not per resource: then leaving out the resource and the
    tags merges few of them) is a view of its source's rows instead: it answers the same sums, and writing a
    table nearly the rollup's size would cost as much as the rollup's own write for nothing."""
    drop_summaries(con)
    rows: dict[str, int] = {"usage_daily": one_row(con, "SELECT count(*) FROM usage_daily")[0]}
    daily_of: dict[tuple[str, ...], str] = {}
    for table, left_out, monthly in sorted(SUMMARY_TABLES, key=lambda t: t[2]):
        keys = [c for c in USAGE_DAILY_COLUMN_NAMES if c not in SUMMARY_MEASURES and c not in left_out]
        select = [("date_trunc('month', usage_date)::DATE AS usage_date" if monthly and c == "usage_date" else c)
                  for c in keys]
        source = daily_of.get(left_out, "usage_daily") if monthly else "usage_daily"
        key_values = ", ".join("date_trunc('month', usage_date)" if monthly and c == "usage_date" else c for c in keys)
        # the number of groups, estimated (HyperLogLog over one hash of the keys: a few percent off, a fraction of
        # the cost of grouping); the choice between a table and a view changes no answer, only where it is read
        (groups,) = one_row(con, f"SELECT approx_count_distinct(hash({key_values})) FROM {source}")
        if groups > SUMMARY_KEEP_AT_MOST * rows[source]:
            casts = [f"CAST({m} AS {'BIGINT' if m == 'line_items' else 'DOUBLE'}) AS {m}" for m in SUMMARY_MEASURES]
            con.execute(f"CREATE VIEW {table} AS SELECT {', '.join(select + casts)} FROM {source}")
            rows[table] = rows[source]
        else:
            # the same table whatever order threads add the rows in (sums.DUCKDB_SUM)
            sums = [f"sum({m})::BIGINT AS {m}" if m == "line_items" else f"{DUCKDB_SUM}({m}) AS {m}"
                    for m in SUMMARY_MEASURES]
            con.execute(f"CREATE TABLE {table} AS SELECT {', '.join(select + sums)} FROM {source} GROUP BY ALL")
            rows[table] = groups
        if not monthly:
            daily_of[left_out] = table


_FRESH_MARK = "aifinops_summaries_fresh"  # a temp table of the write's connection (never in the file)


def freshen_summaries(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the summary tables now, in the middle of a write (outside an explicit transaction), so that what the
    same write reads next (a scan's checks, store.from_smallest_table) reads them. The write's end then keeps them
    unless usage_daily's fingerprint moved after this call (Store._write): one rebuild per write."""
    refresh_summaries(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_FRESH_MARK} AS SELECT ? AS fingerprint",
                [repr(usage_fingerprint(con))])


def _fresh_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """usage_daily's fingerprint when the block last called freshen_summaries (its repr), else None."""
    marked = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?",
                         [_FRESH_MARK]).fetchall()[0][0]
    if not marked:
        return None
    return str(one_row(con, f"SELECT fingerprint FROM temp.main.{_FRESH_MARK}")[0])


def usage_fingerprint(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """A cheap sign that ``usage_daily`` changed: its row count, line-item total and money total, and the newest
    ingest. A safety net for writes that declare they leave usage_daily alone (Store.connect ``usage=False``),
    not a proof: an UPDATE of a taxonomy column keeps it, so a write that may change usage_daily says so."""
    return (*one_row(con, f"SELECT count(*), sum(line_items), {exact_sum('billed_cost')} FROM usage_daily"),
            *one_row(con, "SELECT count(*), max(finished_at) FROM ingests"))


def _has_summaries(con: duckdb.DuckDBPyConnection) -> bool:
    return {t for t, _, _ in SUMMARY_TABLES} <= set(_summary_kinds(con))


def _summary_kinds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The summary tables (current and retired) the store holds: name -> 'TABLE' or 'VIEW'."""
    names = [*(t for t, _, _ in SUMMARY_TABLES), *_RETIRED_SUMMARIES]
    marks = ", ".join("?" for _ in names)
    found = con.execute(
        "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = "
        f"'main' AND table_name IN ({marks}) UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() WHERE "
        f"database_name = current_database() AND schema_name = 'main' AND view_name IN ({marks})", [*names, *names]
    ).fetchall()
    return dict(found)


def from_smallest_table(ask: Callable[[str], _T], whole_months: bool,
                        window: tuple[date, date] | None = None) -> _T:
    """``ask(table)`` on the first summary table (store.SUMMARY_TABLES, smallest first) that can answer it, else
    on ``usage_daily``. A monthly summary answers only a question whose window is whole months
    (``whole_months``): its ``usage_date`` is the first day of each month. A summary cannot answer when the
    question names a column it lacks (duckdb's binder says so) or when the store has none yet.

    ``window`` ([start, end)) lets a question that needs no day (monthly periods, or none) whose window is not whole
    months read a monthly summary too: ``table`` is then a subquery of the monthly rows of the whole months inside
    the window and the daily rows of the days outside them (the question still bounds ``usage_date`` itself)."""
    daily_of = {left_out: table for table, left_out, monthly in SUMMARY_TABLES if not monthly}
    split = None if whole_months else window
    for table, left_out, monthly in SUMMARY_TABLES:
        if monthly and not whole_months:
            if split is None or left_out not in daily_of:
                continue
            table = _months_and_days(table, daily_of[left_out], *split)
        elif split is not None and not monthly and left_out in {lo for _, lo, m in SUMMARY_TABLES if m}:
            continue  # its rows were in the split subquery above
        try:
            return ask(table)
        except (duckdb.BinderException, duckdb.CatalogException):
            continue
    return ask("usage_daily")


def _months_and_days(monthly: str, daily: str, start: date, end: date) -> str:
    """A subquery of ``monthly``'s rows for the whole months in [start, end) and ``daily``'s for the rest."""
    first = start if start.day == 1 else date(start.year + start.month // 12, start.month % 12 + 1, 1)
    last = end.replace(day=1)
    if first >= last:
        return daily
    inside = f"usage_date >= DATE '{first.isoformat()}' AND usage_date < DATE '{last.isoformat()}'"
    return f"(SELECT * FROM {monthly} WHERE {inside} UNION ALL BY NAME SELECT * FROM {daily} WHERE NOT ({inside}))"


def drop_summaries(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the summary tables and views (a writer's copy holds none until refresh_summaries rebuilds them)."""
    for name, kind in _summary_kinds(con).items():
        con.execute(f"DROP {kind} {name}")


def usage_span(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """The first and the last usage date in ``usage_daily`` (both inclusive); (None, None) when empty."""
    first, last = one_row(con, "SELECT min(usage_date), max(usage_date) FROM usage_daily")
    return first, last


def day_span(con: duckdb.DuckDBPyConnection, table: str, day_sql: str, empty: StoreError) -> tuple[date, date]:
    """[first day, day after the last) of the dates ``day_sql`` over ``table``; raises ``empty`` when it has none.

    ``table`` and ``day_sql`` are the caller's SQL, never text from a user.
    """
    first, last = one_row(con, f"SELECT min({day_sql}), max({day_sql}) FROM {table}")
    if first is None:
        raise empty
    return first, last + timedelta(days=1)


def native_charges_view(con: duckdb.DuckDBPyConnection) -> None:
    """The ``charges`` view over the copied rows alone: what a store without in-place sources holds.

    ingest.registry.ensure_charges_view adds the Parquet sources read in place (the loaders own their SQL).
    """
    con.execute(f"CREATE OR REPLACE VIEW charges AS SELECT {', '.join(CHARGE_COLUMN_NAMES)} FROM charges_native")


# Tables that hold an account's data (the demo's or a real one), as opposed to the store's own bookkeeping.
DATA_TABLES = ("charges_native", "sources", "ingests", "usage_daily", "resources", "metrics", "metrics_coverage",
               "bedrock_invocations", "gateway_requests",
               "scan_runs", "finding_history", "finding_states")  # the demo's findings and decisions go with it
_SOURCED_TABLES = ("resources", "metrics", "metrics_coverage", "bedrock_invocations",  # rows tagged with a source
                   "gateway_requests")
DEMO_LOADING = "loading:"  # meta demo_version prefix while a demo load is under way


def demo_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The demo account's version when the store holds the demo (meta ``demo_version``), else None."""
    rows = con.execute("SELECT value FROM meta WHERE key = 'demo_version'").fetchall()
    return rows[0][0] if rows else None


def clear_demo(con: duckdb.DuckDBPyConnection) -> bool:
    """Remove the demo account from a store about to receive real data; True if there was one."""
    if demo_version(con) is None:
        return False
    # The demo only ever lands in an empty store (workspace.ensure_data), but inventory and metrics are removed by
    # their source all the same, so a real snapshot that reached the store beside it can never be lost.
    for table in DATA_TABLES:
        where = " WHERE source = 'demo'" if table in _SOURCED_TABLES else ""
        con.execute(f"DELETE FROM {table}{where}")
    con.execute("DELETE FROM meta WHERE key = 'demo_version'")
    native_charges_view(con)  # no source is left, in place or copied
    return True


def first_missing(paths: list[str]) -> str | None:
    """The first of a source's local files that is gone (remote URLs are not checked)."""
    return next((p for p in paths if "://" not in p and not Path(p).is_file()), None)


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
    """The one row of a query that always returns exactly one (an aggregate without GROUP BY, EXISTS).

    duckdb types ``fetchone()`` as Optional; a missing row here is a bug, never an empty answer.
    """
    row = con.execute(sql, params or []).fetchone()
    if row is None:
        raise RuntimeError(f"a one-row query returned no row: {sql[:120]}")
    return row


INVENTORY_ORDER = ("resource_id, account_id NULLS FIRST, region NULLS FIRST, collected_at NULLS FIRST, "
                   "CAST(attributes AS VARCHAR)")


def inventory_rows(con: duckdb.DuckDBPyConnection, resource_types: str | Sequence[str] | None = None,
                   order: str = INVENTORY_ORDER) -> list[dict[str, Any]]:
    """Inventory rows (``resources``) of one resource type, of several, or all (``None``), as dicts with their
    ``attributes`` parsed from JSON (a missing value stays ``None``), in ``order`` (SQL; by default one fixed
    order, whatever order the rows were written in)."""
    types = [resource_types] if isinstance(resource_types, str) else list(resource_types or [])
    where = f"resource_type IN ({', '.join('?' for _ in types)})" if types else "TRUE"
    cur = con.execute(f"SELECT * FROM resources WHERE {where} ORDER BY {order}", types)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    for row in rows:
        if isinstance(row.get("attributes"), str):
            row["attributes"] = json.loads(row["attributes"])
    return rows


def has_rows(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``table`` holds at least one row."""
    return bool(one_row(con, f"SELECT EXISTS (SELECT 1 FROM {table})")[0])


def detached_sources(con: duckdb.DuckDBPyConnection) -> list[dict[str, str]]:
    """Billing periods read in place whose Parquet files moved or vanished since ingest.

    Their rollup (``usage_daily``) stays and every answer built on it still holds; only their line-item
    detail (the ``charges`` view) is gone until the files return or the period is ingested again.
    """
    rows = con.execute(
        "SELECT billing_period, paths FROM sources WHERE active AND storage = 'in-place' ORDER BY billing_period"
    ).fetchall()
    detached = []
    for period, paths in rows:
        missing = first_missing(list(paths))
        if missing is not None:
            detached.append({"billing_period": period.isoformat(), "missing": missing})
    return detached


