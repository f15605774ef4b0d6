"""The ``spamflood`` command. The only module that talks to the user.

Exit codes: 0 success, 1 an error (bad input under ``--strict``, unreadable files, a refused
model), 2 a usage error (unknown option, bad parameter or field map).
"""

from __future__ import annotations

import argparse
import os
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


def _add_detector_options(p: argparse.ArgumentParser, *, model: bool = True) -> None:
    p.add_argument("--threshold", type=float, default=0.5, help="score at which a post is flagged (default 0.5)")
    p.add_argument("--similarity", type=float, default=None, help="Jaccard similarity of near-duplicates (0.7)")
    p.add_argument("--window", default=None, help="sliding window for mass sharing, e.g. 15min, 1h (1h)")
    p.add_argument("--min-authors", type=int, default=None, help="accounts in one window that make a flood (5)")
    p.add_argument("--min-copies", type=int, default=None, help="copies by one account that make repetition (3)")
    p.add_argument("--seed", type=int, default=None, help="MinHash permutation seed (1)")
    p.add_argument("--no-criteria", action="store_true", help="cluster labels only, rule score (faster; no text criteria)")
    if model:
        p.add_argument("--model", help="trained model file (.joblib; default: the bundled model)")
        p.add_argument(
            "--trust-model", action="store_true", help="load a --model file: joblib files can run code, so say you trust it"
        )
        p.add_argument("--rules", action="store_true", help="score with the transparent interim rules, not a model")


def _add_label_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--label-field", required=True, help="field holding each post's label: 0/1, spam/ham, true/false or a list of labels"
    )
    p.add_argument("--truth", help="read labels from this JSONL file (id + label field) instead, e.g. from `spamflood synth`")


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

    train = sub.add_parser("train", help="train a scoring model on a labelled export, with cross-validation figures")
    _add_input_options(train)
    _add_detector_options(train, model=False)
    _add_label_options(train)
    train.add_argument("-o", "--output", required=True, help="the model file to write (.joblib; manifest beside it)")
    train.add_argument("--cv", type=int, default=5, help="cross-validation folds for the printed figures (default 5)")
    train.add_argument(
        "--text",
        choices=("auto", "on", "off"),
        default="auto",
        help="hashed character n-gram text model: auto keeps it only if it raises cross-validated ROC-AUC",
    )
    train.add_argument(
        "--context-dropout",
        type=float,
        default=0.3,
        help="share of rows also learned without account/cadence/calendar features (default 0.3)",
    )
    train.add_argument("--model-seed", type=int, default=0, help="seed of folds and boosters (default 0)")
    train.set_defaults(handler=_cmd_train)

    evaluate = sub.add_parser("evaluate", help="precision, recall, F1, ROC-AUC and PR-AUC of a model on labelled data")
    _add_input_options(evaluate)
    _add_detector_options(evaluate)
    _add_label_options(evaluate)
    evaluate.add_argument("--precision", type=float, default=None, help="also find the threshold reaching this precision")
    evaluate.add_argument("-o", "--output", help="write the figures as JSON here")
    evaluate.set_defaults(handler=_cmd_evaluate)

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


def _detector_params(args: argparse.Namespace) -> dict[str, Any]:
    """The detector parameters given on the command line (the rest come from the model or the
    defaults)."""
    params: dict[str, Any] = {"threshold": args.threshold, "n_jobs": args.jobs, "criteria": not args.no_criteria}
    for name in ("similarity", "window", "min_authors", "min_copies", "seed"):
        value = getattr(args, name, None)
        if value is not None:
            params[name] = value
    if getattr(args, "tz", None) and args.tz != "UTC":
        params["tz"] = args.tz
    return params


def _detector(args: argparse.Namespace) -> Any:
    from spamflood.detector import Detector

    params = _detector_params(args)
    if args.no_criteria or getattr(args, "rules", False) or not hasattr(args, "model"):
        if getattr(args, "model", None):
            raise ConfigError("--model needs the criteria (the model reads them): drop --no-criteria/--rules.")
        return Detector(**params)
    return Detector.load(args.model, trusted=args.trust_model, **params)


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
    if args.output in (None, "-"):
        return None
    out = Path(args.output)
    name = out.name
    for suffix in (".gz", ".joblib", ".html", ".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet", ".pq"):
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
    from spamflood._memory import collector_paused
    from spamflood.detector import effective_jobs
    from spamflood.io.writers import RecordWriter, jsonl_of_columns, jsonl_of_records

    if args.engine == "spark":
        return _cmd_score_spark(args, console)
    started = time.perf_counter()
    # One batch from reading to writing: no collection has to walk its millions of objects
    # (they hold no cycles; see collector_paused).
    with collector_paused():
        result = _run_detector(args, console)
        with RecordWriter(args.output, args.output_format) as writer:
            step = 50_000
            if writer.format == "jsonl":  # encoded on every job's core (forked copies of this process)
                if args.features:
                    encode = lambda a, b: jsonl_of_records(result.records(features=True, start=a, stop=b))  # noqa: E731
                else:
                    encode = lambda a, b: jsonl_of_columns(result.columns(start=a, stop=b))  # noqa: E731
                writer.write_parts(encode, len(result), jobs=effective_jobs(args.jobs), step=step)
            else:
                for start in range(0, len(result), step):
                    if args.features:
                        writer.write_many(result.records(features=True, start=start, stop=start + step))
                    else:
                        writer.write_columns(result.columns(start=start, stop=start + step))
        rejects_path = _write_rejects(result, args, console)
        if not args.quiet:
            _print_summary(result, console, time.perf_counter() - started, rejects_path)
        return _done(EXIT_OK)


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


def _labelled(args: argparse.Namespace, detector: Any, console: Any) -> Any:
    from spamflood.model import labelled_features, read_truth

    truth = read_truth(args.truth, args.label_field) if args.truth else None
    data = labelled_features(
        detector,
        args.input,
        label_field=args.label_field,
        truth=truth,
        field_map=_field_map(args),
        fmt=args.input_format,
        tz=args.tz,
    )
    if args.strict and data.rejects:
        from spamflood.errors import InputError

        first = data.rejects[0]
        raise InputError(first.reason, line=first.line, field=first.field)
    if data.rejects:
        _write_rejects(data, args, console)
    return data


def _cmd_train(args: argparse.Namespace, console: Any) -> int:
    import hashlib
    import shlex

    from spamflood.model import FloodModel, cross_validate, save_model

    started = time.perf_counter()
    if args.no_criteria:
        raise ConfigError("train needs the criteria features: drop --no-criteria.")
    detector = _detector(args)
    data = _labelled(args, detector, console)
    if not len(data.y):
        raise ConfigError("No labelled post to train on (every row was rejected; see the rejects file).")

    def model(text: bool) -> Any:
        return FloodModel(text=text, context_dropout=args.context_dropout, random_state=args.model_seed)

    figures: dict[str, Any] = {}
    candidates = {"auto": (False, True), "on": (True,), "off": (False,)}[args.text]
    for text in candidates:
        if not args.quiet:
            console.print(f"{args.cv}-fold cross-validation, text model {'on' if text else 'off'} ...", markup=False)
        figures["text" if text else "features"] = cross_validate(model(text), data, folds=args.cv, seed=args.model_seed)
    chosen = "features"
    if "text" in figures and (
        "features" not in figures or figures["text"]["roc_auc"] >= figures["features"]["roc_auc"] + 0.005
    ):
        chosen = "text"
    final = model(chosen == "text").fit(data.frame(), data.y, labels=data.labels)
    data_sha = hashlib.sha256(Path(args.input).read_bytes()).hexdigest() if Path(args.input).is_file() else None
    training = {
        "command": "spamflood " + shlex.join(args.argv),
        "data": str(args.input),
        "data_sha256": data_sha,
        "truth": args.truth,
        "label_field": args.label_field,
        "posts": int(len(data.y)),
        "spam": int(data.y.sum()),
        "rejected": len(data.rejects),
        "labels": {k: int(v.sum()) for k, v in data.labels.items()},
        "seed": args.model_seed,
        "text_model": chosen == "text",
    }
    manifest = save_model(
        final, args.output, settings=detector.settings(), training=training, metrics={"cross_validation": figures}
    )
    if not args.quiet:
        _print_figures(figures[chosen], console, title=f"cross-validated figures ({args.cv} folds, {chosen})")
        for other, report in figures.items():
            if other != chosen:
                console.print(f"(without the text model: ROC-AUC {report['roc_auc']:.4f}; with: {figures[chosen]['roc_auc']:.4f})" if chosen == "text" else f"(the text model reached ROC-AUC {report['roc_auc']:.4f}, not enough to keep it)", markup=False)
        console.print(
            f"model: {args.output} ({len(data.y):,} posts, {int(data.y.sum()):,} spam, {len(data.rejects):,} rejected; "
            f"{time.perf_counter() - started:.0f} s); manifest: {manifest}",
            markup=False,
        )
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace, console: Any) -> int:
    import json

    from spamflood.model import binary_report, label_report

    detector = _detector(args)
    data = _labelled(args, detector, console)
    if not len(data.y):
        raise ConfigError("No labelled post to evaluate (every row was rejected; see the rejects file).")
    report = binary_report(data.y, data.score, threshold=args.threshold, precision_target=args.precision)
    report["rejected"] = len(data.rejects)
    report["labels"] = label_report(data)
    report["model"] = "rules" if detector.model is None else str(args.model or "bundled")
    if args.output:
        from spamflood.io.atomic import AtomicOutput

        with AtomicOutput(args.output) as fh:
            fh.write((json.dumps(report, indent=2) + "\n").encode("utf-8"))
    if not args.quiet:
        _print_figures(report, console, title=f"evaluation ({report['model']}, threshold {args.threshold})")
    return EXIT_OK


def _print_figures(report: dict[str, Any], console: Any, *, title: str) -> None:
    from rich.table import Table

    def fmt(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_row("posts (spam)", f"{report['posts']:,} ({report['positives']:,})")
    for name in ("precision", "recall", "f1", "roc_auc", "pr_auc", "brier"):
        table.add_row(name.replace("_", "-").upper() if "auc" in name else name, fmt(report.get(name)))
    c = report["confusion"]
    table.add_row("confusion", f"TP {c['tp']:,}  FP {c['fp']:,}  FN {c['fn']:,}  TN {c['tn']:,}")
    if report.get("precision_target") is not None:
        found = report.get("threshold_for_precision")
        table.add_row(
            f"threshold for precision {report['precision_target']}",
            "not reachable" if not found else f"{found['threshold']:.4f} (precision {found['precision']:.4f}, recall {found['recall']:.4f})",
        )
    console.print(table)
    labels = report.get("labels") or {}
    if labels:
        lt = Table(title="per label", title_justify="left")
        for col in ("label", "posts", "precision", "recall", "F1"):
            lt.add_column(col)
        for label, f in labels.items():
            lt.add_row(label, f"{f['positives']:,}", fmt(f["precision"]), fmt(f["recall"]), fmt(f["f1"]))
        console.print(lt)


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
    global _DEPTH
    _DEPTH += 1
    try:
        return _main(argv)
    finally:
        _DEPTH -= 1


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    console = _console()
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
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


_LEAVE_WHEN_DONE = False
"""Set by the console script: its command leaves the process as soon as its outputs are
written and closed (see :func:`_done`)."""
_DEPTH = 0
"""How many :func:`main` calls are running (``demo`` runs ``score`` and ``clusters`` in one)."""


def _done(code: int) -> int:
    """``code``; from the console script's own command (not one another command runs), leave
    now: flush the standard streams and exit without freeing the batch object by object and
    tearing the interpreter down (about 0.8 s a million posts, and nothing is left to do)."""
    if _LEAVE_WHEN_DONE and _DEPTH == 1:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:  # the reader left: what it did not read is not ours to keep
            pass
        os._exit(code)
    return code


def entrypoint() -> None:
    global _LEAVE_WHEN_DONE
    _LEAVE_WHEN_DONE = True
    _done(main())


if __name__ == "__main__":  # pragma: no cover
    entrypoint()
