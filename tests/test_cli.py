"""The command line: outputs, rejects files, exit codes, stdin/stdout."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from spamflood.cli import main

BASE = 1771286400
AD = "Flash sale today only: vitamin gummies 50% off, DM me or tap the link in bio for the code"


def write_feed(path, bad: bool = True) -> int:
    lines = [json.dumps({"id": f"p{k}", "text": AD, "author": f"acct{k}", "time": BASE + 30 * k}) for k in range(12)]
    lines += [json.dumps({"id": f"o{k}", "text": f"walked the dog for {k} miles this morning, lovely weather", "author": f"u{k}", "time": BASE + 9000 * k}) for k in range(3)]
    if bad:
        lines.insert(3, '{"id": "broken", "text": ')  # line 4
        lines.insert(6, json.dumps({"id": "t", "text": "ok", "author": "a", "time": "next week"}))  # line 7
        lines.append(json.dumps({"id": "p0", "text": "dup", "author": "a", "time": BASE}))  # line 18
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_score_writes_every_row_or_rejects_it(tmp_path):
    feed, out = tmp_path / "feed.jsonl", tmp_path / "scored.jsonl"
    total = write_feed(feed)
    assert main(["score", str(feed), "-o", str(out), "-q"]) == 0
    scored = read_jsonl(out)
    rejects = read_jsonl(tmp_path / "scored.rejects.jsonl")
    assert len(scored) + len(rejects) == total
    assert [(r["line"], r["field"]) for r in rejects] == [(4, None), (7, "time"), (18, "id")]
    assert rejects[0]["raw"] == '{"id": "broken", "text": '
    first = scored[0]
    assert list(first) == ["id", "score", "flagged", "labels", "reasons", "cluster", "cluster_size", "cluster_authors"]
    flood = [r for r in scored if r["id"].startswith("p")]
    # an ad's copy pushed by 12 accounts: both labels, each with its evidence (their order is
    # the label heads', and both are near certain here)
    assert all(r["flagged"] and sorted(r["labels"]) == ["mass_share", "soft_ad"] and r["cluster_authors"] == 12 for r in flood)
    assert all(any(s.startswith("mass_share: 12 near-identical posts from 12 accounts") for s in r["reasons"]) for r in flood)


def test_strict_exits_1_naming_the_line(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    assert main(["score", str(feed), "-o", str(tmp_path / "o.jsonl"), "--strict", "-q"]) == 1
    assert "line 4" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, code, message",
    [
        pytest.param(["score"], 2, "required", id="missing-args"),
        pytest.param(["score", "x.jsonl", "-o", "o.jsonl", "--bogus"], 2, "unrecognized", id="unknown-option"),
        pytest.param(["score", "missing.jsonl", "-o", "o.jsonl", "-q"], 1, "Input file 'missing.jsonl' does not exist", id="missing-file"),
        pytest.param(["watch", "missing.jsonl", "-q"], 1, "Input file 'missing.jsonl' does not exist", id="watch-missing-file"),
        pytest.param(
            ["evaluate", "{feed}", "--label-field", "labels", "--truth", "t.jsonl", "-q"], 1, "--truth 't.jsonl' does not exist", id="missing-truth"
        ),
        pytest.param(["score", "{feed}", "-o", "o.jsonl", "--map", "colour=x", "-q"], 2, "Unknown field 'colour'", id="bad-map"),
        pytest.param(["score", "{feed}", "-o", "o.jsonl", "--threshold", "3", "-q"], 2, "argument --threshold: must be in [0, 1]; got 3", id="bad-threshold"),
        pytest.param(["score", "{feed}", "-o", "o.jsonl", "--similarity", "1.5"], 2, "argument --similarity: must be in (0, 1); got 1.5", id="bad-similarity"),
        pytest.param(["watch", "{feed}", "--similarity", "0"], 2, "argument --similarity: must be in (0, 1); got 0", id="watch-bad-similarity"),
        pytest.param(["score", "{feed}", "-o", "o.jsonl", "--min-authors", "1"], 2, "argument --min-authors: must be at least 2; got 1", id="bad-min-authors"),
        pytest.param(["watch", "{feed}", "--min-authors", "1"], 2, "argument --min-authors: must be at least 2; got 1", id="watch-bad-min-authors"),
        pytest.param(["watch", "{feed}", "--window", "soon"], 2, "argument --window: must be a positive duration", id="watch-bad-window"),
        pytest.param(["score", "{feed}", "-o", "o.jsonl", "--window", "soon"], 2, "argument --window: must be a positive duration", id="bad-window"),
        pytest.param(["score", "{feed}", "-o", "o.jsonl", "-j", "0"], 2, "argument -j/--jobs: must be a positive count", id="bad-jobs"),
        pytest.param(["score", "{feed}", "-o", "o.txt"], 2, "pass --output-format (jsonl, csv, tsv, parquet)", id="bad-output-extension"),
        pytest.param(["score", "{feed}", "-o", "o.jsonl", "--preset", "myspace"], 2, "invalid choice: 'myspace' (choose from 'canonical'", id="bad-preset"),
        pytest.param(["train", "{feed}", "--label-field", "l", "-o", "m.joblib", "--threshold", "0.5"], 2, "unrecognized arguments: --threshold", id="train-threshold"),
        pytest.param([], 2, "", id="no-command"),
    ],
)
def test_exit_codes(tmp_path, capsys, monkeypatch, argv, code, message):
    monkeypatch.chdir(tmp_path)
    feed = tmp_path / "feed.jsonl"
    write_feed(feed, bad=False)
    argv = [a.replace("{feed}", str(feed)) for a in argv]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err
    assert "threshold" not in err or "--threshold" in argv  # a message names the option the user gave
    assert not (tmp_path / "o.jsonl").exists()  # refused before anything was written


@pytest.mark.parametrize(
    "argv, message",
    [
        pytest.param(["score", "feed.jsonl", "-o", "feed.jsonl"], "-o/--output 'feed.jsonl' is the same file as input 'feed.jsonl'", id="output-is-input"),
        pytest.param(["score", "sub/../feed.jsonl", "-o", "./feed.jsonl"], "is the same file as input", id="output-is-input-by-another-path"),
        pytest.param(["score", "link.jsonl", "-o", "feed.jsonl"], "is the same file as input 'link.jsonl'", id="output-is-input-through-a-link"),
        pytest.param(["score", "feed.jsonl", "-o", "x.jsonl", "--rejects", "x.jsonl"], "--rejects 'x.jsonl' is the same file as -o/--output 'x.jsonl'", id="rejects-is-output"),
        pytest.param(["score", "feed.jsonl", "-o", "x.jsonl", "--rejects", "feed.jsonl"], "--rejects 'feed.jsonl' is the same file as input", id="rejects-is-input"),
        pytest.param(
            ["score", "old.rejects.jsonl", "-o", "old.jsonl"],
            "the rejects file beside -o/--output 'old.rejects.jsonl' is the same file as input 'old.rejects.jsonl'",
            id="default-rejects-is-input",
        ),
        pytest.param(["clusters", "feed.jsonl", "-o", "feed.jsonl"], "is the same file as input", id="clusters"),
        pytest.param(["report", "feed.jsonl", "-o", "r.html", "--rejects", "r.html"], "--rejects 'r.html' is the same file as -o/--output", id="report"),
        pytest.param(
            ["train", "feed.jsonl", "--label-field", "l", "-o", "m.joblib", "--rejects", "m.manifest.json"],
            "--rejects 'm.manifest.json' is the same file as the manifest beside -o/--output",
            id="train-manifest",
        ),
        pytest.param(
            ["evaluate", "feed.jsonl", "--label-field", "l", "--truth", "truth.jsonl", "-o", "truth.jsonl"],
            "-o/--output 'truth.jsonl' is the same file as --truth 'truth.jsonl'",
            id="evaluate-truth",
        ),
        pytest.param(["watch", "feed.jsonl", "-o", "feed.jsonl"], "is the same file as input", id="watch"),
        pytest.param(["synth", "--posts", "10", "-o", "t.jsonl", "--truth", "t.jsonl"], "--truth 't.jsonl' is the same file as -o/--output", id="synth"),
    ],
)
def test_an_output_that_is_an_input_or_another_output_is_refused_before_anything_is_touched(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    write_feed(tmp_path / "feed.jsonl")
    (tmp_path / "link.jsonl").symlink_to(tmp_path / "feed.jsonl")
    (tmp_path / "old.rejects.jsonl").write_bytes((tmp_path / "feed.jsonl").read_bytes())
    (tmp_path / "truth.jsonl").write_text('{"id": "p0", "l": 1}\n')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert main([*argv, "-q"]) == 2
    assert message in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_each_run_owns_its_rejects_file(tmp_path):
    # a rerun that rejects nothing removes the rejects a previous run left: 15 rows in, 15 out
    feed, out = tmp_path / "feed.jsonl", tmp_path / "scored.jsonl"
    default_rejects, given_rejects = tmp_path / "scored.rejects.jsonl", tmp_path / "given.jsonl"
    write_feed(feed)
    assert main(["score", str(feed), "-o", str(out), "-q"]) == 0
    assert main(["score", str(feed), "-o", str(out), "--rejects", str(given_rejects), "-q"]) == 0
    assert len(read_jsonl(default_rejects)) == len(read_jsonl(given_rejects)) == 3
    write_feed(feed, bad=False)
    assert main(["score", str(feed), "-o", str(out), "-q"]) == 0
    assert main(["score", str(feed), "-o", "-", "--rejects", str(given_rejects), "-q"]) == 0
    assert len(read_jsonl(out)) == 15
    assert not default_rejects.exists() and not given_rejects.exists()


def test_help_shows_defaults_and_choices_and_train_lists_only_what_it_uses(capsys):
    import inspect

    from spamflood.detector import Detector
    from spamflood.io.readers import FORMATS
    from spamflood.io.rows import DEFAULT_MAX_TEXT_CHARS

    assert main(["score", "--help"]) == 0
    score = " ".join(capsys.readouterr().out.split())
    defaults = inspect.signature(Detector).parameters
    for text in (
        f"(default: {defaults['threshold'].default})",
        f"(default: {defaults['similarity'].default}, or the model's)",
        f"(default: {defaults['window'].default}, or the model's)",
        f"(default: {defaults['min_authors'].default}, or the model's)",
        f"(default: {DEFAULT_MAX_TEXT_CHARS})",
        "(default: 1)",  # --jobs
        "--format FORMAT input format: " + ", ".join(FORMATS),
        "--output-format FORMAT output format: " + ", ".join(FORMATS),
        "--preset PRESET field-map preset: canonical, twitter-v1, twitter-v2, weibo (default: canonical)",
        "{local,spark}",
    ):
        assert text in score, text
    assert main(["train", "--help"]) == 0
    train = capsys.readouterr().out
    options = set(re.findall(r"--[a-z][a-z-]*", train))
    assert not options & {"--threshold", "--model", "--trust-model", "--rules", "--no-criteria", "--max-text"}
    assert "(default: 5)" in train and "{auto,on,off}" in train  # --cv, --text


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_output_formats(tmp_path, ext):
    if ext == "parquet":
        pytest.importorskip("pyarrow")
    feed = tmp_path / "feed.jsonl"
    write_feed(feed, bad=False)
    out = tmp_path / f"scored.{ext}"
    assert main(["score", str(feed), "-o", str(out), "-q"]) == 0
    if ext == "csv":
        import csv

        rows = list(csv.DictReader(out.open()))
        assert len(rows) == 15 and {"mass_share", "soft_ad"} <= set(rows[0]["labels"].split(";"))
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(out)
        assert table.num_rows == 15 and {"mass_share", "soft_ad"} <= set(table.column("labels")[0].as_py())


def test_clusters_command(tmp_path):
    feed, out = tmp_path / "feed.jsonl", tmp_path / "clusters.jsonl"
    write_feed(feed, bad=False)
    assert main(["clusters", str(feed), "-o", str(out), "--floods-only", "-q"]) == 0
    rows = read_jsonl(out)
    assert len(rows) == 1 and rows[0]["size"] == 12 and rows[0]["authors"] == 12 and rows[0]["flood"]


def write_coordinated_feed(path) -> list[str]:
    """Six accounts pushing #BuyNow in five tight waves (varied text) beside an organic trend;
    returns the campaign's post ids."""
    from test_coordination import campaign, organic_trend

    pushed = campaign()
    rows = [{"id": p.id, "text": p.text, "author": p.author, "time": p.time} for p in pushed + organic_trend()]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [p.id for p in pushed]


def spamflood_command(how: str) -> list[str]:
    if how == "python -m":
        return [sys.executable, "-m", "spamflood"]
    script = shutil.which("spamflood")
    if script is None:
        pytest.skip("the spamflood console script is not installed (pip install -e .)")
    return [script]


@pytest.mark.parametrize("how", ["python -m", "script"])
def test_groups_command_writes_each_coordinated_group_in_a_real_process(tmp_path, how):
    feed, out = tmp_path / "feed.jsonl", tmp_path / "groups.jsonl"
    pushed = write_coordinated_feed(feed)
    proc = subprocess.run([*spamflood_command(how), "groups", str(feed), "-o", str(out)], capture_output=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"spamflood summary" in proc.stderr
    (group,) = read_jsonl(out)
    assert group == {
        "group": 0,
        "coordinated": True,
        "objects": ["#BuyNow"],
        "accounts": 6,
        "account_ids": [f"bot{a}" for a in range(6)],
        "posts": 30,
        "post_ids": pushed,
        "pairs": 15,
        "median_coposts": 5.0,
        "interval": "60 s",
        "first_time": "2026-01-01T00:00:06Z",
        "last_time": "2026-01-01T13:24:25Z",
        "span": "13 h 24 min",
        "reason": "coordinated: #BuyNow from 6 accounts, 30 posts in 13 h 24 min; 15 pairs co-posted within 60 s, median 5 times",
    }


def test_groups_command_csv_and_an_untied_feed(tmp_path):
    feed = tmp_path / "feed.jsonl"
    write_coordinated_feed(feed)
    assert main(["groups", str(feed), "-o", str(tmp_path / "groups.csv"), "--coordinated-only", "-q"]) == 0
    header, row = (tmp_path / "groups.csv").read_text().splitlines()
    assert header.startswith("group,coordinated,objects,accounts,account_ids,posts,post_ids,")
    assert row.startswith("0,True,#BuyNow,6,bot0;bot1;bot2;bot3;bot4;bot5,30,")
    write_feed(feed, bad=False)  # a flood of copies, nobody tied by co-posting a shared object
    assert main(["groups", str(feed), "-o", str(tmp_path / "none.jsonl"), "-q"]) == 0
    assert (tmp_path / "none.jsonl").read_text() == ""


def test_groups_command_usage_errors_exit_2(tmp_path, capsys):
    assert main(["groups", str(tmp_path / "feed.jsonl")]) == 2
    assert "-o/--output" in capsys.readouterr().err


def test_stdin_to_stdout_in_a_real_process(tmp_path):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed, bad=False)
    proc = subprocess.run(
        [sys.executable, "-m", "spamflood", "score", "-", "-o", "-", "-q"],
        input=feed.read_bytes(),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(rows) == 15


@pytest.mark.parametrize("output", ["scored.jsonl", "-"])
def test_the_console_script_leaves_only_when_every_output_is_complete(tmp_path, output):
    # the console script exits without teardown once a batch is written: nothing may be lost
    feed = tmp_path / "feed.jsonl"
    total = write_feed(feed)
    posts = [json.loads(line) for line in feed.read_text().splitlines()[:3]]
    more = [dict(posts[k % 3], id=f"m{k}") for k in range(3000)]
    feed.write_text(feed.read_text() + "".join(json.dumps(p) + "\n" for p in more))
    args = ["score", str(feed), "-o", output, "--rejects", str(tmp_path / "rejects.jsonl"), "-j", "2"]
    proc = subprocess.run([sys.executable, "-m", "spamflood", *args], capture_output=True, check=False, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    scored = proc.stdout.decode() if output == "-" else (tmp_path / output).read_text()
    rows = [json.loads(line) for line in scored.splitlines() if line.startswith("{")]
    rejects = read_jsonl(tmp_path / "rejects.jsonl")
    assert len(rows) + len(rejects) == total + len(more) and len(rejects) == 3
    assert b"spamflood summary" in proc.stderr or output == "-"


def test_summary_is_printed(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    assert main(["score", str(feed), "-o", str(tmp_path / "o.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "rows read" in err and "rejected" in err and "floods found" in err and "line 4" in err


def test_csv_input_with_field_map(tmp_path):
    feed = tmp_path / "feed.csv"
    rows = ["mid,content,uid,created_at"] + [f"m{k},\"{AD}\",u{k},2026-02-17 08:{k:02d}:00" for k in range(8)]
    feed.write_text("\n".join(rows) + "\n")
    out = tmp_path / "o.jsonl"
    code = main(["score", str(feed), "-o", str(out), "--map", "id=mid,text=content,author=uid,time=created_at", "--tz", "Asia/Shanghai", "-q"])
    assert code == 0
    assert all(r["cluster_authors"] == 8 for r in read_jsonl(out))


def test_report_command_writes_self_contained_html(tmp_path):
    feed, out = tmp_path / "feed.jsonl", tmp_path / "report.html"
    write_feed(feed)
    assert main(["report", str(feed), "-o", str(out), "--title", "My feed", "-q"]) == 0
    html = out.read_text()
    assert "<title>My feed" in html and "vitamin gummies" in html and "http://" not in html.split("<body", 1)[0]
    rejects = read_jsonl(tmp_path / "report.rejects.jsonl")
    assert [r["line"] for r in rejects] == [4, 7, 18]


def test_synth_then_demo_commands(tmp_path, capsys):
    feed, truth = tmp_path / "f.jsonl", tmp_path / "t.jsonl"
    assert main(["synth", "--posts", "2000", "--seed", "5", "-o", str(feed), "--truth", str(truth)]) == 0
    assert len(feed.read_text().splitlines()) == 2000 and (tmp_path / "t.campaigns.jsonl").exists()
    assert "campaign posts per label" in capsys.readouterr().err
    assert main(["demo", "--posts", "3000", "--dir", str(tmp_path / "demo"), "-q"]) == 0
    scored = read_jsonl(tmp_path / "demo" / "scored.jsonl")
    assert len(scored) == 3000 and any(r["flagged"] for r in scored)


def test_the_demo_writes_to_a_temporary_folder_and_compares_with_its_ground_truth(tmp_path):
    # a real process: the console script leaves early only after its own command, not after
    # the demo's score; nothing lands in the working tree; the printed figures are the files'
    work, temp = tmp_path / "work", tmp_path / "temp"
    work.mkdir()
    temp.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "spamflood", "demo", "--posts", "1500"],
        capture_output=True,
        check=False,
        timeout=300,
        cwd=work,
        env={**os.environ, "TMPDIR": str(temp)},
    )
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert list(work.iterdir()) == []
    (folder,) = temp.glob("spamflood-demo-*")
    assert f"demo files in {folder}" in err
    assert "warm-up: 500 posts scored in" in err and "compiles the numba kernels" in err
    scored, truth = read_jsonl(folder / "scored.jsonl"), {t["id"]: t for t in read_jsonl(folder / "truth.jsonl")}
    assert len(scored) == 1500 and read_jsonl(folder / "clusters.jsonl")
    for name, predicted, actual in (
        ("flagged vs campaign posts", lambda r: r["flagged"], lambda t: bool(t["labels"])),
        ("flagged mass_share vs floods", lambda r: r["flagged"] and "mass_share" in r["labels"], lambda t: "mass_share" in t["labels"]),
    ):
        right = sum(predicted(r) and actual(truth[r["id"]]) for r in scored)
        found, true = sum(map(predicted, scored)), sum(actual(truth[r["id"]]) for r in scored)
        line = " ".join(next(row for row in err.splitlines() if name in row).replace("│", " ").split())
        assert line == f"{name} {right / found:.3f} {right / true:.3f} {true:,} {found:,} {right:,}"
    assert f"ground truth: {folder / 'truth.jsonl'}" in err


def test_watch_command_writes_a_verdict_per_post_and_rejects(tmp_path):
    feed, out, rejects = tmp_path / "feed.jsonl", tmp_path / "v.jsonl", tmp_path / "r.jsonl"
    total = write_feed(feed)
    assert main(["watch", str(feed), "-o", str(out), "--rejects", str(rejects), "-q"]) == 0
    verdicts, bad = read_jsonl(out), read_jsonl(rejects)
    assert len(verdicts) + len(bad) == total
    assert [r["line"] for r in bad][:2] == [4, 7]
    assert any(v["flood"] and "mass_share" in v["labels"] for v in verdicts)


def run_main(args, stdin=b"", cwd=None):
    """``main(args)`` in a fresh interpreter: its return value is the process's exit code."""
    code = f"import sys; from spamflood.cli import main; sys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, check=False, timeout=120, cwd=cwd)


def twitter_export_newest_first(path):
    """50 tweets (Twitter API v1.1 objects) in the newest-first order the API returns: 42 by
    different accounts every 30 min, and 8 copies of one ad by 8 accounts, 5 min apart."""
    import time as _time

    def created(minutes):
        return _time.strftime("%a %b %d %H:%M:%S +0000 %Y", _time.gmtime(BASE + 60 * minutes))

    tweets = [{"id_str": f"o{k}", "full_text": f"walked the dog for {k} miles this morning, lovely weather number {k}",
               "user": {"id_str": f"u{k}"}, "minutes": 30 * k} for k in range(42)]
    tweets += [{"id_str": f"ad{k}", "full_text": AD, "user": {"id_str": f"spam{k}"}, "minutes": 601 + 5 * k} for k in range(8)]
    tweets.sort(key=lambda t: -t["minutes"])
    path.write_text("".join(json.dumps({**t, "created_at": created(t.pop("minutes"))}) + "\n" for t in tweets))


def test_watch_counts_late_posts_and_hints_at_sort(tmp_path, capsys):
    feed, out = tmp_path / "export.jsonl", tmp_path / "verdicts.jsonl"
    twitter_export_newest_first(feed)
    assert main(["watch", str(feed), "--preset", "twitter-v1", "-o", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    verdicts = read_jsonl(out)
    assert err == [
        "watch: 50 lines, 50 verdicts, 0 in floods, 47 late, 0 rejected",
        (
            "late: 47 posts were older than the 60 min window behind the newest post seen when they arrived; their "
            "verdicts say so, they were not judged (watch --help)"
        ),
        "hint: 49 of 50 posts came after a newer one (a newest-first export?): --sort judges the file in time order",
    ]
    late = [v for v in verdicts if v["late"]]
    assert len(verdicts) == 50 and len(late) == 47
    assert all(v["reasons"][0].startswith("late: ") and v["reasons"][0].endswith("not judged or counted") for v in late)


def test_watch_sort_finds_the_flood_in_a_newest_first_export(tmp_path, capsys):
    feed = tmp_path / "export.jsonl"
    twitter_export_newest_first(feed)
    code = main(["watch", str(feed), "--preset", "twitter-v1", "--sort", "--flags-only"])
    out, err = capsys.readouterr()
    assert code == 0, err
    flagged = [json.loads(line) for line in out.splitlines()]
    assert [v["id"] for v in flagged] == ["ad4", "ad5", "ad6", "ad7"]  # in time order, from the 5th account on
    line_of = {json.loads(text)["id_str"]: n for n, text in enumerate(feed.read_text().splitlines(), start=1)}
    assert [v["line"] for v in flagged] == [line_of[f"ad{k}"] for k in range(4, 8)] == [25, 24, 22, 21]
    assert err == "watch: 50 lines, 50 verdicts, 4 in floods, 0 late, 0 rejected\n"


def test_watch_allowed_lateness_judges_a_slightly_shuffled_file_in_order(tmp_path, capsys):
    feed, out = tmp_path / "feed.jsonl", tmp_path / "v.jsonl"
    posts = [{"id": f"p{k}", "text": AD, "author": f"a{k}", "time": BASE + 600 * k} for k in range(6)]
    order = [1, 0, 3, 2, 5, 4]  # each 10 min behind the one before it
    feed.write_text("".join(json.dumps(posts[k]) + "\n" for k in order))
    assert main(["watch", str(feed), "-o", str(out), "--window", "15min", "--min-authors", "2", "--allowed-lateness", "10min"]) == 0
    assert [(v["id"], v["cluster_size"], v["late"]) for v in read_jsonl(out)] == [
        ("p0", 1, False), ("p1", 2, False), ("p2", 2, False), ("p3", 2, False), ("p4", 2, False), ("p5", 2, False)
    ]
    assert "0 late" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        pytest.param(["--allowed-lateness", "soon"], "'allowed_lateness' parameter must be a duration", id="bad-lateness"),
        pytest.param(["--sort", "--allowed-lateness", "5min"], "'sort' or 'allowed_lateness', not both", id="both"),
        pytest.param(["--redis-timeout", "-1"], "--redis-timeout must be a number of seconds >= 0", id="bad-timeout"),
    ],
)
def test_watch_refuses_bad_lateness_options_as_usage(tmp_path, capsys, extra, message):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed, bad=False)
    assert main(["watch", str(feed), "-o", str(tmp_path / "v.jsonl"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_watch_missing_input_is_an_error_worded_as_score_words_it(tmp_path, capsys):
    missing = tmp_path / "missing.jsonl"
    main(["score", str(missing), "-o", str(tmp_path / "o.jsonl"), "-q"])
    score_err = capsys.readouterr().err
    proc = run_main(["watch", str(missing), "-q"])
    assert proc.returncode == 1
    assert proc.stderr.decode() == score_err
    assert score_err.startswith("ERROR ") and f"'{missing}' does not exist" in score_err


def test_watch_prints_the_first_rejects_when_no_rejects_file_keeps_them(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    good = [json.dumps({"id": f"p{k}", "text": AD, "author": f"a{k}", "time": BASE + k}) for k in range(3)]
    bad = [json.dumps({"id": f"b{k}", "text": AD, "author": "x", "time": f"day {k}"}) for k in range(7)]
    feed.write_text("\n".join(good + bad) + "\n")
    assert main(["watch", str(feed), "-o", str(tmp_path / "v.jsonl")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[:6] == [
        *(f"rejected line {n}, field 'time': unparseable time 'day {n - 4}' (expected ISO 8601, epoch or Twitter format)"
          for n in range(4, 9)),
        "more rejects are counted only; --rejects FILE keeps every one",
    ]
    assert err[6] == "watch: 10 lines, 3 verdicts, 0 in floods, 0 late, 7 rejected"
    assert main(["watch", str(feed), "-o", str(tmp_path / "v.jsonl"), "--rejects", str(tmp_path / "r.jsonl")]) == 0
    assert "rejected line" not in capsys.readouterr().err and len(read_jsonl(tmp_path / "r.jsonl")) == 7


def test_watch_reads_gzip_input_by_name_or_content(tmp_path):
    import gzip
    import shutil

    feed = tmp_path / "feed.jsonl"
    total = write_feed(feed, bad=False)
    (tmp_path / "feed.jsonl.gz").write_bytes(gzip.compress(feed.read_bytes()))
    (tmp_path / "feed.export").write_bytes(gzip.compress(feed.read_bytes()))  # gzip without the name saying so
    for name in ("feed.jsonl", "feed.jsonl.gz"):
        assert main(["watch", str(tmp_path / name), "-o", str(tmp_path / f"{name}.out"), "-q"]) == 0
    plain = (tmp_path / "feed.jsonl.out").read_bytes()
    assert len(plain.splitlines()) == total and (tmp_path / "feed.jsonl.gz.out").read_bytes() == plain
    script = shutil.which("spamflood")
    if script is None:
        pytest.skip("the spamflood console script is not installed (pip install -e .)")
    proc = subprocess.run([script, "watch", str(tmp_path / "feed.export"), "-q"], capture_output=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == plain


def test_watch_help_explains_event_time_and_lateness(capsys):
    assert main(["watch", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "The window is measured in the posts' own times, not the clock. The watermark is the newest post time seen" in text
    assert "A post older than that when it arrives is late" in text
    assert "--allowed-lateness DURATION" in text and "--sort" in text and "--redis-timeout SECONDS" in text


# ---------------------------------------------------------------- found in review of issue 15


def test_the_spark_engine_may_not_overwrite_its_input_with_its_default_rejects_file(tmp_path, capsys):
    feed = tmp_path / "x.rejects.jsonl"  # the default rejects file of -o x.jsonl
    write_feed(feed)
    before = feed.read_bytes()
    code = main(["score", str(feed), "-o", str(tmp_path / "x.jsonl"), "--engine", "spark", "-q"])
    assert code == 2  # refused before Spark is started, so this holds without PySpark too
    assert "the rejects file beside -o/--output" in capsys.readouterr().err
    assert feed.read_bytes() == before


def test_a_glob_is_an_input_spark_may_read(tmp_path):
    from spamflood.cli import _check_paths, build_parser

    write_feed(tmp_path / "a.jsonl")
    args = build_parser().parse_args(["score", str(tmp_path / "*.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--engine", "spark"])
    _check_paths(args)  # Spark lists the files; nothing is refused as missing
    local = build_parser().parse_args(["score", str(tmp_path / "*.jsonl"), "-o", str(tmp_path / "out.jsonl")])
    with pytest.raises(Exception, match=r"does not exist"):
        _check_paths(local)


def test_two_outputs_on_standard_output_are_refused(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    assert main(["score", str(feed), "-o", "-", "--rejects", "-", "-q"]) == 2
    assert "both go to standard output" in capsys.readouterr().err


def _cut_gzip(source, target) -> None:
    import gzip

    packed = gzip.compress(source.read_bytes())
    target.write_bytes(packed[: len(packed) // 2])


def test_evaluate_refuses_figures_from_a_cut_input(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    lines = [json.dumps({"id": f"p{k}", "text": f"{AD} #{k}", "author": f"a{k}", "time": BASE + k, "spam": k % 2}) for k in range(400)]
    feed.write_text("\n".join(lines) + "\n")
    cut = tmp_path / "cut.jsonl.gz"
    _cut_gzip(feed, cut)
    assert main(["evaluate", str(cut), "--label-field", "spam", "--rules", "-q"]) == 1
    assert "breaks off after line" in capsys.readouterr().err


def test_evaluate_with_every_row_rejected_is_an_error(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "a", "text": AD, "author": "u", "time": BASE}) + "\n")  # no label
    assert main(["evaluate", str(feed), "--label-field", "spam", "--rules", "-q"]) == 1
    assert "No labelled post" in capsys.readouterr().err


def test_watch_names_the_output_it_cannot_write(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed, bad=False)
    assert main(["watch", str(feed), "-o", "/dev/full", "-q"]) == 1  # (an exception would fail the test)
    assert "Could not write /dev/full: No space left on device; 0 complete lines" in capsys.readouterr().err


def test_submodules_are_attributes_of_the_package():
    import spamflood

    assert spamflood.io.readers.detect_format("x.csv") == "csv"
    with pytest.raises(AttributeError):
        spamflood.no_such_thing  # noqa: B018


def test_with_scored_rows_on_stdout_each_reject_is_printed_once(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)  # three bad rows
    assert main(["score", str(feed), "-o", "-"]) == 0
    err = capsys.readouterr().err
    assert err.count("line 4:") == 1 and err.count("line 7,") == 1
