"""Generate an account into a moto server, scan it with the CLI as a subprocess, score the scan."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .generate import REGIONS, Account, generate
from .score import Score, score

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def moto_env(url: str, home: Path) -> dict[str, str]:
    """What boto3 (in-process or in the scan subprocess) needs to talk to the moto server only."""
    return {
        "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"), "AWS_MAX_ATTEMPTS": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }  # fmt: skip


@contextmanager
def moto_server(home: Path, plain: bool = False) -> Iterator[str]:
    """A moto server on 127.0.0.1 and a free port, with the indexed GetMetricData unless ``plain``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "moto.log", "wb") as log:
        cmd = [str(BIN / "moto_server")] if plain else [sys.executable, "-m", "bench.eval.fast_moto"]
        proc = subprocess.Popen([*cmd, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log, cwd=ROOT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(url + "/moto-api/data.json", timeout=2):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"moto_server did not start; see {home / 'moto.log'}") from None
                    time.sleep(0.1)
            yield url
        finally:
            proc.kill()
            proc.wait(timeout=10)


def reset(url: str) -> None:
    req = urllib.request.Request(url + "/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=30):
        pass


@dataclass
class Run:
    account: Account
    doc: dict[str, Any]
    score: Score
    generate_s: float
    scan_s: float


def run_one(seed: int, url: str, work: Path, scale: int = 1, regions: tuple[str, ...] = REGIONS,
            timeout_s: float = 900) -> Run:
    """A fresh moto state and export for ``seed``, then ``aifinops scan --cur … --aws``, then the score."""
    import boto3

    reset(url)
    home = work / "aws-home"
    home.mkdir(parents=True, exist_ok=True)
    env = moto_env(url, home)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        t0 = time.monotonic()
        account = generate(seed, work / f"seed{seed}", boto3.Session(region_name="us-east-1"), scale=scale,
                           regions=regions)
        generate_s = time.monotonic() - t0
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out = work / f"seed{seed}" / "scan.json"
    args = [str(BIN / "aifinops"), "scan", "--cur", str(account.cur_dir / "data"), "--aws"]
    for region in account.regions:
        args += ["--region", region]
    args += ["--format", "json", "-o", str(out), "--store", str(work / f"seed{seed}" / "store.duckdb")]
    child = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION")}
    child |= env | {"AIFINOPS_CE_CACHE": str(work / f"seed{seed}" / "ce-cache"), "COLUMNS": "200"}
    t0 = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, env=child, timeout=timeout_s)
    scan_s = time.monotonic() - t0
    if done.returncode != 0:
        raise RuntimeError(f"scan of seed {seed} failed ({done.returncode}): {done.stderr[-2000:]}")
    doc = json.loads(out.read_text())
    (work / f"seed{seed}" / "truth.json").write_text(json.dumps([asdict(t) for t in account.truths], indent=1))
    history = scan_history(work / f"seed{seed}" / "store.duckdb")
    return Run(account, doc, score(account.truths, doc, history or None), generate_s, scan_s)  # none: not kept


def scan_history(store: Path) -> list[dict[str, Any]]:
    """Every finding of the store's last recorded scan, in full (the document groups many of one kind)."""
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        rows = con.execute(
            "SELECT finding FROM finding_history WHERE run_id = "
            "(SELECT run_id FROM scan_runs ORDER BY run_at DESC, run_id DESC LIMIT 1) ORDER BY finding_id"
        ).fetchall()
    finally:
        con.close()
    return [json.loads(r[0]) for r in rows]
