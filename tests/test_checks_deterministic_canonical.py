"""The shortcuts a scan's checks take keep their answers: ``canonical`` rounds findings in place with one memo of
rounded floats per run, ``parse_params`` takes the declared defaults without building a validator, and
``confidence`` grades each distinct evidence once. Each must give what the long way gives."""

from __future__ import annotations

from aifinops.checks import REGISTRY
from aifinops.checks._confidence import confidence
from aifinops.checks.base import canonical, parse_params
from aifinops.model import Finding


def _finding(resource: str, cost: float, evidence: dict) -> Finding:
    return Finding(check="x", title="t", resource_id=resource, resource_type="r", monthly_cost_usd=cost,
                   monthly_savings_usd=0.0, confidence="low", evidence=evidence)


def test_canonical_rounds_every_float_to_ten_digits_and_keeps_the_sign_of_zero():
    seen: dict[float, float] = {}
    # 0.0 first, then -0.0 (equal keys of a dict): each keeps its own sign; one float in two findings
    a = canonical(_finding("a", 1 / 3, {"zero": 0.0, "v": 2 / 3, "nested": [{"w": 1e-7 / 3}]}), seen)
    b = canonical(_finding("b", 2 / 3, {"zero": -0.0, "v": 2 / 3, "n": 5, "s": "x", "t": (0.1 + 0.2,)}), seen)
    assert a.monthly_cost_usd == float("0.3333333333") and b.monthly_cost_usd == float("0.6666666667")
    assert a.evidence["v"] == b.evidence["v"] == float("0.6666666667")
    assert a.evidence["nested"] == [{"w": float("3.333333333e-08")}]
    assert str(a.evidence["zero"]) == "0.0" and str(b.evidence["zero"]) == "-0.0"
    assert b.evidence["n"] == 5 and b.evidence["s"] == "x" and b.evidence["t"] == [0.3]


def test_parse_params_without_values_gives_the_validated_defaults_of_every_check():
    for check_id, cls in REGISTRY.items():
        quick = parse_params(check_id, None)
        assert type(quick) is cls.Params
        assert quick.model_dump() == cls.Params.model_validate({}).model_dump(), check_id


def test_confidence_gives_a_new_reasons_list_at_every_call():
    first = confidence(days=5, lookback_days=30, price_basis="list", measured_share=False)
    first.reasons.append("changed by a caller")
    again = confidence(days=5, lookback_days=30, price_basis="list", measured_share=False)
    assert again.level == "low"
    assert again.reasons == ["5 day(s) of data (full at 14)", "list price, not the account's billed rate",
                             "share assumed (no data)"]
    assert confidence(days=20, lookback_days=30, price_basis="billing").level == "high"
    assert confidence(coverage=0.6, days=20, lookback_days=30, price_basis="billing").reasons == [
        "metrics cover 60% of the observed hours"]
