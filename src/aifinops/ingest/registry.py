"""Billing formats: detection from the columns, and the per-format normalizing SELECT."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from types import ModuleType

import duckdb

from aifinops import duck
from aifinops.errors import InputError, StoreError
from aifinops.ingest import cur2
from aifinops.ingest.results import PeriodTotal
from aifinops.ingest.sqlparts import Columns
from aifinops.store import CHARGE_COLUMN_NAMES, first_missing


def formats() -> dict[str, ModuleType]:
    """Format name → loader module (FORMAT, TITLE, REQUIRED, NUMERIC_COLUMNS, normalize_select)."""
    from aifinops.ingest import cur_legacy, focus

    return {m.FORMAT: m for m in (cur2, cur_legacy, focus)}


# Columns no billing export has and every rollup file (ingest.rollup_file) has.
ROLLUP_MARKERS = ("billing_period", "usage_date", "line_items", "ai_service", "is_ai")


def is_rollup_columns(names: list[str]) -> bool:
    """A file with these columns is a rollup file (the result of `aifinops rollup-sql`), not a billing export."""
    lower = {n.lower() for n in names}
    return all(m in lower for m in ROLLUP_MARKERS)


def detect_format(columns: list[str], path: str) -> ModuleType:
    """The loader whose required columns the file has; a clear error when none fits."""
    lower = {c.lower() for c in columns}
    best: tuple[int, ModuleType] | None = None
    for module in formats().values():
        present = sum(1 for r in module.REQUIRED if r.lower() in lower)
        if present == len(module.REQUIRED):
            if module is cur2:
                from aifinops.ingest import cur_legacy

                if cur_legacy.is_athena_legacy(columns):
                    return cur_legacy  # legacy CUR through Athena: CUR 2.0's names, legacy content
            return module
        if present and (best is None or present > best[0]):
            best = (present, module)
    if best is not None:
        module = best[1]
        missing = [r for r in module.REQUIRED if r.lower() not in lower]
        raise InputError(
            f"{path}: looks like {module.TITLE} but lacks the column(s) {', '.join(missing)}.",
            f"export the file with the standard {module.TITLE} columns, or fix its header.",
        )
    if is_rollup_columns(columns):
        raise InputError(f"{path}: a rollup file (the result of `aifinops rollup-sql`), not a billing export.",
                         "load it with `aifinops ingest` on its own.")
    shown = ", ".join(_short(c) for c in columns[:8]) + (", …" if len(columns) > 8 else "")
    raise InputError(
        f"{path}: not a CUR 2.0, legacy CUR or FOCUS billing file (its columns: {shown}).",
        "pass an AWS Data Exports (CUR 2.0 or FOCUS) or legacy CUR file.",
    )


def _short(name: str, limit: int = 40) -> str:
    """A column name fit for a one-line message (a JSON or text file read as CSV has one huge 'column')."""
    name = " ".join(name.split())
    return name if len(name) <= limit else name[: limit - 1] + "…"


def parquet_relation(paths: list[str]) -> str:
    """The rows of Parquet files, with the file each came from."""
    quoted = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{quoted}], filename = true, union_by_name = true)"


def parquet_columns(con: duckdb.DuckDBPyConnection, paths: list[str]) -> Columns:
    cur = con.execute(f"DESCRIBE SELECT * FROM {parquet_relation(paths)}")
    rows = cur.fetchall()
    return Columns([r[0] for r in rows], {r[0]: r[1] for r in rows})


def in_place_select(fmt: str, paths: list[str], periods: list, columns: Columns | None = None) -> str:
    """The charges rows of Parquet files read where they lie, limited to their active periods; ``columns``: the
    files' columns when the caller has just read them (else they are read here)."""
    module = formats()[fmt]
    if columns is None:
        con = duck.connect()
        try:
            columns = parquet_columns(con, paths)
        except duckdb.Error as exc:
            raise StoreError(
                f"A Parquet source of this store can no longer be read ({paths[0]}…): {exc}.",
                "restore the files or re-ingest those billing periods from their new location.",
            ) from exc
        finally:
            con.close()
    dates = ", ".join(f"DATE '{p.isoformat()}'" for p in periods)
    return (
        f"SELECT * FROM ({module.normalize_select(columns, parquet_relation(paths))}) WHERE billing_period IN ({dates})"
    )


def ensure_charges_view(con: duckdb.DuckDBPyConnection, known: Mapping[tuple[str, ...], Columns] | None = None
                        ) -> None:
    """(Re)build the ``charges`` view: copied rows plus active Parquet sources read in place (their files
    checked first: a moved or unreadable source is left out, store.detached_sources reports it). ``known``: the
    columns of sources the caller has just read, by their paths (an ingest's own files), not read again."""
    parts = [f"SELECT {', '.join(CHARGE_COLUMN_NAMES)} FROM charges_native"]
    groups = con.execute(
        """SELECT format, paths, list(billing_period ORDER BY billing_period)
           FROM sources WHERE active AND storage = 'in-place'
           GROUP BY format, paths ORDER BY min(ingested_at)"""
    ).fetchall()
    for fmt, paths, periods in groups:
        if first_missing(list(paths)) is not None:
            continue  # moved or deleted: its periods keep their rollup, without line-item detail (detached_sources)
        try:
            parts.append(in_place_select(fmt, list(paths), list(periods), (known or {}).get(tuple(paths))))
        except StoreError:
            continue  # present but no longer readable Parquet: the same
    con.execute("CREATE OR REPLACE VIEW charges AS\n" + "\nUNION ALL\n".join(parts))


def supersede_periods(con: duckdb.DuckDBPyConnection, periods: Sequence[date]) -> None:
    """A billing period ingested again replaces the old one: its sources go inactive, its copied rows go."""
    if not periods:
        return
    marks = ", ".join("?" for _ in periods)
    con.execute(f"UPDATE sources SET active = FALSE WHERE billing_period IN ({marks})", list(periods))
    con.execute(f"DELETE FROM charges_native WHERE billing_period IN ({marks})", list(periods))


def refuse_mixed_currencies(con: duckdb.DuckDBPyConnection, found: dict[str, str], periods: Sequence[date]) -> None:
    """Refuse an ingest whose currencies (``found``: currency → the file it was seen in), together with those of
    the store's other billing periods, are more than one: amounts are summed, never converted."""
    seen = {currency: where for currency, where in found.items() if currency is not None}
    marks = ", ".join("?" for _ in periods) or "NULL"
    for (currency,) in con.execute(
        f"SELECT DISTINCT currency FROM usage_daily WHERE currency IS NOT NULL AND billing_period NOT IN ({marks})",
        list(periods),
    ).fetchall():
        seen.setdefault(currency, "the store")
    if len(seen) > 1:
        where = ", ".join(f"{currency} ({source})" for currency, source in sorted(seen.items()))
        raise InputError(
            f"Mixed billing currencies: {where}.",
            "ingest each currency into its own store (--store PATH); amounts are never converted.",
        )


def record_sources(con: duckdb.DuckDBPyConnection, ingest_id: str, fmt: str, storage: str, files: list[str],
                   totals: Sequence[PeriodTotal], now: datetime) -> None:
    """One active ``sources`` row per billing period an ingest loaded, with its rows and billed cost."""
    for p in sorted(totals, key=lambda t: t.billing_period):
        con.execute("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?)",
                    [uuid.uuid4().hex[:12], ingest_id, fmt, storage, files, p.billing_period, p.rows, p.billed_cost,
                     now])
