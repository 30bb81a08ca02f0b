"""The dashboard as an attacker and a careless user meet it, over real HTTP (uvicorn on 127.0.0.1):
DNS rebinding (foreign Host → 421) and cross-origin calls (foreign Origin → 403) on every route,
bad and extreme query values (422/400 or clamped, never 500), and data values that try to break out
of the page's embedded chart JSON (the charts still draw in Chromium)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient

from aifinops.store import Store
from aifinops.web import create_app
from curfixtures import cur2_row, write_cur2
from localserver import serving
from test_report import load_in_chromium

ROUTES = ["/", "/?period=weekly", "/api/views", "/api/anomalies", "/api/forecast", "/api/budgets", "/api/alerts",
          "/static/plotly.min.js", "/api/docs", "/openapi.json", "/no-such-page"]
NASTY = "</script><!--<script>"


@contextmanager
def serving_store(store: Store) -> Iterator[str]:
    with serving(create_app(store)) as url:
        yield url


@pytest.fixture(scope="module")
def server(demo_store) -> Iterator[str]:
    with serving_store(demo_store) as url:
        yield url


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


# ---------------------------------------------------------------- DNS rebinding and cross-origin


@pytest.mark.parametrize("path", ROUTES)
def test_a_foreign_host_gets_421_and_no_data_on_every_route(server, path):
    response = httpx.get(server + path, headers={"Host": "evil.example"}, timeout=60)
    assert response.status_code == 421, (path, response.status_code)
    assert "evil.example" in response.text and "DNS rebinding" in response.text
    assert "To fix: open http://127.0.0.1:" in response.text
    assert len(response.content) < 500 and "USD" not in response.text


def test_hosts_answered_are_this_machine_on_the_served_port(server):
    port = _port(server)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        assert httpx.get(server + "/api/budgets", headers={"Host": host}, timeout=60).status_code == 200, host
    for host in ("127.0.0.1", f"127.0.0.1:{port + 1}", f"localhost.evil.example:{port}", f"evil.example:{port}",
                 f"127.0.0.1.evil.example:{port}", f"127.0.0.1:{port}@evil.example", "", "x" * 5000):
        response = httpx.get(server + "/api/budgets", headers={"Host": host}, timeout=60)
        assert response.status_code == 421, host
        assert len(response.text) < 500  # a huge Host is not echoed back in full


def test_a_foreign_origin_gets_403(server):
    port = _port(server)
    for origin in ("http://evil.example", f"http://evil.example:{port}", "null", f"http://localhost:{port + 1}",
                   f"file://127.0.0.1:{port}", f"http://127.0.0.1:{port}.evil.example"):
        response = httpx.get(server + "/api/views", headers={"Origin": origin}, timeout=60)
        assert response.status_code == 403, origin
        assert "cross-origin" in response.text and "To fix" in response.text
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://[::1]:{port}"):
        assert httpx.get(server + "/api/budgets", headers={"Origin": origin}, timeout=60).status_code == 200


def test_a_host_bound_with_host_is_answered_as_well(demo_store):
    """`aifinops serve --host NAME` also answers to NAME (and only with its port)."""
    app = create_app(demo_store, host="dash.internal.test", port=8443)
    assert TestClient(app, base_url="http://dash.internal.test:8443").get("/no-such-page").status_code == 404
    assert TestClient(app, base_url="http://dash.internal.test:8444").get("/no-such-page").status_code == 421
    assert TestClient(app, base_url="http://evil.example:8443").get("/no-such-page").status_code == 421
    assert TestClient(app, base_url="http://localhost:8443").get("/no-such-page").status_code == 404


# ---------------------------------------------------------------- query values


def test_bad_query_values_are_422_or_400_with_the_reason(server):
    garbage = httpx.get(server + "/api/anomalies", params={"start": "garbage"}, timeout=60)
    assert garbage.status_code == 422
    assert garbage.json()["detail"][0]["loc"] == ["query", "start"]
    assert httpx.get(server + "/api/anomalies", params={"end": "2024-13-45"}, timeout=60).status_code == 422
    backwards = httpx.get(server + "/api/anomalies", params={"start": "2024-11-10", "end": "2024-11-01"}, timeout=60)
    assert backwards.status_code == 400 and "not after" in backwards.json()["error"]
    outside = httpx.get(server + "/api/anomalies", params={"start": "2030-01-01"}, timeout=60)
    assert outside.status_code == 400 and "holds no data" in outside.json()["error"]
    assert "To fix" in outside.json()["error"]
    assert httpx.get(server + "/", params={"period": "x" * 10_000}, timeout=60).status_code == 422
    assert httpx.get(server + "/api/anomalies", params={"by": "x" * 10_000}, timeout=60).status_code == 422


def test_an_extreme_range_is_clamped_to_the_data(server):
    whole = httpx.get(server + "/api/anomalies", timeout=120)
    extreme = httpx.get(server + "/api/anomalies", params={"start": "0001-01-01", "end": "9999-12-31"}, timeout=120)
    assert whole.status_code == 200 and extreme.status_code == 200, extreme.text[:300]
    a, b = whole.json(), extreme.json()
    assert (a["start"], a["end"]) == (b["start"], b["end"])
    assert [x["start_date"] for x in a["anomalies"]] == [x["start_date"] for x in b["anomalies"]]
    assert any("before the data" in n for n in b["notes"]) and any("after the data" in n for n in b["notes"])


# ---------------------------------------------------------------- data values inside the page's JSON


def _rows(text: str) -> list[dict]:
    rows = []
    for day in range(1, 29):
        d = f"2024-10-{day:02d}"
        rows += [
            cur2_row("2024-10", d, "AmazonBedrock", f"USE1-Claude{text}Haiku-input-tokens", 4.5 + day % 7,
                     tags={"user_team": f"ml{text}"}),
            cur2_row("2024-10", d, "AmazonBedrock", "USE1-Claude3Haiku-output-tokens", 2.0 + day % 5),
            cur2_row("2024-10", d, "AmazonSageMaker", f"USE1-Train:ml.g5.xlarge{text}", 50.0 + (day == 20) * 900,
                     line_item_resource_id=f"arn:aws:sagemaker:us-east-1:111122223333:training-job/llm{text}-{day}"),
            cur2_row("2024-10", d, "AmazonSageMaker", "USE1-Host:ml.g5.xlarge", 33.84,
                     line_item_resource_id=f"arn:aws:sagemaker:us-east-1:111122223333:endpoint/chat{text}"),
        ]
    return rows


def _store_of(tmp_path, name: str, text: str) -> Store:
    from aifinops.ingest.inputs import ingest_inputs

    store = Store(tmp_path / f"{name}.duckdb")
    ingest_inputs(store, [write_cur2(tmp_path / name / "cur.parquet", _rows(text))])
    return store


def test_script_breaking_values_stay_inside_the_json(tmp_path):
    nasty = _store_of(tmp_path, "nasty", NASTY)
    with serving_store(nasty) as url:
        page = httpx.get(url + "/", timeout=120)
    assert page.status_code == 200
    embedded = page.text.split('<script type="application/json" id="figures">', 1)[1].split("</script>", 1)[0]
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded
    assert NASTY in json.dumps(json.loads(embedded), ensure_ascii=False)  # the value itself is kept


def test_report_json_escapes_every_markup_character():
    from aifinops.report.charts import script_json

    value = {"model": NASTY + "&amp;<!-- -->\u2028", "n": [1.5, None]}
    text = script_json(value)
    assert not set("<>&") & set(text) and "\u2028" not in text
    assert json.loads(text) == value


@pytest.mark.slow
def test_charts_still_draw_in_chromium_with_script_breaking_values(tmp_path):
    clean = _store_of(tmp_path, "clean", "")
    nasty = _store_of(tmp_path, "nasty", NASTY)
    with serving_store(clean) as url:
        normal = load_in_chromium(url + "/", "dashboard-clean-values.png")
    with serving_store(nasty) as url:
        seen = load_in_chromium(url + "/", "dashboard-script-values.png")
    assert normal["errors"] == [] and normal["charts"] >= 5
    assert seen["errors"] == [], seen["errors"]
    assert seen["charts"] >= normal["charts"]
    assert seen["sections"] == normal["sections"]
