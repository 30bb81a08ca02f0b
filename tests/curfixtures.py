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


# The columns of a CUR 2.0 export as the dlt loader wrote it (read off the main table of a public dlt demo load,
# ssp-data/cloud-cost-analyzer viz_rill/data_demo/aws_costs/cur_export_test_00001, 2025-11): no `product` map and
# no product_product_name (dlt moves the map to a child table), flat product_* columns, `_dlt_*` columns.
# That repository declares no licence, so its file is not kept here; only its column layout is used.
DLT_CUR2_COLUMNS = [
    "bill_bill_type", "bill_billing_entity", "bill_billing_period_end_date", "bill_billing_period_start_date",
    "bill_invoicing_entity", "bill_payer_account_id", "bill_payer_account_name", "identity_line_item_id",
    "identity_time_interval", "line_item_blended_cost", "line_item_currency_code", "line_item_legal_entity",
    "line_item_line_item_description", "line_item_line_item_type", "line_item_normalization_factor",
    "line_item_normalized_usage_amount", "line_item_product_code", "line_item_tax_type", "line_item_unblended_cost",
    "line_item_usage_account_id", "line_item_usage_account_name", "line_item_usage_amount",
    "line_item_usage_end_date", "line_item_usage_start_date", "pricing_public_on_demand_cost",
    "reservation_effective_cost", "savings_plan_savings_plan_effective_cost", "savings_plan_savings_plan_rate",
    "_dlt_load_id", "_dlt_id", "line_item_blended_rate", "line_item_operation", "line_item_unblended_rate",
    "line_item_usage_type", "pricing_currency", "pricing_public_on_demand_rate", "pricing_rate_code",
    "pricing_term", "pricing_unit", "product_location", "product_location_type", "product_product_family",
    "product_region_code", "product_servicecode", "product_sku", "product_usagetype", "product_operation",
    "product_from_location", "product_to_location", "line_item_availability_zone", "product_instance_family",
    "product_instance_type",
]  # fmt: skip


def write_dlt_cur2(path: Path, rows: list[dict], child: Path | None = None) -> Path:
    """A CUR 2.0 table as dlt stores it (DLT_CUR2_COLUMNS, timestamps in UTC); ``child``: its product child table."""
    import uuid

    table = pa.table({name: [r.get(name) for r in rows] for name in CUR2_SCHEMA.names}, schema=CUR2_SCHEMA)
    columns, fields = {}, []
    for name in DLT_CUR2_COLUMNS:
        if name in ("_dlt_load_id", "_dlt_id"):
            values = ["1763377237.403768" if name == "_dlt_load_id" else uuid.uuid4().hex[:14] for _ in rows]
            columns[name], kind = values, pa.string()
        elif name in CUR2_SCHEMA.names:
            column = table.column(name)
            kind = column.type
            if pa.types.is_timestamp(kind):
                kind = pa.timestamp("us", tz="UTC")
                column = column.cast(pa.timestamp("us")).cast(kind)
            columns[name] = column
        else:
            columns[name], kind = [None] * len(rows), pa.string()
        fields.append(pa.field(name, kind))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns, schema=pa.schema(fields)), path)
    if child is not None:
        child.parent.mkdir(parents=True, exist_ok=True)
        ids = columns["_dlt_id"]
        pq.write_table(pa.table({"_dlt_parent_id": ids, "_dlt_list_idx": list(range(len(ids))),
                                 "_dlt_id": [i[::-1] for i in ids]}), child)
    return path
