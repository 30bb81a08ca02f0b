"""Savings tracking from the bill: did the cost of each finding's resource fall after the finding?

Every recorded scan keeps its findings with the data's as-of date (``aifinops.history``). For each finding,
the first scan that reported it sets the baseline: the resource's billed cost per day of data in the
billing month of that as-of date, up to it. Each later month of billing data gives the resource's cost per
day again, and the difference, on the 730-hour month the predictions use, is the saving the bill shows:

    realized_monthly_usd = (baseline cost/day - later cost/day) x 730 / 24

A cost that moved less than ``STEADY_BAND`` either way "stayed" (the finding is still open); below it the
cost "fell" (a realized saving, set against the predicted one); above it the cost "rose". A prediction
"held" when the bill shows at least ``HELD_FRACTION`` of it; a check's calibration is how often its
predictions held among the findings whose cost fell. Findings on a resource the bill does not name, or on
a training job (a job ends by itself, so its lower bill proves nothing), are listed as not measurable.
Totals count a resource once (its largest prediction), as the scan's deduplicated savings do.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from aifinops import resource_types as rt
from aifinops.actions import finding_states
from aifinops.config import HOURS_PER_MONTH
from aifinops.errors import ArgumentError
from aifinops.money import cents, largest_remainder_cents
from aifinops.store import usage_span
from aifinops.sums import DUCKDB_SUM

STEADY_BAND = 0.05  # a daily cost within 5% of its baseline did not move (daily billing noise of steady resources)
HELD_FRACTION = 0.8  # a prediction held when the bill shows at least 80% of the predicted monthly saving
# Resources that end by themselves: a month without their cost is not a saving someone made.
EPHEMERAL_TYPES = frozenset({rt.TRAINING_JOB})
NO_OWNER = "(no owner tag)"


def _month(day: date) -> date:
    return day.replace(day=1)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def first_sightings(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Each finding as the first recorded scan reported it (its as-of date, predicted saving, owner)."""
    return _rows(
        con,
        "SELECT h.finding_id, h.check_id, h.resource_id, h.resource_type, h.owner, h.monthly_cost_usd, "
        "h.monthly_savings_usd, h.confidence, json_extract_string(h.finding, '$.title') AS title, r.as_of, "
        "r.run_id FROM finding_history h JOIN scan_runs r USING (run_id) WHERE r.as_of IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY h.finding_id ORDER BY r.as_of, r.run_at, r.run_id) = 1 "
        "ORDER BY h.finding_id",
    )


def latest_run(con: duckdb.DuckDBPyConnection, before: date | None = None) -> dict[str, Any] | None:
    """The last recorded scan (by data as-of date, then run time), or the last one whose as-of is < ``before``."""
    where, params = ("WHERE as_of < ?", [before]) if before else ("", [])
    rows = _rows(con, f"SELECT * FROM scan_runs {where} ORDER BY as_of DESC, run_at DESC, run_id DESC LIMIT 1",
                 params)
    return rows[0] if rows else None


def latest_findings(con: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], date | None]:
    """The findings of the last recorded scan, largest saving first, and that scan's as-of date."""
    import json

    run = latest_run(con)
    if run is None:
        return [], None
    rows = con.execute("SELECT finding FROM finding_history WHERE run_id = ?", [run["run_id"]]).fetchall()
    found = [json.loads(r[0]) for r in rows]
    found.sort(key=lambda f: (-f["monthly_savings_usd"], -f["monthly_cost_usd"], f["check"], f["resource_id"]))
    return found, run["as_of"]


def _month_days(con: duckdb.DuckDBPyConnection) -> dict[date, tuple[int, date]]:
    """Month → (days with billing data, last such day), over the whole store."""
    rows = con.execute(
        "SELECT date_trunc('month', usage_date)::DATE, count(DISTINCT usage_date), max(usage_date) "
        "FROM usage_daily GROUP BY 1"
    ).fetchall()
    return {m: (n, last) for m, n, last in rows}


def finding_outcomes(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every tracked finding with its baseline and, per later month of billing data, what the bill shows."""
    sightings = first_sightings(con)
    if not sightings:
        return []
    states = finding_states(con)
    last = latest_run(con)
    still = {r[0] for r in con.execute("SELECT finding_id FROM finding_history WHERE run_id = ?",
                                       [last["run_id"]]).fetchall()} if last else set()
    months = _month_days(con)
    ids = sorted({s["resource_id"] for s in sightings})
    monthly = con.execute(
        f"SELECT resource_id, date_trunc('month', usage_date)::DATE, {DUCKDB_SUM}(billed_cost) FROM usage_daily "
        "WHERE resource_id IN (SELECT unnest(?)) GROUP BY ALL",
        [ids],
    ).fetchall()
    cost_in: dict[tuple[str, date], float] = {(r, m): c for r, m, c in monthly}
    baselines: dict[tuple[str, date], float] = {}
    baseline_days: dict[date, int] = {}
    for seen in sorted({s["as_of"] for s in sightings}):
        start = _month(seen)
        baseline_days[seen] = con.execute(
            "SELECT count(DISTINCT usage_date) FROM usage_daily WHERE usage_date BETWEEN ? AND ?", [start, seen]
        ).fetchall()[0][0]
        for resource_id, cost in con.execute(
            f"SELECT resource_id, {DUCKDB_SUM}(billed_cost) FROM usage_daily WHERE usage_date BETWEEN ? AND ? "
            "AND resource_id IN (SELECT unnest(?)) GROUP BY ALL",
            [start, seen, ids],
        ).fetchall():
            baselines[(resource_id, seen)] = cost
    per_month = HOURS_PER_MONTH / 24.0
    out = []
    for s in sightings:
        as_of: date = s["as_of"]
        base_cost = baselines.get((s["resource_id"], as_of), 0.0)
        days = baseline_days.get(as_of, 0)
        item: dict[str, Any] = {
            "id": s["finding_id"],
            "check": s["check_id"],
            "title": s["title"],
            "resource_id": s["resource_id"],
            "resource_type": s["resource_type"],
            "team": s["owner"] or NO_OWNER,
            "confidence": s["confidence"],
            "first_seen_as_of": as_of.isoformat(),
            "predicted_monthly_usd": s["monthly_savings_usd"],
            "still_reported": s["finding_id"] in still,
            "state": (states.get(s["finding_id"]) or {}).get("state", "open"),
            "baseline": {"month": _month(as_of).isoformat(), "days": days, "billed_cost_usd": base_cost},
            "months": [],
        }
        # by the finding's type, or by what its ARN names (history recorded before every check typed a training job
        # TRAINING_JOB holds other spellings of the type; the ARN says what the resource is whatever the spelling)
        if s["resource_type"] in EPHEMERAL_TYPES or rt.from_arn(s["resource_id"] or "") in EPHEMERAL_TYPES:
            item.update(status="not-measurable", why="a training job ends by itself: a month without it is no proof")
        elif base_cost <= 0 or days == 0:
            item.update(status="not-measurable", why="the bill names no cost for this resource id before the finding")
        else:
            base_per_day = base_cost / days
            for month in sorted(m for m in months if m > _month(as_of)):
                n, _last_day = months[month]
                cost = cost_in.get((s["resource_id"], month), 0.0)
                per_day = cost / n
                change = (per_day - base_per_day) / base_per_day
                status = "fell" if change < -STEADY_BAND else "rose" if change > STEADY_BAND else "stayed"
                realized = (base_per_day - per_day) * per_month
                item["months"].append(
                    {"month": month.isoformat(), "days": n, "billed_cost_usd": cost, "status": status,
                     "realized_monthly_usd": realized}
                )
            if item["months"]:
                latest = item["months"][-1]
                item["status"] = latest["status"]
                item["realized_monthly_usd"] = latest["realized_monthly_usd"]
                item["held"] = latest["status"] == "fell" and latest["realized_monthly_usd"] >= (
                    HELD_FRACTION * s["monthly_savings_usd"]
                )
            else:
                item.update(status="no-later-bill", why="no billing month after the finding yet: ingest the next one")
        out.append(item)
    return out


def _dedup(items: list[dict[str, Any]], month: str | None = None) -> tuple[float, float]:
    """(predicted, realized) counting each resource once: its largest prediction, its bill's fall."""
    predicted: dict[str, float] = {}
    realized: dict[str, float] = {}
    for it in items:
        rid = it["resource_id"]
        predicted[rid] = max(predicted.get(rid, 0.0), it["predicted_monthly_usd"])
        m = next((x for x in it["months"] if x["month"] == month), None) if month else (
            it["months"][-1] if it["months"] else None)
        if m and m["status"] == "fell":
            realized[rid] = m["realized_monthly_usd"]
    return sum(predicted.values()), sum(realized.values())


def _teams_in_cents(by_team: list[dict[str, Any]], items: list[dict[str, Any]], totals: dict[str, float]) -> None:
    """The teams' figures in cents that add up to the totals (largest remainder), when each resource is one team's
    (the teams then split the totals); a resource under two owners counts in both, and each is rounded alone."""
    teams: dict[str, set[str]] = {}
    for it in items:
        teams.setdefault(it["resource_id"], set()).add(it["team"])
    split = all(len(t) == 1 for t in teams.values())
    for key, total in totals.items():
        values = [t[key] for t in by_team]
        shown = largest_remainder_cents(values, total) if split else [cents(v) for v in values]
        for t, v in zip(by_team, shown, strict=True):
            t[key] = v


_LISTED_FIRST = {"fell": 0, "rose": 1, "stayed": 2, "no-later-bill": 3, "not-measurable": 4}


def savings_report(con: duckdb.DuckDBPyConnection, top: int | None = None) -> dict[str, Any]:
    """Realized against predicted savings per month, team and check, the calibration, and each finding
    (``top``: only that many findings, those whose cost fell or rose first, largest move first)."""
    outcomes = finding_outcomes(con)
    measured = [o for o in outcomes if o["status"] not in ("not-measurable",)]
    months = sorted({m["month"] for o in measured for m in o["months"]})
    by_month = []
    for month in months:
        items = [o for o in measured if any(m["month"] == month for m in o["months"])]
        predicted, realized = _dedup(items, month)
        counts = {k: sum(1 for o in items for m in o["months"] if m["month"] == month and m["status"] == k)
                  for k in ("fell", "stayed", "rose")}
        by_month.append({"month": month, "predicted_monthly_usd": round(predicted, 2),
                         "realized_monthly_usd": round(realized, 2), **counts})
    with_bill = [o for o in measured if o["months"]]
    by_team = []
    for team in sorted({o["team"] for o in with_bill}):
        items = [o for o in with_bill if o["team"] == team]
        predicted, realized = _dedup(items)
        by_team.append({"team": team, "findings": len(items), "fell": sum(o["status"] == "fell" for o in items),
                        "predicted_monthly_usd": predicted, "realized_monthly_usd": realized})
    predicted, realized = _dedup(with_bill)
    _teams_in_cents(by_team, with_bill, {"predicted_monthly_usd": predicted, "realized_monthly_usd": realized})
    by_check = []
    for check in sorted({o["check"] for o in outcomes}):
        items = [o for o in outcomes if o["check"] == check]
        billed = [o for o in items if o["months"]]
        fell = [o for o in billed if o["status"] == "fell"]
        held = sum(1 for o in fell if o.get("held"))
        pred_fell = sum(o["predicted_monthly_usd"] for o in fell)
        by_check.append({
            "check": check,
            "findings": len(items),
            "not_measurable": sum(o["status"] == "not-measurable" for o in items),
            "with_later_bill": len(billed),
            "fell": len(fell),
            "stayed": sum(o["status"] == "stayed" for o in billed),
            "rose": sum(o["status"] == "rose" for o in billed),
            "held": held,
            # calibration: how often the bill bore a prediction out, among the findings acted on (cost fell)
            "calibration": round(held / len(fell), 4) if fell else None,
            "predicted_monthly_usd": round(sum(o["predicted_monthly_usd"] for o in billed), 2),
            "realized_monthly_usd": round(sum(o["realized_monthly_usd"] for o in fell), 2),
            "realized_over_predicted": round(sum(o["realized_monthly_usd"] for o in fell) / pred_fell, 4)
            if pred_fell else None,
        })
    runs = con.execute("SELECT count(*), min(as_of), max(as_of) FROM scan_runs").fetchall()[0]
    return {
        "scans_recorded": runs[0],
        "first_scan_as_of": runs[1].isoformat() if runs[1] else None,
        "last_scan_as_of": runs[2].isoformat() if runs[2] else None,
        "latest_month": months[-1] if months else None,
        "totals": {"predicted_monthly_usd": round(predicted, 2), "realized_monthly_usd": round(realized, 2),
                   "findings": len(outcomes), "with_later_bill": len(with_bill),
                   "fell": sum(o["status"] == "fell" for o in with_bill),
                   "stayed": sum(o["status"] == "stayed" for o in with_bill),
                   "rose": sum(o["status"] == "rose" for o in with_bill),
                   "not_measurable": sum(o["status"] == "not-measurable" for o in outcomes)},
        "by_month": by_month,
        "by_team": by_team,
        "by_check": by_check,
        "findings_total": len(outcomes),
        "findings": [_rounded(o) for o in (outcomes if top is None else sorted(
            outcomes, key=lambda o: (_LISTED_FIRST[o["status"]], -abs(o.get("realized_monthly_usd", 0.0)), o["id"])
        )[:top])],
        "method": (
            "Realized = (cost per day of billing data in the month of the finding, up to its as-of date, minus "
            f"cost per day in a later month) x {HOURS_PER_MONTH:.0f} / 24, from the billed cost of the resource. "
            f"A move within {STEADY_BAND:.0%} is 'stayed'; a prediction held when the bill shows at least "
            f"{HELD_FRACTION:.0%} of it. Totals count each resource once."
        ),
    }


def _rounded(o: dict[str, Any]) -> dict[str, Any]:
    r = dict(o)
    r["predicted_monthly_usd"] = round(o["predicted_monthly_usd"], 2)
    if "realized_monthly_usd" in o:
        r["realized_monthly_usd"] = round(o["realized_monthly_usd"], 2)
    r["baseline"] = {**o["baseline"], "billed_cost_usd": round(o["baseline"]["billed_cost_usd"], 2)}
    r["months"] = [{**m, "billed_cost_usd": round(m["billed_cost_usd"], 2),
                    "realized_monthly_usd": round(m["realized_monthly_usd"], 2)} for m in o["months"]]
    return r


def review_changes(con: duckdb.DuckDBPyConnection, period_start: date) -> dict[str, Any]:
    """What changed in the findings since the last review: the last scan before ``period_start`` against the
    latest scan (new findings, findings gone, and the deduplicated savings of each)."""
    now = latest_run(con)
    before = latest_run(con, period_start)
    if now is None:
        return {"available": False, "note": "No scan recorded yet: run `aifinops scan` to start the history."}
    if before is None or before["run_id"] == now["run_id"]:
        return {"available": False, "as_of": now["as_of"].isoformat(),
                "note": f"No scan recorded before {period_start}: the next review will show what changed."}

    def findings(run_id: str) -> dict[str, dict[str, Any]]:
        rows = _rows(con, "SELECT finding_id, check_id, resource_id, monthly_savings_usd, "
                          "json_extract_string(finding, '$.title') AS title FROM finding_history WHERE run_id = ?",
                     [run_id])
        return {r["finding_id"]: r for r in rows}

    old, new = findings(before["run_id"]), findings(now["run_id"])
    def order(r: dict[str, Any]) -> tuple[float, str]:
        return (-r["monthly_savings_usd"], r["finding_id"])

    added = sorted((new[k] for k in new.keys() - old.keys()), key=order)
    gone = sorted((old[k] for k in old.keys() - new.keys()), key=order)
    fmt = [{"id": r["finding_id"], "check": r["check_id"], "title": r["title"],
            "monthly_savings_usd": round(r["monthly_savings_usd"], 2)} for r in added]
    return {
        "available": True,
        "previous_as_of": before["as_of"].isoformat(),
        "as_of": now["as_of"].isoformat(),
        "previous_savings_monthly_usd": round(before["total_monthly_usd"], 2),
        "savings_monthly_usd": round(now["total_monthly_usd"], 2),
        "new": fmt,
        "gone": [{"id": r["finding_id"], "check": r["check_id"], "title": r["title"],
                  "monthly_savings_usd": round(r["monthly_savings_usd"], 2)} for r in gone],
        "unchanged": len(new.keys() & old.keys()),
    }


def snooze_until(con: duckdb.DuckDBPyConnection, days: int) -> date:
    """The date ``days`` after the data's as-of date (snoozes count in data days, as every analysis does)."""
    last = usage_span(con)[1]
    if last is None:
        raise ArgumentError("The store holds no billing data to count snooze days from.",
                            "pass --until YYYY-MM-DD instead of --days.")
    return last + timedelta(days=days)


__all__ = ["EPHEMERAL_TYPES", "HELD_FRACTION", "STEADY_BAND", "finding_outcomes", "latest_findings", "review_changes",
           "savings_report", "snooze_until"]
