"""What a finding's confidence means: one rule over the evidence behind its dollars, used by every check.

A finding's savings rest on up to four kinds of evidence. Each is graded *full*, *partial* or *missing*:

- **metrics coverage**: the share of the resource's observed hours with CloudWatch datapoints behind the
  figure (for a count metric, the hours in which collection is proven to work: its own datapoints, the
  resource's instance metrics, or a ``metrics_coverage`` row saying the series was read completely).
  full ≥ 0.9, partial ≥ 0.5, missing below.
- **days of data**: days of billing or metrics behind the figure. full ≥ ``DAYS_TOLERANCE`` x ``FULL_DAYS`` (or x
  the whole look-back when it is shorter), partial ≥ ``MIN_DAYS``, missing below.
- **price basis**: the account's own billed rate (full), the catalog's list price (partial), none (missing).
- **measured share**: a share the saving depends on (batchable traffic, repeated prompt prefix, …) read from
  the account's data (full) or assumed from a default (missing).

Confidence is **high** when every kind that applies is full, **low** when any is missing, **medium** otherwise;
a check may hold a finding at medium for a reason it names (a new serving architecture, a move that needs a
benchmark).
``confidence`` returns the level with the reasons that lowered it, which the check puts in the evidence; the
rule is printed in docs/checks.md (``RULE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from aifinops.model import Confidence

Grade = Literal["full", "partial", "missing"]

FULL_COVERAGE = 0.9  # a few missing hours are collection gaps (the idle check's min_coverage default)
MIN_COVERAGE = 0.5  # below half the hours the datapoints no longer describe the resource
FULL_DAYS = 14  # two full weeks, weekends included: the endpoint checks' default look-back
MIN_DAYS = 3  # fewer days than this describe a start-up, not a pattern
DAYS_TOLERANCE = 0.9  # share of the full days that counts as full

RULE = (
    "Each finding's confidence follows one rule (`aifinops.checks._confidence`). The evidence behind its dollars "
    "is graded: **metrics coverage** (share of the resource's observed hours with datapoints, or with collection "
    f"proven to work for a count metric): full ≥ {FULL_COVERAGE:.0%}, partial ≥ {MIN_COVERAGE:.0%}; "
    f"**days of data**: full ≥ {DAYS_TOLERANCE:.0%} of {FULL_DAYS} (or of the whole look-back when shorter), "
    f"partial ≥ {MIN_DAYS}; "
    "**price basis**: the account's billed rate is full, the catalog's list price partial, no price missing; "
    "**measured share**: a share read from the account's data (traffic shape, invocation logs) is full, an "
    "assumed default missing. **high** = every kind that applies is full; **low** = any is missing; **medium** "
    "otherwise. A check may hold a finding at medium for a reason it names (a plan that changes the serving "
    "architecture, a move that needs a benchmark). The finding's evidence lists what lowered it under "
    "`confidence_reasons`."
)


@dataclass
class Graded:
    """The grades of one finding's evidence and the level they give."""

    level: Confidence
    reasons: list[str] = field(default_factory=list)


def confidence(
    *,
    coverage: float | None = None,
    days: float | None = None,
    lookback_days: int | None = None,
    price_basis: str | None = "n/a",
    measured_share: bool | None = None,
    full_coverage: float = FULL_COVERAGE,
) -> Graded:
    """The confidence of a finding from the evidence that applies to it (None / 'n/a': does not apply).

    ``coverage``: share of observed hours with datapoints (0-1). ``days``: days of data behind the figure, against
    ``lookback_days`` (the whole look-back counts as full when shorter than ``FULL_DAYS``). ``price_basis``: a
    ``Price.basis`` ('billing' or 'list'), None when unpriced. ``measured_share``: True when the share the saving
    depends on comes from the account's data, False when it is an assumed default. ``full_coverage``: a check's
    own threshold for full coverage when it has a parameter for it.
    """
    if coverage is None and (days is None or type(days) is int):  # most calls (a check's thousands of findings
        # repeat a few day counts): the grades computed once per distinct evidence, a new reasons list each time
        level, reasons = _graded(None, days, lookback_days, price_basis, measured_share, full_coverage)
        return Graded(level, list(reasons))
    level, reasons = _graded.__wrapped__(coverage, days, lookback_days, price_basis, measured_share, full_coverage)
    return Graded(level, list(reasons))


@lru_cache(maxsize=1024)
def _graded(coverage: float | None, days: float | None, lookback_days: int | None, price_basis: str | None,
            measured_share: bool | None, full_coverage: float) -> tuple[Confidence, tuple[str, ...]]:
    """confidence's level and reasons."""
    grades: list[tuple[Grade, str]] = []
    if coverage is not None:
        grade: Grade = "full" if coverage >= full_coverage else "partial" if coverage >= MIN_COVERAGE else "missing"
        grades.append((grade, f"metrics cover {coverage:.0%} of the observed hours"))
    if days is not None:
        full = min(FULL_DAYS, lookback_days) if lookback_days else FULL_DAYS
        # a tenth off: a window's first and last days are often partial (an endpoint created mid-day)
        grade = "full" if days >= DAYS_TOLERANCE * full else "partial" if days >= MIN_DAYS else "missing"
        grades.append((grade, f"{days:g} day(s) of data (full at {full})"))
    if price_basis != "n/a":
        grade = "full" if price_basis == "billing" else "partial" if price_basis == "list" else "missing"
        grades.append((grade, {"billing": "billed rate", "list": "list price, not the account's billed rate"}.get(
            price_basis or "", "no price")))
    if measured_share is not None:
        grades.append(("full" if measured_share else "missing",
                       "share measured from the account's data" if measured_share else "share assumed (no data)"))
    reasons = tuple(reason for grade, reason in grades if grade != "full")
    if any(grade == "missing" for grade, _ in grades):
        return "low", reasons
    if reasons:
        return "medium", reasons
    return "high", ()
