"""Cost Explorer-compatible breakdowns over a real store with hand-made usage_daily rows.

Every expected number below is added up by hand from the rows in ``ROWS`` (see the comments),
not computed with the code under test.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aifinops.costs import ai_cost_summary, cost_breakdown, data_period, get_cost_and_usage
from aifinops.costs.dimensions import DIMENSIONS
from aifinops.errors import ArgumentError, StoreError
from aifinops.store import Store
from usagerows import insert_usage

SM, BR = "Amazon SageMaker", "Amazon Bedrock"
CLAUDE = "Claude Sonnet 4.5 (Amazon Bedrock Edition)"
OCT = {"Start": "2026-10-01", "End": "2026-11-01"}


def _row(
    day: str, service_code: str, usage_type: str, billed: float, quantity: float, unit: str, **kw: object
) -> dict[str, object]:
    d = date.fromisoformat(day)
    row: dict[str, object] = {
        "billing_period": d.replace(day=1),
        "usage_date": d,
        "billing_account_id": "111111111111",
        "account_id": "222222222222",
        "region": "us-east-1",
        "service_code": service_code,
        "billing_entity": "AWS",
        "usage_type": usage_type,
        "line_item_type": "Usage",
        "currency": "USD",
        "pricing_unit": unit,
        "usage_quantity": quantity,
        "billed_cost": billed,
        "effective_cost": billed,
        "list_cost": billed,
        "line_items": 1,
        "tags": "{}",
        "is_ai": False,
        "ai_service": "other",
        "workload": "other",
        "purchase_option": "on-demand",
    }
    row.update(kw)
    return row


VISION, NLP = json.dumps({"team": "vision"}), json.dumps({"team": "nlp"})
# fmt: off
ROWS = [
    # 1
    _row("2026-10-01", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 10.0, 7.0, "Hrs", service_name=SM,
         ai_service="sagemaker", workload="inference", component="Host", instance_type="ml.g5.xlarge",
         accelerated=True, is_ai=True, tags=VISION),
    # 2
    _row("2026-10-02", "AmazonSageMaker", "USE1-Train:ml.p4d.24xlarge", 100.0, 4.0, "Hrs", service_name=SM,
         effective_cost=80.0, ai_service="sagemaker", workload="training", component="Train",
         instance_type="ml.p4d.24xlarge", accelerated=True, purchase_option="savings-plan",
         line_item_type="SavingsPlanCoveredUsage", is_ai=True, tags=NLP),
    # 3
    _row("2026-10-02", "AmazonSageMaker", "USE1-Host:ml.m5.large", 2.5, 24.0, "Hrs", service_name=SM,
         ai_service="sagemaker", workload="inference", component="Host", instance_type="ml.m5.large",
         accelerated=False, is_ai=True),
    # 4
    _row("2026-10-01", "AmazonBedrock", "USE1-NovaLite-input-tokens", 0.25, 4166.0, "1K tokens",
         service_name=BR, ai_service="bedrock", workload="tokens", model="NovaLite", token_kind="input",
         is_ai=True, tags=VISION),
    # 5: Anthropic through AWS Marketplace
    _row("2026-10-04", "AmazonBedrockFoundationModels", "USE1-MP:USE1_InputTokenCount-Units", 3.0, 1.0,
         "Units", service_name=CLAUDE, billing_entity="AWS Marketplace", ai_service="bedrock",
         workload="tokens", model="Claude Sonnet 4.5", token_kind="input", is_ai=True, tags=NLP),
    # 6
    _row("2026-10-01", "AmazonS3", "TimedStorage-ByteHrs", 4.0, 173.9, "GB-Mo",
         service_name="Amazon Simple Storage Service", ai_service="s3", workload="storage", is_ai=True,
         tags=VISION),
    # 7
    _row("2026-10-02", "AmazonS3", "Requests-Tier1", 1.0, 200000.0, "Requests",
         service_name="Amazon Simple Storage Service", ai_service="s3", workload="storage"),
    # 8
    _row("2026-10-04", "AmazonEC2", "BoxUsage:g5.xlarge", 20.0, 20.0, "Hrs",
         service_name="Amazon Elastic Compute Cloud", ai_service="gpu-ec2", workload="compute",
         instance_type="g5.xlarge", instance_family="g5", accelerated=True, is_ai=True),
    # 9
    _row("2026-10-04", "AmazonEC2", "EBS:VolumeUsage.gp3", 3.0, 100.0, "GB-Mo",
         service_name="Amazon Elastic Compute Cloud"),
    # 10
    _row("2026-10-02", "AWSDataTransfer", "USE1-USW2-AWS-Out-Bytes", 0.5, 25.0, "GB",
         service_name="AWS Data Transfer", ai_service="data-transfer", workload="transfer", is_ai=True,
         tags=VISION),
    # 11
    _row("2026-10-04", "comprehend", "Comprehend-EA", 0.75, 75.0, "Units", service_name="Amazon Comprehend",
         ai_service="comprehend", is_ai=True),
    # 12
    _row("2026-10-04", "AWSLambda", "Lambda-GB-Second", 0.2, 12000.0, "Lambda-GB-Second",
         service_name="AWS Lambda"),
    # 13: a credit against endpoint hours
    _row("2026-10-02", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", -5.0, 0.0, "Hrs", service_name=SM,
         line_item_type="Credit", list_cost=0.0, ai_service="sagemaker", workload="inference",
         component="Host", instance_type="ml.g5.xlarge", accelerated=True, is_ai=True),
    # 14: November
    _row("2026-11-01", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 10.0, 24.0, "Hrs", service_name=SM,
         ai_service="sagemaker", workload="inference", component="Host", instance_type="ml.g5.xlarge",
         accelerated=True, is_ai=True, tags=VISION),
]
# fmt: on
OCT_TOTAL = 10 + 100 + 2.5 + 0.25 + 3 + 4 + 1 + 20 + 3 + 0.5 + 0.75 + 0.2 - 5  # rows 1-13 = 140.2
OCT_AI = 10 + 100 + 2.5 + 0.25 + 3 + 4 + 20 + 0.5 + 0.75 - 5  # rows 1-6, 8, 10, 11, 13 = 136.0


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("costs") / "s.duckdb")
    with store.connect() as connection:
        insert_usage(connection, ROWS)
        yield connection


def ce(con, **request):
    request.setdefault("TimePeriod", OCT)
    request.setdefault("Metrics", ["UnblendedCost"])
    return get_cost_and_usage(con, request)


def by_keys(result, metric="UnblendedCost"):
    return {tuple(g["Keys"]): float(g["Metrics"][metric]["Amount"]) for g in result["Groups"]}


def total(response, metric="UnblendedCost"):
    return sum(float(r["Total"][metric]["Amount"]) for r in response["ResultsByTime"])


def test_group_by_service_uses_cost_explorer_names(con):
    resp = ce(con, Granularity="MONTHLY", GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}])
    assert resp["GroupDefinitions"] == [{"Type": "DIMENSION", "Key": "SERVICE"}]
    assert resp["DimensionValueAttributes"] == [] and "NextPageToken" not in resp
    (month,) = resp["ResultsByTime"]
    assert month["TimePeriod"] == OCT and month["Total"] == {} and month["Estimated"] is False
    assert by_keys(month) == pytest.approx(
        {
            (SM,): 107.5,  # rows 1, 2, 3, 13
            (BR,): 0.25,
            (CLAUDE,): 3.0,  # Marketplace: its product name
            ("Amazon Simple Storage Service",): 5.0,
            ("Amazon Elastic Compute Cloud - Compute",): 20.0,  # BoxUsage
            ("EC2 - Other",): 3.0,  # EBS
            ("AWS Data Transfer",): 0.5,
            ("Amazon Comprehend",): 0.75,
            ("AWS Lambda",): 0.2,
        }
    )
    for group in month["Groups"]:
        assert isinstance(group["Metrics"]["UnblendedCost"]["Amount"], str)
        assert group["Metrics"]["UnblendedCost"]["Unit"] == "USD"


def test_ungrouped_total_amount_is_a_string(con):
    resp = ce(con, Granularity="MONTHLY", Metrics=["UnblendedCost", "AmortizedCost", "UsageQuantity"])
    (month,) = resp["ResultsByTime"]
    assert month["Groups"] == []
    assert isinstance(month["Total"]["UnblendedCost"]["Amount"], str)
    assert float(month["Total"]["UnblendedCost"]["Amount"]) == pytest.approx(OCT_TOTAL)
    assert float(month["Total"]["AmortizedCost"]["Amount"]) == pytest.approx(
        OCT_TOTAL - 20
    )  # row 2: 80 not 100
    assert month["Total"]["UsageQuantity"]["Unit"] == "N/A"  # mixed units


def test_usage_type_groups_and_usage_units(con):
    resp = ce(
        con,
        Granularity="MONTHLY",
        Metrics=["UsageQuantity", "UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        Filter={"Dimensions": {"Key": "SERVICE", "Values": [SM]}},
    )
    groups = {g["Keys"][0]: g["Metrics"] for g in resp["ResultsByTime"][0]["Groups"]}
    assert set(groups) == {"USE1-Host:ml.g5.xlarge", "USE1-Train:ml.p4d.24xlarge", "USE1-Host:ml.m5.large"}
    assert groups["USE1-Host:ml.g5.xlarge"]["UsageQuantity"] == {"Amount": "7", "Unit": "Hrs"}
    assert float(groups["USE1-Host:ml.g5.xlarge"]["UnblendedCost"]["Amount"]) == pytest.approx(5.0)


def test_two_group_bys(con):
    resp = ce(
        con,
        GroupBy=[{"Type": "DIMENSION", "Key": "USAGE_TYPE"}, {"Type": "DIMENSION", "Key": "RECORD_TYPE"}],
        Filter={"Dimensions": {"Key": "SERVICE", "Values": [SM]}},
        Granularity="MONTHLY",
    )
    assert by_keys(resp["ResultsByTime"][0]) == pytest.approx(
        {
            ("USE1-Host:ml.g5.xlarge", "Usage"): 10.0,
            ("USE1-Host:ml.g5.xlarge", "Credit"): -5.0,
            ("USE1-Train:ml.p4d.24xlarge", "SavingsPlanCoveredUsage"): 100.0,
            ("USE1-Host:ml.m5.large", "Usage"): 2.5,
        }
    )


def test_tag_groups_with_untagged_dollar_key(con):
    resp = ce(con, Granularity="MONTHLY", GroupBy=[{"Type": "TAG", "Key": "team"}])
    assert by_keys(resp["ResultsByTime"][0]) == pytest.approx(
        {
            ("team$vision",): 14.75,  # rows 1, 4, 6, 10
            ("team$nlp",): 103.0,  # rows 2, 5
            ("team$",): 22.45,  # rows 3, 7, 8, 9, 11, 12, 13
        }
    )
    prefixed = ce(con, Granularity="MONTHLY", GroupBy=[{"Type": "TAG", "Key": "user:team"}])
    assert by_keys(prefixed["ResultsByTime"][0]) == by_keys(resp["ResultsByTime"][0])
    assert any("user:" in note for note in prefixed["aifinops_notes"])


def test_daily_periods_include_empty_days(con):
    resp = ce(con, TimePeriod={"Start": "2026-10-01", "End": "2026-10-05"}, Granularity="DAILY")
    days = [
        (r["TimePeriod"]["Start"], r["TimePeriod"]["End"], float(r["Total"]["UnblendedCost"]["Amount"]))
        for r in resp["ResultsByTime"]
    ]
    assert days == [
        ("2026-10-01", "2026-10-02", pytest.approx(14.25)),  # rows 1, 4, 6
        ("2026-10-02", "2026-10-03", pytest.approx(99.0)),  # rows 2, 3, 7, 10, 13
        ("2026-10-03", "2026-10-04", 0.0),
        ("2026-10-04", "2026-10-05", pytest.approx(26.95)),
    ]  # rows 5, 8, 9, 11, 12
    assert resp["ResultsByTime"][2]["Total"]["UnblendedCost"] == {"Amount": "0", "Unit": "USD"}
    grouped = ce(
        con,
        TimePeriod={"Start": "2026-10-01", "End": "2026-10-05"},
        Granularity="DAILY",
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
    )
    assert len(grouped["ResultsByTime"]) == 4 and grouped["ResultsByTime"][2]["Groups"] == []


def test_monthly_periods_are_clipped_to_the_request(con):
    resp = ce(con, TimePeriod={"Start": "2026-10-02", "End": "2026-11-02"}, Granularity="MONTHLY")
    got = [(r["TimePeriod"], float(r["Total"]["UnblendedCost"]["Amount"])) for r in resp["ResultsByTime"]]
    assert got == [
        ({"Start": "2026-10-02", "End": "2026-11-01"}, pytest.approx(OCT_TOTAL - 14.25)),
        ({"Start": "2026-11-01", "End": "2026-11-02"}, pytest.approx(10.0)),
    ]


@pytest.mark.parametrize(
    "expression, expected",
    [
        (
            {
                "And": [
                    {"Dimensions": {"Key": "SERVICE", "Values": [SM]}},
                    {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"]}}},
                ]
            },
            112.5,
        ),
        (
            {
                "And": [
                    {"Dimensions": {"Key": "IS_AI", "Values": ["true"]}},
                    {
                        "Or": [
                            {"Dimensions": {"Key": "SERVICE", "Values": [BR]}},
                            {"Tags": {"Key": "team", "Values": ["nlp"]}},
                        ]
                    },
                ]
            },
            103.25,
        ),  # rows 2, 4, 5
        ({"Tags": {"Key": "team", "MatchOptions": ["ABSENT"]}}, 22.45),
        (
            {"Tags": {"Key": "team", "Values": ["VISION"], "MatchOptions": ["EQUALS", "CASE_INSENSITIVE"]}},
            14.75,
        ),
        ({"Tags": {"Key": "team", "Values": ["VISION"]}}, 0.0),  # case-sensitive by default
        (
            {"Dimensions": {"Key": "USAGE_TYPE", "Values": ["USE1-Host"], "MatchOptions": ["STARTS_WITH"]}},
            7.5,
        ),
        ({"Dimensions": {"Key": "USAGE_TYPE", "Values": ["-Bytes"], "MatchOptions": ["ENDS_WITH"]}}, 0.5),
        ({"Dimensions": {"Key": "INSTANCE_TYPE", "Values": ["g5."], "MatchOptions": ["CONTAINS"]}}, 25.0),
        ({"Not": {"Dimensions": {"Key": "IS_AI", "Values": ["true"]}}}, OCT_TOTAL - OCT_AI),
        ({"Dimensions": {"Key": "PURCHASE_TYPE", "Values": ["Savings Plans"]}}, 100.0),
    ({"Dimensions": {"Key": "IS_AI", "Values": ["True"]}}, OCT_AI),  # resolved, with a note
    ],
)
def test_filters(con, expression, expected):
    assert total(ce(con, Filter=expression, Granularity="MONTHLY")) == pytest.approx(expected)


def test_service_alias_is_resolved_and_noted(con):
    resp = ce(
        con,
        Granularity="MONTHLY",
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
        Filter={"Dimensions": {"Key": "SERVICE", "Values": ["Amazon S3", "Amazon EC2-Instance"]}},
    )
    assert by_keys(resp["ResultsByTime"][0]) == pytest.approx(
        {("Amazon Simple Storage Service",): 5.0, ("Amazon Elastic Compute Cloud - Compute",): 20.0}
    )
    notes = " ".join(resp["aifinops_notes"])
    assert "'Amazon Simple Storage Service'" in notes and "'Amazon Elastic Compute Cloud - Compute'" in notes


def test_unknown_service_value_is_left_as_given_with_a_hint(con):
    resp = ce(
        con, Granularity="MONTHLY", Filter={"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMakr"]}}
    )
    assert total(resp) == 0.0
    assert "Did you mean 'Amazon SageMaker'?" in " ".join(resp["aifinops_notes"])


def test_bedrock_filter_notes_marketplace_models(con):
    resp = ce(con, Granularity="MONTHLY", Filter={"Dimensions": {"Key": "SERVICE", "Values": [BR]}})
    assert total(resp) == pytest.approx(0.25)  # like AWS: Claude is a separate SERVICE
    assert CLAUDE in " ".join(resp["aifinops_notes"])
    plain = ce(con, Granularity="MONTHLY", Filter={"Dimensions": {"Key": "SERVICE", "Values": [SM]}})
    assert "aifinops_notes" not in plain


def test_paging_returns_every_group_exactly_once(con):
    request = {
        "TimePeriod": OCT,
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
    }
    whole = get_cost_and_usage(con, dict(request), page_size=1000)
    expected = [
        (r["TimePeriod"]["Start"], tuple(g["Keys"]), g["Metrics"]["UnblendedCost"]["Amount"])
        for r in whole["ResultsByTime"]
        for g in r["Groups"]
    ]
    assert len(expected) == 13 and "NextPageToken" not in whole  # 13 October rows, distinct day x usage type
    seen, pages = [], 0
    page_request = dict(request)
    while True:
        resp = get_cost_and_usage(con, page_request, page_size=3)
        pages += 1
        assert len(resp["ResultsByTime"]) == 31  # every page carries every period
        seen += [
            (r["TimePeriod"]["Start"], tuple(g["Keys"]), g["Metrics"]["UnblendedCost"]["Amount"])
            for r in resp["ResultsByTime"]
            for g in r["Groups"]
        ]
        if "NextPageToken" not in resp:
            break
        page_request = dict(request, NextPageToken=resp["NextPageToken"])
    assert pages > 2
    assert len(seen) == len(set(seen)) and sorted(seen) == sorted(expected)
    with pytest.raises(ArgumentError, match="NextPageToken"):
        get_cost_and_usage(
            con, dict(request, Granularity="MONTHLY", NextPageToken=page_request["NextPageToken"])
        )


@pytest.mark.parametrize(
    "request_update, message",
    [
        ({"Metrics": ["UnblendedCosts"]}, "Did you mean 'UnblendedCost'"),
        ({"GroupBy": [{"Type": "DIMENSION", "Key": "SERVCE"}]}, "Did you mean 'SERVICE'"),
        (
            {"Filter": {"Dimensions": {"Key": "CHARGE_TYPE", "Values": ["Credit"]}}},
            "Did you mean 'RECORD_TYPE'",
        ),
        ({"Filter": {"Dimensions": {"Key": "AZ", "Values": ["us-east-1a"]}}}, "not in the store"),
        ({"Granularity": "HOURLY"}, "HOURLY"),
        (
            {"GroupBy": [{"Type": "DIMENSION", "Key": k} for k in ("SERVICE", "REGION", "USAGE_TYPE")]},
            "at most 2",
        ),
        ({"TimePeriod": {"Start": "2026-10-05", "End": "2026-10-05"}}, "not after"),
        ({"Filters": {}}, "Did you mean 'Filter'"),
        (
            {"Filter": {"Dimensions": {"Key": "SERVICE", "Values": [SM]}, "Tags": {"Key": "team"}}},
            "exactly one",
        ),
        ({"GroupBy": [{"Type": "TAG", "Key": 'te"am'}]}, "tag key"),
    ],
)
def test_bad_requests_raise_clear_errors(con, request_update, message):
    with pytest.raises(ArgumentError, match=message) as info:
        ce(con, **request_update)
    assert "To fix:" in str(info.value)


def test_values_are_bound_not_spliced(con):
    hostile = "x') OR TRUE OR ('"
    resp = ce(con, Granularity="MONTHLY", Filter={"Dimensions": {"Key": "USAGE_TYPE", "Values": [hostile]}})
    assert total(resp) == 0.0
    assert total(ce(con, Granularity="MONTHLY", Filter={"Tags": {"Key": "team", "Values": [hostile]}})) == 0.0


def test_cost_breakdown_rows(con):
    rows = cost_breakdown(
        con, "2026-10-01", "2026-11-01", ["service", "tag:team"], filters={"ai_service": "bedrock"}
    )
    assert [(r["service"], r["tag:team"], r["amount"]) for r in rows] == [
        (CLAUDE, "nlp", pytest.approx(3.0)),
        (BR, "vision", pytest.approx(0.25)),
    ]
    assert rows[0]["start"] == "2026-10-01" and rows[0]["unit"] == "USD"
    untagged = cost_breakdown(con, None, None, ["tag:team"], granularity="MONTHLY")
    assert {(r["start"], r["tag:team"]): r["amount"] for r in untagged}[
        ("2026-10-01", None)
    ] == pytest.approx(22.45)
    with pytest.raises(ArgumentError, match="Did you mean 'service'"):
        cost_breakdown(con, "2026-10-01", "2026-11-01", ["servce"])


def test_data_period(con, tmp_path):
    assert data_period(con) == (date(2026, 10, 1), date(2026, 11, 2))
    with (
        Store(tmp_path / "empty.duckdb").connect() as empty,
        pytest.raises(StoreError, match="no usage data"),
    ):
        data_period(empty)


def test_ai_cost_summary_defaults_to_last_full_month(con):
    s = ai_cost_summary(con)
    assert (s["start"], s["end"]) == ("2026-10-01", "2026-11-01")
    assert s["total_cost_usd"] == pytest.approx(OCT_TOTAL)
    assert s["ai_cost_usd"] == pytest.approx(OCT_AI)
    assert s["ai_share"] == pytest.approx(136.0 / 140.2)
    assert s["by_ai_service"] == pytest.approx(
        {
            "sagemaker": 107.5,
            "gpu-ec2": 20.0,
            "s3": 4.0,
            "bedrock": 3.25,
            "comprehend": 0.75,
            "data-transfer": 0.5,
        }
    )
    assert list(s["by_ai_service"])[0] == "sagemaker"
    assert s["by_workload"] == pytest.approx(
        {
            "training": 100.0,
            "compute": 20.0,
            "inference": 7.5,
            "storage": 4.0,
            "tokens": 3.25,
            "other": 0.75,
            "transfer": 0.5,
        }
    )
    assert sum(s["by_ai_service"].values()) == pytest.approx(s["ai_cost_usd"])
    assert sum(s["by_workload"].values()) == pytest.approx(s["ai_cost_usd"])
    drivers = {d["id"]: d for d in s["drivers"]}
    gpu, data, hosting = (
        drivers[k] for k in ("gpu_instance_hours", "data_storage_transfer", "model_hosting_endpoints")
    )
    assert gpu["cost_usd"] == pytest.approx(10 + 100 - 5 + 20)  # rows 1, 2, 13 (SageMaker GPU) + 8 (EC2)
    assert data["cost_usd"] == pytest.approx(4 + 0.5)  # rows 6, 10; row 7 is not AI
    assert hosting["cost_usd"] == pytest.approx(10 + 2.5 - 5)  # rows 1, 3, 13 (CPU endpoint included)
    assert s["other_ai_cost_usd"] == pytest.approx(0.25 + 3 + 0.75)  # rows 4, 5, 11
    overlap = 10 - 5  # rows 1 and 13 are GPU hours and hosting
    assert gpu["cost_usd"] + data["cost_usd"] + hosting["cost_usd"] - overlap + s[
        "other_ai_cost_usd"
    ] == pytest.approx(s["ai_cost_usd"])
    assert gpu["share_of_ai"] == pytest.approx(125 / 136)
    assert gpu["expected_share"] == {"min": 0.6, "max": 0.8} and gpu["in_range"] is False  # 92% > 80%
    assert data["in_range"] is False and hosting["in_range"] is False  # 3.3% < 10%, 5.5% < 15%


def test_ai_cost_summary_explicit_period(con):
    s = ai_cost_summary(con, "2026-11-01", "2026-11-02")
    assert s["ai_cost_usd"] == pytest.approx(10.0) and s["ai_share"] == pytest.approx(1.0)
    assert s["drivers"][0]["share_of_ai"] == pytest.approx(1.0)


# ---------------------------------------------------------------- property

_SERVICES = [
    ("AmazonSageMaker", SM, "USE1-Host:ml.g5.xlarge"),
    ("AmazonEC2", "EC2", "BoxUsage:p5.48xlarge"),
    ("AmazonEC2", "EC2", "EBS:VolumeUsage.gp3"),
    ("AmazonBedrockFoundationModels", CLAUDE, "USE1-MP:x"),
    ("AmazonS3", "S3", "TimedStorage-ByteHrs"),
    ("newservice", "", ""),
]
_row_strategy = st.builds(
    lambda s, day, cost, qty, team, ai, rtype: _row(
        str(date(2026, 9, 28) + timedelta(days=day)),
        s[0],
        s[2],
        cost,
        qty,
        "Hrs",
        service_name=s[1],
        billing_entity="AWS Marketplace" if s[1] == CLAUDE else "AWS",
        is_ai=ai,
        line_item_type=rtype,
        tags=json.dumps({"team": team}) if team else "{}",
    ),
    st.sampled_from(_SERVICES),
    st.integers(0, 40),
    st.floats(-50, 500, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
    st.sampled_from([None, "vision", "nlp", ""]),
    st.booleans(),
    st.sampled_from(["Usage", "Credit", "Tax"]),
)
_group_strategy = st.one_of(
    st.sampled_from([{"Type": "DIMENSION", "Key": k} for k in DIMENSIONS]),
    st.just({"Type": "TAG", "Key": "team"}),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(_row_strategy, max_size=12),
    group=_group_strategy,
    granularity=st.sampled_from(["DAILY", "MONTHLY"]),
    start_day=st.integers(0, 30),
    days=st.integers(1, 20),
    metric=st.sampled_from(["UnblendedCost", "AmortizedCost", "ListCost", "UsageQuantity"]),
)
def test_any_single_group_by_sums_to_the_ungrouped_total(
    tmp_path_factory, rows, group, granularity, start_day, days, metric
):
    store = Store(tmp_path_factory.getbasetemp() / "property.duckdb")
    with store.connect() as c:
        c.execute("DELETE FROM usage_daily")
        insert_usage(c, rows)
        start = date(2026, 9, 28) + timedelta(days=start_day)
        request = {
            "TimePeriod": {"Start": str(start), "End": str(start + timedelta(days=days))},
            "Granularity": granularity,
            "Metrics": [metric],
        }
        ungrouped = get_cost_and_usage(c, request)
        grouped = get_cost_and_usage(c, dict(request, GroupBy=[group]), page_size=10**6)
    assert len(ungrouped["ResultsByTime"]) == len(grouped["ResultsByTime"])
    field = "usage_quantity" if metric == "UsageQuantity" else "billed_cost"  # _row: effective = list = billed
    end = start + timedelta(days=days)
    periods = [(date.fromisoformat(r["TimePeriod"]["Start"]), date.fromisoformat(r["TimePeriod"]["End"]))
               for r in ungrouped["ResultsByTime"]]
    # The periods tile [start, end) exactly (End exclusive), and each Total is the sum of its rows, by hand.
    assert periods[0][0] == start and periods[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(periods, periods[1:], strict=False))
    for (p_start, p_end), whole in zip(periods, ungrouped["ResultsByTime"], strict=True):
        expected = math.fsum(r[field] for r in rows if p_start <= r["usage_date"] < p_end)
        assert isinstance(whole["Total"][metric]["Amount"], str)
        assert float(whole["Total"][metric]["Amount"]) == pytest.approx(expected, abs=1e-6)
    for whole, parts in zip(ungrouped["ResultsByTime"], grouped["ResultsByTime"], strict=True):
        assert whole["TimePeriod"] == parts["TimePeriod"] and parts["Total"] == {}
        part_sum = sum(float(g["Metrics"][metric]["Amount"]) for g in parts["Groups"])
        assert part_sum == pytest.approx(float(whole["Total"][metric]["Amount"]), abs=1e-6)
