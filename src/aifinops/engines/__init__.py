"""Engines other than the local DuckDB that run the one heavy step, the usage_daily rollup."""
