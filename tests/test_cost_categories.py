"""AWS Cost Categories carried from the bill into the store (issue 17): CUR 2.0 ``cost_category``, legacy CUR
``costCategory/<Name>`` columns, FOCUS 1.0 ``x_CostCategories``; grouped by ``-g cost_category:<Name>`` and by the
MCP cost_explorer tool's COST_CATEGORY group-by and getCostCategories.

Expectations are sums over the raw billing files written in each test (a second SQL over the file), never the
store's own answers.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import duckdb
import pytest

from aifinops.costs import cost_breakdown
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from clirun import run_cli
from curfixtures import cur2_row, write_cur2
from test_ingest_focus import AWS_10, focus_row, write_focus_csv

LEGACY = Path(__file__).parent / "data" / "legacy_cur" / "legacy_cur_2024-10.csv"
UNCATEGORIZED = "Uncategorized"


def cur2_rows() -> list[dict]:
    d = "2026-05-03"
    return [
        cur2_row("2026-05", d, "AmazonBedrock", "USE1-Claude4.6Sonnet-input-tokens", 1.25,
                 cost_category=[("Team", "ml"), ("Env", "prod")], tags={"user_team": "vision"}),
        cur2_row("2026-05", d, "AmazonBedrock", "USE1-Claude4.6Sonnet-output-tokens", 2.5,
                 cost_category=[("Team", "ml")]),
        cur2_row("2026-05", d, "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.8,
                 cost_category=[("Team", "search"), ("Env", "")]),  # an empty value: outside Env
        cur2_row("2026-05", d, "AmazonS3", "USE1-TimedStorage-ByteHrs", 2.0, cost_category=[]),
        cur2_row("2026-05", d, "AmazonEC2", "BoxUsage:m5.large", 4.6),  # no map at all
    ]


@pytest.fixture(params=["parquet", "csv.gz"])
def cur2_store(request, tmp_path) -> tuple[Store, Path]:
    rows = cur2_rows()
    path = write_cur2(tmp_path / "cur" / f"x.{request.param}", rows)
    raw = write_cur2(tmp_path / "raw" / "x.parquet", rows)
    s = Store(tmp_path / "s.duckdb")
    ingest_paths(s, [path])
    return s, raw


def _raw_by(raw: Path, name: str) -> dict[str, float]:
    return dict(duckdb.sql(
        f"SELECT coalesce(nullif(cost_category['{name}'], ''), '{UNCATEGORIZED}'), "
        f"round(sum(line_item_unblended_cost), 6) FROM read_parquet('{raw}') GROUP BY 1").fetchall())


def _grouped(store: Store, group: str) -> dict[str, float]:
    with store.connect(read_only=True) as con:
        rows = cost_breakdown(con, None, None, [group])
    out: dict[str, float] = {}
    for r in rows:
        out[r[group]] = round(out.get(r[group], 0.0) + r["amount"], 6)
    return out


def test_cur2_categories_group_like_the_raw_map(cur2_store):
    s, raw = cur2_store
    for name in ("Team", "Env"):
        expected = _raw_by(raw, name)
        assert UNCATEGORIZED in expected
        assert _grouped(s, f"cost_category:{name}") == pytest.approx(expected, abs=1e-6)
    # by hand: Team ml 1.25 + 2.5, search 33.8, the rest (S3, EC2) uncategorized
    assert _grouped(s, "cost_category:Team") == pytest.approx({"ml": 3.75, "search": 33.8, UNCATEGORIZED: 6.6})
    # user tags are untouched beside the categories
    assert _grouped(s, "tag:team") == pytest.approx({"vision": 1.25, None: 42.9}, abs=1e-6)


def test_cli_groups_by_cost_category(cur2_store, tmp_path):
    s, raw = cur2_store
    done = run_cli("costs", "-g", "cost_category:Team", "-f", "json", "--store", str(s.path))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    rows = answer["rows"] if isinstance(answer, dict) else answer
    got: dict[str, float] = {}
    for r in rows:
        got[r["cost_category:Team"]] = round(got.get(r["cost_category:Team"], 0.0) + r["amount"], 2)
    assert got == pytest.approx({k: round(v, 2) for k, v in _raw_by(raw, "Team").items()}, abs=0.011)


def _legacy_file(tmp_path: Path) -> Path:
    rows = list(csv.reader(LEGACY.open(newline="")))
    header, body = rows[0], rows[1:]
    values = ["research", "", "platform"]  # cycled: every third line item outside any Team value
    header = [*header, "costCategory/Team"]
    body = [[*r, *([""] * (len(header) - 1 - len(r))), values[i % 3]] for i, r in enumerate(body)]
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *body])
    path = tmp_path / "legacy" / "ai-cur-1.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(buf.getvalue().encode()))
    return path


def test_legacy_cost_category_columns(tmp_path):
    path = _legacy_file(tmp_path)
    expected = dict(duckdb.sql(
        f"SELECT coalesce(nullif(\"costCategory/Team\", ''), '{UNCATEGORIZED}'), "
        f"round(sum(CAST(\"lineItem/UnblendedCost\" AS DOUBLE)), 6) "
        f"FROM read_csv('{path}', all_varchar = true, header = true) GROUP BY 1").fetchall())
    assert set(expected) == {"research", "platform", UNCATEGORIZED}
    s = Store(tmp_path / "s.duckdb")
    ingest_paths(s, [path])
    assert _grouped(s, "cost_category:Team") == pytest.approx(expected, abs=1e-6)


def test_focus_x_cost_categories(tmp_path):
    rows = [
        focus_row("2024-10-03", "Amazon Bedrock", "USE1-Claude4.6Sonnet-input-tokens", 3.0,
                  x_CostCategories=json.dumps({"Team": "ml"}), x_ServiceCode="AmazonBedrock"),
        focus_row("2024-10-03", "Amazon SageMaker", "USE1-Host:ml.g5.xlarge", 7.5,
                  x_CostCategories=json.dumps({"Team": "search"}), x_ServiceCode="AmazonSageMaker"),
        focus_row("2024-10-04", "Amazon SageMaker", "USE1-Host:ml.g5.xlarge", 1.5,
                  x_CostCategories="{}", x_ServiceCode="AmazonSageMaker"),
        focus_row("2024-10-04", "Amazon S3", "USE1-TimedStorage-ByteHrs", 0.5, x_ServiceCode="AmazonS3"),
    ]
    path = write_focus_csv(tmp_path / "focus.csv", AWS_10, rows)
    expected = dict(duckdb.sql(
        f"SELECT coalesce(nullif(json_extract_string(nullif(x_CostCategories, ''), '$.Team'), ''), "
        f"'{UNCATEGORIZED}'), round(sum(BilledCost), 6) FROM read_csv('{path}', all_varchar = false) "
        "GROUP BY 1").fetchall())
    assert expected == pytest.approx({"ml": 3.0, "search": 7.5, UNCATEGORIZED: 2.0})
    s = Store(tmp_path / "s.duckdb")
    ingest_paths(s, [path])
    assert _grouped(s, "cost_category:Team") == pytest.approx(expected, abs=1e-6)


def test_mcp_cost_explorer_cost_categories(cur2_store):
    """COST_CATEGORY group-by and getCostCategories through a real MCP client session."""
    import anyio
    from mcp import Client

    from aifinops.mcp_server import build_server

    s, raw = cur2_store
    period = {"start_date": "2026-05-01", "end_date": "2026-06-01"}

    async def main() -> list[dict]:
        out = []
        async with Client(build_server(s)) as client:
            for args in (
                {"operation": "getCostAndUsage", **period, "granularity": "MONTHLY",
                 "group_by": [{"Type": "COST_CATEGORY", "Key": "Team"}]},
                {"operation": "getCostCategories", **period},
                {"operation": "getCostCategories", **period, "cost_category_name": "Team"},
                {"operation": "getCostAndUsage", **period, "granularity": "MONTHLY",
                 "filter": {"CostCategories": {"Key": "Team", "Values": ["ml"]}}},
                {"operation": "getCostAndUsage", **period, "granularity": "MONTHLY",
                 "filter": {"CostCategories": {"Key": "Env", "MatchOptions": ["ABSENT"]}}},
            ):
                result = await client.call_tool("cost_explorer", args)
                assert not result.is_error, result.content[0].text
                out.append(json.loads(result.content[0].text))
        return out

    grouped, names, values, ml_only, no_env = anyio.run(main)
    groups = {g["Keys"][0]: float(g["Metrics"]["UnblendedCost"]["Amount"])
              for r in grouped["ResultsByTime"] for g in r["Groups"]}
    assert groups == pytest.approx(_raw_by(raw, "Team"), abs=0.005)
    # category names present in the period (the store keeps tag keys lower case)
    assert names["CostCategoryNames"] == ["env", "team"]
    raw_values = duckdb.sql(
        f"SELECT DISTINCT cost_category['Team'] FROM read_parquet('{raw}') "
        "WHERE coalesce(cost_category['Team'], '') <> '' ORDER BY 1").fetchall()
    assert values["CostCategoryValues"] == [v for (v,) in raw_values] == ["ml", "search"]

    def total(answer: dict) -> float:
        return sum(float(r["Total"]["UnblendedCost"]["Amount"]) for r in answer["ResultsByTime"])

    ((ml,),) = duckdb.sql(f"SELECT sum(line_item_unblended_cost) FROM read_parquet('{raw}') "
                          "WHERE cost_category['Team'] = 'ml'").fetchall()
    ((absent,),) = duckdb.sql(f"SELECT sum(line_item_unblended_cost) FROM read_parquet('{raw}') "
                              "WHERE coalesce(cost_category['Env'], '') = ''").fetchall()
    assert total(ml_only) == pytest.approx(ml, abs=0.005) == 3.75
    assert total(no_env) == pytest.approx(absent, abs=0.005) == pytest.approx(2.5 + 33.8 + 2.0 + 4.6)
