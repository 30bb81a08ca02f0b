"""`ingest --engine spark` on a real Spark standalone cluster: a master and a worker started on 127.0.0.1
from the pyspark package's own `spark-class` (Java 17), the CLI as a subprocess.

- the cluster's rollup equals DuckDB's (an independent SQL over the two stores, money to the cent);
- a worker killed mid-job (SIGKILL to its process group: the worker and its executor, as when a node dies)
  makes the command fail with one line naming the bound (`--spark-timeout`), the store untouched;
- the master's web UI port given as the master URL fails with one line, no Java stack frame, as soon as
  Spark's registration fails; a port that accepts and never answers fails after `--spark-timeout`.

One cluster serves the module (a JVM each for master and worker start in a few seconds); the killed-worker
test starts its own worker on it. The input is small (bench/gen_cur2.py, 120k rows) but read as many
small files, so the job has many tasks and is still running when its worker dies.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from clirun import run_cli
from localserver import free_port

pytestmark = [pytest.mark.slow]

AIFINOPS = str(Path(sys.executable).parent / "aifinops")
BENCH = Path(__file__).resolve().parent.parent / "bench"
MONEY = ("usage_quantity", "list_cost", "billed_cost", "effective_cost")


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def cluster_env(root: Path) -> dict[str, str]:
    """Everything on 127.0.0.1 (SPARK_LOCAL_IP is what the driver, master and worker bind and advertise)."""
    return {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_DAEMON_MEMORY": "384m", "SPARK_LOG_DIR": str(root / "logs"),
            # no REST submission server (it takes the fixed port 6066)
            "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false"}


def get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return json.load(answer)
    except (OSError, ValueError):
        return None


class Cluster:
    """A standalone master and its workers, each a `spark-class` JVM in its own process group."""

    def __init__(self, root: Path):
        self.root = root
        self.env = cluster_env(root)
        self.port, self.ui_port = free_port(), free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.root / f"{name}.out").open("ab")
        proc = subprocess.Popen([str(spark_home() / "bin" / "spark-class"), *args], stdout=log,
                                stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        self.procs.append(proc)
        return proc

    def state(self) -> dict:
        return get_json(f"http://127.0.0.1:{self.ui_port}/json/") or {}

    def wait(self, what: str, ready, seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ready(self.state()):
                return
            time.sleep(0.5)
        logs = "\n".join(p.read_text()[-1500:] for p in self.root.glob("*.out"))
        raise AssertionError(f"the Spark {what} did not come up:\n{logs}")

    def start_master(self) -> None:
        self._spawn("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", str(self.port), "--webui-port", str(self.ui_port))
        self.wait("master", lambda s: s.get("status") == "ALIVE")

    def start_worker(self, name: str = "worker") -> subprocess.Popen:
        alive = sum(1 for w in self.state().get("workers", []) if w.get("state") == "ALIVE")
        work = self.root / f"{name}-work"
        proc = self._spawn(name, "org.apache.spark.deploy.worker.Worker", self.url, "--host", "127.0.0.1",
                           "--port", str(free_port()), "--webui-port", str(free_port()), "--cores", "1",
                           "--memory", "1g", "--work-dir", str(work))
        self.wait("worker", lambda s: sum(1 for w in s.get("workers", []) if w.get("state") == "ALIVE") > alive)
        return proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            kill_group(proc, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_group(proc, signal.SIGKILL)
                proc.wait(timeout=20)


def kill_group(proc: subprocess.Popen, sig: int) -> None:
    """Signal ``proc`` and the processes it started (a worker's executors), all of which this test started."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    (root / "logs").mkdir()
    c = Cluster(root)
    try:
        c.start_master()
        c.start_worker()
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def cur_folder(tmp_path_factory) -> Path:
    """120k generated CUR 2.0 rows over two billing periods, as 24 Parquet files of 5k rows."""
    root = tmp_path_factory.mktemp("cur")
    whole = root / "whole.parquet"
    done = subprocess.run([sys.executable, str(BENCH / "gen_cur2.py"), "--rows", "120000", "--out", str(whole),
                           "--periods", "2", "--start", "2026-01", "--resources", "3000", "--batch-rows", "5000"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    folder = root / "data"
    folder.mkdir()
    import pyarrow.parquet as pq

    source = pq.ParquetFile(whole)
    for i in range(source.num_row_groups):
        pq.write_table(source.read_row_group(i), folder / f"part-{i:03d}.parquet")
    whole.unlink()
    return folder


def usage_rows(store: Path) -> list[tuple]:
    """usage_daily of a store, every column (the money columns last), sorted on the others: an independent read of
    the result."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        names = [r[0] for r in con.execute("DESCRIBE usage_daily").fetchall()]
        keys = [n for n in names if n not in MONEY]
        return con.execute(f"SELECT {', '.join(keys + list(MONEY))} FROM usage_daily "
                           f"ORDER BY {', '.join(keys)}").fetchall()
    finally:
        con.close()


def assert_same_usage(got: list[tuple], expected: list[tuple]) -> None:
    """Row for row the same keys, and the same money to a millionth of a dollar: Spark and DuckDB add a group's
    amounts in their own orders, so the last bits of a sum differ (and a rounding to the cent can flip)."""
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        n = len(MONEY)
        assert g[:-n] == e[:-n], (g, e)
        assert all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-6) for a, b in zip(g[-n:], e[-n:], strict=True)), (g, e)


def store_contents(store: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    finally:
        con.close()


def driver_env(tmp: Path) -> dict[str, str]:
    """The CLI's environment: 127.0.0.1, and the Spark log it keeps on failure in the test's folder."""
    return {"SPARK_LOCAL_IP": "127.0.0.1", "TMPDIR": str(tmp)}


def spark_ingest(cluster: Cluster, store: Path, paths: list[str], *extra: str, timeout: float = 600):
    return run_cli("ingest", "--store", str(store), "--engine", "spark", "--spark-master", cluster.url, *extra,
                   *paths, env=driver_env(store.parent), timeout=timeout)


def test_cluster_rollup_equals_duckdb(cluster, cur_folder, tmp_path):
    spark_store, duck_store = tmp_path / "spark.duckdb", tmp_path / "duck.duckdb"
    done = spark_ingest(cluster, spark_store, [str(cur_folder)])
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.strip() == "", done.stderr  # no JVM noise on success (the progress bar leaves a newline)
    apps = cluster.state().get("completedapps", [])
    assert any(a.get("name") == "aifinops-rollup" for a in apps), apps  # it ran on the cluster, not locally
    duck = run_cli("ingest", "--store", str(duck_store), str(cur_folder))
    assert duck.returncode == 0, duck.stderr[-3000:]
    expected = usage_rows(duck_store)
    assert len(expected) > 1000
    assert_same_usage(usage_rows(spark_store), expected)
    con = duckdb.connect(str(spark_store), read_only=True)
    try:
        paths = con.execute("SELECT DISTINCT unnest(paths) FROM sources").fetchall()
        rows, = con.execute("SELECT sum(rows) FROM sources WHERE active").fetchone()
    finally:
        con.close()
    assert sorted(p for (p,) in paths) == sorted(str(p) for p in cur_folder.glob("*.parquet"))
    assert rows == 120_000


def test_the_web_ui_port_is_not_a_master(cluster, cur_folder, tmp_path):
    store = tmp_path / "s.duckdb"
    ui = f"spark://127.0.0.1:{cluster.ui_port}"
    done = run_cli("ingest", "--store", str(store), "--engine", "spark", "--spark-master", ui,
                   str(cur_folder / "part-000.parquet"), env=driver_env(tmp_path), timeout=120)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"{ui} answers but is not a Spark master (it answers HTTP" in lines[0] and "To fix" in lines[0]
    logs = list(tmp_path.glob("aifinops-spark-*.log"))  # kept, and named in the message
    assert len(logs) == 1 and str(logs[0]) in lines[0] and "Failed to connect to master" in logs[0].read_text()
    assert "\tat " not in done.stderr and "Exception" not in done.stderr



def test_a_silent_master_fails_after_the_timeout(cur_folder, tmp_path):
    """A port that accepts the connection and never answers (Spark would wait two minutes per try)."""
    held = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.2)
        port = server.getsockname()[1]
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    held.append(server.accept()[0])
                except OSError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            done = run_cli("ingest", "--store", str(tmp_path / "s.duckdb"), "--engine", "spark", "--spark-master",
                           f"spark://127.0.0.1:{port}", "--spark-timeout", "20", str(cur_folder / "part-000.parquet"),
                           env=driver_env(tmp_path), timeout=240)
        finally:
            stop.set()
            thread.join(5)
            for conn in held:
                conn.close()
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"spark://127.0.0.1:{port} did not accept the application within 20 s" in lines[0]
    assert "--spark-timeout" in lines[0] and "\tat " not in done.stderr
    assert held, "Spark never connected to the port"
    assert not (tmp_path / "s.duckdb").exists()


def running_stages(work: Path) -> set[int]:
    """Stages whose tasks an executor of the worker has started (its own log in the worker's folder says so)."""
    text = "".join(p.read_text(errors="replace") for p in work.glob("app-*/*/stderr"))
    return {int(m) for m in re.findall(r"Running task [0-9.]+ in stage ([0-9]+)\.", text)}


def test_worker_killed_mid_job_fails_within_the_bound_and_leaves_the_store(cluster, cur_folder, tmp_path):
    store = tmp_path / "s.duckdb"
    first = run_cli("ingest", "--store", str(store), str(cur_folder / "part-000.parquet"))
    assert first.returncode == 0, first.stderr
    before = store_contents(store)
    # the module's worker stops taking part: this test's worker is the only one with cores for the job
    for proc in cluster.procs[1:]:
        kill_group(proc, signal.SIGKILL)
    cluster.wait("worker loss", lambda s: not any(w.get("state") == "ALIVE" for w in s.get("workers", [])), 120)
    worker = cluster.start_worker("doomed")
    work = cluster.root / "doomed-work"
    args = [AIFINOPS, "ingest", "--store", str(store), "--engine", "spark", "--spark-master", cluster.url,
            "--spark-timeout", "15", str(cur_folder)]
    env = {**os.environ, **driver_env(tmp_path), "COLUMNS": "200"}
    cli = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # stage 0 reads the files' schemas; a later stage is the rollup's scan: kill the worker while it runs
        deadline = time.monotonic() + 300
        while max(running_stages(work), default=-1) < 1 and cli.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cli.poll() is None, "the job ended before the worker could be killed mid-job"
        assert max(running_stages(work), default=-1) >= 1, f"no rollup task started: {running_stages(work)}"
        kill_group(worker, signal.SIGKILL)
        # the bound: 15 s without an executor, plus the session's stop; a hang fails here
        out, err = cli.communicate(timeout=180)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 2, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "no live executor for 15 s" in lines[0] and "nothing was written" in lines[0] and "To fix" in lines[0]
    assert "\tat " not in err and "Traceback" not in err
    assert store_contents(store) == before

