"""`aifinops ingest <folder>` on a copy of the S3 BedrockModelInvocationLogs prefix: one row per request, tokens as
logged, no prompt or completion text in the store, a prefix hash that is equal exactly when the prompts' first
4,096 characters are; a damaged file leaves the store as it was."""

from __future__ import annotations

import gzip
import hashlib
import json

import duckdb

from clirun import run_cli
from invocation_records import ACCOUNT, ROLE, converse_record, invoke_record, json_lines_gz

LONG_SYSTEM = "You are the support assistant of Acme. Policy: " + "refunds within 30 days; " * 200  # 4,847 chars


def _write_logs(root, hour: str, name: str, records: list[dict]) -> None:
    folder = root / "AWSLogs" / ACCOUNT / "BedrockModelInvocationLogs" / "us-east-1" / "2026" / "03" / "09" / hour
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(json_lines_gz(records))


def _records():
    return [
        converse_record("req-1", "2026-03-09T14:00:05Z", LONG_SYSTEM, "Where is order 1?", input_tokens=1500,
                        output_tokens=200, cache_read=0, cache_write=1400, metadata={"team": "support"}),
        converse_record("req-2", "2026-03-09T14:10:05Z", LONG_SYSTEM, "Where is order 2?", input_tokens=100,
                        output_tokens=220, cache_read=1400, cache_write=0, metadata={"team": "support"}),
        converse_record("req-3", "2026-03-09T14:20:05Z", "Short system.", "Hi", input_tokens=12, output_tokens=5,
                        cache_read=None, cache_write=None),
        invoke_record("req-4", "2026-03-09T15:01:00Z", "Summarise ticket 7",
                      model="us.anthropic.claude-3-5-haiku-20241022-v1:0", input_tokens=40, output_tokens=60,
                      inference_region="us-west-2"),
    ]


def test_a_log_folder_loads_one_row_per_request(tmp_path):
    logs = tmp_path / "bedrock-logs"
    records = _records()
    _write_logs(logs, "14", "20260309T140000000Z_a1b2c3.json.gz", records[:3])
    _write_logs(logs, "15", "20260309T150000000Z_d4e5f6.json.gz", records[3:])
    store = tmp_path / "s.duckdb"
    proc = run_cli("ingest", str(logs), "--store", str(store), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)["loaded"][0]
    assert loaded["kind"] == "bedrock-invocation-logs" and loaded["files"] == 2 and loaded["invocations"] == 4
    said = run_cli("ingest", str(logs), "--store", str(tmp_path / "again.duckdb")).stderr
    assert "Bedrock model invocation logs" in said and "4 requests from 2 files" in " ".join(said.split())
    assert "0 resources" not in said
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute(
            """SELECT request_id, strftime(ts, '%Y-%m-%d %H:%M:%S'), account_id, region, operation, input_tokens,
                      output_tokens, cache_read_tokens, cache_write_tokens, identity_arn, inference_profile_arn,
                      inference_region, request_metadata->>'team'
               FROM bedrock_invocations ORDER BY request_id""").fetchall()
        assert rows == [
            ("req-1", "2026-03-09 14:00:05", ACCOUNT, "us-east-1", "Converse", 1500, 200, 0, 1400, ROLE, None, None,
             "support"),
            ("req-2", "2026-03-09 14:10:05", ACCOUNT, "us-east-1", "Converse", 100, 220, 1400, 0, ROLE, None, None,
             "support"),
            ("req-3", "2026-03-09 14:20:05", ACCOUNT, "us-east-1", "Converse", 12, 5, None, None, ROLE, None, None,
             None),
            ("req-4", "2026-03-09 15:01:00", ACCOUNT, "us-east-1", "InvokeModel", 40, 60, None, None,
             f"arn:aws:iam::{ACCOUNT}:user/analyst",
             f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0",
             "us-west-2", None),
        ]
        hashes = dict(con.execute("SELECT request_id, prompt_prefix_sha256 FROM bedrock_invocations").fetchall())
        sizes = con.execute("SELECT request_id, prompt_chars, prompt_prefix_chars FROM bedrock_invocations "
                            "ORDER BY request_id").fetchall()
        everything = " ".join(str(r) for r in con.execute("SELECT * FROM bedrock_invocations").fetchall())
    # the two support prompts share their first 4,096 characters (the system prompt alone is longer)
    assert hashes["req-1"] == hashes["req-2"] and len({hashes["req-1"], hashes["req-3"], hashes["req-4"]}) == 3
    assert len(LONG_SYSTEM) == 4847
    # "system:" + system + "\n" + "user:" + user: 7 + 4847 + 1 + 5 + 17 characters
    assert sizes[0] == ("req-1", 4877, 4096) and sizes[2] == ("req-3", 7 + 13 + 1 + 5 + 2, 28)
    assert hashes["req-3"] == hashlib.sha256(b"system:Short system.\nuser:Hi").hexdigest()
    # no prompt or completion text is stored
    assert "refunds within" not in everything and "Where is order" not in everything
    assert "SECRET-COMPLETION-TEXT" not in everything and "Summarise ticket" not in everything


def test_loading_the_folder_again_replaces_its_rows(tmp_path):
    logs = tmp_path / "logs"
    _write_logs(logs, "14", "a.json.gz", _records())
    store = tmp_path / "s.duckdb"
    for _ in range(2):
        assert run_cli("ingest", str(logs), "--store", str(store)).returncode == 0
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT request_id) FROM bedrock_invocations").fetchone() == (4, 4)


def test_a_damaged_file_is_named_and_nothing_is_loaded(tmp_path):
    logs = tmp_path / "logs"
    _write_logs(logs, "14", "a.json.gz", _records()[:2])
    _write_logs(logs, "15", "b.json.gz", _records()[2:])
    damaged = next((logs).rglob("b.json.gz"))
    damaged.write_bytes(damaged.read_bytes()[:40])  # a partial copy
    store = tmp_path / "s.duckdb"
    proc = run_cli("ingest", str(logs), "--store", str(store))
    assert proc.returncode != 0
    assert "b.json.gz" in proc.stderr and "damaged gzip" in proc.stderr and "Traceback" not in proc.stderr
    if store.exists():
        with duckdb.connect(str(store), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM bedrock_invocations").fetchone() == (0,)


def test_plain_json_lines_and_a_bad_line(tmp_path):
    logs = tmp_path / "exported"
    logs.mkdir()
    lines = [json.dumps(r) for r in _records()[:2]]
    (logs / "part.jsonl").write_text("\n".join(lines) + "\n")
    store = tmp_path / "s.duckdb"
    assert run_cli("ingest", str(logs), "--store", str(store)).returncode == 0
    (logs / "part.jsonl").write_text(lines[0] + "\n{not json\n")
    proc = run_cli("ingest", str(logs), "--store", str(store))
    assert proc.returncode != 0 and "part.jsonl line 2: not valid JSON" in proc.stderr
    with duckdb.connect(str(store), read_only=True) as con:  # the earlier load is intact
        assert con.execute("SELECT count(*) FROM bedrock_invocations").fetchone() == (2,)



def test_record_fields_beyond_the_tokens():
    """A failed call's errorCode, the latency tier, an application inference profile, tools in the cache prefix,
    and a record that is not a ModelInvocationLog (a large-data object) left out."""
    from aifinops.ingest.bedrock_logs import InvocationRows, invocation_row

    profile = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/a1b2c3"
    record = converse_record("req-e", "2026-03-09T14:00:05.250Z", "Sys.", "Hi", model=profile)
    record.update({"errorCode": "ThrottlingException", "performanceConfig": {"latency": "optimized"}})
    record["input"]["inputBodyJson"]["toolConfig"] = {"tools": [{"toolSpec": {"name": "lookup"}}]}
    row = invocation_row(record)
    assert row is not None
    assert (row["status"], row["latency_tier"], row["inference_profile_arn"], row["model_id"]) == (
        "ThrottlingException", "optimized", profile, profile)
    assert str(row["ts"]) == "2026-03-09 14:00:05.250000"
    tools = '[{"toolSpec":{"name":"lookup"}}]'
    assert row["prompt_chars"] == len("tools:" + tools + "\nsystem:Sys.\nuser:Hi")
    rows = InvocationRows()
    assert rows.add(record) and not rows.add({"schemaType": "SomethingElse"}) and not rows.add([1, 2])
    assert (len(rows), rows.not_records) == (1, 2)


def test_a_file_too_big_to_be_a_bedrock_log_is_refused_before_it_is_parsed(monkeypatch):
    """A gzip that inflates past the cap (a bomb, or a file that is not a log) is refused by name, unparsed."""
    import pytest

    from aifinops.errors import InputError
    from aifinops.ingest import bedrock_logs

    monkeypatch.setattr(bedrock_logs, "MAX_FILE_BYTES", 1000)
    small = json_lines_gz([converse_record("r", "2026-03-09T14:00:00Z", "s", "u")])
    assert len(list(bedrock_logs.records_in(small, "small.json.gz"))) == 1
    with pytest.raises(InputError, match=r"big\.json\.gz: more than 1,000 bytes of JSON, not a Bedrock log file"):
        list(bedrock_logs.records_in(gzip.compress(b" " * 5000), "big.json.gz"))
