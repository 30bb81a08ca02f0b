"""previous-gen-accelerators keeps the over-provisioned check's instance floor and makes no dollar claim on an
endpoint serving nothing (issue 14, evaluation-harness disagreements). Expected dollars computed by hand."""

from __future__ import annotations

import pytest

from test_checks_endpoints import MONTH_H, add_endpoint, add_metrics, arn, bill_endpoint, const, endpoint_series
from usagerows import findings_by_resource as findings_of

PREVIOUS = "previous-gen-accelerators"
G4DN, G6 = 0.9, 0.7  # this account's billed $/h: here the newer type is the cheaper one


def test_over_provisioned_fleet_claims_only_the_rate_on_the_two_instances_kept(con):
    # Four ml.g4dn.xlarge at a 10% GPU peak: the over-provisioned check keeps max(2, ceil(4 x 10 / 60)) = 2;
    # removing the other two is its saving. This check claims (0.9 - 0.7) $/h on those 2, never 4 -> 1 g6.
    add_endpoint(con, "t4-four", "ml.g4dn.xlarge", count=4)
    add_metrics(con, endpoint_series("t4-four", const(400.0), cpu=const(5.0), memory=const(20.0), gpu=const(10.0),
                                     count=4))
    bill_endpoint(con, "t4-four", "ml.g4dn.xlarge", G4DN, count=4)
    bill_endpoint(con, "l4-other", "ml.g6.xlarge", G6)

    f = findings_of(con, PREVIOUS)[arn("t4-four")]
    assert f.evidence["instances"] == 4 and f.evidence["instances_kept"] == 2
    assert f.monthly_savings_usd == pytest.approx(2 * (G4DN - G6) * MONTH_H)


def test_idle_endpoint_gets_no_move_saving(con):
    # Two ml.g4dn.xlarge whose CPU, memory and GPU report every hour but which have no Invocations datapoint:
    # serving nothing; the lever is deleting it (the idle check), so no move saving is claimed.
    add_endpoint(con, "t4-idle", "ml.g4dn.xlarge", count=2)
    add_metrics(con, endpoint_series("t4-idle", lambda ts: None, cpu=const(2.0), memory=const(20.0), gpu=const(0.0),
                                     count=2))
    bill_endpoint(con, "t4-idle", "ml.g4dn.xlarge", G4DN, count=2)
    bill_endpoint(con, "l4-other", "ml.g6.xlarge", G6)

    f = findings_of(con, PREVIOUS)[arn("t4-idle")]
    assert f.monthly_savings_usd == 0.0 and f.confidence == "low"
    assert f.evidence["invocations_basis"] == "silence-with-instance-metrics"
    assert "delete" in f.title
