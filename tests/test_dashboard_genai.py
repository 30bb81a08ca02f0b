"""The dashboard's GenAI section over real HTTP on the demo: each /api/genai/* route's numbers against SQL written
here over the store, and the page in headless Chromium (chart titles and a caller read from the rendered page)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import httpx
import pytest

from aifinops.store import Store
from aifinops.web import create_app
from localserver import serving
from test_json_answers_rounded import AS_PRINTED
from test_report import CHROMIUM, CHROMIUM_ARGS

# The caller the bill names: CUR 2.0's line_item_iam_principal, kept in the tags under this key (docs/genai.md).
PRINCIPAL = """coalesce(nullif(json_extract_string(tags, '$."aws_iamprincipal"'), ''), 'unattributed')"""
TOKENS = ("(usage_quantity * CASE lower(coalesce(pricing_unit, '')) WHEN '1m tokens' THEN 1e6 "
          "WHEN '1k tokens' THEN 1e3 ELSE 1 END)")
TITLES = [
    "Bedrock cost by caller (IAM principal, USD)",
    "Bedrock cost by inference profile (USD)",
    "Bedrock $ per 1K tokens by model and token class over time",
    "$ per 1,000 inferences by endpoint over time",
    "Per-request cost by caller, scaled to the bill (USD)",
    "Bedrock $ per request by model over time",
    "$ per utilized GPU-hour over time",
    "Gateway gap: billed − gateway cost per model and day (USD)",  # the demo's gateway (no agent in the demo)
]


@pytest.fixture(scope="module")
def server(demo_store):
    with serving(create_app(demo_store)) as url:
        yield url


@pytest.fixture(scope="module")
def sql(demo_store):
    con = duckdb.connect(str(demo_store.path), read_only=True)
    yield con
    con.close()


def get(server: str, route: str, **params: str) -> dict:
    r = httpx.get(f"{server}/api/genai/{route}", params=params, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def cents(x: float) -> int:
    return round(x * 100)


@pytest.mark.parametrize("period", [None, "monthly", "weekly"])
def test_cost_by_caller_equals_the_bill_per_principal(server, sql, period):
    doc = get(server, "principals", **({"period": period} if period else {}))
    start, end = date.fromisoformat(doc["start"]), date.fromisoformat(doc["end"])
    if period == "weekly":
        assert (end - start).days == 7
    expected = dict(sql.execute(
        f"SELECT {PRINCIPAL}, sum(billed_cost) FROM usage_daily WHERE ai_service = 'bedrock' "
        "AND usage_date >= ? AND usage_date < ? GROUP BY 1", [start, end]).fetchall())
    got = {r["principal"]: r["cost_usd"] for r in doc["rows"]}
    assert "unattributed" in got  # the unattributed row is always shown, even at $0
    expected.setdefault("unattributed", 0.0)
    assert {k: cents(v) for k, v in got.items()} == {k: cents(v) for k, v in expected.items()}
    assert len(got) >= 4  # the demo's callers: chatbot, gateway, a user, the summarizer
    total = sql.execute("SELECT sum(billed_cost) FROM usage_daily WHERE ai_service = 'bedrock' "
                        "AND usage_date >= ? AND usage_date < ?", [start, end]).fetchone()[0]
    assert cents(doc["total_usd"]) == cents(total)


def test_cost_by_inference_profile_keeps_application_profiles_and_adds_up(server, sql):
    doc = get(server, "inference-profiles", period="monthly")
    start, end = date.fromisoformat(doc["start"]), date.fromisoformat(doc["end"])
    apps = dict(sql.execute(
        "SELECT resource_id, sum(billed_cost) FROM usage_daily WHERE ai_service = 'bedrock' AND usage_date >= ? "
        "AND usage_date < ? AND resource_id LIKE 'arn:aws:bedrock:%:application-inference-profile/%' GROUP BY 1",
        [start, end]).fetchall())
    assert apps, "the demo bills an application inference profile"
    got = {r["inference_profile"]: r["cost_usd"] for r in doc["rows"]}
    for arn, cost in apps.items():
        assert cents(got[arn]) == cents(cost)
    total = sql.execute("SELECT sum(billed_cost) FROM usage_daily WHERE ai_service = 'bedrock' "
                        "AND usage_date >= ? AND usage_date < ?", [start, end]).fetchone()[0]
    assert cents(sum(got.values())) == cents(total)


def test_token_rates_over_time_equal_cost_over_tokens(server, sql):
    doc = get(server, "token-rates", period="monthly")
    assert doc["granularity"] == "WEEKLY" and doc["rows"]
    starts = {r["start"] for r in doc["rows"]}
    assert len(starts) >= 4  # a month in weeks
    for r in doc["rows"]:
        cost, tokens = sql.execute(
            f"SELECT sum(billed_cost), sum({TOKENS}) FROM usage_daily WHERE ai_service = 'bedrock' "
            "AND coalesce(model, 'unknown') = ? AND token_kind = ? AND usage_date >= ? AND usage_date < ? "
            "AND coalesce(line_item_type, 'Usage') NOT IN ('Credit', 'Refund', 'Tax')",
            [r["subject"], r["detail"], r["start"], r["end"]],
        ).fetchone()
        assert r["usd_per_unit"] == pytest.approx(1000 * cost / tokens, **AS_PRINTED)
    # Hand-checked anchor: Claude Sonnet 4.5 input is billed at $3 per 1M tokens in the demo = $0.003 per 1K.
    sonnet_input = {r["usd_per_unit"] for r in doc["rows"] if r["subject"] == "Claude Sonnet 4.5"
                    and r["detail"] == "input"}
    assert sonnet_input and all(v == pytest.approx(0.003, rel=1e-6) for v in sonnet_input)


def test_endpoint_rates_use_the_endpoints_invocations(server, sql):
    doc = get(server, "endpoint-rates")
    assert doc["granularity"] == "MONTHLY"
    checked = 0
    for r in doc["rows"]:
        if r["usd_per_unit"] is None:
            continue
        assert r["usd_per_unit"] == pytest.approx(r["cost_usd"] / r["units"], **AS_PRINTED)
        invocations = sql.execute(
            "SELECT sum(value) FROM metrics WHERE namespace = 'AWS/SageMaker' AND metric_name = 'Invocations' "
            "AND statistic = 'Sum' AND dimensions['EndpointName'] = ? AND ts >= ? AND ts < ?",
            [r["subject"], r["start"], r["end"]]).fetchone()[0]
        assert r["units"] * 1000 == pytest.approx(invocations, **AS_PRINTED)
        checked += 1
    assert checked >= 3


def test_request_report_per_caller_adds_up_to_the_bill(server, sql):
    doc = get(server, "requests")
    assert doc["available"] is True
    first, last = sql.execute("SELECT min(CAST(ts AS DATE)), max(CAST(ts AS DATE)) FROM bedrock_invocations"
                              ).fetchone()
    assert (doc["start"], doc["end"]) == (first.isoformat(), (last + timedelta(days=1)).isoformat())
    billed = sql.execute("SELECT sum(billed_cost) FROM usage_daily WHERE ai_service = 'bedrock' "
                         "AND usage_date >= ? AND usage_date < ?", [doc["start"], doc["end"]]).fetchone()[0]
    shown = sum(cents(r["cost_usd"]) for r in doc["rows"]) + sum(cents(u["cost_usd"]) for u in doc["unallocated"])
    assert shown == cents(billed) == cents(doc["billed_bedrock_usd"])
    requests = dict(sql.execute(
        "SELECT coalesce(nullif(identity_arn, ''), 'unknown'), count(*) FROM bedrock_invocations "
        "WHERE CAST(ts AS DATE) >= ? AND CAST(ts AS DATE) < ? GROUP BY 1", [doc["start"], doc["end"]]).fetchall())
    assert {r["identity"]: r["requests"] for r in doc["rows"]} == requests
    # The scale factor: billed tokens per logged token, over the token cells the logs can carry.
    billed_tokens = sql.execute(
        f"SELECT sum({TOKENS}) FROM usage_daily WHERE ai_service = 'bedrock' AND usage_date >= ? AND usage_date < ? "
        "AND token_kind IN ('input', 'output', 'cache-read', 'cache-write', 'cache-write-1h') "
        "AND coalesce(line_item_type, 'Usage') NOT IN ('Credit', 'Refund', 'Tax') "
        "AND coalesce(inference_tier, 'standard') NOT IN ('batch', 'provisioned')",
        [doc["start"], doc["end"]]).fetchone()[0]
    logged_tokens = sql.execute(
        "SELECT sum(input_tokens + output_tokens + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0)) "
        "FROM bedrock_invocations WHERE CAST(ts AS DATE) >= ? AND CAST(ts AS DATE) < ?",
        [doc["start"], doc["end"]]).fetchone()[0]
    assert doc["scale"]["overall"] == pytest.approx(billed_tokens / logged_tokens, rel=1e-9)
    assert doc["scale"]["min"] <= doc["scale"]["overall"] <= doc["scale"]["max"]


def test_a_bad_period_is_refused_naming_it(server):
    r = httpx.get(f"{server}/api/genai/requests", params={"period": "yearly"}, timeout=60)
    assert r.status_code == 422 and "period" in r.text


def test_request_report_says_why_when_the_store_has_no_logs(demo_store, tmp_path):
    copy = tmp_path / "nologs.duckdb"
    copy.write_bytes(demo_store.path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        con.execute("DELETE FROM bedrock_invocations")
    with serving(create_app(Store(copy))) as url:
        doc = get(url, "requests")
        page = httpx.get(url + "/", timeout=120).text
    assert doc["available"] is False and "invocation log" in doc["message"]
    assert "aifinops collect" in page and 'id="genai-request-callers"' not in page


@pytest.mark.slow
def test_genai_section_renders_in_chromium(server, sql):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server + "/?period=monthly", wait_until="load")
            page.wait_for_selector("#fig-genai_principals svg.main-svg", timeout=60000)
            titles = page.eval_on_selector_all("#genai .gtitle", "els => els.map(e => e.textContent)")
            callers = page.eval_on_selector_all("#genai-principals tr.caller td.name",
                                                "els => els.map(e => e.firstChild.textContent.trim())")
            costs = page.eval_on_selector_all("#genai-principals tr.caller td.n", "els => els.map(e => e.textContent)")
            logged = page.eval_on_selector_all("#genai-request-callers tr.caller td.name",
                                               "els => els.map(e => e.textContent.trim())")
            bar_labels = page.eval_on_selector_all("#fig-genai_principals .ytick text",
                                                   "els => els.map(e => e.textContent)")
        finally:
            browser.close()
    assert errors == []
    assert sorted(titles) == sorted(TITLES)
    top, top_cost = sql.execute(
        f"SELECT {PRINCIPAL}, sum(billed_cost) FROM usage_daily WHERE ai_service = 'bedrock' "
        "AND usage_date >= '2024-11-01' AND usage_date < '2024-12-01' GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
    assert callers[0] == top and costs[0] == f"${top_cost:,.2f}"
    assert "unattributed" in callers
    assert top.split(":", 5)[5] in bar_labels  # the chart labels the caller by its short name (role/…)
    logged_identities = {r[0] for r in sql.execute("SELECT DISTINCT identity_arn FROM bedrock_invocations").fetchall()}
    assert logged and set(logged) == logged_identities
