"""CUR 2.0 ingest: reconciliation to the cent, idempotent re-ingest, Parquet and gzip CSV, layouts."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from curfixtures import cur2_row, write_cur2

SP_ARN = "arn:aws:savingsplans::111122223333:savingsplan/abc"


def month_rows(period: str, scale: float = 1.0) -> list[dict]:
    day = period + "-05"
    return [
        cur2_row(period, day, "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.8016 * scale, amount=24, rate="1.4084",
                 line_item_resource_id="arn:aws:sagemaker:us-east-1:111122223333:endpoint/ep-1",
                 product={"product_name": "Amazon SageMaker"}, tags={"user_team": "vision"}),
        # Savings Plan: covered usage (billed on-demand), its negation, and the recurring fee.
        cur2_row(period, day, "AmazonSageMaker", "USE1-Train:ml.p3.2xlarge", 91.8 * scale, amount=24,
                 line_item_line_item_type="SavingsPlanCoveredUsage", savings_plan_savings_plan_a_r_n=SP_ARN,
                 savings_plan_savings_plan_effective_cost=55.08 * scale),
        cur2_row(period, day, "AmazonSageMaker", "USE1-Train:ml.p3.2xlarge", -91.8 * scale, amount=0,
                 line_item_line_item_type="SavingsPlanNegation", savings_plan_savings_plan_a_r_n=SP_ARN),
        cur2_row(period, period + "-01", "ComputeSavingsPlans", "SavingsPlanRecurringFee", 60.0 * scale,
                 line_item_line_item_type="SavingsPlanRecurringFee", savings_plan_savings_plan_a_r_n=SP_ARN,
                 savings_plan_total_commitment_to_date=60.0 * scale, savings_plan_used_commitment=55.08 * scale),
        cur2_row(period, day, "AmazonBedrockFoundationModels", "USE1-MP:USE1_InputTokenCount-Units", 12.345678 * scale,
                 amount=4.115226, bill_billing_entity="AWS Marketplace",
                 product={"product_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)"}),
        cur2_row(period, period + "-01", "AmazonSageMaker", "", -10.0 * scale, line_item_line_item_type="Credit"),
        cur2_row(period, period + "-01", "AmazonSageMaker", "", 4.2 * scale, line_item_line_item_type="Tax"),
        cur2_row(period, day, "AmazonEC2", "BoxUsage:m5.large", 2.304 * scale, amount=24),
    ]


def totals(store: Store) -> tuple[float, float]:
    with store.connect(read_only=True) as con:
        return con.execute("SELECT sum(billed_cost), sum(effective_cost) FROM usage_daily").fetchall()[0]


def source_totals(files) -> float:
    rel = ", ".join(f"'{f}'" for f in files)
    return duckdb.sql(f"SELECT sum(line_item_unblended_cost) FROM read_parquet([{rel}])").fetchall()[0][0]


def test_parquet_reconciles_billed_and_effective(tmp_path):
    f = write_cur2(tmp_path / "cur" / "a.parquet", month_rows("2024-10"))
    store = Store(tmp_path / "s.duckdb")
    result = ingest_paths(store, [f])
    billed, effective = totals(store)
    assert billed == pytest.approx(source_totals([f]), abs=0.005)
    assert result.billed_cost == pytest.approx(billed, abs=1e-9)
    # effective: usage at its SP effective cost, negation 0, fee's unused part (60 - 55.08), credit, tax, rest as billed
    expected_effective = 33.8016 + 55.08 + 0.0 + (60.0 - 55.08) + 12.345678 - 10.0 + 4.2 + 2.304
    assert effective == pytest.approx(expected_effective, abs=1e-6)


def test_gzip_csv_reconciles_and_matches_parquet(tmp_path):
    rows = month_rows("2024-10")
    pq_store, csv_store = Store(tmp_path / "p.duckdb"), Store(tmp_path / "c.duckdb")
    ingest_paths(pq_store, [write_cur2(tmp_path / "p" / "a.parquet", rows)])
    ingest_paths(csv_store, [write_cur2(tmp_path / "c" / "a.csv.gz", rows)])
    query = ("SELECT usage_date, service_code, usage_type, line_item_type, tags, round(billed_cost, 6), "
             "round(effective_cost, 6), ai_service, workload, model FROM usage_daily ORDER BY ALL")
    with pq_store.connect(read_only=True) as a, csv_store.connect(read_only=True) as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_reingest_replaces_a_period_never_doubles(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    sep = write_cur2(tmp_path / "x" / "sep.parquet", month_rows("2024-09"))
    oct1 = write_cur2(tmp_path / "x" / "oct-v1.parquet", month_rows("2024-10"))
    ingest_paths(store, [sep, oct1])
    first = totals(store)[0]
    ingest_paths(store, [oct1])
    assert totals(store)[0] == pytest.approx(first)
    # AWS re-delivers October with more usage: October is replaced, September stays.
    oct2 = write_cur2(tmp_path / "x" / "oct-v2.parquet", month_rows("2024-10", scale=2.0))
    ingest_paths(store, [oct2])
    assert totals(store)[0] == pytest.approx(source_totals([sep]) + source_totals([oct2]), abs=0.005)
    with store.connect(read_only=True) as con:
        active = con.execute("SELECT billing_period, count(*) FROM sources WHERE active GROUP BY 1").fetchall()
    assert all(n == 1 for _, n in active)


def test_cur2_export_folder_layout(tmp_path):
    root = tmp_path / "exports" / "my-export" / "data"
    write_cur2(root / "BILLING_PERIOD=2024-09" / "my-export-00001.snappy.parquet", month_rows("2024-09"))
    write_cur2(root / "BILLING_PERIOD=2024-10" / "my-export-00001.snappy.parquet", month_rows("2024-10"))
    (root.parent / "metadata").mkdir(parents=True)
    (root.parent / "metadata" / "manifest.json").write_text("{}")
    store = Store(tmp_path / "s.duckdb")
    result = ingest_paths(store, [tmp_path / "exports"])
    assert [p.billing_period.isoformat() for p in result.periods] == ["2024-09-01", "2024-10-01"]
    assert len(result.files) == 2


def test_taxonomy_and_tags_in_rollup(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [write_cur2(tmp_path / "a.parquet", month_rows("2024-10"))])
    with store.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT usage_type, ai_service, workload, instance_type, purchase_option, model, token_kind, tags, "
            "service_name FROM usage_daily WHERE line_item_type IN ('Usage', 'SavingsPlanCoveredUsage') "
            "ORDER BY usage_type"
        ).fetchall()
    by_type = {r[0]: r for r in rows}
    assert by_type["USE1-Host:ml.g5.xlarge"][1:5] == ("sagemaker", "inference", "ml.g5.xlarge", "on-demand")
    assert by_type["USE1-Host:ml.g5.xlarge"][7] == '{"team":"vision"}'
    assert by_type["USE1-Train:ml.p3.2xlarge"][4] == "savings-plan"
    assert by_type["USE1-MP:USE1_InputTokenCount-Units"][1:2] == ("bedrock",)
    assert by_type["USE1-MP:USE1_InputTokenCount-Units"][5:7] == ("Claude Sonnet 4.5", "input")
    assert by_type["BoxUsage:m5.large"][1] == "other"


money = st.floats(min_value=-500, max_value=5000, allow_nan=False, allow_infinity=False)
usage_types = st.sampled_from(["USE1-Host:ml.g5.xlarge", "USE1-Train:ml.p4d.24xlarge", "BoxUsage:p5.48xlarge",
                               "TimedStorage-ByteHrs", "USE1-NovaLite-input-tokens", "BoxUsage:t3.micro"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(usage_types, money, st.integers(1, 28), st.sampled_from(["team", "model", None])),
                min_size=1, max_size=30))
def test_property_rollup_total_equals_source_total(tmp_path_factory, items):
    tmp = tmp_path_factory.mktemp("prop")
    rows = [cur2_row("2024-10", f"2024-10-{day:02d}", "AmazonSageMaker" if ut.startswith("USE1-H") else "AmazonEC2",
                     ut, cost, tags={f"user_{tag}": "x"} if tag else {})
            for ut, cost, day, tag in items]
    f = write_cur2(tmp / "a.parquet", rows)
    store = Store(tmp / "s.duckdb")
    ingest_paths(store, [f])
    assert totals(store)[0] == pytest.approx(sum(r["line_item_unblended_cost"] for r in rows), abs=0.005)
    ingest_paths(store, [f])  # idempotent
    assert totals(store)[0] == pytest.approx(sum(r["line_item_unblended_cost"] for r in rows), abs=0.005)


def test_an_export_with_only_some_columns(tmp_path):
    """Data Exports let users pick columns: a CUR 2.0 file with the required ones alone still loads,
    reconciles and classifies (no tags, no product map, no pricing or savings plan columns)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from aifinops.ingest.cur2 import REQUIRED as CUR2_REQUIRED
    from aifinops.ingest.cur2_columns import CUR2_SCHEMA

    keep = [*CUR2_REQUIRED, "line_item_usage_amount", "line_item_resource_id", "line_item_usage_account_id"]
    rows = month_rows("2024-10")
    table = pa.table({name: [r.get(name) for r in rows] for name in keep},
                     schema=pa.schema([CUR2_SCHEMA.field(n) for n in keep]))
    path = tmp_path / "narrow.parquet"
    pq.write_table(table, path)
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [path])
    assert totals(store)[0] == pytest.approx(sum(r["line_item_unblended_cost"] for r in rows), abs=0.005)
    with store.connect(read_only=True) as con:
        host = con.execute("SELECT ai_service, workload, tags FROM usage_daily "
                           "WHERE usage_type = 'USE1-Host:ml.g5.xlarge'").fetchall()
    assert host == [("sagemaker", "inference", "{}")]


def test_legacy_cur_in_athena_parquet_keeps_its_tags_and_product_name(tmp_path):
    """Legacy CUR read through Athena is snake_case Parquet with a column per tag and product_product_name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from aifinops.ingest.cur2 import REQUIRED as CUR2_REQUIRED
    from aifinops.ingest.cur2_columns import CUR2_SCHEMA

    rows = month_rows("2024-10")[:1]  # the SageMaker endpoint row, tagged team=vision
    columns = {name: [r.get(name) for r in rows] for name in CUR2_REQUIRED}
    columns["resource_tags_user_team"] = ["vision"]
    columns["resource_tags_user_cost_center"] = [""]
    columns["product_product_name"] = ["Amazon SageMaker"]
    fields = [CUR2_SCHEMA.field(n) for n in CUR2_REQUIRED] + [pa.field(n, pa.string()) for n in
                                                               ("resource_tags_user_team",
                                                                "resource_tags_user_cost_center",
                                                                "product_product_name")]
    path = tmp_path / "athena.parquet"
    pq.write_table(pa.table(columns, schema=pa.schema(fields)), path)
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [path])
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT tags, service_name FROM usage_daily").fetchall() == [
            ('{"team":"vision"}', "Amazon SageMaker")]
