"""Alert rules over the demo account, and the webhook: dry run by default, posted to a local server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from aifinops.errors import AifinopsError
from aifinops.monitor.alerts import evaluate_alerts, post_webhook, slack_payload
from clirun import run_cli


@pytest.fixture(scope="module")
def demo(demo_store_copy):
    store = demo_store_copy("demo-alerts")
    with store.connect(read_only=True) as con:
        result = evaluate_alerts(con)
    return store, result


def test_rules_fire_on_the_demo_situations(demo):
    _, result = demo
    by_rule: dict[str, list[dict]] = {}
    for a in result["alerts"]:
        by_rule.setdefault(a["rule"], []).append(a)
    assert set(by_rule) >= {
        "low-gpu-utilization",
        "idle-endpoint",
        "budget-threshold",
        "cost-anomaly",
        "cloudwatch-alarm",
    }
    idle = {a["title"].split()[1]: a for a in by_rule["idle-endpoint"]}
    assert idle["partner-scoring-endpoint"]["severity"] == "info"  # reports no datapoints at all
    assert any(a["severity"] == "critical" and a["monthly_cost_usd"] > 0 for a in idle.values())
    low = [a for a in by_rule["low-gpu-utilization"] if "my-model-endpoint" in a["title"]]
    assert low and low[0]["value"] < 20.0
    p4d = [a for a in by_rule["low-gpu-utilization"] if a["details"].get("instance_type") == "p4d.24xlarge"]
    assert p4d and p4d[0]["monthly_cost_usd"] > 20000
    assert any("2024-11-14" in a["title"] for a in by_rule["cost-anomaly"])
    severities = [a["severity"] for a in result["alerts"]]
    assert severities == sorted(severities, key=["critical", "warning", "info"].index)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_url():
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received.clear()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_webhook_post_sends_the_slack_message(demo, hook_url):
    _, result = demo
    payload = slack_payload(result)
    assert post_webhook(hook_url, payload) == 200
    (got,) = _Hook.received
    assert got["text"].startswith("aifinops:") and got["blocks"][0]["type"] == "header"
    assert "idle-endpoint" in json.dumps(got["blocks"])


def test_webhook_errors_are_clear():
    with pytest.raises(AifinopsError, match="To fix"):
        post_webhook("ftp://x", {})
    with pytest.raises(AifinopsError, match="Cannot reach"):
        post_webhook("http://127.0.0.1:9/none", {"text": "x"}, timeout_s=2)


def test_cli_alerts_is_a_dry_run_unless_sent(demo, hook_url):
    store, _ = demo
    dry = run_cli("alerts", "--webhook", hook_url, "--format", "json", "--store", str(store.path))
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["webhook_payload"]["blocks"]
    assert _Hook.received == [] and "Dry run" in dry.stderr
    sent = run_cli("alerts", "--webhook", hook_url, "--send", "--store", str(store.path))
    assert sent.returncode == 0, sent.stderr
    assert len(_Hook.received) == 1 and "Posted" in sent.stderr
    bad = run_cli("alerts", "--send", "--store", str(store.path))
    assert bad.returncode == 2 and "To fix" in bad.stderr
