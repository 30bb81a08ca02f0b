"""Summary tables are rebuilt only by writes that may change usage_daily (issue 15): a scan's bookkeeping
(record_scan, finding states) keeps them, still equal to usage_daily summed again here, and readers running
while it writes see the summaries and the history whole."""

from __future__ import annotations

import threading

from aifinops.history import record_scan
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from curfixtures import cur2_row, write_cur2

# Independent of refresh_summaries: the monthly total per service, straight from the rollup.
FROM_ROLLUP = ("SELECT service_code, date_trunc('month', usage_date)::DATE, sum(billed_cost), sum(line_items)"
               " FROM usage_daily GROUP BY ALL ORDER BY ALL")
FROM_SUMMARY = ("SELECT service_code, usage_date, sum(billed_cost), sum(line_items) FROM usage_summary_monthly"
                " GROUP BY ALL ORDER BY ALL")


def _doc(n: int) -> dict:
    return {"findings": [], "source": {"as_of": "2024-10-28", "kind": "store"},
            "period": {"start": "2024-10-01", "end": "2024-10-29"}, "savings": {"total_monthly_usd": float(n)}}


def _store(tmp_path) -> Store:
    store = Store(tmp_path / "s.duckdb")
    rows = [cur2_row("2024-10", f"2024-10-{1 + i % 28:02d}", "AmazonSageMaker" if i % 3 else "AmazonBedrock",
                     "USE1-Host:ml.g5.xlarge", 0.25) for i in range(300)]
    ingest_paths(store, [write_cur2(tmp_path / "oct.parquet", rows)])
    return store


def test_record_scan_keeps_the_summaries_without_rebuilding_them(tmp_path, summary_rebuilds):
    store = _store(tmp_path)
    summary_rebuilds.clear()  # counted from here: the ingest that made the store rebuilt them once
    calls = summary_rebuilds
    record_scan(store, _doc(1), {})
    assert calls == []
    with store.connect(read_only=True) as con:
        assert con.execute(FROM_SUMMARY).fetchall() == con.execute(FROM_ROLLUP).fetchall()
        assert con.execute(FROM_ROLLUP).fetchall()[0][3] + con.execute(FROM_ROLLUP).fetchall()[1][3] == 300
        assert con.execute("SELECT count(*) FROM scan_runs").fetchone() == (1,)
    with store.transaction() as con:  # a write that may change the rollup still rebuilds them
        con.execute("UPDATE usage_daily SET billed_cost = billed_cost * 2")
    assert calls == [1]
    with store.connect(read_only=True) as con:
        summary = con.execute(FROM_SUMMARY).fetchall()
        assert summary == con.execute(FROM_ROLLUP).fetchall()
        assert sum(r[2] for r in summary) == 300 * 0.25 * 2


def test_a_bookkeeping_write_that_changes_the_rollup_after_all_still_rebuilds(tmp_path, summary_rebuilds):
    store = _store(tmp_path)
    summary_rebuilds.clear()  # counted from here: the ingest that made the store rebuilt them once
    calls = summary_rebuilds
    with store.transaction(usage=False) as con:
        con.execute("INSERT INTO usage_daily (billing_period, usage_date, service_code, billed_cost, line_items)"
                    " VALUES ('2024-10-01', '2024-10-05', 'AmazonEC2', 10.0, 4)")
    assert calls == [1]
    with store.connect(read_only=True) as con:
        summary = con.execute(FROM_SUMMARY).fetchall()
        assert summary == con.execute(FROM_ROLLUP).fetchall()
        assert ("AmazonEC2", summary[1][1], 10.0, 4) in summary


def test_a_failed_bookkeeping_write_lands_nothing(tmp_path):
    store = _store(tmp_path)
    try:
        with store.transaction(usage=False) as con:
            con.execute("INSERT INTO scan_runs (run_id) VALUES ('x')")
            raise RuntimeError("cut short")
    except RuntimeError:
        pass
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM scan_runs").fetchone() == (0,)
        assert con.execute(FROM_SUMMARY).fetchall() == con.execute(FROM_ROLLUP).fetchall()


def test_readers_see_whole_summaries_and_history_while_record_scan_writes(tmp_path):
    store = _store(tmp_path)
    with store.connect(read_only=True) as con:
        expected = con.execute(FROM_ROLLUP).fetchall()
    seen: list[tuple[int, list]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader(shared: bool) -> None:
        while not stop.is_set():
            try:
                opened = store.shared_reader() if shared else store.connect(read_only=True, wait_s=0)
                with opened as con:
                    runs = con.execute("SELECT count(*) FROM scan_runs").fetchone()[0]
                    seen.append((runs, con.execute(FROM_SUMMARY).fetchall()))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader, args=(s,)) for s in (False, True)]
    for t in threads:
        t.start()
    for n in range(8):
        record_scan(store, _doc(n), {})
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert seen and all(summary == expected for _, summary in seen)
    assert {runs for runs, _ in seen} <= set(range(9))
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM scan_runs").fetchone() == (8,)


def test_record_scan_keeps_every_finding_across_insert_batches(tmp_path):
    store = _store(tmp_path)
    findings = [{"id": f"check-a:r{i}", "check": "check-a", "resource_id": f"r{i}", "resource_type": "endpoint",
                 "monthly_cost_usd": 2.0, "monthly_savings_usd": 0.5 * (i % 4), "confidence": "high"}
                for i in range(1001)]  # two full batches of 500 and one of 1
    doc = {**_doc(0), "findings": findings}
    run_id = record_scan(store, doc, {"r7": "team-x"})
    with store.connect(read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT finding_id), sum(monthly_savings_usd),"
                           " count(owner), min(owner) FROM finding_history WHERE run_id = ?", [run_id]).fetchone()
        kept = con.execute("SELECT finding FROM finding_history WHERE resource_id = 'r1000'").fetchone()[0]
    # 1001 findings, savings 0, 0.5, 1.0, 1.5 repeating: 250 full cycles (3.0 each) plus i=1000 (0.0)
    assert rows == (1001, 1001, 750.0, 1, "team-x")
    assert '"id": "check-a:r1000"' in kept
