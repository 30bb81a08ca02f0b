"""Where the time of one ``aifinops scan`` process goes: wall and CPU seconds per phase.

``python bench/scan_phases.py scan --cur FILE --store STORE --format json --output OUT`` runs the CLI in this
process with timers wrapped around its phases (imports, the ingest's steps, the store's write path, the checks,
the document) and prints one line per phase to stderr. CPU seconds are ``time.process_time`` (every thread of
the process, DuckDB's included), so they stay comparable on a machine other work loads. Phases nest (the ingest
holds the rollup); ``self`` is a phase's time less the phases timed inside it. Figures are printed, never asserted.
"""

from __future__ import annotations

import sys
import time

T0_WALL, T0_CPU = time.perf_counter(), time.process_time()

import contextlib  # noqa: E402
import functools  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

TIMES: dict[str, list[float]] = {}  # phase -> [wall, cpu, calls, child wall, child cpu]
_STACK: list[str] = []


def _add(name: str, wall: float, cpu: float) -> None:
    t = TIMES.setdefault(name, [0.0, 0.0, 0, 0.0, 0.0])
    t[0] += wall
    t[1] += cpu
    t[2] += 1
    if _STACK:
        parent = TIMES.setdefault(_STACK[-1], [0.0, 0.0, 0, 0.0, 0.0])
        parent[3] += wall
        parent[4] += cpu


@contextlib.contextmanager
def phase(name: str):
    w, c = time.perf_counter(), time.process_time()
    _STACK.append(name)
    try:
        yield
    finally:
        _STACK.pop()
        _add(name, time.perf_counter() - w, time.process_time() - c)


def timed(owner: Any, attr: str, name: str | None = None) -> None:
    """Replace ``owner.attr`` (a function) with one timed as the phase ``name`` (nothing when there is none: an
    older source tree, run with PYTHONPATH, may lack it)."""
    real: Callable | None = getattr(owner, attr, None)
    if real is None:
        return

    @functools.wraps(real)
    def wrapper(*args, **kwargs):
        with phase(name or attr):
            return real(*args, **kwargs)

    setattr(owner, attr, wrapper)


def timed_cm(owner: Any, attr: str, name: str) -> None:
    """Time a context manager's entry and exit as two phases (``name enter`` and ``name exit``)."""
    real = getattr(owner, attr)

    @contextlib.contextmanager
    def wrapper(*args, **kwargs):
        cm = real(*args, **kwargs)
        with phase(f"{name} enter"):
            value = cm.__enter__()
        try:
            yield value
        except BaseException:
            if not cm.__exit__(*sys.exc_info()):
                raise
        else:
            with phase(f"{name} exit"):
                cm.__exit__(None, None, None)

    setattr(owner, attr, wrapper)


def main() -> int:
    with phase("import cli"):
        import aifinops.cli as cli
    with phase("import scan deps"):
        import aifinops.checks  # noqa: F401
        import aifinops.costs  # noqa: F401
        import aifinops.history  # noqa: F401
        import aifinops.ingest.pipeline as pipeline
        import aifinops.scan as scan_module
        import aifinops.store as store
    for attr in ("_read_batches", "_validate_values", "_summarise", "_check_currency", "_store_batch",
                 "_reconcile", "_group_raw", "rebuild_usage_daily", "ensure_charges_view", "supersede_periods",
                 "clear_demo", "ingest_files"):
        timed(pipeline, attr, f"ingest.{attr}")
    import aifinops.attribution as attribution

    timed(attribution, "apply_ai_attribution", "rollup.apply_ai_attribution")
    for attr in ("refresh_summaries", "drop_summaries", "_ensure_schema", "_checkpoint_wal", "usage_fingerprint"):
        timed(store, attr, f"store.{attr}")
    timed(shutil, "copyfile", "store.copyfile")
    timed_cm(store.Store, "_write", "store.write")
    timed_cm(store.Store, "connect", "store.connect")
    import aifinops.checks as checks
    import aifinops.costs as costs
    import aifinops.history as history

    timed(checks, "run_checks", "scan.run_checks")
    timed(costs, "ai_cost_summary", "scan.ai_cost_summary")
    timed(costs, "coverage", "scan.coverage")
    timed(history, "record_scan", "scan.record_scan")
    timed(scan_module.ScanDocument, "to_json_dict", "scan.to_json_dict")
    timed(cli, "emit", "cli.emit")
    import json

    timed(json, "dumps", "cli.json.dumps")
    sys.argv = ["aifinops", *sys.argv[1:]]
    code = 0
    with phase("cli.main"):
        try:
            cli.main()
        except SystemExit as exc:
            code = int(exc.code or 0)
    wall, cpu = time.perf_counter() - T0_WALL, time.process_time() - T0_CPU
    print(f"{'phase':<34} {'calls':>5} {'wall s':>8} {'CPU s':>8} {'self wall':>9} {'self CPU':>9}", file=sys.stderr)
    for name, (w, c, n, cw, cc) in sorted(TIMES.items(), key=lambda kv: -kv[1][1]):
        print(f"{name:<34} {n:>5} {w:>8.3f} {c:>8.3f} {w - cw:>9.3f} {c - cc:>9.3f}", file=sys.stderr)
    print(f"{'whole process (after interpreter)':<34} {'':>5} {wall:>8.3f} {cpu:>8.3f}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
