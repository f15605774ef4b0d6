"""Training, evaluating and scoring with a model, from the command line and from Detector.load."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import shared_data
from spamflood import Detector
from spamflood.cli import main
from spamflood.errors import ModelError
from spamflood.io.fieldmap import FieldMap
from spamflood.model import load_model
from spamflood.synth import write as synth_write


@pytest.fixture(scope="module")
def feed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("feed")
    synth_write(folder / "feed.jsonl", folder / "truth.jsonl", posts=4000, seed=11)
    return folder


@pytest.fixture(scope="module")
def training_feed(tmp_path_factory):
    # The smallest feed whose labels still train heads (each needs 30 positives), two folds:
    # the command runs twice (the model and its rebuild, side by side), each fit boosts every
    # head (cv + 1) times.
    folder = tmp_path_factory.mktemp("training")
    synth_write(folder / "feed.jsonl", folder / "truth.jsonl", posts=2000, seed=11)
    return folder


def _train(argv: list[str]) -> subprocess.Popen[str]:
    """``spamflood train`` in a process of its own, as a user runs it; on one OpenMP thread, as
    two of them run at once (threads spinning for a busy core make the boosters crawl)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "spamflood", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


@pytest.fixture(scope="module")
def builds(training_feed):
    """The trained model, and the same command with only ``-o`` changed: its rebuild. Both run
    at once, each on a core, so the pair costs one training; the rebuild test checks that the
    second is the command the first records in its manifest."""
    model, again = training_feed / "model.joblib", training_feed / "again" / "model.joblib"
    again.parent.mkdir()
    argv = ["train", str(training_feed / "feed.jsonl"), "--truth", str(training_feed / "truth.jsonl"), "--label-field", "labels",
            "-o", str(model), "--cv", "2", "--text", "off", "-q"]
    rebuild = [str(again) if arg == str(model) else arg for arg in argv]
    runs = [_train(argv), _train(rebuild)]
    for run in runs:
        _, err = run.communicate(timeout=900)
        assert run.returncode == 0, err
    return model, again, rebuild


@pytest.fixture(scope="module")
def trained(builds):
    return builds[0]


def test_train_writes_a_model_and_a_manifest_that_says_how(trained):
    manifest = json.loads(trained.with_name("model.manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256(trained.read_bytes()).hexdigest()
    assert manifest["training"]["command"].startswith("spamflood train ")
    assert manifest["training"]["posts"] == 2000 and manifest["training"]["spam"] > 0
    cv = manifest["metrics"]["cross_validation"]["features"]
    assert cv["folds"] == 2 and 0.5 < cv["roc_auc"] <= 1.0
    assert "mass_share" in manifest["labels"]


def test_the_recorded_command_rebuilds_the_same_file(builds):
    trained, again, rebuild = builds
    args = json.loads(trained.with_name("model.manifest.json").read_text())["training"]["command"].split()[1:]
    args[args.index("-o") + 1] = str(again)
    assert args == rebuild  # the rebuild ran the recorded command, writing elsewhere
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(trained.read_bytes()).digest()


def test_evaluate_prints_and_writes_the_figures(feed, trained, tmp_path, capsys):
    out = tmp_path / "figures.json"
    code = main(
        ["evaluate", str(feed / "feed.jsonl"), "--truth", str(feed / "truth.jsonl"), "--label-field", "labels",
         "--model", str(trained), "--trust-model", "--precision", "0.9", "-o", str(out)]
    )
    assert code == 0
    figures = json.loads(out.read_text())
    assert {"precision", "recall", "f1", "roc_auc", "pr_auc", "confusion", "threshold_for_precision"} <= set(figures)
    assert figures["posts"] == 4000
    c = figures["confusion"]
    assert c["tp"] + c["fp"] + c["fn"] + c["tn"] == 4000
    assert figures["labels"]["mass_share"]["positives"] > 0
    err = capsys.readouterr().err
    assert "ROC-AUC" in err and "threshold for precision 0.9" in err


def test_an_untrusted_model_stops_the_command_with_exit_1(feed, trained, tmp_path, capsys):
    code = main(["score", str(feed / "feed.jsonl"), "-o", str(tmp_path / "s.jsonl"), "--model", str(trained), "-q"])
    assert code == 1
    assert "--trust-model" in capsys.readouterr().err


def test_score_with_a_model_writes_sub_scores_with_features(feed, trained, tmp_path):
    out = tmp_path / "scored.jsonl"
    code = main(["score", str(feed / "feed.jsonl"), "-o", str(out), "--model", str(trained), "--trust-model", "--features", "-q"])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4000
    for row in rows:
        if row["flagged"]:
            assert row["reasons"], "every flag is explained"
            if row["labels"]:  # each label with its own sentence, strongest first
                assert [r.split(":", 1)[0] for r in row["reasons"]] == row["labels"]
                subs = [row["label_scores"].get(label, 0.0) for label in row["labels"]]
                assert subs == sorted(subs, reverse=True), "strongest label first"
            else:  # no rule fired: the features that raised the score, with their values, and no label
                assert len(row["reasons"]) == 1 and row["reasons"][0].startswith("score: raised by ")


def test_train_rejects_rows_without_a_label_and_loses_none(tmp_path):
    rows = [{"id": f"p{i}", "text": f"post number {i} about lunch", "author": f"a{i}", "time": 1771286400 + i, "spam": i % 3 == 0} for i in range(60)]
    rows[5]["spam"] = "perhaps"
    del rows[7]["spam"]
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    code = main(["train", str(path), "--label-field", "spam", "-o", str(tmp_path / "m.joblib"), "--cv", "2", "--text", "off", "-q"])
    assert code == 0
    rejects = [json.loads(line) for line in (tmp_path / "m.rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in rejects] == [(6, "spam"), (8, "spam")]
    assert "perhaps" in rejects[0]["reason"] and "no label" in rejects[1]["reason"]
    manifest = json.loads((tmp_path / "m.manifest.json").read_text())
    assert manifest["training"]["posts"] + len(rejects) == 60


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_detector_load_scores_with_the_bundled_model(feed, n_jobs):
    # with 2 jobs the model is unpickled on a thread while the workers read the posts
    detector = Detector.load(n_jobs=n_jobs)
    assert detector.model is not None and detector.model_manifest["sha256"]
    result = detector.score(str(feed / "feed.jsonl"))
    truth = {json.loads(line)["id"]: json.loads(line)["labels"] for line in (feed / "truth.jsonl").read_text().splitlines()}
    y = np.array([bool(truth[i]) for i in result.batch.ids])
    flagged = result.flagged
    assert (flagged & y).sum() / max(flagged.sum(), 1) > 0.9  # precision of the flags
    assert (flagged & y).sum() / y.sum() > 0.8  # recall
    frame = detector.score_frame(pd.read_json(feed / "feed.jsonl", lines=True, dtype={"id": str}))
    assert list(frame.columns[:3]) == ["id", "score", "flagged"] and len(frame) == 4000


def test_detector_load_of_a_foreign_path_needs_trust(trained):
    with pytest.raises(ModelError, match="trusted=True"):
        Detector.load(trained)
    detector = Detector.load(trained, trusted=True, threshold=0.7)
    assert detector.threshold == 0.7 and detector.model is not None


def load_messages(folder: str, name: str, sep: str) -> pd.DataFrame:
    path = shared_data(folder) / name
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition(sep)
        if label in ("ham", "spam", "0", "1") and text.strip():
            rows.append({"id": str(len(rows)), "text": text, "label": label})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("folder", "name", "sep", "limit"),
    [("sms_spam_uci", "SMSSpamCollection", "\t", None), ("cn_sms_spam_50k", "dataset.csv", ",", 12000)],
)
def test_the_bundled_model_ranks_real_spam_above_ham_zero_shot(folder, name, sep, limit):
    """Trained on synthetic feeds only; real short messages (no accounts, no times)."""
    from sklearn.metrics import roc_auc_score

    frame = load_messages(folder, name, sep)
    frame = frame.iloc[:limit] if limit else frame
    result = Detector.load().score(frame, field_map=FieldMap.parse("author=,time=", keep=("label",)))
    y = np.isin(np.array(result.batch.extra["label"]), ["spam", "1"])
    assert roc_auc_score(y, result.score) >= 0.90
    assert load_model().model is not None


def test_a_model_without_label_heads_lists_the_fired_labels_and_explains_every_flag(feed):
    from spamflood.model import FloodModel, labelled_features, read_truth

    data = labelled_features(Detector(), str(feed / "feed.jsonl"), label_field="labels", truth=read_truth(feed / "truth.jsonl", "labels"))
    model = FloodModel(max_iter=50).fit(data.frame(), data.y)  # spam or not: no per-label heads
    assert model.label_names_ == []
    result = Detector(model=model).score(str(feed / "feed.jsonl"))
    flagged = np.flatnonzero(result.flagged)
    assert flagged.size > 100
    rules = Detector().score(str(feed / "feed.jsonl"))
    assert result.labels == [sorted(x, key=y.index) for x, y in zip(result.labels, rules.labels)]  # the rules' labels
    for i in flagged:
        assert result.reasons[i]
        if result.labels[i]:
            assert [r.split(":", 1)[0] for r in result.reasons[i]] == result.labels[i]
        else:
            assert result.reasons[i][0].startswith("score: raised by ") and any(ch.isdigit() for ch in result.reasons[i][0])


def test_model_options_that_contradict_each_other_are_usage_errors(feed, tmp_path, capsys):
    code = main(["score", str(feed / "feed.jsonl"), "-o", str(tmp_path / "s.jsonl"), "--model", "x.joblib", "--no-criteria", "-q"])
    assert code == 2
    assert "--model needs the criteria" in capsys.readouterr().err


def test_rules_flag_scores_without_a_model(feed, tmp_path):
    out = tmp_path / "s.jsonl"
    assert main(["score", str(feed / "feed.jsonl"), "-o", str(out), "--rules", "-q"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    rule = Detector().score(str(feed / "feed.jsonl"))
    assert [r["score"] for r in rows] == [round(float(s), 6) for s in rule.score]


# ---------------------------------------------------------------- plain labelled exports
# Each real corpus's shape in small, written here: the files, the options a user gives, and
# the rows that must be rejected (file, line, field). 40 spam and 40 ham rows each.

def _spam(i: int) -> str:
    return f"WIN a free cruise {i}! txt WIN to 8{i:04d} now, T&C apply"


def _ham(i: int) -> str:
    return f"ok see you at {i % 12} for lunch, bring the {['book', 'keys', 'cake'][i % 3]}"


def _spam_zh(i: int) -> str:
    return f"加 我 v 信 ab{i:04d} 领 红包 优惠 {i} 元"


def _ham_zh(i: int) -> str:
    return f"今天 下午 {i % 12} 点 开会 ， 带上 {['电脑', '资料', '水杯'][i % 3]}"


def _pairs(spam, ham, n=40):
    return [line for i in range(n) for line in (spam(i), ham(i))]


def _sms_uci(folder):
    lines = [f"{'spam' if k % 2 == 0 else 'ham'}\t{t}" for k, t in enumerate(_pairs(_spam, _ham))]
    (folder / "SMSSpamCollection").write_text("\n".join([*lines, "a line without a tab"]) + "\n")
    return ["SMSSpamCollection"], ["--format", "lines", "--line-format", "{label}\\t{text}"], [("SMSSpamCollection", 81, "text")]


def _cn_sms(folder):
    lines = [f"{1 - k % 2},{t.replace(' ', '，')}" for k, t in enumerate(_pairs(_spam_zh, _ham_zh))]  # commas in the text
    (folder / "dataset.csv").write_text("\n".join([*lines, "2,不是标签"]) + "\n")
    return ["dataset.csv"], ["--format", "lines", "--line-format", "{label},{text}"], [("dataset.csv", 81, "label")]


def _qq(folder):
    lines = [f"{t.replace(' ', '')}=={1 - k % 2}" for k, t in enumerate(_pairs(_spam_zh, _ham_zh))]
    lines[1] = "a==b 也是 聊天==0"  # "==" inside the text: split on the last one
    (folder / "group.txt").write_bytes("\r\n".join([*lines, "没有标签的一行"]).encode())  # CRLF, no last line end
    return ["group.txt"], ["--line-format", "{text}=={label}"], [("group.txt", 81, "label")]


def _app_posts(folder):
    (folder / "spam.seg").write_text("\n".join(_spam_zh(i) for i in range(40)) + "\n")
    (folder / "pass.seg").write_bytes(("\n".join(_ham_zh(i) for i in range(40)) + "\n").encode() + b"\xff bad\n")
    options = ["--format", "lines", "--unsegment"]
    return ["spam.seg:label=spam", "pass.seg:label=ham"], options, [("pass.seg", 41, "text")]


def _youtube(folder):
    import csv

    with open(folder / "oct.csv", "w", newline="") as fh:
        out = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC)
        out.writerow(["COMMENT_ID", "CONTENT", "TAG"])
        out.writerows([f"c{i}", _spam(i), 1] for i in range(20))
        out.writerows([f"h{i}", _ham(i), 0] for i in range(20))
    with open(folder / "dec.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "TAG"])
        out.writerows([f"c{i}", "someone", "2014-12-01T10:00:00", _spam(i), 1] for i in range(20, 40))
        out.writerows([f"h{i}", "someone", "2014-12-01T10:00:00", _ham(i), 0] for i in range(20, 40))
        out.writerow(["c3", "someone", "2014-12-01T10:00:00", _spam(3), 1])  # read twice: kept once
        out.writerow(["x1", "someone", "2014-12-01T10:00:00", "what is this", "maybe"])
    options = ["--map", "id=COMMENT_ID,text=CONTENT,author=,time=", "--label-field", "TAG"]
    return ["oct.csv", "dec.csv"], options, [("dec.csv", 42, "id"), ("dec.csv", 43, "TAG")]


def _instagram(folder):
    comments = {f"1{i:04d}": {"text": _spam(i), "media": "m1", "type": "scam"} for i in range(40)}
    comments |= {f"2{i:04d}": {"text": _ham(i), "media": "m2", "type": "real"} for i in range(40)}
    comments["30000"] = {"text": "not rated yet", "media": "m3", "type": "unknown"}
    (folder / "comments.json").write_text(json.dumps(comments, indent=4))
    options = ["--map", "id=@key,author=,time=", "--label-field", "type", "--label-values", "scam=1,real=0"]
    return ["comments.json"], options, [("comments.json", 81, "type")]


PLAIN_EXPORTS = {
    "sms-uci-tab-lines": _sms_uci,
    "cn-sms-first-comma": _cn_sms,
    "qq-last-separator-crlf": _qq,
    "app-posts-file-is-the-label": _app_posts,
    "youtube-two-csv-layouts": _youtube,
    "instagram-json-keyed-by-id": _instagram,
}
ROWS = ["--map", "id=@row,author=,time=", "--label-field", "label"]
SCRIPT = shutil.which("spamflood")


def _read_as(export, folder):
    """The export written in ``folder``: its input arguments, reader options and expected rejects."""
    inputs, options, rejected = PLAIN_EXPORTS[export](folder)
    options = options if "--label-field" in options else [*options, *ROWS]
    return [str(folder / spec) for spec in inputs], options, rejected


def _rejects_seen(path, folder, rejected):
    rejects = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["file"], r["line"], r["field"]) for r in rejects] == [(str(folder / f), line, field) for f, line, field in rejected]
    return rejects


@pytest.mark.parametrize("export", list(PLAIN_EXPORTS), ids=list(PLAIN_EXPORTS))
def test_evaluate_reads_a_plain_labelled_export_and_rejects_its_bad_line_by_file_line_and_field(export, tmp_path):
    # train and evaluate read their inputs by one function (the test below runs both commands);
    # here each shape is read by evaluate in this process, with the rule score
    paths, options, rejected = _read_as(export, tmp_path)
    figures, rejects = tmp_path / "figures.json", tmp_path / "rejects.jsonl"
    assert main(["evaluate", *paths, *options, "--rules", "-o", str(figures), "--rejects", str(rejects), "-q"]) == 0
    got = json.loads(figures.read_text())
    assert (got["posts"], got["positives"], got["rejected"]) == (80, 40, len(rejected))
    assert got["roc_auc"] > 0.9  # the labels were read as meant: spam scores above ham
    said = _rejects_seen(rejects, tmp_path, rejected)
    if export == "youtube-two-csv-layouts":  # the comment read twice: where it was first seen, in its own file
        assert f"first seen in '{tmp_path / 'oct.csv'}', line 5" in said[0]["reason"]


def test_train_and_evaluate_commands_read_files_whose_name_is_the_label(tmp_path):
    paths, options, rejected = _read_as("app-posts-file-is-the-label", tmp_path)
    train = [sys.executable, "-m", "spamflood", "train", *paths, *options, "-o", str(tmp_path / "m.joblib"),
             "--rejects", str(tmp_path / "train.rejects.jsonl"), "--cv", "2", "--text", "off", "-q"]
    done = subprocess.run(train, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    evaluate = [SCRIPT or "spamflood", "evaluate", *paths, *options, "--model", str(tmp_path / "m.joblib"), "--trust-model",
                "-o", str(tmp_path / "figures.json"), "--rejects", str(tmp_path / "evaluate.rejects.jsonl"), "-q"]
    done = subprocess.run(evaluate, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "m.manifest.json").read_text())["training"]
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert (manifest["posts"], manifest["spam"], manifest["rejected"]) == (80, 40, len(rejected))
    assert (figures["posts"], figures["positives"], figures["rejected"]) == (80, 40, len(rejected))
    assert figures["roc_auc"] > 0.9
    for run in ("train", "evaluate"):
        _rejects_seen(tmp_path / f"{run}.rejects.jsonl", tmp_path, rejected)


def test_a_bad_line_under_strict_stops_train_with_its_file_line_and_field(tmp_path):
    inputs, options, _ = _qq(tmp_path)
    argv = ["train", *(str(tmp_path / f) for f in inputs), *options, *ROWS, "-o", str(tmp_path / "m.joblib"), "--strict", "-q"]
    done = subprocess.run([sys.executable, "-m", "spamflood", *argv], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert f"'{tmp_path / 'group.txt'}', line 81, field 'label': no '=='" in done.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--line-format", "{label}{text}"], "nothing between them"),
        (["--format", "csv", "--line-format", "{text}"], "--line-format reads plain-text lines"),
        (["--label-values", "spam=1"], "must name a value for spam (=1) and one for not spam (=0)"),
    ],
    ids=["ambiguous-line-format", "line-format-on-csv", "one-sided-label-values"],
)
def test_reader_options_that_cannot_work_stop_evaluate_with_a_usage_error(tmp_path, capsys, options, message):
    inputs, _, _ = _qq(tmp_path)
    argv = ["evaluate", *(str(tmp_path / f) for f in inputs), *ROWS, *options, "--rules", "-q"]
    assert main(argv) == 2 and message in capsys.readouterr().err
