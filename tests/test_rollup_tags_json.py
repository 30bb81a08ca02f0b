"""A CUR 2.0 Parquet file whose loader adds nothing to the tag map (no cost category, caller identity or
iamPrincipal tag in any row) keeps its rows' tags as the JSON text they were grouped on, up to the rollup
(ingest.pipeline ``tags_json``): the stored rollup equals, row for row and tag set for tag set, the rollup of
every line item read one by one, for hand-written tag maps with quotes, backslashes, unicode, empty values, an
empty map and no map at all. A file with a cost category takes the map path, and agrees too."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aifinops.ingest import pipeline
from aifinops.ingest.cur2_columns import CUR2_SCHEMA
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from curfixtures import cur2_row
from rollupcompare import assert_equals_per_item_rollup

# None: a row without a tag map (NULL in the Parquet column)
TAG_MAPS: list[dict[str, str] | None] = [
    {"user:team": "ml"},
    {"user:team": 'say "hi"', 'user:quote"key': "x", "user:back\\slash": "a\\b"},
    {"user:équipe": "données", "user:プロジェクト": "検索", "user:emoji": "\U0001f680", "user:tab": "a\tb\nc"},
    {"user:owner": "", "user:team": "search"},  # an empty value
    {"user:Team": "Ml", "aws:createdBy": "AssumedRole:AROA:alice"},  # keys the rollup canonicalises
    {"user:it's": "O'Brien"},  # single quotes, which SQL literals double
    {},
    None,
]
LINES = [("AmazonSageMaker", "USE1-Train:ml.p4d.24xlarge"), ("AmazonEC2", "USE1-BoxUsage:g5.xlarge"),
         ("AmazonS3", "USE1-TimedStorage-ByteHrs")]


def _write(path: Path, categories: bool = False) -> Path:
    rows = []
    for i in range(240):
        tags = TAG_MAPS[i % len(TAG_MAPS)]
        code, usage = LINES[i % len(LINES)]
        row = cur2_row("2025-03", f"2025-03-0{1 + i % 3}", code, usage, round(0.37 * (1 + i % 11), 4),
                       line_item_resource_id=f"r-{i % 5}", tags=tags or {})
        if tags is None:
            row["resource_tags"] = None
        if categories and i % 4 == 0:
            row["cost_category"] = [("Program", "Alpha")]
        rows.append(row)
    table = pa.table({f.name: [r.get(f.name) for r in rows] for f in CUR2_SCHEMA}, schema=CUR2_SCHEMA)
    pq.write_table(table, path, row_group_size=60)
    return path


def _ingest(path: Path, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, list[bool]]:
    """Ingest ``path`` grouped first; returns the store and, per batch, whether its tags stayed JSON text."""
    real = pipeline._raw_grouped_source
    taken: list[bool] = []

    def spy(batches):
        plans = real(batches)
        assert plans is not None
        taken.extend(plan[-1] for plan in plans)  # whether the tags stay JSON text
        return plans

    monkeypatch.setattr(pipeline, "_raw_grouped_source", spy)
    store = Store(store_path)
    ingest_paths(store, [path])
    monkeypatch.setattr(pipeline, "_raw_grouped_source", real)
    return store, taken


def test_tags_kept_as_json_text_equal_the_rollup_of_every_line_item(tmp_path, monkeypatch):
    path = _write(tmp_path / "tags.parquet")
    store, taken = _ingest(path, tmp_path / "grouped.duckdb", monkeypatch)
    assert taken == [True]
    assert_equals_per_item_rollup(store, [path], tmp_path / "per-item.duckdb", monkeypatch, at_least=20)
    # every hand-written tag set reached the store (keys canonicalised, values as written, empty values left out
    # as taxonomy.tag_entries_sql says; no map and an empty map alike): the stored tag sets hold the values written
    with store.connect(read_only=True) as con:
        stored = [json.loads(t) for (t,) in con.execute("SELECT DISTINCT tags FROM usage_daily").fetchall()]
    written = {tuple(sorted(v for v in (m or {}).values() if v)) for m in TAG_MAPS}
    assert sorted(tuple(sorted(t.values())) for t in stored) == sorted(written)


def test_a_cost_category_keeps_the_map_path_and_agrees(tmp_path, monkeypatch):
    path = _write(tmp_path / "categories.parquet", categories=True)
    store, taken = _ingest(path, tmp_path / "grouped.duckdb", monkeypatch)
    assert taken == [False]
    assert_equals_per_item_rollup(store, [path], tmp_path / "per-item.duckdb", monkeypatch, at_least=20)
    with store.connect(read_only=True) as con:
        (with_category,) = con.execute("SELECT count(*) FROM usage_daily WHERE tags LIKE '%Alpha%'").fetchone()
    assert with_category > 0


@pytest.mark.parametrize("tags", TAG_MAPS)
def test_the_json_text_of_a_map_prints_again_as_itself(tags):
    """What the JSON-text path relies on: DuckDB prints the map it parses from a map's JSON text as that text."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (m MAP(VARCHAR, VARCHAR))")
    if tags is None:
        con.execute("INSERT INTO t VALUES (NULL)")
    else:
        con.execute("INSERT INTO t VALUES (MAP(?::VARCHAR[], ?::VARCHAR[]))", [list(tags), list(tags.values())])
    text, again = con.execute("""
        SELECT text, CAST(to_json(COALESCE(CAST(json(text) AS MAP(VARCHAR, VARCHAR)),
                                           CAST(MAP() AS MAP(VARCHAR, VARCHAR)))) AS VARCHAR)
        FROM (SELECT CAST(to_json(m) AS VARCHAR) AS text FROM t)""").fetchone()
    assert again == (text if tags is not None else "{}")
    assert json.loads(again) == (tags or {})
