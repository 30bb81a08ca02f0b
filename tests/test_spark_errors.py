"""The Spark engine's errors a user can cause come back as one line with the fix, without starting a JVM."""

from __future__ import annotations

import socket

import pytest

from aifinops.engines.spark import parquet_locations
from aifinops.engines.spark_session import SparkEngineError, check_java, check_master, spark_session
from aifinops.errors import ArgumentError, InputError


def test_no_java(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(SparkEngineError, match="Java 17 or 21.*JAVA_HOME=.*To fix: install a JDK"):
        spark_session("local[1]")
    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SparkEngineError, match="no java on PATH"):
        check_java()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_master():
    port = closed_port()
    with pytest.raises(SparkEngineError, match=f"spark://127.0.0.1:{port} does not answer.*To fix: check the host"):
        check_master(f"spark://127.0.0.1:{port}", timeout_s=1)


def test_reachable_master_and_local_pass():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        check_master(f"spark://127.0.0.1:{closed_port()},127.0.0.1:{port}", timeout_s=1)  # a standby answers
    check_master("local[4]")


def test_not_a_master_url():
    with pytest.raises(ArgumentError, match="Not a Spark master URL"):
        check_master("mesos-cluster")


def test_missing_local_path_and_csv(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        parquet_locations([str(tmp_path / "nope.parquet")])
    csv = tmp_path / "a.csv"
    csv.write_text("bill_billing_period_start_date,line_item_usage_type\n2024-10-01,x\n")
    with pytest.raises(InputError, match="Parquet exports only"):
        parquet_locations([str(csv)])
    assert parquet_locations(["s3a://bucket/cur/data/"]) == ["s3a://bucket/cur/data/"]
