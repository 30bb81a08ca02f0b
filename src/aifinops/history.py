"""What the user and the scans write about findings: each scan's findings with its date, and decisions.

``record_scan`` keeps a scan's findings in the store (``scan_runs``, ``finding_history``) so that a later
ingest can show, from the bill, whether each resource's cost fell (``aifinops.tracking``).
``set_state`` records a decision on a finding (accepted, dismissed with a reason, snoozed until a date);
finding ids are stable across scans (check + resource), so a decision holds for every later scan.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from aifinops.errors import ArgumentError, did_you_mean
from aifinops.store import Store, one_row

STATES = ("accepted", "dismissed", "snoozed", "open")
_ROWS_PER_INSERT = 500  # finding_history rows per INSERT statement


def record_scan(store: Store, doc: dict[str, Any], owners: dict[str, str]) -> str:
    """Keep the scan document's findings with its run date; returns the run id."""
    run_id = uuid.uuid4().hex[:16]
    rows = [
        (
            run_id,
            f["id"],
            f["check"],
            f["resource_id"],
            f["resource_type"],
            owners.get(f["resource_id"]),
            f["monthly_cost_usd"],
            f["monthly_savings_usd"],
            f["confidence"],
            json.dumps(f, sort_keys=True),
        )
        for f in doc["findings"]
    ]
    with store.transaction(usage=False) as con:  # bookkeeping: the summary tables stay as they are
        con.execute(
            "INSERT INTO scan_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                datetime.now(UTC).replace(tzinfo=None),
                doc["source"].get("as_of"),
                doc["period"]["start"],
                doc["period"]["end"],
                doc["source"]["kind"],
                len(rows),
                doc["savings"]["total_monthly_usd"],
            ],
        )
        # Many rows per statement: executemany runs one statement per finding (0.19 s for 151 findings).
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start:start + _ROWS_PER_INSERT]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
            con.execute(f"INSERT INTO finding_history VALUES {values}", [v for row in chunk for v in row])
    return run_id


def set_state(
    store: Store, finding_id: str, state: str, reason: str | None = None, until: date | None = None
) -> dict[str, Any]:
    """Record a decision on a finding a scan reported; 'open' removes the decision."""
    if state not in STATES:
        raise ArgumentError(f"Unknown state {state!r}.", f"use one of: {', '.join(STATES)}.")
    if state == "dismissed" and not (reason or "").strip():
        raise ArgumentError("Dismissing a finding needs a reason.", "pass --reason 'why this is not waste'.")
    if state == "snoozed" and until is None:
        raise ArgumentError("Snoozing a finding needs a date.", "pass --until YYYY-MM-DD or --days N.")
    with store.transaction(usage=False) as con:  # bookkeeping: the summary tables stay as they are
        known = one_row(con, "SELECT count(*) FROM finding_history WHERE finding_id = ?", [finding_id])[0]
        if not known:
            ids = [r[0] for r in con.execute("SELECT DISTINCT finding_id FROM finding_history").fetchall()]
            hint = did_you_mean(finding_id, ids) if ids else ""
            raise ArgumentError(
                f"No scan reported a finding {finding_id!r}.{hint}",
                "run `aifinops scan` first, then use an id from `aifinops findings list`."
                if not ids
                else "use an id from `aifinops findings list` (or the scan's JSON `findings[].id`).",
            )
        con.execute("DELETE FROM finding_states WHERE finding_id = ?", [finding_id])
        if state != "open":
            con.execute(
                "INSERT INTO finding_states VALUES (?, ?, ?, ?, ?)",
                [finding_id, state, (reason or "").strip() or None, until,
                 datetime.now(UTC).replace(tzinfo=None)],
            )
    return {"id": finding_id, "state": state, "reason": reason, "until": until.isoformat() if until else None}


__all__ = ["STATES", "record_scan", "set_state"]
