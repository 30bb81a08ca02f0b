"""Decision quality on generated accounts: recall by dollars, precision, savings error, over many seeds.

    .venv/bin/python bench/eval_harness.py [--seeds 10] [--first-seed 1] [--scale 1] [--region R ...]
        [--workdir DIR] [--json] [--plain-moto]

For each seed: a fresh moto server state and CUR 2.0 export from ``bench/eval/generate.py``, then
``aifinops scan --cur … --aws --region us-east-1 --region us-west-2 --format json`` as a subprocess, then
``bench/eval/score.py``. Prints one line per seed, the pooled figures, the median error per kind of waste, the
share of each confidence level's savings within ±20% of the truth, and every disagreement with the truth.
Figures are printed, never asserted (tests/test_eval_harness.py checks the mechanics on a small run).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.eval.generate import REGIONS  # noqa: E402
from bench.eval.run import moto_server, run_one  # noqa: E402
from bench.eval.score import TOLERANCE, summary  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--scale", type=int, default=1, help="resources of each kind per region (account size)")
    ap.add_argument("--region", action="append", choices=REGIONS,
                    help="generate and scan only these regions (default: both)")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--plain-moto", action="store_true",
                    help="moto's own GetMetricData (quadratic: realistic accounts time out)")
    args = ap.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="aifinops-eval-"))
    work.mkdir(parents=True, exist_ok=True)
    runs = []
    t0 = time.monotonic()
    with moto_server(work / "moto", plain=args.plain_moto) as url:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            run = run_one(seed, url, work, scale=args.scale, regions=tuple(args.region or REGIONS))
            runs.append(run)
            s = run.score
            if not args.json:
                med = summary([s])["median_savings_error"]
                print(f"seed {seed:3d}: recall ${s.found_usd:>10,.0f}/${s.true_usd:>10,.0f} = {s.recall:.3f}  "
                      f"precision {s.right_findings}/{s.dollar_findings} = {s.precision:.3f}  "
                      f"median error {med:.3f}  datapoints {run.account.datapoints}  "
                      f"log records {run.account.log_records}  generate {run.generate_s:.0f}s scan {run.scan_s:.0f}s",
                      flush=True)
    total_s = time.monotonic() - t0
    figures = summary([r.score for r in runs])
    figures |= {"seeds": [r.account.seed for r in runs], "scale": args.scale, "wall_s": round(total_s, 1),
                "scan_s_median": sorted(r.scan_s for r in runs)[len(runs) // 2],
                "disagreements": [f"seed {r.account.seed}: {w} {text}"
                                  for r in runs for w, _, text in r.score.disagreements]}
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
        return 0
    print(f"\n{len(runs)} accounts, scale {args.scale}, {total_s:.0f} s in all "
          f"(median scan {figures['scan_s_median']:.0f} s)")
    print(f"recall by dollars          {figures['recall_by_dollars']:.3f}  (lowest account "
          f"{figures['recall_by_dollars_min']:.3f})")
    print(f"precision on dollar claims {figures['precision_on_dollar_claims']:.3f}  "
          f"({figures['dollar_findings']} findings; by dollars {figures['precision_by_dollars']:.3f}); "
          f"{figures['zero_dollar_findings']} findings without dollars")
    print(f"median savings error       {figures['median_savings_error']:.3f}")
    print(f"within ±{TOLERANCE:.0%} by confidence:")
    for conf, v in figures["within_20pct_by_confidence"].items():
        print(f"  {conf:8s} {v['share']:.2f} of {v['n']}")
    print("median error by kind of waste:")
    for kind, v in figures["median_error_by_kind"].items():
        print(f"  {kind:34s} {v['median']:.3f} (n={v['n']})")
    print("disagreements, counted by what and where:")
    for (what, key), n in sorted(Counter((w, k) for r in runs for w, k, _ in r.score.disagreements).items()):
        print(f"  {n:3d} x {what:6s} {key}")
    print("every disagreement with the truth:")
    for d in figures["disagreements"]:
        print(f"  {d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
