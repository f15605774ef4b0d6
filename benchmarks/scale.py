"""How cost grows with size: posts/s and peak RSS of ``spamflood score`` at 10k, 100k, 1M posts.

    python benchmarks/scale.py [--sizes 10000,100000,1000000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from end_to_end import RESULTS, generated_feed, run_cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = []
    print(f"{'posts':>10} {'wall s':>8} {'posts/s':>10} {'peak RSS MiB':>13}")
    for size in (int(s) for s in args.sizes.split(",")):
        feed = generated_feed(size, args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            figures = run_cli(["score", str(feed), "-o", str(Path(tmp) / "o.jsonl"), "-j", str(args.jobs), "-q"])
        figures.update(posts=size, posts_per_s=size / figures["wall_s"])
        rows.append(figures)
        print(f"{size:>10,} {figures['wall_s']:8.1f} {figures['posts_per_s']:10,.0f} {figures['peak_rss_main_mib']:13,.0f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
