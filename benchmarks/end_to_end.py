"""End to end: ``spamflood score`` on a generated feed vs a plain-datasketch pipeline.

Prints wall time, posts/s and peak memory of the CLI on ``--posts`` posts (default 1,000,000),
and posts/s of a baseline written with plain datasketch (``MinHash`` per post, ``MinHashLSH``
insert and query, connected components) on a slice of the same feed, with the ratio.
Targets (issue 2): 1M posts under 30 s on 2 cores, >= 20x the baseline; (issue 18) the whole
process tree under 2.5 GiB.

Memory is sampled every 50 ms over the CLI's process tree (the main process and the workers
it forks) in two measures. Summed RSS adds each process's resident set: a page the workers
share copy-on-write with the main process (the interpreter, the compiled kernels, the
lexicon automata, the signature array in shared memory) is counted once for every process
that maps it, so it overstates the tree. Summed PSS (proportional set size, from
``/proc/PID/smaps_rollup``) divides each shared page among the processes sharing it, so every
page is counted once: the tree's real footprint, and the measure the 2.5 GiB target is
checked on. Reading PSS walks each process's page tables and costs the sampler most of a core
on this 2-core machine, so the timed run samples RSS only (microseconds a read) and a second
run, not timed, samples PSS (``--no-pss`` skips it). Both are printed and saved.

``--stages`` instead measures, in this process and in CPU seconds (other processes on the
machine skew wall time, less so CPU time), the per-post cost of each stage a worker and the
main process run, each batched path beside the one-by-one path it replaces (rows to posts,
evidence matches, the batch criteria with and without the workers' scan, JSONL writing), with
the ratio, and the coordinated groups' cost (:mod:`spamflood.coordination`). The machine's load average is printed and saved with every figure.

``--coordination-cost`` scores the feed a second time with ``--no-coordination`` in the same
run and prints the ratio of the two wall times (issue 18: coordination may cost at most 20%);
``--no-coordination`` alone scores without it.

``--against REV`` also times the code and bundled model of a git revision (a detached worktree
of this repository, removed after) on the same feed, ``--rounds`` runs of each, alternating,
after one untimed run of the revision's code on a 2,000-post slice (numba compiles its kernels
once; this code's have been by its first timed run): a target such as "no slower than the
code of the day the issue was filed" is then checked against that code on this machine today,
not against a figure measured on another day (this 2-core machine's speed drifts by a fifth
from one day to the next). The ratio against the datasketch pipeline is then also printed at
each code's median wall time, not only at this code's first run.

    python benchmarks/end_to_end.py [--posts 1000000] [--jobs 2] [--baseline-posts 20000] [--rules]
                                    [--no-coordination | --coordination-cost] [--no-pss]
                                    [--against REV [--rounds 3]]
    python benchmarks/end_to_end.py --stages [--posts 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def generated_feed(posts: int, seed: int) -> Path:
    """A cached synthetic feed of ``posts`` posts, generated once per size, seed and generator:
    a file the generator of today would not write (its sources changed since, as the news
    shares did on 2026-12-06) is written again, not measured as if it were today's."""
    import spamflood
    from spamflood import synth
    from spamflood._cache import key_of

    package = Path(spamflood.__file__).parent
    sources = sorted([*(package / "synth").rglob("*.py"), *(package / "data" / "synth").rglob("*")])
    generator = key_of(path for path in sources if path.is_file())
    RESULTS.mkdir(exist_ok=True)
    feed = RESULTS / f"feed_{posts}_{seed}.jsonl"
    stamp = feed.with_suffix(".generator")
    if not feed.exists() or not stamp.exists() or stamp.read_text().strip() != generator:
        started = time.perf_counter()
        synth.write(feed, RESULTS / f"truth_{posts}_{seed}.jsonl", posts=posts, seed=seed)
        stamp.write_text(generator + "\n")
        print(f"generated {posts:,} posts in {time.perf_counter() - started:.1f} s -> {feed}")
    return feed


def run_cli(args: list[str], *, pss: bool = False, code: Path | None = None) -> dict[str, float]:
    """Run the CLI; its wall time, the CPU seconds of the whole tree (user + system: what other
    processes on the machine skew least) and the peak memory of its process tree, sampled every
    50 ms.

    Without ``pss`` (the timed run) the sampler reads each process's RSS (``/proc/PID/statm``,
    microseconds a read), summed over the tree: a page the forked workers share copy-on-write
    with the main process is counted once for every process that maps it. With ``pss`` it also
    reads each process's PSS (``/proc/PID/smaps_rollup``), which divides every shared page among
    the processes sharing it, so the tree's pages are counted once: what the tree takes from the
    machine. That read walks the page tables (tens of milliseconds for a 2 GiB process, most of a
    core at 20 reads a second), so a PSS run is not a timed run. ``code``: a checkout whose
    ``spamflood`` runs instead of the installed one."""
    env = None if code is None else {**os.environ, "PYTHONPATH": str(code)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "spamflood", *args], env=env)
    peaks = {"rss_main": 0, "rss_tree": 0, "pss_main": 0, "pss_tree": 0}
    stop = threading.Event()

    def sample() -> None:
        parent = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                tree = [parent, *parent.children(recursive=True)]
            except psutil.Error:
                break
            rss = total_pss = 0
            for k, member in enumerate(tree):
                try:
                    info = member.memory_full_info() if pss else member.memory_info()
                except psutil.Error:  # a worker that just ended
                    if k == 0:
                        return
                    continue
                rss += info.rss
                total_pss += info.pss if pss else 0
                if k == 0:
                    peaks["rss_main"] = max(peaks["rss_main"], info.rss)
                    peaks["pss_main"] = max(peaks["pss_main"], info.pss if pss else 0)
            peaks["rss_tree"] = max(peaks["rss_tree"], rss)
            peaks["pss_tree"] = max(peaks["pss_tree"], total_pss)
            stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    code = proc.wait()
    stop.set()
    thread.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI and the workers it waited for
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if code != 0:
        raise SystemExit(f"spamflood exited with {code}")
    out = {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_main_mib": peaks["rss_main"] / 2**20,
        "peak_rss_tree_mib": peaks["rss_tree"] / 2**20,
    }
    if pss:
        out |= {"peak_pss_main_mib": peaks["pss_main"] / 2**20, "peak_pss_tree_mib": peaks["pss_tree"] / 2**20}
    return out


def datasketch_pipeline(feed: Path, posts: int) -> dict[str, float]:
    """The baseline: what a team would write with datasketch alone (same normalization)."""
    from datasketch import MinHash, MinHashLSH

    from spamflood.normalize import shingle_text

    shingle_text("warm up")  # the normalization tables are built once, outside the timing
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
    parser.add_argument("--rules", action="store_true", help="score with the rule score, not the bundled model")
    parser.add_argument("--model", help="score with this model file (--trust-model) instead of the bundled one")
    parser.add_argument("--no-coordination", action="store_true", help="score without looking for coordinated groups")
    parser.add_argument(
        "--coordination-cost", action="store_true", help="also score with --no-coordination in the same run; print the ratio"
    )
    parser.add_argument(
        "--no-pss", action="store_true", help="skip the second run that measures the tree's PSS (its sampler costs CPU)"
    )
    parser.add_argument("--stages", action="store_true", help="per-stage CPU cost in this process, batched vs one by one")
    parser.add_argument("--against", metavar="REV", help="also time the code of this git revision, alternating with this code")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each code with --against")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.stages:
        stages(Path(args.feed) if args.feed else generated_feed(args.posts, args.seed), args.posts)
        return

    feed = Path(args.feed) if args.feed else generated_feed(args.posts, args.seed)
    if args.feed:
        with open(feed, "rb") as lines:
            args.posts = sum(1 for _ in lines)
    load_before = os.getloadavg()
    command = (
        ["score", str(feed), "-j", str(args.jobs), "-q"]
        + (["--no-criteria"] if args.no_criteria else [])
        + (["--rules"] if args.rules else [])
        + (["--model", args.model, "--trust-model"] if args.model else [])
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scored.jsonl"
        scoring = [*command, "-o", str(out)] + (["--no-coordination"] if args.no_coordination else [])
        ours = run_cli(scoring)
        with open(out, "rb") as lines:
            scored = sum(1 for _ in lines)
        memory = None if args.no_pss else run_cli(scoring, pss=True)
        without = run_cli([*command, "-o", str(out), "--no-coordination"]) if args.coordination_cost else None
        against = same_run_comparison(args.against, feed, scoring, args.rounds, ours) if args.against else None
    load_after = os.getloadavg()
    ours["posts"] = args.posts
    ours["posts_per_s"] = args.posts / ours["wall_s"]
    baseline = datasketch_pipeline(feed, args.baseline_posts)
    ratio = ours["posts_per_s"] / baseline["posts_per_s"]

    mode = "--no-criteria" if args.no_criteria else ("criteria, --rules" if args.rules else f"criteria, model {args.model or 'bundled'}")
    mode += ", no coordination" if args.no_coordination else ""
    print(f"\nspamflood score ({mode}), {args.posts:,} posts, {args.jobs} jobs (cores here: {os.cpu_count()})")
    print(f"  load average   {_load(load_before)} before, {_load(load_after)} after (other processes share the cores)")
    print(f"  wall time      {ours['wall_s']:8.1f} s      target < 30 s   {'PASS' if ours['wall_s'] < 30 else 'FAIL'}")
    print(f"  CPU            {ours['cpu_s']:8.1f} s      (user + system, whole process tree)")
    print(f"  throughput     {ours['posts_per_s']:8,.0f} posts/s")
    print(
        f"  peak RSS       {ours['peak_rss_main_mib']:8,.0f} MiB main process; whole tree {ours['peak_rss_tree_mib']:,.0f} MiB"
        " (summed RSS: a page shared by forked processes counted once per process)"
    )
    if memory is not None:
        tree = memory["peak_pss_tree_mib"]
        print(
            f"  peak PSS       {memory['peak_pss_main_mib']:8,.0f} MiB main process; whole tree {tree:,.0f} MiB"
            f" (summed PSS: each page once; a second run, {memory['wall_s']:.1f} s with its sampler)"
            f"  target < 2560 MiB  {'PASS' if tree < 2560 else 'FAIL'}"
        )
    print(f"  rows written   {scored:8,}")
    if without is not None:
        cost = ours["wall_s"] / without["wall_s"]
        cpu_cost = ours["cpu_s"] / without["cpu_s"]
        print(
            f"  without coordination {without['wall_s']:5.1f} s, CPU {without['cpu_s']:.1f} s (whole tree "
            f"{without['peak_rss_tree_mib']:,.0f} MiB summed RSS): with it {cost:.2f}x wall, {cpu_cost:.2f}x CPU   "
            f"target <= 1.20x   {'PASS' if cost <= 1.2 else 'FAIL'}"
        )
    print(f"datasketch pipeline (MinHash + MinHashLSH insert/query), {baseline['posts']:,}-post slice")
    print(f"  throughput     {baseline['posts_per_s']:8,.0f} posts/s")
    print(f"ratio            {ratio:8.1f}x      target >= 20x   {'PASS' if ratio >= 20 else 'FAIL'}")
    if against is not None:
        against["ratio_at_median"] = {
            name: args.posts / med["wall_s"] / baseline["posts_per_s"] for name, med in against["medians"].items()
        }
        print_comparison(against)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "end_to_end.json").write_text(
        json.dumps(
            {
                "spamflood": ours,
                "memory_run": memory,
                "datasketch": baseline,
                "ratio": ratio,
                "jobs": args.jobs,
                "criteria": not args.no_criteria,
                "rules": args.rules,
                "model": args.model,
                "coordination": not args.no_coordination,
                "without_coordination": without,
                "against": against,
                "load_before": load_before,
                "load_after": load_after,
            },
            indent=2,
        )
    )


def same_run_comparison(rev: str, feed: Path, scoring: list[str], rounds: int, first: dict[str, float]) -> dict[str, Any]:
    """Wall and CPU seconds of ``rounds`` runs of this code and of the code at ``rev`` (a
    detached worktree), alternating; ``rev``'s code is warmed up first on a 2,000-post slice of
    ``feed`` (numba compiles its kernels). ``first``: this code's timed run already made, which
    counts as its first round."""
    repo = HERE.parent
    sha, subject = _git(repo, "log", "-1", "--format=%h\t%s", rev).split("\t", 1)
    with tempfile.TemporaryDirectory() as tmp:
        checkout = Path(tmp) / "code"
        _git(repo, "worktree", "add", "--detach", "--quiet", str(checkout), rev)
        try:
            head = Path(tmp) / "slice.jsonl"
            with open(feed, "rb") as lines, open(head, "wb") as sliced:
                for _, line in zip(range(2_000), lines):
                    sliced.write(line)
            run_cli([scoring[0], str(head), *scoring[2:]], code=checkout)
            runs: dict[str, list[dict[str, float]]] = {"this code": [first], rev: []}
            for k in range(rounds):
                runs[rev].append(run_cli(scoring, code=checkout))
                if k + 1 < rounds:
                    runs["this code"].append(run_cli(scoring))
        finally:
            _git(repo, "worktree", "remove", "--force", str(checkout))
    medians = {
        name: {m: statistics.median(r[m] for r in done) for m in ("wall_s", "cpu_s", "peak_rss_main_mib")}
        for name, done in runs.items()
    }
    return {"rev": rev, "commit": sha, "subject": subject, "rounds": rounds, "runs": runs, "medians": medians}


def print_comparison(found: dict[str, Any]) -> None:
    rev = found["rev"]
    print(f"same run, alternating: this code against {rev} ({found['commit']}: {found['subject'][:70]})")
    for name, done in found["runs"].items():
        walls = ", ".join(f"{r['wall_s']:.1f}" for r in done)
        med = found["medians"][name]
        print(
            f"  {name:<12} wall {walls} s (median {med['wall_s']:.1f}); CPU median {med['cpu_s']:.1f} s;"
            f" main RSS median {med['peak_rss_main_mib']:,.0f} MiB"
        )
    ours, theirs = found["medians"]["this code"], found["medians"][rev]
    print(
        f"  this code / {rev}: {ours['wall_s'] / theirs['wall_s']:.2f}x wall, {ours['cpu_s'] / theirs['cpu_s']:.2f}x CPU"
        " (medians; below 1: this code is faster)"
    )
    ratios = ", ".join(f"{name} {ratio:.1f}x" for name, ratio in found["ratio_at_median"].items())
    print(f"  against the datasketch pipeline at the median wall time: {ratios}")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def _cpu(work, repeat: int = 1) -> float:
    """The least CPU seconds of ``repeat`` runs of ``work()`` (this process only)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def stages(feed: Path, posts: int) -> None:
    """Per-post CPU cost of each stage on the first ``posts`` posts of ``feed``, batched paths
    beside the one-by-one paths they replace, in this process."""
    import gc

    import numpy as np

    from spamflood._memory import collector_paused
    from spamflood.cluster import ClusterFinder
    from spamflood.coordination import Coordination, PostObjects, text_objects
    from spamflood.criteria import Scan, evaluate, scan_names, scan_texts
    from spamflood.criteria.compute import build_context
    from spamflood.io.readers import iter_chunks
    from spamflood.io.rows import RowParser
    from spamflood.io.writers import RecordWriter
    from spamflood.minhash import MinHasher
    from spamflood.normalize import normalize_many, shingle_many
    from spamflood.posts import PostBatch

    text_families = ("soft_ad", "hotspot_hijack", "microbusiness")
    batch_families = ("holiday_template", "chicken_soup", "batch_accounts", "auto_posting")
    load_before = os.getloadavg()
    chunk_rows = 20_000
    chunks = []
    for rows in iter_chunks(str(feed), chunk_rows=chunk_rows):
        chunks.append(rows)
        if sum(map(len, chunks)) >= posts:
            break
    n = sum(map(len, chunks))
    parser = RowParser()
    hasher = MinHasher()
    hasher.signatures(["warm up"])  # compile the kernels before timing
    scan_texts(["warm up"], text_families + batch_families)
    gc.freeze()  # what the detector's workers inherit: a frozen heap
    cost: dict[str, float] = {}

    def per_chunk(name: str, work) -> list:
        outs = []
        total = 0.0
        for rows in chunks:
            started = time.process_time()
            outs.append(work(rows))
            total += time.process_time() - started
        cost[name] = total
        return outs

    # -- worker stages, per chunk as the detector runs them
    per_chunk("rows: parse_many + PostBatch.from_posts (before)", lambda rows: PostBatch.from_posts(parser.parse_many(rows)[0]))
    batches = [b for b, _ in per_chunk("rows: parse_batch", parser.parse_batch)]
    normals = iter(normalize_many(b.texts) for b in batches)
    normalized = per_chunk("normalize (another helper's)", lambda rows: next(normals))
    it = iter(normalized)
    shingled = per_chunk("shingle (another helper's)", lambda rows: shingle_many(next(it), normalized=True))
    it = iter(shingled)
    per_chunk("minhash", lambda rows: hasher.signatures(next(it)))
    it = iter(normalized)
    per_chunk(
        "text criteria: evaluate(texts) (before)",
        lambda rows: evaluate(next(it), families=text_families, normalized=True).evidence,
    )
    it = iter(normalized)
    scans = per_chunk("scan_texts, every family that reads text", lambda rows: scan_texts(next(it), text_families + batch_families, normalized=True))
    it = iter(zip(normalized, scans))

    def text_eval(rows):
        texts, scan = next(it)
        return evaluate(texts, families=text_families, normalized=True, scan=scan, dtype=np.float32).sentences()

    per_chunk("text criteria: evaluate(scan=...) + sentences()", text_eval)
    lists, patterns = scan_names(batch_families)
    kept = [scan.only(lists, patterns) for scan in scans]

    # -- evidence matches: one by one vs one pass
    scanner = build_context(["x"], None, text_families + batch_families).scanner
    sample = normalized[0]
    one = _cpu(lambda: [scanner.matches(t) for t in sample])
    many = _cpu(lambda: scanner.matches_many(sample))

    # -- main process: the batch criteria over the whole slice, with the cluster labels
    batch = PostBatch.concat(batches)
    signatures = np.concatenate([hasher.signatures(s) for s in shingled])
    clusterable = np.concatenate([np.fromiter((len(x) > 0 for x in s), bool, len(s)) for s in shingled])
    labels = ClusterFinder(threshold=0.7, num_perm=128).find(signatures, clusterable)
    del signatures
    joined = Scan.concat(kept)
    cost["batch criteria: evaluate(batch) (before)"] = _cpu(lambda: evaluate(batch, labels, families=batch_families).evidence)
    cost["batch criteria: evaluate(batch, scan=...) + sentences()"] = _cpu(
        lambda: evaluate(batch, labels, families=batch_families, scan=joined).sentences()
    )
    coordination = Coordination()
    fresh = PostBatch.concat(batches)  # (a batch keeps its author codes once computed)
    cost["coordination: objects, co-posts, network, groups (before)"] = _cpu(lambda: coordination.findings(fresh))
    it = iter(batches)
    parts = per_chunk("coordination: text_objects per chunk (workers)", lambda rows: text_objects(next(it).texts))
    fresh = PostBatch.concat(batches)
    sizes = [len(b) for b in batches]
    cost["coordination in main: join objects, co-posts, network, groups"] = _cpu(
        lambda: coordination.findings(fresh, coordination.groups(fresh, PostObjects.join(parts, sizes, fresh.repost_of)))
    )

    # -- the decision: the bundled model's score and label heads, then labels and reasons
    decider, findings = _decision_inputs(batch, labels, normalized, batches)
    model = decider._model_for(decider.fitted_model())
    X = dict(findings.values)
    texts = batch.texts
    text_scores = None
    if getattr(model, "text", False):  # the workers score the text part per chunk; the decision reads it
        from spamflood.model.inputs import TEXT_FEATURE

        it = iter(batches)
        text_scores = np.concatenate(per_chunk("model: text part (workers)", lambda rows: model.text_scores(next(it).texts)))
        X[TEXT_FEATURE] = text_scores
    fired = {k: np.asarray(v, dtype=bool) for k, v in findings.fired.items()}
    two_labels = np.count_nonzero(np.stack(list(fired.values())), axis=0) >= 2
    overall = model.score_all(X, label_floor=np.inf)[0]
    rows = np.flatnonzero(two_labels & (overall >= 0.25))
    picked = {k: v[rows] for k, v in X.items()}
    cost["model: overall score (compiled trees)"] = _cpu(lambda: model.score_all(X, label_floor=np.inf))
    cost["model: every label head on posts listing 2+ labels (before)"] = _cpu(lambda: model.score_all(picked, label_floor=0.25))
    cost["model: each label head where its label fired"] = _cpu(
        lambda: model.label_heads(picked, {k: v[rows] for k, v in fired.items()})
    )
    with collector_paused():
        cost["decision: Decider.decide (score, heads, labels, reasons)"] = _cpu(
            lambda: decider.decide(findings, texts=texts, text_scores=text_scores)
        )

    # -- writing: rows as dicts vs columns
    rng = np.random.default_rng(0)
    score = rng.random(n)
    flagged = score >= 0.5
    ids = batch.ids
    labels_col = [["mass_share", "soft_ad"] if f else [] for f in flagged.tolist()]
    reasons_col = [['mass_share: 12 near-identical posts', 'soft_ad: price "¥99"'] if f else [] for f in flagged.tolist()]
    cluster = [None if c < 0 else int(c) for c in labels.tolist()]
    with tempfile.TemporaryDirectory() as tmp:
        def rows_out() -> None:
            with RecordWriter(Path(tmp) / "rows.jsonl") as writer:
                writer.write_many(
                    [
                        {"id": ids[i], "score": round(float(score[i]), 6), "flagged": bool(flagged[i]), "labels": labels_col[i],
                         "reasons": reasons_col[i], "cluster": cluster[i], "cluster_size": 1, "cluster_authors": 1}
                        for i in range(n)
                    ]
                )

        def columns_out() -> None:
            with RecordWriter(Path(tmp) / "cols.jsonl") as writer:
                writer.write_columns(
                    {"id": ids, "score": [round(x, 6) for x in score.tolist()], "flagged": flagged, "labels": labels_col,
                     "reasons": reasons_col, "cluster": cluster, "cluster_size": np.ones(n, dtype=np.int64),
                     "cluster_authors": np.ones(n, dtype=np.int64)}
                )

        cost["write JSONL: dict per row + write_many (before)"] = _cpu(rows_out)
        cost["write JSONL: write_columns"] = _cpu(columns_out)
        same = (Path(tmp) / "rows.jsonl").read_bytes() == (Path(tmp) / "cols.jsonl").read_bytes()
    load_after = os.getloadavg()

    print(f"\nper-post CPU cost on {n:,} posts of {feed.name} (load average {_load(load_before)} -> {_load(load_after)})")
    for name, seconds in cost.items():
        print(f"  {name:58s} {1e6 * seconds / n:7.2f} us/post  {n / seconds:10,.0f} posts/s")
    scan_cost = cost["scan_texts, every family that reads text"]
    ratios = {
        "rows: one Post per row / parse_batch": cost["rows: parse_many + PostBatch.from_posts (before)"]
        / cost["rows: parse_batch"],
        "text criteria: evaluate(texts) / scan_texts + evaluate(scan)": cost["text criteria: evaluate(texts) (before)"]
        / (scan_cost + cost["text criteria: evaluate(scan=...) + sentences()"]),
        "batch criteria in main: evaluate(batch) / evaluate(scan)": cost["batch criteria: evaluate(batch) (before)"]
        / cost["batch criteria: evaluate(batch, scan=...) + sentences()"],
        "all criteria: text + batch before / scan + both after": (
            cost["text criteria: evaluate(texts) (before)"] + cost["batch criteria: evaluate(batch) (before)"]
        )
        / (scan_cost + cost["text criteria: evaluate(scan=...) + sentences()"] + cost["batch criteria: evaluate(batch, scan=...) + sentences()"]),
        "write: dict per row + write_many / write_columns": cost["write JSONL: dict per row + write_many (before)"]
        / cost["write JSONL: write_columns"],
        "evidence matches: per text / matches_many": one / many,
        "label heads: every head on 2+ labels / each where it fired": cost[
            "model: every label head on posts listing 2+ labels (before)"
        ]
        / cost["model: each label head where its label fired"],
    }
    print("ratios in this run (the 'before' paths already share this code's other speedups, so they")
    print("understate the change; the end-to-end run gives the whole before/after):")
    for key, value in ratios.items():
        print(f"  {key:58s} {value:6.2f}x")
    print(f"write_columns bytes identical to write_many: {same}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "end_to_end_stages.json").write_text(
        json.dumps(
            {
                "posts": n,
                "feed": str(feed),
                "us_per_post": {k: 1e6 * v / n for k, v in cost.items()},
                "ratios": ratios,
                "write_identical": same,
                "load_before": load_before,
                "load_after": load_after,
            },
            indent=2,
        )
    )



def _decision_inputs(batch: Any, labels: Any, normalized: list[list[str]], batches: list[Any]) -> tuple[Any, Any]:
    """The bundled model's decider and the findings the detector hands it for this slice: the
    post families per chunk, the feed and cluster families over the batch, the cluster labels,
    the coordinated groups."""
    import numpy as np

    from spamflood.cluster import cluster_stats
    from spamflood.decision import CLUSTER_FAMILIES, FEED_FAMILIES, POST_FAMILIES, Findings, cluster_findings
    from spamflood.detector import Detector

    detector = Detector.load()
    post = Findings.concat(
        [Findings.compute(t, None, POST_FAMILIES, "UTC", normalized=True, originals=b.texts) for t, b in zip(normalized, batches)]
    )
    whole = Findings.compute(batch, labels, FEED_FAMILIES + CLUSTER_FAMILIES, "UTC")
    codes = batch.known_author_codes(batch.author_codes()[0], np.flatnonzero(labels >= 0))
    table = cluster_stats(labels, batch.times, codes, window=detector.window)
    values, fired, sentences = detector.coordination.findings(batch)  # the groups on shared objects
    coordinated = Findings(values, {"coordinated": fired}, {"coordinated": sentences}, len(batch))
    parts = [cluster_findings(detector.rules, table, codes, batch.authors, batch.times), post, whole, coordinated]
    findings = Findings(
        {k: v for p in parts for k, v in p.values.items()},
        {k: v for p in parts for k, v in p.fired.items()},
        {k: v for p in parts for k, v in p.sentences.items()},
        len(batch),
    )
    return detector.decider, findings

if __name__ == "__main__":
    main()
