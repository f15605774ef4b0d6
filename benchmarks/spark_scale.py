"""Spark engine speed and shuffle volume against the single-machine Detector, in one run.

    python benchmarks/spark_scale.py [--posts 1000000] [--masters local[1],local[2]] [--jobs 1,2]

The feed is a synthetic one (``spamflood.synth``; the cached ``results/feed_<n>_1.jsonl`` when
there is one, else ``benchmarks/_corpus.py`` posts with made-up accounts and times), written
once to Parquet. Each configuration runs in its own process on that same Parquet file:

* ``one:<jobs>``: ``Detector(n_jobs=jobs).score(feed)``, then the scored posts written as
  Parquet (what ``spamflood score`` does);
* ``spark:<master>``: ``spamflood.spark.score_parquet`` (read, score, write posts, rejects and
  clusters), timed without the session start-up, which is reported apart.

Shuffle volume comes from Spark's event log (``spark.eventLog.enabled``), read after the run:
every ``SparkListenerTaskEnd`` carries the task's shuffle bytes written and read, summed over
the run and per stage. That needs no listener in the JVM and no UI; the same numbers are what
the history server and the ``/api/v1/.../stages`` REST endpoint show. The figures and the
ratios to one machine go to ``results/spark_scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


# --------------------------------------------------------------------------- the feed


def feed_parquet(posts: int, seed: int) -> Path:
    """A cached Parquet feed of ``posts`` posts (row groups of 50,000 rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"spark_feed_{posts}_{seed}.parquet"
    if path.exists():
        return path
    started = time.perf_counter()
    writer = None
    chunk: list[dict[str, Any]] = []
    for record in _records(posts, seed):
        chunk.append(record)
        if len(chunk) == 50_000:
            table = pa.Table.from_pylist(chunk)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
            chunk = []
    if chunk:
        table = pa.Table.from_pylist(chunk)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table.cast(writer.schema))
    if writer is not None:
        writer.close()
    print(f"feed: {posts:,} posts -> {path} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def _synthetic_jsonl(posts: int, seed: int) -> Path | None:
    """A cached synthetic JSONL feed with at least ``posts`` posts, made if need be; None when
    the synthetic generator cannot run."""
    cached = sorted(
        (int(p.name.split("_")[1]), p) for p in RESULTS.glob(f"feed_*_{seed}.jsonl") if p.name.split("_")[1].isdigit()
    )
    for size, path in cached:
        if size >= posts:
            return path
    try:
        sys.path.insert(0, str(HERE))
        from end_to_end import generated_feed

        return generated_feed(posts, seed)
    except (ImportError, OSError, ValueError) as exc:  # synth missing or broken: the corpus still measures speed
        print(f"synthetic feed unavailable ({exc}); using benchmarks/_corpus.py", flush=True)
        return None


def _records(posts: int, seed: int) -> Any:
    source = _synthetic_jsonl(posts, seed)
    if source is None:
        yield from _corpus_records(posts, seed)
        return
    import orjson

    with open(source, "rb") as handle:
        for k, line in enumerate(handle):
            if k >= posts:
                return
            yield orjson.loads(line)


def _corpus_records(posts: int, seed: int) -> Any:
    import numpy as np

    sys.path.insert(0, str(HERE))
    from _corpus import mixed_posts

    rng = np.random.default_rng(seed)
    texts = mixed_posts(posts, seed=seed)
    authors = rng.integers(0, max(1, posts // 8), size=posts)
    times = np.sort(rng.uniform(1_769_000_000, 1_769_000_000 + 30 * 86400, size=posts))
    for k in range(posts):
        yield {"id": f"c{k}", "text": texts[k], "author": f"a{authors[k]}", "time": float(times[k])}


# --------------------------------------------------------------------------- one configuration


def run_one(feed: Path, jobs: int, out: Path) -> dict[str, Any]:
    from spamflood.detector import Detector
    from spamflood.io.writers import RecordWriter

    started = time.perf_counter()
    result = Detector(n_jobs=jobs).score(str(feed))
    with RecordWriter(str(out / "scored.parquet"), "parquet") as writer:
        for start in range(0, len(result), 50_000):
            writer.write_many(result.records(start=start, stop=start + 50_000))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "summary": result.summary()}


def run_spark(
    feed: Path, master: str, out: Path, partitions: int, memory: str, split_mb: int, keep_events: str | None = None
) -> dict[str, Any]:
    from pyspark.sql import SparkSession

    logs = Path(keep_events) / master.replace("[", "_").replace("]", "") if keep_events else out / "events"
    if logs.exists():
        import shutil

        shutil.rmtree(logs)
    logs.mkdir(parents=True)
    started = time.perf_counter()
    spark = (
        SparkSession.builder.master(master)
        .appName("spamflood-spark-scale")
        .config("spark.driver.memory", memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.files.maxPartitionBytes", f"{split_mb}m")
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.compress", "false")
        .config("spark.eventLog.dir", logs.as_uri())
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    startup = time.perf_counter() - started
    from spamflood.spark import score_parquet

    started = time.perf_counter()
    summary = score_parquet(
        spark, str(feed), str(out / "scored.parquet"), clusters_path=str(out / "clusters.parquet")
    )
    seconds = time.perf_counter() - started
    spark.stop()
    shuffle = shuffle_volume(logs)
    return {"seconds": seconds, "startup_s": startup, "summary": summary, **shuffle}


def shuffle_volume(logs: Path) -> dict[str, Any]:
    """Shuffle bytes written and read in total, and per pipeline step (the job descriptions
    ``spamflood: <step>`` that the engine sets): shuffle written, task time and job wall time."""
    written = read = spilled = 0
    stage_step: dict[int, str] = {}
    steps: dict[str, dict[str, float]] = {}
    started: dict[int, tuple[str, int]] = {}

    def step_of(name: str) -> dict[str, float]:
        return steps.setdefault(name, {"shuffle_write_bytes": 0, "task_s": 0.0, "wall_s": 0.0, "jobs": 0})

    # Spark 4 rolls the log into a folder of events_<n>_<app> files beside status markers.
    files = [p for p in logs.rglob("*") if p.is_file() and not p.name.startswith((".", "appstatus"))]
    for log in sorted(files):
        with open(log, encoding="utf-8") as handle:
            for line in handle:
                event = json.loads(line)
                kind = event.get("Event")
                if kind == "SparkListenerJobStart":
                    name = (event.get("Properties") or {}).get("spark.job.description") or "other"
                    for stage in event.get("Stage IDs", []):
                        stage_step[stage] = name
                    started[event["Job ID"]] = (name, event.get("Submission Time", 0))
                elif kind == "SparkListenerJobEnd" and event["Job ID"] in started:
                    name, at = started.pop(event["Job ID"])
                    step_of(name)["wall_s"] += (event.get("Completion Time", at) - at) / 1000
                    step_of(name)["jobs"] += 1
                elif kind == "SparkListenerTaskEnd":
                    metrics = event.get("Task Metrics") or {}
                    w = (metrics.get("Shuffle Write Metrics") or {}).get("Shuffle Bytes Written", 0)
                    r = metrics.get("Shuffle Read Metrics") or {}
                    written += w
                    read += r.get("Remote Bytes Read", 0) + r.get("Local Bytes Read", 0)
                    spilled += metrics.get("Disk Bytes Spilled", 0)
                    step = step_of(stage_step.get(event["Stage ID"], "other"))
                    step["shuffle_write_bytes"] += w
                    step["task_s"] += metrics.get("Executor Run Time", 0) / 1000
    return {
        "shuffle_write_bytes": written,
        "shuffle_read_bytes": read,
        "disk_spill_bytes": spilled,
        "steps": steps,
        "exchanges": exchange_volume(files, stage_step),
    }


def exchange_volume(files: list[Path], stage_step: dict[int, str], top: int = 25) -> list[dict[str, Any]]:
    """Shuffle bytes written per exchange of the physical plans, largest first: which
    repartition, join or aggregation moves the bytes (what the SQL tab of the UI shows).

    Every ``Exchange`` node of a plan (SQL execution start and adaptive updates) names the
    accumulator of its "shuffle bytes written" metric; the completed stages report those
    accumulators' values. The exchange is described by its partitioning and the output
    columns of the node below it.
    """
    metric: dict[int, tuple[str, str]] = {}
    totals: dict[int, int] = {}

    def walk(node: dict[str, Any], description: str) -> None:
        if node.get("nodeName", "").endswith("Exchange"):
            child = (node.get("children") or [{}])[0]
            what = f"{node.get('simpleString', '')[:160]} <- {child.get('simpleString', '')[:240]}"
            for m in node.get("metrics", []):
                if m.get("name") == "shuffle bytes written":
                    metric[int(m["accumulatorId"])] = (description, what)
        for child in node.get("children") or []:
            walk(child, description)

    executions: dict[int, str] = {}
    for log in sorted(files):
        with open(log, encoding="utf-8") as handle:
            for line in handle:
                event = json.loads(line)
                kind = event.get("Event", "")
                if kind.endswith("SQLExecutionStart"):
                    executions[event["executionId"]] = event.get("description", "")
                    walk(event.get("sparkPlanInfo") or {}, executions[event["executionId"]])
                elif kind.endswith("SQLAdaptiveExecutionUpdate"):
                    walk(event.get("sparkPlanInfo") or {}, executions.get(event["executionId"], ""))
                elif kind == "SparkListenerStageCompleted":
                    info = event.get("Stage Info") or {}
                    for acc in info.get("Accumulables", []):
                        if int(acc["ID"]) in metric:
                            # an accumulator's value is its running total: keep the last (largest)
                            totals[int(acc["ID"])] = max(totals.get(int(acc["ID"]), 0), int(acc.get("Value") or 0))
    rows = [
        {"bytes": b, "step": metric[i][0] or "other", "exchange": metric[i][1]}
        for i, b in totals.items()
        if b
    ]
    rows.sort(key=lambda r: -r["bytes"])
    return rows[:top]


# --------------------------------------------------------------------------- driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--masters", default="local[1],local[2]")
    parser.add_argument("--jobs", default="1,2", help="n_jobs of the single-machine runs")
    parser.add_argument("--partitions", type=int, default=8, help="spark.sql.shuffle.partitions")
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument("--split-mb", type=int, default=16, help="spark.sql.files.maxPartitionBytes in MiB")
    parser.add_argument("--keep-events", help="keep each Spark run's event log in this folder (for the history server)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    feed = feed_parquet(args.posts, args.seed)
    if args.worker:
        with tempfile.TemporaryDirectory() as tmp:
            kind, _, value = args.worker.partition(":")
            if kind == "one":
                figures = run_one(feed, int(value), Path(tmp))
            else:
                figures = run_spark(
                    feed, value, Path(tmp), args.partitions, args.driver_memory, args.split_mb, args.keep_events
                )
        print("RESULT " + json.dumps(figures), flush=True)
        return

    configs = [f"one:{j}" for j in args.jobs.split(",") if j] + [f"spark:{m}" for m in args.masters.split(",") if m]
    rows: list[dict[str, Any]] = []
    print(f"{'engine':>16} {'wall s':>8} {'posts/s':>9} {'shuffle B/post':>15}", flush=True)
    for config in configs:
        command = [sys.executable, __file__, "--posts", str(args.posts), "--seed", str(args.seed), "--worker", config]
        command += ["--partitions", str(args.partitions), "--driver-memory", args.driver_memory, "--split-mb", str(args.split_mb)]
        if args.keep_events:
            command += ["--keep-events", args.keep_events]
        proc = subprocess.run(command, check=False, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            print(proc.stdout[-2000:], proc.stderr[-4000:], sep="\n")
            raise SystemExit(f"{config} failed with exit code {proc.returncode}")
        figures = json.loads(lines[-1][len("RESULT ") :])
        figures.update(engine=config, posts=args.posts, posts_per_s=args.posts / figures["seconds"])
        if "shuffle_write_bytes" in figures:
            figures["shuffle_write_bytes_per_post"] = figures["shuffle_write_bytes"] / args.posts
        rows.append(figures)
        per_post = figures.get("shuffle_write_bytes_per_post")
        print(
            f"{config:>16} {figures['seconds']:8.1f} {figures['posts_per_s']:9,.0f} "
            f"{'' if per_post is None else f'{per_post:15,.0f}'}",
            flush=True,
        )
    baseline = next((r for r in rows if r["engine"] == "one:1"), rows[0])
    for r in rows:
        r["speed_vs_one_machine_1_job"] = r["posts_per_s"] / baseline["posts_per_s"]
        keys = ("scored", "rejected", "flagged", "clusters", "floods")
        r["same_counts_as_one_machine"] = all(r["summary"].get(k) == baseline["summary"].get(k) for k in keys)
    print("posts/s relative to one machine (1 job): " + ", ".join(f"{r['engine']} {r['speed_vs_one_machine_1_job']:.2f}x" for r in rows))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "spark_scale.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
