"""Count the suite's demo builds (bench only): with ``AIFINOPS_COUNT_DEMO_BUILDS=FILE`` set, tests/conftest.py puts
this folder on PYTHONPATH, so every ``aifinops`` subprocess imports it too, and both the pytest process and its
children append one line per demo build to FILE: ``load`` (the demo ingested into a store, workspace.load_demo) or
``write`` (the demo's files generated, aifinops.demo.write_demo), with the test that caused it (PYTEST_CURRENT_TEST,
which children inherit). bench/count_demo_builds.py sums the file."""

from __future__ import annotations

import functools
import os


def install() -> None:
    target = os.environ.get("AIFINOPS_COUNT_DEMO_BUILDS")
    if not target:
        return
    import aifinops.demo
    import aifinops.workspace

    def counted(kind: str, fn):
        if getattr(fn, "_demo_counted", False):
            return fn

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            test = os.environ.get("PYTEST_CURRENT_TEST", "-")
            with open(target, "a", encoding="utf-8") as out:
                out.write(f"{kind}\t{os.getpid()}\t{test}\n")
            return fn(*args, **kwargs)

        wrapper._demo_counted = True  # type: ignore[attr-defined]
        return wrapper

    aifinops.workspace.load_demo = counted("load", aifinops.workspace.load_demo)
    aifinops.demo.write_demo = counted("write", aifinops.demo.write_demo)


install()
