"""``ingest --engine spark``: billing Parquet → Spark rollup → the local store, per billing period.

The store gets what ``ingest_paths`` gives it (sources, ingests, usage_daily with attribution), in one
transaction, except the raw line items: they stay where they lie, so the ``charges`` view holds none
of these periods (sources.storage = 'spark'). Spark reads the files once (engines.spark.grouped_on_spark)
and returns their rows grouped on the rollup's keys; the totals per billing period and currency (the
sources rows, the reconciliation) are sums of those, and the store classifies them into usage_daily
(rollup.load_grouped_usage). Spark is done before the store is opened for writing, so a Spark failure
(a cluster that lost its workers) leaves the store as it was.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime

from aifinops.engines.spark import grouped_on_spark, parquet_locations
from aifinops.engines.spark_session import DEFAULT_MASTER, DEFAULT_TIMEOUT_S, spark_session
from aifinops.errors import InputError
from aifinops.ingest.registry import (
    ensure_charges_view,
    record_sources,
    refuse_mixed_currencies,
    supersede_periods,
)
from aifinops.ingest.results import IngestResult, PeriodTotal, Progress
from aifinops.rollup import load_grouped_usage
from aifinops.store import Store, clear_demo

STORAGE = "spark"


def ingest_on_spark(store: Store, paths: list[str], master: str = DEFAULT_MASTER, progress: Progress | None = None,
                    keep_demo: bool = False, fmt: str | None = None, spark=None,
                    timeout_s: float = DEFAULT_TIMEOUT_S) -> IngestResult:
    """Ingest CUR 2.0 or FOCUS Parquet (local paths or s3a:// URLs, one format per call) with the rollup
    run on Spark at ``master`` (or the session ``spark``); returns what was loaded, as ``ingest_paths`` does.
    ``timeout_s`` bounds the wait for a cluster's master and for a live executor (spark_session)."""
    report = progress or (lambda what, done, total: None)
    started = datetime.now(UTC).replace(tzinfo=None)
    locations = parquet_locations([str(p) for p in paths])
    own = spark is None
    session = spark or spark_session(master, timeout_s=timeout_s)
    try:
        report("rollup", 0, 1)
        module, grouped = grouped_on_spark(session, locations, fmt, timeout_s)
        master = session.sparkContext.master or master
    finally:
        if own:
            session.stop()
    totals = _totals(grouped)
    periods = _periods(totals, locations[0])
    result = IngestResult(ingest_id=uuid.uuid4().hex[:12], files=locations, formats=[module.FORMAT])
    per_period: dict[date, list] = {}
    for period, _currency, n, cost, *_ in totals:
        agg = per_period.setdefault(period, [0, 0.0])
        agg[0] += n
        agg[1] += cost or 0.0
    result.periods = [PeriodTotal(p, per_period[p][0], per_period[p][1]) for p in periods]
    with store.transaction() as con:
        if not keep_demo:
            result.replaced_demo = clear_demo(con)
        refuse_mixed_currencies(con, {c: str(locations[0]) for _p, c, *_ in totals if c is not None},
                                periods)
        supersede_periods(con, periods)
        record_sources(con, result.ingest_id, module.FORMAT, STORAGE, result.files, result.periods,
                       datetime.now(UTC).replace(tzinfo=None))
        ensure_charges_view(con)
        report("store", 0, 1)
        load_grouped_usage(con, periods, grouped)
        _reconcile(con, result.periods)
        con.execute("INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [result.ingest_id, started, datetime.now(UTC).replace(tzinfo=None), module.FORMAT,
                     result.files, periods, result.rows, result.billed_cost,
                     f"engine=spark master={master}"])
    report("done", 1, 1)
    return result


def _totals(grouped) -> list[tuple]:
    """(billing period, currency, line items, billed, list and effective cost, usage) of the grouped rows."""
    sums = ["line_items", "billed_cost", "list_cost", "effective_cost", "usage_quantity"]
    table = grouped.group_by(["billing_period", "currency"]).aggregate([(c, "sum") for c in sums])
    names = ["billing_period", "currency", *(f"{c}_sum" for c in sums)]
    return [tuple(row[n] for n in names) for row in table.to_pylist()]


def _periods(totals: list[tuple], where: str) -> list[date]:
    missing = sum(n for period, _c, n, *_ in totals if period is None)
    if missing:
        raise InputError(f"{where}: {missing} row(s) have no billing period.",
                         "re-export the files; every line item must carry its billing period start date.")
    for period, _c, _n, *sums in totals:
        if not all(math.isfinite(v) for v in sums if v is not None):
            raise InputError(f"{where}: billing period {period} holds a NaN or infinite amount.",
                             "re-export the files; billing amounts are finite numbers.")
    periods = sorted({period for period, *_ in totals})
    if not periods:
        raise InputError(f"{where}: no billing rows (for a FOCUS file: no AWS rows).",
                         "pass a CUR 2.0 or FOCUS export that holds AWS charges.")
    return periods


def _reconcile(con, periods: list[PeriodTotal]) -> None:
    """The rollup Spark returned must hold exactly what Spark counted in the files, to the cent."""
    for p in periods:
        stored, items = con.execute("SELECT COALESCE(sum(billed_cost), 0), COALESCE(sum(line_items), 0) "
                                    "FROM usage_daily WHERE billing_period = ?", [p.billing_period]).fetchone()
        if abs(stored - p.billed_cost) >= 0.005 or items != p.rows:
            raise InputError(f"Billing period {p.billing_period}: the Spark rollup holds {items} rows, {stored:.2f} "
                             f"but the files hold {p.rows} rows, {p.billed_cost:.2f}.",
                             "report this as a bug with the files' schema; nothing was written.")
