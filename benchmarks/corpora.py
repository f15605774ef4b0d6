"""The labelled real corpora of ``../shared/data``, read one way for every benchmark.

Each loader follows its folder's SOURCE.txt (format, labels, caveats) and returns a
:class:`Corpus`: texts, 0/1 spam targets, and **copy groups**: rows that must stay on one side
of any train/test split. Every corpus groups identical texts; where SOURCE.txt says copies recur,
the groups also join what it names (Instagram: all comments on one post; Chinese app posts: one
template, i.e. the text with its ``[a-z0-9]+`` runs masked). Groups are the connected pieces of
"same key or same text", so a scam text that recurs on two posts joins the two posts. Texts
shorter than :data:`MIN_COPY_CHARS` join nothing by their text ("ok", one emoji: common replies,
not copies; on Instagram they would chain half the posts into one group).

Corpora are short messages without accounts or times; :func:`labelled` turns one into the
model's training data the way a user would (``spamflood train --map author=,time=
--label-field label``).

    from corpora import NAMES, load      # with benchmarks/ on sys.path
    corpus = load("sms_spam_uci")        # None when the folder is absent
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DATA", "NAMES", "Corpus", "copy_groups", "labelled", "load"]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""Where the corpora live: ``../shared/data`` beside the repository."""

MIN_COPY_CHARS = 10
"""Identical texts at least this long are copies of one another (same group)."""

FIELDS = "author=,time="
"""The ``--map`` a user gives for these exports: a text and a label, no account or time."""


@dataclass(frozen=True)
class Corpus:
    """One labelled corpus: ``texts[i]`` is spam when ``y[i] == 1``; rows with the same
    ``groups`` value are copies of each other (keep them on one side of a split)."""

    name: str
    language: str
    texts: list[str]
    y: np.ndarray
    groups: np.ndarray
    grouping: str
    licence: str

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, index: np.ndarray) -> Corpus:
        """The rows ``index``, in that order."""
        return Corpus(
            self.name, self.language, [self.texts[i] for i in index], self.y[index], self.groups[index], self.grouping, self.licence
        )

    def sample(self, rows: int, seed: int) -> Corpus:
        """At most ``rows`` rows, stratified by class, in their original order (the same for
        the same seed)."""
        if len(self) <= rows:
            return self
        rng = np.random.default_rng(seed)
        share = rows / len(self)
        keep = [rng.permutation(np.flatnonzero(self.y == c))[: max(1, round(share * int((self.y == c).sum())))] for c in (0, 1)]
        return self.take(np.sort(np.concatenate(keep)))


def _groups(texts: Sequence[str], keys: Sequence[Any] | None = None) -> np.ndarray:
    """Group ids: rows joined by an equal key or an equal text (of at least
    :data:`MIN_COPY_CHARS`), transitively (union-find)."""
    parent: dict[Any, Any] = {}

    def root(node: Any) -> Any:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    nodes = [("text", t) if len(t.strip()) >= MIN_COPY_CHARS else ("row", i) for i, t in enumerate(texts)]
    for i, node in enumerate(nodes):
        a = root(node)
        if keys is not None:
            b = root(("key", keys[i]))
            if a != b:
                parent[b] = a
    ids: dict[Any, int] = {}
    return np.fromiter((ids.setdefault(root(node), len(ids)) for node in nodes), dtype=np.int64, count=len(texts))


def copy_groups(texts: Sequence[str]) -> np.ndarray:
    """Group ids joining identical texts (of at least :data:`MIN_COPY_CHARS`): the copies of
    a feed that names no other key (the synthetic training feed)."""
    return _groups(texts)


def _corpus(name: str, language: str, rows: list[tuple[str, int]], licence: str, keys: list[Any] | None = None, grouping: str = "identical text") -> Corpus:
    # A row with no text is no message (spamflood rejects it: "text missing or empty").
    kept = [i for i, (text, _) in enumerate(rows) if text.strip()]
    rows = [rows[i] for i in kept]
    keys = None if keys is None else [keys[i] for i in kept]
    texts = [t for t, _ in rows]
    return Corpus(name, language, texts, np.array([s for _, s in rows], dtype=np.int64), _groups(texts, keys), grouping, licence)


def _sms_uci(root: Path) -> Corpus:
    # "<label>\t<text>", label ham/spam, no header.
    rows = []
    for number, line in enumerate((root / "SMSSpamCollection").read_text(encoding="utf-8").splitlines(), 1):
        label, sep, text = line.partition("\t")
        if not sep or label not in ("ham", "spam"):
            raise ValueError(f"{root / 'SMSSpamCollection'}, line {number}: expected 'ham|spam<TAB>text', got {line[:60]!r}")
        rows.append((text, int(label == "spam")))
    return _corpus("sms_spam_uci", "en", rows, "free use with citation (dataset readme)")


def _cn_sms(root: Path) -> Corpus:
    # "<label>,<text>": the label is the first character, the text everything after the first
    # comma (texts hold commas and are not quoted: no CSV reader).
    rows = []
    for number, line in enumerate((root / "dataset.csv").read_text(encoding="utf-8").splitlines(), 1):
        label, sep, text = line.partition(",")
        if not sep or label not in ("0", "1"):
            raise ValueError(f"{root / 'dataset.csv'}, line {number}: expected '0|1,text', got {line[:60]!r}")
        rows.append((text, int(label)))
    return _corpus("cn_sms_spam_50k", "zh", rows, "none stated: measuring only")


def _qq(root: Path) -> Corpus:
    # "<text>==<label>", split on the last "=="; 9 lines carry no label and are left out.
    rows = []
    for line in (root / "mc_qq_group.txt").read_text(encoding="utf-8").splitlines():
        text, sep, label = line.rstrip("\r").rpartition("==")
        if sep and label.strip() in ("0", "1"):
            rows.append((text, int(label.strip())))
    return _corpus("cn_qq_group_ads", "zh", rows, "MIT")


def _youtube(root: Path) -> Corpus:
    # Six CSV files (two layouts, both with COMMENT_ID, CONTENT, TAG); the Dec-2014 PewDiePie
    # file repeats 66 comments of the Oct one: each comment id is read once.
    seen: set[str] = set()
    rows = []
    for path in sorted(root.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for number, row in enumerate(csv.DictReader(fh), 2):
                if row["COMMENT_ID"] in seen:
                    continue
                seen.add(row["COMMENT_ID"])
                if row["TAG"].strip() not in ("0", "1"):
                    raise ValueError(f"{path}, line {number}, field TAG: expected 0 or 1, got {row['TAG']!r}")
                rows.append((row["CONTENT"], int(row["TAG"].strip())))
    return _corpus("youtube_spam_2014_pilot", "en", rows, "none stated: measuring only")


def _instagram(root: Path) -> Corpus:
    # The rated comments of comments_extracted.json (type scam/real; "unknown" is unrated),
    # which keeps the post (media) each comment is on: split by post.
    comments = json.loads((root / "comments_extracted.json").read_text(encoding="utf-8"))
    rated = [(cid, c) for cid, c in sorted(comments.items()) if c["type"] in ("scam", "real")]
    rows = [(c["text"], int(c["type"] == "scam")) for _, c in rated]
    return _corpus("ig_scam_comments", "en", rows, "MIT", keys=[c["media"] for _, c in rated], grouping="post (media), identical text")


_MASK = re.compile(r"[a-z0-9]+")
_SEGMENT_SPACE = re.compile(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])")


def _app_posts(root: Path) -> Corpus:
    # One message a line, word-segmented by jieba: the segmentation spaces are removed (kept
    # only between two latin/digit tokens). Spam is templated: its template is the text with
    # [a-z0-9]+ runs masked (SOURCE.txt: 9,999 spam lines, 4,686 templates).
    rows, keys = [], []
    for file, spam in (("postspam.log.seg", 1), ("postpass.log.seg", 0)):
        for line in (root / "postlog" / file).read_text(encoding="utf-8").splitlines():
            text = _SEGMENT_SPACE.sub("", line.strip())
            rows.append((text, spam))
            keys.append(_MASK.sub("#", text.replace(" ", "")))
    return _corpus("cn_app_post_spam", "zh", rows, "MIT", keys=keys, grouping="template ([a-z0-9]+ masked), identical text")


_LOADERS: dict[str, Callable[[Path], Corpus]] = {
    "sms_spam_uci": _sms_uci,
    "cn_sms_spam_50k": _cn_sms,
    "cn_qq_group_ads": _qq,
    "youtube_spam_2014_pilot": _youtube,
    "ig_scam_comments": _instagram,
    "cn_app_post_spam": _app_posts,
}
NAMES: tuple[str, ...] = tuple(_LOADERS)
"""Every labelled text corpus (``cresci2017_accounts`` holds profiles, not messages)."""


def load(name: str, root: Path = DATA) -> Corpus | None:
    """The corpus ``name`` from ``root``, or ``None`` when its folder is absent."""
    if name not in _LOADERS:
        raise ValueError(f"Unknown corpus {name!r}; expected one of {', '.join(NAMES)}.")
    folder = root / name
    return _LOADERS[name](folder) if folder.is_dir() else None


def labelled(detector: Any, corpus: Corpus) -> Any:
    """``corpus`` scored by ``detector`` as ``spamflood train --map author=,time= --label-field
    label`` reads it: the :class:`~spamflood.model.LabelledFeatures` (every feature, the
    detector's score and labels) in the corpus's row order."""
    import pandas as pd

    from spamflood import FieldMap
    from spamflood.model import labelled_features

    frame = pd.DataFrame({"id": [str(i) for i in range(len(corpus))], "text": corpus.texts, "label": corpus.y})
    data = labelled_features(detector, frame, label_field="label", field_map=FieldMap.parse(FIELDS))
    if len(data.y) != len(corpus):
        first = data.rejects[0] if data.rejects else None
        raise ValueError(f"{corpus.name}: {len(corpus) - len(data.y)} rows rejected (first: {first})")
    if data.ids != list(frame["id"]):
        raise ValueError(f"{corpus.name}: the detector returned the rows in another order")
    return data
