"""What ``coordinated`` costs the stream: CPU per ``FloodMonitor.add`` with and without it.

One seeded stream at ``--rate`` posts per second of event time: half the posts carry objects
(hashtags drawn from a Zipf-like pool of 200, mentions, links with tracking parameters), the
other half none; ``--campaigns`` groups of 20 accounts push one hashtag each in a wave (within
30 s) every 2 minutes. Every post goes through ``add`` as a :class:`spamflood.Post`, rules
scoring, memory store, window and horizon ``--window``.

*Without* is the same script run on the source tree of ``--baseline-rev`` (a commit before the
stream computed ``coordinated``, exported with ``git archive``); *with* is this checkout. The
two alternate ``--repeats`` times, each in a fresh process, so that both meet the same load.
Per run: CPU microseconds per post (the process's thread CPU over all adds), p50/p99 of each
add's thread CPU, coordinated verdicts, and (this checkout only) the account network held at
the end and coordination's own parts timed alone in the same process: ``objects_in`` and
:class:`~spamflood.stream.coposting.CoPosting` on the same posts. The machine is shared: CPU time, not wall time, and the load average.

    python benchmarks/stream_coordination.py [--posts 20000] [--baseline-rev 9a57d6b]
    python benchmarks/stream_coordination.py --stores [--posts 20000] [--batch 256]

Results: benchmarks/results/stream_coordination.json (stream_coordination_stores.json with
``--stores``).

``--stores`` instead compares the memory store and the Redis store (a private redis-server)
in one process on the same stream, in batches of ``--batch`` as ``spamflood watch`` reads a
file: the account network alone (``CoPosting`` vs ``RedisCoPosting``) and the whole monitor,
also on Redis with the network switched off; then the issue's campaign (120 accounts, one
hashtag, 30 waves over 5.5 h) through the network alone, and what recomputing a post's group
from the stored edges would cost instead of union-find. Wall posts/s, this process's CPU and
the redis-server's (``INFO cpu``), the load average, and whether every verdict agrees.

Measured (20,000 posts, 2 cores shared, load average 4.6-10, best of two runs each): 620 CPU
us per add without, 733 with (x1.18; another run x1.30: the runs drift with the load), p50
551 -> 629 us; alone in the same process, ``objects_in`` 2.1 us per post and the account
network 55-63 us (a popular hashtag pairs each post with dozens of posters of the last
minute, as the batch does, up to ``MAX_NEIGHBOURS``); 808 campaign posts flagged, no organic
one; 3,001 accounts, 21,784 pairs and 570 edges held at the end of a 10 min horizon.

Measured with ``--stores`` (20,000 posts, 2 cores shared by seven engineers, load average
13-14, one run of the final script; wall posts/s suffer most from the load, CPU a post least):

==========================  =======  ==================  ==================
                            posts/s  client CPU us/post  server CPU us/post
==========================  =======  ==================  ==================
network, memory             7,227    51                  -
network, Redis              1,823    11                  183
monitor, memory             3,206    117                 -
monitor, Redis              1,079    69                  282
monitor, Redis, no network  4,199    48                  82
==========================  =======  ==================  ==================

808 coordinated verdicts in memory and on Redis, and every verdict and network count equal.
On Redis the network costs some 180-200 us of redis-server CPU a post here (most pairs of a
popular hashtag's posters are new: each is written, then forgotten a horizon later), against
about 50 us in memory, and takes a monitor on Redis from 4,199 to 1,079 posts/s. The
120-account campaign: memory 515 us a post, Redis 1,554 us of server CPU a post, 239 posts/s
(7,140 edges; the same counts on every post); recomputing the component from the stored edges
alone would cost 7,143 us a post. (Runs at load 17-22 of earlier versions of the script: the
network 188-206 us a post; before a changed edge was moved in its group in place, the
campaign 2,243-2,468 us a post.)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
WORDS = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "it",
    "you",
    "that",
    "he",
    "was",
    "for",
    "on",
    "are",
    "with",
    "as",
    "his",
    "they",
    "be",
    "at",
    "one",
    "have",
    "this",
    "from",
]
T0 = 1_767_225_600.0


def stream(posts: int, rate: float, campaigns: int, seed: int) -> list[dict[str, Any]]:
    """The seeded stream (see the module docstring), in time order."""
    r = random.Random(seed)
    tags = [f"#topic{k}" for k in range(200)]
    weights = [1.0 / (k + 1) for k in range(200)]
    out: list[dict[str, Any]] = []
    span = posts / rate
    for i in range(posts):
        words = " ".join(r.choices(WORDS, k=12))
        kind = r.random()
        if kind < 0.35:
            words += " " + r.choices(tags, weights)[0]
        elif kind < 0.45:
            words += f" @user{r.randrange(5000)}"
        elif kind < 0.5:
            words += f" https://www.site{r.randrange(300)}.com/a/{r.randrange(50)}?utm_source=x"
        out.append({"id": f"p{i}", "text": words, "author": f"u{r.randrange(20000)}", "time": T0 + i / rate})
    for c in range(campaigns):
        for start in range(int(T0) + 60 * c, int(T0 + span), 120):
            for a in range(20):
                text = " ".join(r.choices(WORDS, k=10)) + f" #push{c}"
                out.append({"id": f"c{c}-{start}-{a}", "text": text, "author": f"bot{c}-{a}", "time": start + r.random() * 30})
    out.sort(key=lambda p: p["time"])
    return out[:posts]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One run in this process: the adds, timed."""
    from spamflood.posts import Post
    from spamflood.stream import FloodMonitor

    rows = stream(args.posts, args.rate, args.campaigns, args.seed)
    posts = [Post(id=p["id"], text=p["text"], author=p["author"], time=p["time"]) for p in rows]
    monitor = FloodMonitor(window=args.window)
    warm = FloodMonitor(window=args.window)  # compile and load (numba, lexicons) outside the timing
    for p in posts[:200]:
        warm.add(p)
    each = []
    flagged = 0
    start = time.thread_time()
    for p in posts:
        t = time.thread_time()
        v = monitor.add(p)
        each.append(time.thread_time() - t)
        flagged += "coordinated" in v.labels
    total = time.thread_time() - start
    each.sort()
    held = monitor.coposting.size() if getattr(monitor, "coposting", None) is not None else None
    return {
        **_alone(posts, monitor),
        "posts": len(posts),
        "cpu_us_per_post": round(1e6 * total / len(posts), 1),
        "p50_us": round(1e6 * each[len(each) // 2], 1),
        "p99_us": round(1e6 * each[int(len(each) * 0.99)], 1),
        "coordinated_verdicts": flagged,
        "held_at_end": held,
        "load_average": os.getloadavg(),
    }


def _alone(posts: list[Any], monitor: Any) -> dict[str, float]:
    """Coordination's own parts on the same posts, in this process (free of the load drift
    between processes): reading each post's objects, and the account network alone."""
    try:
        from spamflood.coordination import objects_in
        from spamflood.stream.coposting import CoPosting
    except ImportError:  # the baseline tree has neither
        return {}
    start = time.thread_time()
    objects = [objects_in(p.text, p.repost_of) for p in posts]
    read = time.thread_time() - start
    network = CoPosting(interval=60.0, min_coposts=3, min_overlap=0.1, horizon=monitor.horizon)
    start = time.thread_time()
    for p, found in zip(posts, objects):
        network.add(p.id, p.author, p.time, found)
    grow = time.thread_time() - start
    return {"objects_in_us_per_post": round(1e6 * read / len(posts), 1), "network_us_per_post": round(1e6 * grow / len(posts), 1)}


# ------------------------------------------------------------------ memory vs Redis


def _server_cpu(client: Any) -> float:
    """CPU seconds the redis-server has used (user + system)."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


# Recomputing a post's group from the stored edges instead of keeping union-find: a BFS over
# every edge (what the script would have to read for each post of a group, before its median).
_COMPONENT = r"""
local flat = redis.call('HGETALL', KEYS[1])
local adj = {}
for i = 1, #flat, 2 do
  local k = flat[i]
  local c = string.find(k, ':', 1, true)
  local n = tonumber(string.sub(k, 1, c - 1))
  local a, b = string.sub(k, c + 1, c + n), string.sub(k, c + n + 1)
  adj[a] = adj[a] or {}
  adj[b] = adj[b] or {}
  table.insert(adj[a], b)
  table.insert(adj[b], a)
end
local seen, queue, members = {[ARGV[1]] = true}, {ARGV[1]}, 0
while #queue > 0 do
  local x = table.remove(queue)
  members = members + 1
  for _, y in ipairs(adj[x] or {}) do
    if not seen[y] then
      seen[y] = true
      table.insert(queue, y)
    end
  end
end
return members
"""


def _one_big_group(url: str, admin: Any, batch: int) -> dict[str, Any]:
    """The issue's campaign: 120 accounts, one hashtag, 30 waves of 30 s over 5.5 h (3,600
    posts), through the network in memory and in Redis (horizon 1 day); then what recomputing
    a post's group from the stored edges would cost instead of union-find."""
    from spamflood.coordination import objects_in
    from spamflood.stream import RedisStore
    from spamflood.stream.coposting import CoPosting
    from spamflood.stream.redis_coposting import RedisCoPosting

    r = random.Random(5)
    items = sorted(
        (
            (f"c{a}-{w}", f"acct{a}", T0 + 660 * w + 30 * r.random(), objects_in(" ".join(r.sample(WORDS, 9)) + " #SomeTag"))
            for w in range(30)
            for a in range(120)
        ),
        key=lambda item: item[2],
    )
    chunks = [items[i : i + batch] for i in range(0, len(items), batch)]
    params = {"interval": 60.0, "min_coposts": 3, "min_overlap": 0.1, "horizon": 86400.0}
    memory = CoPosting(**params)
    cpu = time.process_time()
    a = [g for c in chunks for g in memory.add_many(c)]
    cpu = time.process_time() - cpu
    network = RedisCoPosting(RedisStore(url, window="1h", key_prefix="bench-big"), **params)
    network.store.clear()
    wall, server = time.perf_counter(), _server_cpu(admin)
    b = [g for c in chunks for g in network.add_many(c)]
    wall, server = time.perf_counter() - wall, _server_cpu(admin) - server
    component = admin.register_script(_COMPONENT)
    bfs = _server_cpu(admin)
    for _ in range(20):
        component(keys=["bench-big:co:ed"], args=["acct0"])
    bfs = _server_cpu(admin) - bfs
    out = {
        "big_group": {
            "posts": len(items),
            "memory_cpu_us_per_post": round(1e6 * cpu / len(items)),
            "redis_posts_per_s": round(len(items) / wall),
            "redis_server_cpu_us_per_post": round(1e6 * server / len(items)),
            "agree": a == b,
            "held": network.size(),
            "component_from_edges_server_cpu_us": round(1e6 * bfs / 20),
            "load_average": os.getloadavg(),
        }
    }
    print(out, flush=True)
    return out


def stores(args: argparse.Namespace) -> dict[str, Any]:
    """The account network and the whole monitor, memory store vs Redis store, in this process
    on the same posts (batches of ``--batch``, as ``spamflood watch`` reads a file): posts/s
    of wall time, this process's CPU and the redis-server's, and whether every verdict agrees."""
    import redis

    from spamflood.coordination import objects_in
    from spamflood.posts import Post
    from spamflood.stream import FloodMonitor, RedisStore
    from spamflood.stream.coposting import CoPosting
    from spamflood.stream.redis_coposting import RedisCoPosting

    sys.path.insert(0, str(HERE))
    from stream import start_redis  # the benchmark's private redis-server

    rows = stream(args.posts, args.rate, args.campaigns, args.seed)
    posts = [Post(id=p["id"], text=p["text"], author=p["author"], time=p["time"]) for p in rows]
    batches = [posts[i : i + args.batch] for i in range(0, len(posts), args.batch)]
    proc, url, _ = start_redis() if args.redis is None else (None, args.redis, "")
    admin = redis.Redis.from_url(url)
    out: dict[str, Any] = {"posts": len(posts), "batch": args.batch, "redis_server": admin.info("server")["redis_version"]}

    def timed(name: str, fn: Any) -> Any:
        wall, cpu, server = time.perf_counter(), time.process_time(), _server_cpu(admin)
        result = fn()
        wall, cpu, server = time.perf_counter() - wall, time.process_time() - cpu, _server_cpu(admin) - server
        out[name] = {
            "posts_per_s": round(len(posts) / wall),
            "client_cpu_us_per_post": round(1e6 * cpu / len(posts), 1),
            "server_cpu_us_per_post": round(1e6 * server / len(posts), 1),
            "load_average": os.getloadavg(),
        }
        print(name, out[name], flush=True)
        return result

    try:
        horizon = FloodMonitor(window=args.window).horizon
        params = {"interval": 60.0, "min_coposts": 3, "min_overlap": 0.1, "horizon": horizon}
        items = [(p.id, p.author, p.time, objects_in(p.text, p.repost_of)) for p in posts]
        chunks = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
        memory = CoPosting(**params)
        network = RedisCoPosting(RedisStore(url, window=args.window, key_prefix="bench-net"), **params)
        network.store.clear()
        a = timed("network_memory", lambda: [g for c in chunks for g in memory.add_many(c)])
        b = timed("network_redis", lambda: [g for c in chunks for g in network.add_many(c)])
        out["network_agree"] = a == b
        out["network_held"] = {"memory": memory.size(), "redis": network.size()}
        for name, store in (("monitor_memory", "memory"), ("monitor_redis", url), ("monitor_redis_no_network", url)):
            monitor = FloodMonitor(window=args.window, store=store, key_prefix=name)
            if isinstance(monitor.store, RedisStore):
                monitor.store.clear()
            if name.endswith("no_network"):
                monitor.coposting = None  # the near-duplicate index alone, for the network's share
            warm = FloodMonitor(window=args.window)  # compile and load outside the timing
            warm.add_many(posts[:200])
            verdicts = timed(name, lambda m=monitor: [v for c in batches for v in m.add_many(c, batch_size=args.batch)])
            out[f"{name}_coordinated"] = sum("coordinated" in v.labels for v in verdicts)
            out.setdefault("verdicts", {})[name] = verdicts
            monitor.close()
        got = out.pop("verdicts")
        out["monitor_agree"] = got["monitor_memory"] == got["monitor_redis"]
        out.update(_one_big_group(url, admin, args.batch))
    finally:
        admin.close()
        if proc is not None:
            proc.kill()
            proc.wait()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--rate", type=float, default=10.0, help="posts per second of event time")
    ap.add_argument("--window", default="10min")
    ap.add_argument("--campaigns", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--baseline-rev", default="9a57d6b", help="a commit whose stream does not compute coordinated")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--stores", action="store_true", help="memory store vs Redis store instead (see stores())")
    ap.add_argument("--batch", type=int, default=256, help="posts per add_many with --stores (default: 256)")
    ap.add_argument("--redis", help="with --stores: this Redis instead of a private redis-server")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run(args)))
        return
    if args.stores:
        result = {"params": vars(args), **stores(args)}
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "stream_coordination_stores.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline_rev], capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        trees = {"without": tmp, "with": str(ROOT)}
        runs: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
        for _ in range(args.repeats):
            for name, tree in trees.items():
                child = [sys.executable, str(Path(__file__).resolve()), "--child", *sys.argv[1:]]
                env = {**os.environ, "PYTHONPATH": tree, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
                done = subprocess.run(child, capture_output=True, text=True, env=env, check=True)
                runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(name, runs[name][-1], flush=True)
    best = {name: min(r["cpu_us_per_post"] for r in rs) for name, rs in runs.items()}
    result = {
        "params": {k: v for k, v in vars(args).items() if k != "child"},
        "runs": runs,
        "best_cpu_us_per_post": best,
        "ratio_with_over_without": round(best["with"] / best["without"], 3),
    }
    print(json.dumps(result["best_cpu_us_per_post"]), "ratio", result["ratio_with_over_without"])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stream_coordination.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
