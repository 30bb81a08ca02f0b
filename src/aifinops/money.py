"""The one money format, for every text a person reads (CLI, reports, alerts, forecasts).

``usd`` gives ``$1,234.56`` and ``-$120.00`` (never ``$-120.00``, ``1e+06`` or "1,234.56 USD");
``usd_rate`` keeps the digits of a small unit price (``$0.00002``); ``number`` writes quantities with
thousands separators. Pure functions in the base layer, so analysis (monitor) and outputs share them.
"""

from __future__ import annotations

from decimal import Decimal


def usd(value: float | None) -> str:
    """Dollars and cents: '$1,234.56', '-$120.00', '—' for none."""
    if value is None:
        return "—"
    text = f"{abs(value):,.2f}"
    return f"-${text}" if value < 0 and text != "0.00" else f"${text}"


def usd_rate(value: float | None) -> str:
    """A unit price with the digits it needs: '$32.7726', '$0.00002' (never '$2e-05')."""
    if value is None:
        return "—"
    if abs(value) >= 1 or value == 0:
        if round(value, 2) == round(value, 4):
            return usd(value)
        return f"{'-' if value < 0 else ''}${abs(value):,.4f}".rstrip("0")
    text = f"{abs(value):.10f}".rstrip("0")
    digits = len(text.split(".")[1]) if "." in text else 0
    text = f"{abs(value):.{max(2, min(digits, 10))}f}"
    return f"{'-' if value < 0 else ''}${text}"


def number(value: float | int | None, decimals: int = 0) -> str:
    """A quantity with thousands separators: '1,000,000', '862,500.5' (never '1e+06')."""
    if value is None:
        return "—"
    if decimals == 0 and float(value) != round(float(value)):
        decimals = 2
    return f"{value:,.{decimals}f}"


def decimal_text(value: float, places: int) -> str:
    """``value`` rounded to ``places`` as a plain decimal, the way Cost Explorer prints its amounts: the float's
    shortest digits ('121365167780.55458', not the binary expansion's ...554581), never exponent notation nor '-0'."""
    text = format(Decimal(repr(round(value, places))), "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def cents(usd: float) -> float:
    """Money in an answer: rounded to the cent (full precision stays in the store), never -0.0."""
    return round(usd, 2) + 0.0


def largest_remainder_cents(values: list[float], total: float, caps: list[float | None] | None = None) -> list[float]:
    """``values`` rounded to cents so that they add up to ``total`` rounded to cents (largest remainder).

    The full-precision values add up to ``total``; rounding each one alone can drift by a cent per row. The target
    is ``cents(total)``, the total as the answer shows it: ``round(total * 100)`` rounds the binary product, which can
    land on the other side of a half cent (798044.595 x 100 gives 79804460, where the total shows 798044.59).

    ``caps``: per value, a figure shown beside it (or None) that a value not above it must not pass once both are in
    cents (a saving beside the cost it saves: a saving of all of a $10.004 cost is $10.00, never $10.01); a value
    already above its cap is not held to it. A cent the total needs goes to the next value below its cap; when every
    value is at its cap, the values add up to a cent or more less than the total rather than pass their caps.
    """
    target = round(cents(total) * 100)
    floors = [int((v * 100) // 1) for v in values]
    rest = target - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (-(values[i] * 100 - floors[i]), i))
    limits = [None if c is None or v > c else round(cents(c) * 100)
              for v, c in zip(values, caps, strict=True)] if caps is not None else [None] * len(values)
    out = list(floors)
    if rest < 0:
        order.reverse()
    while rest and order:
        given = 0
        for i in order:
            if rest == 0:
                break
            limit = limits[i]
            if rest > 0 and limit is not None and out[i] + 1 > limit:
                continue
            out[i] += 1 if rest > 0 else -1
            rest += -1 if rest > 0 else 1
            given += 1
        if not given:
            break
    return [c / 100 for c in out]
