"""Findings are a function of the store's content, not of its row order (issue 19 item 5).

The demo store is copied twice into new stores, every data table's rows inserted in a different order
(by two unrelated hashes of the whole row); ``aifinops scan --format json`` on the three stores must give the
same document byte for byte, apart from ``generated_at`` and the store's own path.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from aifinops.store import Store
from clirun import run_cli


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    """Every base table of a store (data, bookkeeping and the summaries built on write)."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'main' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name",
        [catalog],
    ).fetchall()
    return [r[0] for r in rows]


def _copy_reordered(source: Store, target: Store, seed: int) -> None:
    with target.connect():  # creates the schema
        pass
    con = duckdb.connect(str(target.path))
    try:
        con.execute(f"ATTACH '{source.path}' AS src (READ_ONLY)")
        target_catalog = con.execute("SELECT current_database()").fetchone()[0]
        for table in _tables(con, "src"):
            if table not in _tables(con, target_catalog):
                con.execute(f"CREATE TABLE main.{table} AS SELECT * FROM src.{table} LIMIT 0")
            con.execute(f"DELETE FROM main.{table}")
            # hash of the whole row with a seed: an order unrelated to insertion order or to any key
            con.execute(
                f"INSERT INTO main.{table} SELECT * FROM src.{table} AS t ORDER BY hash(t::VARCHAR || '{seed}')"
            )
        con.execute("DETACH src")
    finally:
        con.close()


def _scan(store: Store) -> dict:
    result = run_cli("scan", "--store", str(store.path), "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    doc.pop("generated_at")
    doc["source"].pop("store")
    return doc


def _without_run_specifics(doc: dict) -> dict:
    """The document minus what names this run rather than the data: its time and the store file's path."""
    doc = json.loads(json.dumps(doc))
    doc.pop("generated_at", None)
    source = doc.get("source") or {}
    source.pop("store", None)
    return doc


@pytest.fixture(scope="module")
def stores(demo_store_copy, tmp_path_factory):
    original = demo_store_copy("determinism")  # its scans keep their history: a copy of its own
    base = tmp_path_factory.mktemp("determinism-reordered")
    copies = [Store(base / f"copy{seed}.duckdb") for seed in (1, 2)]
    for seed, copy in enumerate(copies, start=1):
        _copy_reordered(original, copy, seed)
    return original, copies


def test_copies_hold_the_same_rows_in_another_order(stores):
    original, copies = stores
    con = duckdb.connect(str(copies[0].path), read_only=True)
    try:
        con.execute(f"ATTACH '{original.path}' AS src (READ_ONLY)")
        for table in _tables(con, "src"):
            missing = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM src.{table} EXCEPT ALL SELECT * FROM main.{table})"
            ).fetchone()
            extra = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM main.{table} EXCEPT ALL SELECT * FROM src.{table})"
            ).fetchone()
            assert missing == (0,) and extra == (0,), table
        # the order really differs: the first usage rows are not the same rows
        first = "SELECT usage_date, usage_type, resource_id, billed_cost FROM {} LIMIT 20"
        assert con.execute(first.format("src.usage_daily")).fetchall() != con.execute(
            first.format("main.usage_daily")
        ).fetchall()
    finally:
        con.close()


def test_scan_documents_are_identical_whatever_the_row_order(stores):
    original, copies = stores
    expected = _scan(original)
    assert expected["findings"], "the demo has findings"
    checked = ("findings", "checks", "savings", "period")  # byte for byte
    for copy in copies:
        got = _scan(copy)
        for part in checked:
            want_text, got_text = json.dumps(expected[part], indent=1), json.dumps(got[part], indent=1)
            if want_text != got_text:
                diff = [(a, b) for a, b in zip(want_text.splitlines(), got_text.splitlines(), strict=False) if a != b]
                pytest.fail(f"{part} of {copy.path.name} differ from the original's; first lines: {diff[:10]}")
        # The rest too (totals and the source's provider coverage): money is summed exactly (sums.exact_sum), so
        # no total lands a cent apart in another storage order (seen before: 3655.23 vs 3655.24). The stores'
        # own paths and the run's time are what may differ.
        rest_want = _without_run_specifics({k: v for k, v in expected.items() if k not in checked})
        rest_got = _without_run_specifics({k: v for k, v in got.items() if k not in checked})
        assert json.dumps(rest_got, indent=1, sort_keys=True) == json.dumps(rest_want, indent=1, sort_keys=True)


def test_a_last_day_split_between_purchase_options_reads_the_same_in_any_order(tmp_path):
    """The issue-19 case: an instance's last day billed partly under a Savings Plan, partly on demand. The
    evidence names the option with the most hours that day (20 of 24), whichever row was written first."""
    from datetime import date, timedelta

    from usagerows import findings_by_resource, insert_usage, usage_row

    as_of = date(2025, 6, 30)

    def ec2(day: date, hours: float, option: str) -> dict:
        return usage_row(usage_date=day, service_code="AmazonEC2", ai_service="gpu-ec2", workload="compute",
                         usage_type="BoxUsage:g5.xlarge", resource_id="i-split", instance_type="g5.xlarge",
                         instance_family="g5", accelerated=True, usage_quantity=hours, billed_cost=hours * 1.006,
                         purchase_option=option)

    rows = [ec2(as_of - timedelta(days=i), 24.0, "on-demand") for i in range(1, 14)]
    rows += [ec2(as_of, 4.0, "on-demand"), ec2(as_of, 20.0, "savings-plan")]
    options = []
    for name, ordered in (("forward", rows), ("backward", rows[::-1])):
        with Store(tmp_path / f"{name}.duckdb").connect() as con:
            insert_usage(con, ordered)
            found = findings_by_resource(con, "gpu-ec2-idle")
            options.append(found["i-split"].evidence["purchase_option"])
    assert options == ["savings-plan", "savings-plan"]
