"""Benchmark of the anomaly detector and the spend forecast on synthetic daily AI spend.

Series: a level between $50 and $5,000/day, a weekday profile (quieter weekends, some with a weekly
training day at 1.3-2x), multiplicative noise (2-10 %), a slow trend (-20 % to +30 % over the
series). Into each, spikes are injected after the first four weeks: 30-300 % of the level, lasting
1-3 days. A detection matches an injected spike when their days overlap.

Prints precision, recall (overall and by spike size) and detection delay in days; then a backtest
of the forecast (month-end from each weekly cutoff, and next month) against a naive run rate
(mean of the last 7 days x days to forecast): mean absolute percentage error and interval coverage.

    .venv/bin/python bench/bench_anomalies.py [--series 300] [--days 182] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date, timedelta

from aifinops.monitor.anomalies import find_anomalies
from aifinops.monitor.forecast import DailyModel, month_start, next_month

START = date(2024, 1, 1)


def make_series(rng: random.Random, days: int) -> tuple[list[float], list[float], list[tuple[int, int, float]]]:
    """(series with spikes, series without, injected spikes as (first day, last day, size))."""
    level = 10 ** rng.uniform(1.7, 3.7)
    weekend = rng.uniform(0.5, 1.0)
    training_day = rng.randrange(7) if rng.random() < 0.4 else None
    training_factor = rng.uniform(1.3, 2.0)
    noise = rng.uniform(0.02, 0.10)
    trend = rng.uniform(-0.2, 0.3)
    clean = []
    for t in range(days):
        wd = (START + timedelta(t)).weekday()
        factor = weekend if wd >= 5 else 1.0
        if wd == training_day:
            factor *= training_factor
        clean.append(level * (1 + trend * t / days) * factor * max(0.0, 1 + noise * rng.gauss(0, 1)))
    spiky = list(clean)
    spikes = []
    t = 28 + rng.randrange(10)
    while t < days - 3:
        size = rng.choice([0.3, 0.5, 1.0, 2.0, 3.0])
        length = rng.choice([1, 1, 1, 2, 3])
        for d in range(t, min(days, t + length)):
            spiky[d] += size * level
        spikes.append((t, min(days, t + length) - 1, size))
        t += length + 14 + rng.randrange(30)
    return spiky, clean, spikes


def bench_detection(series: list[tuple[list[float], list[float], list[tuple[int, int, float]]]]) -> None:
    detected = true_pos = 0
    found_spikes: dict[float, list[int]] = {}
    delays: list[int] = []
    for spiky, _clean, spikes in series:
        hits = [((a.start - START).days, (a.end - START).days) for a in find_anomalies(spiky, START)]
        detected += len(hits)
        true_pos += sum(1 for s, e in hits if any(s <= ie and e >= is_ for is_, ie, _ in spikes))
        for is_, ie, size in spikes:
            match = [s for s, e in hits if s <= ie and e >= is_]
            found_spikes.setdefault(size, []).append(1 if match else 0)
            if match:
                delays.append(max(0, min(match) - is_))
    injected = sum(len(v) for v in found_spikes.values())
    recall = sum(sum(v) for v in found_spikes.values()) / injected
    print(f"Anomalies: {len(series)} series, {injected} injected spikes, {detected} detections")
    print(
        f"  precision {true_pos / detected:.3f}   recall {recall:.3f}   "
        f"delay mean {statistics.fmean(delays):.2f} d, max {max(delays)} d"
    )
    print(
        "  recall by spike size (x daily level): "
        + ", ".join(f"{size:g}x {sum(v) / len(v):.2f}" for size, v in sorted(found_spikes.items()))
    )


def bench_forecast(series: list[tuple[list[float], list[float], list[tuple[int, int, float]]]], days: int) -> None:
    errors = {"model: month-end": [], "naive: month-end": [], "model: next month": [], "naive: next month": []}
    covered = {"month-end": [], "next month": []}
    for spiky, _clean, _spikes in series:
        cutoff = 56
        while True:
            last = START + timedelta(cutoff)
            m_end, n_end = next_month(last), next_month(next_month(last))
            if (n_end - START).days > days:
                break
            model = DailyModel(spiky[: cutoff + 1], START)
            rate = statistics.fmean(spiky[cutoff - 6 : cutoff + 1])
            spent = sum(spiky[(month_start(last) - START).days : cutoff + 1])
            rest = [last + timedelta(d) for d in range(1, (m_end - last).days)]
            nxt = [m_end + timedelta(d) for d in range((n_end - m_end).days)]
            actual_month = spent + sum(spiky[cutoff + 1 : (m_end - START).days])
            actual_next = sum(spiky[(m_end - START).days : (n_end - START).days])
            mean, lo, hi = model.interval(rest)
            n_mean, n_lo, n_hi = model.interval(nxt)
            errors["model: month-end"].append(abs(spent + mean - actual_month) / actual_month)
            errors["naive: month-end"].append(abs(spent + rate * len(rest) - actual_month) / actual_month)
            errors["model: next month"].append(abs(n_mean - actual_next) / actual_next)
            errors["naive: next month"].append(abs(rate * len(nxt) - actual_next) / actual_next)
            if rest:
                covered["month-end"].append(spent + lo <= actual_month <= spent + hi)
            covered["next month"].append(n_lo <= actual_next <= n_hi)
            cutoff += 7
    n = len(errors["model: month-end"])
    print(f"Forecast backtest: {n} cutoffs (weekly, from day 56), spikes left in the actuals")
    for name, values in errors.items():
        print(
            f"  {name:<20} MAPE {100 * statistics.fmean(values):6.2f}%   "
            f"p90 {100 * sorted(values)[int(0.9 * len(values))]:6.2f}%"
        )
    for name, values in covered.items():
        print(f"  80% interval coverage, {name}: {100 * statistics.fmean(values):.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--days", type=int, default=182)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    series = [make_series(rng, args.days) for _ in range(args.series)]
    t0 = time.perf_counter()
    bench_detection(series)
    t1 = time.perf_counter()
    bench_forecast(series, args.days)
    t2 = time.perf_counter()
    print(f"({t1 - t0:.1f} s detection, {t2 - t1:.1f} s forecast backtest)")


if __name__ == "__main__":
    main()
