"""End to end: ``spamflood score`` on a generated feed vs a plain-datasketch pipeline.

Prints wall time, posts/s and peak RSS of the CLI on ``--posts`` posts (default 1,000,000),
and posts/s of a baseline written with plain datasketch (``MinHash`` per post, ``MinHashLSH``
insert and query, connected components) on a slice of the same feed, with the ratio.
Targets (issue 2): 1M posts under 30 s on 2 cores, peak RSS under 2 GiB, >= 20x the baseline.

    python benchmarks/end_to_end.py [--posts 1000000] [--jobs 2] [--baseline-posts 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def generated_feed(posts: int, seed: int) -> Path:
    """A cached synthetic feed of ``posts`` posts (generated once per size and seed)."""
    from spamflood import synth

    RESULTS.mkdir(exist_ok=True)
    feed = RESULTS / f"feed_{posts}_{seed}.jsonl"
    if not feed.exists():
        started = time.perf_counter()
        synth.write(feed, RESULTS / f"truth_{posts}_{seed}.jsonl", posts=posts, seed=seed)
        print(f"generated {posts:,} posts in {time.perf_counter() - started:.1f} s -> {feed}")
    return feed


def run_cli(args: list[str]) -> dict[str, float]:
    """Run the CLI, sampling the RSS of its process tree; wall time and peaks."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "spamflood", *args])
    peak_main = peak_tree = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_main, peak_tree
        parent = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                main_rss = parent.memory_info().rss
                tree = main_rss + sum(c.memory_info().rss for c in parent.children(recursive=True))
            except psutil.Error:
                break
            peak_main, peak_tree = max(peak_main, main_rss), max(peak_tree, tree)
            stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    code = proc.wait()
    stop.set()
    thread.join()
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"spamflood exited with {code}")
    return {"wall_s": wall, "peak_rss_main_mib": peak_main / 2**20, "peak_rss_tree_mib": peak_tree / 2**20}


def datasketch_pipeline(feed: Path, posts: int) -> dict[str, float]:
    """The baseline: what a team would write with datasketch alone (same normalization)."""
    from datasketch import MinHash, MinHashLSH

    from spamflood.normalize import shingle_text

    started = time.perf_counter()
    records = []
    with open(feed, "rb") as handle:
        for line in handle:
            records.append(json.loads(line))
            if len(records) >= posts:
                break
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    sketches = []
    for record in records:
        text = shingle_text(record["text"])
        grams = {text[i : i + 5] for i in range(max(1, len(text) - 4))}
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([g.encode("utf-8") for g in grams])
        lsh.insert(record["id"], m)
        sketches.append((record["id"], m))
    parent = {key: key for key, _ in sketches}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for key, m in sketches:
        for other in lsh.query(m):
            parent[find(other)] = find(key)
    clusters = len({find(k) for k, _ in sketches})
    wall = time.perf_counter() - started
    return {"posts": len(records), "wall_s": wall, "posts_per_s": len(records) / wall, "components": clusters}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--baseline-posts", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--feed", help="score this JSONL feed instead of a generated one")
    parser.add_argument("--no-criteria", action="store_true", help="cluster labels only (the first slice)")
    args = parser.parse_args()

    feed = Path(args.feed) if args.feed else generated_feed(args.posts, args.seed)
    if args.feed:
        args.posts = sum(1 for _ in open(feed, "rb"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scored.jsonl"
        ours = run_cli(
            ["score", str(feed), "-o", str(out), "-j", str(args.jobs), "-q"]
            + (["--no-criteria"] if args.no_criteria else [])
        )
        scored = sum(1 for _ in open(out, "rb"))
    ours["posts"] = args.posts
    ours["posts_per_s"] = args.posts / ours["wall_s"]
    baseline = datasketch_pipeline(feed, args.baseline_posts)
    ratio = ours["posts_per_s"] / baseline["posts_per_s"]

    print(f"\nspamflood score, {args.posts:,} posts, {args.jobs} jobs (cores here: {os.cpu_count()})")
    print(f"  wall time      {ours['wall_s']:8.1f} s      target < 30 s   {'PASS' if ours['wall_s'] < 30 else 'FAIL'}")
    print(f"  throughput     {ours['posts_per_s']:8,.0f} posts/s")
    print(
        f"  peak RSS       {ours['peak_rss_main_mib']:8,.0f} MiB (main process; whole tree {ours['peak_rss_tree_mib']:,.0f} MiB)"
        f"  target < 2048 MiB  {'PASS' if ours['peak_rss_main_mib'] < 2048 else 'FAIL'}"
    )
    print(f"  rows written   {scored:8,}")
    print(f"datasketch pipeline (MinHash + MinHashLSH insert/query), {baseline['posts']:,}-post slice")
    print(f"  throughput     {baseline['posts_per_s']:8,.0f} posts/s")
    print(f"ratio            {ratio:8.1f}x      target >= 20x   {'PASS' if ratio >= 20 else 'FAIL'}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "end_to_end.json").write_text(
        json.dumps(
            {"spamflood": ours, "datasketch": baseline, "ratio": ratio, "jobs": args.jobs, "criteria": not args.no_criteria},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
