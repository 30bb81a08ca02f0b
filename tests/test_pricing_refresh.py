"""`pricing refresh` against botocore's Stubber with real-shaped Price List and Savings Plans responses."""

from __future__ import annotations

import json
from datetime import date

import boto3
import pytest
from botocore.stub import Stubber

from aifinops.pricing import PriceNotFound, instance_hourly, savings_plan_hourly
from aifinops.pricing.catalog import PRICES_ENV
from aifinops.pricing.refresh import PriceRefreshError, refresh_snapshot


def _sagemaker_item(sku: str, instance: str, component: str, usage: str, usd: str, effective: str) -> str:
    """One PriceList element as GetProducts returns it: a JSON *string* (ref §4.1)."""
    return json.dumps({
        "product": {"productFamily": "ML Instance", "sku": sku, "attributes": {
            "servicecode": "AmazonSageMaker", "servicename": "Amazon SageMaker", "location": "US East (N. Virginia)",
            "locationType": "AWS Region", "regionCode": "us-east-1", "usagetype": usage, "operation": "RunInstance",
            "component": component, "platoinstancetype": component, "instanceName": instance,
            "instanceType": f"{instance}-{component}", "vCpu": "4", "memory": "16 GiB", "physicalGpu": "1",
            "gpuMemory": "24 GiB", "currentGeneration": "Yes"}},
        "serviceCode": "AmazonSageMaker",
        "terms": {"OnDemand": {f"{sku}.JRTCKXETXF": {
            "offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": f"{effective}T00:00:00Z",
            "termAttributes": {},
            "priceDimensions": {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                "unit": "Hrs", "beginRange": "0", "endRange": "Inf",
                "description": f"${usd} per {component} {instance} hour in US East (N. Virginia)",
                "pricePerUnit": {"USD": f"{float(usd):.10f}"}, "appliesTo": []}}}}},
        "version": "20260920000000", "publicationDate": "2026-09-20T00:00:00Z"})


def _plan_fee_item() -> str:
    """A TrainingPlanUpfrontFee product: no component, not an hourly rate; refresh must skip it."""
    item = json.loads(_sagemaker_item("FEEFEEFEEFEEFEE1", "ml.p5.48xlarge", "", "USE1-TrainingPlanUpfrontFee:"
                                      "ml.p5.48xlarge", "1000", "2026-01-01"))
    del item["product"]["attributes"]["component"]
    return json.dumps(item)


def _filters(region: str) -> list[dict]:
    return [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]


@pytest.fixture
def clients():
    pricing = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    sp = boto3.client("savingsplans", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(pricing) as ps, Stubber(sp) as ss:
        yield pricing, ps, sp, ss


def _expect_pages(stub: Stubber) -> None:
    base = {"ServiceCode": "AmazonSageMaker", "FormatVersion": "aws_v1", "MaxResults": 100,
            "Filters": _filters("us-east-1")}
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "NextToken": "page-2", "PriceList": [
        _sagemaker_item("AAAABBBBCCCCDDD1", "ml.g5.xlarge", "Hosting", "USE1-Host:ml.g5.xlarge", "1.2", "2026-09-01"),
        _plan_fee_item()]}, base)
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
        _sagemaker_item("AAAABBBBCCCCDDD2", "ml.p4d.24xlarge", "Training", "USE1-Train:ml.p4d.24xlarge", "25.2513",
                        "2025-06-01")]}, {**base, "NextToken": "page-2"})


def _sp_response() -> dict:
    return {"searchResults": [{
        "savingsPlanOffering": {"offeringId": "0b0b0b0b-1111-2222-3333-444455556666", "paymentOption": "No Upfront",
                                "planType": "SageMaker", "durationSeconds": 31536000, "currency": "USD",
                                "planDescription": "1 year No Upfront SageMaker Savings Plan"},
        "rate": "0.8450", "unit": "Hrs", "productType": "SageMaker", "serviceCode": "AmazonSageMaker",
        "usageType": "USE1-Host:ml.g5.xlarge", "operation": "RunInstance",
        "properties": [{"name": "region", "value": "us-east-1"}, {"name": "instanceType", "value": "ml.g5.xlarge"}]}]}


def test_refresh_follows_pages_writes_snapshot_and_catalog_prefers_it(clients, tmp_path, monkeypatch):
    pricing, ps, sp, ss = clients
    _expect_pages(ps)
    ss.add_response("describe_savings_plans_offering_rates", _sp_response(), {
        "savingsPlanTypes": ["SageMaker"], "products": ["SageMaker"], "serviceCodes": ["AmazonSageMaker"],
        "filters": [{"name": "region", "values": ["us-east-1"]}], "maxResults": 1000})
    out = tmp_path / "prices.csv"
    summary = refresh_snapshot(pricing, sp, out, services=["AmazonSageMaker"], regions=["us-east-1"],
                               today=date(2026, 11, 27))
    ps.assert_no_pending_responses()
    ss.assert_no_pending_responses()
    assert summary == {"rows": 3, "savings_plan_rates": 1, "fetched_at": "2026-11-27", "path": str(out)}
    text = out.read_text()
    assert "TrainingPlanUpfrontFee" not in text and not list(tmp_path.glob(".prices-*"))

    monkeypatch.setenv(PRICES_ENV, str(out))
    live = instance_hourly("ml.g5.xlarge", "us-east-1", "Hosting")
    assert live.usd_per_unit == 1.2 and live.confidence == "A" and "Price List API" in live.source
    assert live.fetched_at == date(2026, 11, 27)
    # The live row is effective from 2026-09-01: a 2024 bill still gets the bundled rate.
    assert instance_hourly("ml.g5.xlarge", as_of=date(2024, 10, 1)).usd_per_unit == 1.4084
    assert savings_plan_hourly("ml.g5.xlarge", "us-east-1", "Host").usd_per_unit == 0.845
    monkeypatch.delenv(PRICES_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "empty"))
    with pytest.raises(PriceNotFound, match="pricing refresh"):
        savings_plan_hourly("ml.g5.xlarge")


def test_throttling_gives_a_clear_message_and_keeps_the_old_snapshot(clients, tmp_path):
    pricing, ps, sp, _ = clients
    out = tmp_path / "prices.csv"
    out.write_text("previous snapshot\n")
    ps.add_client_error("get_products", service_error_code="ThrottlingException", service_message="Rate exceeded",
                        http_status_code=400)
    with pytest.raises(PriceRefreshError) as info:
        refresh_snapshot(pricing, sp, out, services=["AmazonSageMaker"], regions=["us-east-1"])
    message = str(info.value)
    assert "throttled" in message and "ThrottlingException" in message and "To fix:" in message
    assert out.read_text() == "previous snapshot\n"


def test_access_denied_names_the_permission(clients, tmp_path):
    pricing, ps, sp, _ = clients
    ps.add_client_error("get_products", service_error_code="AccessDeniedException", http_status_code=400)
    with pytest.raises(PriceRefreshError, match="pricing:GetProducts"):
        refresh_snapshot(pricing, None, tmp_path / "p.csv", services=["AmazonSageMaker"], regions=["us-east-1"])


def _transfer_item(tiers: list[tuple[str, str, str]]) -> dict:
    """An AWSDataTransfer product whose on-demand term is tiered, free allowance first, as the Price List has it."""
    sku = "TTTTRRRRAAAANNN1"
    dims = {f"{sku}.JRTCKXETXF.{i}": {"unit": "GB", "beginRange": begin, "endRange": end,
                                      "description": f"${usd} per GB - data transfer out ({begin}-{end} GB)",
                                      "pricePerUnit": {"USD": usd}, "appliesTo": []}
            for i, (begin, end, usd) in enumerate(tiers)}
    return {"product": {"productFamily": "Data Transfer", "sku": sku, "attributes": {
                "servicecode": "AWSDataTransfer", "transferType": "AWS Outbound", "fromRegionCode": "us-east-1",
                "usagetype": "USE1-DataTransfer-Out-Bytes", "operation": ""}},
            "serviceCode": "AWSDataTransfer",
            "terms": {"OnDemand": {f"{sku}.JRTCKXETXF": {"offerTermCode": "JRTCKXETXF", "sku": sku,
                                                         "effectiveDate": "2026-09-01T00:00:00Z",
                                                         "termAttributes": {}, "priceDimensions": dims}}}}


def test_a_free_first_tier_is_not_taken_as_the_price():
    from aifinops.pricing.refresh import product_rows

    tiered = _transfer_item([("10240", "51200", "0.0850000000"), ("0", "100", "0.0000000000"),
                             ("100", "10240", "0.0900000000")])
    (row,) = product_rows("AWSDataTransfer", "us-east-1", [tiered], "2026-11-27")
    assert float(row["usd_per_unit"]) == 0.09 and "0.09" in row["description"]
    free = _transfer_item([("0", "Inf", "0.0000000000")])  # transfer in: free in every tier, a real zero
    (row,) = product_rows("AWSDataTransfer", "us-east-1", [free], "2026-11-27")
    assert float(row["usd_per_unit"]) == 0.0
