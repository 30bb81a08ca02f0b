"""The main job: ingest what is given (or the demo), run every check, build ``aifinops.scan/1``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aifinops import __version__
from aifinops.model import (
    BillingSource,
    CheckError,
    ChecksRun,
    DetachedSource,
    Period,
    Savings,
    ScanDocument,
    ScanSource,
    SkippedCheck,
    SourceKind,
    Totals,
)
from aifinops.money import cents
from aifinops.store import Store, detached_sources, has_rows
from aifinops.sums import exact_sum


@dataclass
class ScanInputs:
    cur: list[str] = field(default_factory=list)
    focus: list[str] = field(default_factory=list)
    only_checks: list[str] | None = None
    check_params: dict[str, dict] | None = None
    engine: str = "duckdb"  # where the rollup runs: duckdb | spark
    spark_master: str | None = None
    aws: Any = None  # aifinops.aws.collect.CollectOptions: read inventory, metrics and costs live
    record: bool = True  # keep the findings in the store's history (savings tracking)


def run_scan(store: Store, inputs: ScanInputs, progress=None) -> dict[str, Any]:
    """Ingest, roll up, run the checks, keep the findings in the history; return the scan document
    (aifinops.scan/1, as docs/design.md describes it).

    A scan of billing files (DuckDB engine, no live collection, every check, recorded) writes the store once:
    the ingest, the summary tables, the checks that read them and the scan's history land in one swap, or
    nothing does (Store.connect). Other scans ingest or collect first, then read the store and record apart."""
    from aifinops.ingest.pipeline import ingest_paths
    from aifinops.workspace import ensure_data

    given: list[str | Path] = [*inputs.cur, *inputs.focus]
    if given and inputs.engine == "duckdb" and inputs.aws is None and inputs.record and not inputs.only_checks:
        return _scan_in_one_write(store, inputs, given, progress)
    ingested = None
    collected = None
    if given:
        ingested = ingest_paths(store, given, progress=progress, engine=inputs.engine, spark_master=inputs.spark_master)
    if inputs.aws is not None:
        from aifinops.aws.collect import collect
        from aifinops.ingest.ce_saved import load_cost_explorer

        collected = collect(store, inputs.aws, progress=progress)  # replaces a demo account, never mixes
        with store.transaction() as con:
            load_cost_explorer(con)  # billing periods no file holds: costs from Cost Explorer
    is_demo = False if (given or collected) else ensure_data(store, progress, inputs.engine, inputs.spark_master)
    with store.connect(read_only=True) as con:
        document, owners, decided = _document(con, store, inputs, given, ingested, collected, is_demo)
    doc = document.to_json_dict()
    recorded = False
    if inputs.record and not inputs.only_checks:  # a scan of some checks only would read as findings gone
        from aifinops.errors import StoreError
        from aifinops.history import record_scan

        try:
            record_scan(store, doc, owners)  # savings tracking: a later bill shows what these became
            recorded = True
        except StoreError:
            pass  # a store this user cannot write: the scan still answers, it is not kept in the history
    return _grouped(store, document, doc, recorded, decided)


def _scan_in_one_write(store: Store, inputs: ScanInputs, given: list[str | Path], progress) -> dict[str, Any]:
    """run_scan of billing files in one write of the store: one copy, one summary rebuild, one swap."""
    from aifinops.history import record_scan_in
    from aifinops.ingest.files import expand_inputs
    from aifinops.ingest.pipeline import ingest_files
    from aifinops.store import freshen_summaries

    files = expand_inputs(given)  # a bad path fails before the store is copied, as ingest_paths does
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")  # the ingest as Store.transaction runs it
        try:
            ingested = ingest_files(con, files, progress=progress)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        # the checks run outside an explicit transaction (a query that fails, as from_smallest_table's probes do,
        # would abort it) and read the summary tables, rebuilt here once for the whole write
        freshen_summaries(con)
        document, owners, decided = _document(con, store, inputs, given, ingested, None, False)
        doc = document.to_json_dict()
        record_scan_in(con, doc, owners)  # savings tracking: a later bill shows what these became
    # after the swap: compact_findings reads the history this write recorded
    return _grouped(store, document, doc, True, decided)


def _grouped(store: Store, document: ScanDocument, doc: dict[str, Any], recorded: bool,
             decided: set[str]) -> dict[str, Any]:
    """The scan document with many findings of one kind grouped (finding_groups.compact_findings)."""
    from aifinops.finding_groups import compact_findings

    # the history keeps every finding in full; the document groups many of one kind (all members listed when
    # the history does not hold them)
    grouped = compact_findings(store, document.findings, members_in_history=recorded, decided=decided)
    if len(grouped) != len(document.findings):
        doc = document.model_copy(update={"findings": grouped}).to_json_dict()
    return doc


def _document(con: Any, store: Store, inputs: ScanInputs, given: list[str | Path], ingested: Any, collected: Any,
              is_demo: bool) -> tuple[ScanDocument, dict[str, str], set[str]]:
    """Run the checks on ``con`` and build the scan document; also the findings' owners and the decided ids."""
    from aifinops.checks import run_checks
    from aifinops.costs import ai_cost_summary, coverage, data_period
    from aifinops.store import demo_version

    has_billing = has_rows(con, "usage_daily")
    run = run_checks(con, only=inputs.only_checks, params=inputs.check_params)
    if has_billing:
        start, end = data_period(con)
        summary = ai_cost_summary(con, start, end)
        covered = coverage(con, start, end)
    else:  # live inventory and metrics only: no billing rows to total
        start = end = run.as_of
        covered = {"providers": [], "not_understood": [], "checks_scope": None}
        summary = {
            "ai_cost_usd": 0.0,
            "total_cost_usd": 0.0,
            "ai_share": None,
            "by_ai_service": {},
            "by_workload": {},
            "drivers": [],
        }
    version = demo_version(con)
    sources = con.execute(
        f"SELECT format, storage, count(*), sum(rows), {exact_sum('billed_cost')} FROM sources WHERE active"
        " GROUP BY ALL"
    ).fetchall()
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("resources", "metrics")}
    detached = detached_sources(con)
    from aifinops.actions import finding_states, resource_owners

    owners = resource_owners(con, [f.resource_id for f in run.findings])
    decided = set(finding_states(con))  # the user's decisions: recording the scan leaves them as they are
    savings = run.savings
    kind: SourceKind = "demo" if is_demo else "billing-files" if given else "aws" if collected else "store"
    document = ScanDocument(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=ScanSource(
            kind=kind,
            demo_version=version,
            store=str(store.path),
            inputs=[str(Path(p)) for p in given],
            ingested_files=ingested.files if ingested else [],
            skipped_files=list(ingested.skipped) if ingested else [],  # under the inputs, holding no charges
            # periods read in place whose files moved since: totals hold (the rollup), line-item detail is gone
            detached_sources=[DetachedSource.model_validate(d) for d in detached],
            billing_sources=[
                BillingSource(format=f, storage=s, periods=n, rows=r, billed_cost_usd=cents(float(c or 0.0)))
                for f, s, n, r, c in sources
            ],
            inventory_resources=counts["resources"],
            metric_datapoints=counts["metrics"],
            as_of=run.as_of.isoformat() if run.as_of else None,
            billing=has_billing,
            # every provider's rows are in the totals; what the checks cannot read is listed with its dollars
            providers=covered["providers"],
            not_understood=covered["not_understood"],
            aws=collected.to_dict() if collected else None,
            aifinops_version=__version__,
        ),
        period=Period(start=start.isoformat(), end=end.isoformat()),
        totals=Totals(
            ai_cost_usd=summary["ai_cost_usd"],
            total_cost_usd=summary["total_cost_usd"],
            ai_share=summary["ai_share"],
            by_service=summary["by_ai_service"],
            by_workload=summary["by_workload"],
            cost_drivers=summary["drivers"],
        ),
        findings=run.findings,
        checks=ChecksRun(
            ran=run.ran,
            skipped=[SkippedCheck(check=s.check, reason=s.reason) for s in run.skipped],
            errors=[CheckError(check=e.check, error=e.message) for e in run.errors],
            scope=covered["checks_scope"],
        ),
        savings=Savings(
            gross_monthly_usd=savings["gross_monthly_usd"],
            total_monthly_usd=savings["total_monthly_usd"],
        ),
    )
    return document, owners, decided
