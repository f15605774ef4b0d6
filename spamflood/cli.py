"""The ``spamflood`` command. The only module that talks to the user.

Exit codes, the same from the installed script, ``python -m spamflood`` and :func:`main`:
0 success; 1 an error (a missing or unreadable input, bad input under ``--strict``, a refused
model, a failed write, Redis down, the reader of standard output gone); 2 a usage error
(unknown option, bad parameter or field map, an output that is an input or another output);
130 interrupted (Ctrl-C).

Nothing heavy is imported at the top: ``spamflood --version`` and ``--help`` stay quick.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from spamflood._version import __version__
from spamflood.errors import ConfigError, SpamfloodError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _UsageError(Exception):
    pass


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Help that ends each option with its default, unless there is none to show (a flag, an
    option whose help already says what happens without it)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:  # argparse would print and exit; we decide the exit
        raise _UsageError(f"{self.prog}: {message}")


class _Choices:
    """Choices read from the library when argparse first needs them (to check a value or
    write help), so that building the parser imports nothing heavy. (An option with these
    choices needs a ``metavar``: argparse would read the choices to make one.)"""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __contains__(self, value: object) -> bool:
        return value in self._load()


def _formats() -> Sequence[str]:
    from spamflood.io.readers import FORMATS

    return FORMATS


def _presets() -> Sequence[str]:
    from spamflood.io.fieldmap import preset_names

    return preset_names()


def _input_formats() -> Sequence[str]:
    from spamflood.io.readers import INPUT_FORMATS

    return INPUT_FORMATS


FORMAT_CHOICES, INPUT_FORMAT_CHOICES, PRESET_CHOICES = _Choices(_formats), _Choices(_input_formats), _Choices(_presets)


def _number(kind: type, low: float, high: float | None = None, *, above: bool = False, below: bool = False) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)`` in ``[low, high]`` (``above``/``below``: not equal to
    that end). A value outside is a usage error that names the option, as argparse does."""
    what = "an integer" if kind is int else "a number"
    if high is None:
        bound = f"more than {low:g}" if above else f"at least {low:g}"
    else:
        bound = f"in {'(' if above else '['}{low:g}, {high:g}{')' if below else ']'}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} {bound}; got {text!r}") from None
        inside = (value > low if above else value >= low) and (
            high is None or (value < high if below else value <= high)
        )
        if not inside:
            raise argparse.ArgumentTypeError(f"must be {bound}; got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def _jobs(text: str) -> int:
    """``-j``: a positive count of worker processes, or -1 for all cores."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(f"must be a positive count of processes or -1 (all cores); got {text!r}")
    return value


def _duration(text: str) -> str:
    """A window such as ``90s``, ``15min``, ``1h``: checked here, read by the library."""
    from spamflood.durations import parse_duration

    try:
        parse_duration(text)
    except ConfigError:
        raise argparse.ArgumentTypeError(f"must be a positive duration like 90s, 15min, 1h or 2d; got {text!r}") from None
    return text


_FRACTION = _number(float, 0.0, 1.0)
_SIMILARITY = _number(float, 0.0, 1.0, above=True, below=True)
_POSITIVE = _number(int, 1)
_AT_LEAST_TWO = _number(int, 2)
_SEED = _number(int, 0, 2**32 - 1)


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------- arguments


def _add_input_options(p: argparse.ArgumentParser, *, max_text: bool = True, several: bool = False, layout: bool = True) -> None:
    """The input and how it reads; ``several``: one or more files read as one feed, each
    optionally with constant fields (``spam.txt:label=1``); ``layout``: plain inputs too."""
    if several:
        p.add_argument(
            "input",
            nargs="+",
            help="labelled exports read as one feed: .jsonl/.csv/.tsv/.parquet/.txt (optionally .gz), or - for stdin; "
            "FILE:FIELD=VALUE gives every row of FILE that field (e.g. spam.txt:label=1 when the file is the label)",
        )
    else:
        p.add_argument("input", help="feed export: .jsonl/.csv/.tsv/.parquet/.txt (optionally .gz), or - for stdin")
    p.add_argument(
        "--format",
        dest="input_format",
        choices=INPUT_FORMAT_CHOICES if layout else FORMAT_CHOICES,
        metavar="FORMAT",
        help="input format: %(choices)s (default: from the extension; .txt is lines)",
    )
    if layout:
        p.add_argument(
            "--line-format",
            help="lines format: where the fields are in each line, e.g. '{text}=={label}' or '{label}\\t{text}'; "
            "text takes the rest, so '{text}=={label}' splits on the last == (default: '{text}')",
        )
        p.add_argument(
            "--columns", help="csv/tsv without a header line: its column names, e.g. label,text (every line is a row)"
        )
        p.add_argument(
            "--unsegment",
            action="store_true",
            help="lines format: the text is word-segmented (jieba): drop its spaces but those between two latin letters or digits",
        )
    _add_field_options(p)
    if max_text:
        p.add_argument(
            "--max-text", type=_POSITIVE, help="reject texts longer than this many characters (default: 20000)"
        )
    p.add_argument(
        "--rejects",
        help="where rejected rows go, as JSONL (default: OUTPUT.rejects.jsonl beside a file output, stderr for -). "
        "Each run owns this file: a run that rejects nothing removes the one a previous run left",
    )
    p.add_argument("--strict", action="store_true", help="stop with exit code 1 at the first bad row")
    p.add_argument("-j", "--jobs", type=_jobs, default=1, help="worker processes (-1: all cores)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")


def _add_field_options(p: argparse.ArgumentParser) -> None:
    """Where fields live and how times read: shared by every command that reads posts."""
    p.add_argument(
        "--preset", default="canonical", choices=PRESET_CHOICES, metavar="PRESET", help="field-map preset: %(choices)s"
    )
    p.add_argument(
        "--map",
        dest="field_map",
        help="where fields live, e.g. id=mid,text=content,author=user.id,time=created_at (name= drops a field)",
    )
    p.add_argument("--optional", default="", help="core fields that may be absent, e.g. author,time (default: none)")
    p.add_argument("--tz", default="UTC", help="time zone for timestamps without an offset (IANA name or +08:00)")


def _add_detector_options(p: argparse.ArgumentParser, *, scoring: bool = True) -> None:
    """The detector's settings; ``scoring``: also those of a scoring run (the threshold, which
    model scores), which mean nothing to ``train``."""
    if scoring:
        p.add_argument("--threshold", type=_FRACTION, default=0.5, help="score at which a post is flagged, in [0, 1]")
    _add_flood_options(p)
    p.add_argument("--seed", type=_SEED, help="MinHash permutation seed (default: 1, or the model's)")
    if scoring:
        p.add_argument(
            "--no-criteria", action="store_true", help="cluster labels only, rule score (faster; no text criteria)"
        )
        p.add_argument(
            "--no-coordination",
            action="store_true",
            help="do not look for coordinated groups on shared links, hashtags and mentions (no 'coordinated' label)",
        )
        _add_model_options(p)


def _add_flood_options(p: argparse.ArgumentParser) -> None:
    """What makes a flood (batch and stream alike): near-duplicates, window, accounts, copies."""
    p.add_argument(
        "--similarity", type=_SIMILARITY, help="Jaccard similarity of near-duplicates, in (0, 1) (default: 0.7, or the model's)"
    )
    p.add_argument(
        "--window", type=_duration, help="sliding window for mass sharing, e.g. 15min, 1h (default: 1h, or the model's)"
    )
    p.add_argument(
        "--min-authors", type=_AT_LEAST_TWO, help="accounts in one window that make a flood (default: 5, or the model's)"
    )
    p.add_argument(
        "--min-copies", type=_AT_LEAST_TWO, help="copies by one account that make repetition (default: 3, or the model's)"
    )
    p.add_argument(
        "--interval",
        type=_duration,
        help="accounts posting one link, hashtag, mention or repost this close co-post, e.g. 30s, 2min "
        "(default: 1min, or the model's)",
    )
    p.add_argument(
        "--min-coposts",
        type=_AT_LEAST_TWO,
        help="co-posting occasions that tie two accounts into a coordinated group (default: 3, or the model's)",
    )


def _add_model_options(p: argparse.ArgumentParser) -> None:
    """Which model scores: the bundled one, a trusted file, or the rule score."""
    p.add_argument("--model", help="trained model file, .joblib (default: the bundled model)")
    p.add_argument(
        "--trust-model", action="store_true", help="load a --model file: joblib files can run code, so say you trust it"
    )
    p.add_argument("--rules", action="store_true", help="score with the transparent rule score, not a model (the same labels)")


def _add_label_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--label-field", required=True, help="field holding each post's label: 0/1, spam/ham, true/false or a list of labels"
    )
    p.add_argument("--truth", help="read labels from this JSONL file (id + label field) instead, e.g. from `spamflood synth`")
    p.add_argument(
        "--label-values",
        help="the export's own label values and what they mean, e.g. scam=1,real=0 (then any other value is rejected)",
    )


_ACCOUNTS_EPILOG = """\
examples:
  spamflood accounts feed.jsonl -o accounts.jsonl
  spamflood accounts users.csv --kind profiles -o accounts.csv --features \\
    --map author=id,author_name=name,author_bio=description,author_created=created_at,followers=followers_count,following=friends_count,statuses=statuses_count

A profile row whose account id is missing, or whose mapped value cannot be read (a count
that is not a number, a time that is not a time), or that repeats an account already read,
goes to the rejects file with its line and field; the other rows are scored.
"""

_WATCH_EPILOG = """\
event time and late posts:
  The window is measured in the posts' own times, not the clock. The watermark is the newest
  post time seen so far (shared by every worker on one --redis store); the window is the
  --window before it. A post older than that when it arrives is late: its verdict says
  "late": true and why, and it is not judged, indexed or counted. A file in newest-first
  order (as the Twitter and Weibo APIs export it) is then almost all late: read it with
  --sort, or, for a stream that is only a little out of order, hold posts with
  --allowed-lateness 5min (verdicts then come out in time order, each naming its input line,
  at most that much later in event time; at most 100,000 posts are held).

coordinated groups:
  Accounts that post the same link, hashtag, mention or repost within 60 s of each other,
  again and again within the --window, are flagged "coordinated" once their group forms
  (with --redis every worker sharing the server sees one account network).

examples:
  tail -f feed.jsonl | spamflood watch - --flags-only --window 1h --min-authors 5
  spamflood watch export.jsonl.gz --sort -o verdicts.jsonl
  spamflood watch - --redis redis://:secret@10.0.0.5:6379/0 --key-prefix prod --redis-timeout 30
"""


def _add_output_format(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--output-format",
        choices=FORMAT_CHOICES,
        metavar="FORMAT",
        help="output format: %(choices)s (default: from the extension)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spamflood", description="Find marketing floods in social feeds, and explain every score.")
    parser.add_argument("--version", action="version", version=f"spamflood {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    score = sub.add_parser("score", help="score every post of a feed")
    _add_input_options(score)
    _add_detector_options(score)
    score.add_argument("-o", "--output", required=True, help="scored posts: .jsonl/.csv/.parquet, or - for stdout")
    _add_output_format(score)
    score.add_argument("--features", action="store_true", help="include every named feature value")
    score.add_argument(
        "--engine", choices=("local", "spark"), default="local", help="spark: run on Apache Spark (same formats and files as local)"
    )
    score.add_argument("--master", help="Spark master URL (default: local[*]; spark-submit sets it for you)")
    score.set_defaults(handler=_cmd_score)

    clusters = sub.add_parser("clusters", help="one row per near-duplicate cluster")
    _add_input_options(clusters)
    _add_detector_options(clusters)
    clusters.add_argument("-o", "--output", required=True, help="clusters: .jsonl/.csv/.parquet, or -")
    _add_output_format(clusters)
    clusters.add_argument("--floods-only", action="store_true", help="only clusters that are mass_share floods")
    clusters.set_defaults(handler=_cmd_clusters)

    groups = sub.add_parser("groups", help="one row per coordinated group of accounts (co-posting the same objects)")
    _add_input_options(groups)
    _add_detector_options(groups)
    groups.add_argument("-o", "--output", required=True, help="groups: .jsonl/.csv/.parquet, or -")
    _add_output_format(groups)
    groups.add_argument(
        "--coordinated-only", action="store_true", help="only groups the coordinated label fired on (enough accounts)"
    )
    groups.set_defaults(handler=_cmd_groups)

    report = sub.add_parser(
        "report", help="one self-contained HTML report with the floods and coordinated groups on timelines"
    )
    _add_input_options(report)
    _add_detector_options(report)
    report.add_argument("-o", "--output", required=True, help="the HTML file to write")
    report.add_argument("--title", default="spamflood report", help="page title")
    report.add_argument("--top", type=_POSITIVE, default=10, help="floods, and coordinated groups, to show in detail")
    report.add_argument("--max-rows", type=_POSITIVE, default=200, help="rows in the table of top posts")
    report.set_defaults(handler=_cmd_report)

    watch = sub.add_parser(
        "watch",
        help="flag floods the moment they form, one verdict per post of a JSONL stream",
        description="Flag floods the moment they form: one verdict (JSON line) per post, as each line arrives.",
        epilog=_WATCH_EPILOG,
    )
    watch.add_argument(
        "input", nargs="?", default="-", help="JSONL file (.gz read too) or - for stdin (default), read as it arrives"
    )
    watch.add_argument("-o", "--output", default="-", help="verdicts as JSONL (default: - for stdout)")
    watch.add_argument(
        "--flags-only", action="store_true", help="write only verdicts of posts in a flood, and late ones"
    )
    watch.add_argument(
        "--allowed-lateness",
        default="0",
        metavar="DURATION",
        help="hold posts up to this far behind the newest one, to judge them in time order, e.g. 5min (default: 0)",
    )
    watch.add_argument(
        "--sort", action="store_true", help="read the whole input first, then judge it in time order (finite input)"
    )
    watch.add_argument("--redis", help="share the window through Redis: redis://[:password@]host:port/db or rediss://")
    watch.add_argument(
        "--redis-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="give up when Redis has not answered for this long, retrying meanwhile (default: 10)",
    )
    watch.add_argument(
        "--key-prefix", default="spamflood", help="Redis key prefix of this deployment (default: %(default)s)"
    )
    _add_flood_options(watch)  # the window is in the posts' own times (see the epilog)
    watch.add_argument(
        "--no-coordination",
        action="store_true",
        help="keep no account network: no 'coordinated' label (less memory, fewer Redis keys)",
    )
    _add_model_options(watch)
    _add_field_options(watch)
    watch.add_argument("--rejects", help="where rejected lines go (JSONL); default: counted only, first few on stderr")
    watch.add_argument("-q", "--quiet", action="store_true", help="no summary, no rejects on stderr")
    watch.set_defaults(handler=_cmd_watch)

    accounts = sub.add_parser(
        "accounts",
        help="score every account of a feed or of a profiles-only export",
        description="Score accounts on their own: one row per account with its score, flag, labels and reasons.",
        epilog=_ACCOUNTS_EPILOG,
    )
    _add_input_options(accounts, max_text=False, layout=False)
    accounts.add_argument(
        "--kind",
        choices=("auto", "posts", "profiles"),
        default="auto",
        help="posts: a feed (one row per post); profiles: one row per account, no text; auto: posts when the first row has the text field",
    )
    accounts.add_argument("-o", "--output", required=True, help="scored accounts: .jsonl/.csv/.parquet, or - for stdout")
    _add_output_format(accounts)
    accounts.add_argument("--features", action="store_true", help="include every ACCOUNT_* feature value")
    accounts.add_argument("--threshold", type=_FRACTION, default=0.5, help="score at which an account is flagged, in [0, 1]")
    accounts.add_argument(
        "--min-accounts",
        type=_AT_LEAST_TWO,
        help="accounts created within --burst-window that make a registration burst (default: min_accounts of the criteria, 3)",
    )
    accounts.add_argument(
        "--burst-window", type=_duration, help="creation times this close are one burst, e.g. 10min (default: 10min, or the model's)"
    )
    accounts.add_argument("--model", help="account model file, .joblib (default: the bundled account model)")
    accounts.add_argument("--trust-model", action="store_true", help="load a --model file: joblib files can run code, so say you trust it")
    accounts.add_argument("--rules", action="store_true", help="score with the rule score, not a model (the same labels)")
    accounts.set_defaults(handler=_cmd_accounts)

    synth = sub.add_parser("synth", help="generate a synthetic feed with planted floods and ground truth")
    synth.add_argument("--posts", type=_POSITIVE, required=True, help="posts to generate")
    synth.add_argument("--seed", type=int, default=0, help="generator seed (same seed, same bytes)")
    synth.add_argument("-o", "--output", required=True, help="the feed (JSONL)")
    synth.add_argument("--truth", required=True, help="per-post ground truth (JSONL); campaigns go beside it")
    synth.add_argument("--zh-ratio", type=_FRACTION, default=0.5, help="share of Chinese posts")
    synth.add_argument("--spam-ratio", type=_FRACTION, default=0.15, help="share of campaign posts")
    synth.add_argument("--evasion", type=_FRACTION, default=0.5, help="share of campaign posts with evasion")
    synth.add_argument("--start", default="2026-01-20", help="first day (ISO date)")
    synth.add_argument("--days", type=_POSITIVE, default=30, help="days the feed covers")
    synth.add_argument("--tz", default="Asia/Shanghai", help="local time zone of the users")
    synth.add_argument("-q", "--quiet", action="store_true", help="no summary")
    synth.set_defaults(handler=_cmd_synth)

    train = sub.add_parser("train", help="train a scoring model on a labelled export, with cross-validation figures")
    _add_input_options(train, max_text=False, several=True)
    _add_detector_options(train, scoring=False)
    _add_label_options(train)
    train.add_argument("-o", "--output", required=True, help="the model file to write (.joblib; manifest beside it)")
    train.add_argument("--cv", type=_AT_LEAST_TWO, default=5, help="cross-validation folds for the printed figures")
    train.add_argument(
        "--text",
        choices=("auto", "on", "off"),
        default="auto",
        help="hashed character n-gram text model: auto keeps it only if it raises cross-validated ROC-AUC",
    )
    train.add_argument(
        "--context-dropout",
        type=_number(float, 0.0, 1.0, below=True),
        default=0.3,
        help="share of rows also learned without account/cadence/calendar features, in [0, 1)",
    )
    train.add_argument("--model-seed", type=int, default=0, help="seed of folds and boosters")
    train.set_defaults(handler=_cmd_train)

    evaluate = sub.add_parser("evaluate", help="precision, recall, F1, ROC-AUC and PR-AUC of a model on labelled data")
    _add_input_options(evaluate, max_text=False, several=True)
    _add_detector_options(evaluate)
    _add_label_options(evaluate)
    evaluate.add_argument(
        "--precision", type=_number(float, 0.0, 1.0, above=True), help="also find the threshold reaching this precision"
    )
    evaluate.add_argument("-o", "--output", help="write the figures as JSON here")
    evaluate.set_defaults(handler=_cmd_evaluate)

    demo = sub.add_parser("demo", help="generate a synthetic feed, score it and compare with its ground truth")
    demo.add_argument("--posts", type=_POSITIVE, default=20_000, help="posts to generate")
    demo.add_argument("--seed", type=int, default=7, help="generator seed")
    demo.add_argument(
        "--dir", help="folder for the demo files (default: a new temporary folder spamflood-demo-*, printed)"
    )
    demo.add_argument("-j", "--jobs", type=_jobs, default=1, help="worker processes (-1: all cores)")
    demo.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    demo.set_defaults(handler=_cmd_demo)
    return parser


# ---------------------------------------------------------------------------- helpers


def _field_map(args: argparse.Namespace) -> Any:
    from spamflood.io.fieldmap import FieldMap

    optional = tuple(x.strip() for x in args.optional.split(",") if x.strip())
    return FieldMap.parse(args.field_map, preset=args.preset, optional=optional)


def _layout(args: argparse.Namespace) -> Any:
    """How plain inputs read (``--line-format``, ``--columns``, ``--unsegment``), or ``None``."""
    from spamflood.io.layout import Layout

    if getattr(args, "line_format", None) is None and getattr(args, "columns", None) is None and not getattr(args, "unsegment", False):
        return None
    return Layout.parse(line_format=args.line_format, columns=args.columns, unsegment=args.unsegment)


def _inputs(args: argparse.Namespace) -> Any:
    """What ``train``/``evaluate`` read: one path as it is, several files (or constant
    fields) as :class:`~spamflood.io.layout.InputFile` read as one feed."""
    from spamflood.io.layout import InputFile

    files = [InputFile.parse(spec) for spec in args.input]
    return files[0].path if len(files) == 1 and not files[0].fields else files


def _detector_params(args: argparse.Namespace) -> dict[str, Any]:
    """The detector parameters given on the command line (the rest come from the model or the
    defaults)."""
    params: dict[str, Any] = {"n_jobs": args.jobs, "criteria": not getattr(args, "no_criteria", False)}
    for name in ("threshold", "similarity", "window", "min_authors", "min_copies", "interval", "min_coposts", "seed"):
        value = getattr(args, name, None)
        if value is not None:
            params[name] = value
    if getattr(args, "no_coordination", False):
        params["coordinated"] = False
    if getattr(args, "tz", None) and args.tz != "UTC":
        params["tz"] = args.tz
    return params


def _detector(args: argparse.Namespace) -> Any:
    from spamflood.detector import Detector

    params = _detector_params(args)
    if getattr(args, "no_criteria", False) or getattr(args, "rules", False) or not hasattr(args, "model"):
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
        "max_text_chars": getattr(args, "max_text", None) or DEFAULT_MAX_TEXT_CHARS,
        "strict": args.strict,
        "layout": _layout(args),
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
    """Where this run's rejected rows go: ``--rejects``, else ``OUTPUT.rejects.jsonl`` beside a
    file output; ``None``: standard error."""
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
    """Write the run's rejects where :func:`_rejects_path` says and return that path, or print
    them to standard error. Each run owns its rejects file: one with no rejects removes the file
    a previous run left (``None`` then), so that no old reject reads as one of this run."""
    from spamflood.io.writers import write_records

    path = _rejects_path(args)
    if not result.rejects:
        if path is not None:
            Path(path).unlink(missing_ok=True)
        return None
    if path is None:
        for reject in result.rejects:
            console.print(f"rejected: {reject.message()}", markup=False)
        return None
    write_records(path, (r.to_dict() for r in result.rejects), fmt="jsonl")
    return path


def _paths(args: argparse.Namespace) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(inputs, outputs)`` of the command: ``(option, path)`` pairs, standard streams left out."""
    command = args.command
    inputs: list[tuple[str, str]] = []
    outputs: list[tuple[str, str]] = []
    if command == "demo":
        return inputs, outputs
    if command == "synth":
        from spamflood.synth.writer import campaigns_path_for

        outputs += [("-o/--output", args.output), ("--truth", args.truth)]
        outputs.append(("the campaigns file beside --truth", str(campaigns_path_for(args.truth))))
        return inputs, outputs
    if isinstance(args.input, list):  # train, evaluate: several inputs, each maybe with constant fields
        from spamflood.io.layout import InputFile

        inputs += [("input", InputFile.parse(spec).path) for spec in args.input]
    else:
        inputs.append(("input", args.input))
    if getattr(args, "label_field", None) is not None and args.truth:
        inputs.append(("--truth", args.truth))
    if args.output:
        outputs.append(("-o/--output", args.output))
    if command == "train":
        from spamflood.model.store import manifest_path

        outputs.append(("the manifest beside -o/--output", str(manifest_path(args.output))))
    if command == "watch" or "://" in (args.output or ""):  # --rejects only (a URI output is refused later)
        outputs += [("--rejects", args.rejects)] if args.rejects else []
    else:
        rejects = _rejects_path(args)
        if rejects is not None:
            option = "--rejects" if args.rejects else "the rejects file beside -o/--output"
            outputs.append((option, rejects))
    to_stdout = [option for option, path in outputs if path == "-"]
    if len(to_stdout) > 1:  # two outputs in one stream: rows of both kinds mixed
        raise ConfigError(f"{to_stdout[1]} and {to_stdout[0]} both go to standard output ('-'): give one of them a file.")
    return [p for p in inputs if p[1] != "-"], [p for p in outputs if p[1] != "-"]


def _same_file(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _check_paths(args: argparse.Namespace) -> None:
    """Before anything is read or written: no output is an input or another output, and each
    output's format is known (else a usage error, exit 2: the run would destroy the data it
    reads, or write two things to one file); every input exists and every output's folder is
    one this run can write in (else an error, exit 1, before a long run finds out). URIs (for
    Spark) are left to their own file systems."""
    inputs, outputs = _paths(args)
    for k, (option, path) in enumerate(outputs):
        for other, other_path in inputs + outputs[:k]:
            if _same_file(path, other_path):
                raise ConfigError(
                    f"{option} '{path}' is the same file as {other} '{other_path}': the run would overwrite it. "
                    "Give another path."
                )
    if args.command in ("score", "clusters", "groups", "accounts") and args.output != "-":
        from spamflood.io.readers import detect_format

        try:
            detect_format(args.output, args.output_format, output=True)
        except ConfigError:
            raise ConfigError(
                f"Cannot tell the format of '{args.output}' from its extension; "
                f"pass --output-format ({', '.join(FORMAT_CHOICES)})."
            ) from None
    spark = getattr(args, "engine", "local") == "spark"
    for option, path in inputs:
        if spark and any(c in path for c in "*?["):  # a glob: Spark lists the files it matches
            continue
        if "://" not in path and not os.path.exists(path):
            raise SpamfloodError(f"{'Input file' if option == 'input' else option} '{path}' does not exist.")
    for option, path in outputs:
        folder = os.path.dirname(path) or "."
        if "://" in path:
            continue
        if not os.path.isdir(folder):
            problem = "is not a folder" if os.path.exists(folder) else "does not exist"
            raise SpamfloodError(f"{option} '{path}': the folder '{folder}' {problem}.")
        if not os.access(folder, os.W_OK):
            raise SpamfloodError(f"{option} '{path}': cannot write in the folder '{folder}' (no permission, or read-only).")


def _print_summary(
    result: Any, console: Any, seconds: float, rejects_path: str | None, *, written: int | None = None
) -> None:
    """The run in a table; ``written``: how many output rows the reader of standard output
    took before it left (``None``: all of them)."""
    from rich.table import Table

    summary = result.summary()
    table = Table(title="spamflood summary", show_header=False, title_justify="left")
    table.add_row("rows read", f"{summary['rows_read']:,}")
    table.add_row("scored", f"{summary['scored']:,}")
    if written is not None:
        table.add_row("written", f"{written:,} (then the reader of standard output left)")
    table.add_row("rejected", f"{summary['rejected']:,}" + (f"  -> {rejects_path}" if rejects_path else ""))
    if summary["blank_lines"]:
        table.add_row("blank lines skipped", f"{summary['blank_lines']:,}")
    if "unreadable_fields" in summary:
        table.add_row("optional values read as missing", f"{sum(summary['unreadable_fields'].values()):,}")
    if result.read.truncated is not None:
        table.add_row("input truncated", f"rows after {result.read.truncated.unit} {result.read.truncated.line:,} lost")
    table.add_row("flagged", f"{summary['flagged']:,}")
    table.add_row("near-duplicate clusters", f"{summary['clusters']:,}")
    table.add_row("floods found", f"{summary['floods']:,}")
    rate = summary["rows_read"] / seconds if seconds > 0 else 0.0
    table.add_row("time", f"{seconds:.1f} s ({rate:,.0f} rows/s)")
    console.print(table)
    shown = result.rejects[:5] if rejects_path else []  # without a rejects file each was printed already
    for reject in shown:
        console.print(f"  rejected {reject.message()}", markup=False)
    if shown and len(result.rejects) > 5:
        console.print(f"  ... and {len(result.rejects) - 5} more rejected rows", markup=False)
    for message in result.read.unreadable.messages():
        console.print(f"  warning: {message}", markup=False)
    for note in result.read.notes:
        console.print(f"  note: {note}", markup=False)
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


def _input_failures(result: Any, args: argparse.Namespace, console: Any) -> int:
    """Say loudly (``-q`` too) what makes a run that wrote what it could a failure: an input
    that broke off, or one of which no row could be read; and return the exit code."""
    code = EXIT_OK
    if result.read.truncated is not None:
        console.print(f"ERROR {result.read.truncated.message()}", markup=False)
        code = EXIT_ERROR
    if result.rows_read and not len(result):
        console.print(f"ERROR {_all_rejected(result, args)}", markup=False)
        code = EXIT_ERROR
    return code


def _all_rejected(result: Any, args: argparse.Namespace) -> str:
    """Every row rejected: the most common reason (the first row it rejected), and what
    usually causes it."""
    import re
    from collections import Counter

    from spamflood.io.fieldmap import preset_names

    def kind(reject: Any) -> tuple[str | None, str]:  # the reason without the row's own values
        return reject.field, re.split(r"[:'\"(]", reject.reason)[0].strip()

    (field, what), count = Counter(map(kind, result.rejects)).most_common(1)[0]
    first = next(r for r in result.rejects if kind(r) == (field, what))
    if field and what == "missing or empty":
        path = _field_map(args).paths.get(field, field)
        optional = f", or --optional {field} if it may be absent" if field in ("author", "time") else ""
        hint = (
            f"the field map reads '{field}' from '{path}': name the key that holds it (--map {field}=<key>) "
            f"or pick a preset (--preset {'|'.join(preset_names())}){optional}"
        )
    elif field is None:
        hint = "is the input JSON Lines (one object a line)? CSV, TSV and Parquet are told by the extension or --format"
    else:
        hint = "see the rejects for each row's reason"
    return (
        f"every row of '{args.input}' was rejected ({len(result.rejects):,} of {result.rows_read:,}); "
        f"most often ({count:,} rows): {first.message()}. hint: {hint}."
    )


# ---------------------------------------------------------------------------- commands


def _cmd_score_spark(args: argparse.Namespace, console: Any) -> int:
    """``score --engine spark``: the formats, files, rejects and summary of the local engine."""
    import warnings

    started = time.perf_counter()
    # PySpark warns about pandas 3 at every Arrow step; the engine hands Spark Arrow data only.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    from spamflood.spark import score_file
    from spamflood.spark.files import check_input, check_output

    if _layout(args) is not None or args.input_format == "lines":
        raise ConfigError("--engine spark reads JSONL, CSV with a header and Parquet: drop --line-format/--columns/--unsegment.")
    check_input(args.input, args.input_format)  # before Spark starts: fail in a second
    check_output(args.output, args.output_format)
    builder = (
        SparkSession.builder.appName("spamflood")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.adaptive.enabled", "true")  # coalesces the small shuffles to the data
    )
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        run = score_file(
            spark,
            args.input,
            args.output,
            input_format=args.input_format,
            output_format=args.output_format,
            features=args.features,
            detector=_detector(args),
            field_map=_field_map(args),
            tz=args.tz,
            strict=args.strict,
            **({"max_text_chars": args.max_text} if args.max_text else {}),
        )
    except (PySparkException, Py4JError) as exc:  # a failed Spark job: its first line, not pages of Java
        raise SpamfloodError(f"Spark failed: {str(exc).strip().splitlines()[0][:500]}") from exc
    finally:
        spark.stop()
    rejects_path = _write_rejects(run, args, console)
    if not args.quiet:
        _print_summary(run, console, time.perf_counter() - started, rejects_path)
    return _input_failures(run, args, console)


def _cmd_score(args: argparse.Namespace, console: Any) -> int:
    from spamflood._memory import collector_paused
    from spamflood._stdout import counted_stdout
    from spamflood.chunks import effective_jobs
    from spamflood.io.writers import RecordWriter, jsonl_of_columns, jsonl_of_records

    if args.engine == "spark":
        return _cmd_score_spark(args, console)
    started = time.perf_counter()
    # One batch from reading to writing: no collection has to walk its millions of objects
    # (they hold no cycles; see collector_paused).
    with collector_paused():
        result = _run_detector(args, console)
        if not args.features:  # not written: freed before the writer forks (about 450 MB at 1M posts)
            result.features, result.label_scores = {}, {}
        with counted_stdout(args.output == "-") as stdout, RecordWriter(args.output, args.output_format) as writer:
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
        written = _rows_taken(stdout, writer.format) if stdout.broken else None
        if not args.quiet:
            _print_summary(result, console, time.perf_counter() - started, rejects_path, written=written)
        code = _input_failures(result, args, console)
        if written is not None:
            _reader_left(console, written, len(result))
            code = EXIT_ERROR
        return _done(code)


def _cmd_accounts(args: argparse.Namespace, console: Any) -> int:
    """``accounts``: read a feed or a profiles-only export, score each account, write one row each."""
    from spamflood.accounts import AccountScorer
    from spamflood.durations import parse_duration
    from spamflood.io.writers import RecordWriter

    started = time.perf_counter()
    params: dict[str, Any] = {"threshold": args.threshold}
    if args.min_accounts is not None:
        params["min_accounts"] = args.min_accounts
    if args.burst_window is not None:
        params["burst_window"] = parse_duration(args.burst_window)
    if args.rules:
        if args.model:
            raise ConfigError("--model and --rules exclude each other: --rules scores without a model.")
        scorer = AccountScorer(**params)
    else:
        scorer = AccountScorer.load(args.model, trusted=args.trust_model, **params)
    detector = None
    if args.kind != "profiles":
        from spamflood.detector import Detector

        detector = Detector.load(n_jobs=args.jobs)
    result = scorer.score(
        args.input,
        kind=args.kind,
        field_map=_field_map(args),
        fmt=args.input_format,
        tz=args.tz,
        strict=args.strict,
        detector=detector,
    )
    with RecordWriter(args.output, args.output_format) as writer:
        writer.write_many(result.records(features=args.features))
    rejects_path = _write_rejects(result, args, console)
    if not args.quiet:
        from rich.table import Table

        summary = result.summary()
        table = Table(title="spamflood accounts", show_header=False, title_justify="left")
        table.add_row("input", f"{summary['input']} ({summary['rows_read']:,} rows read)")
        table.add_row("accounts scored", f"{summary['accounts']:,}")
        table.add_row("rejected", f"{summary['rejected']:,}" + (f"  -> {rejects_path}" if rejects_path else ""))
        table.add_row("flagged", f"{summary['flagged']:,}")
        table.add_row("batch_accounts", f"{summary['batch_accounts']:,}")
        table.add_row("time", f"{time.perf_counter() - started:.1f} s")
        console.print(table)
        for reject in result.rejects[:5] if rejects_path else []:
            console.print(f"  rejected {reject.message()}", markup=False)
    return _input_failures(result, args, console)


def _rows_taken(stdout: Any, fmt: str) -> int:
    """Rows of the output the reader of standard output took: its complete lines (less the
    header of a CSV/TSV; a CSV text with a line break in it counts its lines)."""
    return stdout.lines if fmt == "jsonl" else max(stdout.lines - 1, 0)


def _reader_left(console: Any, written: int, total: int) -> None:
    console.print(
        f"ERROR the reader of standard output left (broken pipe) after {written:,} of {total:,} rows; "
        "the rest were not written, so this run failed (exit code 1).",
        markup=False,
    )


def _cmd_clusters(args: argparse.Namespace, console: Any) -> int:
    def rows_of(result: Any) -> list[dict[str, Any]]:
        rows = result.cluster_records()
        return [r for r in rows if r["flood"]] if args.floods_only else rows

    return _cmd_table(args, console, rows_of)


def _cmd_groups(args: argparse.Namespace, console: Any) -> int:
    return _cmd_table(args, console, lambda result: result.group_records(coordinated_only=args.coordinated_only))


def _cmd_table(args: argparse.Namespace, console: Any, rows_of: Callable[[Any], list[dict[str, Any]]]) -> int:
    """Score the input and write one row per item that ``rows_of`` finds in the result."""
    from spamflood._stdout import counted_stdout
    from spamflood.io.writers import write_records

    started = time.perf_counter()
    result = _run_detector(args, console)
    rows = rows_of(result)
    with counted_stdout(args.output == "-") as stdout:
        write_records(args.output, rows, fmt=args.output_format)
    rejects_path = _write_rejects(result, args, console)
    if not args.quiet:
        _print_summary(result, console, time.perf_counter() - started, rejects_path)
    code = _input_failures(result, args, console)
    if stdout.broken:
        _reader_left(console, _rows_taken(stdout, args.output_format or "jsonl"), len(rows))
        code = EXIT_ERROR
    return code


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
    return _input_failures(result, args, console)


def _cmd_watch(args: argparse.Namespace, console: Any) -> int:
    import logging
    from contextlib import closing

    from spamflood.durations import human_duration
    from spamflood.stream import RedisStore, StoreUnavailableError, watch
    from spamflood.stream.watch import read_lines

    if not args.redis_timeout >= 0 or args.redis_timeout == float("inf"):
        raise ConfigError(f"--redis-timeout must be a number of seconds >= 0. Got {args.redis_timeout!r} instead.")
    shown = 0

    def show_reject(reject: Any) -> None:  # the first few on stderr when no --rejects file keeps them
        nonlocal shown
        shown += 1
        if shown <= _SHOW_REJECTS:
            console.print(f"rejected {reject.message()}", markup=False)
        elif shown == _SHOW_REJECTS + 1:
            console.print("more rejects are counted only; --rejects FILE keeps every one", markup=False)

    # Redis disconnects and reconnects are logged as warnings: show them on stderr for this run
    log = logging.getLogger("spamflood.stream")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.addHandler(handler)
    try:
        with closing(read_lines(args.input)) as lines:

            def make_store(window: float) -> Any:
                if not args.redis:
                    return "memory"
                return RedisStore(
                    args.redis,
                    window=window,
                    key_prefix=args.key_prefix,
                    retry_for=args.redis_timeout,
                    socket_timeout=min(5.0, args.redis_timeout) or 5.0,  # one attempt never outlasts the budget
                )

            with _monitor(args, make_store) as monitor:
                if args.redis:
                    monitor.store.ping()  # an unreachable server or a refused password fails now, not at the first post
                summary = watch(
                    lines,
                    args.output,
                    monitor=monitor,
                    field_map=_field_map(args),
                    tz=args.tz,
                    flags_only=args.flags_only,
                    rejects=args.rejects,
                    allowed_lateness=args.allowed_lateness,
                    sort=args.sort,
                    on_reject=None if args.rejects or args.quiet else show_reject,
                    batch_size=1 if args.input == "-" else 256,  # a file is all there: judged a batch at a time
                )
    except StoreUnavailableError as exc:
        console.print(f"ERROR {exc}", markup=False)
        console.print("hint: --redis-timeout SECONDS waits longer for Redis", markup=False)
        return EXIT_ERROR
    finally:
        log.removeHandler(handler)
    if not args.quiet:
        console.print(
            f"watch: {summary.lines:,} lines, {summary.verdicts:,} verdicts, {summary.flood_verdicts:,} in floods, "
            f"{summary.late:,} late, {summary.rejected:,} rejected"
            + (f" -> {args.rejects}" if args.rejects and summary.rejected else ""),
            markup=False,
        )
        if summary.late:
            console.print(
                f"late: {summary.late:,} posts were older than the {human_duration(monitor.window)} window behind the "
                "newest post seen when they arrived; their verdicts say so, they were not judged (watch --help)",
                markup=False,
            )
        if summary.late and not args.sort:
            order = f"{summary.out_of_order:,} of {summary.lines - summary.rejected:,} posts came after a newer one"
            if args.input != "-":
                console.print(
                    f"hint: {order} (a newest-first export?): --sort judges the file in time order",
                    markup=False,
                )
            else:
                console.print(
                    f"hint: {order}: --allowed-lateness 10min holds posts to judge them in time order "
                    "(--sort for a finite input)",
                    markup=False,
                )
        if summary.released_early:
            console.print(
                f"note: {summary.released_early:,} posts left the full lateness buffer early; "
                "a shorter --allowed-lateness holds fewer",
                markup=False,
            )
    return EXIT_OK


_SHOW_REJECTS = 5
"""Rejects that ``watch`` prints on stderr when no ``--rejects`` file is given."""


def _monitor(args: argparse.Namespace, make_store: Any) -> Any:
    """The ``watch`` command's monitor, scored as ``score`` scores: by the bundled model, a
    ``--model`` file, or ``--rules``; the settings given, the rest from the model or the
    defaults. ``make_store(window)`` gives its store."""
    from spamflood.durations import parse_duration
    from spamflood.stream import FloodMonitor
    from spamflood.stream.monitor import MONITOR_SETTINGS

    given: dict[str, Any] = {}
    for name in ("window", "min_authors", "min_copies", "similarity", "interval", "min_coposts"):
        if getattr(args, name) is not None:
            given[MONITOR_SETTINGS[name]] = getattr(args, name)
    if args.tz != "UTC":
        given["tz"] = args.tz
    if args.no_coordination:
        given["coordinated"] = False
    model = None
    if args.rules:
        if args.model:
            raise ConfigError("--model and --rules exclude each other: --rules scores without a model.")
        params = given
    else:
        from spamflood.model import load_model

        loaded = load_model(args.model, trusted=args.trust_model)  # the first post needs it
        saved = {MONITOR_SETTINGS[k]: v for k, v in loaded.settings.items() if k in MONITOR_SETTINGS}
        params, model = {**saved, **given}, loaded.model
    return FloodMonitor(**params, store=make_store(parse_duration(params.get("window", "1h"))), model=model)


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
    from spamflood.model.training import parse_label_values

    truth = read_truth(args.truth, args.label_field) if args.truth else None
    data = labelled_features(
        detector,
        _inputs(args),
        label_field=args.label_field,
        truth=truth,
        field_map=_field_map(args),
        fmt=args.input_format,
        tz=args.tz,
        layout=_layout(args),
        label_values=parse_label_values(args.label_values) if args.label_values else None,
    )
    if args.strict and data.rejects:
        from spamflood.errors import InputError

        first = data.rejects[0]
        raise InputError(first.reason, line=first.line, field=first.field, file=first.file)
    _write_rejects(data, args, console)
    for message in data.read.unreadable.messages():
        console.print(f"warning: {message}", markup=False)
    if data.read.truncated is not None:  # figures or a model from part of the input would mislead
        raise SpamfloodError(data.read.truncated.message())
    return data


def _cmd_train(args: argparse.Namespace, console: Any) -> int:
    import hashlib
    import shlex

    from spamflood.io.layout import InputFile
    from spamflood.model import FloodModel, cross_validate, save_model

    started = time.perf_counter()
    detector = _detector(args)  # (train has no --no-criteria: the model learns the criteria)
    data = _labelled(args, detector, console)
    if not len(data.y):
        raise SpamfloodError("No labelled post to train on (every row was rejected; see the rejects file).")

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
    paths = [Path(InputFile.parse(spec).path) for spec in args.input]
    shas = [hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None for p in paths]
    training = {
        "command": "spamflood " + shlex.join(args.argv),
        "data": args.input[0] if len(args.input) == 1 else list(args.input),
        "data_sha256": shas[0] if len(shas) == 1 else shas,
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
        raise SpamfloodError("No labelled post to evaluate (every row was rejected; see the rejects file).")
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
    import tempfile

    from spamflood import synth

    if args.dir:
        folder = Path(args.dir)
        folder.mkdir(parents=True, exist_ok=True)
    else:  # not the working tree: a demo is no part of the user's project
        folder = Path(tempfile.mkdtemp(prefix="spamflood-demo-"))
    feed, truth = folder / "feed.jsonl", folder / "truth.jsonl"
    out, clusters = folder / "scored.jsonl", folder / "clusters.jsonl"
    console.print(f"demo files in {folder}", markup=False)  # even with -q: a temporary folder is found nowhere else
    if not args.quiet:
        console.print(f"generating {args.posts:,} synthetic posts (seed {args.seed}) -> {feed}", markup=False)
    synth.write(feed, truth, posts=args.posts, seed=args.seed)
    seconds = _warm_up(feed)
    if not args.quiet:
        console.print(
            f"warm-up: {_WARM_UP_POSTS} posts scored in {seconds:.1f} s (a first run compiles the numba kernels and "
            "caches them; the rows/s below leave this out)",
            markup=False,
        )
    jobs = ["-j", str(args.jobs)]
    code = main(["score", str(feed), "-o", str(out), *jobs] + (["-q"] if args.quiet else []))
    if code == EXIT_OK:
        code = main(["clusters", str(feed), "-o", str(clusters), *jobs, "-q"])
    if code == EXIT_OK and not args.quiet:
        _print_truth_figures(_truth_figures(out, truth), console, truth)
        console.print(f"scored posts: {out}\nclusters: {clusters}\nground truth: {truth}", markup=False)
    return code


_WARM_UP_POSTS = 500


def _warm_up(feed: Path) -> float:
    """Seconds to score the first posts of ``feed`` once, so that the timed run leaves out what
    happens once per process: compiling the numba kernels (or loading them from their on-disk
    cache) and importing the model's libraries."""
    from itertools import islice

    import orjson

    from spamflood.detector import Detector

    started = time.perf_counter()
    with open(feed, "rb") as fh:
        head = [orjson.loads(line) for line in islice(fh, _WARM_UP_POSTS)]
    Detector.load().score(head)
    return time.perf_counter() - started


def _truth_figures(scored: Path, truth: Path) -> dict[str, dict[str, Any]]:
    """Precision and recall of a scored output against synthetic ground truth: its flags
    against the campaign posts, and the flagged posts listing ``mass_share`` against the planted
    floods (the feed's viral headlines are shared by many accounts in their own words, so they
    are no near-duplicate flood and list no mass_share)."""
    import numpy as np
    import orjson

    from spamflood.model import binary_report, parse_label, read_truth

    labels = read_truth(truth, "labels")
    with open(scored, "rb") as fh:
        rows = [orjson.loads(line) for line in fh]
    true: list[tuple[int, list[str]]] = [parse_label(labels[row["id"]]) or (0, []) for row in rows]
    campaign = np.array([spam for spam, _ in true])
    flood = np.array(["mass_share" in names for _, names in true])
    return {
        "flagged vs campaign posts": binary_report(campaign, np.array([row["flagged"] for row in rows], dtype=float)),
        "flagged mass_share vs floods": binary_report(
            flood, np.array([row["flagged"] and "mass_share" in row["labels"] for row in rows], dtype=float)
        ),
    }


def _print_truth_figures(figures: dict[str, dict[str, Any]], console: Any, truth: Path) -> None:
    from rich.table import Table

    table = Table(title=f"against the ground truth ({truth.name})", title_justify="left")
    for column in ("", "precision", "recall", "true", "found", "right"):
        table.add_column(column, justify="left" if not column else "right")
    for name, report in figures.items():
        c = report["confusion"]
        table.add_row(
            name, f"{report['precision']:.3f}", f"{report['recall']:.3f}", f"{c['tp'] + c['fn']:,}", f"{c['tp'] + c['fp']:,}", f"{c['tp']:,}"
        )
    console.print(table)


# ---------------------------------------------------------------------------- entry points


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (testable without a subprocess)."""
    global _DEPTH
    _DEPTH += 1
    try:
        return _main(argv)
    except KeyboardInterrupt:  # outside a command too (while the parser is built)
        _console().print("interrupted", markup=False)
        return EXIT_INTERRUPTED
    finally:
        _DEPTH -= 1


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
    except _UsageError as exc:
        console = _console()
        console.print(f"ERROR {exc}", markup=False)
        console.print("hint: spamflood COMMAND --help", markup=False)
        return EXIT_USAGE
    except SystemExit as exc:  # --help, --version: printed; argparse would leave the process here
        return int(exc.code or 0)
    console = _console()  # (after parsing: --version does not wait for rich)
    handler: Callable[[argparse.Namespace, Any], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        _check_paths(args)
        return handler(args, console)
    except ConfigError as exc:
        console.print(f"ERROR {exc}", markup=False)
        return EXIT_USAGE
    except (SpamfloodError, OSError) as exc:
        console.print(f"ERROR {exc}", markup=False)
        return EXIT_ERROR
    except KeyboardInterrupt:  # the command's outputs are closed or removed by now
        console.print("interrupted (Ctrl-C): the command did not finish", markup=False)
        return _done(EXIT_INTERRUPTED)


_LEAVE_WHEN_DONE = False
"""Set by the console script: its command leaves the process as soon as its outputs are
written and closed (see :func:`_done`)."""
_DEPTH = 0
"""How many :func:`main` calls are running (``demo`` runs ``score`` and ``clusters`` in one)."""


def _done(code: int) -> int:
    """``code``; from the console script's own command (not one another command runs), leave
    now with ``code``: flush the standard streams and exit without freeing the batch object by
    object and tearing the interpreter down (about 0.8 s a million posts, and nothing is left
    to do). Call it only once every output is written and closed."""
    if _LEAVE_WHEN_DONE and _DEPTH == 1:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:  # the reader left: what it did not read is not ours to keep
            pass
        os._exit(code)
    return code


def entrypoint() -> NoReturn:
    """The installed ``spamflood`` script and ``python -m spamflood``: exit with :func:`main`'s
    code (a command may leave earlier, with the same code; see :func:`_done`)."""
    global _LEAVE_WHEN_DONE
    _LEAVE_WHEN_DONE = True
    from spamflood._memory import ordinary_pages

    ordinary_pages()
    raise SystemExit(main())


if __name__ == "__main__":  # pragma: no cover
    entrypoint()
