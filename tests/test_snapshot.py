"""Snapshot loading into a real store: the demo's inventory and metrics, replacement by source, bad files."""

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aifinops.demo import demo_dir
from aifinops.errors import InputError
from aifinops.ingest.snapshot import load_snapshot
from aifinops.store import Store

RESOURCE_TYPES = {
    "sagemaker-endpoint",
    "sagemaker-notebook",
    "sagemaker-studio-app",
    "sagemaker-training-job",
    "s3-bucket",
    "ec2-instance",
    "cloudwatch-alarm",
    "cloudwatch-dashboard",
    "budget",
}


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    cache = os.environ.get("AIFINOPS_TEST_CACHE") or tmp_path_factory.getbasetemp() / "xdg-cache"
    return demo_dir(Path(cache) / "aifinops") / "snapshot"


@pytest.fixture(scope="module")
def store(snapshot, tmp_path_factory) -> Store:
    st = Store(tmp_path_factory.mktemp("snapshot-store") / "s.duckdb")
    with st.transaction() as con:
        load_snapshot(con, snapshot, "demo")
    return st


def _query(store: Store, sql: str, params: list | None = None) -> list[tuple]:
    with store.connect(read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_demo_snapshot_loads_every_line_and_datapoint(store, snapshot):
    lines = snapshot.joinpath("resources.jsonl").read_text().splitlines()
    assert _query(store, "SELECT count(*) FROM resources WHERE source = 'demo'")[0][0] == len(lines)
    assert (
        _query(store, "SELECT count(*) FROM metrics")[0][0]
        == pq.read_metadata(snapshot / "metrics.parquet").num_rows
    )
    assert {r[0] for r in _query(store, "SELECT DISTINCT resource_type FROM resources")} == RESOURCE_TYPES
    assert _query(store, "SELECT typeof(dimensions) FROM metrics LIMIT 1") == [("MAP(VARCHAR, VARCHAR)",)]


def test_reload_replaces_its_source_and_keeps_others(snapshot, tmp_path):
    folder = _small_snapshot(snapshot, tmp_path / "small")
    st = Store(tmp_path / "s.duckdb")
    with st.transaction() as con:
        con.execute("INSERT INTO resources (resource_id, source) VALUES ('keep-me', 'aws')")
        con.execute("INSERT INTO metrics (metric_name, source) VALUES ('KeepMe', 'aws')")
        first = load_snapshot(con, folder, "snap")
    with st.transaction() as con:
        second = load_snapshot(con, folder, "snap")
    assert first == second and first["resources"] == 5 and first["metrics"] == 10
    assert dict(_query(st, "SELECT source, count(*) FROM resources GROUP BY 1")) == {"snap": 5, "aws": 1}
    assert dict(_query(st, "SELECT source, count(*) FROM metrics GROUP BY 1")) == {"snap": 10, "aws": 1}


def test_inventory_has_the_real_api_shapes(store):
    endpoints = _query(
        store, """SELECT name, attributes FROM resources WHERE resource_type = 'sagemaker-endpoint'"""
    )
    assert len(endpoints) >= 50
    attrs = {name: json.loads(a) for name, a in endpoints}
    mine = attrs["my-model-endpoint"]
    assert mine["Endpoint"]["EndpointStatus"] == "InService"
    assert mine["EndpointConfig"]["ProductionVariants"][0]["InstanceType"] == "ml.g5.xlarge"
    scaled = [n for n, a in attrs.items() if "Autoscaling" in a]
    assert 0 < len(scaled) < 10
    target = attrs[scaled[0]]["Autoscaling"]["ScalableTargets"][0]
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    notebooks = {
        n: json.loads(a)
        for n, a in _query(
            store, "SELECT name, attributes FROM resources WHERE resource_type = 'sagemaker-notebook'"
        )
    }
    without = {n for n, a in notebooks.items() if "NotebookInstanceLifecycleConfigName" not in a}
    assert len(without) == 4 and "analyst-notebook" not in without
    spot = _query(
        store,
        """SELECT count(*) FROM resources WHERE resource_type = 'sagemaker-training-job'
        AND attributes->>'EnableManagedSpotTraining' = 'true'
        AND (attributes->>'BillableTimeInSeconds')::INT < (attributes->>'TrainingTimeInSeconds')::INT
        AND json_extract(attributes, '$.CheckpointConfig') IS NOT NULL""",
    )[0][0]
    assert spot > 0
    alarms = dict(
        _query(
            store,
            """SELECT name, attributes->>'StateValue' FROM resources
                                   WHERE resource_type = 'cloudwatch-alarm'""",
        )
    )
    assert alarms["LowGPUUtilization-my-model-endpoint"] == "ALARM"
    body = _query(
        store, "SELECT attributes->>'DashboardBody' FROM resources WHERE name = 'AICostOptimization'"
    )
    assert json.loads(body[0][0])["widgets"]
    no_lifecycle = _query(
        store,
        """SELECT count(*) FROM resources WHERE resource_type = 's3-bucket'
                                    AND json_extract(attributes, '$.LifecycleConfiguration') IS NULL
                                    AND name = 'acme-ml-training-data'""",
    )[0][0]
    assert no_lifecycle == 1


def _invocations(store: Store, endpoint: str) -> list[tuple]:
    return _query(
        store,
        """SELECT hour(ts), sum(value), count(*) FROM metrics
                            WHERE namespace = 'AWS/SageMaker' AND metric_name = 'Invocations'
                              AND dimensions['EndpointName'] = ? GROUP BY 1 ORDER BY 1""",
        [endpoint],
    )


def test_metrics_tell_idle_unknown_and_bursty_endpoints_apart(store):
    idle = _invocations(store, "legacy-sentiment-v1")
    assert sum(r[2] for r in idle) == 91 * 24 and sum(r[1] for r in idle) == 0
    assert _invocations(store, "partner-scoring-endpoint") == []
    burst = {h: total for h, total, _ in _invocations(store, "nightly-batch-scorer")}
    assert burst[2] > 0 and all(total == 0 for h, total in burst.items() if h != 2)
    gpu = _query(
        store,
        """SELECT avg(value) FROM metrics WHERE namespace = '/aws/sagemaker/Endpoints'
                           AND metric_name = 'GPUUtilization' AND statistic = 'Average'
                           AND dimensions['EndpointName'] = 'my-model-endpoint'""",
    )[0][0]
    assert gpu < 20
    training = _query(
        store,
        """SELECT avg(value) FROM metrics WHERE namespace = '/aws/sagemaker/TrainingJobs'
                                AND dimensions['Host'] LIKE 'cv-segmenter-train-%/algo-1'""",
    )[0][0]
    assert 4 * 50 < training < 4 * 70  # ml.g5.12xlarge: 4 GPUs, summed as CloudWatch does


def _small_snapshot(src: Path, dst: Path, lines: int = 5) -> Path:
    dst.mkdir(parents=True)
    text = src.joinpath("resources.jsonl").read_text().splitlines()[:lines]
    dst.joinpath("resources.jsonl").write_text("\n".join(text) + "\n")
    pq.write_table(pq.read_table(src / "metrics.parquet").slice(0, 10), dst / "metrics.parquet")
    shutil.copy(src / "manifest.json", dst / "manifest.json")
    return dst


def _load_error(tmp_path: Path, folder: Path) -> InputError:
    st = Store(tmp_path / "bad.duckdb")
    with pytest.raises(InputError) as info, st.transaction() as con:
        load_snapshot(con, folder, "snap")
    assert "To fix:" in str(info.value)
    return info.value


def test_corrupt_json_line_names_file_and_line(snapshot, tmp_path):
    folder = _small_snapshot(snapshot, tmp_path / "s")
    lines = folder.joinpath("resources.jsonl").read_text().splitlines()
    lines[2] = lines[2][:40]
    folder.joinpath("resources.jsonl").write_text("\n".join(lines) + "\n")
    err = _load_error(tmp_path, folder)
    assert "resources.jsonl line 3" in err.problem


def test_line_without_required_keys_is_refused(snapshot, tmp_path):
    folder = _small_snapshot(snapshot, tmp_path / "s")
    with folder.joinpath("resources.jsonl").open("a") as fh:
        fh.write(json.dumps({"account_id": "1", "region": "us-east-1", "attributes": {}}) + "\n")
    err = _load_error(tmp_path, folder)
    assert "line 6" in err.problem and "resource_type" in err.problem


@pytest.mark.parametrize(
    "damage",
    ["missing-resources", "missing-metrics", "garbage-metrics", "no-dimensions", "no-folder", "bad-manifest"],
)
def test_bad_files_are_refused(snapshot, tmp_path, damage):
    folder = _small_snapshot(snapshot, tmp_path / "s")
    if damage == "missing-resources":
        folder.joinpath("resources.jsonl").unlink()
    elif damage == "missing-metrics":
        folder.joinpath("metrics.parquet").unlink()
    elif damage == "garbage-metrics":
        folder.joinpath("metrics.parquet").write_bytes(b"not parquet at all")
    elif damage == "no-dimensions":
        table = pq.read_table(folder / "metrics.parquet").drop_columns(["dimensions"])
        pq.write_table(table, folder / "metrics.parquet")
    elif damage == "no-folder":
        folder = tmp_path / "nowhere"
    else:
        folder.joinpath("manifest.json").write_text('{"schema": "aifinops.snapshot/99"}')
    err = _load_error(tmp_path, folder)
    name = {"missing-resources": "resources.jsonl", "bad-manifest": "manifest.json", "no-folder": "nowhere"}
    assert name.get(damage, "metrics.parquet") in err.problem


def test_a_failed_load_leaves_the_store_as_it_was(snapshot, tmp_path):
    st = Store(tmp_path / "s.duckdb")
    good = _small_snapshot(snapshot, tmp_path / "good")
    with st.transaction() as con:
        load_snapshot(con, good, "snap")
    bad = _small_snapshot(snapshot, tmp_path / "bad", lines=3)
    table = pq.read_table(bad / "metrics.parquet")  # right columns, but values that are not numbers
    table = table.set_column(
        table.schema.get_field_index("value"), "value", pa.array(["n/a"] * table.num_rows)
    )
    pq.write_table(table, bad / "metrics.parquet")
    with pytest.raises(InputError), st.transaction() as con:
        load_snapshot(con, bad, "snap")
    with st.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM resources").fetchone()[0] == 5
        assert con.execute("SELECT count(*) FROM metrics").fetchone()[0] == 10
