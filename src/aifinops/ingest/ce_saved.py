"""Cost Explorer answers as billing rows, for accounts scanned without billing files.

``collect`` stores each GetCostAndUsage answer (DAILY, grouped by SERVICE and USAGE_TYPE) as a
``cost-and-usage`` resource. This loader turns those answers into ``charges_native`` rows
(``source_format = 'cost-explorer'``) and rolls them up, so costs, checks that need billing only, and
the scan totals work from Cost Explorer alone. Billing files are complete and win: a billing period
that a CUR or FOCUS file already holds is never loaded from Cost Explorer, and ingesting files for a
period later replaces these rows (pipeline._supersede).

What Cost Explorer cannot say stays empty: resource ids, regions (usage types still carry their
prefix), tags, list cost (set equal to the billed cost), line item types (all 'Usage', except the
'Tax' service).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from aifinops import resource_types as rt
from aifinops.billing_names import CE_SERVICE_NAMES, EC2_COMPUTE, EC2_OTHER
from aifinops.store import CHARGE_COLUMN_NAMES

FORMAT = "cost-explorer"
_CODES = {name: code for code, name in CE_SERVICE_NAMES.items()} | {EC2_COMPUTE: "AmazonEC2", EC2_OTHER: "AmazonEC2"}


# The groupings a saved answer may have, and what each leaves out (said at ingest, see fidelity_note).
ACCEPTED_KEYS: tuple[list[str], ...] = ([], ["SERVICE"], ["SERVICE", "USAGE_TYPE"])
NEEDS_USAGE_TYPES = (
    "no usage types: the AI taxonomy beyond the service (SageMaker component, instance type, GPU EC2, "
    "Bedrock model and tokens) and every usage-type-based check cannot run"
)


def fidelity_note(keys: list[str], granularity: str) -> str | None:
    """What a saved answer of this shape cannot support, or None for the full DAILY SERVICE×USAGE_TYPE."""
    missing = []
    if keys == []:
        missing.append("no services: only the total, nothing is classified as AI")
    elif keys == ["SERVICE"]:
        missing.append(NEEDS_USAGE_TYPES)
    if granularity != "DAILY":
        missing.append("monthly totals only: daily trends, anomalies and forecasts need DAILY")
    return "; ".join(missing) or None


def _rows_of(account_id: str, answer: dict) -> list[dict]:
    request, response = answer.get("Request") or {}, answer.get("Response") or {}
    keys = [g.get("Key") for g in request.get("GroupBy") or response.get("GroupDefinitions") or []]
    if request.get("Granularity", "DAILY") not in ("DAILY", "MONTHLY") or keys not in ACCEPTED_KEYS:
        return []
    rows = []
    for period in response.get("ResultsByTime") or []:
        day = date.fromisoformat(period["TimePeriod"]["Start"])
        end = date.fromisoformat(period["TimePeriod"]["End"])
        groups = period.get("Groups") or []
        if not keys and period.get("Total"):
            groups = [{"Keys": [], "Metrics": period["Total"]}]
        for group in groups:
            service, usage_type = ([*(group.get("Keys") or []), None, None])[:2]
            metrics = group.get("Metrics") or {}

            def amount(name: str, metrics=metrics) -> float | None:
                value = (metrics.get(name) or {}).get("Amount")
                return float(value) if value not in (None, "") else None

            billed = amount("UnblendedCost") or 0.0
            marketplace = service is not None and service.endswith("(Amazon Bedrock Edition)")
            rows.append({
                "billing_period": day.replace(day=1),
                "charge_period_start": datetime(day.year, day.month, day.day),
                "charge_period_end": datetime(end.year, end.month, end.day),
                "billing_account_id": account_id,
                "sub_account_id": account_id,
                "service_code": "AmazonBedrockFoundationModels" if marketplace else _CODES.get(service, service),
                "service_name": service,
                "billing_entity": "AWS Marketplace" if marketplace else "AWS",
                "usage_type": usage_type if usage_type not in ("", "NoUsageType") else None,
                "line_item_type": "Tax" if service == "Tax" else "Usage",
                "charge_category": "Tax" if service == "Tax" else "Usage",
                "usage_quantity": amount("UsageQuantity"),
                "list_cost": billed,
                "billed_cost": billed,
                "effective_cost": amount("AmortizedCost") if amount("AmortizedCost") is not None else billed,
                "currency": (metrics.get("UnblendedCost") or {}).get("Unit") or "USD",
                "source_format": FORMAT,
                "source_file": f"cost-explorer:{account_id}",
            })
    return rows


def load_cost_explorer_file(con: duckdb.DuckDBPyConnection, path: Path) -> list[date]:
    """A saved GetCostAndUsage answer (``aws ce get-cost-and-usage … > ce.json``) as billing rows."""
    from aifinops.errors import InputError

    fix = ("save the answer of `aws ce get-cost-and-usage --granularity DAILY --metrics UnblendedCost AmortizedCost "
           "UsageQuantity --group-by Type=DIMENSION,Key=SERVICE Type=DIMENSION,Key=USAGE_TYPE` (all pages; "
           "MONTHLY and SERVICE alone are read too, with less detail).")
    try:
        loaded = json.loads(path.read_text(), parse_constant=_no_constant)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not a readable Cost Explorer JSON answer ({type(exc).__name__}).", fix) from exc
    pages = answers_in(loaded)
    if not pages:
        raise InputError(f"{path}: not a GetCostAndUsage answer (no ResultsByTime list).", fix)
    _check_shape(path, pages, fix)
    answer = {**pages[0], "ResultsByTime": [r for p in pages for r in p["ResultsByTime"]]}
    answer.pop("NextPageToken", None)
    periods = answer["ResultsByTime"]
    keys = [g.get("Key") for g in answer.get("GroupDefinitions") or []]
    if keys not in ACCEPTED_KEYS:
        raise InputError(f"{path}: a Cost Explorer answer grouped by {', '.join(map(str, keys))[:80]} cannot be "
                         "read as costs; it must be ungrouped, by SERVICE, or by SERVICE and USAGE_TYPE.", fix)
    spans = set()
    for period in periods:
        try:
            start = date.fromisoformat(period["TimePeriod"]["Start"])
            end = date.fromisoformat(period["TimePeriod"]["End"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: a ResultsByTime entry has no valid TimePeriod.", fix) from exc
        if (end - start).days == 1:
            spans.add("DAILY")
        elif end > start and (end - timedelta(days=1)).replace(day=1) == start.replace(day=1):
            spans.add("MONTHLY")  # a calendar month, or its part at either end of the request
        else:
            raise InputError(f"{path}: Cost Explorer periods must be days or months (found {start} to {end}).", fix)
    granularity = "MONTHLY" if "MONTHLY" in spans else "DAILY"
    source = f"ce-file:{path.resolve()}"
    con.execute("DELETE FROM resources WHERE source = ?", [source])
    con.execute(
        "INSERT INTO resources (account_id, region, resource_type, resource_id, name, attributes, collected_at, source)"
        " VALUES (NULL, 'us-east-1', ?, ?, ?, ?, now(), ?)",
        [rt.COST_AND_USAGE, source, path.name,
         json.dumps({"Request": {"Granularity": granularity}, "Response": answer}), source],
    )
    return load_cost_explorer(con)


def _no_constant(name: str) -> float:
    raise ValueError(f"the bare JSON constant {name}")


def _check_shape(path: Path, pages: list[dict], fix: str) -> None:
    """Every part of the answer _rows_of reads has the type GetCostAndUsage gives it, every Amount a finite
    number, every period a day or month between 2000 and a year from now."""
    import math

    from aifinops.errors import InputError
    from aifinops.ingest.validate import EARLIEST_PERIOD, FUTURE_PERIOD_DAYS, short

    latest = datetime.now(UTC).date() + timedelta(days=FUTURE_PERIOD_DAYS)
    for page in pages:
        groups_def = page.get("GroupDefinitions")
        if groups_def is not None and not (
                isinstance(groups_def, list) and all(isinstance(g, dict) for g in groups_def)):
            raise InputError(f"{path}: GroupDefinitions is not a list of objects.", fix)
        for period in page["ResultsByTime"]:
            if not isinstance(period, dict) or not isinstance(period.get("TimePeriod"), dict):
                raise InputError(f"{path}: a ResultsByTime entry has no valid TimePeriod.", fix)
            start = period["TimePeriod"].get("Start")
            if isinstance(start, str) and len(start) == 10 and start[:4].isdigit() and not (
                    EARLIEST_PERIOD.isoformat() <= start <= latest.isoformat()):
                raise InputError(f"{path}: a period starts on {short(start)}, outside {EARLIEST_PERIOD:%Y-%m} to "
                                 f"{latest:%Y-%m}.", fix)
            groups = period.get("Groups") or []
            total = period.get("Total") or {}
            if not isinstance(groups, list) or not isinstance(total, dict):
                raise InputError(f"{path}: a ResultsByTime entry's Groups or Total has the wrong type.", fix)
            for group in [*groups, {"Keys": [], "Metrics": total}]:
                keys = group.get("Keys") if isinstance(group, dict) else None
                metrics = group.get("Metrics") if isinstance(group, dict) else None
                if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)
                        and isinstance(metrics or {}, dict)):
                    raise InputError(f"{path}: a group is not {{'Keys': [text, …], 'Metrics': {{…}}}}.", fix)
                for name, metric in (metrics or {}).items():
                    if not isinstance(metric, dict):
                        raise InputError(f"{path}: metric {short(name)} is not {{'Amount': …, 'Unit': …}}.", fix)
                    amount = metric.get("Amount")
                    try:
                        ok = amount in (None, "") or math.isfinite(float(amount))
                    except (TypeError, ValueError):
                        ok = False
                    if not ok or isinstance(amount, bool):
                        raise InputError(f"{path}: metric {short(name)} has the Amount {short(amount)}, not a finite "
                                         "number.", fix)


def answers_in(loaded: Any, depth: int = 0) -> list[dict]:
    """The GetCostAndUsage answers a saved JSON holds, in document order: the answer itself, a list of its
    pages (NextPageToken followed), or answers kept inside a larger recording (e.g. ``{"calls": {"ce":
    [{"request": …, "response": {…}}]}}``), found up to six levels down."""
    if isinstance(loaded, dict) and isinstance(loaded.get("ResultsByTime"), list):
        return [loaded]
    if depth >= 6:
        return []
    children = loaded.values() if isinstance(loaded, dict) else loaded if isinstance(loaded, list) else []
    return [answer for child in children for answer in answers_in(child, depth + 1)]


def file_fidelity_note(path: Path) -> str | None:
    """What a saved answer leaves out (see fidelity_note); None when it is the full DAILY shape."""
    pages = answers_in(json.loads(path.read_text()))
    keys = [g.get("Key") for g in pages[0].get("GroupDefinitions") or []]
    spans = {
        (date.fromisoformat(r["TimePeriod"]["End"]) - date.fromisoformat(r["TimePeriod"]["Start"])).days == 1
        for page in pages for r in page["ResultsByTime"]
    }
    return fidelity_note(keys, "DAILY" if spans == {True} else "MONTHLY")


def is_cost_explorer_file(path: Path) -> bool:
    if not (path.is_file() and path.suffix.lower() == ".json"):
        return False
    with path.open("rb") as fh:
        return b'"ResultsByTime"' in fh.read(65536)


def load_cost_explorer(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Roll up the stored Cost Explorer answers into the periods no billing file holds; the periods loaded."""
    from aifinops.ingest.registry import ensure_charges_view
    from aifinops.rollup import rebuild_usage_daily

    answers = con.execute(
        "SELECT account_id, CAST(attributes AS VARCHAR) FROM resources WHERE resource_type = ?", [rt.COST_AND_USAGE]
    ).fetchall()
    rows = [r for account_id, text in answers for r in _rows_of(account_id, json.loads(text or "{}"))]
    from_files = {p for (p,) in con.execute(
        "SELECT DISTINCT billing_period FROM sources WHERE active AND format <> ?", [FORMAT]).fetchall()}
    rows = [r for r in rows if r["billing_period"] not in from_files]
    periods = sorted({r["billing_period"] for r in rows})
    if not periods:
        return []
    marks = ", ".join("?" for _ in periods)
    con.execute(f"DELETE FROM charges_native WHERE source_format = ? AND billing_period IN ({marks})",
                [FORMAT, *periods])
    con.execute(f"UPDATE sources SET active = FALSE WHERE format = ? AND billing_period IN ({marks})",
                [FORMAT, *periods])
    con.executemany(
        f"INSERT INTO charges_native ({', '.join(CHARGE_COLUMN_NAMES)}) "
        f"VALUES ({', '.join('?' for _ in CHARGE_COLUMN_NAMES)})",
        [[r.get(c) for c in CHARGE_COLUMN_NAMES] for r in rows],
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    for period in periods:
        part = [r for r in rows if r["billing_period"] == period]
        con.execute("INSERT INTO sources VALUES (?, ?, ?, 'native', ?, ?, ?, ?, TRUE, ?)",
                    [uuid.uuid4().hex[:12], "cost-explorer", FORMAT, ["cost-explorer"], period, len(part),
                     sum(r["billed_cost"] for r in part), now])
    ensure_charges_view(con)
    rebuild_usage_daily(con, periods)
    return periods
