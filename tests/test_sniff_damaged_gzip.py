"""A damaged gzip file named like a gateway spend log (``*.json.gz``) is refused with the one-line damaged-gzip
error: the loaders that recognise their files by content (LiteLLM spend logs, Bedrock invocation logs) read its
head through ingest.files.text_head, which treats an unreadable head as "not mine" instead of failing."""

from __future__ import annotations

import gzip

from clirun import run_cli


def test_a_damaged_gzip_spend_log_is_refused_in_one_line(tmp_path):
    good = gzip.compress(b'[{"request_id": "a", "spend": 1.0, "startTime": "2024-10-01T00:00:00Z"}]' * 50)
    # flip bits in the deflate stream after the 10-byte gzip header: the header still says gzip
    damaged = good[:12] + bytes(b ^ 0x55 for b in good[12:40]) + good[40:]
    path = tmp_path / "spend_logs.json.gz"
    path.write_bytes(damaged)
    done = run_cli("ingest", "--store", str(tmp_path / "store.duckdb"), str(path))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    message = " ".join(done.stderr.split())
    assert f"{path}: a damaged gzip file" in message, message
    assert "To fix:" in message
