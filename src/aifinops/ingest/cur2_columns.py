"""The CUR 2.0 (Data Exports, table COST_AND_USAGE_REPORT) standard columns and their types,
plus the optional caller-identity column ``line_item_iam_principal``.

Names and types follow the AWS CUR 2.0 table dictionary (bill, identity, line_item, pricing,
product, reservation, savings_plan, resource_tags, cost_category, discount groups; AWS Data Exports user guide,
pages table-dictionary-cur2-*): costs are double, **rates are strings**, dates
are timestamps, and ``product``, ``resource_tags``, ``cost_category`` are map<string,string>
(``discount`` is map<string,double>). Used by the demo account and the benchmark generator to write
real-shaped files. The loader recognises the format by ``cur2.REQUIRED`` without
importing this module: pyarrow's types are for writing files, and an ingest imports pyarrow only to read a
Parquet footer (validate.parquet_footer).
"""

from __future__ import annotations

import pyarrow as pa

_S = pa.string()
_D = pa.float64()
_T = pa.timestamp("ms")
_MAP_S = pa.map_(pa.string(), pa.string())
_MAP_D = pa.map_(pa.string(), pa.float64())

CUR2_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("bill_bill_type", _S),
    ("bill_billing_entity", _S),
    ("bill_billing_period_end_date", _T),
    ("bill_billing_period_start_date", _T),
    ("bill_invoice_id", _S),
    ("bill_invoicing_entity", _S),
    ("bill_payer_account_id", _S),
    ("bill_payer_account_name", _S),
    ("cost_category", _MAP_S),
    ("discount", _MAP_D),
    ("discount_bundled_discount", _D),
    ("discount_total_discount", _D),
    ("identity_line_item_id", _S),
    ("identity_time_interval", _S),
    ("line_item_availability_zone", _S),
    ("line_item_blended_cost", _D),
    ("line_item_blended_rate", _S),
    ("line_item_currency_code", _S),
    ("line_item_legal_entity", _S),
    ("line_item_line_item_description", _S),
    ("line_item_line_item_type", _S),
    ("line_item_net_unblended_cost", _D),
    ("line_item_net_unblended_rate", _S),
    ("line_item_normalization_factor", _D),
    ("line_item_normalized_usage_amount", _D),
    ("line_item_operation", _S),
    ("line_item_product_code", _S),
    ("line_item_resource_id", _S),
    ("line_item_tax_type", _S),
    ("line_item_unblended_cost", _D),
    ("line_item_unblended_rate", _S),
    ("line_item_usage_account_id", _S),
    ("line_item_usage_account_name", _S),
    ("line_item_usage_amount", _D),
    ("line_item_usage_end_date", _T),
    ("line_item_usage_start_date", _T),
    ("line_item_usage_type", _S),
    ("pricing_currency", _S),
    ("pricing_lease_contract_length", _S),
    ("pricing_offering_class", _S),
    ("pricing_public_on_demand_cost", _D),
    ("pricing_public_on_demand_rate", _S),
    ("pricing_purchase_option", _S),
    ("pricing_rate_code", _S),
    ("pricing_rate_id", _S),
    ("pricing_term", _S),
    ("pricing_unit", _S),
    ("product", _MAP_S),
    ("product_comment", _S),
    ("product_fee_code", _S),
    ("product_fee_description", _S),
    ("product_from_location", _S),
    ("product_from_location_type", _S),
    ("product_from_region_code", _S),
    ("product_instance_family", _S),
    ("product_instance_type", _S),
    ("product_instancesku", _S),
    ("product_location", _S),
    ("product_location_type", _S),
    ("product_operation", _S),
    ("product_pricing_unit", _S),
    ("product_product_family", _S),
    ("product_region_code", _S),
    ("product_servicecode", _S),
    ("product_sku", _S),
    ("product_to_location", _S),
    ("product_to_location_type", _S),
    ("product_to_region_code", _S),
    ("product_usagetype", _S),
    ("reservation_amortized_upfront_cost_for_usage", _D),
    ("reservation_amortized_upfront_fee_for_billing_period", _D),
    ("reservation_availability_zone", _S),
    ("reservation_effective_cost", _D),
    ("reservation_end_time", _S),
    ("reservation_modification_status", _S),
    ("reservation_net_effective_cost", _D),
    ("reservation_normalized_units_per_reservation", _S),
    ("reservation_number_of_reservations", _S),
    ("reservation_recurring_fee_for_usage", _D),
    ("reservation_reservation_a_r_n", _S),
    ("reservation_start_time", _S),
    ("reservation_subscription_id", _S),
    ("reservation_total_reserved_normalized_units", _S),
    ("reservation_total_reserved_units", _S),
    ("reservation_units_per_reservation", _S),
    ("reservation_unused_amortized_upfront_fee_for_billing_period", _D),
    ("reservation_unused_normalized_unit_quantity", _D),
    ("reservation_unused_quantity", _D),
    ("reservation_unused_recurring_fee", _D),
    ("reservation_upfront_value", _D),
    ("resource_tags", _MAP_S),
    ("savings_plan_amortized_upfront_commitment_for_billing_period", _D),
    ("savings_plan_end_time", _S),
    ("savings_plan_instance_type_family", _S),
    ("savings_plan_net_amortized_upfront_commitment_for_billing_period", _D),
    ("savings_plan_net_recurring_commitment_for_billing_period", _D),
    ("savings_plan_net_savings_plan_effective_cost", _D),
    ("savings_plan_offering_type", _S),
    ("savings_plan_payment_option", _S),
    ("savings_plan_purchase_term", _S),
    ("savings_plan_recurring_commitment_for_billing_period", _D),
    ("savings_plan_region", _S),
    ("savings_plan_savings_plan_a_r_n", _S),
    ("savings_plan_savings_plan_effective_cost", _D),
    ("savings_plan_savings_plan_rate", _D),
    ("savings_plan_start_time", _S),
    ("savings_plan_total_commitment_to_date", _D),
    ("savings_plan_used_commitment", _D),
    # Caller identity (Data Exports option "include caller identity", Bedrock since 2026-04): the IAM user or
    # role ARN that made the call (docs/genai.md). Null on rows of other services and of exports without it.
    ("line_item_iam_principal", _S),
    # The prefixed tag map (CUR 2.0 table dictionary, "Tags column": 'resourceTags/…', 'accountTag/…',
    # 'costCategory/…', 'userAttribute/…'; the caller's tags as 'iamPrincipal/…').
    ("tags", _MAP_S),
]

CUR2_SCHEMA = pa.schema(CUR2_COLUMNS)
CUR2_COLUMN_NAMES = [name for name, _ in CUR2_COLUMNS]
