"""Cost Explorer filter Expressions (And/Or/Not/Dimensions/Tags) compiled to SQL over usage_daily.

Keys resolve through the fixed dimension table; values are always bound parameters. A common
wrong value (``Amazon S3`` for ``Amazon Simple Storage Service``) is replaced by the real one and
the replacement is noted, so the caller can tell the user what was asked and what was answered.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from aifinops.billing_names import CE_SERVICE_NAMES, EC2_COMPUTE, EC2_OTHER
from aifinops.costs.dimensions import (
    CE_ONLY_DIMENSIONS,
    DIMENSION_HINTS,
    DIMENSIONS,
    VALUE_ALIASES,
    Sql,
    cost_category_value,
    join,
    tag_value,
)
from aifinops.errors import ArgumentError, did_you_mean
from aifinops.store import from_smallest_table

_EXPRESSION_KEYS = ["And", "Or", "Not", "Dimensions", "Tags", "CostCategories"]
_COMPARISONS = {"EQUALS", "ABSENT", "STARTS_WITH", "ENDS_WITH", "CONTAINS"}
_CASES = {"CASE_SENSITIVE", "CASE_INSENSITIVE"}
_TAG_KEY_RE = re.compile(r"^[\w .:/=+\-@]{1,128}$")
_MAX_FILTER_DEPTH = 32
_VALUE_HINTS = {
    "USAGE_TYPE": " Usage types carry a region prefix and a detail ('USE1-Train:ml.g5.xlarge'): match part "
    "of one with MatchOptions CONTAINS, or filter WORKLOAD or COMPONENT.",
}


def dimension_sql(key: Any) -> tuple[str, Sql]:
    """The canonical dimension key and its SQL; a clear error for anything else."""
    text = str(key).upper()
    if text in DIMENSIONS:
        return text, DIMENSIONS[text]
    if text in CE_ONLY_DIMENSIONS:
        raise ArgumentError(
            f"Dimension {text} is not in the store's daily rollup.", f"use one of {', '.join(DIMENSIONS)}."
        )
    if text in DIMENSION_HINTS:
        hint = f" Did you mean {DIMENSION_HINTS[text]!r}?"
    else:
        hint = did_you_mean(text, DIMENSIONS)
    raise ArgumentError(f"Unknown dimension {key!r}.{hint}", f"use one of {', '.join(DIMENSIONS)}.")


def tag_key(key: Any, notes: list[str]) -> str:
    text = str(key)
    if not _TAG_KEY_RE.match(text):
        raise ArgumentError(
            f"Tag key {key!r} is not a valid AWS tag key.",
            "use letters, digits, spaces and _ . : / = + - @ (at most 128).",
        )
    if text.startswith("user:"):
        notes.append(
            f"Tag key {text!r} read as {text[5:]!r} (Cost Explorer names cost allocation "
            "tags without the 'user:' prefix)."
        )
        return text[5:]
    return text


class FilterCompiler:
    """Turns a CE filter Expression into a SQL condition with bound values."""

    def __init__(self, con: duckdb.DuckDBPyConnection, notes: list[str]):
        self.con = con
        self.notes = notes
        self._known: dict[str, set[str]] = {}

    def compile(self, expr: Any, depth: int = 0) -> Sql:
        if depth > _MAX_FILTER_DEPTH:
            raise ArgumentError("Filter is nested too deeply.", f"nest at most {_MAX_FILTER_DEPTH} levels.")
        if not isinstance(expr, dict) or len(expr) != 1:
            raise ArgumentError(
                f"Filter expression {expr!r} must hold exactly one of {', '.join(_EXPRESSION_KEYS)}.",
                'split it, e.g. {"And": [{"Dimensions": {...}}, {"Tags": {...}}]}.',
            )
        ((op, body),) = expr.items()
        if op in ("And", "Or"):
            if not isinstance(body, list) or not body:
                raise ArgumentError(
                    f"{op} needs a list of expressions.", f'write {{"{op}": [{{...}}, {{...}}]}}.'
                )
            return Sql("(") + join(f" {op.upper()} ", [self.compile(e, depth + 1) for e in body]) + Sql(")")
        if op == "Not":
            return Sql("(NOT ") + self.compile(body, depth + 1) + Sql(")")
        if op == "Dimensions":
            return self._dimension(body)
        if op == "Tags":
            return self._tag(body)
        if op == "CostCategories":
            return self._cost_category(body)
        raise ArgumentError(
            f"Unknown filter operator {op!r}.{did_you_mean(op, _EXPRESSION_KEYS)}",
            f"use one of {', '.join(_EXPRESSION_KEYS)}.",
        )

    def _dimension(self, body: Any) -> Sql:
        key, values, comparisons, insensitive = _leaf(body, "Dimensions")
        name, sql = dimension_sql(key)
        if "ABSENT" in comparisons:
            raise ArgumentError(
                "MatchOptions ABSENT applies to Tags, not Dimensions.", "drop ABSENT, or filter on a tag."
            )
        if comparisons == {"EQUALS"} and not insensitive:
            values = self._resolve(name, sql, values)
        return _match(sql, values, comparisons, insensitive)

    def _tag(self, body: Any) -> Sql:
        key, values, comparisons, insensitive = _leaf(body, "Tags")
        return _match(tag_value(tag_key(key, self.notes)), values, comparisons, insensitive)

    def _cost_category(self, body: Any) -> Sql:
        """A cost category as carried in the tags (dimensions.cost_category_value); '' outside every value, as
        for a tag, so ABSENT matches the rows in no value of it."""
        key, values, comparisons, insensitive = _leaf(body, "CostCategories")
        if not str(key).strip():
            raise ArgumentError("CostCategories filter has an empty Key.", 'name the category, e.g. "Key": "Team".')
        return _match(cost_category_value(str(key), missing=""), values, comparisons, insensitive)

    def _resolve(self, name: str, sql: Sql, values: list[str]) -> list[str]:
        """Swap common wrong values for real ones (noted); note values that match nothing."""
        known = self._known_values(name, sql)
        aliases = VALUE_ALIASES.get(name, {})
        out: list[str] = []
        for value in values:
            if value in known:
                out.append(value)
            elif value.lower() in aliases:
                real = aliases[value.lower()]
                out.extend(real)
                self.notes.append(
                    f"{name} {value!r} is not a Cost Explorer value; read as "
                    f"{' + '.join(repr(r) for r in real)}."
                )
            else:
                out.append(value)
                hint = did_you_mean(value, known) or _VALUE_HINTS.get(name, "")
                self.notes.append(f"No {name} value {value!r} in the store.{hint}")
        if name == "SERVICE" and "Amazon Bedrock" in out:
            marketplace = sorted(v for v in known if v.endswith("(Amazon Bedrock Edition)") and v not in out)
            if marketplace:
                self.notes.append(
                    "Models sold through AWS Marketplace are separate SERVICE values and "
                    f"are not in 'Amazon Bedrock': {', '.join(marketplace)}. Add them, "
                    "or filter AI_SERVICE = bedrock."
                )
        return out

    def _known_values(self, name: str, sql: Sql) -> set[str]:
        if name not in self._known:
            # Every value of the store is in its smallest summary that holds the column (the monthly one for
            # most): a fraction of the rollup's rows, read once per compiler.
            rows = from_smallest_table(
                lambda table: self.con.execute(f"SELECT DISTINCT {sql.text} FROM {table}", list(sql.params)).fetchall(),
                whole_months=True,
            )
            known = {str(r[0]) for r in rows}
            if name == "SERVICE":
                known |= set(CE_SERVICE_NAMES.values()) | {EC2_COMPUTE, EC2_OTHER, "Tax"}
            self._known[name] = known
        return self._known[name]


def _leaf(body: Any, kind: str) -> tuple[str, list[str], set[str], bool]:
    if not isinstance(body, dict) or "Key" not in body:
        raise ArgumentError(
            f"{kind} needs a Key.", f'write {{"{kind}": {{"Key": "...", "Values": ["..."]}}}}.'
        )
    values = body.get("Values") or []
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise ArgumentError(f"{kind} Values must be a list of strings.", 'write "Values": ["a", "b"].')
    given = body.get("MatchOptions") or ["EQUALS"]
    options = {str(o).upper() for o in ([given] if isinstance(given, str) else given)}
    unknown = options - _COMPARISONS - _CASES
    if unknown:
        raise ArgumentError(
            f"Unsupported MatchOptions {sorted(unknown)}.", f"use {', '.join(sorted(_COMPARISONS | _CASES))}."
        )
    comparisons = (options & _COMPARISONS) or {"EQUALS"}
    return body["Key"], list(values), comparisons, "CASE_INSENSITIVE" in options


def _match(value: Sql, values: list[str], comparisons: set[str], insensitive: bool) -> Sql:
    target = Sql("lower(") + value + Sql(")") if insensitive else value
    placeholder = "lower(?)" if insensitive else "?"
    tests: list[Sql] = []
    if "ABSENT" in comparisons:
        tests.append(value + Sql(" = ''"))
    for op, fn in (("STARTS_WITH", "starts_with"), ("ENDS_WITH", "ends_with"), ("CONTAINS", "contains")):
        if op in comparisons:
            tests.extend(Sql(f"{fn}(") + target + Sql(f", {placeholder})", (v,)) for v in values)
    if "EQUALS" in comparisons and values:
        tests.append(target + Sql(f" IN ({', '.join([placeholder] * len(values))})", tuple(values)))
    return Sql("(") + join(" OR ", tests) + Sql(")") if tests else Sql("FALSE")
