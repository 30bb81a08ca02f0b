"""Two answers (nested dicts and lists) compared value by value, numbers within a tolerance."""

from __future__ import annotations

import math
from typing import Any


def assert_close(got: Any, want: Any, abs_tol: float, rel_tol: float = 1e-9, numbers_in_text: bool = False,
                 where: str = "") -> None:
    """Equal structure and values; numbers (and, with ``numbers_in_text``, strings holding one, as Cost Explorer
    writes amounts) within ``abs_tol`` or ``rel_tol``."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), where
        for key in want:
            assert_close(got[key], want[key], abs_tol, rel_tol, numbers_in_text, f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(g, w, abs_tol, rel_tol, numbers_in_text, f"{where}[{i}]")
    elif (a := _number(got, numbers_in_text)) is not None and (b := _number(want, numbers_in_text)) is not None:
        assert math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol), (where, got, want)
    else:
        assert got == want, (where, got, want)


def _number(value: Any, numbers_in_text: bool) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if numbers_in_text and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
