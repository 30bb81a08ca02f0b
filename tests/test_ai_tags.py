"""A tag's value, never its key alone, makes S3 and transfer spend AI (issue 11).

The AWS Well-Architected Labs CUR (tests/data/real/wa-labs-workshop-cur) tags RDS instances and their data
transfer with ``workload_type=production``: that is not AI spend, and the account has no AI service at all.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from aifinops.store import Store
from aifinops.taxonomy import is_ai_tag
from clirun import run_cli
from curfixtures import cur2_row, write_cur2

WA_LABS = Path(__file__).parent / "data" / "real" / "wa-labs-workshop-cur" / "Oct2018-WorkshopCUR-00001.snappy.parquet"


def test_production_workload_tag_is_not_ai_on_the_real_export(tmp_path):
    raw = duckdb.connect()
    tagged_transfer = raw.execute(
        f"SELECT count(*) FROM '{WA_LABS}' WHERE resource_tags_user_workload_type = 'production'"
        " AND product_product_family = 'Data Transfer'"
    ).fetchone()[0]
    assert tagged_transfer > 0  # the rows that were counted as AI before
    store = tmp_path / "wa.duckdb"
    result = run_cli("ingest", str(WA_LABS), "--store", str(store))
    assert result.returncode == 0, result.stderr
    with Store(store).connect(read_only=True) as con:
        ai_rows, ai_cost = con.execute("SELECT count(*), coalesce(sum(billed_cost), 0) FROM usage_daily WHERE is_ai")\
            .fetchone()
        tagged = con.execute(
            "SELECT count(*) FROM usage_daily WHERE json_extract_string(tags, '$.workload_type') = 'production'"
        ).fetchone()[0]
    assert tagged > 0
    assert (ai_rows, ai_cost) == (0, 0)


def test_tag_values_decide(tmp_path):
    def s3(cost: float, tags: dict) -> dict:
        return cur2_row("2024-09", "2024-09-03", "AmazonS3", "USE1-TimedStorage-ByteHrs", cost,
                        line_item_resource_id=f"bucket-{cost}", tags=tags)

    rows = [
        s3(1.0, {"user_workload_type": "training"}),
        s3(2.0, {"user_workload-type": "Fine-Tuning"}),
        s3(4.0, {"user_workload_type": "production"}),
        s3(8.0, {"user_model": "llama-3-70b"}),
        s3(16.0, {"user_model": "none"}),
        s3(32.0, {"user_ml_project": ""}),
        s3(64.0, {"user_team": "ml"}),
    ]
    store = tmp_path / "s.duckdb"
    assert run_cli("ingest", str(write_cur2(tmp_path / "s3.parquet", rows)), "--store", str(store)).returncode == 0
    with Store(store).connect(read_only=True) as con:
        ai = con.execute("SELECT sum(billed_cost) FROM usage_daily WHERE is_ai AND ai_reason = 'tag'").fetchone()[0]
        total = con.execute("SELECT sum(billed_cost) FROM usage_daily").fetchone()[0]
    assert ai == pytest.approx(1.0 + 2.0 + 8.0)
    assert total == pytest.approx(127.0)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [("workload_type", "Inference", True), ("workload_type", "prod", False), ("model", "N/A", False),
     ("model", "bert", True), ("team", "ml", False), ("ml_project", None, False)],
)
def test_is_ai_tag(key, value, expected):
    assert is_ai_tag(key, value) is expected
