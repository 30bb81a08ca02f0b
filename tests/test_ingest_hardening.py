"""Issue 12 items 2, 3, 4, 5 and 9: bad billing input is refused with one line (file, problem, fix), exit 2,
and the store file is left byte for byte as it was; the few oddities that are fine are loaded correctly."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aifinops.errors import AifinopsError
from aifinops.ingest.inputs import ingest_inputs
from aifinops.store import Store
from clirun import run_cli
from curfixtures import cur2_row, write_cur2

SEP = cur2_row("2024-09", "2024-09-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.8)


def rows(cost: float = 1.25, **extra) -> list[dict]:
    return [cur2_row("2024-10", "2024-10-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", cost,
                     tags={"team": "ml"}, **extra),
            cur2_row("2024-10", "2024-10-04", "AmazonBedrock", "USE1-Claude-input-tokens", 2.5)]


@pytest.fixture
def store(tmp_path):
    """A store already holding September (converted from CSV, so it depends on no file outside it)."""
    st = Store(tmp_path / "s.duckdb")
    ingest_inputs(st, [write_cur2(tmp_path / "seed" / "sep.csv", [SEP])])
    return st


def edit_csv(path, column: str, value: str, row: int = 0):
    """Set one cell of a CUR 2.0 CSV (plain text) to ``value``."""
    table = list(csv.reader(io.StringIO(path.read_text())))
    table[row + 1][table[0].index(column)] = value
    buf = io.StringIO()
    csv.writer(buf).writerows(table)
    path.write_text(buf.getvalue())
    return path


def refused(store: Store, paths, *needles: str) -> str:
    """Ingest in-process: an AifinopsError whose one-line message names the file and the fix; store unchanged."""
    before = store.path.read_bytes()
    with pytest.raises(AifinopsError) as info:
        ingest_inputs(store, [str(p) for p in paths])
    message = info.value.message
    short = message
    for p in paths:  # the length that matters is the message's own, not the temporary folder's
        short = short.replace(str(Path(p).parent), "")
    assert "\n" not in message and "To fix:" in message and len(short) < 600, message
    for needle in needles:
        assert needle in message, message
    assert store.path.read_bytes() == before
    return message


def period_totals(store: Store) -> dict[str, float]:
    with store.connect(read_only=True) as con:
        return {str(p): round(c, 6) for p, c in con.execute(
            "SELECT billing_period, sum(billed_cost) FROM usage_daily GROUP BY 1 ORDER BY 1").fetchall()}


# --- item 2: NaN, ±Inf, 1e309 ----------------------------------------------------------------------------

@pytest.mark.parametrize("column", ["line_item_unblended_cost", "line_item_usage_amount",
                                    "pricing_public_on_demand_cost"])
@pytest.mark.parametrize("value", ["NaN", "nan", "Inf", "-Infinity", "1e309", "-1e309"])
def test_non_finite_numbers_in_csv_are_refused(store, tmp_path, column, value):
    target = edit_csv(write_cur2(tmp_path / "nan.csv", rows()), column, value)
    refused(store, [target], "nan.csv", column, "finite")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_in_parquet_are_refused(store, tmp_path, value):
    table = pq.read_table(write_cur2(tmp_path / "nan.parquet", rows()))
    i = table.schema.get_field_index("line_item_unblended_cost")
    table = table.set_column(i, "line_item_unblended_cost", pa.array([value, 2.5]))
    pq.write_table(table, tmp_path / "nan.parquet")
    refused(store, [tmp_path / "nan.parquet"], "nan.parquet", "line_item_unblended_cost", "finite")


def test_costs_that_overflow_when_summed_are_refused(store, tmp_path):
    target = write_cur2(tmp_path / "huge.parquet", rows(cost=1.7e308) + rows(cost=1.7e308))
    refused(store, [target], "huge.parquet", "beyond")


def test_non_finite_amount_in_a_cost_explorer_answer_is_refused(store, tmp_path):
    for value in ('"NaN"', "NaN", '"1e309"', "-Infinity"):
        answer = {"ResultsByTime": [{"TimePeriod": {"Start": "2024-10-01", "End": "2024-10-02"},
                                     "Total": {"UnblendedCost": {"Amount": "PLACEHOLDER", "Unit": "USD"}},
                                     "Groups": []}]}
        target = tmp_path / "ce.json"
        target.write_text(json.dumps(answer).replace('"PLACEHOLDER"', value))
        refused(store, [target], "ce.json", "finite")


# --- item 3: tracebacks become one line --------------------------------------------------------------------

@pytest.mark.parametrize(("column", "value"), [
    ("bill_billing_period_start_date", "2024-13-01T00:00:00Z"),
    ("bill_billing_period_start_date", "not a date"),
    ("line_item_usage_start_date", "2024-02-30T00:00:00Z"),
    ("line_item_usage_start_date", "2024-10-03T25:00:00Z"),
    ("line_item_usage_end_date", "not a date"),
])
def test_impossible_dates_are_refused(store, tmp_path, column, value):
    target = edit_csv(write_cur2(tmp_path / "dates.csv", rows()), column, value)
    refused(store, [target], "dates.csv", column, "not a date and time")


@pytest.mark.parametrize(("value", "what"), [
    ('{"team": ', "not valid JSON"),
    ('{"a": "1", "a": "2"}', "repeats a key"),
    ('"ml"', "not an object"),
])
def test_malformed_tag_json_is_refused(store, tmp_path, value, what):
    target = edit_csv(write_cur2(tmp_path / "tags.csv", rows()), "resource_tags", value)
    refused(store, [target], "tags.csv", "resource_tags", what)


def test_semicolon_delimited_file_is_read_or_refused_in_one_line(store, tmp_path):
    source = write_cur2(tmp_path / "plain.csv", rows())
    table = list(csv.reader(io.StringIO(source.read_text())))
    buf = io.StringIO()
    csv.writer(buf, delimiter=";").writerows(table)
    (tmp_path / "semi.csv").write_text(buf.getvalue())
    ingest_inputs(store, [tmp_path / "semi.csv"])  # DuckDB's sniffer finds the delimiter: the same totals
    assert period_totals(store) == {"2024-09-01": 33.8, "2024-10-01": 3.75}
    # With decimal commas (a spreadsheet's locale) the costs are not numbers: one line
    (tmp_path / "comma.csv").write_text(buf.getvalue().replace("1.25", "1,25"))
    refused(store, [tmp_path / "comma.csv"], "comma.csv", "line_item_unblended_cost", "non-numeric")


def test_duplicate_map_keys_in_parquet_tags_are_refused(store, tmp_path):
    table = pq.read_table(write_cur2(tmp_path / "dupkeys.parquet", rows()))
    i = table.schema.get_field_index("resource_tags")
    tags = pa.array([[("team", "a"), ("team", "b")], []], type=pa.map_(pa.string(), pa.string()))
    pq.write_table(table.set_column(i, "resource_tags", tags), tmp_path / "dupkeys.parquet")
    refused(store, [tmp_path / "dupkeys.parquet"], "dupkeys.parquet", "resource_tags", "same key twice")


@pytest.mark.parametrize("values", [["garbage", "2024-10-04"], [12345678, 12345679]])
def test_garbage_in_parquet_timestamp_columns_is_refused(store, tmp_path, values):
    table = pq.read_table(write_cur2(tmp_path / "ts.parquet", rows()))
    i = table.schema.get_field_index("line_item_usage_start_date")
    pq.write_table(table.set_column(i, "line_item_usage_start_date", pa.array(values)), tmp_path / "ts.parquet")
    refused(store, [tmp_path / "ts.parquet"], "ts.parquet", "line_item_usage_start_date", "not a date and time")


def test_a_traceback_never_reaches_the_user(store, tmp_path):
    target = edit_csv(write_cur2(tmp_path / "cli.csv", rows()), "line_item_usage_start_date", "2024-02-30")
    before = store.path.read_bytes()
    result = run_cli("ingest", str(target), "--store", str(store.path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "cli.csv" in result.stderr and "To fix:" in result.stderr
    assert store.path.read_bytes() == before


# --- item 4: silently accepted -----------------------------------------------------------------------------

@pytest.mark.parametrize("period", ["9999-12-01T00:00:00Z", "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"])
def test_far_billing_periods_are_refused(store, tmp_path, period):
    target = edit_csv(write_cur2(tmp_path / "far.csv", rows()), "bill_billing_period_start_date", period)
    refused(store, [target], "far.csv", "bill_billing_period_start_date", period[:10])


def test_duplicated_cost_column_is_refused(store, tmp_path):
    source = write_cur2(tmp_path / "dup.csv", rows())
    lines = source.read_text().splitlines()
    lines = [line + ("," + "line_item_unblended_cost" if n == 0 else ",99") for n, line in enumerate(lines)]
    source.write_text("\n".join(lines) + "\n")
    refused(store, [source], "dup.csv", "line_item_unblended_cost", "more than once")
    table = pq.read_table(write_cur2(tmp_path / "dup.parquet", rows()))
    table = table.append_column("line_item_unblended_cost", pa.array([99.0, 99.0]))
    pq.write_table(table, tmp_path / "dup.parquet")
    refused(store, [tmp_path / "dup.parquet"], "dup.parquet", "line_item_unblended_cost", "more than once")


@pytest.mark.parametrize("damage", ["crc", "length", "truncated"])
def test_damaged_gzip_is_refused(store, tmp_path, damage):
    data = bytearray(gzip.compress(write_cur2(tmp_path / "plain.csv", rows()).read_bytes()))
    if damage == "crc":
        data[-8] ^= 0xFF
    elif damage == "length":
        data[-1] ^= 0x01
    else:
        data = data[:-12]
    (tmp_path / "bad.csv.gz").write_bytes(bytes(data))
    refused(store, [tmp_path / "bad.csv.gz"], "bad.csv.gz", "gzip")


def test_zero_row_parquet_is_refused(store, tmp_path):
    table = pq.read_table(write_cur2(tmp_path / "zero.parquet", rows()))
    pq.write_table(table.slice(0, 0), tmp_path / "zero.parquet")
    refused(store, [tmp_path / "zero.parquet"], "zero.parquet", "no rows")


@pytest.mark.parametrize("value", ['[{"Key": "team", "Value": "ml"}]', '["team"]'])
def test_tags_given_as_a_json_array_are_refused(store, tmp_path, value):
    target = edit_csv(write_cur2(tmp_path / "array.csv", rows()), "resource_tags", value)
    refused(store, [target], "array.csv", "resource_tags", "JSON array")


def test_plain_csv_named_csv_gz_and_gzip_named_csv_are_read(store, tmp_path):
    plain = write_cur2(tmp_path / "plain.csv", rows())
    (tmp_path / "misnamed.csv.gz").write_bytes(plain.read_bytes())
    ingest_inputs(store, [tmp_path / "misnamed.csv.gz"])
    assert period_totals(store) == {"2024-09-01": 33.8, "2024-10-01": 3.75}
    (tmp_path / "zipped.csv").write_bytes(gzip.compress(plain.read_bytes().replace(b"1.25", b"4.25")))
    ingest_inputs(store, [tmp_path / "zipped.csv"])
    assert period_totals(store) == {"2024-09-01": 33.8, "2024-10-01": 6.75}


# --- item 5: one command, one transaction ------------------------------------------------------------------

def test_billing_with_a_bad_snapshot_keeps_nothing(store, tmp_path):
    billing = write_cur2(tmp_path / "oct.csv", rows())
    bad = tmp_path / "bad-snapshot"
    bad.mkdir()
    (bad / "resources.jsonl").write_text('{"account_id": "1"\n')
    refused(store, [billing, bad], "resources.jsonl", "not valid JSON")
    assert period_totals(store) == {"2024-09-01": 33.8}


def test_cost_explorer_answer_with_a_bad_csv_keeps_nothing(store, tmp_path):
    answer = {"ResultsByTime": [{"TimePeriod": {"Start": "2024-11-01", "End": "2024-11-02"},
                                 "Total": {"UnblendedCost": {"Amount": "5", "Unit": "USD"}}, "Groups": []}]}
    (tmp_path / "ce.json").write_text(json.dumps(answer))
    bad = edit_csv(write_cur2(tmp_path / "bad.csv", rows()), "line_item_unblended_cost", "abc")
    refused(store, [tmp_path / "ce.json", bad], "bad.csv", "non-numeric")
    result = run_cli("ingest", str(tmp_path / "ce.json"), str(bad), "--store", str(store.path))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert period_totals(store) == {"2024-09-01": 33.8}


def test_all_kinds_together_land_together(store, tmp_path):
    answer = {"ResultsByTime": [{"TimePeriod": {"Start": "2024-11-01", "End": "2024-11-02"},
                                 "Total": {"UnblendedCost": {"Amount": "5", "Unit": "USD"}}, "Groups": []}]}
    (tmp_path / "ce.json").write_text(json.dumps(answer))
    result = ingest_inputs(store, [tmp_path / "ce.json", write_cur2(tmp_path / "oct.csv", rows())])
    assert result.billing is not None and result.billing.rows == 2
    assert period_totals(store) == {"2024-09-01": 33.8, "2024-10-01": 3.75, "2024-11-01": 5.0}


# --- item 9: a FIFO never takes the write lock -------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_fifo_is_refused_before_the_lock(store, tmp_path):
    fifo = tmp_path / "billing.csv"
    os.mkfifo(fifo)
    before = store.path.read_bytes()
    result = run_cli("ingest", str(fifo), "--store", str(store.path), timeout=60)  # a hang fails: TimeoutExpired
    assert result.returncode == 2, result.stderr
    assert "named pipe" in result.stderr and "billing.csv" in result.stderr and "Traceback" not in result.stderr
    assert store.path.read_bytes() == before
    # the same through a glob and beside a good file: refused before the store is opened
    refused(store, [str(tmp_path / "*.csv")], "named pipe")
    refused(store, [write_cur2(tmp_path / "good" / "oct.csv", rows()), fifo], "named pipe")
