"""Checks read the account's evidence right (issue 14): a count metric's silence, consolidation of a
low-traffic fleet priced by the instances it removes, price-performance moves without a basis, and the
confidence rule. Stores written by hand in the real tables' shapes; expected dollars computed here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from test_checks_endpoints import (  # the endpoint writers: inventory, metrics and bill rows in their real shapes
    ACCOUNT,
    AS_OF,
    HOURS,
    MONTH_H,
    REGION,
    add_endpoint,
    add_metrics,
    arn,
    bill_endpoint,
    const,
    endpoint_series,
)
from usagerows import findings_by_resource as findings_of
from usagerows import insert_usage, usage_row

IDLE = "sagemaker-idle-endpoint"


def add_coverage(con, name: str, status: str, received: int = 0) -> None:
    """A metrics_coverage row for the endpoint's Invocations series over the test window."""
    start, end = HOURS[0].replace(tzinfo=None), HOURS[-1].replace(tzinfo=None) + timedelta(hours=1)
    con.execute(
        """INSERT INTO metrics_coverage VALUES (?, ?, 'AWS/SageMaker', 'Invocations',
               map(['EndpointName', 'VariantName'], [?, 'AllTraffic']), 'Sum', 3600, ?, ?, ?, ?, ?, NULL, 'test')""",
        [ACCOUNT, REGION, name, start, end, len(HOURS), received, status],
    )


# --- silence ----------------------------------------------------------------------------------------------------


def test_silent_invocations_with_instance_metrics_is_idle(con):
    # CPU and memory every hour of 14 days, not one Invocations datapoint: nobody called it.
    add_endpoint(con, "silent-ep", "ml.m5.xlarge")
    add_metrics(con, endpoint_series("silent-ep", lambda ts: None, cpu=const(3.0), memory=const(20.0)))
    bill_endpoint(con, "silent-ep", "ml.m5.xlarge", 0.23)
    # Nothing at all: still unknown.
    add_endpoint(con, "dark-ep", "ml.m5.large")
    bill_endpoint(con, "dark-ep", "ml.m5.large", 0.115)

    found = findings_of(con, IDLE)
    f = found[arn("silent-ep")]
    assert f.monthly_savings_usd == pytest.approx(0.23 * MONTH_H)  # 14 days x 24 h x $0.23 scaled to 730 h
    assert f.confidence == "high"  # instance metrics every hour, billed rate, 14 days
    variant = f.evidence["variants"]["AllTraffic"]
    assert variant["invocations_sum"] == 0 and variant["invocations_basis"] == "silence-with-instance-metrics"
    assert variant["instance_metric_hours"] == len(HOURS) and variant["invocation_datapoint_hours"] == 0
    assert any("count metric" in a for a in f.assumptions)
    dark = found[arn("dark-ep")]
    assert dark.monthly_savings_usd == 0 and dark.confidence == "low"
    assert dark.evidence["variants"]["AllTraffic"]["invocations_basis"] == "no-data"


def test_silence_is_unknown_when_the_series_read_failed(con):
    # Instance metrics arrived, but collect's read of Invocations timed out: the silence proves nothing.
    add_endpoint(con, "timed-out-ep", "ml.m5.large")
    add_metrics(con, endpoint_series("timed-out-ep", lambda ts: None, cpu=const(3.0)))
    add_coverage(con, "timed-out-ep", "timeout")
    bill_endpoint(con, "timed-out-ep", "ml.m5.large", 0.115)
    # No instance metrics, but the Invocations series was read completely and is empty: zero requests.
    add_endpoint(con, "complete-ep", "ml.m5.large")
    add_coverage(con, "complete-ep", "complete")
    bill_endpoint(con, "complete-ep", "ml.m5.large", 0.115)

    found = findings_of(con, IDLE)
    timed_out = found[arn("timed-out-ep")]
    assert timed_out.monthly_savings_usd == 0 and timed_out.confidence == "low"
    assert timed_out.evidence["variants"]["AllTraffic"]["invocations_basis"] == "series-incomplete"
    complete = found[arn("complete-ep")]
    assert complete.monthly_savings_usd == pytest.approx(0.115 * MONTH_H)
    assert complete.evidence["variants"]["AllTraffic"]["invocations_basis"] == "silence-complete-series"


def test_partly_covered_silence_lowers_confidence(con):
    # Instance metrics in 40% of the hours: idle (nothing counted) but the evidence is thin.
    add_endpoint(con, "patchy-ep", "ml.m5.large")
    covered = set(HOURS[: int(len(HOURS) * 0.4)])
    add_metrics(con, endpoint_series("patchy-ep", lambda ts: None, cpu=lambda ts: 2.0 if ts in covered else None))
    bill_endpoint(con, "patchy-ep", "ml.m5.large", 0.115)
    f = findings_of(con, IDLE)[arn("patchy-ep")]
    assert f.monthly_savings_usd == pytest.approx(0.115 * MONTH_H)
    assert f.confidence == "low"
    assert any("40%" in r for r in f.evidence["confidence_reasons"])


# --- consolidation ----------------------------------------------------------------------------------------------

CONSOLIDATE = "sagemaker-endpoint-consolidation"


def under_a_minute(seed: int):
    """10 to 50 requests every hour (under one a minute), varying by hour, never zero."""
    return lambda ts: float(10 + (ts.hour * 7 + ts.day * 3 + seed * 11) % 41)


def test_low_traffic_fleet_without_images_is_consolidated_at_billed_rates(con):
    # The guide's multi-model case as a collector without DeployedImages sees it: five single-instance CPU
    # endpoints, each under one request a minute, 5% peak CPU per vCPU and 15% memory of an ml.m5.large (8 GiB).
    names = [f"tiny-{i}" for i in range(5)]
    for i, name in enumerate(names):
        add_endpoint(con, name, "ml.m5.large", image=None)
        add_metrics(con, endpoint_series(name, under_a_minute(i), cpu=const(10.0), memory=const(15.0)))
        bill_endpoint(con, name, "ml.m5.large", 0.1)  # the account's own rate, below the $0.115 list price

    found = findings_of(con, CONSOLIDATE)
    assert len(found) == 1
    ((group_id, f),) = found.items()
    assert group_id == f"consolidation:{ACCOUNT}/{REGION}/m5/image-unknown"
    assert sorted(f.evidence["endpoints"]) == names
    # Each: 1.2 GiB (15% of 8) and 0.1 vCPU (CPUUtilization 10 = 5% of each of 2 vCPUs). Five fit one
    # ml.m5.large: 6 GiB <= 0.8 x 8 GiB, 0.5 vCPU <= 60% of 2. Four instances removed at the billed $0.10/h.
    assert f.evidence["plan_instance_type"] == "ml.m5.large" and f.evidence["plan_instances"] == 1
    assert f.evidence["instances_removed"] == 4
    assert f.monthly_savings_usd == pytest.approx(4 * 0.1 * MONTH_H)
    assert f.monthly_cost_usd == pytest.approx(5 * 0.1 * MONTH_H)
    assert all(m["invocations_per_minute"] < 1 for m in f.evidence["members"])
    assert f.confidence == "medium"  # billed rates, full coverage, 14 days; a plan is never 'high'
    assert any("DeployedImages" in a for a in f.assumptions)


# --- previous generation: dollars only through a lower rate or fewer instances --------------------------------

PREVIOUS = "previous-gen-accelerators"
G4DN, G6 = 0.736, 1.01  # this account's billed $/h for ml.g4dn.xlarge and ml.g6.xlarge hosting


def test_busy_g4dn_endpoint_moving_to_a_dearer_g6_is_advice_with_no_dollars(con):
    # One instance at a 70% GPU peak: on an L4 (1.86x, the check's default) it still needs one instance,
    # and ml.g6.xlarge costs more per hour than ml.g4dn.xlarge: no basis for a saving.
    add_endpoint(con, "t4-busy", "ml.g4dn.xlarge")
    add_metrics(con, endpoint_series("t4-busy", const(3000.0), cpu=const(30.0), memory=const(40.0), gpu=const(70.0)))
    bill_endpoint(con, "t4-busy", "ml.g4dn.xlarge", G4DN)
    bill_endpoint(con, "l4-other", "ml.g6.xlarge", G6)  # the account's own g6 rate

    f = findings_of(con, PREVIOUS)[arn("t4-busy")]
    assert f.monthly_savings_usd == 0.0 and f.confidence == "low"
    assert f.evidence["instances_kept"] == 1 and f.evidence["savings_basis"] is None
    assert f.evidence["replacement_rate"]["basis"] == "billing"
    assert f.evidence["price_ratio"] == pytest.approx(G6 / G4DN)
    assert "advice" in f.title


def test_over_provisioned_g4dn_fleet_leaves_fewer_instances_to_the_over_provisioned_check(con):
    # Three instances at a 20% GPU peak: the over-provisioned check keeps max(2, ceil(3 x 20 / 60)) = 2 and claims
    # the third; moving the two kept to the dearer ml.g6.xlarge saves nothing here (no 3 -> 1 below the floor).
    add_endpoint(con, "t4-fleet", "ml.g4dn.xlarge", count=3)
    add_metrics(con, endpoint_series("t4-fleet", const(900.0), cpu=const(10.0), memory=const(30.0), gpu=const(20.0),
                                     count=3))
    bill_endpoint(con, "t4-fleet", "ml.g4dn.xlarge", G4DN, count=3)
    bill_endpoint(con, "l4-other", "ml.g6.xlarge", G6)

    f = findings_of(con, PREVIOUS)[arn("t4-fleet")]
    assert f.evidence["instances"] == 3 and f.evidence["instances_kept"] == 2
    assert f.monthly_savings_usd == 0.0
    assert f.evidence["utilization_coverage"] == pytest.approx(1.0)


def test_previous_generation_cheaper_per_hour_saves_the_rate_difference(con):
    # ml.p3.2xlarge ($3.825 billed) -> ml.g5.2xlarge ($1.515 billed elsewhere in the account): the same hours
    # at the lower rate, 10 h a day for 14 days.

    def train(job: str, itype: str, rate: float, day: int) -> dict:
        return usage_row(usage_date=AS_OF - timedelta(days=day), usage_type=f"USE1-Train:{itype}",
                         resource_id=f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{job}", component="Train",
                         workload="training", instance_type=itype, instance_family=itype.split(".")[1],
                         usage_quantity=10.0, billed_cost=10.0 * rate)

    insert_usage(con, [train("v100", "ml.p3.2xlarge", 3.825, d) for d in range(14)])
    insert_usage(con, [train("a10g", "ml.g5.2xlarge", 1.515, d) for d in range(14)])
    f = findings_of(con, PREVIOUS, {"lookback_days": 14})[f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/v100"]
    assert f.monthly_savings_usd == pytest.approx(14 * 10 * (3.825 - 1.515) * MONTH_H / (14 * 24))
    assert f.confidence == "medium"  # billed rates, 14 days; the move needs a benchmark


# --- Bedrock: shares from the invocation logs -------------------------------------------------------------------

BATCH = "bedrock-batch-candidate"
CACHING = "bedrock-prompt-caching"
NOVA_IN, NOVA_OUT = 0.0008, 0.0032  # the bill's $ per 1K tokens
SERVICE = f"arn:aws:sts::{ACCOUNT}:assumed-role/doc-enricher/worker"
ANALYST = f"arn:aws:sts::{ACCOUNT}:assumed-role/analyst/user1"


def add_invocations(con, rows: list[tuple]) -> None:
    """(ts, model_id, identity, operation, input, output, prompt_chars, prefix_chars, prefix_hash) log rows."""
    con.executemany(
        """INSERT INTO bedrock_invocations (request_id, ts, account_id, region, model_id, operation, input_tokens,
               output_tokens, cache_read_tokens, cache_write_tokens, identity_arn, source, prompt_chars,
               prompt_prefix_chars, prompt_prefix_sha256)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, 'test', ?, ?, ?)""",
        [
            [f"req-{i}", ts.replace(tzinfo=None), ACCOUNT, REGION, model, op, tin, tout, who, chars, pchars, h]
            for i, (ts, model, who, op, tin, tout, chars, pchars, h) in enumerate(rows)
        ],
    )


def bill_tokens(con, model: str, day, kind: str, tokens: float, usd_per_1k: float) -> None:
    insert_usage(con, [usage_row(usage_date=day, service_code="AmazonBedrock", ai_service="bedrock", workload="tokens",
                                 usage_type=f"USE1-{model}-{kind}-tokens", model=model, token_kind=kind,
                                 inference_tier="standard", pricing_unit="1K tokens", usage_quantity=tokens / 1000,
                                 billed_cost=tokens / 1000 * usd_per_1k)])


def test_batch_share_comes_from_the_callers_traffic_shape(con):
    # 28 days: a service role sends 10 calls every hour of every day; an analyst 30 streamed calls an hour,
    # weekdays 9-18 UTC. Each call 20,000 input and 3,000 output tokens. The bill holds the same tokens.
    days = [AS_OF - timedelta(days=i) for i in range(28)]
    calls = []
    for day in days:
        for hour in range(24):
            ts = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            calls += [(ts + timedelta(minutes=5 * k), "amazon.nova-pro-v1:0", SERVICE, "Converse", 20_000, 3_000,
                       None, None, None) for k in range(10)]
            if day.weekday() < 5 and 9 <= hour < 18:
                calls += [(ts + timedelta(minutes=2 * k), "amazon.nova-pro-v1:0", ANALYST, "ConverseStream", 20_000,
                           3_000, None, None, None) for k in range(30)]
    add_invocations(con, calls)
    for day in days:
        n = sum(1 for c in calls if c[0].date() == day)
        bill_tokens(con, "NovaPro", day, "input", n * 20_000, NOVA_IN)
        bill_tokens(con, "NovaPro", day, "output", n * 3_000, NOVA_OUT)

    f = findings_of(con, BATCH)[f"bedrock/{ACCOUNT}/{REGION}/NovaPro"]
    per_call = 20 * NOVA_IN + 3 * NOVA_OUT  # $0.0256
    service = 28 * 240 * per_call
    analyst = 20 * 270 * per_call  # 20 weekdays x 9 h x 30 calls
    assert f.evidence["batchable_share"] == pytest.approx(service / (service + analyst))
    assert f.monthly_savings_usd == pytest.approx(service * MONTH_H / (28 * 24) * 0.5)
    assert f.monthly_cost_usd == pytest.approx((service + analyst) * MONTH_H / (28 * 24))
    callers = {c["identity"]: c for c in f.evidence["callers"]}
    assert callers[SERVICE]["batchable"] and not callers[ANALYST]["batchable"]
    assert f.confidence == "high"  # share measured, billed rates, 27+ days of logs


def test_without_logs_the_batch_share_is_an_assumption_with_low_confidence(con):
    for i in range(28):
        bill_tokens(con, "NovaPro", AS_OF - timedelta(days=i), "input", 20_000_000, NOVA_IN)
        bill_tokens(con, "NovaPro", AS_OF - timedelta(days=i), "output", 4_000_000, NOVA_OUT)
    f = findings_of(con, BATCH)[f"bedrock/{ACCOUNT}/{REGION}/NovaPro"]
    assert f.confidence == "low" and f.evidence["batchable_share"] == 0.5
    assert "assumed" in f.evidence["share_basis"] and any("assumed" in a for a in f.assumptions)
    cost = 28 * (20_000 * NOVA_IN + 4_000 * NOVA_OUT)
    assert f.monthly_savings_usd == pytest.approx(cost * MONTH_H / (28 * 24) * 0.5 * 0.5)


def test_prompt_caching_share_comes_from_the_logged_prefixes(con):
    # Ten days, 09:00-09:58 UTC, a call every 2 minutes: a 24,000-character system prompt and a 400-1,600
    # character question, 4 characters a token. The first call of a day writes the cache (the previous one is a
    # day old, past the 5-minute TTL); the 29 others read it. The shortest prompt, 24,400 characters, is the
    # shared part (the lengths are tight), so each call carries 6,100 prefix tokens.
    sonnet = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    days = [AS_OF - timedelta(days=i) for i in range(10)]
    calls, input_by_day = [], {}
    for day in days:
        for k in range(30):
            question = 400 + 4 * ((k * 37) % 301)  # 400 .. 1,600 characters in steps of 4, 400 included (k = 0)
            chars = 24_000 + question
            ts = datetime(day.year, day.month, day.day, 9, 2 * k, tzinfo=UTC)
            calls.append((ts, sonnet, SERVICE, "Converse", chars // 4, 700, chars, 4096, "h-system-prompt"))
            input_by_day[day] = input_by_day.get(day, 0) + chars // 4
    add_invocations(con, calls)
    for day in days:
        bill_tokens(con, "Claude Sonnet 4.5", day, "input", input_by_day[day], 0.003)
        bill_tokens(con, "Claude Sonnet 4.5", day, "output", 30 * 700, 0.015)

    f = findings_of(con, CACHING)[f"bedrock/{ACCOUNT}/{REGION}/Claude Sonnet 4.5"]
    total_input = sum(input_by_day.values())
    reads, writes = 10 * 29 * 6_100, 10 * 6_100
    share = (reads * (1 - 0.1) + writes * (1 - 1.25)) / total_input
    monthly_input = total_input / 1000 * 0.003 * MONTH_H / (10 * 24)
    assert f.evidence["saved_share_of_input_cost"] == pytest.approx(share)
    assert f.monthly_savings_usd == pytest.approx(monthly_input * share)
    assert f.evidence["reads_per_write"] == pytest.approx(29.0)
    assert f.confidence == "high" and "invocation logs" in f.evidence["share_basis"]


def test_prompts_that_never_repeat_within_the_ttl_give_no_caching_finding(con):
    # One call an hour with the same long prompt: every call is a cache write (1.25x), nothing is saved.
    sonnet = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    days = [AS_OF - timedelta(days=i) for i in range(10)]
    calls = [(datetime(d.year, d.month, d.day, h, tzinfo=UTC), sonnet, SERVICE, "Converse", 6_100, 700, 24_400, 4096,
              "h-hourly") for d in days for h in range(24)]
    add_invocations(con, calls)
    for day in days:
        bill_tokens(con, "Claude Sonnet 4.5", day, "input", 24 * 6_100, 0.003)
        bill_tokens(con, "Claude Sonnet 4.5", day, "output", 24 * 700, 0.015)
    assert findings_of(con, CACHING) == {}


# --- the confidence rule ------------------------------------------------------------------------------------------


def test_confidence_levels_follow_the_evidence():
    from aifinops.checks._confidence import confidence

    assert confidence(coverage=0.95, days=14, lookback_days=14, price_basis="billing").level == "high"
    assert confidence(coverage=0.6, days=14, lookback_days=14, price_basis="billing").level == "medium"
    assert confidence(coverage=0.4, days=14, lookback_days=14, price_basis="billing").level == "low"
    assert confidence(days=14, lookback_days=30, price_basis="list").level == "medium"
    assert confidence(days=7, lookback_days=7, price_basis="billing").level == "high"  # the whole look-back
    assert confidence(days=2, lookback_days=14, price_basis="billing").level == "low"
    assert confidence(price_basis=None).level == "low"  # no price at all
    assert confidence(price_basis="billing", measured_share=False).level == "low"
    graded = confidence(coverage=0.6, price_basis="list")
    assert graded.level == "medium" and len(graded.reasons) == 2


def test_docs_state_the_confidence_rule():
    from aifinops.checks.docs import render_checks_markdown

    text = render_checks_markdown()
    assert "## Confidence" in text and "**high** = every kind that applies is full" in text
    assert "90%" in text and "confidence_reasons" in text


def test_silent_endpoint_created_after_the_window_is_judged_on_its_metric_history(con):
    # moto (and an endpoint re-created under its old name) reports a CreationTime after the metrics: the
    # instance metrics' first hour, not the creation time, starts what the checks observe.
    add_endpoint(con, "recreated-ep", "ml.m5.large", created=datetime(2025, 7, 5, tzinfo=UTC))
    add_metrics(con, endpoint_series("recreated-ep", lambda ts: None, cpu=const(2.0), memory=const(10.0)))
    bill_endpoint(con, "recreated-ep", "ml.m5.large", 0.115)
    f = findings_of(con, IDLE)[arn("recreated-ep")]
    assert f.evidence["observed_hours"] == len(HOURS)
    assert f.monthly_savings_usd == pytest.approx(0.115 * MONTH_H) and f.confidence == "high"


def test_days_of_data_allow_a_partial_first_day():
    from aifinops.checks._confidence import confidence

    assert confidence(days=13.3, lookback_days=14, price_basis="billing").level == "high"  # 95% of 14 days
    assert confidence(days=12.0, lookback_days=14, price_basis="billing").level == "medium"  # 86%


def test_without_logs_the_bill_per_caller_gives_the_batch_share(con):
    # CUR 2.0 names the caller of each Bedrock line (line_item_iam_principal, kept in the tags): a service role
    # spends the same every day; an analyst only on weekdays. The pipeline's share is batchable.
    import json

    def billed(day, who: str, kind: str, tokens: float, usd_per_1k: float) -> dict:
        return usage_row(usage_date=day, service_code="AmazonBedrock", ai_service="bedrock", workload="tokens",
                         usage_type=f"USE1-NovaPro-{kind}-tokens", model="NovaPro", token_kind=kind,
                         inference_tier="standard", pricing_unit="1K tokens", usage_quantity=tokens / 1000,
                         billed_cost=tokens / 1000 * usd_per_1k, tags=json.dumps({"aws_iamprincipal": who}))

    rows = []
    for i in range(28):
        day = AS_OF - timedelta(days=i)
        rows += [billed(day, SERVICE, "input", 4_800_000, NOVA_IN), billed(day, SERVICE, "output", 720_000, NOVA_OUT)]
        if day.weekday() < 5:
            rows += [billed(day, ANALYST, "input", 5_400_000, NOVA_IN),
                     billed(day, ANALYST, "output", 810_000, NOVA_OUT)]
    insert_usage(con, rows)
    f = findings_of(con, BATCH)[f"bedrock/{ACCOUNT}/{REGION}/NovaPro"]
    service = 28 * (4_800 * NOVA_IN + 720 * NOVA_OUT)
    analyst = 20 * (5_400 * NOVA_IN + 810 * NOVA_OUT)
    assert f.evidence["batchable_share"] == pytest.approx(service / (service + analyst))
    assert f.monthly_savings_usd == pytest.approx(service * MONTH_H / (28 * 24) * 0.5)
    assert f.confidence == "medium" and "per caller" in f.evidence["share_basis"]


def test_comprehend_endpoint_whose_series_was_read_completely_and_is_empty_is_idle(con):
    from aifinops.pricing import load_catalog
    from test_checks_endpoints import add_comprehend, comprehend_arn

    add_comprehend(con, "quiet-cls", 1)
    add_comprehend(con, "dark-cls", 1)
    start, end = HOURS[0].replace(tzinfo=None), HOURS[-1].replace(tzinfo=None) + timedelta(hours=1)
    con.execute(
        """INSERT INTO metrics_coverage VALUES (?, ?, 'AWS/Comprehend', 'ConsumedInferenceUnits',
               map(['EndpointArn'], [?]), 'Sum', 3600, ?, ?, ?, 0, 'complete', NULL, 'test')""",
        [ACCOUNT, REGION, comprehend_arn("quiet-cls"), start, end, len(HOURS)],
    )
    add_comprehend(con, "used-cls", 1)  # a busy neighbour: the collection wrote datapoints for it
    add_metrics(con, [("AWS/Comprehend", "ConsumedInferenceUnits", {"EndpointArn": comprehend_arn("used-cls")}, ts,
                       3.0, "Sum") for ts in HOURS])
    bill_endpoint(con, "unrelated", "ml.m5.large", 0.115)
    found = findings_of(con, "comprehend-idle-endpoint")
    assert comprehend_arn("used-cls") not in found
    usd_per_iu_s = (
        load_catalog().best("comprehend", REGION, None, api="custom real-time endpoint per inference unit-second")
        .usd_per_unit
    )
    quiet = found[comprehend_arn("quiet-cls")]
    assert quiet.monthly_savings_usd == pytest.approx(usd_per_iu_s * 3600 * MONTH_H)
    assert "read completely" in quiet.evidence["consumed_basis"]
    assert found[comprehend_arn("dark-cls")].monthly_savings_usd == 0.0  # no coverage row: still unknown
