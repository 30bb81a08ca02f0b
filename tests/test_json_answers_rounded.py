"""Every JSON answer of the HTTP API and of the CLI's ``--format json`` prints its numbers under one rule (STYLE.md:
money rounded at the boundary), over real HTTP and the CLI as a subprocess on the demo (the scan document's check is
in test_totals_add_up.py): money (a ``*_usd`` key, or any number under one) at six decimals at most; any other number
at ten decimals at most, and past six decimals at six significant digits. So float noise never reaches the bytes:
before this rule the dashboard's /api answered 1191.5063999999995 and 0.015000000000000001."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from aifinops.web import create_app
from clirun import run_cli
from localserver import serving

# A dollar figure of a JSON answer against its full-precision value: at six decimals, within half a millionth
AS_PRINTED_USD = {"abs": 5.0001e-7}
# A rate or a quantity: six significant digits (within 5e-6 of it), ten decimals at most
AS_PRINTED = {"rel": 6e-6, "abs": 1e-10}

ROUTES = ["/api/views", "/api/genai/principals", "/api/genai/inference-profiles", "/api/genai/token-rates",
          "/api/genai/endpoint-rates", "/api/genai/request-rates", "/api/genai/gpu-hour-rates", "/api/anomalies",
          "/api/actions", "/api/forecast", "/api/budgets", "/api/alerts"]


def badly_printed(doc, key: str = "", money: bool = False) -> list[tuple[str, float]]:
    """(key, number) of every number of ``doc`` the rule above would not print as it is."""
    if isinstance(doc, dict):
        return [bad for k, v in doc.items() for bad in badly_printed(v, str(k), money or str(k).endswith("_usd"))]
    if isinstance(doc, list):
        return [bad for v in doc for bad in badly_printed(v, key, money)]
    if not isinstance(doc, float) or doc == 0:
        return []
    digits = Decimal(repr(doc)).normalize().as_tuple()
    decimals = max(0, -int(digits.exponent))
    significant = len(digits.digits)
    money = money or key.endswith("_usd")
    fine = decimals <= 6 if money else decimals <= 10 and (decimals <= 6 or significant <= 6)
    return [] if fine else [(key, doc)]


def fractions(doc) -> int:
    """How many numbers of ``doc`` have a fractional part (the ones the rule above can round)."""
    if isinstance(doc, dict):
        return sum(fractions(v) for v in doc.values())
    if isinstance(doc, list):
        return sum(fractions(v) for v in doc)
    return int(isinstance(doc, float) and doc != int(doc))


def test_the_rule_is_what_this_test_checks():
    assert badly_printed({"cost_usd": 1191.5064, "rate": 0.0000454491, "units": 636.347022, "n": 3}) == []
    assert badly_printed({"cost_usd": 1191.5063999999995}) == [("cost_usd", 1191.5063999999995)]
    assert badly_printed({"usd_per_unit": 0.015000000000000001}) == [("usd_per_unit", 0.015000000000000001)]
    assert badly_printed({"by_day_usd": {"2024-09-01": 3359.60452022}}) == [("2024-09-01", 3359.60452022)]
    assert badly_printed({"rate": 4.5449060602872016e-05}) == [("rate", 4.5449060602872016e-05)]


@pytest.fixture(scope="module")
def demo_url(demo_store):
    with serving(create_app(demo_store)) as url:
        yield url


@pytest.mark.parametrize("route", ROUTES)
def test_every_api_answer_prints_its_numbers_under_the_rule(demo_url, route):
    got = httpx.get(demo_url + route, timeout=120)
    assert got.status_code == 200, got.text
    doc = got.json()
    assert badly_printed(doc) == []
    assert fractions(doc) > 0  # the answer holds numbers with decimals (else the check above proved nothing)


@pytest.mark.parametrize("args", [
    ("costs", "--unit", "gpu-hour", "--format", "json"),
    ("costs", "--group-by", "service", "--format", "json"),
    ("forecast", "--format", "json"),
    ("anomalies", "--format", "json"),
])
def test_cli_json_answers_print_their_numbers_under_the_rule(demo_store, args):
    done = run_cli(*args, "--store", str(demo_store.path))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert badly_printed(doc) == [] and fractions(doc) > 0

