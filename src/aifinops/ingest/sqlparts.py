"""Small SQL builders shared by the per-format loaders (column present → expression, else NULL)."""

from __future__ import annotations

import re

from aifinops.taxonomy import COST_CATEGORY_TAG_PREFIX, PRINCIPAL_TAG, PRINCIPAL_TAG_PREFIX, canonical_tag_key


def qident(name: str) -> str:
    """Quote an identifier taken from a file header (never from user arguments)."""
    return '"' + name.replace('"', '""') + '"'


NUMERIC_TYPES = {"DOUBLE", "FLOAT", "REAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT",
                 "UINTEGER", "USMALLINT", "UTINYINT"}


# The column of a relation grouped on the raw columns (ingest.pipeline) that holds how many line items each of
# its rows stands for; charge_select passes it through after the charge columns, for the rollup to sum.
COUNTED_COLUMN = "aifinops_line_items"


class Columns:
    """The columns a source relation has, with helpers that degrade to NULL when one is absent."""

    def __init__(self, names: list[str], types: dict[str, str] | None = None):
        self.names = list(names)
        self.types = types or {}
        self._lower = {n.lower(): n for n in names}

    def has(self, name: str) -> bool:
        return name.lower() in self._lower

    def ref(self, name: str) -> str | None:
        real = self._lower.get(name.lower())
        return qident(real) if real else None

    def text(self, name: str) -> str:
        ref = self.ref(name)
        if not ref:
            return "CAST(NULL AS VARCHAR)"
        if self._type(name) == "VARCHAR":
            return f"NULLIF({ref}, '')"
        return f"NULLIF(CAST({ref} AS VARCHAR), '')"

    def _type(self, name: str) -> str:
        return self.types.get(self._lower[name.lower()], "").upper()

    def number(self, name: str) -> str:
        ref = self.ref(name)
        if not ref:
            return "CAST(NULL AS DOUBLE)"
        if self._type(name) in NUMERIC_TYPES or self._type(name).startswith("DECIMAL"):
            return f"CAST({ref} AS DOUBLE)"  # typed Parquet: no round trip through text
        return f"CAST(NULLIF(CAST({ref} AS VARCHAR), '') AS DOUBLE)"

    def money(self, name: str) -> str:
        """A cost column; absent or empty counts as 0 so sums stay exact."""
        return f"COALESCE({self.number(name)}, 0.0)"

    def timestamp(self, name: str) -> str:
        ref = self.ref(name)
        if not ref:
            return "CAST(NULL AS TIMESTAMP)"
        if self.types.get(self._lower[name.lower()], "").upper().startswith("TIMESTAMP"):
            return f"CAST({ref} AS TIMESTAMP)"
        return f"CAST(NULLIF(CAST({ref} AS VARCHAR), '') AS TIMESTAMP)"

    def string_map(self, name: str) -> str | None:
        """A map<string,string> column: Parquet MAP as is; CSV JSON text parsed."""
        ref = self.ref(name)
        if not ref:
            return None
        if self.types.get(self._lower[name.lower()], "").upper().startswith("MAP"):
            return ref
        return f"TRY_CAST(json(NULLIF(CAST({ref} AS VARCHAR), '')) AS MAP(VARCHAR, VARCHAR))"


def canonical_tags_sql(map_expr: str | None) -> str:
    """The row's tag map as delivered; the rollup canonicalises keys once per distinct tag set."""
    if map_expr is None:
        return "CAST(MAP() AS MAP(VARCHAR, VARCHAR))"
    return f"COALESCE({map_expr}, CAST(MAP() AS MAP(VARCHAR, VARCHAR)))"


def charge_select(
    c: Columns, fields: list[str], source_format: str, relation: str, where: str | None = None,
    provider: str = "'AWS'", cost_categories: str | None = None,
) -> str:
    """SELECT ``fields`` + source_format + filename + provider AS the store's charge columns
    (store.CHARGE_COLUMNS order). ``provider`` is an SQL expression: 'AWS' for AWS's own exports.
    ``cost_categories``: a MAP(category name → value) expression, carried in the tags (with_cost_categories)."""
    from aifinops.store import CHARGE_COLUMN_NAMES

    filename = "filename" if c.has("filename") else "CAST(NULL AS VARCHAR)"
    fields = with_caller_identity(c, fields, CHARGE_COLUMN_NAMES.index("tags"))
    fields = with_cost_categories(fields, CHARGE_COLUMN_NAMES.index("tags"), cost_categories)
    exprs = [*fields, f"'{source_format}'", filename, provider]
    select = ",\n  ".join(f"{expr} AS {name}" for expr, name in zip(exprs, CHARGE_COLUMN_NAMES, strict=True))
    if c.has(COUNTED_COLUMN):  # a relation grouped on the raw columns: its rows' line-item counts pass through
        select += f",\n  {c.ref(COUNTED_COLUMN)} AS {COUNTED_COLUMN}"
    return f"SELECT\n  {select}\nFROM {relation}" + (f"\nWHERE {where}" if where else "")


def with_caller_identity(c: Columns, fields: list[str], tags_at: int) -> list[str]:
    """``fields`` with the CUR 2.0 caller identity added to the tag map (taxonomy.PRINCIPAL_TAG), and the
    ``iamPrincipal/…`` entries of CUR 2.0's prefixed ``tags`` column when the export has one; unchanged for a
    source without ``line_item_iam_principal``."""
    if not c.has("line_item_iam_principal"):
        return fields
    empty = "CAST(MAP() AS MAP(VARCHAR, VARCHAR))"
    principal = c.text("line_item_iam_principal")
    caller = f"MAP(['{PRINCIPAL_TAG}'], [{principal}])"
    parts = [fields[tags_at], f"CASE WHEN {principal} IS NULL THEN {empty} ELSE {caller} END"]
    # Building a map costs microseconds a row (seconds at 10M rows): rows with no caller identity keep their
    # tag map as it is, and only the others pay for the merge.
    plain = f"{principal} IS NULL"
    prefixed = c.string_map("tags")
    if prefixed is not None:
        parts.append(
            f"COALESCE(map_from_entries(list_filter(map_entries({prefixed}), "
            f"lambda e: starts_with(e.key, '{PRINCIPAL_TAG_PREFIX}') AND COALESCE(e.value, '') <> '')), {empty})"
        )
        # array_length transpiles to Spark's SIZE and Trino's CARDINALITY (engines/sql.py)
        plain += (f" AND COALESCE(array_length(list_filter(map_keys({prefixed}), "
                  f"lambda k: starts_with(k, '{PRINCIPAL_TAG_PREFIX}'))), 0) = 0")
    out = list(fields)
    out[tags_at] = f"CASE WHEN {plain} THEN {fields[tags_at]} ELSE map_concat({', '.join(parts)}) END"
    return out


def with_cost_categories(fields: list[str], tags_at: int, categories: str | None) -> list[str]:
    """``fields`` with each AWS Cost Category of the row (``categories``: a MAP of category name → value) added
    to the tag map as ``aws:costCategory/<Name>`` (taxonomy.COST_CATEGORY_TAG_PREFIX, a reserved key no user
    tag can take); unchanged without a category source. Rows in no category keep their tag map as it is: only
    the others pay for the map merge."""
    if categories is None:
        return fields
    kept = f"list_filter(map_entries({categories}), lambda e: COALESCE(e.value, '') <> '')"
    prefix = COST_CATEGORY_TAG_PREFIX.replace("'", "''")
    entries = f"list_transform({kept}, lambda e: struct_pack(key := '{prefix}' || e.key, value := e.value))"
    out = list(fields)
    # the IS NULL test first: Spark's SIZE(NULL) is -1, not NULL
    out[tags_at] = (f"CASE WHEN {categories} IS NULL OR COALESCE(array_length({kept}), 0) = 0 THEN {fields[tags_at]} "
                    f"ELSE map_concat({fields[tags_at]}, map_from_entries({entries})) END")
    return out


def tags_map_sql(c: Columns, prefix: str) -> str | None:
    """A MAP of the one-column-per-tag columns (legacy CUR ``resourceTags/…``, Athena ``resource_tags_…``),
    keyed without ``prefix`` ('user:team').

    Columns whose keys canonicalise alike ('user:Team', 'user:team') become one entry, the first
    non-empty value winning, so that canonical_tags_sql never sees a duplicate key. DuckDB's CSV
    reader, whose names are case-insensitive, has already renamed the second of those to
    'resourceTags/user:team_1'; such a suffix is dropped when the name without it is also a column.
    """
    lower = {n.lower() for n in c.names}
    groups: dict[str, list[str]] = {}
    for name in c.names:
        if name.startswith(prefix) and len(name) > len(prefix):
            base = re.sub(r"_\d+$", "", name)
            key = base if base != name and base.lower() in lower else name
            groups.setdefault(canonical_tag_key(key[len(prefix):]), []).append(name)
    if not groups:
        return None
    keys, values = [], []
    for names in groups.values():
        keys.append("'" + names[0][len(prefix):].replace("'", "''") + "'")
        texts = [c.text(n) for n in names]
        values.append(texts[0] if len(texts) == 1 else f"COALESCE({', '.join(texts)})")
    return f"MAP([{', '.join(keys)}], [{', '.join(values)}])"
