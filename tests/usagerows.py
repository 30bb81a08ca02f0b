"""Hand-written ``usage_daily`` rows for the check tests, the insert that stores them, and a run of one check.

``usage_row`` is one SageMaker on-demand usage row in us-east-1 on ``AS_OF``; a test passes
whatever it needs to differ; a module with other defaults wraps it (``usage_row(**{**defaults, **values})``).
"""

from __future__ import annotations

from datetime import date

from aifinops.checks import run_checks
from aifinops.store import USAGE_DAILY_COLUMN_NAMES

AS_OF = date(2025, 6, 30)
ACCOUNT = "111122223333"
REGION = "us-east-1"


def usage_row(**values) -> dict:
    """One usage_daily row: SageMaker on-demand usage in us-east-1 on AS_OF unless told otherwise."""
    row = dict.fromkeys(USAGE_DAILY_COLUMN_NAMES)
    row.update(
        billing_period=date(2025, 6, 1),
        usage_date=AS_OF,
        account_id=ACCOUNT,
        region=REGION,
        service_code="AmazonSageMaker",
        line_item_type="Usage",
        pricing_unit="Hrs",
        tags="{}",
        usage_quantity=0.0,
        billed_cost=0.0,
        ai_service="sagemaker",
        accelerated=False,
        purchase_option="on-demand",
        is_ai=True,
    )
    row.update(values)
    return row


def insert_usage(con, rows: list[dict]) -> None:
    """Write ``rows`` (usage_daily rows as dicts, as ``usage_row`` makes them; a column a row lacks is NULL) to the
    store: the tests' one way to write hand-made rollup rows."""
    if not rows:
        return
    cols = ", ".join(USAGE_DAILY_COLUMN_NAMES)
    marks = ", ".join("?" for _ in USAGE_DAILY_COLUMN_NAMES)
    con.executemany(
        f"INSERT INTO usage_daily ({cols}) VALUES ({marks})",
        [[r.get(c) for c in USAGE_DAILY_COLUMN_NAMES] for r in rows],
    )


def findings_by_resource(con, check: str, params: dict | None = None, *, allow_skipped: bool = False) -> dict:
    """Run one check (with ``params``) and return its findings by resource id; it must not fail
    (nor be skipped, unless ``allow_skipped``)."""
    run = run_checks(con, only=[check], params={check: params} if params else None)
    assert run.errors == []
    if not allow_skipped:
        assert run.skipped == []
    return {f.resource_id: f for f in run.findings}
