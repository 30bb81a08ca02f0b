# ruff: noqa: F811  (pytest fixtures imported from moto_server are redefined as arguments)
"""Every AWS client comes from the allowlisted factory: no module outside ``aws/session.py`` builds one, and
the ``pricing refresh`` path refuses non-read operations before any request leaves the process."""

from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

from aifinops.aws.session import READ_OPERATIONS, OperationNotAllowed, SessionFactory
from aifinops.pricing.refresh import aws_clients, refresh_snapshot
from moto_server import aws_env, moto_server  # noqa: F401 - fixtures

SRC = Path(__file__).parents[1] / "src" / "aifinops"
FACTORY = SRC / "aws" / "session.py"
# Modules that can build a client: boto3 itself and botocore's session (create_client).
CLIENT_BUILDERS = ("boto3", "botocore.session", "botocore.client", "aiobotocore", "aioboto3")


def client_builders(source: str) -> list[str]:
    """Where ``source`` imports something that builds AWS clients, or builds one (``… .client(…)`` on a boto3
    session, ``boto3.client``/``resource``, ``create_client``). Lines as ``line N: what``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        if any(n == m or n.startswith(m + ".") for n in names for m in CLIENT_BUILDERS):
            found.append(f"line {node.lineno}: imports {', '.join(names)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr, target = node.func.attr, node.func.value
            if attr == "create_client":
                found.append(f"line {node.lineno}: calls create_client")
            if attr in ("client", "resource"):
                if isinstance(target, ast.Name) and target.id == "boto3":
                    found.append(f"line {node.lineno}: calls boto3.{attr}")
                if isinstance(target, ast.Call) and "Session" in ast.unparse(target.func):
                    found.append(f"line {node.lineno}: calls {ast.unparse(target.func)}(…).{attr}")
    return found


def test_the_scanner_finds_each_way_of_building_a_client():
    planted = {
        "import boto3\nc = boto3.client('s3')": 2,
        "import boto3 as b\nb.Session(profile_name='p').client('pricing')": 2,
        "from boto3 import Session\nSession().resource('s3')": 2,
        "from boto3.session import Session": 1,
        "import botocore.session\nbotocore.session.get_session().create_client('savingsplans')": 2,
        "from botocore.session import get_session": 1,
        "factory.client('sagemaker')\nscope.client('ce')\nimport botocore.exceptions": 0,
    }
    for source, hits in planted.items():
        assert len(client_builders(source)) == hits, (source, client_builders(source))


def test_no_module_outside_the_factory_builds_aws_clients():
    modules = sorted(SRC.rglob("*.py"))
    assert FACTORY in modules and len(modules) > 50
    offenders = {str(p.relative_to(SRC)): hits for p in modules if p != FACTORY
                 if (hits := client_builders(p.read_text()))}
    assert offenders == {}, "build clients through aifinops.aws.session.SessionFactory"
    assert client_builders(FACTORY.read_text())  # the factory itself is seen by the scanner


def test_price_list_reads_are_allowlisted():
    assert READ_OPERATIONS["pricing"] == {"GetProducts"}
    assert READ_OPERATIONS["savingsplans"] == {"DescribeSavingsPlansOfferingRates"}


def test_pricing_refresh_clients_refuse_every_non_read_operation(aws_env):
    """The issue's case: CreateSavingsPlan reached the fake AWS through refresh's own client. Now no
    operation outside the allowlist sends a request, whether called by name or through the raw API path."""
    pricing, savingsplans = aws_clients()
    sent: list[str] = []
    for client in (pricing, savingsplans):
        client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
        assert client.meta.config.user_agent_extra.startswith("aifinops/")  # one of the factory's clients
    with pytest.raises(OperationNotAllowed, match="savingsplans:CreateSavingsPlan is not a read operation"):
        savingsplans.create_savings_plan(savingsPlanOfferingId="0b0b0b0b-1111-2222-3333-444455556666",
                                         commitment="1000")
    core = botocore.session.get_session()
    refused = 0
    for client, service in ((pricing, "pricing"), (savingsplans, "savingsplans")):
        for op in sorted(set(core.get_service_model(service).operation_names) - READ_OPERATIONS[service]):
            with pytest.raises(OperationNotAllowed, match=f"{service}:{op} is not a read"):
                client._make_api_call(op, {})
            refused += 1
    assert refused >= 8  # e.g. CreateSavingsPlan, DeleteQueuedSavingsPlan, ReturnSavingsPlan, TagResource, …
    assert sent == []  # refused before signing: nothing reached the server


def test_refresh_runs_through_the_factory_clients(tmp_path):
    """GetProducts and DescribeSavingsPlansOfferingRates pass the guard (Stubber answers, via the factory hook)."""
    stubs: dict[str, Stubber] = {}

    def stub(service: str, region: str, client) -> None:
        assert region == "us-east-1"
        stubs[service] = Stubber(client)
        stubs[service].activate()

    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1")
    pricing, savingsplans = aws_clients(factory=SessionFactory(session=session, on_client=stub))
    item = {"product": {"productFamily": "Compute Instance", "sku": "SKU1", "attributes": {
                "instanceType": "g5.xlarge", "usagetype": "BoxUsage:g5.xlarge", "operation": "RunInstances"}},
            "terms": {"OnDemand": {"SKU1.T": {"effectiveDate": "2026-09-01T00:00:00Z", "priceDimensions": {
                "SKU1.T.D": {"unit": "Hrs", "beginRange": "0", "pricePerUnit": {"USD": "1.0060000000"},
                             "description": "$1.006 per On Demand Linux g5.xlarge Instance Hour"}}}}}}
    stubs["pricing"].add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [json.dumps(item)]})
    stubs["savingsplans"].add_response("describe_savings_plans_offering_rates", {"searchResults": []})
    summary = refresh_snapshot(pricing, savingsplans, tmp_path / "p.csv", services=["AmazonEC2"],
                               regions=["us-east-1"], today=date(2026, 11, 27))
    assert summary["rows"] == 1 and "g5.xlarge" in (tmp_path / "p.csv").read_text()
    for s in stubs.values():
        s.assert_no_pending_responses()
