"""A store's rollup, built from rows grouped before normalising (ingest's one read of a Parquet file), against the
rollup of every line item of the same files: the same rows, money equal to a billionth (the sums are added in
another order)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifinops.ingest import pipeline
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import USAGE_DAILY_COLUMN_NAMES, Store

MEASURES = {"usage_quantity", "list_cost", "billed_cost", "effective_cost"}


def assert_equals_per_item_rollup(grouped: Store, paths: list[Path], per_item_path: Path,
                                  monkeypatch: pytest.MonkeyPatch, at_least: int) -> None:
    """``grouped``'s usage_daily equals, row for row, the rollup a store at ``per_item_path`` gets when ``paths``
    are ingested one normalised row per line item; both hold more than ``at_least`` rows."""
    monkeypatch.setattr(pipeline, "_raw_grouped_source", lambda batches: None)  # the per-line-item rollup
    per_item = Store(per_item_path)
    ingest_paths(per_item, paths)
    names = ", ".join(USAGE_DAILY_COLUMN_NAMES)
    rows = {}
    for label, store in (("grouped", grouped), ("per-item", per_item)):
        with store.connect(read_only=True) as con:
            rows[label] = con.execute(f"SELECT {names} FROM usage_daily ORDER BY ALL").fetchall()
    assert len(rows["grouped"]) == len(rows["per-item"]) > at_least
    for a, b in zip(rows["grouped"], rows["per-item"], strict=True):
        for name, x, y in zip(USAGE_DAILY_COLUMN_NAMES, a, b, strict=True):
            if name in MEASURES and x is not None and y is not None:
                assert x == pytest.approx(y, rel=1e-9, abs=1e-9), (name, a)
            else:
                assert x == y, (name, a, b)
