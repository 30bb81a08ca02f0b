"""The dashboard through HTTP: FastAPI TestClient for the API, a real uvicorn server for Chromium."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from aifinops.web import create_app
from localserver import serving
from test_report import SECTIONS, load_in_chromium


@pytest.fixture(scope="module")
def client(demo_store):
    return TestClient(create_app(demo_store), base_url="http://127.0.0.1")  # the names the dashboard answers to


def test_api_routes_answer_json(client):
    anomalies = client.get("/api/anomalies", params={"start": "2024-11-01"}).json()
    assert any(a["start_date"] == "2024-11-14" for a in anomalies["anomalies"])
    assert client.get("/api/forecast").json()["next_month"]["start"] == "2024-12-01"
    assert {b["name"] for b in client.get("/api/budgets").json()} == {"SageMaker-Monthly", "Bedrock-Monthly"}
    assert client.get("/api/alerts").json()["alerts"]
    views = client.get("/api/views", params={"period": "weekly"}).json()
    assert views["period"]["days"] == 7
    assert client.get("/api/anomalies", params={"by": "nonsense"}).status_code == 400
    assert client.get("/", params={"period": "yearly"}).status_code == 422


def test_static_plotly_is_served_locally(client):
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and "plotly.js" in js.text[:200]


def test_serve_binds_to_localhost_by_default():
    import click
    import typer.main

    from aifinops.cli import app

    cli = typer.main.get_command(app)
    serve = cli.get_command(click.Context(cli), "serve")
    assert {p.name: p.default for p in serve.params}["host"] == "127.0.0.1"


def test_dashboard_page_fetches_nothing_from_outside(client):
    page = client.get("/", params={"period": "monthly"})
    assert page.status_code == 200 and '<script src="/static/plotly.min.js">' in page.text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.text, re.I)


@pytest.fixture(scope="module")
def server(demo_store):
    with serving(create_app(demo_store)) as url:
        yield url


@pytest.mark.slow
def test_dashboard_renders_in_chromium_over_real_http(server):
    page = httpx.get(server + "/?period=weekly", timeout=60)
    assert page.status_code == 200 and '<script src="/static/plotly.min.js">' in page.text
    seen = load_in_chromium(server + "/?period=weekly", "dashboard-weekly.png")
    assert seen["errors"] == []
    assert seen["outside"] == []
    assert seen["charts"] >= 8
    assert seen["sections"] == SECTIONS
