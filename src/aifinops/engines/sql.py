"""The rollup as one SQL statement for any engine: written once (DuckDB dialect), transpiled by sqlglot.

``rollup_statement`` composes the per-format normalizing SELECT (ingest/<format>.normalize_select) and
the ``usage_daily`` rollup (rollup.rollup_sql) into one statement over a relation of raw billing
rows; ``to_dialect`` turns it into Spark SQL or Trino/Athena SQL. Nothing here is a hand-kept copy:
where sqlglot's output for a target needs help, a small AST rewrite below says why.
"""

from __future__ import annotations

import logging
from datetime import date

import sqlglot
from sqlglot import exp

from aifinops.errors import ArgumentError
from aifinops.ingest.sqlparts import Columns

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its hints on MAP() literals are not for users

DIALECTS = {"duckdb": "duckdb", "spark": "spark", "athena": "trino", "trino": "trino"}

# The FOCUS columns focus.normalize_select reads, with the types AWS's FOCUS Parquet export uses.
FOCUS_TYPES = {
    **{c: "DOUBLE" for c in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity",
                             "PricingQuantity")},
    **{c: "TIMESTAMP" for c in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")},
    "Tags": "MAP(VARCHAR, VARCHAR)",
    **{c: "VARCHAR" for c in (
        "BillingAccountId", "SubAccountId", "RegionId", "AvailabilityZone", "ServiceName", "ServiceCategory",
        "ProviderName", "PublisherName", "InvoiceIssuerName", "x_ServiceCode", "x_UsageType", "SkuMeter",
        "x_Operation", "ResourceId",
        "ChargeCategory", "ChargeFrequency", "PricingCategory", "CommitmentDiscountId", "CommitmentDiscountType",
        "CommitmentDiscountStatus", "ConsumedUnit", "PricingUnit", "BillingCurrency", "ChargeDescription")},
}


def standard_columns(fmt: str) -> Columns:
    """The columns of a standard export table of ``fmt`` ('cur2' | 'focus'), e.g. in Athena."""
    if fmt == "cur2":
        from aifinops.ingest.cur2_columns import CUR2_SCHEMA

        return arrow_columns(CUR2_SCHEMA)
    if fmt == "focus":
        return Columns(list(FOCUS_TYPES), dict(FOCUS_TYPES))
    raise ArgumentError(f"No standard table layout for the format {fmt!r}.", "use --format cur2 or --format focus.")


def arrow_columns(schema) -> Columns:
    """Columns (with DuckDB type names, as the loaders expect) of a pyarrow schema."""
    import pyarrow as pa

    def name(t: pa.DataType) -> str:
        if pa.types.is_map(t):
            return f"MAP({name(t.key_type)}, {name(t.item_type)})"
        if pa.types.is_timestamp(t):
            return "TIMESTAMP"
        if pa.types.is_floating(t):
            return "DOUBLE"
        if pa.types.is_integer(t):
            return "BIGINT"
        if pa.types.is_decimal(t):
            return f"DECIMAL({t.precision},{t.scale})"
        if pa.types.is_date(t):
            return "DATE"
        return "VARCHAR" if pa.types.is_string(t) or pa.types.is_large_string(t) else str(t).upper()

    return Columns(schema.names, {f.name: name(f.type) for f in schema})


def rollup_statement(fmt: str, columns: Columns, relation: str, periods: list[date] | None = None) -> str:
    """The usage_daily rows of the raw billing rows in ``relation`` (DuckDB dialect): normalize, then roll up."""
    from aifinops.rollup import rollup_sql

    return rollup_sql(*_normalized(fmt, columns, relation, periods))


def grouped_statement(fmt: str, columns: Columns, relation: str, periods: list[date] | None = None) -> str:
    """The rollup's grouped rows (rollup.grouped_sql) of the raw billing rows in ``relation``: the one
    statement that reads line items; rollup.classify_grouped turns its rows into usage_daily rows."""
    from aifinops.rollup import grouped_sql

    return grouped_sql(*_normalized(fmt, columns, relation, periods))


def _normalized(fmt: str, columns: Columns, relation: str, periods: list[date] | None) -> tuple[str, str]:
    """The normalized charges of ``relation`` as a FROM item, and the WHERE limiting them to ``periods``."""
    from aifinops.ingest.registry import formats

    try:
        module = formats()[fmt]
    except KeyError:
        raise ArgumentError(f"Unknown billing format {fmt!r}.", f"use one of: {', '.join(formats())}.") from None
    where = ""
    if periods:
        where = "billing_period IN (" + ", ".join(f"DATE '{p.isoformat()}'" for p in periods) + ")"
    return f"({module.normalize_select(columns, relation)}) AS charges", where


def to_dialect(sql: str, dialect: str, pretty: bool = False) -> str:
    """``sql`` (DuckDB dialect) in ``dialect``: 'duckdb' | 'spark' | 'athena' | 'trino'."""
    target = DIALECTS.get(dialect)
    if target is None:
        raise ArgumentError(f"Unknown SQL dialect {dialect!r}.", f"use one of: {', '.join(DIALECTS)}.")
    tree = sqlglot.parse_one(sql, read="duckdb")
    if target != "duckdb":
        tree = tree.transform(_list_bool_or).transform(_one_scan_union)
    if target == "trino":
        for fix in TRINO_FIXES:
            tree = tree.transform(fix)
    return tree.sql(dialect=target, pretty=pretty)


def _list_bool_or(node: exp.Expr) -> exp.Expr:
    """DuckDB's list_bool_or(l) (any element true), which sqlglot passes through unchanged, as
    array_contains(l, TRUE): Spark's ARRAY_CONTAINS, Trino's CONTAINS."""
    if isinstance(node, exp.Anonymous) and node.name.upper() == "LIST_BOOL_OR" and len(node.expressions) == 1:
        return exp.ArrayContains(this=node.expressions[0], expression=exp.true())
    return node


def _one_scan_union(node: exp.Expr) -> exp.Expr:
    """``SELECT a… FROM r WHERE x = v UNION ALL SELECT b… FROM r WHERE x IS DISTINCT FROM v`` as one SELECT
    of ``CASE WHEN x = v THEN a ELSE b END``…: the same rows, one read of ``r``. The CUR 2.0 loader splits its
    rows so (Marketplace rows alone decode the product map), which DuckDB reads in one scan with the filter
    pushed down, but Spark and Trino/Athena scan (and Athena bills) the files once per branch."""
    if not (isinstance(node, exp.Union) and not node.args.get("distinct")):
        return node
    left, right = node.this, node.expression
    if not (isinstance(left, exp.Select) and isinstance(right, exp.Select)):
        return node
    if any({k for k, v in side.args.items() if v} - _PLAIN for side in (left, right)):
        return node  # a join, GROUP BY, LIMIT, DISTINCT…: not a plain filter of one relation
    lw, rw = left.args.get("where"), right.args.get("where")
    if not (lw and rw and isinstance(lw.this, exp.EQ) and isinstance(rw.this, exp.NullSafeNEQ)):
        return node
    if lw.this.this != rw.this.this or lw.this.expression != rw.this.expression:
        return node
    if left.args.get("from_") != right.args.get("from_") or len(left.expressions) != len(right.expressions):
        return node
    merged = []
    for a, b in zip(left.expressions, right.expressions, strict=True):
        if a.alias_or_name != b.alias_or_name:
            return node
        if a == b:
            merged.append(a.copy())
        else:
            chosen = exp.Case(ifs=[exp.If(this=lw.this.copy(), true=a.unalias().copy())], default=b.unalias().copy())
            merged.append(exp.alias_(chosen, a.alias_or_name))
    return exp.Select(expressions=merged, from_=left.args["from_"].copy())


_PLAIN = {"expressions", "from_", "where"}


def _trino_regexp_replace(node: exp.Expr) -> exp.Expr:
    """Trino's regexp_replace replaces every match and takes no 'g' flag."""
    if isinstance(node, exp.RegexpReplace) and node.args.get("modifiers"):
        node.set("modifiers", None)
        node.set("single_replace", None)
    return node


def _trino_map_get(node: exp.Expr) -> exp.Expr:
    """m['k'] fails in Trino when the key is absent; element_at returns NULL as DuckDB and Spark do."""
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and node.expressions[0].is_string:
        return exp.func("ELEMENT_AT", node.this, node.expressions[0])
    return node


def _trino_named_row(node: exp.Expr) -> exp.Expr:
    """struct_pack(key := …) becomes ROW(…) without field names, which e.key cannot read: cast it to
    a named ROW type (every struct in the rollup holds text)."""
    if isinstance(node, exp.Struct) and node.expressions and all(
        isinstance(e, exp.PropertyEQ) for e in node.expressions
    ):
        names = [e.this.name for e in node.expressions]
        row_type = exp.DataType.build("ROW(" + ", ".join(f"{n} VARCHAR" for n in names) + ")", dialect="trino")
        return exp.cast(exp.func("ROW", *[e.expression for e in node.expressions]), row_type)
    return node


def _trino_to_json(node: exp.Expr) -> exp.Expr:
    """Trino has no to_json: json_format(CAST(x AS JSON))."""
    if isinstance(node, exp.JSONFormat) or (isinstance(node, exp.Anonymous) and node.name.upper() == "TO_JSON"):
        inner = node.this if isinstance(node, exp.JSONFormat) else node.expressions[0]
        return exp.func("JSON_FORMAT", exp.cast(inner, exp.DataType.build("JSON")))
    return node


# Applied in this order, each over the whole tree (a replaced node's children are not revisited).
# A fix takes and returns any node: sqlglot 30 calls the base of every node ``Expr`` (``Expression`` is
# a subclass that exp.func's ``Func`` is not); annotations are not evaluated, so older sqlglot runs alike.
TRINO_FIXES = [_trino_regexp_replace, _trino_map_get, _trino_named_row, _trino_to_json]
