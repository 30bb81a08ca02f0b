"""Price catalog: dated lookups, did-you-mean, effective-vs-list from a real store, GetProducts shapes, the CLI."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from aifinops.errors import AifinopsError
from aifinops.pricing import (
    PriceNotFound,
    bedrock_token_price,
    get_products,
    instance_hourly,
    instance_specs,
    rate,
    s3_storage_price,
    serverless_inference_price,
    similar_instances,
    spot_discount,
    transfer_price,
    usage_type_price,
)
from aifinops.pricing.catalog import DATA_DIR
from aifinops.pricing.seed import PRICE_COLUMNS, SPEC_COLUMNS, build_price_rows, build_spec_rows
from aifinops.store import USAGE_DAILY_COLUMN_NAMES, Store
from clirun import run_cli
from usagerows import insert_usage

LITELLM = Path(__file__).parent / "data" / "bedrock-prices" / "litellm_bedrock_prices.json"


def test_bundled_snapshot_is_what_the_seed_builds():
    for name, columns, rows in (("prices.csv", PRICE_COLUMNS, build_price_rows()),
                                ("instance_specs.csv", SPEC_COLUMNS, build_spec_rows())):
        with (DATA_DIR / name).open(newline="") as fh:
            bundled = list(csv.DictReader(fh))
        built = [{c: str(r[c]) for c in columns} for r in rows]
        assert built == bundled, f"{name} is stale: run python -m aifinops.pricing.seed"


def test_every_row_names_source_confidence_and_date():
    for row in build_price_rows():
        assert row["source"] and row["confidence"] in ("A", "B", "C") and date.fromisoformat(row["fetched_at"])
        assert float(row["usd_per_unit"]) >= 0
        if float(row["usd_per_unit"]) == 0:  # only the free items the reference names, never a gap
            attrs = json.loads(row["attributes"])
            nova_cache_write = attrs.get("token_kind") == "cache-write" and attrs["model"].startswith("Nova")  # §3c
            origin_to_cloudfront = attrs.get("kind") == "to-cloudfront"  # §3d: S3/EC2 to CloudFront, no charge
            assert nova_cache_write or origin_to_cloudfront, row


def test_sagemaker_current_vs_2024_price_after_the_june_2025_cut():
    now = instance_hourly("ml.p4d.24xlarge", "us-east-1", "Training")
    then = instance_hourly("ml.p4d.24xlarge", "us-east-1", "Train", as_of=date(2024, 10, 1))
    assert (now.usd_per_unit, then.usd_per_unit) == (25.2513, 37.688)
    assert now.unit == "Hrs" and now.basis == "list" and now.usage_type == "USE1-Train:ml.p4d.24xlarge"
    # EC2: 'p4d.24xlarge' without ml. is the EC2 Linux on-demand price.
    assert instance_hourly("p4d.24xlarge", as_of="2024-11-30").usd_per_unit == 32.7726
    assert instance_hourly("p4d.24xlarge").usd_per_unit == 21.957642
    # A type the cut did not touch has one price for every date.
    assert instance_hourly("ml.g5.xlarge", as_of=date(2024, 1, 1)) == instance_hourly("ml.g5.xlarge")


def test_components_regions_and_eu_bill_prices():
    assert instance_hourly("ml.m5.xlarge", "eu-west-1", "Hosting").usd_per_unit == 0.257
    assert instance_hourly("ml.t3.medium", "eu-west-1", "Notebk").usd_per_unit == 0.055
    west = instance_hourly("ml.g5.2xlarge", "us-west-2", "BatchTransform")
    assert west.usd_per_unit == 1.515 and west.confidence == "C" and "assumed" in west.source
    assert instance_hourly("ml.g5.2xlarge", component="TrSpt").usd_per_unit == 1.515


@pytest.mark.parametrize(("call", "expected"), [
    (lambda: instance_hourly("ml.g5.xlarg"), "did you mean 'ml.g5.xlarge'"),
    (lambda: instance_hourly("g5.xlarg"), "did you mean 'g5.xlarge'"),
    (lambda: instance_hourly("ml.g5.xlarge", component="Hostin"), "did you mean 'Hosting'"),
    (lambda: bedrock_token_price("Claude Sonet 4.5", "input"), "did you mean 'Claude Sonnet 4.5'"),
    (lambda: instance_specs("p4d.24xlarg"), "did you mean 'p4d.24xlarge'"),
    (lambda: s3_storage_price("STANDARD_IAA"), "did you mean 'STANDARD_IA'"),
])
def test_a_typo_gets_did_you_mean(call, expected):
    with pytest.raises(PriceNotFound) as info:
        call()
    assert str(info.value).startswith("no price for") and expected in str(info.value)
    assert "To fix:" in str(info.value) and isinstance(info.value, AifinopsError)


def test_missing_prices_say_why_instead_of_zero():
    with pytest.raises(PriceNotFound, match="no ml.p4de.24xlarge rate valid on 2024-01-01"):
        instance_hourly("ml.p4de.24xlarge", as_of=date(2024, 1, 1))
    with pytest.raises(PriceNotFound, match="only in us-east-1, us-west-2"):
        instance_hourly("ml.g6.2xlarge", "eu-west-1")
    with pytest.raises(PriceNotFound, match="priced for: cache-read/standard"):
        bedrock_token_price("Claude 3 Opus", "input", tier="batch")
    with pytest.raises(PriceNotFound, match="1, 2, 3, 4, 5 or 6 GB"):
        serverless_inference_price(7)


def test_bedrock_names_from_both_grammars_and_tiers():
    assert bedrock_token_price("NovaLite", "input") == bedrock_token_price("Nova Lite", "input")
    assert bedrock_token_price("NovaLite", "input").usd_per_unit == pytest.approx(0.00006)
    assert bedrock_token_price("NovaLite", "output", tier="batch").usd_per_unit == pytest.approx(0.00012)
    assert bedrock_token_price("Claude3Haiku", "output").usd_per_unit == pytest.approx(0.00125)
    sonnet = bedrock_token_price("Claude Sonnet 4.5 (Amazon Bedrock Edition)", "input")
    assert sonnet.usd_per_unit == pytest.approx(0.003) and sonnet.unit == "1K tokens"  # catalog row is per 1M
    assert bedrock_token_price("Claude Sonnet 4.5", "cache-read").usd_per_unit == pytest.approx(0.0003)
    assert bedrock_token_price("Claude Sonnet 4.5", "cache-write").usd_per_unit == pytest.approx(0.00375)
    # Geo profiles cost 1.1x for Sonnet 4.5+, global the base price; older models the same on us.
    assert bedrock_token_price("Claude Sonnet 4.5", "input", cross_region="us").usd_per_unit == pytest.approx(0.0033)
    assert bedrock_token_price("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "input").usd_per_unit == pytest.approx(
        0.0033)
    assert bedrock_token_price("Claude Sonnet 4.5", "input", cross_region=True).usd_per_unit == pytest.approx(0.003)
    assert bedrock_token_price("Claude3Haiku", "input", cross_region="geo").usd_per_unit == pytest.approx(0.00025)
    assert bedrock_token_price("Nova Pro", "input", tier="flex").usd_per_unit == pytest.approx(0.0004)


def test_bedrock_snapshot_agrees_with_litellm_file():
    models = json.loads(LITELLM.read_text())["models"]
    for row in build_price_rows():
        attrs = json.loads(row["attributes"])
        entry = models.get(attrs.get("model_id", ""))
        if not entry or attrs.get("routing") != "in-region" or attrs.get("tier") != "standard":
            continue
        key = {"input": "input_cost_per_token", "output": "output_cost_per_token",
               "cache-read": "cache_read_input_token_cost", "cache-write": "cache_creation_input_token_cost"}
        per_token = entry.get(key[attrs["token_kind"]])
        if per_token is None:
            continue
        per_unit = 1e6 if row["unit"] == "1M tokens" else 1e3
        assert float(row["usd_per_unit"]) == pytest.approx(per_token * per_unit), attrs


def test_other_services():
    assert s3_storage_price("Standard - Infrequent Access").usd_per_unit == 0.0125
    assert s3_storage_price("DEEP_ARCHIVE").unit == "GB-Mo"
    assert transfer_price("inter-region").usd_per_unit == 0.02
    assert transfer_price("internet-out").usd_per_unit == 0.09
    assert serverless_inference_price(3).usd_per_unit == pytest.approx(0.00006)
    assert usage_type_price("comprehend", "Comprehend-EA").usd_per_unit == 0.0001
    assert usage_type_price("AmazonSageMaker", "USE1-Host:ml.g5.xlarge").usd_per_unit == 1.4084


def test_specs_similar_instances_and_spot():
    spec = instance_specs("ml.g5.12xlarge")
    assert (spec.vcpu, spec.gpus, spec.gpu_memory_gib, spec.gpu_memory_per_gpu_gib) == (48, 4, 96, 24)
    cands = similar_instances("ml.g5.12xlarge", min_gpus=1)
    names = [c.instance_type for c in cands]
    assert "ml.g5.12xlarge" not in names and "ml.g5.xlarge" in names and "ml.inf2.xlarge" not in names
    prices = [instance_hourly(n).usd_per_unit for n in names]
    assert prices == sorted(prices) and all(c.gpus >= 1 for c in cands)
    assert all(c.gpus == 0 for c in similar_instances("ml.m5.2xlarge"))
    low, typical, high = spot_discount("p4d.24xlarge")
    assert 0 < low <= typical <= high < 1 and spot_discount("g5.xlarge").source


def _usage_row(**values) -> dict:
    base = dict.fromkeys(USAGE_DAILY_COLUMN_NAMES)
    base.update(billing_period=date(2024, 11, 1), region="us-east-1", service_code="AmazonSageMaker",
                line_item_type="Usage", pricing_unit="Hrs", purchase_option="on-demand", tags="{}", line_items=1)
    base.update(values)
    return base


def test_effective_rate_from_billing_wins_over_list(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    rows = [
        # 10 days of ml.g5.xlarge hosting billed at a private rate of $1.20/h (list is $1.4084).
        *[_usage_row(usage_date=date(2024, 11, d), instance_type="ml.g5.xlarge", component="Host",
                     usage_quantity=24.0, billed_cost=24 * 1.20) for d in range(1, 11)],
        # Older usage outside the 30-day window at another rate is ignored.
        _usage_row(usage_date=date(2024, 9, 1), instance_type="ml.g5.xlarge", component="Host",
                   usage_quantity=24.0, billed_cost=24 * 9.0),
        # Savings Plan rows are not plain usage.
        _usage_row(usage_date=date(2024, 11, 5), instance_type="ml.g5.xlarge", component="Host",
                   line_item_type="SavingsPlanCoveredUsage", usage_quantity=24.0, billed_cost=24 * 5.0),
    ]
    with store.transaction() as con:
        insert_usage(con, rows)
    with store.connect(read_only=True) as con:
        billed = rate(con, "ml.g5.xlarge", "us-east-1", "Hosting")
        listed = rate(con, "ml.g5.xlarge", "us-east-1", "Training")
        ec2 = rate(con, "p4d.24xlarge", "us-east-1")
    assert billed.basis == "billing" and billed.usd_per_unit == pytest.approx(1.20)
    assert "10 daily rows" in billed.source and billed.fetched_at == date(2024, 11, 10)
    assert listed.basis == "list" and listed.usd_per_unit == 1.4084
    assert ec2.basis == "list" and ec2.usd_per_unit == 21.957642
    with store.connect(read_only=True) as con, pytest.raises(AifinopsError, match="window_days"):
        rate(con, "ml.g5.xlarge", "us-east-1", window_days=0)


def _items(doc):
    return [json.loads(s) for s in doc["PriceList"]]


def test_get_products_shape_like_price_list():
    doc = get_products("AmazonSageMaker", [{"Field": "instanceName", "Value": "ml.g5.xlarge", "Type": "TERM_MATCH"},
                                           {"Field": "component", "Value": "Hosting", "Type": "TERM_MATCH"}],
                       region="us-east-1")
    assert doc["FormatVersion"] == "aws_v1" and all(isinstance(s, str) for s in doc["PriceList"])
    (item,) = _items(doc)
    assert item["product"]["productFamily"] == "ML Instance" and item["serviceCode"] == "AmazonSageMaker"
    attrs = item["product"]["attributes"]
    assert attrs["usagetype"] == "USE1-Host:ml.g5.xlarge" and attrs["regionCode"] == "us-east-1"
    sku = item["product"]["sku"]
    dim = item["terms"]["OnDemand"][f"{sku}.JRTCKXETXF"]["priceDimensions"][f"{sku}.JRTCKXETXF.6YS6EN2CT7"]
    assert dim["pricePerUnit"] == {"USD": "1.4084000000"} and dim["unit"] == "Hrs"
    assert item["x_aifinops"]["source"] and item["x_aifinops"]["fetched_at"] == "2025-01-26"


def test_get_products_filter_types_and_paging():
    def count(*filters, **kw):
        return len(_items(get_products("AmazonSageMaker", list(filters), region="us-east-1", **kw)))

    f = {"Field": "instanceType", "Value": "ml.g5.xlarge", "Type": "TERM_MATCH"}
    assert count(f) == 7  # one product per component (Hosting, Training, Notebook, …)
    assert count(f, {"Field": "component", "Value": "Hosting,Training", "Type": "ANY_OF"}) == 2
    assert count(f, {"Field": "component", "Value": "Hosting,Training", "Type": "NONE_OF"}) == 5
    assert count({"Field": "usagetype", "Value": "Host:ml.g5.", "Type": "CONTAINS"}) == 8
    assert count({"Field": "INSTANCENAME", "Value": "ML.G5.XLARGE", "Type": "EQUALS"}) == 7
    pages, token = [], None
    while True:
        doc = get_products("AmazonSageMaker", [{"Field": "component", "Value": "Hosting", "Type": "TERM_MATCH"}],
                           region="us-east-1", max_results=10, next_token=token)
        pages.append(_items(doc))
        token = doc.get("NextToken")
        if not token:
            break
    skus = [i["product"]["sku"] for p in pages for i in p]
    assert len(pages) > 2 and len(skus) == len(set(skus)) == count({"Field": "component", "Value": "Hosting"})


def test_get_products_explains_a_family_that_does_not_exist():
    with pytest.raises(PriceNotFound) as info:
        get_products("AmazonSageMaker", [{"Field": "productFamily", "Value": "ML Inference", "Type": "TERM_MATCH"}])
    assert "did you mean 'ML Instance'" in str(info.value) and "ML Serverless" in str(info.value)
    with pytest.raises(PriceNotFound, match="did you mean 'AmazonSageMaker'"):
        get_products("AmazonSageMaker2", [])
    with pytest.raises(AifinopsError, match="Unknown filter Type"):
        get_products("AmazonSageMaker", [{"Field": "component", "Value": "Hosting", "Type": "LIKE"}])


def test_cli_pricing_get(tmp_path):
    res = run_cli("pricing", "get", "--service", "AmazonSageMaker", "--region", "us-east-1",
                  "--filter", "instanceName=ml.g5.xlarge", "--filter", "component=Hosting", "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert json.loads(doc["PriceList"][0])["product"]["attributes"]["instanceName"] == "ml.g5.xlarge"
    res = run_cli("pricing", "get", "--service", "AmazonSageMaker", "--region", "us-east-1",
                  "--filter", "instanceName=ml.g5.xlarge", "--filter", "component=Hosting")
    assert res.returncode == 0 and "1.4084" in res.stdout and "2025-01-26" in res.stdout and "fmbench" in res.stdout
    res = run_cli("pricing", "get", "--service", "AmazonSageMaker", "--filter", "productFamily=ML Inference")
    assert res.returncode == 2 and "ML Instance" in res.stderr + res.stdout
