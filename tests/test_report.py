"""`aifinops report --html`: one self-contained offline file with every view, loaded in headless Chromium."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from aifinops.report.charts import PLOTLY_JS, render_html
from aifinops.report.views import build_views, load_accuracy_csv, period_window
from clirun import run_cli

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SECTIONS = [
    "actions",
    "savings",
    "overview",
    "trends",
    "training-inference",
    "gpu",
    "unit-costs",
    "genai",
    "models",
    "findings",
    "anomalies",
    "budgets",
    "forecast",
]


def load_in_chromium(url: str, screenshot: str, blocked_hosts: bool = True) -> dict:
    """Open ``url`` in headless Chromium; return console errors, charts drawn and outside requests."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium (.ci/run does it)"
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url) if not r.url.startswith(("file:", "data:", "http://127.0.0.1")) else None
                ),
            )
            page.goto(url, wait_until="load")
            page.wait_for_selector("svg.main-svg", timeout=20000)
            page.wait_for_timeout(300)
            charts = page.locator(".plot-container").count()
            ids = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
        finally:
            browser.close()
    return {"errors": errors, "charts": charts, "sections": ids, "outside": outside}


@pytest.mark.slow
def test_report_html_is_self_contained_and_renders_in_chromium(demo_store, tmp_path):
    out = tmp_path / "report.html"
    done = run_cli("report", "--html", str(out), "--period", "monthly", "--store", str(demo_store.path))
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert PLOTLY_JS.read_text()[:2000] in html  # plotly.js inlined
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", html)  # nothing fetched from a CDN
    assert "2024-11-14" in html and "No accuracy metrics supplied" in html
    offline = tmp_path / "offline"
    offline.mkdir()
    shutil.copy(out, offline / "report.html")  # no folder beside it: it must stand alone
    seen = load_in_chromium((offline / "report.html").as_uri(), "report-monthly.png")
    assert seen["errors"] == []
    assert seen["outside"] == []
    assert seen["charts"] >= 8
    assert seen["sections"] == SECTIONS


def test_accuracy_metrics_feed_the_model_performance_view(demo_store, tmp_path):
    csv = tmp_path / "acc.csv"
    csv.write_text("model,accuracy\nyolo-detector,0.91\nrerank-xl,0.87\nnot-a-model,0.5\n")
    accuracy = load_accuracy_csv(csv)
    with demo_store.connect(read_only=True) as con:
        views = build_views(con, "quarterly", accuracy=accuracy, findings=[])
    perf = views["model_performance"]
    assert perf["supplied"] and {m["model"] for m in perf["models"]} == {"yolo-detector", "rerank-xl"}
    assert perf["unmatched"] == ["not-a-model"]
    html = render_html(views, inline_js=False)
    assert 'id="fig-model_performance"' in html and "No accuracy metrics supplied" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)  # no CDN, no outside link


def test_review_periods_have_their_windows():
    first, end = date(2024, 9, 1), date(2024, 12, 1)
    assert period_window("weekly", first, end) == (date(2024, 11, 24), end, date(2024, 11, 17), date(2024, 11, 24))
    assert period_window("monthly", first, end) == (date(2024, 11, 1), end, date(2024, 10, 1), date(2024, 11, 1))
    assert period_window("quarterly", first, date(2024, 11, 16))[:2] == (date(2024, 10, 1), date(2024, 11, 16))
    assert period_window("quarterly", first, end)[2:] == (date(2024, 7, 1), date(2024, 10, 1))
    assert period_window(None, first, end)[:2] == (first, end)


def test_bad_inputs_exit_2_with_a_fix(demo_store, tmp_path):
    bad_period = run_cli(
        "report", "--html", str(tmp_path / "x.html"), "--period", "yearly", "--store", str(demo_store.path)
    )
    assert bad_period.returncode == 2 and "To fix" in bad_period.stderr
    csv = tmp_path / "acc.csv"
    csv.write_text("model,accuracy\nm,high\n")
    bad_csv = run_cli(
        "report", "--html", str(tmp_path / "x.html"), "--accuracy", str(csv), "--store", str(demo_store.path)
    )
    assert bad_csv.returncode == 2 and "not a number" in bad_csv.stderr
