"""The corpus loaders of benchmarks/corpora.py read each real corpus as its SOURCE.txt describes:
its rows, its spam count, a known row and its label, and copy groups that keep copies together.

Skipped with the reason when ../shared/data (or one corpus in it) is absent.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, shared_data
from spamflood.cli import main
from spamflood.io.layout import InputFile

sys.path.insert(0, str(REPO / "benchmarks"))

from corpora import MIN_COPY_CHARS, NAMES, READINGS, load, share_weights

# corpus -> (rows, spam, (index, start of its text, label)): counts from each SOURCE.txt, less the
# rows it says to leave out (QQ: 9 unlabelled lines and 8 empty texts; YouTube: 66 comment ids
# read twice; Instagram: 1,528 unrated comments).
EXPECTED = {
    "sms_spam_uci": (5574, 747, (0, "Go until jurong point", 0)),
    "cn_sms_spam_50k": (50000, 5041, (0, "商业秘密的秘密性", 0)),
    "cn_qq_group_ads": (2386, 315, (0, "谁要正版账号hypixel36级", 1)),
    "youtube_spam_2014_pilot": (1234, 402, (0, " #avengers  Blu-ray preorders", 1)),
    "ig_scam_comments": (3444, 1150, (0, "1k turn 19k with @", 0)),
    "cn_app_post_spam": (19998, 9999, (0, "老公出差了自己一个人无聊中加我维信tfs255", 1)),
}


def test_every_loaded_corpus_has_its_expected_counts() -> None:
    assert set(EXPECTED) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_a_loader_reads_its_rows_labels_and_a_known_row(name: str) -> None:
    corpus = load(name, shared_data(name).parent)
    assert corpus is not None
    rows, spam, (index, start, label) = EXPECTED[name]
    assert (len(corpus), int(corpus.y.sum())) == (rows, spam)
    assert set(np.unique(corpus.y)) == {0, 1}
    assert corpus.texts[index].startswith(start) and corpus.y[index] == label
    assert all(text.strip() for text in corpus.texts)
    assert corpus.groups.shape == corpus.y.shape


@pytest.mark.parametrize("name", NAMES)
def test_identical_texts_share_a_copy_group(name: str) -> None:
    corpus = load(name, shared_data(name).parent)
    assert corpus is not None
    groups: dict[str, set[int]] = defaultdict(set)
    for text, group in zip(corpus.texts, corpus.groups.tolist(), strict=True):
        if len(text.strip()) >= MIN_COPY_CHARS:
            groups[text].add(group)
    assert all(len(g) == 1 for g in groups.values())


def test_instagram_comments_of_one_post_share_a_group() -> None:
    import json

    root = shared_data("ig_scam_comments")
    corpus = load("ig_scam_comments", root.parent)
    assert corpus is not None
    comments = json.loads((root / "comments_extracted.json").read_text(encoding="utf-8"))
    media = [c["media"] for _, c in sorted(comments.items()) if c["type"] in ("scam", "real")]
    by_post: dict[str, set[int]] = defaultdict(set)
    for post, group in zip(media, corpus.groups.tolist(), strict=True):
        by_post[post].add(group)
    assert all(len(g) == 1 for g in by_post.values())
    # groups still split the corpus: more than a few hundred, none holding a tenth of it
    assert len(np.unique(corpus.groups)) > 400 and np.bincount(corpus.groups).max() < len(corpus) // 10


def test_app_posts_lose_segmentation_spaces_and_one_template_is_one_group() -> None:
    corpus = load("cn_app_post_spam", shared_data("cn_app_post_spam").parent)
    assert corpus is not None
    # SOURCE.txt's example "你 这网 怎么 老卡 的" is read as the post was written
    assert "你这网怎么老卡的" in corpus.texts
    assert not any(re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", t) for t in corpus.texts)
    # "帅哥哥 约 吗 v 信 xdx28886" style: ids differ, the template is one group
    templates: dict[str, set[int]] = defaultdict(set)
    for text, group in zip(corpus.texts, corpus.groups.tolist(), strict=True):
        templates[re.sub(r"[a-z0-9]+", "#", text.replace(" ", ""))].add(group)
    assert all(len(g) == 1 for g in templates.values())
    assert len(np.unique(corpus.groups[corpus.y == 1])) < 5000  # SOURCE.txt: 4,686 templates in 9,999 spam lines


def test_an_absent_corpus_is_none_and_an_unknown_name_is_refused(tmp_path) -> None:
    assert load("sms_spam_uci", tmp_path) is None
    with pytest.raises(ValueError, match="Unknown corpus 'nope'; expected one of sms_spam_uci"):
        load("nope", tmp_path)


def test_a_malformed_line_is_rejected_by_file_line_and_field_and_left_out(tmp_path) -> None:
    (tmp_path / "sms_spam_uci").mkdir()
    path = tmp_path / "sms_spam_uci" / "SMSSpamCollection"
    path.write_text("ham\tfine\nspammy text without a tab\nspam\tWin\n", encoding="utf-8")
    *_, rejects = READINGS["sms_spam_uci"].read(tmp_path / "sms_spam_uci")
    assert [(r.file, r.line, r.field) for r in rejects] == [(str(path), 2, "text")]
    corpus = load("sms_spam_uci", tmp_path)
    assert corpus is not None and corpus.texts == ["fine", "Win"] and corpus.y.tolist() == [0, 1]


def _slice(name: str, folder: Path, rows: int = 150) -> None:
    """The first ``rows`` rows of each file of corpus ``name`` (a CSV's header kept, a JSON
    object's first records; of a plain-text file its first and last ``rows`` lines, so both
    classes are in it), under ``folder/name`` as in ../shared/data."""
    source = shared_data(name)
    for spec in READINGS[name].files:
        relative = InputFile.parse(spec).path
        out = folder / name / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        data = (source / relative).read_bytes()
        if relative.endswith(".json"):
            records = dict(list(json.loads(data).items())[:rows])
            out.write_text(json.dumps(records, indent=4, ensure_ascii=False), encoding="utf-8")
        elif relative.endswith(".csv") and name == "youtube_spam_2014_pilot":
            with open(source / relative, encoding="utf-8", newline="") as fh, open(out, "w", encoding="utf-8", newline="") as dst:
                csv.writer(dst).writerows(itertools.islice(csv.reader(fh), rows + 1))
        else:
            lines = data.splitlines(keepends=True)
            out.write_bytes(b"".join(lines[:rows] + lines[-rows:]))


@pytest.mark.parametrize("name", NAMES)
def test_the_cli_reads_a_slice_of_each_real_corpus_as_the_benchmark_does(name: str, tmp_path) -> None:
    # spamflood evaluate with the corpus's options (READINGS, shown in the README) counts the
    # rows and spam the benchmark's loader reads from the same files, and rejects the rest.
    _slice(name, tmp_path)
    corpus = load(name, tmp_path)
    assert corpus is not None and 0 < int(corpus.y.sum()) < len(corpus)
    reading = READINGS[name]
    paths = [str(tmp_path / name / spec) for spec in reading.files]
    argv = ["evaluate", *paths, *reading.options(), "--rules", "-o", str(tmp_path / "figures.json"), "--rejects", str(tmp_path / "rejects.jsonl"), "-q"]
    if name == "cn_app_post_spam":  # one corpus through the installed command; the rest in this process
        done = subprocess.run([sys.executable, "-m", "spamflood", *argv], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    else:
        assert main(argv) == 0
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert (figures["posts"], figures["positives"]) == (len(corpus), int(corpus.y.sum()))
    # every row is scored or rejected; the CLI rejects what the benchmark's reading rejects
    # (and, for YouTube, the comments read twice, which the benchmark drops by id)
    texts, _, _, rejects = reading.read(tmp_path / name)
    cli = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()] if figures["rejected"] else []
    assert len(corpus) + figures["rejected"] == len(texts) + len(rejects)
    assert {(r.file, r.line, r.field) for r in rejects} <= {(r["file"], r["line"], r["field"]) for r in cli}


def test_the_commands_shown_for_the_corpora_are_the_readings() -> None:
    readme = (REPO / "models" / "README.md").read_text(encoding="utf-8")
    for name, reading in READINGS.items():
        assert reading.command(f"../shared/data/{name}") in readme, name


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=60),
    st.floats(0.05, 0.95),
)
def test_share_weights_give_each_source_the_share_and_the_same_weight(rows, share) -> None:
    source = np.array([s for s, _ in rows])
    y = np.array([int(spam) for _, spam in rows])
    weight = share_weights(y, source, share)
    assert np.isclose(weight.mean(), 1.0) and (weight > 0).all()
    totals = [weight[source == s].sum() for s in np.unique(source)]
    assert np.allclose(totals, totals[0])
    for s in np.unique(source):
        rows_s = source == s
        mixed = 0 < y[rows_s].mean() < 1
        expected = share if mixed else y[rows_s].mean()  # a source of one class keeps its class
        assert np.isclose(np.average(y[rows_s], weights=weight[rows_s]), expected)


def test_share_weights_of_two_corpora() -> None:
    # 1 spam in 4 rows and 1 in 2 rows, weighed to a 25 % share: the first as it was, the
    # second's spam down; each corpus weighs 3 of the 6 rows' weight
    weight = share_weights(np.array([1, 0, 0, 0, 1, 0]), np.array([0, 0, 0, 0, 1, 1]), 0.25)
    assert np.allclose(weight, [0.75, 0.75, 0.75, 0.75, 0.75, 2.25])

