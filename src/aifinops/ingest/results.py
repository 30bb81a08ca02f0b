"""What an ingest reports: the periods it loaded with their rows and billed cost (every engine gives these)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class PeriodTotal:
    billing_period: date
    rows: int
    billed_cost: float


@dataclass
class IngestResult:
    ingest_id: str
    files: list[str]
    formats: list[str]
    periods: list[PeriodTotal] = field(default_factory=list)
    replaced_demo: bool = False
    skipped: list[str] = field(default_factory=list)  # "file: why", files under the paths that hold no charges

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.periods)

    @property
    def billed_cost(self) -> float:
        return sum(p.billed_cost for p in self.periods)
