"""The dashboard's cost per agent, gateway reconciliation and unit-rate charts (issue 17), over real HTTP: each
/api/genai/* answer equals the CLI's (a subprocess) or the library's, and its sums equal SQL written here over the
store or hand arithmetic; a LiteLLM spend log ingested with `aifinops ingest` shows in every face. The rendered
page is read in headless Chromium in tests/test_genai_dashboard_browser.py."""

from __future__ import annotations

import json
from collections import defaultdict

import duckdb
import httpx
import pytest

from aifinops.answers.args import rounded_document
from aifinops.costs.unit_economics import unit_series
from aifinops.demo import demo_dir
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from aifinops.web import create_app
from clirun import run_cli
from localserver import serving
from test_genai_agents import agents_bill_store
from test_genai_gateway import BILLED_PER_1M, TOKENS, bill_file, spend_logs, write_csv
from test_json_answers_rounded import AS_PRINTED

GATEWAY_ROLE = "arn:aws:iam::111122223333:role/litellm-gateway"
PRINCIPAL = """json_extract_string(tags, '$."aws_iamprincipal"')"""
BILL_MODEL = {"Claude Sonnet 4.5": "Claude Sonnet 4.5", "Nova Lite": "NovaLite"}  # the demo bill's model names
MODEL_ID = {"Claude Sonnet 4.5": "anthropic.claude-sonnet-4-5-20250929-v1:0", "Nova Lite": "amazon.nova-lite-v1:0"}


def cents(x: float) -> int:
    return round(x * 100)


def get(url: str, route: str, **params: str) -> dict:
    r = httpx.get(f"{url}/api/genai/{route}", params=params, timeout=180)
    assert r.status_code == 200, r.text
    return r.json()


def cli_json(*args: str) -> dict:
    done = run_cli(*args, "-f", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def demo_url(demo_store):
    with serving(create_app(demo_store)) as url:
        yield url


@pytest.fixture(scope="module")
def sql(demo_store):
    con = duckdb.connect(str(demo_store.path), read_only=True)
    yield con
    con.close()


# ------------------------------------------------------------------------------------------------ gateway, demo

def test_demo_gateway_view_equals_the_cli_and_the_bill(demo_url, demo_store, sql):
    """The demo ships its LiteLLM gateway's spend log and loads it: the dashboard compares it with the gateway
    role's billed rows (the role found by its tokens) and names cache reads as the gap on Claude."""
    doc = get(demo_url, "gateway")
    assert doc.pop("available") is True
    assert doc["principal"] == GATEWAY_ROLE and doc["principal_match"]["mismatch"] == pytest.approx(0.0)
    # the same answer from the CLI, reading the stored spend logs, and reading the demo's file itself
    assert cli_json("genai", "reconcile", "--store", str(demo_store.path)) == doc
    # the table too: Nova Lite's gaps are a fraction of a cent either way and print as 0.00, never -0.00
    table = run_cli("genai", "reconcile", "--store", str(demo_store.path), env={"COLUMNS": "160"}).stdout
    assert "-0.00" not in table and " 0.00 " in table  # 2024-11-29's Nova Lite gap is -$0.004 before rounding
    from_file = cli_json("genai", "reconcile", str(demo_dir() / "gateway" / "litellm_spend_logs.json"),
                         "--store", str(demo_store.path))
    assert [(r["day"], r["model"], cents(r["gap_usd"]), r["gap_class"]) for r in from_file["rows"]] == \
        [(r["day"], r["model"], cents(r["gap_usd"]), r["gap_class"]) for r in doc["rows"]]
    # the gateway side: the demo file's spend per (day, model), summed here
    logged: dict[tuple[str, str], float] = defaultdict(float)
    for r in json.loads((demo_dir() / "gateway" / "litellm_spend_logs.json").read_text()):
        model = next(m for m, i in MODEL_ID.items() if r["model"] == f"bedrock/{i}")
        logged[(r["startTime"][:10], model)] += r["spend"]
    assert {(r["day"], r["model"]): cents(r["gateway_usd"]) for r in doc["rows"]} == \
        {k: cents(v) for k, v in logged.items()}
    assert len(doc["rows"]) == 6  # three logged days x two models
    for r in doc["rows"]:
        billed, cache_reads = sql.execute(
            f"SELECT sum(billed_cost), coalesce(sum(billed_cost) FILTER (WHERE token_kind = 'cache-read'), 0) "
            f"FROM usage_daily WHERE ai_service = 'bedrock' AND {PRINCIPAL} = ? AND usage_date = ? AND model = ? "
            "AND coalesce(line_item_type, 'Usage') NOT IN ('Credit', 'Refund', 'Tax')",
            [GATEWAY_ROLE, r["day"], BILL_MODEL[r["model"]]]).fetchone()
        assert cents(r["billed_usd"]) == cents(billed)
        if r["model"] == "Claude Sonnet 4.5":  # the planted discrepancy: cache reads priced at $0 by the gateway
            assert r["gap_class"] == "cache-read" and cache_reads > 1
            assert cents(r["gap_usd"]) == cents(cache_reads)
        else:
            assert r["gap_class"] is None and cents(r["gap_usd"]) == 0
    assert cents(doc["billed_usd"]) == cents(sum(r["billed_usd"] for r in doc["rows"]))


def test_demo_gateway_follows_the_review_period(demo_url):
    """The monthly window holds the logged days (Nov 28-30): the same rows; the span is the logs' days."""
    monthly = get(demo_url, "gateway", period="monthly")
    assert (monthly["start"], monthly["end"]) == ("2024-11-28", "2024-12-01")
    assert [r["day"] for r in monthly["rows"]].count("2024-11-28") == 2


# ------------------------------------------------------------------------------------- gateway, ingested by a user

@pytest.fixture(scope="module")
def gateway_store(tmp_path_factory):
    """A CUR 2.0 day of Claude tokens, and the gateway's spend log (cache reads at $0, cache writes at the 5-minute
    rate) ingested with the CLI, twice (the second replaces the first)."""
    tmp = tmp_path_factory.mktemp("gateway-ingest")
    store = tmp / "s.duckdb"
    ingest_paths(Store(store), [bill_file(tmp)])
    logs = write_csv(tmp / "spend.csv", spend_logs({"input": 3.0, "output": 15.0, "cache-read": 0.0,
                                                     "cache-write": 3.75}))
    for _ in range(2):
        done = run_cli("ingest", str(logs), "--store", str(store))
        assert done.returncode == 0, done.stderr
        assert "gateway spend logs" in done.stderr and "10 Bedrock requests" in done.stderr
    return store, logs


def test_an_ingested_spend_log_is_reconciled_in_every_face(gateway_store):
    store, logs = gateway_store
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT request_id) FROM gateway_requests").fetchone() == (10, 10)
    with serving(create_app(Store(store))) as url:
        doc = get(url, "gateway")
    assert doc.pop("available") is True
    assert cli_json("genai", "reconcile", "--store", str(store)) == doc
    assert cli_json("genai", "reconcile", str(logs), "--store", str(store))["rows"] == doc["rows"]
    (row,) = doc["rows"]
    assert doc["principal"] is None  # the fixture bill has no caller identity: every caller compared
    # by hand: billed 0.30 input + 0.30 output + 0.15 cache reads + 0.30 one-hour cache writes
    billed = sum(TOKENS[k] / 1e6 * BILLED_PER_1M[k] for k in TOKENS)
    assert cents(row["billed_usd"]) == cents(billed) == 105
    assert row["gateway_usd"] == pytest.approx(0.30 + 0.30 + 0.0 + 0.05 * 3.75, abs=1e-6)
    classes = {c["token_class"]: c["gap_usd"] for c in row["classes"]}
    assert classes["cache-read"] == pytest.approx(0.15, abs=1e-4)
    assert classes["cache-write"] == pytest.approx(0.30 - 0.1875, abs=1e-4)
    assert row["gap_class"] == "cache-read"


def test_no_spend_log_says_how_to_ingest_one(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [bill_file(tmp_path)])
    with serving(create_app(store)) as url:
        doc = get(url, "gateway")
        page = httpx.get(url + "/", timeout=180).text
    assert doc["available"] is False and "aifinops ingest" in doc["message"]
    assert 'id="genai-no-gateway"' in page and 'id="genai-gateway"' not in page
    done = run_cli("genai", "reconcile", "--store", str(store.path))
    assert done.returncode == 2 and "no gateway spend logs" in done.stderr and "Traceback" not in done.stderr


def test_spend_logs_are_recognised_by_their_fields(tmp_path):
    """A spend log is recognised by its request_id, spend and startTime columns; a CSV without them is not one."""
    from aifinops.ingest.litellm import is_spend_log_file

    spend = write_csv(tmp_path / "spend.csv", spend_logs(dict(BILLED_PER_1M)))
    other = tmp_path / "bill.csv"
    other.write_text("BilledCost,ChargePeriodStart,ProviderName\n1.0,2026-05-03T00:00:00Z,bedrock\n")
    lines = tmp_path / "spend.jsonl"
    lines.write_text("".join(json.dumps(r) + "\n" for r in spend_logs(dict(BILLED_PER_1M))))
    assert is_spend_log_file(spend) and is_spend_log_file(lines) and not is_spend_log_file(other)
    # a folder (what `aifinops demo --out` writes under gateway/) counts when it holds spend logs only
    from aifinops.ingest.litellm import spend_log_files

    (tmp_path / "gw").mkdir()
    (tmp_path / "gw" / "a.json").write_text(json.dumps(spend_logs(dict(BILLED_PER_1M))))
    assert spend_log_files(tmp_path / "gw") == [tmp_path / "gw" / "a.json"]
    assert spend_log_files(tmp_path) == []  # bill.csv beside them: not a gateway folder


def test_a_version_4_store_gains_the_gateway_table(tmp_path):
    from aifinops.store import SCHEMA_VERSION

    path = tmp_path / "v4.duckdb"
    with Store(path).connect():
        pass
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE gateway_requests")
        con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    with Store(path).connect(read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
        assert con.execute("SELECT count(*) FROM gateway_requests").fetchone() == (0,)


# ------------------------------------------------------------------------------------------------- cost per agent

@pytest.fixture(scope="module")
def agents_store(tmp_path_factory):
    """test_genai_agents's bill: a support agent (runtime ARN, memory tagged agent, execution role tagged
    iamPrincipal/agent), a triage vector store tagged agent=triage, shared knowledge-base retrieval."""
    return agents_bill_store(tmp_path_factory.mktemp("agents"))


def test_cost_per_agent_view_equals_the_cli_and_hand_arithmetic(agents_store):
    with serving(create_app(agents_store)) as url:
        doc = get(url, "agents")
    assert cli_json("genai", "agents", "--store", str(agents_store.path)) == doc
    by = {a["agent"]: a for a in doc["agents"]}
    assert set(by) == {"support_agent-a1b2", "triage"}  # no --agent-role on the dashboard: triage by its tag only
    # support: runtime 1.79 + memory 0.25 (tagged); inference 3.00 (its role's tag); the shared retrieval 0.80
    # goes to it whole, the only agent with inference
    support = by["support_agent-a1b2"]
    assert (cents(support["agentcore_usd"]), cents(support["inference_usd"]),
            cents(support["knowledge_base_share_usd"]), cents(support["total_usd"])) == (204, 300, 80, 584)
    assert cents(by["triage"]["knowledge_base_usd"]) == cents(by["triage"]["total_usd"]) == 40
    with duckdb.connect(str(agents_store.path), read_only=True) as con:
        runtime, kb = con.execute(
            "SELECT sum(billed_cost) FILTER (WHERE component LIKE 'agentcore%' AND (resource_id LIKE '%:runtime/%' "
            "OR tags::VARCHAR LIKE '%support_agent-a1b2%')), sum(billed_cost) FILTER (WHERE workload IN "
            "('knowledge-base', 'vector-store')) FROM usage_daily").fetchone()
    assert cents(runtime) == cents(support["agentcore_usd"])
    assert cents(kb) == cents(support["knowledge_base_share_usd"] + by["triage"]["knowledge_base_usd"])


# ------------------------------------------------------------------------------------------- unit rates over time

def test_request_rates_equal_the_library_and_the_bill(demo_url, demo_store, sql):
    doc = get(demo_url, "request-rates", period="monthly")
    with demo_store.connect(read_only=True) as con:
        assert rounded_document(unit_series(con, "request", doc["granularity"], doc["start"], doc["end"])) == doc
    assert cli_json("costs", "--unit", "request", "--granularity", doc["granularity"], "--start", doc["start"],
                    "--end", doc["end"], "--store", str(demo_store.path)) == doc
    assert doc["granularity"] == "WEEKLY" and len({r["start"] for r in doc["rows"]}) >= 4
    for r in doc["rows"]:
        cost = sql.execute(
            "SELECT sum(billed_cost) FROM usage_daily WHERE ai_service = 'bedrock' AND workload = 'tokens' "
            "AND model = ? AND usage_date >= ? AND usage_date < ? "
            "AND coalesce(line_item_type, 'Usage') NOT IN ('Credit', 'Refund', 'Tax')",
            [BILL_MODEL[r["subject"]], r["start"], r["end"]]).fetchone()[0]
        calls = sql.execute(
            "SELECT sum(value) FROM metrics WHERE namespace = 'AWS/Bedrock' AND metric_name = 'Invocations' "
            "AND statistic = 'Sum' AND dimensions['ModelId'] = ? AND ts >= ? AND ts < ?",
            [MODEL_ID[r["subject"]], r["start"], r["end"]]).fetchone()[0]
        assert cents(r["cost_usd"]) == cents(cost) and r["units"] == calls and r["detail"] == "cloudwatch"
        assert r["usd_per_unit"] == pytest.approx(cost / calls, **AS_PRINTED)


def test_gpu_hour_rates_equal_the_library_and_the_metrics(demo_url, demo_store, sql):
    doc = get(demo_url, "gpu-hour-rates")
    with demo_store.connect(read_only=True) as con:
        assert rounded_document(unit_series(con, "gpu-hour", doc["granularity"], doc["start"], doc["end"])) == doc
    assert cli_json("costs", "--unit", "gpu-hour", "--granularity", doc["granularity"], "--start", doc["start"],
                    "--end", doc["end"], "--store", str(demo_store.path)) == doc
    assert doc["granularity"] == "MONTHLY"
    ec2 = [r for r in doc["rows"] if r["detail"] == "ec2"]
    assert len(ec2) >= 3  # the demo's GPU instance, one row a month
    for r in ec2:
        # a CloudWatch agent datapoint is one GPU for one hour: utilized GPU-hours = sum of utilization / 100
        cost, = sql.execute("SELECT sum(billed_cost) FROM usage_daily WHERE (resource_id = ? OR resource_id LIKE ?) "
                            "AND usage_date >= ? AND usage_date < ?",
                            [r["subject"], "%/" + r["subject"], r["start"], r["end"]]).fetchone()
        used, = sql.execute("SELECT sum(value) / 100 FROM metrics WHERE namespace = 'CWAgent' AND metric_name = "
                            "'nvidia_smi_utilization_gpu' AND dimensions['InstanceId'] = ? AND ts >= ? AND ts < ?",
                            [r["subject"], r["start"], r["end"]]).fetchone()
        assert cents(r["cost_usd"]) == cents(cost)
        assert r["units"] == pytest.approx(used, **AS_PRINTED)
        assert r["usd_per_unit"] == pytest.approx(cost / used, **AS_PRINTED)


def test_new_routes_refuse_a_bad_period(demo_url):
    for route in ("agents", "gateway", "request-rates", "gpu-hour-rates"):
        r = httpx.get(f"{demo_url}/api/genai/{route}", params={"period": "daily"}, timeout=60)
        assert r.status_code == 422 and "period" in r.text



def test_auto_principal_needs_the_tokens_to_match(demo_store, sql):
    """The gateway's role is the bill's caller whose input and output tokens per (day, model) match the logged
    ones: with every logged count tripled no caller is within 20%, and every caller is compared. The mismatch of
    each caller is worked out here from the demo file and SQL over the bill."""
    import pyarrow.compute as pc

    from aifinops.costs.gateway import reconcile_gateway
    from aifinops.ingest.litellm import read_spend_logs

    path = demo_dir() / "gateway" / "litellm_spend_logs.json"
    logged: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in json.loads(path.read_text()):
        model = next(m for m, i in MODEL_ID.items() if r["model"] == f"bedrock/{i}")
        cell = logged[(r["startTime"][:10], BILL_MODEL[model])]
        cell[0] += 3 * (r["prompt_tokens"] - r["metadata"]["usage_object"]["cache_read_input_tokens"])
        cell[1] += 3 * r["completion_tokens"]
    billed: dict[str, dict[tuple[str, str], list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for who, day, model, kind, tokens in sql.execute(
            f"SELECT {PRINCIPAL}, usage_date::VARCHAR, model, token_kind, sum(usage_quantity * CASE pricing_unit "
            "WHEN '1M tokens' THEN 1e6 WHEN '1K tokens' THEN 1e3 ELSE 1 END) FROM usage_daily "
            "WHERE ai_service = 'bedrock' AND token_kind IN ('input', 'output') AND line_item_type = 'Usage' "
            f"AND {PRINCIPAL} IS NOT NULL AND usage_date >= '2024-11-28' GROUP BY ALL").fetchall():
        billed[who][(day, model)][0 if kind == "input" else 1] += tokens
    total = sum(i + o for i, o in logged.values())
    mismatch = {who: sum(abs(cells[k][0] - i) + abs(cells[k][1] - o) for k, (i, o) in logged.items()) / total
                for who, cells in billed.items()}
    closest = min(mismatch, key=lambda w: (mismatch[w], w))
    logs = read_spend_logs(path)
    for column in ("input_tokens", "output_tokens"):
        logs = logs.set_column(logs.column_names.index(column), column, pc.multiply(logs.column(column), 3))
    with demo_store.connect(read_only=True) as con:
        doc = reconcile_gateway(con, logs, principal="auto")
    assert mismatch[closest] > 0.2 and mismatch[GATEWAY_ROLE] == pytest.approx(2 / 3)  # |g - 3g| / 3g
    assert doc["principal"] is None and doc["principal_match"]["closest"] == closest
    assert doc["principal_match"]["mismatch"] == pytest.approx(mismatch[closest], abs=1e-6)
    assert {r["model"] for r in doc["rows"]} == {"Claude Sonnet 4.5", "Nova Lite"}  # every caller, these models


def test_a_demo_store_from_before_the_gateway_table_says_to_reload(demo_store, tmp_path):
    """A demo store migrated from schema 4 has an empty gateway table: ingesting a file would replace the demo,
    so the note says to delete the store instead."""
    copy = tmp_path / "old-demo.duckdb"
    copy.write_bytes(demo_store.path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        con.execute("DELETE FROM gateway_requests")
    with serving(create_app(Store(copy))) as url:
        doc = get(url, "gateway")
    assert doc["available"] is False and "delete the store file" in doc["message"]
