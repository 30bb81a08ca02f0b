"""Findings for the assistant: ranked by dollars, top-N with paging, and one finding in full."""

from __future__ import annotations

from typing import Any

import duckdb

from aifinops.answers.args import fit, page
from aifinops.errors import ArgumentError, did_you_mean
from aifinops.money import largest_remainder_cents

# The last few check runs, by (data key, check): every check reads the whole store, which takes seconds;
# the server passes a key that changes whenever the store file does.
_RUNS: dict[tuple[str, str | None], Any] = {}
_MAX_RUNS = 4

_BRIEF = ("id", "check", "title", "resource_id", "resource_type", "region", "monthly_cost_usd",
          "monthly_savings_usd", "confidence")


def find_waste(
    con: duckdb.DuckDBPyConnection,
    top: int = 10,
    check: str | None = None,
    min_monthly_savings_usd: float = 0.0,
    next_token: str | None = None,
    data_key: str | None = None,
) -> dict[str, Any]:
    """Every check's findings, largest monthly savings first; ``top`` per page."""
    from aifinops.checks import deduplicate

    run = _run(con, check, data_key)
    findings = [f for f in run.findings if f.monthly_savings_usd >= min_monthly_savings_usd]
    savings = deduplicate(findings)
    request = [check, min_monthly_savings_usd]
    # every page's savings in cents add up to the gross beside them (each rounded alone drifts a cent a finding)
    in_cents = largest_remainder_cents(
        [f.monthly_savings_usd for f in findings], savings["gross_monthly_usd"],
        caps=[f.monthly_cost_usd for f in findings])
    brief = [{**{k: getattr(f, k) for k in _BRIEF}, "monthly_savings_usd": c} for f, c in zip(findings, in_cents,
                                                                                                strict=True)]

    def build(size: int) -> dict[str, Any]:
        chunk, token = page(brief, min(size, top), next_token, request)
        answer: dict[str, Any] = {
            "as_of": run.as_of.isoformat() if run.as_of else None,
            "currency": "USD",
            "findings_total": len(findings),
            "savings": {
                "gross_monthly_usd": savings["gross_monthly_usd"],
                "deduplicated_monthly_usd": savings["total_monthly_usd"],
            },
            "findings": chunk,
            "checks": {"ran": run.ran, "skipped": [s.__dict__ for s in run.skipped],
                       "errors": [e.__dict__ for e in run.errors]},
            "hint": "explain_finding(finding_id) gives the evidence, assumptions and actions of one finding.",
        }
        if token:
            answer["next_token"] = token
        return answer

    return fit(build, top)


def _run(con: duckdb.DuckDBPyConnection, check: str | None, data_key: str | None) -> Any:
    from aifinops.checks import run_checks

    key = (data_key or "", check)
    if data_key is None or key not in _RUNS:
        run = run_checks(con, only=[check] if check else None)
        if data_key is None:
            return run
        while len(_RUNS) >= _MAX_RUNS:
            _RUNS.pop(next(iter(_RUNS)))
        _RUNS[key] = run
    return _RUNS[key]


def findings_of(con: duckdb.DuckDBPyConnection, data_key: str | None = None) -> list[Any]:
    """Every finding of the current data, largest monthly savings first (the run find_waste pages through)."""
    return list(_run(con, None, data_key).findings)


def explain_finding(con: duckdb.DuckDBPyConnection, finding_id: str, data_key: str | None = None) -> dict[str, Any]:
    """One finding in full (evidence, assumptions, actions) and what its check looks for."""
    from aifinops.checks import explain_check

    run = _run(con, None, data_key)  # the same run find_waste paged through (cached)
    for f in run.findings:
        if f.id == finding_id:
            about = explain_check(f.check)
            return {
                "finding": f.model_dump(mode="json"),
                "check": {k: about[k] for k in ("id", "title", "description", "params", "iam_permissions")},
            }
    ids = [f.id for f in run.findings]
    raise ArgumentError(
        f"No finding {finding_id!r} in the current data.{did_you_mean(finding_id, ids)}",
        "call find_waste for the finding ids (they look like 'check-id:1a2b3c4d5e6f').",
    )


def latest_scan(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The latest recorded scan (``scan_runs``) with its findings (``finding_history``), largest savings first."""
    try:
        runs = con.execute("SELECT run_id, run_at, as_of, period_start, period_end, source_kind, findings, "
                           "total_monthly_usd FROM scan_runs ORDER BY run_at DESC, run_id DESC LIMIT 1").fetchall()
    except duckdb.CatalogException:
        runs = []
    if not runs:
        return {"scan": None, "findings": [],
                "aifinops_notes": ["No scan is recorded in this store. Run `aifinops scan` to record one; "
                                   "find_waste answers from the current data meanwhile."]}
    keys = ("run_id", "run_at", "as_of", "period_start", "period_end", "source_kind", "findings", "total_monthly_usd")
    run = dict(zip(keys, runs[0], strict=True))
    rows = con.execute("SELECT finding FROM finding_history WHERE run_id = ? "
                       "ORDER BY monthly_savings_usd DESC, finding_id", [run["run_id"]]).fetchall()
    import json

    findings = [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]
    return {"scan": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in run.items()},
            "findings": findings}
