"""The one hourly rate every check, simulator and adapter prices instance hours with: ``rate(...)``.

``rate(con, instance_type, region, component)`` returns one ``Price`` whose ``basis`` says where it came from:

- ``'billing'``: the account's own billed on-demand rate, read from ``usage_daily`` (``billed_rate``);
  ``window`` holds the first and last day of the rows averaged, ``confidence`` is 'A';
- ``'list'``: the catalog's on-demand list price (``instance_hourly``) when the bills hold no such rows;
  ``fetched_at`` and ``confidence`` are the snapshot row's.

The billed hourly rate (the one rule) is ``sum(billed_cost) / sum(usage_quantity)`` over the rows that are

- plain on-demand usage: ``line_item_type = 'Usage'`` (or empty, for sources without line item types such as
  Cost Explorer answers) and ``purchase_option = 'on-demand'``. ``SavingsPlanCoveredUsage`` and
  ``DiscountedUsage`` rows do not count: per the AWS CUR line item columns (docs.aws.amazon.com/cur/latest/
  userguide/Lineitem-columns.html) and the FinOps Foundation focus-converter's AWS mapping, their unblended
  cost is the public on-demand price that a ``SavingsPlanNegation`` row cancels (FOCUS bills them at 0) and
  their effective cost is the commitment's rate, so neither is what an on-demand hour costs this account
  (the commitment rate is ``savings_plan_hourly``'s). Spot rows do not count either;
- instance hours: ``pricing_unit`` 'Hrs'/'Hours' (or empty, as some sources leave instance hours);
- of this instance type in this region; SageMaker types ('ml.' prefix) of the usage-type component
  ('Hosting' or 'Host' → ``Host``; Spot training components price as on-demand ``Train``, as the catalog does),
  EC2 types of ``AmazonEC2``; of one resource when ``resource_id`` is given (case-insensitive);
- in the last ``window_days`` days (default 30) ending at the latest such row, so a price cut is not
  averaged away by older months.

A rate of zero or less (credits, a free tier) is no rate: the catalog price is used instead.

On a read-only connection (``aifinops scan``, servers) the rule runs once, set-based: one statement computes the
rate of every (instance type, region, component), another (on the first question about one resource) the rate of
every resource in it, cached per connection and window (the data behind a read-only connection does not change),
and ``billed_rate`` looks its answer up there; checks that price one resource at a time then cost one query, not
one per resource. A writable connection's data may change between calls, so it asks the per-call statement each
time. Both apply the same rule (a test compares).
"""

from __future__ import annotations

import threading
import weakref
from datetime import date
from typing import TYPE_CHECKING, Any

from aifinops.errors import ArgumentError
from aifinops.pricing.catalog import Price, PriceNotFound
from aifinops.pricing.lookups import instance_hourly, sagemaker_component
from aifinops.pricing.seed import SM_COMPONENTS
from aifinops.sums import DUCKDB_SUM

if TYPE_CHECKING:
    import duckdb  # annotations only: `aifinops --help` and the simulators import this module without a store

DEFAULT_WINDOW_DAYS = 30
# CUR writes 'Hrs', FOCUS exports 'Hours'; some sources leave the unit empty for instance hours.
HOURS_UNIT_SQL = "(pricing_unit IS NULL OR lower(pricing_unit) IN ('hrs', 'hr', 'hours', 'hour'))"
# The rows whose billed cost is what on-demand usage cost this account (see the module docstring).
ON_DEMAND_USAGE_SQL = "(line_item_type IS NULL OR line_item_type = 'Usage') AND purchase_option = 'on-demand'"

_SQL = """
WITH rows AS (
  SELECT usage_date, usage_quantity, billed_cost FROM usage_daily
  WHERE instance_type = ? AND region = ? AND {where}
    AND {usage} AND {hours} AND usage_quantity > 0
), recent AS (
  SELECT * FROM rows WHERE usage_date > (SELECT max(usage_date) FROM rows) - INTERVAL {days} DAY
)
SELECT {fsum}(billed_cost), {fsum}(usage_quantity), min(usage_date), max(usage_date), count(*) FROM recent
"""


# Every rate the per-call statement can answer, per (instance type, region, component) for the account
# (``resources`` false) or per resource inside it (``resources`` true), each over its own last {days} days (the same
# window rule as _SQL). The component key is '' for EC2 types (their per-call filter ignores the component).
# The two halves are separate statements: the account's rates are a few dozen rows every scan needs, the
# resources' rates one row per instance resource (78k on a 100k-resource bill, 0.3 s), asked only by checks that
# price one endpoint from inventory, so they are computed on the first such question.
_ALL_SQL = """
WITH rows AS (
  SELECT instance_type, region, CASE WHEN starts_with(instance_type, 'ml.') THEN component ELSE '' END AS comp,
         {rid} AS rid, usage_date, usage_quantity, billed_cost
  FROM usage_daily
  WHERE instance_type IS NOT NULL AND region IS NOT NULL
    AND CASE WHEN starts_with(instance_type, 'ml.') THEN service_code = 'AmazonSageMaker' AND component IS NOT NULL
             ELSE service_code = 'AmazonEC2' END
    AND {usage} AND {hours} AND usage_quantity > 0
), windowed AS (
  SELECT instance_type, region, comp, rid, usage_date, usage_quantity, billed_cost,
         usage_date > max(usage_date) OVER (PARTITION BY instance_type, region, comp, rid)
                      - INTERVAL {days} DAY AS recent
  FROM rows WHERE {resources}
)
SELECT instance_type, region, comp, rid,
       {fsum}(billed_cost), {fsum}(usage_quantity), min(usage_date), max(usage_date), count(*)
FROM windowed WHERE recent
GROUP BY instance_type, region, comp, rid
"""

_RateKey = tuple[str, str, str, str | None]  # instance type, region, component ('' for EC2), lower(resource id)
_RateRow = tuple[Any, Any, Any, Any, int]  # billed cost, hours, first day, last day, daily rows
# Read-only connections -> {"read_only": bool, window_days: {key: row}}; entries go with their connection.
_BY_CONNECTION: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def usage_component(component: str) -> str:
    """The usage-type spelling (usage_daily.component) of a SageMaker component: 'Hosting' -> 'Host'."""
    return SM_COMPONENTS[sagemaker_component(component)]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def billed_rate(con: duckdb.DuckDBPyConnection, instance_type: str, region: str, component: str = "Hosting",
                *, resource_id: str | None = None, window_days: int = DEFAULT_WINDOW_DAYS) -> Price | None:
    """The account's billed on-demand $/hour for this type (the rule above), None when the bills hold none."""
    if int(window_days) < 1:
        raise ArgumentError(f"window_days must be at least 1, got {window_days!r}.",
                            "pass the number of recent days of bills to average over, e.g. 30.")
    comp = usage_component(component) if instance_type.startswith("ml.") else ""
    table = _cached_rates(con, int(window_days), resources=resource_id is not None)
    if table is not None:
        row = table.get((instance_type, region, comp, None if resource_id is None else resource_id.lower()))
        found = row if row is not None else (None, None, None, None, 0)
    else:
        found = _one_rate(con, instance_type, region, comp, resource_id, int(window_days))
    return _price(found, instance_type, region, component, resource_id)


def _one_rate(con: duckdb.DuckDBPyConnection, instance_type: str, region: str, comp: str,
              resource_id: str | None, window_days: int) -> _RateRow:
    """The rule's sums for one type (and resource): the per-call statement."""
    params: list[Any] = [instance_type, region]
    if instance_type.startswith("ml."):
        where = "service_code = 'AmazonSageMaker' AND component = ?"
        params.append(comp)
    else:
        where = "service_code = 'AmazonEC2'"
    if resource_id is not None:
        where += " AND lower(resource_id) = lower(?)"
        params.append(resource_id)
    sql = _SQL.format(fsum=DUCKDB_SUM, where=where, usage=ON_DEMAND_USAGE_SQL, hours=HOURS_UNIT_SQL,
                      days=int(window_days))
    from aifinops.store import one_row  # with duckdb (0.1 s), only when a store is read

    cost, hours, first, last, n = one_row(con, sql, params)
    return cost, hours, first, last, n


def all_rates(con: duckdb.DuckDBPyConnection, window_days: int = DEFAULT_WINDOW_DAYS, *,
              resources: bool | None = None) -> dict[_RateKey, _RateRow]:
    """The rule's sums for every (instance type, region, component, lower(resource id) or None): the account's
    (rid None) when ``resources`` is False, the resources' when True, both when None."""
    if resources is None:
        return {**all_rates(con, window_days, resources=False), **all_rates(con, window_days, resources=True)}
    sql = _ALL_SQL.format(fsum=DUCKDB_SUM, usage=ON_DEMAND_USAGE_SQL, hours=HOURS_UNIT_SQL, days=int(window_days),
                          rid="lower(resource_id)" if resources else "NULL::VARCHAR",
                          resources="rid IS NOT NULL" if resources else "TRUE")
    return {(t, r, c, rid): (cost, hours, first, last, n)
            for t, r, c, rid, cost, hours, first, last, n in con.execute(sql).fetchall()}


def _cached_rates(con: duckdb.DuckDBPyConnection, window_days: int,
                  resources: bool = False) -> dict[_RateKey, _RateRow] | None:
    """``all_rates`` (the account's, or the resources') computed once per read-only connection and window; None for
    a writable connection."""
    with _LOCK:
        try:
            entry = _BY_CONNECTION.get(con)
        except TypeError:  # not weakly referenceable: no cache
            return None
    if entry is None:
        row = con.execute("SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
                          ).fetchone()
        entry = {"read_only": bool(row and row[0])}
        with _LOCK:
            entry = _BY_CONNECTION.setdefault(con, entry)
    if not entry["read_only"]:
        return None
    key: Any = ("resources", window_days) if resources else window_days
    table = entry.get(key)
    if table is None:
        table = all_rates(con, window_days, resources=resources)
        with _LOCK:
            table = entry.setdefault(key, table)
    return table


def _price(found: _RateRow, instance_type: str, region: str, component: str, resource_id: str | None) -> Price | None:
    cost, hours, first, last, n = found
    if not hours or not cost or cost <= 0:
        return None
    what = f"{instance_type} {component}" if instance_type.startswith("ml.") else instance_type
    of = f" of {resource_id}" if resource_id else ""
    return Price(
        usd_per_unit=cost / hours, unit="Hrs",
        source=f"your billing (usage_daily){of}: {n} daily rows {first}..{last}, {hours:.1f} h billed ${cost:.2f}",
        fetched_at=_day(last), confidence="A", basis="billing",
        description=f"billed on-demand {what} rate in {region}", region=region, window=(_day(first), _day(last)))


def rate(con: duckdb.DuckDBPyConnection | None, instance_type: str, region: str, component: str = "Hosting",
         *, resource_id: str | None = None, window_days: int = DEFAULT_WINDOW_DAYS,
         as_of: date | str | None = None) -> Price:
    """The on-demand $/hour of ``instance_type``: the account's billed rate when ``con``'s bills hold one,
    else the catalog's list price (``as_of`` picks the snapshot row). Raises ``PriceNotFound`` when neither.

    ``resource_id`` narrows the billed rate to one resource's rows; without them the account's rate and then
    the list price follow. ``con=None`` asks the catalog only (a simulator given no store).
    """
    if con is not None:
        found = billed_rate(con, instance_type, region, component, window_days=window_days, resource_id=resource_id)
        if found is None and resource_id is not None:
            found = billed_rate(con, instance_type, region, component, window_days=window_days)
        if found is not None:
            return found
    return instance_hourly(instance_type, region, component, as_of)


def rate_or_none(con: duckdb.DuckDBPyConnection | None, instance_type: str | None, region: str | None,
                 component: str = "Hosting", *, resource_id: str | None = None) -> Price | None:
    """``rate(...)`` for callers that report 'not priced' instead of failing: None without a type, a region
    (rates differ by region and none is guessed) or a price."""
    if not instance_type or not region:
        return None
    try:
        return rate(con, instance_type, region, component, resource_id=resource_id)
    except PriceNotFound:
        return None
