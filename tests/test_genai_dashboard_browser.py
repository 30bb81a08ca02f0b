"""The dashboard's cost per agent, gateway reconciliation and unit-rate charts as headless Chromium renders them:
titles, axis titles, table cells and marker positions read from the page, checked against SQL over the store, the
API and hand arithmetic (the same fixtures as tests/test_genai_dashboard.py)."""

from __future__ import annotations

import math

import duckdb
import httpx
import pytest

from aifinops.money import usd
from aifinops.web import create_app
from localserver import serving
from test_genai_dashboard import GATEWAY_ROLE, PRINCIPAL, agents_store  # noqa: F401 (fixtures)
from test_report import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow

# What a figure shows: titles, axis titles, tick labels with their centre on the page, and each trace's markers.
READ = """id => {
  const el = document.getElementById('fig-' + id);
  if (!el) return null;
  const texts = sel => Array.from(el.querySelectorAll(sel)).map(e => e.textContent);
  const centre = e => { const b = e.getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; };
  return {
    title: texts('.gtitle'), xtitle: texts('.xtitle'), ytitle: texts('.ytitle'), legend: texts('.legendtext'),
    bartext: texts('.bartext'), ytick: texts('.ytick text'),
    yticks: Array.from(el.querySelectorAll('.ytick text')).map(e => [e.textContent, centre(e)[1]]),
    traces: Array.from(el.querySelectorAll('.scatterlayer .trace')).map(t =>
      Array.from(t.querySelectorAll('.point')).map(centre)),
  };
}"""


def _page(browser, url: str, wait_for: str) -> object:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    page.wait_for_selector(wait_for, timeout=60000)
    page.wait_for_timeout(300)
    page.errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture(scope="module")
def seen(demo_store, agents_store):  # noqa: F811
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with serving(create_app(demo_store)) as demo_url, serving(create_app(agents_store)) as agents_url, \
            sync_playwright() as p:
        out["request_rates"] = httpx.get(demo_url + "/api/genai/request-rates", params={"period": "monthly"},
                                         timeout=180).json()
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = _page(browser, demo_url + "/?period=monthly", "#fig-genai_request_rates svg.main-svg")
            out["demo"] = {name: page.evaluate(READ, name)
                           for name in ("genai_gateway", "genai_request_rates", "genai_gpu_hour_rates")}
            out["gaps"] = page.eval_on_selector_all(
                "#genai-gateway tr.gap-row",
                "rows => rows.map(r => Array.from(r.querySelectorAll('td')).map(td => td.textContent.trim()))")
            out["caller"] = page.text_content("#genai-gateway-caller")
            out["demo_errors"] = page.errors
            page = _page(browser, agents_url + "/", "#fig-genai_agents svg.main-svg")
            out["agents_fig"] = page.evaluate(READ, "genai_agents")
            out["agents"] = page.eval_on_selector_all(
                "#genai-agents tr.agent",
                "rows => rows.map(r => Array.from(r.querySelectorAll('td')).map(td => td.textContent.trim()))")
            out["agents_errors"] = page.errors
        finally:
            browser.close()
    return out


def test_no_script_error(seen):
    assert seen["demo_errors"] == [] and seen["agents_errors"] == []


def test_the_gateway_table_names_the_planted_token_class(seen, demo_store):  # noqa: F811
    """Claude's cache reads, billed at $0.30/1M and priced at $0 by the gateway: each logged day's gap is the
    gateway role's billed cache-read cost, in the table and on the chart's bars."""
    with duckdb.connect(str(demo_store.path), read_only=True) as con:
        cache_reads = dict(con.execute(
            f"SELECT usage_date::VARCHAR, sum(billed_cost) FROM usage_daily WHERE ai_service = 'bedrock' "
            f"AND {PRINCIPAL} = ? AND token_kind = 'cache-read' AND usage_date >= '2024-11-28' GROUP BY 1",
            [GATEWAY_ROLE]).fetchall())
    claude = [r for r in seen["gaps"] if r[1] == "Claude Sonnet 4.5"]
    assert [r[0] for r in claude] == ["2024-11-28", "2024-11-29", "2024-11-30"]
    for day, _model, _requests, _billed, _gateway, gap, token_class, why in claude:
        assert token_class == "cache-read" and gap == usd(cache_reads[day]) and why.startswith("cache-read: $+")
    assert all(r[6] == "—" and r[5] in ("$0.00", "-$0.00") for r in seen["gaps"] if r[1] == "Nova Lite")
    assert seen["caller"] == "role/litellm-gateway"
    fig = seen["demo"]["genai_gateway"]
    assert fig["title"] == ["Gateway gap: billed − gateway cost per model and day (USD)"]
    assert fig["ytitle"] == ["USD billed above the gateway's estimate"] and fig["xtitle"] == ["day"]
    assert fig["bartext"].count("cache-read") == 3 and sorted(fig["legend"]) == ["Claude Sonnet 4.5", "Nova Lite"]


def _log_value(yticks: list, y: float) -> float:
    """The value at page height ``y`` on a log axis, from its two outermost dollar tick labels."""
    (t1, y1), (t2, y2) = yticks[0], yticks[-1]
    v1, v2 = (math.log10(float(t.replace("$", "").replace(",", ""))) for t in (t1, t2))
    return 10 ** (v1 + (v2 - v1) * (y - y1) / (y2 - y1))


def test_request_rate_markers_sit_at_the_api_values(seen):
    fig = seen["demo"]["genai_request_rates"]
    assert fig["title"] == ["Bedrock $ per request by model over time"]
    assert fig["ytitle"] == ["USD per request"] and fig["xtitle"] == ["weekly period start"]
    doc = seen["request_rates"]
    starts = sorted({r["start"] for r in doc["rows"]})
    assert fig["legend"] == sorted({r["subject"] for r in doc["rows"]})
    assert len(fig["yticks"]) >= 2
    for name, points in zip(fig["legend"], fig["traces"], strict=True):
        by_start = {r["start"]: r["usd_per_unit"] for r in doc["rows"] if r["subject"] == name}
        expected = [by_start[s] for s in starts if by_start.get(s)]
        assert len(points) == len(expected) >= 4
        xs = [x for x, _ in points]
        assert xs == sorted(xs)
        for (_, y), value in zip(points, expected, strict=True):
            # a pixel or two of text-centre error on an axis of a few decades: within 3%
            assert _log_value(fig["yticks"], y) == pytest.approx(value, rel=0.03)


def test_gpu_hour_chart_is_titled_and_drawn(seen):
    fig = seen["demo"]["genai_gpu_hour_rates"]
    assert fig["title"] == ["$ per utilized GPU-hour over time"]
    assert fig["ytitle"] == ["USD per utilized GPU-hour"] and fig["xtitle"] == ["weekly period start"]
    assert any(name.endswith("(ec2)") for name in fig["legend"]) and all(fig["traces"])
    assert all(t.startswith("$") for t in fig["ytick"])


def test_cost_per_agent_reads_from_the_page(seen):
    """support_agent-a1b2: runtime 1.79 + memory 0.25 + inference 3.00 + the shared retrieval 0.80 = $5.84."""
    rows = {r[0]: r for r in seen["agents"]}
    assert list(rows) == ["support_agent-a1b2", "triage"]
    assert rows["support_agent-a1b2"][1:] == ["$2.04", "$3.00", "$0.00", "$0.80", "$5.84"]
    assert rows["triage"][-1] == "$0.40"
    fig = seen["agents_fig"]
    assert fig["title"] == ["Cost per agent: runtime + inference + knowledge base (USD)"]
    assert set(fig["ytick"]) == {"support_agent-a1b2", "triage"} and fig["xtitle"] == ["USD"]

