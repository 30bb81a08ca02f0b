"""How DuckDB adds floating-point amounts (money, quantities, metric values): one home for the choice.

DuckDB's parallel ``sum`` over DOUBLE adds rows in the order its threads deliver them, so two runs over the same
rows can differ in the last bits (two ingests of one 10M-row bill differed in 40k of 540k rollup rows; a check's
near tie between two resources then ordered by that last bit). ``fsum`` is a compensated sum: its result does not
follow that order, for about the same CPU. Exact sums (integers, DECIMAL) stay ``sum``.

A compensated sum still depends, in its last bit, on how the rows are split between threads (a table written in
other row groups): ``exact_sum`` adds each amount as a 10-decimal DECIMAL, exactly, where a total is rounded for an
answer or a finding and must not move with the storage layout.

In the base layer so that every layer that writes DuckDB SQL (the rollup and the store's summaries below, the checks
and costs above) names the same function.
"""

from __future__ import annotations

DUCKDB_SUM = "fsum"  # in SQL as f"{DUCKDB_SUM}(billed_cost)", where sum(billed_cost) was

DUCKDB_AVG = "favg"  # the mean, added the same way (avg over DOUBLE follows the threads' order as sum does)


def exact_sum(expression: str) -> str:
    """SQL for a sum that does not depend on the order rows are read in, nor on how they are split between threads:
    each amount as a 10-decimal DECIMAL, added exactly (128-bit). An aggregate (a FILTER clause may follow); its
    value is a ``Decimal`` (the caller takes ``float()`` of it, or casts it to DOUBLE in SQL)."""
    return f"sum(CAST({expression} AS DECIMAL(38, 10)))"
