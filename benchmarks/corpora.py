"""The labelled real corpora of ``../shared/data``, read one way for every benchmark.

Each corpus is read as a user reads it: :data:`READINGS` holds the files and the options of
``spamflood train``/``evaluate`` its SOURCE.txt calls for (format, line format, labels), and
:meth:`Reading.read` reads them through spamflood's public reader with exactly those options
(``python benchmarks/corpora.py`` prints the commands). Each loader returns a
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

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DATA", "NAMES", "Corpus", "copy_groups", "labelled", "load", "share_weights"]

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


def share_weights(y: np.ndarray, source: np.ndarray, share: float) -> np.ndarray:
    """Row weights that give every ``source`` (a corpus, a feed) the spam share ``share`` and
    the same weight in all (the rows' mean weight stays 1).

    How much of a corpus is spam says how it was collected (app posts 50 %, English SMS 13 %),
    not what a post is; unweighted, a model fitted on several corpora learns their mixture as
    its prior and flags the ham of a corpus with less spam. And a corpus is one place people
    write: weighed by its rows, the two largest (Chinese SMS, app posts: 10,000 rows each)
    would teach more than the four others together (1,234-5,574 rows). A source of one class
    keeps its class.
    """
    weight = np.ones(len(y), dtype=np.float64)
    sources = np.unique(source)
    for value in sources:
        rows = source == value
        spam = float(y[rows].mean())
        if 0.0 < spam < 1.0:
            weight[rows & (y == 1)] = share / spam
            weight[rows & (y == 0)] = (1.0 - share) / (1.0 - spam)
        weight[rows] *= len(y) / len(sources) / rows.sum()
    return weight


def _corpus(name: str, language: str, rows: list[tuple[str, int]], licence: str, keys: list[Any] | None = None, grouping: str = "identical text") -> Corpus:
    # A row with no text is no message (spamflood rejects it: "text missing or empty").
    kept = [i for i, (text, _) in enumerate(rows) if text.strip()]
    rows = [rows[i] for i in kept]
    keys = None if keys is None else [keys[i] for i in kept]
    texts = [t for t, _ in rows]
    return Corpus(name, language, texts, np.array([s for _, s in rows], dtype=np.int64), _groups(texts, keys), grouping, licence)


@dataclass(frozen=True)
class Reading:
    """How a user reads one corpus with ``spamflood train``/``evaluate``: its files (under the
    corpus folder; ``FILE:label=1`` gives a file's rows a constant label) and the reader
    options. :meth:`read` reads it through the same public reader (``iter_chunks``,
    ``RowParser``, ``parse_label``) with exactly those options; :meth:`command` prints them."""

    files: tuple[str, ...]
    fields: str = "id=@row,author=,time="
    label_field: str = "label"
    fmt: str | None = None
    line_format: str | None = None
    unsegment: bool = False
    label_values: str | None = None
    keep: tuple[str, ...] = ()
    """Source fields kept beside the text and label (the copy-group key)."""

    def options(self) -> list[str]:
        """The command-line options, in the order the README shows them."""
        out = [*(["--format", self.fmt] if self.fmt else []), *(["--line-format", self.line_format] if self.line_format else [])]
        out += ["--unsegment"] if self.unsegment else []
        out += ["--map", self.fields, "--label-field", self.label_field]
        return out + (["--label-values", self.label_values] if self.label_values else [])

    def command(self, folder: str = "") -> str:
        """``spamflood train ...`` for this corpus in ``folder``."""
        import shlex

        paths = [f"{folder.rstrip('/')}/{f}" if folder else f for f in self.files]
        return shlex.join(["spamflood", "train", *paths, *self.options(), "-o", "model.joblib"])

    def read(self, root: Path) -> tuple[list[str], list[int], dict[str, list[Any]], list[Any]]:
        """Texts, 0/1 labels and the kept fields of the rows that read, in input order, and the
        rejects (file, line, field, reason): rows left out, as ``spamflood train`` leaves them."""
        from spamflood.io import FieldMap, InputFile, Layout, ReadStats, Reject, RowParser, iter_chunks
        from spamflood.model.training import parse_label, parse_label_values

        files = [InputFile.parse(str(root / spec)) for spec in self.files]
        field_map = FieldMap.parse(self.fields, keep=(self.label_field, *self.keep))
        parser = RowParser(field_map)
        layout = Layout(line_format=self.line_format, unsegment=self.unsegment)
        values = parse_label_values(self.label_values) if self.label_values else None
        texts: list[str] = []
        labels: list[int] = []
        kept: dict[str, list[Any]] = {name: [] for name in ("id", *self.keep)}
        stats = ReadStats()
        rejects: list[Reject] = []
        for chunk in iter_chunks(files, fmt=self.fmt, field_map=field_map, layout=layout, stats=stats):
            posts, bad = parser.parse_many(chunk)
            rejects += bad
            for post in posts:
                parsed = parse_label(post.extra.get(self.label_field), values)
                if parsed is None:
                    rejects.append(Reject(post.line, self.label_field, "no readable label", post.text))
                    continue
                texts.append(post.text)
                labels.append(parsed[0])
                kept["id"].append(post.id)
                for name in self.keep:
                    kept[name].append(post.extra.get(name))
        return texts, labels, kept, [stats.place(r) for r in sorted(rejects, key=lambda r: r.line)]


READINGS: dict[str, Reading] = {
    # "<label>\t<text>", label ham/spam, no header: every line has exactly one tab.
    "sms_spam_uci": Reading(("SMSSpamCollection",), fmt="lines", line_format="{label}\\t{text}"),
    # "<label>,<text>": the label is the first character, the text everything after the first
    # comma (texts hold commas and are not quoted: not a CSV).
    "cn_sms_spam_50k": Reading(("dataset.csv",), fmt="lines", line_format="{label},{text}"),
    # "<text>==<label>", split on the last "=="; 9 lines carry no label and are rejected.
    "cn_qq_group_ads": Reading(("mc_qq_group.txt",), line_format="{text}=={label}"),
    # Six CSV files (two layouts, both with COMMENT_ID, CONTENT, TAG).
    "youtube_spam_2014_pilot": Reading(
        (
            "Avengers_NPoHPNeU9fc.csv",
            "KatyPerry_CevxZvSJLk8.csv",
            "PewDiePie-gRyPjRrjS34_2014-12.csv",
            "PewDiePie_gRyPjRrjS34.csv",
            "PlayStation4_x7QhUL8NUK4.csv",
            "Psy_9bZkp7q19f0.csv",
        ),
        fields="id=COMMENT_ID,text=CONTENT,author=,time=",
        label_field="TAG",
    ),
    # The rated comments of comments_extracted.json, an object of comments keyed by id
    # (type scam/real; "unknown" is unrated and rejected); it keeps each comment's post (media).
    "ig_scam_comments": Reading(
        ("comments_extracted.json",), fields="id=@key,author=,time=", label_field="type", label_values="scam=1,real=0", keep=("media",)
    ),
    # One jieba-segmented message a line; the file is the label.
    "cn_app_post_spam": Reading(
        ("postlog/postspam.log.seg:label=spam", "postlog/postpass.log.seg:label=ham"), fmt="lines", unsegment=True
    ),
}
"""How each corpus is read: the reader options a user gives ``spamflood train``/``evaluate``."""


def _read(name: str, root: Path) -> tuple[list[tuple[str, int]], dict[str, list[Any]]]:
    texts, labels, kept, _ = READINGS[name].read(root)
    return list(zip(texts, labels, strict=True)), kept


def _sms_uci(root: Path) -> Corpus:
    rows, _ = _read("sms_spam_uci", root)
    return _corpus("sms_spam_uci", "en", rows, "free use with citation (dataset readme)")


def _cn_sms(root: Path) -> Corpus:
    rows, _ = _read("cn_sms_spam_50k", root)
    return _corpus("cn_sms_spam_50k", "zh", rows, "none stated: measuring only")


def _qq(root: Path) -> Corpus:
    rows, _ = _read("cn_qq_group_ads", root)
    return _corpus("cn_qq_group_ads", "zh", rows, "MIT")


def _youtube(root: Path) -> Corpus:
    # The Dec-2014 PewDiePie file repeats 66 comments of the Oct one: each comment id is read
    # once, its first row (spamflood rejects a repeated id the same way).
    rows, kept = _read("youtube_spam_2014_pilot", root)
    first: dict[str, int] = {}
    for i, cid in enumerate(kept["id"]):
        first.setdefault(cid, i)
    return _corpus("youtube_spam_2014_pilot", "en", [rows[i] for i in first.values()], "none stated: measuring only")


def _instagram(root: Path) -> Corpus:
    # In comment-id order; split by post (media).
    rows, kept = _read("ig_scam_comments", root)
    order = sorted(range(len(rows)), key=kept["id"].__getitem__)
    return _corpus(
        "ig_scam_comments", "en", [rows[i] for i in order], "MIT", keys=[kept["media"][i] for i in order], grouping="post (media), identical text"
    )


_MASK = re.compile(r"[a-z0-9]+")


def _app_posts(root: Path) -> Corpus:
    # Spam is templated: its template is the text with [a-z0-9]+ runs masked (SOURCE.txt:
    # 9,999 spam lines, 4,686 templates).
    rows, _ = _read("cn_app_post_spam", root)
    keys = [_MASK.sub("#", text.replace(" ", "")) for text, _ in rows]
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


if __name__ == "__main__":
    for name, reading in READINGS.items():
        print(f"# {name}\n{reading.command(f'../shared/data/{name}')}")
