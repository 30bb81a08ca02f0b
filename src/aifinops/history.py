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

import duckdb

from aifinops.errors import ArgumentError, did_you_mean
from aifinops.store import Store, one_row

STATES = ("accepted", "dismissed", "snoozed", "open")
# finding_history's columns (store.py) with the type each is handed over in; the finding is its JSON text.
_HISTORY_COLUMNS = (
    ("run_id", "VARCHAR"),
    ("finding_id", "VARCHAR"),
    ("check_id", "VARCHAR"),
    ("resource_id", "VARCHAR"),
    ("resource_type", "VARCHAR"),
    ("owner", "VARCHAR"),
    ("monthly_cost_usd", "DOUBLE"),
    ("monthly_savings_usd", "DOUBLE"),
    ("confidence", "VARCHAR"),
    ("finding", "VARCHAR"),
)
# json.dumps(f, sort_keys=True) without a new encoder per call, nor the cycle check (a finding is a tree from
# model_dump): the same text, 5-10% less CPU on 4,192 findings
_finding_json = json.JSONEncoder(sort_keys=True, check_circular=False).encode


def record_scan(store: Store, doc: dict[str, Any], owners: dict[str, str]) -> str:
    """Keep the scan document's findings with its run date, in a write of its own; returns the run id."""
    with store.transaction(usage=False) as con:  # bookkeeping: the summary tables stay as they are
        return record_scan_in(con, doc, owners)


def record_scan_in(con: duckdb.DuckDBPyConnection, doc: dict[str, Any], owners: dict[str, str]) -> str:
    """record_scan inside the caller's write (a scan that ingested its billing files records its findings in the
    same write: one copy and one swap of the store); returns the run id."""
    run_id = uuid.uuid4().hex[:16]
    findings = doc["findings"]
    columns = [
        [run_id] * len(findings),
        [f["id"] for f in findings],
        [f["check"] for f in findings],
        [f["resource_id"] for f in findings],
        [f["resource_type"] for f in findings],
        [owners.get(f["resource_id"]) for f in findings],
        [f["monthly_cost_usd"] for f in findings],
        [f["monthly_savings_usd"] for f in findings],
        [f["confidence"] for f in findings],
        [_finding_json(f) for f in findings],
    ]
    # One INSERT of the columns as ten list parameters, unnested side by side: a row of bound parameters per finding
    # cost per value (4,192 findings x 10 values took 0.8 s), and an Arrow table would make every scan import
    # pyarrow for it (about 0.025 s after DuckDB's, and 40 MB: bench/README.md).
    names = ", ".join(name for name, _ in _HISTORY_COLUMNS)
    unnested = ", ".join(f"unnest(?::{kind}[]) AS {name}" for name, kind in _HISTORY_COLUMNS)
    con.execute(
        "INSERT INTO scan_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            datetime.now(UTC).replace(tzinfo=None),
            doc["source"].get("as_of"),
            doc["period"]["start"],
            doc["period"]["end"],
            doc["source"]["kind"],
            len(findings),
            doc["savings"]["total_monthly_usd"],
        ],
    )
    if findings:
        con.execute(f"INSERT INTO finding_history ({names}) SELECT {unnested}", columns)
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


__all__ = ["STATES", "record_scan", "record_scan_in", "set_state"]
