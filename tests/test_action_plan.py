"""The action plan where a person looks first: `aifinops scan` at 80 columns, the Markdown scan, and the
dashboard's first screen in headless Chromium (the total and the first action visible without scrolling).
Expected totals are worked out here from the scan's JSON findings with the README's rule: each resource
counts once, for its largest saving, never more than its monthly cost."""

from __future__ import annotations

import json

import pytest

from aifinops.web import create_app
from clirun import run_cli
from localserver import serving
from test_report import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def demo(demo_store_copy):
    store = demo_store_copy("plan")  # the scan keeps its history: a copy of its own
    done = run_cli("scan", "--store", str(store.path), "--format", "json")
    assert done.returncode == 0, done.stderr
    return store, json.loads(done.stdout)


def _expected_total(findings: list[dict]) -> float:
    best: dict[str, tuple[float, float]] = {}
    for f in findings:
        saving, cost = best.get(f["resource_id"], (0.0, 0.0))
        best[f["resource_id"]] = (max(saving, f["monthly_savings_usd"]), max(cost, f["monthly_cost_usd"]))
    return round(sum(min(s, c) for s, c in best.values()), 2)


def _largest(findings: list[dict]) -> dict:
    return max(findings, key=lambda f: (f["monthly_savings_usd"], f["monthly_cost_usd"]))


def test_scan_at_80_columns_leads_with_the_total_and_the_first_action(demo):
    store, doc = demo
    done = run_cli("scan", "--store", str(store.path), env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    total = _expected_total(doc["findings"])
    assert lines[0].startswith(f"Savings available: ${total:,.2f}/month")
    first = next(i for i, line in enumerate(lines) if line.startswith(" 1. "))
    assert first < 8  # on the first screen of a 24-line terminal, with its owner and first step below it
    top = _largest(doc["findings"])
    assert lines[first].startswith(f" 1. ${top['monthly_savings_usd']:,.2f}/mo  ")
    block = "\n".join(lines[first:first + 8])
    assert "team=research" in block and "First step: EC2 console" in block and top["id"] in block
    # No word is cut: every word of every shown title, and each short resource name, stands whole on a line.
    tokens = set(done.stdout.split())
    shown = [f for f in doc["findings"] if f["id"] in done.stdout]
    assert len(shown) >= 10
    for f in shown:
        assert set(f["title"].split()) <= tokens, f["title"]
    assert "sagemaker-savings-plan/111122223333" in tokens  # cut mid-word in a table cell before


def test_markdown_scan_leads_with_the_plan_and_details(demo):
    store, doc = demo
    done = run_cli("scan", "--store", str(store.path), "--format", "markdown", "--top", "3")
    assert done.returncode == 0, done.stderr
    md = done.stdout
    total = _expected_total(doc["findings"])
    assert md.index(f"**Savings available: ${total:,.2f}/month") < md.index("## Action plan") < md.index("## Spend")
    top = _largest(doc["findings"])
    assert f"| 1 | {top['title']} |" in md and f'title="{top["resource_id"]}"' in md
    assert md.count("<details>") == 3 and "aws ec2 stop-instances" in md and "```yaml" in md
    assert "JSON report" not in md  # no report was written; it names the command that lists them all
    # the demo's scan is kept in the history and groups some findings, summing members it does not list: the
    # count is of findings (a group's members), and only `findings list` has them all
    assert any(f["group"] and f["group"]["rest"] for f in doc["findings"])
    more = sum(f["group"]["members_count"] if f["group"] else 1 for f in doc["findings"][3:])
    assert f"{more} more: `aifinops findings list` lists all" in md


def _page(url: str, js: str, viewport: dict | None = None) -> object:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport or {"width": 1280, "height": 800})
            page.goto(url, wait_until="load")
            page.wait_for_selector("svg.main-svg", timeout=20000)
            page.wait_for_timeout(300)
            return page.evaluate(js)
        finally:
            browser.close()


@pytest.mark.slow
def test_dashboard_first_screen_shows_the_total_and_the_first_action(demo):
    store, doc = demo
    with serving(create_app(store)) as url:
        seen = _page(
            url + "/",
            """() => { const box = id => { const r = document.getElementById(id).getBoundingClientRect();
                        return {top: r.top, bottom: r.bottom}; };
                      const first = document.getElementById('action-1');
                      return {height: window.innerHeight, total: document.getElementById('total-savings').textContent,
                              totalBox: box('total-savings'), firstBox: box('action-1'),
                              firstText: first.querySelector('summary').textContent,
                              saving: first.querySelectorAll('td')[3].textContent,
                              hover: first.querySelectorAll('td')[2].querySelector('code').getAttribute('title')}; }""",
        )
    total = _expected_total(doc["findings"])
    top = _largest(doc["findings"])
    assert seen["total"] == f"${total:,.2f}/month"
    assert seen["totalBox"]["bottom"] <= seen["height"] and seen["firstBox"]["bottom"] <= seen["height"]
    assert seen["firstText"] == top["title"] and seen["saving"] == f"${top['monthly_savings_usd']:,.2f}"
    assert seen["hover"] == top["resource_id"]  # the short name shows, the ARN is on hover


def test_findings_show_expands_an_action(demo):
    store, doc = demo
    top = _largest(doc["findings"])
    done = run_cli("findings", "show", top["id"], "--store", str(store.path), env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(top["title"]) and top["resource_id"] in text
    for assumption in top["assumptions"]:
        assert assumption in text
    for key in top["evidence"]:
        assert f"  {key}: " in text
    for action in top["actions"]:
        assert action["text"].rstrip() in text
    wrong = run_cli("findings", "show", top["id"][:-1] + "x", "--store", str(store.path))
    assert wrong.returncode == 2 and "Did you mean" in wrong.stderr


def test_owner_is_the_team_tag_else_the_inventory_else_the_principal():
    import duckdb

    from aifinops.actions import resource_owners

    con = duckdb.connect()
    con.execute("CREATE TABLE usage_daily (resource_id VARCHAR, usage_date DATE, tags VARCHAR)")
    con.execute("CREATE TABLE resources (resource_id VARCHAR, attributes JSON, collected_at TIMESTAMP)")
    con.executemany("INSERT INTO usage_daily VALUES (?, ?, ?)", [
        ("a", "2024-11-01", '{"team": "old-team"}'),
        ("a", "2024-11-30", '{"team": "genai", "owner": "someone"}'),  # the latest day wins; team before owner
        ("b", "2024-11-30", '{"aws:iamPrincipal": "arn:aws:iam::111122223333:role/chat-app"}'),
        ("c", "2024-11-30", '{"aws:iamPrincipal": "arn:aws:iam::111122223333:role/batch"}'),  # inventory tag wins
        ("e", "2024-11-30", '{"team": "none", "owner": "n/a"}'),  # values that say "no owner"
        ("d", "2024-11-30", "{}"),
    ])
    con.execute("INSERT INTO resources VALUES ('c', ?, '2024-11-30')",
                ['{"Tags": [{"Key": "Owner", "Value": "vision"}]}'])
    assert resource_owners(con, ["a", "b", "c", "d", "e"]) == {
        "a": "team=genai", "b": "principal=role/chat-app", "c": "owner=vision"}
