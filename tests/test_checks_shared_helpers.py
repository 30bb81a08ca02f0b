"""The pieces the checks share (issue 13, one home per concept): each is defined once and the checks use it.

- ``_common.daily_shape``: the weekend/weekday ratio and daily variation the Bedrock batch and Flex checks judge.
- ``_endpoints.endpoint_finding``: the one constructor of a finding about an endpoint.
- ``params``: the parameter base that refuses unknown fields, the look-back and the noise floor.
- resource types: no check spells a resource-type string itself; they come from ``aifinops.resource_types``.
"""

from __future__ import annotations

import ast
import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from aifinops import resource_types
from aifinops.checks import REGISTRY
from aifinops.checks._common import daily_shape
from aifinops.checks._endpoints import EndpointInfo, endpoint_finding
from aifinops.checks.base import Window
from aifinops.checks.params import CheckParams, lookback_field, noise_floor_field

CHECKS = Path(__file__).parent.parent / "src" / "aifinops" / "checks"
# Another engineer held these two files when the resource types moved; the next one to touch them removes them.
NOT_YET = {"sagemaker_savings_plans.py", "untagged_ai_spend.py"}


def test_daily_shape_by_hand() -> None:
    # 2024-09-02 is a Monday: two whole weeks, weekdays 100 tokens, weekend days 50, one weekday missing (0)
    window = Window(date(2024, 9, 2), date(2024, 9, 15))
    daily = {window.start + timedelta(days=i): (100.0 if i % 7 < 5 else 50.0) for i in range(14)}
    del daily[date(2024, 9, 4)]
    ratio, cv, active = daily_shape(daily, window)
    # weekdays: nine of 100 and one 0 → mean 90; weekends: four of 50 → mean 50
    assert ratio == pytest.approx(50 / 90)
    mean = (9 * 100 + 4 * 50) / 14
    variance = (9 * (100 - mean) ** 2 + (0 - mean) ** 2 + 4 * (50 - mean) ** 2) / 14
    assert cv == pytest.approx(math.sqrt(variance) / mean)
    assert active == 13


def test_daily_shape_without_traffic_or_weekend() -> None:
    window = Window(date(2024, 9, 2), date(2024, 9, 15))
    assert daily_shape({}, window) == (0.0, math.inf, 0)
    weekdays_only = Window(date(2024, 9, 2), date(2024, 9, 6))  # Monday to Friday: no weekend day to compare
    assert daily_shape({date(2024, 9, 3): 5.0}, weekdays_only) == (0.0, math.inf, 1)


def _endpoint() -> EndpointInfo:
    return EndpointInfo(
        arn="arn:aws:sagemaker:eu-west-1:111122223333:endpoint/ranker",
        name="ranker",
        account_id="111122223333",
        region="eu-west-1",
        status="InService",
        created=None,
        config_name="ranker-config",
        variants=(),
    )


def test_endpoint_finding_names_the_endpoint_and_caps_savings_at_its_cost() -> None:
    f = endpoint_finding(
        "sagemaker-idle-endpoint", _endpoint(), " had no invocations in 14 days", 500.0, 730.0, "high",
        {"endpoint_name": "ranker"}, [], [],
    )
    assert (f.resource_id, f.resource_type, f.region, f.account_id) == (
        "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/ranker", "sagemaker-endpoint", "eu-west-1", "111122223333"
    )
    assert f.title == "Endpoint ranker had no invocations in 14 days"
    assert (f.monthly_cost_usd, f.monthly_savings_usd) == (500.0, 500.0)
    g = endpoint_finding("sagemaker-idle-endpoint", _endpoint(), ": x", 500.0, 120.5, "low", {}, [], [])
    assert g.monthly_savings_usd == 120.5


def test_shared_parameters_hold_their_bounds() -> None:
    class P(CheckParams):
        lookback_days: int = lookback_field(14, "Days. Default 14.", at_least=2)
        min_monthly_cost_usd: float = noise_floor_field(5.0)

    assert P().lookback_days == 14 and P(lookback_days=366).lookback_days == 366
    for bad in ({"lookback_days": 1}, {"lookback_days": 367}, {"min_monthly_cost_usd": -1}, {"lookback_dayz": 3}):
        with pytest.raises(ValidationError):
            P(**bad)
    assert P.model_fields["min_monthly_cost_usd"].description == "Noise floor. Default $5."


def test_every_check_parameter_model_refuses_unknown_fields() -> None:
    for check_id, cls in REGISTRY.items():
        with pytest.raises(ValidationError):
            cls.Params(**{"no_such_parameter_x": 1})
        assert check_id


def _literal_resource_types(path: Path) -> list[str]:
    """String constants a check passes as a resource type: ``resource_type=...``, ``ctx.resources(...)`` or
    compared with ``.resource_type``."""
    known = {v for k, v in vars(resource_types).items() if k.isupper() and isinstance(v, str)}
    hits = []
    for node in ast.walk(ast.parse(path.read_text())):
        values: list[ast.expr] = []
        if isinstance(node, ast.Call):
            values += [k.value for k in node.keywords if k.arg == "resource_type"]
            if isinstance(node.func, ast.Attribute) and node.func.attr == "resources":
                values += node.args
        if isinstance(node, ast.Compare) and any(
            isinstance(x, ast.Attribute) and x.attr == "resource_type" for x in [node.left, *node.comparators]
        ):
            values += [node.left, *node.comparators]
        if isinstance(node, ast.Dict):
            values += [v for k, v in zip(node.keys, node.values, strict=True)
                       if isinstance(k, ast.Constant) and k.value == "resource_type"]
        for v in values:
            for c in ast.walk(v):
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and (
                    c.value in known or c.value.startswith(("sagemaker-", "bedrock-", "training-"))
                ):
                    hits.append(f"{path.name}:{c.lineno}: {c.value!r}")
    return hits


def test_checks_take_resource_types_from_their_one_home() -> None:
    hits = [h for p in sorted(CHECKS.glob("*.py")) if p.name not in NOT_YET for h in _literal_resource_types(p)]
    assert not hits, "use the names in aifinops.resource_types:\n" + "\n".join(hits)


def test_the_resource_type_scan_sees_a_literal(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(ctx, F):\n"
        "    ctx.resources('sagemaker-endpoint')\n"
        "    F(resource_type='training-job')\n"
        "    return {'resource_type': 'comprehend-endpoint'}, F.resource_type == 'bedrock-model'\n"
    )
    assert [h.split(": ", 1)[1] for h in _literal_resource_types(sample)] == [
        "'sagemaker-endpoint'", "'training-job'", "'comprehend-endpoint'", "'bedrock-model'"
    ]
