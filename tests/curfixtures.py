"""Build small CUR 2.0 files with the real schema from a few hand-written rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from aifinops.ingest.cur2_columns import CUR2_SCHEMA

DEFAULTS = {
    "bill_billing_entity": "AWS",
    "bill_payer_account_id": "111122223333",
    "line_item_usage_account_id": "111122223333",
    "line_item_line_item_type": "Usage",
    "line_item_currency_code": "USD",
    "product_region_code": "us-east-1",
    "pricing_term": "OnDemand",
}


def cur2_row(period: str, day: str, product_code: str, usage_type: str, cost: float, **extra) -> dict:
    """One CUR 2.0 line item. period 'YYYY-MM', day 'YYYY-MM-DD'."""
    start = datetime.fromisoformat(period + "-01")
    end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)
    row = dict(DEFAULTS)
    row.update(
        bill_billing_period_start_date=start,
        bill_billing_period_end_date=end,
        line_item_usage_start_date=datetime.fromisoformat(day),
        line_item_usage_end_date=datetime.fromisoformat(day),
        line_item_product_code=product_code,
        line_item_usage_type=usage_type,
        line_item_unblended_cost=cost,
        line_item_unblended_rate=str(extra.pop("rate", "")),
        line_item_usage_amount=extra.pop("amount", 1.0),
        pricing_public_on_demand_cost=extra.pop("list_cost", cost),
    )
    tags = extra.pop("tags", {})
    row["resource_tags"] = list(tags.items())
    row["product"] = list(extra.pop("product", {}).items())
    row.update(extra)
    return row


def write_cur2(path: Path, rows: list[dict]) -> Path:
    columns = {name: [r.get(name) for r in rows] for name in CUR2_SCHEMA.names}
    table = pa.table(columns, schema=CUR2_SCHEMA)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".csv.gz") or path.name.endswith(".csv"):
        write_cur2_csv(path, table)
    else:
        pq.write_table(table, path)
    return path


def write_cur2_csv(path: Path, table: pa.Table) -> None:
    """CUR 2.0 gzip CSV: maps as JSON objects, timestamps ISO-8601 with Z."""
    import csv
    import gzip
    import io
    import json

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(table.schema.names)
    for rec in table.to_pylist():
        out = []
        for name in table.schema.names:
            v = rec[name]
            if isinstance(v, list):
                v = json.dumps(dict(v))
            elif isinstance(v, datetime):
                v = v.strftime("%Y-%m-%dT%H:%M:%SZ")
            out.append("" if v is None else v)
        writer.writerow(out)
    data = buf.getvalue().encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
