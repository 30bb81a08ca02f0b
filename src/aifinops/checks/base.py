"""The checks framework: a registry of waste checks, the context they read, and the runner.

A check is a class registered with ``@register`` that declares its contract (docs/design.md
"checks", STYLE.md habit 2): ``id``, ``title``, ``needs`` (which data it reads), ``Params`` (a
pydantic model that forbids unknown fields; every threshold has a default whose source is named
in its description), ``iam_permissions`` (what running it live implies) and a docstring with an
example. ``run(ctx, params)`` reads the store through a ``CheckContext`` and returns findings; it
never changes anything.

``run_checks`` runs every check whose data is present, records the skipped ones with the reason
and isolates a failing check so the others still report. ``deduplicate`` turns findings into the
gross and deduplicated savings totals of the scan contract.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

import duckdb
from pydantic import BaseModel, ValidationError

from aifinops.checks.params import CheckParams
from aifinops.config import HOURS_PER_MONTH
from aifinops.errors import ArgumentError, did_you_mean
from aifinops.model import Finding
from aifinops.pricing.rates import HOURS_UNIT_SQL  # noqa: F401 (re-exported: the checks' hours filter)
from aifinops.store import has_rows, inventory_rows, usage_span

DATA_KINDS = ("billing", "inventory", "metrics")
# Rows CheckContext.query fetches from DuckDB per round trip: DuckDB hands results over in chunks of 2,048 rows.
QUERY_BATCH_ROWS = 8192
T = TypeVar("T")
P = TypeVar("P", bound=BaseModel)

# Which table proves each kind of data is present, and what to do when it is not.
_DATA_TABLES = {"billing": "usage_daily", "inventory": "resources", "metrics": "metrics"}
_MISSING_DATA_FIX = {
    "billing": "run `aifinops ingest PATH` with a CUR 2.0, legacy CUR or FOCUS export",
    "inventory": "run `aifinops collect` or ingest a snapshot",
    "metrics": "run `aifinops collect` (CloudWatch metrics) or ingest a snapshot",
}

# Line item types that carry usage hours. Cost sums use every line item type (the invoice);
# hours from Tax/Credit/negation lines would double count or be meaningless.
USAGE_LINE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
USAGE_LINE_SQL = (
    "(line_item_type IS NULL OR line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage'))"
)


class NoParams(CheckParams):
    """The parameters of a check that takes none: an empty model that still forbids unknown fields."""


class Check(Generic[P]):
    """Base class of every check. Subclasses set the class attributes and implement ``run``.

    ``P`` is the check's parameter model: ``class IdleEndpoint(Check[IdleEndpointParams])`` with
    ``Params = IdleEndpointParams``, so ``run`` receives that model (``parse_params`` builds it).
    """

    id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    needs: ClassVar[frozenset[str]] = frozenset()
    iam_permissions: ClassVar[list[str]] = []
    iam_note: ClassVar[str] = ""
    savings_formula: ClassVar[str] = ""  # how monthly_savings_usd is computed, in words (docs/checks.md)
    # 1: reads the store. 2: also reads the findings of the phase-1 checks (``ctx.prior_findings()``), so
    # run_checks runs it after them, once, instead of the check running the registry again itself.
    phase: ClassVar[int] = 1

    Params: ClassVar[type[BaseModel]] = NoParams

    def run(self, ctx: CheckContext, params: P) -> list[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError


REGISTRY: dict[str, type[Check[Any]]] = {}
C = TypeVar("C", bound="type[Check[Any]]")


def register(cls: C) -> C:
    """Class decorator: add a check to the registry under its ``id``."""
    if not cls.id:
        raise TypeError(f"{cls.__name__} has no id")
    if cls.id in REGISTRY and REGISTRY[cls.id] is not cls:
        raise TypeError(
            f"check id {cls.id!r} is registered twice ({REGISTRY[cls.id].__name__}, {cls.__name__})"
        )
    unknown = set(cls.needs) - set(DATA_KINDS)
    if unknown:
        raise TypeError(f"{cls.__name__}.needs has unknown data kinds {sorted(unknown)}")
    REGISTRY[cls.id] = cls
    return cls


# --- context --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A look-back window of whole UTC days, both ends inclusive."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass
class CheckContext:
    """What a check may read: the store connection and the dates of the data in it.

    ``as_of`` is the last ``usage_date`` in ``usage_daily`` (today, UTC, when there is no billing
    data); ``period_start``/``period_end`` bound the billing data present (None without billing).
    """

    con: duckdb.DuckDBPyConnection
    as_of: date
    period_start: date | None
    period_end: date | None
    available: frozenset[str] = frozenset()
    _cache: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False, compare=False)
    # Set by run_checks for its phase-2 checks: computes (once) the findings of every phase-1 check.
    _prior: Callable[[], list[Finding]] | None = field(default=None, repr=False, compare=False)

    def prior_findings(self) -> list[Finding] | None:
        """For a phase-2 check: the findings of every phase-1 check, with the parameters this run gave them.

        Phase-1 checks the run was not asked for run too (their findings are not reported); None when the
        check runs outside run_checks.
        """
        return self._prior() if self._prior is not None else None

    @classmethod
    def from_connection(cls, con: duckdb.DuckDBPyConnection) -> CheckContext:
        available = frozenset(kind for kind, table in _DATA_TABLES.items() if has_rows(con, table))
        first, last = usage_span(con)
        as_of = last or datetime.now(UTC).date()
        return cls(con=con, as_of=as_of, period_start=first, period_end=last, available=available)

    def window(self, lookback_days: int) -> Window:
        """The last ``lookback_days`` days up to ``as_of``, clipped to the billing data present."""
        start = self.as_of - timedelta(days=lookback_days - 1)
        if self.period_start and self.period_start > start:
            start = self.period_start
        return Window(start=start, end=self.as_of)

    def cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()``'s result, computed once per context for ``key`` and reused after.

        For read-only aggregates several checks of one run read alike (the endpoint metrics and
        costs of a window): the store does not change while the checks run. Callers must not
        change what they get back.
        """
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def query(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Run SQL on the store and return the rows as dicts.

        Rows are fetched ``QUERY_BATCH_ROWS`` at a time and turned into dicts batch by batch: the fetched tuples
        of only one batch are alive at once beside the dicts, not all of them (a check reading one row per
        resource and day of a large account held both, twice the memory).
        """
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        rows: list[dict[str, Any]] = []
        while batch := cur.fetchmany(QUERY_BATCH_ROWS):
            rows.extend(dict(zip(names, row, strict=True)) for row in batch)
        return rows

    def usage(
        self,
        window: Window,
        where: str = "TRUE",
        params: list[Any] | tuple[Any, ...] = (),
        columns: str = "*",
    ) -> list[dict[str, Any]]:
        """``usage_daily`` rows inside ``window`` that match ``where`` (SQL with ``?`` parameters).

        Ordered by every selected column (``ORDER BY ALL``): two stores with the same rows give the same list in
        the same order, so sums and "first row" picks over it do not depend on how the rows were written.
        """
        sql = f"SELECT {columns} FROM usage_daily WHERE usage_date BETWEEN ? AND ? AND ({where}) ORDER BY ALL"
        return self.query(sql, [window.start, window.end, *params])

    def resources(self, resource_type: str | None = None) -> list[dict[str, Any]]:
        """Inventory rows (``attributes`` parsed from JSON), optionally of one resource type."""
        return inventory_rows(self.con, resource_type)

    def metrics(
        self, namespace: str, metric_name: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[dict[str, Any]]:
        """One metric's data points (``dimensions`` as a dict), ``[start, end)`` when given."""
        sql = "SELECT * FROM metrics WHERE namespace = ? AND metric_name = ?"
        params: list[Any] = [namespace, metric_name]
        if start:
            sql += " AND ts >= ?"
            params.append(start)
        if end:
            sql += " AND ts < ?"
            params.append(end)
        order = (
            " ORDER BY ts, account_id NULLS FIRST, region NULLS FIRST, CAST(dimensions AS VARCHAR), statistic, value"
        )
        return self.query(sql + order, params)


def table_has_rows(ctx: CheckContext, table: str) -> bool:
    """Whether the store has ``table`` and it holds a row: tables added by a later schema (metrics_coverage,
    bedrock_invocations) may be absent from a store another version wrote."""
    try:
        return has_rows(ctx.con, table)
    except duckdb.CatalogException:
        return False


def monthly_usd(cost_usd: float, days: int) -> float:
    """Scale a cost observed over ``days`` whole days to a 730-hour month."""
    return cost_usd * HOURS_PER_MONTH / (24.0 * days)


# --- running --------------------------------------------------------------------------------------


@dataclass
class SkippedCheck:
    check: str
    reason: str


@dataclass
class CheckError:
    check: str
    message: str


@dataclass
class CheckRun:
    """The outcome of ``run_checks``: findings (savings desc), what was skipped, what failed."""

    as_of: date
    period_start: date | None
    period_end: date | None
    available: list[str]
    ran: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: list[SkippedCheck] = field(default_factory=list)
    errors: list[CheckError] = field(default_factory=list)

    @property
    def savings(self) -> dict[str, Any]:
        return deduplicate(self.findings)


def get_check(check_id: str) -> type[Check[Any]]:
    """The registered check class for ``check_id``; ArgumentError with a suggestion otherwise."""
    try:
        return REGISTRY[check_id]
    except KeyError:
        raise ArgumentError(
            f"Unknown check {check_id!r}.{did_you_mean(check_id, REGISTRY)}",
            "run `aifinops checks list` to see the check ids.",
        ) from None


def parse_params(check_id: str, values: dict[str, Any] | None) -> BaseModel:
    """Validate ``values`` against a check's Params; unknown or bad values raise ArgumentError."""
    cls = get_check(check_id)
    if not values:  # the declared defaults (pydantic validates no default either): no validator to build
        return cls.Params.model_construct()
    try:
        return cls.Params(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(part) for part in err["loc"])
            if err["type"] == "extra_forbidden":
                hint = did_you_mean(name, cls.Params.model_fields)
                problems.append(f"unknown parameter {name!r}.{hint}")
            else:
                problems.append(f"{name}: {err['msg']}")
        raise ArgumentError(
            f"Bad parameters for check {check_id!r}: {'; '.join(problems)}",
            f"run `aifinops checks explain {check_id}` to see its parameters.",
        ) from None


def run_checks(
    con: duckdb.DuckDBPyConnection,
    only: list[str] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
) -> CheckRun:
    """Run the registered checks (or ``only`` those) whose data is present in the store.

    Arguments are validated before anything runs: an unknown check id or parameter raises
    ArgumentError. A check that raises is recorded in ``errors`` and the others still run.
    """
    ids = list(dict.fromkeys(only)) if only else sorted(REGISTRY)
    parsed = {
        check_id: parse_params(check_id, (params or {}).get(check_id)) for check_id in [*(params or {}), *ids]
    }

    ctx = CheckContext.from_connection(con)
    run = CheckRun(
        as_of=ctx.as_of,
        period_start=ctx.period_start,
        period_end=ctx.period_end,
        available=sorted(ctx.available),
    )
    first = [check_id for check_id in ids if REGISTRY[check_id].phase == 1]
    _run_phase(ctx, first, parsed, run)
    second = [check_id for check_id in ids if REGISTRY[check_id].phase != 1]
    if second:
        found = list(run.findings)

        def prior() -> list[Finding]:
            rest = [c for c in sorted(REGISTRY) if REGISTRY[c].phase == 1 and c not in first]
            unreported = CheckRun(as_of=run.as_of, period_start=None, period_end=None, available=[])
            _run_phase(ctx, rest, {c: parse_params(c, (params or {}).get(c)) for c in rest}, unreported)
            return found + unreported.findings

        ctx._prior = lambda: ctx.cached(("phase-1 findings",), prior)
        _run_phase(ctx, second, parsed, run)
    seen: dict[float, float] = {}
    run.findings = sorted((canonical(f, seen) for f in run.findings), key=finding_order)
    return run


# Significant digits every number of a finding carries. Sums of the same rows read in another order differ in
# the last bits (about 1e-15 relative); 10 digits keep far more than any price or meter has and make the same
# store give the same bytes, whatever order its rows were written in (STYLE: "money is rounded at the boundary").
FINDING_DIGITS = 10


_INF = float("inf")
_NUMBER_FORMAT = f".{FINDING_DIGITS}g"
# Types _canonical_value returns as they are (exact types: a subclass of float, int or str takes the general path).
_KEPT_TYPES = frozenset({str, int, bool, type(None)})


def canonical_number(value: float) -> float:
    """``value`` to ``FINDING_DIGITS`` significant digits (NaN and infinities as they are)."""
    return float(format(value, _NUMBER_FORMAT)) if value == value and value != _INF and value != -_INF else value


def _canonical_value(value: Any, seen: dict[float, float]) -> Any:
    """``value`` with its floats at FINDING_DIGITS, however deep; ``seen`` remembers the floats already rounded (a
    scan's findings repeat their parameters and shared figures: 31k evidence floats, a fraction of them distinct)."""
    kind = type(value)
    if kind in _KEPT_TYPES:  # most evidence values: the isinstance chain below for each cost 4k findings 0.05 s
        return value
    if kind is float:
        if not value:  # 0.0 and -0.0 (equal keys of ``seen``) stay as they are, as canonical_number leaves them
            return value
        rounded = seen.get(value)
        if rounded is None:
            rounded = seen[value] = canonical_number(value)
        return rounded
    if isinstance(value, float):
        return canonical_number(value)
    if kind is dict or isinstance(value, dict):
        return {k: v if type(v) in _KEPT_TYPES else _canonical_value(v, seen) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _KEPT_TYPES else _canonical_value(v, seen) for v in value]
    return value


def canonical(finding: Finding, seen: dict[float, float] | None = None) -> Finding:
    """The finding with its dollars and evidence numbers at ``FINDING_DIGITS`` significant digits, changed in place
    (run_checks owns the findings its checks returned; a copy of each cost 4k findings 0.02 s) and returned.
    ``seen``: floats already rounded, shared by the findings of one run."""
    seen = {} if seen is None else seen
    finding.monthly_cost_usd = canonical_number(finding.monthly_cost_usd)
    finding.monthly_savings_usd = canonical_number(finding.monthly_savings_usd)
    finding.evidence = _canonical_value(finding.evidence, seen)
    return finding


def finding_order(finding: Finding) -> tuple[float, float, str, str, str]:
    """The order of findings everywhere: savings descending, then cost descending, check id, resource id and
    finding id, so equal findings never swap places between two runs (``run_checks`` sorts findings after
    ``canonical``, whose numbers do not depend on row order)."""
    return (
        -finding.monthly_savings_usd,
        -finding.monthly_cost_usd,
        finding.check,
        finding.resource_id,
        finding.id,
    )


def _run_phase(ctx: CheckContext, ids: list[str], parsed: dict[str, BaseModel], run: CheckRun) -> None:
    for check_id in ids:
        cls = REGISTRY[check_id]
        missing = [kind for kind in DATA_KINDS if kind in cls.needs and kind not in ctx.available]
        if missing:
            reason = "; ".join(f"needs {kind}: {_MISSING_DATA_FIX[kind]}" for kind in missing)
            run.skipped.append(SkippedCheck(check_id, reason))
            continue
        try:
            findings = cls().run(ctx, parsed[check_id])
        except Exception as exc:  # one broken check must not hide the others' findings
            run.errors.append(CheckError(check_id, f"{type(exc).__name__}: {exc}"))
            continue
        run.ran.append(check_id)
        run.findings.extend(findings)


def deduplicate(findings: list[Finding]) -> dict[str, Any]:
    """Gross savings (the plain sum) and the deduplicated total.

    Several checks may price the same resource (stop it, rightsize it): those savings overlap,
    so a resource counts for at most its largest single saving and never more than its monthly
    cost. A resource nested under another one's id (``bedrock/acct/region/model/caller`` under
    ``bedrock/acct/region/model``) is a share of that resource's spend: the levers on the part and on
    the whole claim the same traffic (Flex for one steady caller, batch for the model's steady callers),
    so the whole counts for the larger of its own saving and its parts' sum, within its cost.
    """
    gross = sum(f.monthly_savings_usd for f in findings)
    best: dict[str, tuple[float, float]] = {}
    for f in findings:
        saving, cost = best.get(f.resource_id, (0.0, 0.0))
        best[f.resource_id] = (max(saving, f.monthly_savings_usd), max(cost, f.monthly_cost_usd))
    parent_of: dict[str, str] = {}
    for rid in best:  # the outermost other resource whose id is a path prefix of this one
        i = rid.find("/")
        while i >= 0 and rid[:i] not in best:
            i = rid.find("/", i + 1)
        if i >= 0:
            parent_of[rid] = rid[:i]
    parts: dict[str, float] = {}
    for rid, parent in parent_of.items():
        parts[parent] = parts.get(parent, 0.0) + min(*best[rid])
    total = sum(
        min(max(saving, parts.get(rid, 0.0)), cost)
        for rid, (saving, cost) in best.items()
        if rid not in parent_of
    )
    return {"gross_monthly_usd": gross, "total_monthly_usd": total, "resources": len(best)}


# --- describing -----------------------------------------------------------------------------------


def list_checks() -> list[dict[str, Any]]:
    """Every registered check: id, title and the data it needs, sorted by id."""
    return [{"id": c.id, "title": c.title, "needs": sorted(c.needs)} for _, c in sorted(REGISTRY.items())]


def explain_check(check_id: str) -> dict[str, Any]:
    """A check's full contract: parameters with defaults and descriptions, IAM, example."""
    cls = get_check(check_id)
    params = [
        {
            "name": name,
            "type": _type_name(f.annotation),
            "default": f.get_default(call_default_factory=True),
            "description": f.description or "",
        }
        for name, f in cls.Params.model_fields.items()
    ]
    doc = inspect.getdoc(cls) or ""
    summary, _, rest = doc.partition("\n\n")
    example = rest[rest.find("Example") :] if "Example" in rest else ""
    return {
        "id": cls.id,
        "title": cls.title,
        "needs": sorted(cls.needs),
        "description": summary,
        "params": params,
        "iam_permissions": list(cls.iam_permissions),
        "iam_note": cls.iam_note,
        "savings_formula": cls.savings_formula,
        "example": example,
        "doc": doc,
    }


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
