"""Chart labels as a person sees them: read from the page Chromium renders (SVG tick text, bar labels, marker
positions), not from the figure object. The demo account holds Sep-Nov 2024, an anomaly on 2024-11-14,
a Bedrock budget spent past its limit and endpoints whose cost per 1,000 inferences spans decades."""

from __future__ import annotations

import math
import re

import httpx
import pytest

from aifinops.web import create_app
from localserver import serving
from test_report import CHROMIUM, CHROMIUM_ARGS

READ = """() => {
  const figure = id => {
    const el = document.getElementById('fig-' + id);
    if (!el) return null;
    const texts = sel => Array.from(el.querySelectorAll(sel)).map(e => e.textContent);
    const traces = Array.from(el.querySelectorAll('.scatterlayer .trace')).map(t =>
      Array.from(t.querySelectorAll('.point')).map(p => {
        const m = /translate\\(([-\\d.]+),\\s*([-\\d.]+)\\)/.exec(p.getAttribute('transform') || '');
        return m ? [parseFloat(m[1]), parseFloat(m[2])] : null; }));
    const bars = Array.from(el.querySelectorAll('.barlayer .point path')).map(p => p.getBBox().height);
    return {x: texts('.xtick text'), y: texts('.ytick text'), bartext: texts('.bartext'), traces, bars,
            legend: texts('.legendtext')};
  };
  return {tvi: figure('training_vs_inference'), cpi: figure('cost_per_inference'), budgets: figure('budgets'),
          anomalies: figure('anomalies')};
}"""


@pytest.fixture(scope="module")
def pages(demo_store):
    from playwright.sync_api import sync_playwright

    seen = {}
    with serving(create_app(demo_store)) as url, sync_playwright() as p:
        budgets = httpx.get(url + "/api/budgets", timeout=60).json()
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, query in (("all", ""), ("monthly", "?period=monthly")):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url + "/" + query, wait_until="load")
                page.wait_for_selector("svg.main-svg", timeout=20000)
                page.wait_for_timeout(500)
                seen[name] = page.evaluate(READ)
        finally:
            browser.close()
    return seen, budgets


def test_month_bars_are_labelled_by_their_month(pages):
    seen, _ = pages
    assert seen["all"]["tvi"]["x"] == ["Sep 2024", "Oct 2024", "Nov 2024"]
    assert seen["monthly"]["tvi"]["x"] == ["Nov 2024"]


def test_log_axis_ticks_are_powers_of_ten_in_dollars(pages):
    ticks = pages[0]["all"]["cpi"]["y"]
    assert len(ticks) >= 2 and all(t.startswith("$") for t in ticks)
    values = [float(t[1:].replace(",", "")) for t in ticks]
    exponents = [math.log10(v) for v in values]
    assert all(abs(e - round(e)) < 1e-9 for e in exponents)
    assert [round(e) for e in exponents] == list(range(round(exponents[0]), round(exponents[0]) + len(values)))


def test_an_exceeded_budget_is_visible_next_to_a_large_one(pages):
    seen, budgets = pages
    fig = seen["all"]["budgets"]
    exceeded = [b for b in budgets if b["actual_pct"] >= 100]
    assert exceeded, "the demo's Bedrock budget is spent past its limit"
    for b in budgets:
        assert f"{b['actual_pct']:.0f}%" in fig["bartext"]
    assert fig["x"] == [b["name"] for b in budgets]
    # bars are drawn as a share of each budget's own limit: the exceeded one is among the tallest, not a sliver
    actual_bars = fig["bars"][: len(budgets)]
    tallest = max(actual_bars)
    for b, height in zip(budgets, actual_bars, strict=True):
        if b["actual_pct"] >= 100:
            assert height >= 0.5 * tallest
    assert "%" in fig["y"][-1]


def test_the_anomaly_marker_sits_on_the_line_it_is_drawn_over(pages):
    fig = pages[0]["all"]["anomalies"]
    legend = fig["legend"]
    actual, marker = fig["traces"][legend.index("actual")], fig["traces"][legend.index("anomaly (on the total)")]
    assert marker, "the demo's 2024-11-14 anomaly is marked"
    on_line = {round(x): y for x, y in actual}
    for x, y in marker:
        assert abs(on_line[round(x)] - y) < 0.5  # same pixel as the total line's point that day


def test_no_tick_reads_as_a_timestamp(pages):
    for view in pages[0].values():
        for fig in view.values():
            if fig:
                assert not any(re.search(r"\d\d:\d\d:\d\d", t) for t in fig["x"])
