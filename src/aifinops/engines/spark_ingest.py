"""``ingest --engine spark``: billing Parquet → Spark rollup → the local store, per billing period.

The store gets what ``ingest_paths`` gives it (sources, ingests, usage_daily with attribution), in one
transaction, except the raw line items: they stay where they lie, so the ``charges`` view holds none
of these periods (sources.storage = 'spark'). Spark computes two small results: rows and billed cost
per billing period and currency (the reconciliation and the sources rows), and the rollup itself.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from aifinops.engines.spark import (
    DEFAULT_MASTER,
    SOURCE_VIEW,
    billing_source,
    spark_session,
    to_usage_arrow,
    totals_dataframe,
)
from aifinops.engines.sql import rollup_statement, to_dialect
from aifinops.errors import InputError
from aifinops.ingest.registry import ensure_charges_view
from aifinops.ingest.results import IngestResult, PeriodTotal, Progress
from aifinops.rollup import load_usage_daily
from aifinops.store import Store, clear_demo

STORAGE = "spark"


def ingest_on_spark(store: Store, paths: list[str], master: str = DEFAULT_MASTER, progress: Progress | None = None,
                    keep_demo: bool = False, fmt: str | None = None, spark=None) -> IngestResult:
    """Ingest CUR 2.0 or FOCUS Parquet (local paths or s3a:// URLs, one format per call) with the rollup
    run on Spark at ``master``; returns what was loaded, as ``ingest_paths`` does."""
    report = progress or (lambda what, done, total: None)
    started = datetime.now(UTC).replace(tzinfo=None)
    own = spark is None
    session = spark or spark_session(master)
    try:
        report("read", 0, 1)
        module, columns = billing_source(session, [str(p) for p in paths], fmt)
        report("totals", 0, 1)
        totals = [tuple(r) for r in totals_dataframe(session, module, columns).collect()]
        periods = _periods(totals, str(paths[0]))
        report("rollup", 0, 1)
        sql = to_dialect(rollup_statement(module.FORMAT, columns, SOURCE_VIEW, periods), "spark")
        rows = to_usage_arrow(session.sql(sql))
    finally:
        if own:
            session.stop()
    result = IngestResult(ingest_id=uuid.uuid4().hex[:12], files=[str(p) for p in paths], formats=[module.FORMAT])
    per_period: dict[date, list] = {}
    for period, _currency, n, cost in totals:
        agg = per_period.setdefault(period, [0, 0.0])
        agg[0] += n
        agg[1] += cost or 0.0
    result.periods = [PeriodTotal(p, per_period[p][0], per_period[p][1]) for p in periods]
    with store.transaction() as con:
        if not keep_demo:
            result.replaced_demo = clear_demo(con)
        _check_currency(con, totals, periods)
        marks = ", ".join("?" for _ in periods)
        con.execute(f"UPDATE sources SET active = FALSE WHERE billing_period IN ({marks})", periods)
        con.execute(f"DELETE FROM charges_native WHERE billing_period IN ({marks})", periods)
        now = datetime.now(UTC).replace(tzinfo=None)
        for p in result.periods:
            con.execute("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?)",
                        [uuid.uuid4().hex[:12], result.ingest_id, module.FORMAT, STORAGE, result.files,
                         p.billing_period, p.rows, p.billed_cost, now])
        ensure_charges_view(con)
        report("store", 0, 1)
        load_usage_daily(con, periods, rows)
        _reconcile(con, result.periods)
        con.execute("INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [result.ingest_id, started, datetime.now(UTC).replace(tzinfo=None), module.FORMAT,
                     result.files, periods, result.rows, result.billed_cost, f"engine=spark master={master}"])
    report("done", 1, 1)
    return result


def _periods(totals: list[tuple], where: str) -> list[date]:
    missing = sum(n for period, _c, n, _b in totals if period is None)
    if missing:
        raise InputError(f"{where}: {missing} row(s) have no billing period.",
                         "re-export the files; every line item must carry its billing period start date.")
    periods = sorted({period for period, *_ in totals})
    if not periods:
        raise InputError(f"{where}: no billing rows (for a FOCUS file: no AWS rows).",
                         "pass a CUR 2.0 or FOCUS export that holds AWS charges.")
    return periods


def _check_currency(con, totals: list[tuple], periods: list[date]) -> None:
    seen = {c for _p, c, _n, _b in totals if c is not None}
    marks = ", ".join("?" for _ in periods)
    seen |= {c for (c,) in con.execute(
        f"SELECT DISTINCT currency FROM usage_daily WHERE currency IS NOT NULL AND billing_period NOT IN ({marks})",
        periods).fetchall()}
    if len(seen) > 1:
        raise InputError(f"Mixed billing currencies: {', '.join(sorted(seen))}.",
                         "ingest each currency into its own store (--store PATH); amounts are never converted.")


def _reconcile(con, periods: list[PeriodTotal]) -> None:
    """The rollup Spark returned must hold exactly what Spark counted in the files, to the cent."""
    for p in periods:
        stored, items = con.execute("SELECT COALESCE(sum(billed_cost), 0), COALESCE(sum(line_items), 0) "
                                    "FROM usage_daily WHERE billing_period = ?", [p.billing_period]).fetchone()
        if abs(stored - p.billed_cost) >= 0.005 or items != p.rows:
            raise InputError(f"Billing period {p.billing_period}: the Spark rollup holds {items} rows, {stored:.2f} "
                             f"but the files hold {p.rows} rows, {p.billed_cost:.2f}.",
                             "report this as a bug with the files' schema; nothing was written.")
