"""The rollup's write: the AI attribution of S3 and transfer rows marks what the rules say, in their order.

attribution.apply_ai_attribution is one UPDATE of the rows whose mark changes; the expectation here is the rule as
four UPDATEs in a row (every attributed row cleared, then the tag rule, then the bucket list and inventory for rows
still not AI), written in this test and run on a copy of the same rows."""

from __future__ import annotations

import json
from datetime import date

import duckdb
from tests.usagerows import insert_usage, usage_row

from aifinops import resource_types as rt
from aifinops.attribution import apply_ai_attribution
from aifinops.store import Store

JUNE, MAY = date(2025, 6, 1), date(2025, 5, 1)
TRAINING = json.dumps({"workload_type": "training"})
PRODUCTION = json.dumps({"workload_type": "production"})


def _rows() -> list[dict]:
    """S3 and transfer rows of two months with every combination of tag, bucket and stale mark, and rows of other
    services (never attributed) carrying marks the rule would not give them."""
    rows = []
    n = 0
    for period in (JUNE, MAY):
        for service, ai_service in (("AmazonS3", "s3"), ("AWSDataTransfer", "data-transfer"),
                                    ("AmazonSageMaker", "sagemaker")):
            for tags in (TRAINING, PRODUCTION, "{}"):
                for bucket in ("bucket-env", "bucket-inv", "bucket-both", "bucket-other", None):
                    for stale in ((None, None), (True, "inventory"), (False, None), (True, "tag")):
                        n += 1
                        rows.append(usage_row(billing_period=period, usage_date=period, service_code=service,
                                              ai_service=ai_service, tags=tags, resource_id=bucket,
                                              usage_type=f"type-{n}", billed_cost=float(n), line_items=1,
                                              is_ai=stale[0], ai_reason=stale[1]))
    return rows


def _old_rule(con: duckdb.DuckDBPyConnection, table: str, periods: list[date], env: list[str], inv: list[str]):
    """The attribution as four UPDATEs in a row, on ``table`` (the expectation)."""
    scope = ("ai_service IN ('s3', 'data-transfer') AND billing_period IN ("
             + ", ".join(f"DATE '{p.isoformat()}'" for p in periods) + ")")
    # the rows here carry no tag but workload_type: training marks a row as AI, production does not
    tag = "json_extract_string(tags, '$.workload_type') = 'training'"
    con.execute(f"UPDATE {table} SET is_ai = FALSE, ai_reason = NULL WHERE {scope}")
    con.execute(f"UPDATE {table} SET is_ai = TRUE, ai_reason = 'tag' WHERE {scope} AND {tag}")
    for reason, buckets in (("bucket-list", env), ("inventory", inv)):
        listed = ", ".join(f"'{b}'" for b in buckets)
        con.execute(f"UPDATE {table} SET is_ai = TRUE, ai_reason = '{reason}' WHERE {scope} AND NOT is_ai "
                    f"AND resource_id IN ({listed})")


def test_attribution_marks_what_the_rules_in_order_mark_and_leaves_other_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("AIFINOPS_AI_BUCKETS", "bucket-env, bucket-both")
    store = Store(tmp_path / "s.duckdb")
    with store.connect() as con:
        insert_usage(con, _rows())
        con.execute(
            "INSERT INTO resources (account_id, region, resource_type, resource_id, name, attributes, source) VALUES "
            "('111122223333', 'us-east-1', ?, 'job-1', 'job-1', ?, 'aws')",
            [rt.SAGEMAKER_TRAINING_JOB,
             json.dumps({"OutputDataConfig": {"S3OutputPath": "s3://bucket-inv/out/"},
                         "InputDataConfig": [{"S3Uri": "s3://bucket-both/in/"}]})])
        con.execute("CREATE TEMP TABLE expected AS SELECT * FROM usage_daily")
        _old_rule(con, "expected", [JUNE], ["bucket-env", "bucket-both"], ["bucket-both", "bucket-inv"])
        apply_ai_attribution(con, [JUNE])
        for a, b in (("usage_daily", "expected"), ("expected", "usage_daily")):
            (differ,) = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchone()
            assert differ == 0, (a, b)
        # by hand: a June S3 row of each kind (its stale mark cleared or replaced), and May left as written
        marks = dict(((tags, bucket), (ai, reason)) for tags, bucket, ai, reason in con.execute(
            "SELECT DISTINCT tags, resource_id, is_ai, ai_reason FROM usage_daily WHERE billing_period = ? "
            "AND ai_service = 's3'", [JUNE]).fetchall())
        assert marks[(TRAINING, "bucket-other")] == (True, "tag")
        assert marks[(TRAINING, "bucket-env")] == (True, "tag")
        assert marks[(PRODUCTION, "bucket-both")] == (True, "bucket-list")
        assert marks[(PRODUCTION, "bucket-inv")] == (True, "inventory")
        assert marks[("{}", "bucket-other")] == (False, None)
        assert marks[("{}", None)] == (False, None)
        assert len(marks) == 15  # one mark per (tags, bucket): every stale one replaced
        (may_stale,) = con.execute("SELECT count(*) FROM usage_daily WHERE billing_period = ? AND ai_reason = "
                                   "'inventory' AND resource_id = 'bucket-other'", [MAY]).fetchone()
        assert may_stale == 3 * 3  # of May, each service x tag set keeps the stale mark it was written with


def test_attribution_without_bucket_rules_gives_the_tag_rule(tmp_path, monkeypatch):
    monkeypatch.delenv("AIFINOPS_AI_BUCKETS", raising=False)
    with Store(tmp_path / "s.duckdb").connect() as con:
        insert_usage(con, _rows())
        con.execute("CREATE TEMP TABLE expected AS SELECT * FROM usage_daily")
        _old_rule(con, "expected", [JUNE, MAY], [], [])
        apply_ai_attribution(con)
        for a, b in (("usage_daily", "expected"), ("expected", "usage_daily")):
            (differ,) = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchone()
            assert differ == 0, (a, b)
        assert con.execute("SELECT DISTINCT ai_reason FROM usage_daily WHERE ai_service IN ('s3', 'data-transfer') "
                           "ORDER BY 1 NULLS FIRST").fetchall() == [(None,), ("tag",)]

