"""Effective hourly rates from the user's own bills, preferred over list prices when they exist.

The rate is billed cost over usage hours of plain ``Usage`` rows (what the invoice charged per hour for
usage no Savings Plan or reservation covered) of one instance type, component and region, over the last
``window_days`` of data for that key. Without such rows it falls back to the catalog's list price; the
returned ``Price.basis`` says which ('billing' or 'list') so a finding can state it.
"""

from __future__ import annotations

from datetime import date

import duckdb

from aifinops.errors import ArgumentError
from aifinops.pricing.catalog import Price, normalize_key
from aifinops.pricing.lookups import SPOT_COMPONENTS, instance_hourly, sagemaker_component
from aifinops.pricing.seed import SM_COMPONENTS

_SQL = """
WITH rows AS (
  SELECT usage_date, usage_quantity, billed_cost FROM usage_daily
  WHERE instance_type = ? AND region = ? AND {where}
    AND line_item_type = 'Usage' AND usage_quantity > 0 AND lower(pricing_unit) IN ('hrs', 'hours', 'hour', 'hr')
), recent AS (
  SELECT * FROM rows WHERE usage_date > (SELECT max(usage_date) FROM rows) - INTERVAL {days} DAY
)
SELECT sum(billed_cost), sum(usage_quantity), min(usage_date), max(usage_date), count(*) FROM recent
"""


def billed_hourly(con: duckdb.DuckDBPyConnection, instance_type: str, region: str = "us-east-1",
                  component: str = "Hosting", window_days: int = 30) -> Price | None:
    """The billed $/hour for this instance type in the store, or None when the bills hold none."""
    if int(window_days) < 1:
        raise ArgumentError(f"window_days must be at least 1, got {window_days!r}.",
                            "pass the number of recent days of bills to average over, e.g. 30.")
    params: list = [instance_type, region]
    if instance_type.startswith("ml."):
        spot = normalize_key(component) in SPOT_COMPONENTS
        usage_component = "TrSpt" if spot else SM_COMPONENTS[sagemaker_component(component)]
        where = "service_code = 'AmazonSageMaker' AND component = ?"
        params.append(usage_component)
    else:
        where = "service_code = 'AmazonEC2' AND purchase_option = 'on-demand'"
    row = con.execute(_SQL.format(where=where, days=int(window_days)), params).fetchone()
    if row is None:  # an aggregate without GROUP BY always returns one row; duckdb types it Optional
        raise RuntimeError("the billed-rate aggregate returned no row")
    cost, hours, first, last, n = row
    if not hours or not cost or cost <= 0:
        return None
    return Price(
        usd_per_unit=cost / hours, unit="Hrs",
        source=f"your billing (usage_daily): {n} daily rows {first}..{last}, {hours:.1f} h billed ${cost:.2f}",
        fetched_at=last if isinstance(last, date) else date.fromisoformat(str(last)), confidence="A",
        basis="billing", description=f"effective {instance_type} {component} rate in {region} from your bills",
        region=region)


def effective_or_list_hourly(con: duckdb.DuckDBPyConnection, instance_type: str, region: str = "us-east-1",
                             component: str = "Hosting", window_days: int = 30,
                             as_of: date | None = None) -> Price:
    """Your billed $/hour when the store has usage of this type, else the catalog list price."""
    return billed_hourly(con, instance_type, region, component, window_days) or instance_hourly(
        instance_type, region, component, as_of)

