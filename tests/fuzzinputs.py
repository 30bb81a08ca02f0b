"""A seeded mutator over every input ``aifinops ingest`` reads (issue 12), and the oracle that judges a run.

Seeds are real files (tests/data/real, tests/data/legacy_cur, tests/data/focus) and synthetic ones
(curfixtures, snapshot_writer). ``variant(n, seeds, out)`` picks a seed and one mutation from
``random.Random(seed_number + n)``, so a failing variant is rebuilt by its number alone. ``judge`` runs
one ingest in-process and says what went wrong, if anything:

- accepted: every period's total equals an independent SQL (or Python) sum over the mutated file, each
  total finite, each period plausible, the store's rollup holds the same; a mutation marked
  ``must_refuse`` (NaN, an impossible date, a damaged gzip…) that is accepted is garbage accepted;
- refused: an AifinopsError with one line naming the file, the problem and "To fix:", and the store
  file byte for byte as it was;
- anything else (another exception) is a failure.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import random
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from curfixtures import cur2_row, write_cur2

DATA = Path(__file__).parent / "data"
SEED = 20241012

BAD_NUMBERS = ["NaN", "nan", "Inf", "-Infinity", "1e309", "-1e309", "abc", "1,5", "12 USD", "0x1F", "--1"]
OK_NUMBERS = ["0", "-3.25", "1e-7", "  4.5", "42", "1E2"]
BAD_DATES = ["2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-10-03T25:00:00Z", "not a date",
             "9999-12-01T00:00:00Z", "0001-01-01T00:00:00Z", "1727740800", "2024-10", "31/10/2024"]
BAD_TAGS = ['{"team": ', '[{"Key": "team", "Value": "ml"}]', '["team"]', '{"a": "1", "a": "2"}', '"ml"', "{'a': 'b'}",
            "42"]
OK_TAGS = ["{}", "null", '{"user:team": "ml", "env": "prod"}', '{"a": {"b": 1}}', '{"k": 3}']


@dataclass
class Format:
    """A seed: how to rebuild it and which columns an independent sum reads."""

    name: str
    kind: str  # csv | parquet | ce | snapshot
    period: str = ""
    cost: str = ""
    numeric: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    maps: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)


CUR2 = dict(period="bill_billing_period_start_date", cost="line_item_unblended_cost",
            numeric=["line_item_unblended_cost", "line_item_usage_amount", "pricing_public_on_demand_cost"],
            dates=["bill_billing_period_start_date", "line_item_usage_start_date", "line_item_usage_end_date"],
            required=["bill_billing_period_start_date", "line_item_line_item_type", "line_item_usage_start_date",
                      "line_item_product_code", "line_item_usage_type", "line_item_unblended_cost"])
LEGACY = dict(period="bill/BillingPeriodStartDate", cost="lineItem/UnblendedCost",
              numeric=["lineItem/UnblendedCost", "lineItem/UsageAmount"],
              dates=["bill/BillingPeriodStartDate", "lineItem/UsageStartDate", "lineItem/UsageEndDate"],
              required=["lineItem/UsageType", "lineItem/UnblendedCost", "lineItem/LineItemType",
                        "bill/BillingPeriodStartDate"])
FOCUS = dict(period="BillingPeriodStart", cost="BilledCost",
             numeric=["BilledCost", "EffectiveCost", "ListCost", "ConsumedQuantity"],
             dates=["BillingPeriodStart", "ChargePeriodStart", "ChargePeriodEnd"], maps=["Tags"],
             required=["BilledCost", "ChargePeriodStart", "BillingPeriodStart", "ServiceName", "ChargeCategory"])
ATHENA = dict(period="bill_billing_period_start_date", cost="line_item_unblended_cost",
              numeric=["line_item_unblended_cost", "line_item_usage_amount"],
              dates=["bill_billing_period_start_date", "line_item_usage_start_date"],
              required=["bill_billing_period_start_date", "line_item_usage_type", "line_item_unblended_cost"])

FORMATS = [
    Format("cur2-parquet", "parquet", maps=["resource_tags"], **CUR2),
    Format("cur2-csv", "csv", maps=["resource_tags", "product"], **CUR2),
    Format("cur2-csv-gz", "csv", maps=["resource_tags", "product"], **CUR2),
    Format("legacy-csv", "csv", **LEGACY),
    Format("legacy-real-csv", "csv", **LEGACY),
    Format("athena-legacy-parquet", "parquet", **ATHENA),
    Format("focus-csv", "csv", **FOCUS),
    Format("focus-parquet", "parquet", **FOCUS),
    Format("ce-json", "ce"),
    Format("snapshot", "snapshot"),
]


def synthetic_rows() -> list[dict]:
    return [
        cur2_row("2024-10", "2024-10-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.8, amount=24.0,
                 tags={"user:team": "ml"}, product={"product_name": "Amazon SageMaker", "region": "us-east-1"}),
        cur2_row("2024-10", "2024-10-04", "AmazonBedrock", "USE1-Claude-input-tokens", 2.5, amount=1000.0),
        cur2_row("2024-10", "2024-10-05", "AmazonEC2", "USE1-BoxUsage:p4d.24xlarge", 98.3, amount=3.0,
                 tags={"user:team": "research", "env": "prod"}),
        cur2_row("2024-11", "2024-11-01", "AmazonS3", "USE1-TimedStorage-ByteHrs", 0.75, amount=32.0),
        cur2_row("2024-10", "2024-10-31", "AmazonSageMaker", "USE1-Notebk:ml.t3.medium", -1.2,
                 line_item_line_item_type="Credit"),
    ]


def build_seeds(out: Path) -> dict[str, Path]:
    """Write one file (or folder) per format under ``out``; return format name → path."""
    out.mkdir(parents=True, exist_ok=True)
    seeds = {
        "cur2-parquet": write_cur2(out / "cur2.parquet", synthetic_rows()),
        "cur2-csv": write_cur2(out / "cur2.csv", synthetic_rows()),
        "cur2-csv-gz": write_cur2(out / "cur2.csv.gz", synthetic_rows()),
        "legacy-csv": _copy(DATA / "legacy_cur" / "legacy_cur_2024-10.csv", out / "legacy.csv"),
        "legacy-real-csv": _head_csv(DATA / "real" / "focus-converters-legacy-cur" /
                                     "sample-anonymous-aws-export-dataset.csv", out / "legacy-real.csv", 120),
        "focus-csv": _head_csv(DATA / "focus" / "focus_sample_1000.csv", out / "focus.csv", 120),
    }
    real_parquet = DATA / "real" / "wa-labs-workshop-cur" / "Oct2018-WorkshopCUR-00001.snappy.parquet"
    pq.write_table(pq.read_table(real_parquet).slice(0, 150), out / "athena-legacy.parquet")
    seeds["athena-legacy-parquet"] = out / "athena-legacy.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * REPLACE (CAST(BilledCost AS DOUBLE) AS BilledCost, CAST(EffectiveCost AS DOUBLE) AS "
        "EffectiveCost, CAST(ListCost AS DOUBLE) AS ListCost, CAST(ConsumedQuantity AS DOUBLE) AS ConsumedQuantity, "
        "CAST(BillingPeriodStart AS TIMESTAMP) AS BillingPeriodStart, CAST(ChargePeriodStart AS TIMESTAMP) AS "
        "ChargePeriodStart, CAST(ChargePeriodEnd AS TIMESTAMP) AS ChargePeriodEnd) "
        f"FROM read_csv('{seeds['focus-csv']}', all_varchar = true, nullstr = ['', 'NULL'])) "
        f"TO '{out / 'focus.parquet'}' (FORMAT parquet)"
    )
    con.close()
    seeds["focus-parquet"] = out / "focus.parquet"
    seeds["ce-json"] = _copy(DATA / "real" / "awslabs-mcp-ce-capture" / "basic_ready.json", out / "ce.json")
    seeds["snapshot"] = _snapshot(out / "snapshot")
    return seeds


def _copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def _head_csv(src: Path, dst: Path, rows: int) -> Path:
    with src.open(newline="") as fh:
        table = [r for _, r in zip(range(rows + 1), csv.reader(fh), strict=False)]
    _write_csv(dst, table)
    return dst


def _snapshot(folder: Path) -> Path:
    from aifinops.ingest.snapshot_writer import write_snapshot

    records = [{"account_id": "111122223333", "region": "us-east-1", "resource_type": "sagemaker-endpoint",
                "resource_id": f"arn:aws:sagemaker:us-east-1:111122223333:endpoint/ep-{i}", "name": f"ep-{i}",
                "attributes": {"EndpointName": f"ep-{i}", "EndpointStatus": "InService"},
                "collected_at": "2024-10-30T12:00:00Z"} for i in range(3)]
    ts = [datetime(2024, 10, 1) + timedelta(hours=h) for h in range(6)]
    metrics = pa.table({
        "account_id": ["111122223333"] * 6, "region": ["us-east-1"] * 6, "namespace": ["AWS/SageMaker"] * 6,
        "metric_name": ["Invocations"] * 6,
        "dimensions": pa.array([[("EndpointName", "ep-0")]] * 6, type=pa.map_(pa.string(), pa.string())),
        "ts": pa.array(ts, type=pa.timestamp("us")), "period_s": [3600] * 6, "statistic": ["Sum"] * 6,
        "value": [float(h) for h in range(6)], "unit": ["None"] * 6,
    })
    return write_snapshot(folder, records, metrics, {"accounts": ["111122223333"]})


def _read_csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def _write_csv(path: Path, table: list[list[str]], delimiter: str = ",", gz: bool = False,
               newline: str = "\n") -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=newline).writerows(table)
    data = buf.getvalue().encode()
    path.write_bytes(gzip.compress(data) if gz else data)


# --- variants ----------------------------------------------------------------------------------------------


@dataclass
class Variant:
    number: int
    fmt: Format
    mutation: str
    paths: list[Path]
    must_refuse: bool = False

    def __str__(self) -> str:
        return f"#{self.number} {self.fmt.name}: {self.mutation}"


def variant(number: int, seeds: dict[str, Path], out: Path, seed: int = SEED) -> Variant:
    """Variant ``number``: a seed format (round robin) and a mutation drawn from ``Random(seed + number)``."""
    rng = random.Random(seed * 1_000_003 + number)
    fmt = FORMATS[number % len(FORMATS)]
    folder = out / f"v{number:05d}"
    folder.mkdir(parents=True, exist_ok=True)
    mutate = {"csv": _mutate_csv, "parquet": _mutate_parquet, "ce": _mutate_ce, "snapshot": _mutate_snapshot}
    mutation, paths, must_refuse = mutate[fmt.kind](rng, fmt, seeds[fmt.name], folder)
    return Variant(number, fmt, mutation, paths, must_refuse)


def _raw_damage(rng: random.Random, data: bytes) -> tuple[str, bytes, bool]:
    """Byte-level damage: truncation, flipped bytes, NUL bytes, an empty file."""
    choice = rng.choice(["truncate", "flip", "nul", "empty"])
    if choice == "empty" or len(data) < 4:
        return "empty file", b"", True
    if choice == "truncate":
        cut = rng.randrange(1, len(data))
        return f"truncated at byte {cut}", data[:cut], False
    if choice == "flip":
        buf = bytearray(data)
        spots = [rng.randrange(len(buf)) for _ in range(rng.randint(1, 8))]
        for spot in spots:
            buf[spot] ^= 1 << rng.randrange(8)
        return f"bits flipped at {spots}", bytes(buf), False
    spot = rng.randrange(len(data))
    return f"NUL bytes at {spot}", data[:spot] + b"\x00" * 4 + data[spot:], False


def _mutate_csv(rng: random.Random, fmt: Format, seed_path: Path, folder: Path) -> tuple[str, list[Path], bool]:
    table = _read_csv(seed_path)
    gz = seed_path.name.endswith(".gz")
    name = "bill.csv.gz" if gz else "bill.csv"
    target = folder / name
    header = table[0]
    rows = len(table) - 1
    col = {c: header.index(c) for c in header}
    present = lambda names: [n for n in names if n in col]  # noqa: E731
    kind = rng.choice(["bad-number", "ok-number", "bad-date", "tags", "structure", "structure", "raw", "gzip"])
    row = rng.randrange(rows) + 1
    must = False
    if kind == "bad-number" and present(fmt.numeric):
        c = rng.choice(present(fmt.numeric))
        value = rng.choice(BAD_NUMBERS)
        table[row][col[c]] = value
        what, must = f"{c} row {row} = {value!r}", True
    elif kind == "ok-number" and present(fmt.numeric):
        c = rng.choice(present(fmt.numeric))
        value = rng.choice(OK_NUMBERS)
        table[row][col[c]] = value
        what = f"{c} row {row} = {value!r}"
    elif kind == "bad-date" and present(fmt.dates):
        c = rng.choice(present(fmt.dates))
        value = rng.choice(BAD_DATES)
        table[row][col[c]] = value
        # the end date is never read as a period; a far one is odd but harmless, an impossible one is refused
        what, must = f"{c} row {row} = {value!r}", not (value[:4] in ("9999", "0001") and c != fmt.period)
    elif kind == "tags" and present(fmt.maps):
        c = rng.choice(present(fmt.maps))
        bad = rng.random() < 0.6
        value = rng.choice(BAD_TAGS if bad else OK_TAGS)
        table[row][col[c]] = value
        what, must = f"{c} row {row} = {value!r}", bad
    elif kind in ("structure", "bad-number", "ok-number", "bad-date", "tags"):
        what, must = _csv_structure(rng, fmt, table)
    elif kind == "raw":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(table)
        what, data, must = _raw_damage(rng, buf.getvalue().encode())
        target.write_bytes(gzip.compress(data) if gz and data else data)
        return f"raw: {what}", [target], must
    else:
        return _gzip_mutation(rng, table, folder)
    delimiter = ","
    if what.startswith("delimiter"):
        delimiter = what[-2]
    _write_csv(target, table, delimiter=delimiter, gz=gz, newline=rng.choice(["\n", "\r\n"]))
    return what, [target], must


def _csv_structure(rng: random.Random, fmt: Format, table: list[list[str]]) -> tuple[str, bool]:
    header = table[0]
    choice = rng.choice(["dup-col", "drop-col", "drop-required", "upper-header", "dup-rows", "header-only",
                         "ragged", "short-row", "delimiter", "bom", "blank-lines", "quote"])
    if choice == "dup-col":
        c = rng.choice([fmt.cost, fmt.period, *fmt.required])
        i = header.index(c)
        for r in table:
            r.append(r[i] if r is not table[0] else c)
        return f"column {c} twice", True
    if choice == "drop-col":
        optional = [c for c in header if c not in fmt.required and c not in fmt.dates[:1]]
        c = rng.choice(optional)
        i = header.index(c)
        for r in table:
            del r[i]
        return f"optional column {c} dropped", False
    if choice == "drop-required":
        c = rng.choice([c for c in fmt.required if c in header])
        i = header.index(c)
        for r in table:
            del r[i]
        return f"required column {c} dropped", True
    if choice == "upper-header":
        table[0] = [c.upper() for c in header]
        return "header upper-cased", False
    if choice == "dup-rows":
        table.extend([list(r) for r in table[1:]])
        return "every row twice", False
    if choice == "header-only":
        del table[1:]
        return "header only", True
    if choice == "ragged":
        r = rng.randrange(1, len(table))
        table[r].append("extra")
        return f"row {r} has an extra field", False
    if choice == "short-row":
        r = rng.randrange(1, len(table))
        del table[r][-rng.randint(1, 3):]
        return f"row {r} is short", False
    if choice == "delimiter":
        d = rng.choice([";", "\t", "|"])
        return f"delimiter {d!r}", False
    if choice == "bom":
        table[0][0] = "\ufeff" + table[0][0]
        return "UTF-8 BOM", False
    if choice == "blank-lines":
        for _ in range(3):
            table.insert(rng.randrange(1, len(table) + 1), [])
        return "blank lines", False
    r = rng.randrange(1, len(table))
    c = rng.randrange(len(table[r]))
    table[r][c] = table[r][c] + '"'
    return f"stray quote in row {r}", False


def _gzip_mutation(rng: random.Random, table: list[list[str]], folder: Path) -> tuple[str, list[Path], bool]:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    plain = buf.getvalue().encode()
    choice = rng.choice(["crc", "length", "truncated", "plain-named-gz", "gz-named-csv", "two-members", "trailing"])
    zipped = bytearray(gzip.compress(plain))
    if choice == "crc":
        zipped[-8] ^= 0xFF
        return _put(folder / "bill.csv.gz", bytes(zipped), "gzip with a bad CRC", True)
    if choice == "length":
        zipped[-2] ^= 0x01
        return _put(folder / "bill.csv.gz", bytes(zipped), "gzip with a bad length", True)
    if choice == "truncated":
        return _put(folder / "bill.csv.gz", bytes(zipped[: rng.randrange(10, len(zipped) - 1)]), "gzip cut short", True)
    if choice == "plain-named-gz":
        return _put(folder / "bill.csv.gz", plain, "plain CSV named .csv.gz", False)
    if choice == "gz-named-csv":
        return _put(folder / "bill.csv", bytes(zipped), "gzip named .csv", False)
    if choice == "two-members":
        cut = plain.index(b"\n", len(plain) // 2) + 1
        return _put(folder / "bill.csv.gz", gzip.compress(plain[:cut]) + gzip.compress(plain[cut:]),
                    "gzip in two members", False)
    return _put(folder / "bill.csv.gz", bytes(zipped) + b"garbage!", "gzip with trailing garbage", True)


def _put(path: Path, data: bytes, what: str, must: bool) -> tuple[str, list[Path], bool]:
    path.write_bytes(data)
    return what, [path], must


def _mutate_parquet(rng: random.Random, fmt: Format, seed_path: Path, folder: Path) -> tuple[str, list[Path], bool]:
    table = pq.read_table(seed_path)
    target = folder / "bill.parquet"
    n = table.num_rows
    choice = rng.choice(["non-finite", "non-finite", "big", "cost-as-text", "cost-types", "date-text", "date-far",
                         "null-period", "dup-map", "zero-rows", "drop-col", "drop-required", "dup-col", "raw", "raw"])
    i = rng.randrange(n)

    def setcol(name: str, values) -> pa.Table:
        return table.set_column(table.schema.get_field_index(name), name, values)

    def with_value(name: str, value, type_=None) -> pa.Array:
        values = table.column(name).to_pylist()
        values[i] = value
        return pa.array(values, type=type_ or table.schema.field(name).type)

    if choice == "non-finite":
        c = rng.choice([c for c in fmt.numeric if c in table.column_names])
        value = rng.choice([math.nan, math.inf, -math.inf])
        table, what, must = setcol(c, with_value(c, value, pa.float64())), f"{c} row {i} = {value}", True
    elif choice == "big":
        values = [1.7e308] * n
        table, what, must = setcol(fmt.cost, pa.array(values)), "every cost 1.7e308 (the sum overflows)", n > 1
    elif choice == "cost-as-text":
        values = [None if v is None else repr(float(v)) for v in table.column(fmt.cost).to_pylist()]
        bad = rng.random() < 0.5
        if bad:
            values[i] = rng.choice(BAD_NUMBERS)
        table, what, must = setcol(fmt.cost, pa.array(values, pa.string())), f"costs as text{', one bad' * bad}", bad
    elif choice == "cost-types":
        type_ = rng.choice([pa.decimal128(38, 10), pa.float32(), pa.int64()])
        values = table.column(fmt.cost).to_pylist()
        if pa.types.is_integer(type_):
            values = [None if v is None else round(float(v)) for v in values]
        elif pa.types.is_decimal(type_):
            from decimal import Decimal

            values = [None if v is None else Decimal(repr(float(v))).quantize(Decimal("1e-10")) for v in values]
        table, what, must = setcol(fmt.cost, pa.array(values, type_)), f"cost column as {type_}", False
    elif choice == "date-text":
        c = rng.choice([c for c in fmt.dates if c in table.column_names])
        values = [None if v is None else v.isoformat() for v in table.column(c).to_pylist()]
        values[i] = rng.choice(BAD_DATES[:4] + ["garbage"])
        table, what, must = setcol(c, pa.array(values, pa.string())), f"{c} as text, row {i} = {values[i]!r}", True
    elif choice == "date-far":
        value = rng.choice([datetime(9999, 12, 1), datetime(1, 1, 1), datetime(1970, 1, 1)])
        table, what, must = setcol(fmt.period, with_value(fmt.period, value)), f"period row {i} = {value:%Y}", True
    elif choice == "null-period":
        table, what, must = setcol(fmt.period, with_value(fmt.period, None)), f"period row {i} null", True
    elif choice == "dup-map" and fmt.maps:
        c = fmt.maps[0]
        if pa.types.is_map(table.schema.field(c).type):
            values = table.column(c).to_pylist()
            values[i] = [("team", "a"), ("team", "b")]
            table, what, must = setcol(c, pa.array(values, table.schema.field(c).type)), f"{c} row {i} dup key", True
        else:
            table, what, must = setcol(c, with_value(c, '{"a": "1", "a": "2"}')), f"{c} row {i} dup JSON key", True
    elif choice == "zero-rows":
        table, what, must = table.slice(0, 0), "zero rows", True
    elif choice == "drop-required":
        c = rng.choice([c for c in fmt.required if c in table.column_names])
        table, what, must = table.drop_columns([c]), f"required {c} dropped", True
    elif choice == "dup-col":
        table, what, must = table.append_column(fmt.cost, table.column(fmt.cost)), f"{fmt.cost} twice", True
    elif choice == "raw":
        pq.write_table(table, target)
        what, data, must = _raw_damage(rng, target.read_bytes())
        target.write_bytes(data)
        return f"raw: {what}", [target], must
    else:
        optional = [c for c in table.column_names if c not in fmt.required and c not in fmt.dates[:1]]
        c = rng.choice(optional)
        table, what, must = table.drop_columns([c]), f"optional {c} dropped", False
    pq.write_table(table, target)
    return what, [target], must


def _mutate_ce(rng: random.Random, fmt: Format, seed_path: Path, folder: Path) -> tuple[str, list[Path], bool]:
    doc = json.loads(seed_path.read_text())
    target = folder / "ce.json"
    answer = doc["calls"]["ce"][0]["response"]
    periods = answer["ResultsByTime"]
    p = rng.choice(periods)
    choice = rng.choice(["amount", "amount", "ok-amount", "period", "types", "grouping", "raw", "nesting", "drop"])
    must = True
    if choice == "amount":
        value = rng.choice(["NaN", "Infinity", "1e309", "abc", "", None, True, [1], "-1e309"])
        p["Total"]["UnblendedCost"]["Amount"] = value
        what, must = f"Amount = {value!r}", value not in ("", None)
    elif choice == "ok-amount":
        value = rng.choice(["0", "-2.5", "1234.56789", "1e-9"])
        p["Total"]["UnblendedCost"]["Amount"] = value
        what, must = f"Amount = {value!r}", False
    elif choice == "period":
        value = rng.choice(["2024-13-01", "not a date", "9999-12-01", "0001-01-01", None, "2026-06-04T00:00:00Z"])
        p["TimePeriod"]["Start"] = value
        what = f"Start = {value!r}"
    elif choice == "types":
        where = rng.choice(["Groups", "Total", "TimePeriod", "Metrics", "entry"])
        if where == "entry":
            periods[periods.index(p)] = "x"
        elif where == "Metrics":
            p["Total"]["UnblendedCost"] = "12"
        else:
            p[where] = rng.choice(["x", 3, [1]]) if where != "Groups" else {"a": 1}
        what = f"{where} of the wrong type"
    elif choice == "grouping":
        answer["GroupDefinitions"] = rng.choice([[{"Type": "TAG", "Key": "team"}], "SERVICE", [1]])
        what = f"GroupDefinitions = {answer['GroupDefinitions']!r}"
    elif choice == "nesting":
        depth = rng.choice([3, 12, 2000])
        wrapped: object = answer
        for _ in range(min(depth, 100)):
            wrapped = {"x": wrapped}
        doc = wrapped  # found up to six levels down; deeper is "not an answer"
        what, must = f"answer nested {depth} deep", depth > 5
    elif choice == "drop":
        del periods[rng.randrange(len(periods))]
        what, must = "one day dropped", False
    else:
        text = json.dumps(doc, allow_nan=True).encode()
        what, data, _ = _raw_damage(rng, text)
        target.write_bytes(data)
        return f"raw: {what}", [target], False
    if choice == "nesting" and depth >= 1000:  # too deep for json.dumps: written as text
        target.write_text("[" * depth + json.dumps(answer) + "]" * depth)
    else:
        target.write_text(json.dumps(doc, allow_nan=True))
    return what, [target], must


def _mutate_snapshot(rng: random.Random, fmt: Format, seed_path: Path, folder: Path) -> tuple[str, list[Path], bool]:
    target = folder / "snap"
    shutil.copytree(seed_path, target)
    lines = (target / "resources.jsonl").read_text().splitlines()
    choice = rng.choice(["bad-json", "missing-key", "nan", "not-object", "attributes", "collected", "blank",
                         "utf8", "metrics-raw", "metrics-columns", "metrics-nan", "metrics-ts", "manifest", "ok-extra"])
    i = rng.randrange(len(lines))
    obj = json.loads(lines[i])
    must = True
    if choice == "bad-json":
        lines[i] = lines[i][: rng.randrange(1, len(lines[i]))]
        what = f"line {i + 1} cut short"
    elif choice == "missing-key":
        key = rng.choice(["account_id", "region", "resource_type", "resource_id", "name", "attributes"])
        del obj[key]
        lines[i], what = json.dumps(obj), f"line {i + 1} without {key}"
    elif choice == "nan":
        obj["attributes"]["CurrentWeight"] = float(rng.choice(["nan", "inf"]))
        lines[i], what = json.dumps(obj, allow_nan=True), f"line {i + 1} attribute {obj['attributes']['CurrentWeight']}"
    elif choice == "not-object":
        lines[i], what = rng.choice(["[1, 2]", '"x"', "null", "3"]), f"line {i + 1} not an object"
    elif choice == "attributes":
        obj["attributes"] = rng.choice(["x", [1], None])
        lines[i], what = json.dumps(obj), f"line {i + 1} attributes {obj['attributes']!r}"
    elif choice == "collected":
        obj["collected_at"] = rng.choice(["2024-13-01T00:00:00Z", "yesterday", 5])
        lines[i], what = json.dumps(obj), f"line {i + 1} collected_at {obj['collected_at']!r}"
    elif choice == "blank":
        lines.insert(i, "   ")
        what, must = "a blank line", False
    elif choice == "utf8":
        (target / "resources.jsonl").write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe\n")
        return "resources.jsonl not UTF-8", [target], True
    elif choice == "ok-extra":
        obj["extra"] = {"nested": [1, 2, 3]}
        lines[i], what, must = json.dumps(obj), f"line {i + 1} with an extra key", False
    else:
        (target / "resources.jsonl").write_text("\n".join(lines) + "\n")
        return _mutate_metrics(rng, choice, target)
    (target / "resources.jsonl").write_text("\n".join(lines) + "\n")
    return what, [target], must


def _mutate_metrics(rng: random.Random, choice: str, target: Path) -> tuple[str, list[Path], bool]:
    path = target / "metrics.parquet"
    table = pq.read_table(path)
    if choice == "metrics-raw":
        what, data, _ = _raw_damage(rng, path.read_bytes())
        path.write_bytes(data)
        return f"metrics.parquet {what}", [target], not what.startswith("bits flipped")  # may still be valid
    if choice == "metrics-columns":
        c = rng.choice(table.column_names)
        pq.write_table(table.drop_columns([c]), path)
        return f"metrics.parquet without {c}", [target], True
    if choice == "metrics-nan":
        values = table.column("value").to_pylist()
        values[rng.randrange(len(values))] = float(rng.choice(["nan", "inf"]))
        table = table.set_column(table.schema.get_field_index("value"), "value", pa.array(values))
        pq.write_table(table, path)
        return "metrics value non-finite", [target], True
    if choice == "metrics-ts":
        values = [v.isoformat() for v in table.column("ts").to_pylist()]
        values[0] = rng.choice(["garbage", "2024-02-30T00:00:00"])
        table = table.set_column(table.schema.get_field_index("ts"), "ts", pa.array(values))
        pq.write_table(table, path)
        return f"metrics ts as text {values[0]!r}", [target], True
    (target / "manifest.json").write_text(rng.choice(['{"schema": "aifinops.snapshot/9"}', "[1]", "{", '"x"']))
    return "manifest.json damaged", [target], True


# --- the oracle --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    variant: Variant
    accepted: bool = False
    failure: str | None = None
    message: str = ""


def expected_totals(v: Variant) -> dict[date, float]:
    """Billed cost per billing period, summed independently of aifinops from the mutated input."""
    path = v.paths[0]
    if v.fmt.kind == "ce":
        return _ce_totals(path)
    con = duckdb.connect()
    try:
        if v.fmt.kind == "parquet":
            relation = f"read_parquet('{path}')"
        else:
            compression = "gzip" if path.read_bytes()[:2] == b"\x1f\x8b" else "none"
            relation = (f"read_csv('{path}', header = true, all_varchar = true, nullstr = ['', 'NULL'], "
                        f"compression = '{compression}')")
        rows = con.execute(
            f'SELECT CAST(date_trunc(\'month\', CAST(CAST("{v.fmt.period}" AS VARCHAR) AS TIMESTAMP)) AS DATE), '
            f'sum(COALESCE(CAST(NULLIF(trim(CAST("{v.fmt.cost}" AS VARCHAR)), \'\') AS DOUBLE), 0)) '
            f"FROM {relation} GROUP BY 1"
        ).fetchall()
    finally:
        con.close()
    return {p: c for p, c in rows}


def _ce_totals(path: Path) -> dict[date, float]:
    answers = _answers(json.loads(path.read_text()), 0)
    totals: dict[date, float] = {}
    grouped = bool(answers[0].get("GroupDefinitions"))
    for p in [p for a in answers for p in a["ResultsByTime"]]:
        day = date.fromisoformat(p["TimePeriod"]["Start"]).replace(day=1)
        metrics = [g["Metrics"] for g in p.get("Groups") or []] if grouped else [p.get("Total") or {}]
        cost = sum(float(m.get("UnblendedCost", {}).get("Amount") or 0) for m in metrics)
        totals[day] = totals.get(day, 0.0) + cost
    return totals


def _answers(doc, depth: int) -> list[dict]:
    if isinstance(doc, dict) and isinstance(doc.get("ResultsByTime"), list):
        return [doc]
    children = doc.values() if isinstance(doc, dict) else doc if isinstance(doc, list) and depth < 6 else []
    return [a for child in children for a in _answers(child, depth + 1)] if depth < 6 else []


def store_totals(store_path: Path) -> dict[date, float]:
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        return dict(con.execute("SELECT billing_period, sum(billed_cost) FROM usage_daily GROUP BY 1").fetchall())
    finally:
        con.close()


def judge(v: Variant, base_store: Path, work: Path) -> Outcome:
    """Ingest ``v`` into a copy of ``base_store`` in-process and check the result (see the module doc)."""
    from aifinops.errors import AifinopsError
    from aifinops.ingest.inputs import ingest_inputs
    from aifinops.store import Store

    store_path = work / f"store-{v.number}.duckdb"
    shutil.copyfile(base_store, store_path)
    before = store_path.read_bytes()
    base = store_totals(base_store)
    outcome = Outcome(v)
    try:
        result = ingest_inputs(Store(store_path), [str(p) for p in v.paths])
    except AifinopsError as exc:
        outcome.message = exc.message
        outcome.failure = check_refusal(v, exc.message) or (
            None if store_path.read_bytes() == before else "the store file changed on a refusal")
        return outcome
    except Exception as exc:  # noqa: BLE001 - any other exception is what the fuzzer looks for
        outcome.failure = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        return outcome
    outcome.accepted = True
    if v.must_refuse:
        outcome.failure = "garbage accepted"
        return outcome
    outcome.failure = check_accepted(v, result, base, store_path)
    return outcome


def check_refusal(v: Variant, message: str) -> str | None:
    names = {p.name for p in v.paths} | {p.parent.name for p in v.paths} | {"resources.jsonl", "metrics.parquet",
                                                                            "manifest.json"}
    if "\n" in message:
        return f"a message of several lines: {message[:200]!r}"
    if "To fix:" not in message:
        return f"no fix in {message[:200]!r}"
    if not any(name in message for name in names):
        return f"the file is not named in {message[:200]!r}"
    short = message
    for p in v.paths:
        short = short.replace(str(p.parent), "")
    if len(short) > 450:
        return f"a message of {len(short)} characters (quotes too much?)"
    return None


def check_accepted(v: Variant, result, base: dict[date, float], store_path: Path) -> str | None:
    stored = store_totals(store_path)
    latest = datetime.now(UTC).date() + timedelta(days=366)
    for period, cost in stored.items():
        if not math.isfinite(cost):
            return f"period {period} holds {cost}"
        if not date(2000, 1, 1) <= period <= latest:
            return f"period {period} accepted"
    if v.fmt.kind == "snapshot":
        return _check_snapshot(v, store_path, stored, base)
    try:
        expected = expected_totals(v)
    except (duckdb.Error, ValueError, KeyError, TypeError) as exc:
        return f"accepted, but an independent read fails ({type(exc).__name__}: {str(exc)[:120]})"
    for period, cost in expected.items():
        if v.fmt.kind == "ce" and period in base:
            continue  # billing files win over Cost Explorer
        if period not in stored or abs(stored[period] - cost) > 0.005 + 1e-9 * abs(cost):
            return f"period {period}: the store holds {stored.get(period)}, the file sums to {cost}"
    for period, cost in base.items():
        if period not in expected and abs(stored.get(period, math.nan) - cost) > 1e-9:
            return f"period {period}, not in the file, changed from {cost} to {stored.get(period)}"
    if v.fmt.kind != "ce":
        got = {p.billing_period: p.billed_cost for p in result.billing.periods}
        off = [p for p in got if p in expected and abs(got[p] - expected[p]) > 0.005 + 1e-9 * abs(expected[p])]
        if set(got) != set(expected) or off:
            return f"the ingest reported {got}, the file sums to {expected}"
    return None


def _check_snapshot(v: Variant, store_path: Path, stored: dict, base: dict) -> str | None:
    folder = v.paths[0]
    lines = [x for x in (folder / "resources.jsonl").read_text().splitlines() if x.strip()]
    metrics = pq.read_metadata(folder / "metrics.parquet").num_rows
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        source = f"snapshot:{folder.resolve()}"
        (n_res,) = con.execute("SELECT count(*) FROM resources WHERE source = ?", [source]).fetchone()
        (n_met,) = con.execute("SELECT count(*) FROM metrics WHERE source = ?", [source]).fetchone()
    finally:
        con.close()
    if (n_res, n_met) != (len(lines), metrics):
        return f"the store holds {n_res} resources and {n_met} datapoints; the folder has {len(lines)} and {metrics}"
    if stored != base:
        return "a snapshot changed the billing totals"
    return None


def base_store(path: Path) -> Path:
    """A store already holding January 2019 (CUR 2.0 CSV, converted), so 'unchanged' means something."""
    from aifinops.ingest.inputs import ingest_inputs
    from aifinops.store import Store

    csv_path = write_cur2(path.parent / "base-jan-2019.csv",
                          [cur2_row("2019-01", "2019-01-03", "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 11.5)])
    ingest_inputs(Store(path), [csv_path])
    return path
