# ruff: noqa: F811  (pytest fixtures imported from moto_server are redefined as arguments)
"""Bedrock model invocation logs read live (moto on 127.0.0.1): the logging configuration names the S3 prefix or
the log group; records in their real shape become bedrock_invocations rows; the window and the byte cap hold;
the generated IAM policy is enough (moto enforcing it) and no prompt text reaches the store."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import boto3
import duckdb
import pytest

from aifinops.aws.collect import CollectOptions, collect
from aifinops.aws.iam import iam_policy
from aifinops.aws.session import SessionFactory
from aifinops.store import Store
from clirun import run_cli
from invocation_records import ACCOUNT, ROLE, converse_record, json_lines_gz
from moto_server import aws_env, moto_server  # noqa: F401 - fixtures

NOW = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
BUCKET, PREFIX = "acme-bedrock-logs", "invocations"
SYSTEM = "You answer billing questions for Acme. " * 120  # 4,680 characters: one shared cacheable prefix
USER = f"arn:aws:iam::{ACCOUNT}:user/analyst"


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _key(ts: datetime, name: str, region: str = "us-east-1") -> str:
    return (f"{PREFIX}/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{region}/"
            f"{ts.strftime('%Y/%m/%d/%H')}/{ts.strftime('%Y%m%dT%H%M%S')}000Z_{name}.json.gz")


def _objects() -> dict[str, list[dict]]:
    """Three hours of traffic in the window, one object 20 days old, one of another region."""
    h2, h1, h0 = NOW - timedelta(days=2), NOW - timedelta(days=1), NOW - timedelta(hours=1)
    old = NOW - timedelta(days=20)
    return {
        _key(h2, "a"): [converse_record(f"r2-{i}", _iso(h2 + timedelta(minutes=i)), SYSTEM, f"question {i}",
                                        input_tokens=1300, output_tokens=100, cache_read=1200 if i else 0,
                                        cache_write=0 if i else 1200, metadata={"app": "billing-bot"})
                        for i in range(3)],
        _key(h1, "b"): [converse_record(f"r1-{i}", _iso(h1 + timedelta(minutes=i)), "Short.", f"hi {i}",
                                        identity=USER, input_tokens=20, output_tokens=7) for i in range(2)],
        _key(h0, "c"): [converse_record("r0-0", _iso(h0), SYSTEM, "last question", input_tokens=1310,
                                        output_tokens=90, cache_read=1200, cache_write=0)],
        _key(old, "old"): [converse_record("too-old", _iso(old), "x", "y")],
        _key(h1, "west", region="us-west-2"): [converse_record("west", _iso(h1), "x", "y", region="us-west-2")],
    }


@pytest.fixture
def s3_logs(aws_env):
    aws_env.reset()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    for key, records in _objects().items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=json_lines_gz(records))
    s3.put_object(Bucket=BUCKET, Key="invocations/unrelated/payroll.csv", Body=b"name,salary\n")
    boto3.client("bedrock", region_name="us-east-1").put_model_invocation_logging_configuration(loggingConfig={
        "s3Config": {"bucketName": BUCKET, "keyPrefix": PREFIX},
        "cloudWatchConfig": {"logGroupName": "/bedrock/invocations",
                             "roleArn": f"arn:aws:iam::{ACCOUNT}:role/BedrockLogs"},
        "textDataDeliveryEnabled": True, "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": False})
    return aws_env


def _options(**kw) -> CollectOptions:
    return CollectOptions(regions=["us-east-1"], cost_explorer=False, metric_days=1, **kw)


def _rows(store: Store, sql: str) -> list[tuple]:
    with duckdb.connect(str(store.path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_s3_logs_in_the_window_become_rows(s3_logs, tmp_path):
    store = Store(tmp_path / "s.duckdb")
    result = collect(store, _options(), SessionFactory(), NOW)
    assert result.bedrock_invocations == 6
    assert _rows(store, "SELECT request_id FROM bedrock_invocations ORDER BY request_id") == [
        ("r0-0",), ("r1-0",), ("r1-1",), ("r2-0",), ("r2-1",), ("r2-2",)]
    # tokens per caller, added up by hand from the records above
    assert _rows(store, """SELECT identity_arn, count(*), sum(input_tokens), sum(output_tokens),
                                  sum(cache_read_tokens), sum(cache_write_tokens)
                           FROM bedrock_invocations GROUP BY 1 ORDER BY 1""") == [
        (USER, 2, 40, 14, 0, 0), (ROLE, 4, 3 * 1300 + 1310, 3 * 100 + 90, 2 * 1200 + 1200, 1200)]
    # the four billing-bot prompts share their first 4,096 characters: one prefix hash, repeated
    assert _rows(store, """SELECT count(*), count(DISTINCT prompt_prefix_sha256) FROM bedrock_invocations
                           WHERE identity_arn = '""" + ROLE + "'") == [(4, 1)]
    assert _rows(store, "SELECT DISTINCT source FROM bedrock_invocations") == [("aws",)]
    (attributes,) = _rows(store, "SELECT attributes FROM resources WHERE resource_type = "
                                 "'bedrock-invocation-logging'")[0]
    read = json.loads(attributes)["Read"]
    assert read["Destination"] == f"s3://{BUCKET}/{PREFIX}/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/us-east-1/"
    assert read["Objects"] == 3 and read["Records"] == 6 and read["Truncated"] is False
    assert read["FirstRecordAt"] == _iso(NOW - timedelta(days=2)) and read["LastRecordAt"] == _iso(
        NOW - timedelta(hours=1))
    text = " ".join(str(r) for r in _rows(store, "SELECT * FROM bedrock_invocations"))
    text += " ".join(str(r) for r in _rows(store, "SELECT attributes FROM resources"))
    assert "answer billing questions" not in text and "SECRET-COMPLETION-TEXT" not in text


def test_the_byte_cap_reads_the_newest_objects_and_says_so(s3_logs, tmp_path):
    objects = _objects()
    newest = len(json_lines_gz(objects[_key(NOW - timedelta(hours=1), "c")]))
    store = Store(tmp_path / "s.duckdb")
    collect(store, _options(invocation_log_max_bytes=newest + 10), SessionFactory(), NOW)
    assert _rows(store, "SELECT request_id FROM bedrock_invocations") == [("r0-0",)]
    (attributes,) = _rows(store, "SELECT attributes FROM resources WHERE resource_type = "
                                 "'bedrock-invocation-logging'")[0]
    read = json.loads(attributes)["Read"]
    assert read["Truncated"] is True and read["Objects"] == 1 and read["ObjectsLeftOut"] == 2
    assert read["Bytes"] == newest


def test_the_object_cap_bounds_the_get_object_calls(s3_logs, tmp_path):
    store = Store(tmp_path / "s.duckdb")
    collect(store, _options(invocation_log_max_objects=2), SessionFactory(), NOW)
    # newest first: the last hour's object and the one of a day ago; two days ago is left out
    assert _rows(store, "SELECT request_id FROM bedrock_invocations ORDER BY 1") == [("r0-0",), ("r1-0",), ("r1-1",)]
    (attributes,) = _rows(store, "SELECT attributes FROM resources WHERE resource_type = "
                                 "'bedrock-invocation-logging'")[0]
    read = json.loads(attributes)["Read"]
    assert (read["Objects"], read["ObjectsLeftOut"], read["Truncated"], read["MaxObjects"]) == (2, 1, True, 2)


def test_the_generated_policy_reads_log_objects_and_no_other(s3_logs):
    """moto enforcing the policy's s3:GetObject statement, as `aifinops iam-policy` prints it: a log object is read,
    any other key of the same bucket is refused. (moto's IAM check of ListBucket and of the bedrock and cloudwatch
    actions is not faithful enough to test the rest of the policy here.)"""
    (scoped,) = [st for st in iam_policy()["Statement"] if "s3:GetObject" in st["Action"]]
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="aifinops")
    iam.put_user_policy(UserName="aifinops", PolicyName="aifinops",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [scoped]}))
    key = iam.create_access_key(UserName="aifinops")["AccessKey"]
    session = boto3.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                            region_name="us-east-1")
    s3 = SessionFactory(session=session, max_attempts=1).client("s3")
    log_key = next(k for k in _objects() if "/us-east-1/" in k)
    s3_logs.enforce_iam(True)
    try:
        body = s3.get_object(Bucket=BUCKET, Key=log_key)["Body"].read()
        with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
            s3.get_object(Bucket=BUCKET, Key="invocations/unrelated/payroll.csv")
    finally:
        s3_logs.enforce_iam(False)
    assert [json.loads(line)["requestId"] for line in gzip.decompress(body).splitlines()] == [
        r["requestId"] for r in _objects()[log_key]]


def test_a_log_group_destination_is_read_with_filter_log_events(aws_env, tmp_path):
    aws_env.reset()
    logs = boto3.client("logs", region_name="us-east-1")
    group = "/bedrock/model-invocations"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="aws/bedrock/modelinvocations")
    times = [NOW - timedelta(days=2), NOW - timedelta(hours=5), NOW - timedelta(hours=4), NOW - timedelta(hours=3)]
    logs.put_log_events(logGroupName=group, logStreamName="aws/bedrock/modelinvocations", logEvents=[
        {"timestamp": int(t.timestamp() * 1000),
         "message": json.dumps(converse_record(f"cw-{i}", _iso(t), "Sys.", f"q{i}", input_tokens=10 + i,
                                               output_tokens=5))}
        for i, t in enumerate(times)])
    boto3.client("bedrock", region_name="us-east-1").put_model_invocation_logging_configuration(loggingConfig={
        "cloudWatchConfig": {"logGroupName": group, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/BedrockLogs"},
        "textDataDeliveryEnabled": True})
    store = Store(tmp_path / "s.duckdb")
    # a one-day window: FilterLogEvents is asked for [now - 1 day, now), the event of two days ago stays out
    result = collect(store, _options(days=1), SessionFactory(), NOW)
    assert result.bedrock_invocations == 3
    assert _rows(store, "SELECT request_id, input_tokens FROM bedrock_invocations ORDER BY 1") == [
        ("cw-1", 11), ("cw-2", 12), ("cw-3", 13)]
    (attributes,) = _rows(store, "SELECT attributes FROM resources WHERE resource_type = "
                                 "'bedrock-invocation-logging'")[0]
    assert json.loads(attributes)["Read"]["Destination"] == f"logs:{group}"


def test_logging_off_reads_nothing_and_records_nothing(aws_env, tmp_path):
    aws_env.reset()
    store = Store(tmp_path / "s.duckdb")
    result = collect(store, _options(), SessionFactory(), NOW)
    assert result.bedrock_invocations == 0
    assert _rows(store, "SELECT count(*) FROM resources WHERE resource_type = 'bedrock-invocation-logging'") == [(0,)]
    assert not [s for s in result.skipped if s.service == "bedrock" and s.operation.startswith("GetModel")]


COVERAGE_QUERY = """SELECT namespace, metric_name, dimensions::VARCHAR, statistic, expected_periods, received_periods,
                          status FROM metrics_coverage ORDER BY ALL"""


def test_the_snapshot_folder_carries_invocations_and_coverage_offline(s3_logs, tmp_path):
    """collect --out writes bedrock_invocations.parquet and metrics_coverage.parquet; `aifinops ingest` of the
    folder into a new store gives the same rows as the live collect stored."""
    live = Store(tmp_path / "live.duckdb")
    collect(live, _options(out_dir=tmp_path / "snap"), SessionFactory(), NOW)
    assert (tmp_path / "snap" / "bedrock_invocations.parquet").is_file()
    assert (tmp_path / "snap" / "metrics_coverage.parquet").is_file()
    offline = tmp_path / "offline.duckdb"
    proc = run_cli("ingest", str(tmp_path / "snap"), "--store", str(offline))
    assert proc.returncode == 0, proc.stderr
    columns = "request_id, ts, identity_arn, input_tokens, output_tokens, cache_read_tokens, prompt_prefix_sha256"
    query = f"SELECT {columns} FROM bedrock_invocations ORDER BY request_id"
    with duckdb.connect(str(offline), read_only=True) as con:
        again = con.execute(query).fetchall()
        sources = con.execute("SELECT DISTINCT source FROM bedrock_invocations").fetchall()
        coverage = con.execute(COVERAGE_QUERY).fetchall()
    assert again == _rows(live, query) and len(again) == 6
    assert coverage == _rows(live, COVERAGE_QUERY) and coverage
    assert sources == [(f"snapshot:{(tmp_path / 'snap').resolve()}",)]


def test_collect_options_turn_log_reading_off_and_bound_the_metrics_time(s3_logs, tmp_path):
    env = s3_logs.env
    base = ["collect", "--region", "us-east-1", "--no-cost-explorer", "--metric-days", "1", "-f", "json"]
    on = run_cli(*base, "--store", str(tmp_path / "on.duckdb"), env=env)
    assert on.returncode == 0, on.stderr[-2000:]
    assert json.loads(on.stdout)["bedrock_invocations"] == 6  # the six requests of the window
    off = run_cli(*base, "--no-invocation-logs", "--metrics-budget", "60", "--store", str(tmp_path / "off.duckdb"),
                  env=env)
    assert off.returncode == 0, off.stderr[-2000:]
    assert json.loads(off.stdout)["bedrock_invocations"] == 0
    assert _rows(Store(tmp_path / "off.duckdb"), "SELECT count(*) FROM bedrock_invocations") == [(0,)]
    bad = run_cli(*base, "--metrics-budget", "0", "--store", str(tmp_path / "bad.duckdb"), env=env)
    assert bad.returncode == 2 and "--metrics-budget" in bad.stderr
