"""The price catalog: a dated snapshot with a source per row, and the lookups every dollar figure goes through.

The bundled snapshot (``data/prices.csv``, built by ``seed.py``) is overlaid by a refreshed snapshot when
one exists (``$AIFINOPS_PRICES`` or ``<user data dir>/aifinops/prices.csv``, written by
``aifinops pricing refresh``). For one product the row valid at ``as_of`` with the latest
``effective_from`` wins, then the latest ``fetched_at``: 2024 bills are priced at 2024 rates.
A missing price raises ``PriceNotFound``; it is never a silent zero.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from aifinops.config import env_path, user_dir
from aifinops.errors import AifinopsError

DATA_DIR = Path(__file__).parent / "data"
PRICES_ENV = "AIFINOPS_PRICES"


class PriceNotFound(AifinopsError):
    """No price (or instance spec) in the catalog for what was asked."""

    def __init__(self, what: str, suggestions: list[str] | tuple[str, ...] = (), fix: str | None = None):
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions[:3])}?" if suggestions else "."
        super().__init__(
            f"no price for {what}{hint}",
            fix or "check the spelling, see what the snapshot holds with `aifinops pricing get --service CODE`, "
            "or rebuild it from AWS with `aifinops pricing refresh`.",
        )


@dataclass(frozen=True)
class Price:
    """One price with where it came from. ``basis`` is 'list' (catalog) or 'billing' (your own bills)."""

    usd_per_unit: float
    unit: str
    source: str
    fetched_at: date
    confidence: str  # A = AWS-authored or a real bill, B = public dataset / two sources, C = one secondary source
    basis: str = "list"
    description: str = ""
    usage_type: str = ""
    region: str = ""
    window: tuple[date, date] | None = None  # first and last day of the bills a 'billing' rate averages

    def describe(self) -> dict[str, Any]:
        """The price as evidence: value, unit, basis and where it came from (with its date)."""
        fetched = f" (fetched {self.fetched_at})" if self.basis == "list" else ""
        return {"usd_per_unit": self.usd_per_unit, "unit": self.unit, "basis": self.basis,
                "source": self.source + fetched, "confidence": self.confidence}


@dataclass(frozen=True)
class PriceRow:
    service_code: str
    region: str
    usage_type: str
    operation: str
    product_family: str
    attributes: dict = field(hash=False, compare=False)
    unit: str = ""
    usd_per_unit: float = 0.0
    source: str = ""
    confidence: str = "C"
    fetched_at: date = date.min
    effective_from: date | None = None
    effective_to: date | None = None
    description: str = ""

    def valid_at(self, as_of: date | None) -> bool:
        if as_of is None:
            return self.effective_to is None
        starts = self.effective_from is None or self.effective_from <= as_of
        return starts and (self.effective_to is None or as_of < self.effective_to)

    def to_price(self, *, usd_per_unit: float | None = None, unit: str | None = None, note: str = "") -> Price:
        desc = self.description + (f" ({note})" if note else "")
        return Price(self.usd_per_unit if usd_per_unit is None else usd_per_unit, unit or self.unit, self.source,
                     self.fetched_at, self.confidence, "list", desc, self.usage_type, self.region)


def _date(text: str) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def read_rows(path: Path) -> list[PriceRow]:
    with path.open(newline="") as fh:
        return [
            PriceRow(r["service_code"], r["region"], r["usage_type"], r.get("operation", ""),
                     r.get("product_family", ""), json.loads(r["attributes"] or "{}"), r["unit"],
                     float(r["usd_per_unit"]), r["source"], r.get("confidence") or "C",
                     _date(r["fetched_at"]) or date.min, _date(r.get("effective_from", "")),
                     _date(r.get("effective_to", "")), r.get("description", ""))
            for r in csv.DictReader(fh)
        ]


def overlay_path() -> Path:
    """Where ``pricing refresh`` writes by default and where the catalog looks for a refreshed snapshot."""
    return env_path(PRICES_ENV, user_dir("data") / "prices.csv")


class Catalog:
    """All price rows, indexed by (service code, region) and, per set of attribute names a caller asks by,
    by those attributes' values: a lookup is a dict access, not a scan of the region's rows."""

    def __init__(self, rows: list[PriceRow], paths: list[Path]):
        self.rows = rows
        self.paths = paths
        self._by_key: dict[tuple[str, str], list[PriceRow]] = {}
        for row in rows:
            self._by_key.setdefault((row.service_code, row.region), []).append(row)
        # (attribute names, sorted) -> (service code, region, their values) -> rows; built on first use
        self._by_attrs: dict[tuple[str, ...], dict[tuple[Any, ...], list[PriceRow]]] = {}

    def _matching(self, service_code: str, region: str, attrs: dict[str, Any]) -> list[PriceRow]:
        """Rows of (service code, region) whose attributes equal ``attrs`` (missing attribute = None)."""
        if not attrs:
            return self._by_key.get((service_code, region), [])
        names = tuple(sorted(attrs))
        try:
            wanted = (service_code, region, *(attrs[n] for n in names))
            hash(wanted)
        except TypeError:  # an unhashable value asked for: compare row by row
            return [r for r in self._by_key.get((service_code, region), [])
                    if all(r.attributes.get(k) == v for k, v in attrs.items())]
        index = self._by_attrs.get(names)
        if index is None:
            index = {}
            for row in self.rows:
                key = (row.service_code, row.region, *(row.attributes.get(n) for n in names))
                try:
                    index.setdefault(key, []).append(row)
                except TypeError:  # a row attribute that cannot be a key cannot equal a hashable value either
                    continue
            self._by_attrs[names] = index
        return index.get(wanted, [])

    def service_codes(self) -> list[str]:
        return sorted({r.service_code for r in self.rows})

    def regions(self, service_code: str) -> list[str]:
        return sorted({r.region for r in self.rows if r.service_code == service_code})

    def select(self, service_code: str, region: str, as_of: date | None = None, *, any_time: bool = False,
               **attrs) -> list[PriceRow]:
        """Rows valid at ``as_of`` (current ones when None; all with ``any_time``) whose attributes equal ``attrs``."""
        return [r for r in self._matching(service_code, region, attrs) if any_time or r.valid_at(as_of)]

    def best(self, service_code: str, region: str, as_of: date | None = None, **attrs) -> PriceRow | None:
        rows = self.select(service_code, region, as_of, **attrs)
        return max(rows, key=lambda r: (r.effective_from or date.min, r.fetched_at), default=None)

    def values(self, service_code: str, key: str, region: str | None = None, **attrs) -> list[str]:
        """Distinct values of attribute ``key`` (for did-you-mean and listings)."""
        found = {str(r.attributes[key]) for r in self.rows
                 if r.service_code == service_code and key in r.attributes and (region is None or r.region == region)
                 and all(r.attributes.get(k) == v for k, v in attrs.items())}
        return sorted(found)

    @property
    def snapshot_date(self) -> date:
        return max(r.fetched_at for r in self.rows)


def load_catalog() -> Catalog:
    """The bundled snapshot plus the refreshed overlay, if any (re-read when the overlay file changes)."""
    path = overlay_path()
    stamp = path.stat().st_mtime_ns if path.is_file() else 0
    return _load(str(path) if stamp else "", stamp)


@lru_cache(maxsize=4)
def _load(overlay: str, stamp: int) -> Catalog:
    paths = [DATA_DIR / "prices.csv"]
    rows = read_rows(paths[0])
    if overlay:
        paths.append(Path(overlay))
        rows += read_rows(Path(overlay))
    return Catalog(rows, paths)


def close_matches(value: str, choices: list[str], n: int = 3) -> list[str]:
    import difflib

    lowered = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(value.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[f] for f in found]


def normalize_key(text: str) -> str:
    """'Claude 3 Haiku', 'Claude3Haiku', 'claude-3-haiku' -> 'claude3haiku'."""
    return re.sub(r"[^a-z0-9]", "", text.lower())
