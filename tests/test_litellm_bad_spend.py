"""A LiteLLM spend-log row whose spend is not a number ("12,3", a decimal comma) is refused by ``aifinops ingest``
with one line naming the file, the record and its request id, and the fix; nothing of that file is stored and the
requests ingested before stay as they were. The CLI runs as a subprocess; the store is read back with plain SQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from clirun import run_cli

DAY = "2026-05-03"


def _row(request_id: str, spend: object) -> dict:
    return {"request_id": request_id, "call_type": "acompletion", "spend": spend, "prompt_tokens": 100,
            "completion_tokens": 20, "startTime": f"{DAY}T10:00:00.000Z", "endTime": f"{DAY}T10:00:02.000Z",
            "model": "bedrock/amazon.nova-lite-v1:0", "custom_llm_provider": "bedrock", "user": "team-a",
            "status": "success"}


def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(rows))
    else:
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return path


def _stored(store: Path) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("SELECT request_id, spend_usd FROM gateway_requests ORDER BY request_id").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_a_spend_that_is_not_a_number_is_one_clear_line_and_nothing_is_written(tmp_path, suffix):
    store = tmp_path / "s.duckdb"
    good = _write(tmp_path / f"good{suffix}", [_row("req-ok", "0.5")])
    done = run_cli("ingest", str(good), "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert _stored(store) == [("req-ok", 0.5)]

    bad = _write(tmp_path / f"bad{suffix}", [_row("req-1", "0.25"), _row("req-2", "12,3"), _row("req-3", "1")])
    done = run_cli("ingest", str(bad), "--store", str(store))
    assert done.returncode == 2, (done.stdout, done.stderr)
    message = done.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    for part in (str(bad), "record 2", "'req-2'", "'12,3'", "not a number", "12.3", "nothing was stored"):
        assert part in message, (part, message)
    # the earlier ingest stays, and no request of the refused file is in the store
    assert _stored(store) == [("req-ok", 0.5)]


def test_an_empty_spend_still_reads_as_zero(tmp_path):
    store = tmp_path / "s.duckdb"
    logs = _write(tmp_path / "logs.csv", [_row("req-a", ""), _row("req-b", "2.5")])
    done = run_cli("ingest", str(logs), "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert _stored(store) == [("req-a", 0.0), ("req-b", 2.5)]


@pytest.mark.parametrize(("field", "value"), [("prompt_tokens", "1,200"), ("completion_tokens", "many"),
                                              ("prompt_tokens", "NaN")])
def test_a_token_count_that_is_not_a_number_is_refused_not_read_as_zero(tmp_path, field, value):
    store = tmp_path / "s.duckdb"
    good = _write(tmp_path / "good.csv", [_row("req-ok", "0.5")])
    assert run_cli("ingest", str(good), "--store", str(store)).returncode == 0
    rows = [_row("req-1", "0.25"), {**_row("req-2", "0.5"), field: value}]
    bad = _write(tmp_path / "bad.csv", rows)
    done = run_cli("ingest", str(bad), "--store", str(store))
    assert done.returncode == 2, (done.stdout, done.stderr)
    message = done.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    for part in (str(bad), "record 2", "'req-2'", field, repr(value), "nothing was stored"):
        assert part in message, (part, message)
    assert _stored(store) == [("req-ok", 0.5)]


def test_empty_token_counts_still_read_as_zero(tmp_path):
    store = tmp_path / "s.duckdb"
    logs = _write(tmp_path / "logs.csv", [{**_row("req-a", "1.5"), "prompt_tokens": "", "completion_tokens": "7.0"}])
    assert run_cli("ingest", str(logs), "--store", str(store)).returncode == 0
    con = duckdb.connect(str(store), read_only=True)
    try:
        assert con.execute("SELECT input_tokens, output_tokens FROM gateway_requests").fetchall() == [(0, 7)]
    finally:
        con.close()
