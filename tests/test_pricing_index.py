"""The price catalog's indexed lookups answer what a row-by-row comparison (written here) answers."""

from __future__ import annotations

from datetime import date
from itertools import combinations

from aifinops.pricing.catalog import load_catalog


def _scan(catalog, service_code, region, as_of, **attrs):
    return [r for r in catalog.rows
            if r.service_code == service_code and r.region == region and r.valid_at(as_of)
            and all(r.attributes.get(k) == v for k, v in attrs.items())]


def test_select_equals_a_scan_for_every_attribute_subset_of_sampled_rows():
    catalog = load_catalog()
    rows = catalog.rows[:: max(1, len(catalog.rows) // 150)]
    asked = 0
    for row in rows:
        names = sorted(row.attributes)[:4]
        for size in range(len(names) + 1):
            for subset in combinations(names, size):
                attrs = {k: row.attributes[k] for k in subset}
                for as_of in (None, date(2024, 6, 1)):
                    got = catalog.select(row.service_code, row.region, as_of, **attrs)
                    assert got == _scan(catalog, row.service_code, row.region, as_of, **attrs)
                    asked += 1
    assert asked > 150


def test_absent_values_and_missing_attributes():
    catalog = load_catalog()
    row = catalog.rows[0]
    assert catalog.select(row.service_code, row.region, instanceType="no-such-type") == []
    # asking for None matches rows that lack the attribute, as a comparison of .get() does
    expected = _scan(catalog, row.service_code, row.region, None, noSuchAttribute=None)
    assert expected and catalog.select(row.service_code, row.region, noSuchAttribute=None) == expected
    assert catalog.select(row.service_code, row.region, instanceType=["unhashable"]) == []
