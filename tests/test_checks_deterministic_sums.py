"""The checks' and cost queries' sums give one answer per store: DuckDB adds a group's rows in whatever order its
threads deliver the row groups, and a plain floating-point SUM's last bits follow that order; the checks and costs
add DOUBLE money and quantities with sums.DUCKDB_SUM (compensated), whose result does not.

The store holds 720k usage rows (six row groups of DuckDB's 122,880) of a few GPU instances and Bedrock models,
amounts of very different sizes (a tenth of the rows in thousands of dollars, the rest in thousandths of a cent) so
that each order of adding gives other last bits; the queries run eight times on two threads and must return the same
floats every time. With ``sum`` in place of ``fsum`` (sums.DUCKDB_SUM) each of them returned several different
answers in eight runs when this test was written."""

from __future__ import annotations

from datetime import date

import pytest

from aifinops.checks.base import CheckContext
from aifinops.checks.bedrock_batch import bedrock_models
from aifinops.checks.gpu_ec2_idle import _instances
from aifinops.costs.unit_economics import token_unit_costs
from aifinops.store import Store

ROWS = 720_000
RUNS = 8
START = date(2025, 6, 1)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("sums") / "s.duckdb")
    with store.transaction(usage=False) as con:
        # every third row an EC2 GPU instance's hours (4 instances), the others Bedrock input/output tokens (3
        # models); amounts from a hash of the row number, so the store is the same at every run of the test
        con.execute(
            f"""INSERT INTO usage_daily (usage_date, account_id, region, usage_type, resource_id, line_item_type,
                       pricing_unit, usage_quantity, billed_cost, line_items, ai_service, workload, instance_type,
                       purchase_option, model, token_kind, inference_tier, is_ai, provider)
                SELECT DATE '{START}' + CAST(i % 30 AS INTEGER), '111122223333', 'us-east-1',
                       CASE WHEN i % 3 = 0 THEN 'BoxUsage:p4d.24xlarge' ELSE 'USE1-Model-input-tokens' END,
                       CASE WHEN i % 3 = 0 THEN 'arn:aws:ec2:us-east-1:111122223333:instance/i-' || (i % 4)
                            ELSE 'model-' || (i % 3) END,
                       'Usage', CASE WHEN i % 3 = 0 THEN 'Hrs' ELSE '1K tokens' END,
                       CASE WHEN i % 11 = 1 THEN (hash(i) % 1000003) * 3.7 ELSE (hash(i) % 997) / 7e3 END,
                       CASE WHEN i % 7 = 2 THEN (hash(i * 7) % 1000003) * 1000.0 / 7 ELSE (hash(i) % 991) / 3e5 END,
                       1,
                       CASE WHEN i % 3 = 0 THEN 'gpu-ec2' ELSE 'bedrock' END,
                       CASE WHEN i % 3 = 0 THEN 'compute' ELSE 'tokens' END,
                       CASE WHEN i % 3 = 0 THEN 'p4d.24xlarge' END, 'on-demand',
                       CASE WHEN i % 3 <> 0 THEN 'Model ' || (i % 5 % 3) END,
                       CASE WHEN i % 3 = 1 THEN 'input' WHEN i % 3 = 2 THEN 'output' END,
                       'standard', TRUE, 'AWS'
                FROM range({ROWS}) r(i)"""
        )
    return store


def _repeated(store: Store, ask) -> list:
    with store.connect(read_only=True) as con:
        con.execute("SET threads = 2")
        (groups,) = con.execute(
            "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('usage_daily')").fetchone()
        assert groups >= 5  # the rows are spread over row groups that threads read in parallel
        return [ask(con) for _ in range(RUNS)]


def _window(con):
    ctx = CheckContext.from_connection(con)
    return ctx, ctx.window(30)


def test_a_checks_per_instance_sums_are_the_same_at_every_run(store):
    """gpu-ec2-idle's one row per instance: its hours and billed cost summed in the store."""
    runs = _repeated(store, lambda con: _instances(*_window(con)))
    assert len(runs[0]) == 4 and all(r["billed_cost"] > 1e6 for r in runs[0])
    assert all(run == runs[0] for run in runs), {repr(r["billed_cost"]) for run in runs for r in run}


def test_a_checks_per_model_sums_are_the_same_at_every_run(store):
    """bedrock-batch-candidate's per model, token kind and day costs and quantities."""
    runs = _repeated(store, lambda con: bedrock_models(*_window(con)))
    assert len(runs[0]) == 3
    assert all(run == runs[0] for run in runs)


def test_a_cost_answer_is_the_same_at_every_run(store):
    """costs.unit_economics.token_unit_costs: cost per model and token kind over the whole bill."""
    runs = _repeated(store, lambda con: token_unit_costs(con, START, date(2025, 7, 1)))
    assert len(runs[0]) == 6 and all(r["cost_usd"] > 1e6 for r in runs[0])
    assert all(run == runs[0] for run in runs), {repr(r["cost_usd"]) for run in runs for r in run}
