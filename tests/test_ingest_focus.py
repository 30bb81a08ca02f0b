"""FOCUS 1.0–1.2 ingest: the public FOCUS sample, AWS-export-shaped AI rows (CSV and Parquet)."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aifinops.ingest import focus
from aifinops.ingest.pipeline import ingest_paths
from aifinops.ingest.registry import parquet_columns, parquet_relation
from aifinops.store import Store

SAMPLE = Path(__file__).parent / "data" / "focus" / "focus_sample_1000.csv"

# Column names per FOCUS version (reference §2.1) and the AWS extension columns (§2.2).
FOCUS_10 = [
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
    "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
    "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory",
    "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost",
    "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
    "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
    "ServiceCategory", "ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags",
]
FOCUS_12 = FOCUS_10 + [
    "CapacityReservationId", "CapacityReservationStatus", "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails",
    "BillingAccountType", "InvoiceId", "PricingCurrency", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "SubAccountType",
]
AWS_10 = FOCUS_10 + ["x_CostCategories", "x_Discounts", "x_Operation", "x_ServiceCode", "x_UsageType"]
AWS_12 = FOCUS_12 + ["x_Discounts", "x_Operation", "x_ServiceCode"]

SP_ARN = "arn:aws:savingsplans::111122223333:savingsplan/5a2b6a8e-0000-4c5e-9a51-1d1e2f3a4b5c"
RI_ARN = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/9f1c2d3e-0000-4a4b-8c8d-0e0f1a2b3c4d"


def focus_row(day: str, service: str, usage_type: str | None, billed: float, **extra) -> dict:
    """One AWS FOCUS row in October 2024 with the defaults of an AWS export."""
    row = {
        "BillingAccountId": "111122223333", "BillingAccountName": "payer", "SubAccountId": "444455556666",
        "BillingCurrency": "USD", "BillingPeriodStart": "2024-10-01T00:00:00.000Z",
        "BillingPeriodEnd": "2024-11-01T00:00:00.000Z", "ChargeCategory": "Usage",
        "ChargeFrequency": "Usage-Based", "ChargePeriodStart": f"{day}T00:00:00.000Z",
        "ChargePeriodEnd": f"{day}T01:00:00.000Z", "ProviderName": "AWS",
        "PublisherName": "Amazon Web Services, Inc.", "InvoiceIssuerName": "Amazon Web Services, Inc.",
        "RegionId": "us-east-1", "RegionName": "US East (N. Virginia)", "ServiceName": service,
        "ServiceCategory": "AI and Machine Learning", "PricingCategory": "Standard", "BilledCost": billed,
        "EffectiveCost": extra.pop("effective", billed), "ListCost": extra.pop("list_cost", billed),
        "ContractedCost": billed, "ConsumedQuantity": extra.pop("quantity", 1.0), "ConsumedUnit": "Hrs",
        "PricingQuantity": 1.0, "PricingUnit": "Hrs", "x_UsageType": usage_type, "SkuMeter": usage_type,
        "Tags": json.dumps(extra.pop("tags", {})),
    }
    row.update(extra)
    return row


def write_focus_csv(path: Path, columns: list[str], rows: list[dict]) -> Path:
    """An AWS FOCUS CSV: missing values empty, every field quoted."""
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return path


def daily(store: Store, sql: str, params: list | None = None) -> list[tuple]:
    with store.connect(read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_focus_sample_keeps_every_provider_and_reconciles(tmp_path):
    con = duckdb.connect()
    expected_rows, expected_billed, expected_effective = con.execute(
        "SELECT count(*), sum(BilledCost), sum(EffectiveCost) FROM read_csv(?, nullstr = 'NULL')",
        [str(SAMPLE)]).fetchone()
    by_provider = con.execute(
        "SELECT ProviderName, count(*), sum(BilledCost), sum(BilledCost) FILTER (WHERE ServiceCategory ="
        " 'AI and Machine Learning') FROM read_csv(?, nullstr = 'NULL') GROUP BY ALL ORDER BY 1",
        [str(SAMPLE)]).fetchall()
    store = Store(tmp_path / "s.duckdb")

    result = ingest_paths(store, [SAMPLE])

    assert result.formats == ["focus"]
    assert result.rows == expected_rows == 1000
    assert round(result.billed_cost, 4) == round(expected_billed, 4) == 20.5202
    ((rows, billed, effective),) = daily(
        store, "SELECT count(*), sum(billed_cost), sum(effective_cost) FROM charges")
    assert rows == expected_rows
    assert billed == pytest.approx(expected_billed, abs=1e-9)
    assert effective == pytest.approx(expected_effective, abs=1e-9)
    ((rolled,),) = daily(store, "SELECT sum(billed_cost) FROM usage_daily")
    assert rolled == pytest.approx(expected_billed, abs=1e-9)
    # Other providers are kept, by name, with their own AI spend (FOCUS ServiceCategory).
    stored = daily(store, "SELECT provider, sum(line_items), sum(billed_cost), sum(billed_cost) FILTER (WHERE is_ai)"
                          " FROM usage_daily GROUP BY ALL ORDER BY 1")
    assert [(p, n) for p, n, _, _ in stored] == [(p, n) for p, n, _, _ in by_provider]
    assert [(p, n) for p, n, _, _ in stored] == [("AWS", 942), ("Microsoft", 51), ("Oracle", 7)]
    for (_, _, cost, _), (_, _, want, _) in zip(stored, by_provider, strict=True):
        assert cost == pytest.approx(want, abs=1e-9)
    assert stored[1][3] == pytest.approx(by_provider[1][3], abs=1e-9)  # Azure Machine Learning
    assert stored[2][3] is None  # no Oracle AI service
    # AWS's AI rows are decided by AWS usage (GPU instance hours), never by another cloud's categories.
    ((aws_ai,),) = daily(store, "SELECT sum(billed_cost) FROM usage_daily WHERE is_ai AND provider = 'AWS'")
    assert round(aws_ai, 4) == 12.1265


def test_focus_sample_tags_commitments_and_marketplace(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [SAMPLE])
    sp = daily(store, "SELECT line_item_type, commitment_discount_type, billed_cost, list_cost FROM charges "
                      "WHERE commitment_discount_id IS NOT NULL")
    assert len(sp) == 4
    assert {r[:2] for r in sp} == {("SavingsPlanCoveredUsage", "Savings Plan")}
    assert all(r[2] == 0 and r[3] > 0 for r in sp)
    # The Red Hat row is sold through AWS by a third party.
    assert daily(store, "SELECT billing_entity, service_name FROM charges"
                        " WHERE billing_entity <> 'AWS' AND provider = 'AWS'") == [
        ("AWS Marketplace", "Red Hat OpenShift Service on AWS")]
    tagged = daily(store, "SELECT count(*) FROM charges WHERE cardinality(tags) > 0")[0][0]
    assert tagged > 500
    assert daily(store, "SELECT count(*) FROM usage_daily WHERE service_code = 'AmazonEC2'")[0][0] > 0


def test_focus_reingest_replaces_the_month(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    first = ingest_paths(store, [SAMPLE])
    copy = shutil.copy(SAMPLE, tmp_path / "again.csv")
    ingest_paths(store, [copy])
    ((rows, billed),) = daily(store, "SELECT count(*), sum(billed_cost) FROM charges")
    assert rows == first.rows
    assert billed == pytest.approx(first.billed_cost, abs=1e-9)


AI_ROWS = [
    focus_row("2024-10-02", "Amazon SageMaker", "USE1-Host:ml.g5.xlarge", 33.792, quantity=24.0,
              x_ServiceCode="AmazonSageMaker", x_Operation="RunInstance",
              ResourceId="arn:aws:sagemaker:us-east-1:444455556666:endpoint/chat", tags={"user:team": "ml"}),
    focus_row("2024-10-03", "Amazon SageMaker", "USE1-TrSpt:ml.p4d.24xlarge", 15.15,
              PricingCategory="Dynamic", x_ServiceCode="AmazonSageMaker", list_cost=50.5026),
    focus_row("2024-10-03", "Amazon Bedrock", "USE1-NovaLite-input-tokens", 0.06,
              x_ServiceCode="AmazonBedrock", ConsumedUnit="1K tokens", quantity=1000.0),
    focus_row("2024-10-04", "Claude 3.5 Sonnet (Amazon Bedrock Edition)",
              "USE1-MP:USE1_InputTokenCount-Units", 1.5, PublisherName="Anthropic, PBC",
              x_ServiceCode="prod-m5ilt4siql27k"),
    focus_row("2024-10-05", "Amazon Elastic Compute Cloud", "BoxUsage:p4d.24xlarge", 0.0, effective=15.0,
              list_cost=21.96, PricingCategory="Committed", CommitmentDiscountId=SP_ARN,
              CommitmentDiscountType="Savings Plan", CommitmentDiscountCategory="Spend",
              CommitmentDiscountStatus="Used", x_ServiceCode="AmazonEC2", ServiceCategory="Compute"),
    focus_row("2024-10-01", "Savings Plans for AWS Compute usage", "ComputeSP:1yrNoUpfront", 100.0,
              effective=20.0, ChargeCategory="Purchase", ChargeFrequency="Recurring",
              CommitmentDiscountId=SP_ARN, CommitmentDiscountType="Savings Plan",
              x_ServiceCode="ComputeSavingsPlans", ServiceCategory="Compute"),
    focus_row("2024-10-31", "Amazon SageMaker", "Tax", 4.2, ChargeCategory="Tax", ChargeFrequency="One-Time",
              x_ServiceCode="AmazonSageMaker"),
]


def test_focus10_aws_export_classifies_ai_rows(tmp_path):
    path = write_focus_csv(tmp_path / "focus10.csv", AWS_10, [{**r, "SkuMeter": None} for r in AI_ROWS])
    store = Store(tmp_path / "s.duckdb")

    result = ingest_paths(store, [path])

    assert result.billed_cost == pytest.approx(33.792 + 15.15 + 0.06 + 1.5 + 0.0 + 100.0 + 4.2)
    rows = {r[0]: r[1:] for r in daily(store, """
        SELECT usage_type, ai_service, workload, component, purchase_option, billing_entity, line_item_type,
               model, tags, effective_cost
        FROM usage_daily""")}
    assert rows["USE1-Host:ml.g5.xlarge"][:5] == ("sagemaker", "inference", "Host", "on-demand", "AWS")
    assert json.loads(rows["USE1-Host:ml.g5.xlarge"][7]) == {"team": "ml"}
    assert rows["USE1-TrSpt:ml.p4d.24xlarge"][:4] == ("sagemaker", "training", "TrSpt", "spot")
    assert rows["USE1-NovaLite-input-tokens"][:2] == ("bedrock", "tokens")
    claude = rows["USE1-MP:USE1_InputTokenCount-Units"]
    assert (claude[0], claude[1], claude[4]) == ("bedrock", "tokens", "AWS Marketplace")
    assert claude[6] == "Claude 3.5 Sonnet"
    ec2 = rows["BoxUsage:p4d.24xlarge"]
    assert (ec2[0], ec2[3], ec2[5], ec2[8]) == ("gpu-ec2", "savings-plan", "SavingsPlanCoveredUsage", 15.0)
    assert rows["ComputeSP:1yrNoUpfront"][5] == "SavingsPlanRecurringFee"
    assert rows["Tax"][5] == "Tax"
    ops = daily(store, "SELECT operation, resource_id, usage_quantity, pricing_unit FROM charges "
                       "WHERE usage_type = 'USE1-Host:ml.g5.xlarge'")
    assert ops == [("RunInstance", "arn:aws:sagemaker:us-east-1:444455556666:endpoint/chat", 24.0, "Hrs")]


def test_focus12_usage_type_from_sku_meter_and_service_code_from_name(tmp_path):
    rows = [
        {**r, "x_UsageType": None, "x_ServiceCode": None} for r in AI_ROWS[:3]
    ] + [
        focus_row("2024-10-06", "Amazon Comprehend", "USE1-Comprehend-EA", 2.0, ConsumedUnit="Units"),
        focus_row("2024-10-06", "Azure Machine Learning", "NC24ads A100 v4", 9.99, ProviderName="Microsoft",
                  PublisherName="Microsoft", InvoiceIssuerName="Microsoft"),
    ]
    path = write_focus_csv(tmp_path / "focus12.csv", AWS_12, rows)
    store = Store(tmp_path / "s.duckdb")

    result = ingest_paths(store, [path])

    assert result.rows == 5  # the Microsoft row is kept, as Microsoft's
    assert result.billed_cost == pytest.approx(33.792 + 15.15 + 0.06 + 2.0 + 9.99)
    sql = "SELECT usage_type, service_code, ai_service, workload FROM usage_daily WHERE provider = 'AWS'"
    got = {r[0]: r[1:] for r in daily(store, sql)}
    assert daily(store, "SELECT provider, billing_entity, billed_cost FROM usage_daily WHERE provider <> 'AWS'") == [
        ("Microsoft", "Microsoft", 9.99)]
    assert got["USE1-Host:ml.g5.xlarge"] == ("AmazonSageMaker", "sagemaker", "inference")
    assert got["USE1-NovaLite-input-tokens"] == ("AmazonBedrock", "bedrock", "tokens")
    assert got["USE1-Comprehend-EA"] == ("comprehend", "comprehend", "inference")
    assert "NC24ads A100 v4" not in got


def _focus_parquet(path: Path, rows: list[dict], tags_as_map: bool) -> Path:
    """FOCUS 1.2 Parquet typed like AWS's export: costs double, periods timestamps, Tags a map or JSON."""
    stamp = {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}
    number = set(focus.NUMERIC_COLUMNS)
    fields, data = [], {}
    for name in AWS_12:
        values = [r.get(name) for r in rows]
        if name in stamp:
            fields.append(pa.field(name, pa.timestamp("ms")))
            values = [datetime.fromisoformat(v.replace(".000Z", "")) if v else None for v in values]
        elif name in number:
            fields.append(pa.field(name, pa.float64()))
        elif name == "Tags" and tags_as_map:
            fields.append(pa.field(name, pa.map_(pa.string(), pa.string())))
            values = [list(json.loads(v).items()) if v else None for v in values]
        else:
            fields.append(pa.field(name, pa.string()))
        data[name] = values
    pq.write_table(pa.table(data, schema=pa.schema(fields)), path)
    return path


@pytest.mark.parametrize("tags_as_map", [True, False])
def test_focus_parquet_read_in_place(tmp_path, tags_as_map):
    rows = [{**r, "x_UsageType": None} for r in AI_ROWS]
    path = _focus_parquet(tmp_path / "focus12.parquet", rows, tags_as_map)
    store = Store(tmp_path / "s.duckdb")
    with duckdb.connect() as con:
        columns = parquet_columns(con, [str(path)])
        (expected,) = con.execute(f"SELECT sum(BilledCost) FROM {parquet_relation([str(path)])}").fetchone()

    result = ingest_paths(store, [path])

    assert result.billed_cost == pytest.approx(expected)
    assert daily(store, "SELECT storage FROM sources") == [("in-place",)]
    assert daily(store, "SELECT count(*) FROM charges_native")[0][0] == 0
    host = daily(store, "SELECT ai_service, workload, tags, usage_date FROM usage_daily "
                        "WHERE usage_type = 'USE1-Host:ml.g5.xlarge'")
    assert host[0][:2] == ("sagemaker", "inference")
    assert json.loads(host[0][2]) == {"team": "ml"}
    assert str(host[0][3]) == "2024-10-02"
    assert columns.types["BilledCost"] == "DOUBLE"


LINE_ITEM_CASES = [
    # ChargeCategory, ChargeFrequency, CommitmentDiscountType, CommitmentDiscountStatus, id → line item type
    ("Usage", "Usage-Based", None, None, None, "Usage"),
    ("Usage", "Usage-Based", "Savings Plan", "Used", SP_ARN, "SavingsPlanCoveredUsage"),
    ("Usage", "Usage-Based", "Reserved Instance", "Used", RI_ARN, "DiscountedUsage"),
    ("Usage", "Usage-Based", "Savings Plan", "Unused", SP_ARN, "SavingsPlanRecurringFee"),
    ("Usage", "Usage-Based", "Reserved Instance", "Unused", RI_ARN, "RIFee"),
    ("Purchase", "One-Time", "Savings Plan", None, SP_ARN, "SavingsPlanUpfrontFee"),
    ("Purchase", "Recurring", None, None, SP_ARN, "SavingsPlanRecurringFee"),  # type inferred from the ARN
    ("Purchase", "Recurring", "Reserved Instance", None, RI_ARN, "RIFee"),
    ("Purchase", "One-Time", "Reserved Instance", None, RI_ARN, "Fee"),
    ("Purchase", "One-Time", None, None, None, "Fee"),
    ("Tax", "One-Time", None, None, None, "Tax"),
    ("Credit", "One-Time", None, None, None, "Credit"),
    ("Adjustment", "One-Time", None, None, None, "Refund"),
]


def test_line_item_type_and_pricing_term_derivation(tmp_path):
    rows = [
        focus_row("2024-10-07", "Amazon Elastic Compute Cloud", f"case{i}", 1.0 + i, ChargeCategory=cat,
                  ChargeFrequency=freq, CommitmentDiscountType=ctype, CommitmentDiscountStatus=status,
                  CommitmentDiscountId=cid, PricingCategory="Committed" if cid else "Standard")
        for i, (cat, freq, ctype, status, cid, _) in enumerate(LINE_ITEM_CASES)
    ] + [focus_row("2024-10-07", "Amazon Elastic Compute Cloud", "spot", 1.0, PricingCategory="Dynamic")]
    path = write_focus_csv(tmp_path / "cases.csv", AWS_10, rows)
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [path])
    got = dict(daily(store, "SELECT usage_type, line_item_type FROM charges"))
    assert [got[f"case{i}"] for i in range(len(LINE_ITEM_CASES))] == [case[-1] for case in LINE_ITEM_CASES]
    terms = dict(daily(store, "SELECT usage_type, pricing_term FROM charges"))
    picked = [terms[k] for k in ("case0", "case1", "case2", "spot")]
    assert picked == ["OnDemand", "OnDemand", "Reserved", "Spot"]
    assert terms["case6"] is None  # a Savings Plan purchase has no CUR pricing term
    types = dict(daily(store, "SELECT usage_type, commitment_discount_type FROM charges"))
    assert types["case6"] == "Savings Plan"


def test_tag_keys_differing_only_in_case_ingest(tmp_path):
    tags = {"Team": "a", "team": "b"}  # AWS tag keys are case-sensitive: both can be activated
    row = focus_row("2024-10-02", "Amazon SageMaker", "USE1-Host:ml.g5.xlarge", 1.0, tags=tags)
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [write_focus_csv(tmp_path / "t.csv", AWS_10, [row])])
    assert daily(store, "SELECT json_extract_string(tags, '$.team') FROM usage_daily") == [("a",)]
