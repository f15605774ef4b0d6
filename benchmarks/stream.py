"""FloodMonitor speed: posts/s and add() latency, in memory (one core) and on a real Redis.

One generated stream (``spamflood.synth.generate`` when that module exists: one day of a
bilingual feed with planted campaigns, its times rescaled; else the seeded mixed zh/en corpus
of ``benchmarks/_corpus.py``, 30% of it edited flood copies, authors drawn from a pool) at
``--rate`` posts per second of stream time, so that the window (``--window``, 10 min) fills
and forgets. Every post goes through ``FloodMonitor.add``
as a :class:`spamflood.Post` (validation of raw lines is the reader's cost, not the index's).

Rows:

- ``memory``: one monitor, the process pinned to one CPU. Throughput in wall time and in the
  process's CPU time (the machine is shared; CPU time is what the code costs), and the p50/p99
  of each ``add()`` in wall time and in thread CPU time. The index size at the end shows the
  window forgetting.
- ``redis x1`` and ``redis x4``: one and four worker processes, each with its own monitor on
  one shared ``redis-server`` (started here on a free port, or ``--redis URL``), the stream
  split round-robin; throughput is all posts over the span from the first start to the last
  finish. Once with ``add()`` per post (latency per post), once with ``add_many`` in batches
  of ``--batch`` (pipelined round trips; latency per batch).
- Baselines measured in the same run: ``shingle_text`` alone (normalization, the floor of any
  monitor that normalizes), the memory store's ``add`` alone on precomputed signatures
  (find, verify, record, count), and datasketch ``MinHashLSH`` query+insert with the same signatures
  (``--baseline-posts`` posts; it has no window, so it never forgets).

Targets: memory >= 20,000 posts/s on one core with p99 < 2 ms; Redis >= 5,000 posts/s across
four workers.

    python benchmarks/stream.py [--posts 100000] [--redis-posts 40000] [--window 10min]
                                [--rate 100] [--redis URL] [--skip-redis]

Results: benchmarks/results/stream.json
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse
import gc
import json
import multiprocessing
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from spamflood.normalize import shingle_text  # noqa: E402
from spamflood.posts import Post  # noqa: E402
from spamflood.stream import FloodMonitor, MemoryStore  # noqa: E402
from spamflood.stream.store import Entry  # noqa: E402

T0 = 1_700_000_000.0
_POSTS: list[Post] = []  # the stream, inherited by forked workers


def make_stream(n: int, seed: int, rate: float) -> tuple[list[Post], str]:
    """``n`` posts with ids, authors and event times; and the name of the generator used."""
    try:
        from spamflood.synth import generate  # type: ignore[import-not-found]
    except ImportError:
        generate = None
    if generate is not None:
        import dataclasses

        from spamflood.io.rows import RowParser

        parser = RowParser()
        posts = [parser.parse(i + 1, record) for i, (record, _truth) in enumerate(generate(n, seed=seed, days=1))]
        # Squeeze the day onto --rate posts per second of stream time, order and bursts kept, so
        # that the window fills and forgets within the run.
        first, last = posts[0].time, posts[-1].time
        scale = (n / rate) / max(last - first, 1e-9)
        posts = [dataclasses.replace(p, time=T0 + (p.time - first) * scale) for p in posts]
        return posts, "spamflood.synth.generate (one day, times rescaled)"
    from _corpus import mixed_posts

    texts = mixed_posts(n, seed=seed)
    rng = np.random.default_rng(seed)
    authors = rng.integers(0, 50_000, size=n)
    return [
        Post(id=f"p{i}", text=text, author=f"u{int(authors[i])}", time=T0 + i / rate) for i, text in enumerate(texts)
    ], "benchmarks/_corpus.mixed_posts"


def _pin_one_cpu() -> int | None:
    try:
        cpu = max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return cpu
    except (AttributeError, OSError):
        return None


def _percentiles(lat: np.ndarray) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(lat, 50)) * 1e3, 4),
        "p99_ms": round(float(np.percentile(lat, 99)) * 1e3, 4),
        "max_ms": round(float(lat.max()) * 1e3, 3),
    }


def _timed_adds(monitor: FloodMonitor, posts: list[Post]) -> dict[str, Any]:
    """add() every post; wall and thread-CPU latency of each, totals and verdict counts."""
    n = len(posts)
    wall = np.empty(n)
    cpu = np.empty(n)
    floods = 0
    perf, tcpu = time.perf_counter, time.thread_time
    start, cpu_start = perf(), time.process_time()
    for i, post in enumerate(posts):
        a, ca = perf(), tcpu()
        verdict = monitor.add(post)
        cpu[i] = tcpu() - ca
        wall[i] = perf() - a
        floods += verdict.flood
    return {
        "start": start,
        "end": perf(),
        "cpu": time.process_time() - cpu_start,
        "wall_lat": wall,
        "cpu_lat": cpu,
        "floods": floods,
    }


# ------------------------------------------------------------------------------- memory


def bench_memory(posts: list[Post], window: str, warm: int) -> dict[str, Any]:
    monitor = FloodMonitor(window=window)
    for post in posts[:warm]:
        monitor.add(post)
    gc.collect()
    run = _timed_adds(monitor, posts[warm:])
    n = len(posts) - warm
    store = monitor.store
    assert isinstance(store, MemoryStore)
    size = monitor.size()
    window_s = monitor.window
    span = posts[-1].time - posts[0].time
    return {
        "posts": n,
        "posts_per_s_wall": round(n / (run["end"] - run["start"])),
        "posts_per_s_cpu": round(n / run["cpu"]),
        "latency_wall": _percentiles(run["wall_lat"]),
        "latency_cpu": _percentiles(run["cpu_lat"]),
        "flood_verdicts": int(run["floods"]),
        "stream_span_s": round(span, 1),
        "window_s": window_s,
        "index_posts_at_end": size.posts,
        "index_bucket_cells_at_end": size.buckets,
        "index_clusters_at_end": size.clusters,
        "index_array_mb": round(store.memory_bytes() / 1e6, 1),
    }


def bench_baselines(posts: list[Post], window: str, baseline_posts: int) -> dict[str, Any]:
    """Normalization alone, the memory index alone, and datasketch MinHashLSH (same signatures)."""
    out: dict[str, Any] = {}
    texts = [p.text for p in posts]
    c = time.process_time()
    shingled = [shingle_text(t) for t in texts]
    out["shingle_text_posts_per_s_cpu"] = round(len(texts) / (time.process_time() - c))

    monitor = FloodMonitor(window=window)
    sketch = monitor._sketch  # the same kernel add() uses
    entries = []
    for post, s in zip(posts, shingled):
        if s:
            sig, keys = sketch(s)
            entries.append(Entry(post.id, post.author, post.time, keys, sig))
    c = time.process_time()
    for s in shingled:
        if s:
            sketch(s)
    out["sketch_posts_per_s_cpu"] = round(len(entries) / (time.process_time() - c))
    store = monitor.store
    c = time.process_time()
    for e in entries:
        store.add(e)
    out["memory_index_posts_per_s_cpu"] = round(len(entries) / (time.process_time() - c))

    try:
        from datasketch import MinHashLSH
    except ImportError:
        out["datasketch_lsh_posts_per_s_cpu"] = None
        return out
    lean = monitor.hasher.to_lean_many(np.stack([e.signature for e in entries[:baseline_posts]]))
    lsh = MinHashLSH(threshold=monitor.threshold, num_perm=monitor.hasher.num_perm)
    c = time.process_time()
    for e, m in zip(entries, lean):
        lsh.query(m)
        lsh.insert(e.post_id, m, check_duplication=False)
    out["datasketch_lsh_posts"] = len(lean)
    out["datasketch_lsh_posts_per_s_cpu"] = round(len(lean) / (time.process_time() - c))
    return out


# -------------------------------------------------------------------------------- redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis() -> tuple[subprocess.Popen[bytes], str, str]:
    """A private redis-server on a free port: (process, url, folder)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not on PATH (apt-get install -y redis-server), or pass --redis URL")
    folder = tempfile.mkdtemp(prefix="spamflood-bench-redis-")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            if client.ping():
                break
        except redis.exceptions.ConnectionError:
            time.sleep(0.02)
    else:
        proc.kill()
        raise SystemExit("redis-server did not answer PING within 4 s")
    client.close()
    return proc, f"redis://127.0.0.1:{port}/0", folder


def _timed_batches(monitor: FloodMonitor, posts: list[Post], batch: int) -> dict[str, Any]:
    """add_many() in batches of ``batch``; wall latency of each batch."""
    chunks = [posts[i : i + batch] for i in range(0, len(posts), batch)]
    wall = np.empty(len(chunks))
    floods = 0
    perf = time.perf_counter
    start, cpu_start = perf(), time.process_time()
    for i, chunk in enumerate(chunks):
        a = perf()
        verdicts = monitor.add_many(chunk, batch_size=batch)
        wall[i] = perf() - a
        floods += sum(v.flood for v in verdicts)
    return {"start": start, "end": perf(), "cpu": time.process_time() - cpu_start, "wall_lat": wall, "floods": floods}


def _worker(
    index: int, workers: int, url: str, prefix: str, window: str, batch: int, barrier: Any, queue: Any
) -> None:
    posts = _POSTS[index::workers]
    monitor = FloodMonitor(window=window, store=url, key_prefix=prefix)
    warm = posts[:50]
    for post in warm:  # compile/load kernels and connect before the clock starts
        monitor.add(post)
    barrier.wait()
    run = _timed_adds(monitor, posts[50:]) if batch <= 1 else _timed_batches(monitor, posts[50:], batch)
    queue.put(
        (
            run["start"],
            run["end"],
            run["cpu"],
            run["wall_lat"].tobytes(),
            run["floods"],
            len(posts) - 50,
        )
    )
    monitor.close()


def bench_redis(posts: list[Post], url: str, window: str, workers: int, batch: int = 1) -> dict[str, Any]:
    from spamflood.stream.redis_store import RedisStore

    prefix = f"bench{workers}x{batch}"
    RedisStore(url, window=window, key_prefix=prefix).clear()
    import redis

    admin = redis.Redis.from_url(url)
    admin.config_resetstat()
    server_cpu = admin.info("cpu")
    admin.close()
    global _POSTS
    _POSTS = posts
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(workers)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(i, workers, url, prefix, window, batch, barrier, queue))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    start = min(r[0] for r in results)
    end = max(r[1] for r in results)
    lat = np.concatenate([np.frombuffer(r[3]) for r in results])
    n = int(sum(r[5] for r in results))

    client = redis.Redis.from_url(url)
    stats = client.info("commandstats").get("cmdstat_evalsha", {})
    cpu_after = client.info("cpu")
    server_cpu_s = sum(cpu_after[k] - server_cpu[k] for k in ("used_cpu_user", "used_cpu_sys"))
    memory = client.info("memory")["used_memory"]
    client.close()
    RedisStore(url, window=window, key_prefix=prefix).clear()
    return {
        "workers": workers,
        "call": "add()" if batch <= 1 else f"add_many(batch_size={batch})",
        "latency_is": "per post" if batch <= 1 else f"per batch of {batch}",
        "posts": n,
        "posts_per_s_wall": round(n / (end - start)),
        "client_cpu_us_per_post": round(sum(r[2] for r in results) / n * 1e6, 1),
        "latency_wall": _percentiles(lat),
        "flood_verdicts": int(sum(r[4] for r in results)),
        "server_commits": int(stats.get("calls", 0)),
        "commits_per_post": round(int(stats.get("calls", 0)) / (n + 50 * workers), 2),
        "server_us_per_commit": stats.get("usec_per_call"),
        "server_used_memory_mb": round(memory / 1e6, 1),
        "server_cpu_us_per_post": round(server_cpu_s / n * 1e6, 1),
        "wall_s": round(end - start, 2),
    }


# --------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000, help="posts for the memory run")
    ap.add_argument("--redis-posts", type=int, default=40_000, help="posts for each Redis run")
    ap.add_argument("--baseline-posts", type=int, default=10_000, help="posts for the datasketch baseline")
    ap.add_argument("--window", default="10min")
    ap.add_argument("--rate", type=float, default=100.0, help="posts per second of stream (event) time")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--redis", help="use this Redis URL instead of starting redis-server")
    ap.add_argument("--skip-redis", action="store_true")
    ap.add_argument("--batch", type=int, default=256, help="add_many batch size for the batched Redis rows")
    args = ap.parse_args(argv)

    posts, source = make_stream(max(args.posts, args.redis_posts), args.seed, args.rate)
    result: dict[str, Any] = {
        "stream": source,
        "seed": args.seed,
        "rate_posts_per_stream_s": args.rate,
        "window": args.window,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        import redis.utils

        result["hiredis"] = bool(redis.utils.HIREDIS_AVAILABLE)
    except ImportError:
        result["hiredis"] = None
    print(f"stream: {len(posts):,} posts from {source}, window {args.window}, {args.rate:g} posts/s of stream time")
    print(
        f"machine: {os.cpu_count()} CPUs, load average {result['load_average_at_start'][0]} at start; "
        f"hiredis parser: {result['hiredis']}; the Redis rows share these CPUs with redis-server"
    )

    # Redis first, on all cores; then pin this process to one core for the memory rows.
    if not args.skip_redis:
        proc = None
        url = args.redis
        folder = None
        if url is None:
            proc, url, folder = start_redis()
        try:
            redis_posts = posts[: args.redis_posts]
            # Fork the workers before this process loads anything heavy into memory.
            quarter = redis_posts[: max(1, args.redis_posts // 4)]
            result["redis_x1"] = bench_redis(quarter, url, args.window, 1)
            result["redis_x4"] = bench_redis(redis_posts, url, args.window, 4)
            result["redis_x1_batched"] = bench_redis(quarter, url, args.window, 1, args.batch)
            result["redis_x4_batched"] = bench_redis(redis_posts, url, args.window, 4, args.batch)
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    cpu = _pin_one_cpu()
    result["memory_cpu"] = cpu
    memory_posts = posts[: args.posts]
    result["memory"] = bench_memory(memory_posts, args.window, warm=min(5000, len(memory_posts) // 10))
    result["baselines"] = bench_baselines(memory_posts, args.window, args.baseline_posts)

    mem = result["memory"]
    base = result["baselines"]
    rows = [
        (
            "memory, 1 core (CPU time)",
            mem["posts_per_s_cpu"],
            mem["latency_cpu"]["p50_ms"],
            mem["latency_cpu"]["p99_ms"],
            mem["posts_per_s_cpu"] >= 20_000 and mem["latency_cpu"]["p99_ms"] < 2.0,
        ),
        (
            "memory, 1 core (wall time)",
            mem["posts_per_s_wall"],
            mem["latency_wall"]["p50_ms"],
            mem["latency_wall"]["p99_ms"],
            mem["posts_per_s_wall"] >= 20_000 and mem["latency_wall"]["p99_ms"] < 2.0,
        ),
    ]
    for key, label in (
        ("redis_x1", "redis, 1 worker, add()"),
        ("redis_x4", "redis, 4 workers, add()"),
        ("redis_x1_batched", f"redis, 1 worker, add_many({args.batch})*"),
        ("redis_x4_batched", f"redis, 4 workers, add_many({args.batch})*"),
    ):
        if key in result:
            r = result[key]
            ok = r["posts_per_s_wall"] >= 5_000 if key.startswith("redis_x4") else None
            rows.append((label, r["posts_per_s_wall"], r["latency_wall"]["p50_ms"], r["latency_wall"]["p99_ms"], ok))
    print()
    print(f"{'run':36s} {'posts/s':>10s} {'p50 ms':>8s} {'p99 ms':>8s}  target")
    for label, rate, p50, p99, ok in rows:
        mark = "-" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{label:36s} {rate:>10,} {p50:>8.3f} {p99:>8.3f}  {mark}")
    print(f"* latency of one add_many call of {args.batch} posts")
    print()
    print("baselines (posts/s of CPU time, one core):")
    print(f"  shingle_text alone (normalization)      {base['shingle_text_posts_per_s_cpu']:>10,}")
    print(f"  signature + band keys alone             {base['sketch_posts_per_s_cpu']:>10,}")
    print(f"  memory index alone (store.add)          {base['memory_index_posts_per_s_cpu']:>10,}")
    if base.get("datasketch_lsh_posts_per_s_cpu"):
        ds = base["datasketch_lsh_posts_per_s_cpu"]
        ratio = base["memory_index_posts_per_s_cpu"] / ds
        print(f"  datasketch MinHashLSH query + insert    {ds:>10,}   (memory index is {ratio:.1f}x)")
    print(
        f"index at the end: {mem['index_posts_at_end']:,} posts for a window of "
        f"{mem['window_s'] * args.rate:,.0f} posts ({mem['stream_span_s']:,.0f} s of stream), "
        f"{mem['index_clusters_at_end']:,} clusters, {mem['index_array_mb']} MB of arrays"
    )
    for key in ("redis_x1", "redis_x4", "redis_x1_batched", "redis_x4_batched"):
        if key in result:
            r = result[key]
            print(
                f"{key}: {r['server_commits']:,} commits at {r['server_us_per_commit']} us each on the server, "
                f"{r['client_cpu_us_per_post']} us of client CPU and {r['server_cpu_us_per_post']} us of "
                f"redis-server CPU per post, {r['server_used_memory_mb']} MB in Redis"
            )
    result["targets"] = {
        "memory_posts_per_s": 20_000,
        "memory_p99_ms": 2.0,
        "redis_x4_posts_per_s": 5_000,
        "memory_pass_cpu": rows[0][4],
        "memory_pass_wall": rows[1][4],
        "redis_x4_add_pass": result["redis_x4"]["posts_per_s_wall"] >= 5_000 if "redis_x4" in result else None,
        "redis_x4_add_many_pass": (
            result["redis_x4_batched"]["posts_per_s_wall"] >= 5_000 if "redis_x4_batched" in result else None
        ),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stream.json").write_text(json.dumps(result, indent=2))
    print(f"\nsaved {RESULTS / 'stream.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
