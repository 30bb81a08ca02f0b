"""Mixed billing currencies are refused the same way by every loader (ingest.registry.refuse_mixed_currencies):
a rollup file in EUR loaded into a store that holds a USD billing period is refused, each currency named with
where it was seen, and the store is left as it was. (The CUR/FOCUS pipeline's case is tests/test_bad_input.py.)
"""

from __future__ import annotations

import duckdb

from clirun import run_cli
from curfixtures import cur2_row, write_cur2


def _store_state(path) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("usage_daily", "sources", "ingests")) + (
            con.execute("SELECT sum(billed_cost), string_agg(DISTINCT currency) FROM usage_daily").fetchone(),)
    finally:
        con.close()


def test_a_rollup_file_in_another_currency_is_refused(tmp_path):
    october = write_cur2(tmp_path / "usd" / "part-0.parquet",
                         [cur2_row("2024-10", "2024-10-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 2.5)])
    store = tmp_path / "store.duckdb"
    done = run_cli("ingest", "--store", str(store), str(october))
    assert done.returncode == 0, done.stderr

    november = write_cur2(tmp_path / "eur" / "part-0.parquet",
                          [cur2_row("2024-11", "2024-11-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 4.0,
                                    line_item_currency_code="EUR")])
    sql = run_cli("rollup-sql", "--dialect", "duckdb", "--table", "cur")
    assert sql.returncode == 0, sql.stderr
    rollup = tmp_path / "rollup.parquet"
    con = duckdb.connect()
    con.execute("CREATE TABLE cur AS SELECT * FROM read_parquet(?)", [str(november)])
    con.execute(f"COPY ({sql.stdout.strip().rstrip(';')}) TO '{rollup}' (FORMAT parquet)")
    assert con.execute(f"SELECT DISTINCT currency FROM read_parquet('{rollup}')").fetchall() == [("EUR",)]
    con.close()

    before = _store_state(store)
    assert before[:3] == (1, 1, 1) and before[3] == (2.5, "USD")
    refused = run_cli("ingest", "--store", str(store), str(rollup))
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    message = " ".join(refused.stderr.split())
    assert "Traceback" not in refused.stderr
    assert f"Mixed billing currencies: EUR ({rollup}), USD (the store)." in message, message
    assert "To fix:" in message
    assert _store_state(store) == before
