"""The ``spamflood`` command. The only module that talks to the user.

Exit codes: 0 success, 1 an error (bad input under ``--strict``, unreadable files, a refused
model), 2 a usage error (unknown option, bad parameter or field map).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from spamflood import __version__
from spamflood.errors import ConfigError, SpamfloodError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print and exit; we decide the exit
        raise _UsageError(f"{self.prog}: {message}")


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------- arguments


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="feed export: .jsonl/.csv/.tsv/.parquet (optionally .gz), or - for stdin")
    p.add_argument("--format", dest="input_format", help="input format when the extension does not tell")
    _add_field_options(p)
    p.add_argument("--max-text", type=int, default=None, help="reject texts longer than this many characters")
    p.add_argument("--rejects", help="where rejected rows go (JSONL; default: beside the output)")
    p.add_argument("--strict", action="store_true", help="stop with exit code 1 at the first bad row")
    p.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (-1: all cores)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")


def _add_field_options(p: argparse.ArgumentParser) -> None:
    """Where fields live and how times read: shared by every command that reads posts."""
    p.add_argument(
        "--preset",
        default="canonical",
        help="field-map preset for common exports: canonical, twitter-v1, twitter-v2, weibo",
    )
    p.add_argument(
        "--map",
        dest="field_map",
        help="where fields live, e.g. id=mid,text=content,author=user.id,time=created_at (name= drops a field)",
    )
    p.add_argument("--optional", default="", help="core fields that may be absent: author,time")
    p.add_argument("--tz", default="UTC", help="time zone for timestamps without an offset (default UTC)")


def _add_detector_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", type=float, default=0.5, help="score at which a post is flagged")
    p.add_argument("--similarity", type=float, default=0.7, help="Jaccard similarity of near-duplicates")
    p.add_argument("--window", default="1h", help="sliding window for mass sharing, e.g. 15min, 1h")
    p.add_argument("--min-authors", type=int, default=5, help="accounts in one window that make a flood")
    p.add_argument("--min-copies", type=int, default=3, help="copies by one account that make repetition")
    p.add_argument("--seed", type=int, default=1, help="MinHash permutation seed")
    p.add_argument("--no-criteria", action="store_true", help="cluster labels only (faster; no text criteria)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spamflood", description="Find marketing floods in social feeds, and explain every score.")
    parser.add_argument("--version", action="version", version=f"spamflood {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    score = sub.add_parser("score", help="score every post of a feed")
    _add_input_options(score)
    _add_detector_options(score)
    score.add_argument("-o", "--output", required=True, help="scored posts: .jsonl/.csv/.parquet, or - for stdout")
    score.add_argument("--output-format", help="output format when the extension does not tell")
    score.add_argument("--features", action="store_true", help="include every named feature value")
    score.add_argument(
        "--engine", choices=("local", "spark"), default="local", help="spark: run on Apache Spark (Parquet in and out)"
    )
    score.add_argument("--master", help="Spark master URL (default: local[*]; spark-submit sets it for you)")
    score.set_defaults(handler=_cmd_score)

    clusters = sub.add_parser("clusters", help="one row per near-duplicate cluster")
    _add_input_options(clusters)
    _add_detector_options(clusters)
    clusters.add_argument("-o", "--output", required=True, help="clusters: .jsonl/.csv/.parquet, or -")
    clusters.add_argument("--output-format", help="output format when the extension does not tell")
    clusters.add_argument("--floods-only", action="store_true", help="only clusters that are mass_share floods")
    clusters.set_defaults(handler=_cmd_clusters)

    report = sub.add_parser("report", help="one self-contained HTML report with the floods on a timeline")
    _add_input_options(report)
    _add_detector_options(report)
    report.add_argument("-o", "--output", required=True, help="the HTML file to write")
    report.add_argument("--title", default="spamflood report", help="page title")
    report.add_argument("--top", type=int, default=10, help="floods to show in detail")
    report.add_argument("--max-rows", type=int, default=200, help="rows in the table of top posts")
    report.set_defaults(handler=_cmd_report)

    watch = sub.add_parser("watch", help="flag floods the moment they form, one verdict per post of a JSONL stream")
    watch.add_argument("input", nargs="?", default="-", help="JSONL file or - for stdin (default), read as it arrives")
    watch.add_argument("-o", "--output", default="-", help="verdicts as JSONL (default stdout)")
    watch.add_argument("--flags-only", action="store_true", help="write only verdicts of posts in a flood")
    watch.add_argument("--redis", help="share the window through Redis: redis://[:password@]host:port/db or rediss://")
    watch.add_argument("--key-prefix", default="spamflood", help="Redis key prefix of this deployment")
    watch.add_argument("--window", default="1h", help="sliding window, e.g. 15min, 1h")
    watch.add_argument("--min-authors", type=int, default=5, help="accounts in one window that make a flood")
    watch.add_argument("--min-copies", type=int, default=3, help="copies by one account that make repetition")
    watch.add_argument("--similarity", type=float, default=0.7, help="Jaccard similarity of near-duplicates")
    _add_field_options(watch)
    watch.add_argument("--rejects", help="where rejected lines go (JSONL); default: counted only, first few on stderr")
    watch.add_argument("-q", "--quiet", action="store_true", help="no summary")
    watch.set_defaults(handler=_cmd_watch)

    synth = sub.add_parser("synth", help="generate a synthetic feed with planted floods and ground truth")
    synth.add_argument("--posts", type=int, required=True, help="posts to generate")
    synth.add_argument("--seed", type=int, default=0, help="generator seed (same seed, same bytes)")
    synth.add_argument("-o", "--output", required=True, help="the feed (JSONL)")
    synth.add_argument("--truth", required=True, help="per-post ground truth (JSONL); campaigns go beside it")
    synth.add_argument("--zh-ratio", type=float, default=0.5, help="share of Chinese posts (default 0.5)")
    synth.add_argument("--spam-ratio", type=float, default=0.15, help="share of campaign posts (default 0.15)")
    synth.add_argument("--evasion", type=float, default=0.5, help="share of campaign posts with evasion")
    synth.add_argument("--start", default="2026-01-20", help="first day (ISO date)")
    synth.add_argument("--days", type=int, default=30, help="days the feed covers")
    synth.add_argument("--tz", default="Asia/Shanghai", help="local time zone of the users")
    synth.add_argument("-q", "--quiet", action="store_true", help="no summary")
    synth.set_defaults(handler=_cmd_synth)

    demo = sub.add_parser("demo", help="generate a synthetic feed and score it (the main job, end to end)")
    demo.add_argument("--posts", type=int, default=20_000, help="posts to generate (default 20000)")
    demo.add_argument("--seed", type=int, default=7, help="generator seed")
    demo.add_argument("--dir", default="spamflood-demo", help="folder for the demo files (default ./spamflood-demo)")
    demo.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (-1: all cores)")
    demo.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    demo.set_defaults(handler=_cmd_demo)
    return parser


# ---------------------------------------------------------------------------- helpers


def _field_map(args: argparse.Namespace) -> Any:
    from spamflood.io.fieldmap import FieldMap

    optional = tuple(x.strip() for x in args.optional.split(",") if x.strip())
    return FieldMap.parse(args.field_map, preset=args.preset, optional=optional)


def _detector(args: argparse.Namespace) -> Any:
    from spamflood.detector import Detector

    return Detector(
        threshold=args.threshold,
        similarity=args.similarity,
        window=args.window,
        min_authors=args.min_authors,
        min_copies=args.min_copies,
        seed=args.seed,
        n_jobs=args.jobs,
        tz=args.tz,
        criteria=not args.no_criteria,
    )


def _run_detector(args: argparse.Namespace, console: Any) -> Any:
    from spamflood.io.rows import DEFAULT_MAX_TEXT_CHARS

    detector = _detector(args)
    field_map = _field_map(args)
    kwargs: dict[str, Any] = {
        "field_map": field_map,
        "fmt": args.input_format,
        "tz": args.tz,
        "max_text_chars": args.max_text or DEFAULT_MAX_TEXT_CHARS,
        "strict": args.strict,
    }
    if args.quiet:
        return detector.score(args.input, **kwargs)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]reading and hashing[/] {task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("read", total=None)
        kwargs["progress"] = lambda rows: progress.update(task, completed=rows)
        return detector.score(args.input, **kwargs)


def _rejects_path(args: argparse.Namespace) -> str | None:
    if args.rejects:
        return str(args.rejects)
    if args.output == "-":
        return None
    out = Path(args.output)
    name = out.name
    for suffix in (".gz", ".html", ".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet", ".pq"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return str(out.with_name(name + ".rejects.jsonl"))


def _write_rejects(result: Any, args: argparse.Namespace, console: Any) -> str | None:
    from spamflood.io.writers import write_records

    path = _rejects_path(args)
    if not result.rejects:
        return None
    if path is None:
        for reject in result.rejects:
            console.print(f"rejected: {reject.message()}", markup=False)
        return None
    write_records(path, (r.to_dict() for r in result.rejects), fmt="jsonl")
    return path


def _print_summary(result: Any, console: Any, seconds: float, rejects_path: str | None) -> None:
    from rich.table import Table

    summary = result.summary()
    table = Table(title="spamflood summary", show_header=False, title_justify="left")
    table.add_row("rows read", f"{summary['rows_read']:,}")
    table.add_row("scored", f"{summary['scored']:,}")
    table.add_row("rejected", f"{summary['rejected']:,}" + (f"  -> {rejects_path}" if rejects_path else ""))
    if summary["blank_lines"]:
        table.add_row("blank lines skipped", f"{summary['blank_lines']:,}")
    table.add_row("flagged", f"{summary['flagged']:,}")
    table.add_row("near-duplicate clusters", f"{summary['clusters']:,}")
    table.add_row("floods found", f"{summary['floods']:,}")
    rate = summary["rows_read"] / seconds if seconds > 0 else 0.0
    table.add_row("time", f"{seconds:.1f} s ({rate:,.0f} rows/s)")
    console.print(table)
    for reject in result.rejects[:5]:
        console.print(f"  rejected {reject.message()}", markup=False)
    if len(result.rejects) > 5:
        console.print(f"  ... and {len(result.rejects) - 5} more rejected rows", markup=False)
    floods = result.cluster_records()
    top = [r for r in floods if r["flood"]][:5]
    if top:
        ft = Table(title="top floods", title_justify="left")
        for col in ("cluster", "posts", "accounts", "span", "text"):
            ft.add_column(col, overflow="ellipsis", no_wrap=col != "text", max_width=60 if col == "text" else None)
        for r in top:
            text = " ".join(r["representative_text"].split())
            ft.add_row(str(r["cluster"]), f"{r['size']:,}", f"{r['authors']:,}", r["span"], text[:120])
        console.print(ft)


# ---------------------------------------------------------------------------- commands


def _cmd_score_spark(args: argparse.Namespace, console: Any) -> int:
    from spamflood.io.readers import detect_format

    if detect_format(args.input, args.input_format) != "parquet" or detect_format(args.output, args.output_format) != "parquet":
        raise ConfigError("--engine spark reads and writes Parquet: give .parquet input and output paths.")
    from pyspark.sql import SparkSession

    from spamflood.spark import score_parquet

    builder = SparkSession.builder.appName("spamflood").config("spark.ui.showConsoleProgress", "false")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        summary = score_parquet(
            spark,
            args.input,
            args.output,
            rejects_path=args.rejects,
            detector=_detector(args),
            field_map=_field_map(args),
            tz=args.tz,
            strict=args.strict,
            mode="overwrite",
            **({"max_text_chars": args.max_text} if args.max_text else {}),
        )
    finally:
        spark.stop()
    if not args.quiet:
        console.print("spark: " + ", ".join(f"{k} {v}" for k, v in summary.items()), markup=False)
    return EXIT_OK


def _cmd_score(args: argparse.Namespace, console: Any) -> int:
    from spamflood.io.writers import RecordWriter

    if args.engine == "spark":
        return _cmd_score_spark(args, console)
    started = time.perf_counter()
    result = _run_detector(args, console)
    with RecordWriter(args.output, args.output_format) as writer:
        step = 50_000
        for start in range(0, len(result), step):
            writer.write_many(result.records(features=args.features, start=start, stop=start + step))
    rejects_path = _write_rejects(result, args, console)
    if not args.quiet:
        _print_summary(result, console, time.perf_counter() - started, rejects_path)
    return EXIT_OK


def _cmd_clusters(args: argparse.Namespace, console: Any) -> int:
    from spamflood.io.writers import write_records

    started = time.perf_counter()
    result = _run_detector(args, console)
    rows = result.cluster_records()
    if args.floods_only:
        rows = [r for r in rows if r["flood"]]
    write_records(args.output, rows, fmt=args.output_format)
    rejects_path = _write_rejects(result, args, console)
    if not args.quiet:
        _print_summary(result, console, time.perf_counter() - started, rejects_path)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace, console: Any) -> int:
    from spamflood.report import report_command

    started = time.perf_counter()
    result = _run_detector(args, console)
    info = report_command(
        result, args.output, title=args.title, top=args.top, max_rows=args.max_rows, source=args.input, tz=args.tz
    )
    rejects_path = _write_rejects(result, args, console)
    if not args.quiet:
        _print_summary(result, console, time.perf_counter() - started, rejects_path)
        console.print(f"report: {info['path']} ({info['bytes'] / 1024:,.0f} KiB)", markup=False)
    return EXIT_OK


def _cmd_watch(args: argparse.Namespace, console: Any) -> int:
    from spamflood.stream import FloodMonitor, watch

    monitor = FloodMonitor(
        window=args.window,
        min_authors=args.min_authors,
        min_copies=args.min_copies,
        threshold=args.similarity,
        store=args.redis or "memory",
        key_prefix=args.key_prefix,
    )
    source = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")
    try:
        summary = watch(
            source,
            args.output,
            monitor=monitor,
            field_map=_field_map(args),
            tz=args.tz,
            flags_only=args.flags_only,
            rejects=args.rejects,
        )
    finally:
        monitor.close()
        if source is not sys.stdin.buffer:
            source.close()
    if not args.quiet:
        console.print(
            f"watch: {summary.lines:,} lines, {summary.verdicts:,} verdicts, {summary.flood_verdicts:,} in floods, "
            f"{summary.rejected:,} rejected" + (f" -> {args.rejects}" if args.rejects and summary.rejected else ""),
            markup=False,
        )
    return EXIT_OK


def _cmd_synth(args: argparse.Namespace, console: Any) -> int:
    from spamflood import synth

    started = time.perf_counter()
    summary = synth.write(
        args.output,
        args.truth,
        posts=args.posts,
        seed=args.seed,
        zh_ratio=args.zh_ratio,
        spam_ratio=args.spam_ratio,
        evasion=args.evasion,
        start=args.start,
        days=args.days,
        tz=args.tz,
    )
    if not args.quiet:
        seconds = time.perf_counter() - started
        console.print(
            f"{summary.posts:,} posts ({summary.campaign_posts:,} from {sum(summary.campaigns.values())} campaigns) "
            f"in {seconds:.1f} s -> {args.output}; truth -> {args.truth}",
            markup=False,
        )
        console.print("campaign posts per label: " + ", ".join(f"{k} {v:,}" for k, v in summary.labels.items()), markup=False)
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace, console: Any) -> int:
    from spamflood import synth

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    feed, truth = folder / "feed.jsonl", folder / "truth.jsonl"
    if not args.quiet:
        console.print(f"generating {args.posts:,} synthetic posts (seed {args.seed}) -> {feed}")
    synth.write(feed, truth, posts=args.posts, seed=args.seed)
    out = folder / "scored.jsonl"
    code = main(["score", str(feed), "-o", str(out), "-j", str(args.jobs)] + (["-q"] if args.quiet else []))
    if code == EXIT_OK:
        code = main(["clusters", str(feed), "-o", str(folder / "clusters.jsonl"), "-j", str(args.jobs), "-q"])
    if code == EXIT_OK and not args.quiet:
        console.print(f"scored posts: {out}\nclusters: {folder / 'clusters.jsonl'}\nground truth: {truth}")
    return code


# ---------------------------------------------------------------------------- entry points


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (testable without a subprocess)."""
    parser = build_parser()
    console = _console()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        console.print(f"ERROR {exc}", markup=False)
        console.print("hint: spamflood COMMAND --help", markup=False)
        return EXIT_USAGE
    handler: Callable[[argparse.Namespace, Any], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args, console)
    except ConfigError as exc:
        console.print(f"ERROR {exc}", markup=False)
        return EXIT_USAGE
    except SpamfloodError as exc:
        console.print(f"ERROR {exc}", markup=False)
        return EXIT_ERROR
    except OSError as exc:
        console.print(f"ERROR {exc}", markup=False)
        return EXIT_ERROR
    except KeyboardInterrupt:
        console.print("interrupted", markup=False)
        return 130


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entrypoint()
