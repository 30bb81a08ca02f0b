"""Fuzz every input format (issue 12): each variant is loaded with the right totals, or refused with one line
naming the file, the problem and the fix, the store file left byte for byte as it was.

``AIFINOPS_FUZZ_VARIANTS`` sets the count (150 by default; 1000 for the slow run), ``AIFINOPS_FUZZ_SEED``
the seed. A failing variant is rebuilt by its number: ``fuzzinputs.variant(n, seeds, out)``.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from clirun import run_cli
from fuzzinputs import FORMATS, SEED, base_store, build_seeds, judge, variant

COUNT = int(os.environ.get("AIFINOPS_FUZZ_VARIANTS", "150"))
FUZZ_SEED = int(os.environ.get("AIFINOPS_FUZZ_SEED", str(SEED)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    return build_seeds(root / "seeds"), base_store(root / "base" / "store.duckdb"), root


@pytest.mark.slow
def test_fuzzed_inputs_are_loaded_right_or_refused_cleanly(corpus, capsys):
    seeds, store, root = corpus
    work = root / "work"
    work.mkdir()
    failures, counts = [], Counter()
    for n in range(COUNT):
        v = variant(n, seeds, root / "variants", seed=FUZZ_SEED)
        outcome = judge(v, store, work)
        counts["accepted" if outcome.accepted else "refused"] += 1
        counts[f"{v.fmt.name} {'accepted' if outcome.accepted else 'refused'}"] += 1
        if outcome.failure:
            failures.append(f"{v}: {outcome.failure}")
        (work / f"store-{n}.duckdb").unlink(missing_ok=True)
    with capsys.disabled():
        print(f"\nfuzz: {COUNT} variants (seed {FUZZ_SEED}), {counts['accepted']} accepted, {counts['refused']} "
              f"refused, {len(failures)} failures; " + ", ".join(f"{k}: {c}" for k, c in sorted(counts.items())
                                                                if " " in k))
    assert not failures, f"{len(failures)} of {COUNT} variants failed:\n" + "\n".join(failures[:40])
    assert {v.name for v in FORMATS} <= {k.split(" ")[0] for k in counts if " " in k}


# a handful through the real command: exit 0 or 2, one line on stderr, never a traceback
CLI_VARIANTS = [0, 1, 2, 3, 6, 8, 9, 13, 17, 21, 26, 33]


@pytest.mark.parametrize("number", CLI_VARIANTS)
def test_fuzzed_inputs_through_the_cli(corpus, tmp_path, number):
    seeds, store, root = corpus
    v = variant(number, seeds, tmp_path / "variants", seed=FUZZ_SEED)
    expected = judge(v, store, tmp_path)
    target = tmp_path / "cli-store.duckdb"
    target.write_bytes(store.read_bytes())
    result = run_cli("ingest", *map(str, v.paths), "--store", str(target))
    assert "Traceback" not in result.stderr, f"{v}: {result.stderr[-2000:]}"
    assert result.returncode == (0 if expected.accepted else 2), f"{v}: {result.stderr}"
    if result.returncode == 2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        message = " ".join(result.stderr.split())
        assert "To fix:" in message, f"{v}: {result.stderr}"
        assert len(lines) <= 3, f"{v}: {result.stderr}"  # one message, wrapped by the terminal at most
        assert target.read_bytes() == store.read_bytes()
