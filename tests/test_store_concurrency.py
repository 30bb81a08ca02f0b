"""Many readers, one writer: an ingest (the CLI, in its own process) completes while readers keep answering,
and every answer is the store before the ingest or the store after it, never a mix."""

from __future__ import annotations

import subprocess
import threading

from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from clirun import AIFINOPS
from curfixtures import cur2_row, write_cur2

OCT_ROWS, NOV_ROWS = 40, 60_000
# Each line item costs a quarter dollar: sums are exact in binary floating point.
BEFORE = (1, OCT_ROWS * 0.25)
AFTER = (2, OCT_ROWS * 0.25 + NOV_ROWS * 0.25)
QUESTION = "SELECT count(DISTINCT billing_period), sum(billed_cost) FROM usage_daily"
# The same question from the summary table the writer rebuilds in the same swap.
SUMMARY_QUESTION = "SELECT count(DISTINCT billing_period), sum(billed_cost) FROM usage_summary_monthly"


def _rows(period: str, n: int) -> list[dict]:
    return [
        cur2_row(period, f"{period}-{1 + i % 28:02d}", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 0.25,
                 line_item_resource_id=f"arn:aws:sagemaker:us-east-1:111122223333:endpoint/e{i % 500}")
        for i in range(n)
    ]


def test_readers_answer_while_an_ingest_runs_and_see_before_or_after(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [write_cur2(tmp_path / "oct.parquet", _rows("2024-10", OCT_ROWS))])
    november = write_cur2(tmp_path / "nov.parquet", _rows("2024-11", NOV_ROWS))

    answers: list[tuple[tuple, tuple, bool]] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    ingest: subprocess.Popen | None = None

    def reader() -> None:
        while not stop.is_set():
            try:
                with store.connect(read_only=True, wait_s=0) as con:  # a reader must never need to wait
                    running = ingest is not None and ingest.poll() is None
                    rollup = con.execute(QUESTION).fetchone()
                    summary = con.execute(SUMMARY_QUESTION).fetchone()
                answers.append((rollup, summary, running))
            except BaseException as exc:  # noqa: BLE001 - the test reports it below
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    ingest = subprocess.Popen([AIFINOPS, "ingest", str(november), "--store", str(store.path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = ingest.communicate(timeout=300)
    with store.connect(read_only=True, wait_s=0) as con:  # one more read after the swap
        final = con.execute(QUESTION).fetchone()
    stop.set()
    for t in threads:
        t.join(timeout=60)

    assert ingest.returncode == 0, err
    assert not errors, errors
    assert final == AFTER
    assert any(running for _, _, running in answers), "no read happened while the ingest ran"
    for rollup, summary, _ in answers:
        assert rollup in (BEFORE, AFTER)
        assert summary == rollup  # the summary and the rollup always come from the same swap
