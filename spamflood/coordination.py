"""Coordination on shared objects: accounts that post the same thing within seconds, again and again.

Screen-sweeping need not repeat one text: a campaign hands its accounts a hashtag, a link or an
account to push, and each words its post a little differently. What gives them away is *when*
they post the shared thing. Following coordinated link sharing (CooRnet, CooRTweet) and the
co-tweet / co-link networks of the coordination-network-toolkit:

1. **objects** (:func:`post_objects`): each post's links (normalized: scheme, ``www.``,
   fragments, tracking parameters and a trailing slash dropped, a shortener's aliases folded to
   one host; a short link cannot be expanded offline, so its own code is the object), hashtags
   (``#tag`` and Weibo's ``#topic#``), @mentions, case-folded, and for a repost the post it
   reposts (``repost_of``);
2. **co-posts**: two distinct accounts posting the same object within ``interval`` seconds of
   each other. A pair counts one *occasion* per interval slot (slots of the epoch:
   ``floor(time / interval)`` of the earlier post), so two accounts trading a burst of posts
   in one minute, or one copy carrying a link, a hashtag and a mention, count once;
3. **the account network**: an edge joins two accounts that co-posted on at least
   ``min_coposts`` occasions (*repeatedly*: across several objects or several intervals) *and*
   on at least ``min_overlap`` of the occasions of each of the two (the slots in which it
   posted an object); its weight is the number of occasions;
4. **groups**: the connected components of that network. A group's *objects* are those it
   co-posted as a group: co-posted by at least ``min_overlap`` of its edges (or, if none is,
   by as many as its most co-posted object; :func:`object_floor`). A post is the group's when
   its author is in the group and it carries one of the group's objects.

Why a share of the edges: the accounts of a campaign are also people's accounts (bought,
rented, or the campaign's own, dressed as ordinary users) that share the day's viral story
like everyone else, and two of them now and then share it within the same minute. That pair
is an edge (it co-posts the campaign's tag again and again), so the story was "co-posted by
the group's edges", and every group account's post of the story would be the group's,
though thousands outside the group post it too. On the synthetic feed (50,000 posts, seed
101) a 25-account group's tag was co-posted by all of its 291 edges, and the seven news links
and reposts its accounts also shared by 1 to 7 edges (at most 2.4 %); the other groups' one
object each, by all of their edges. A campaign that rotates its link from wave to wave keeps
each link: a wave of a share ``s`` of the accounts co-posts it on about ``s**2`` of the edges
(a tenth at a third of the accounts). ``min_overlap`` is the share an edge needs of each
account's occasions; the same share of the group's edges makes an object the group's.

An organic trend (thousands of people on one hashtag over a day) makes co-posts by chance, but
the same two people meet within a minute on three occasions only rarely; a news post and its
handful of reposts makes each pair meet once. Neither forms an edge. Very active people who
share every viral story within minutes of it breaking do meet again and again, but on a small
share of what each of them posts (a hub meeting many light users by chance meets each on a
small share of its own posts); a campaign's accounts meet on much of theirs (the issue's
example: 9 of some 30 posts), which ``min_overlap`` tells apart.

Everything is vectorised: objects are found by one regular-expression pass over the texts
joined (a Python step per *match*, not per post; :func:`text_objects`, which the batch
detector's workers run on each chunk beside its other per-text work, the parts then numbered
as one batch by :meth:`PostObjects.join`), co-posts by sorting (object, time) and
``searchsorted``, the network by ``scipy.sparse`` and
:func:`scipy.sparse.csgraph.connected_components`. Measured on a random network of 1.2 M edges
over 200 k accounts (CPU seconds, 2 cores, load 7): scipy.sparse builds it and finds the
components in 0.1 s, the whole process peaking at 115 MiB; networkx (``Graph.add_edges_from``
and ``connected_components``) takes 6.4 s and raises the peak to 450 MiB. So scipy, already a
dependency through scikit-learn; igraph would need one more compiled package for one call.

A busy object pairs each post with at most :data:`MAX_NEIGHBOURS` later posts within the
interval, which bounds the work on a trending hashtag (thousands of posts a minute) while a
campaign's accounts still meet on every occasion they share.

>>> normalize_url("HTTPS://www.Example.com/a/?utm_source=x&id=3#top")
'example.com/a?id=3'
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import overload
from urllib.parse import parse_qsl, urlencode

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from spamflood import _params
from spamflood.criteria.rules import RULES, label_scores
from spamflood.durations import human_duration
from spamflood.posts import PostBatch

__all__ = [
    "INTERVAL",
    "MAX_NEIGHBOURS",
    "MIN_OVERLAP",
    "CoordinatedGroups",
    "Coordination",
    "PostObjects",
    "coordinated_reason",
    "normalize_url",
    "object_floor",
    "objects_as_written",
    "objects_in",
    "post_objects",
    "text_objects",
]

INTERVAL = 60.0
"""The default coordination interval (seconds): the Detector's ``interval``."""

MIN_OVERLAP = 0.1
"""The default ``min_overlap``: an edge's co-posts as a share of each account's occasions."""

MAX_NEIGHBOURS = 64
"""Later posts of the same object within the interval that one post is paired with, at most."""

_OBJECT = re.compile(
    # Every alternative starts with one of these characters: the lookahead rejects any other
    # position with one set test, where re would otherwise enter the alternation there (it
    # finds no common prefix to skip ahead on); twice as fast over a feed, same matches.
    r"(?=[h#＃@＠])(?:"
    r"https?://[^\s<>\"'，。！？、；：（）【】「」《》]+"  # a link, up to whitespace or CJK punctuation
    r"|[#＃](?<![\w&][#＃])[^#＃\s]{1,60}[#＃]"  # Weibo's #topic# (not after a word or '&')
    r"|[#＃](?<![\w&][#＃])\w+"  # a hashtag
    r"|[@＠](?<![\w.][@＠])\w+"  # a mention (not the @ of an e-mail address)
    r")"
)
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|igshid|mc_[ce]id|spm|si|ref|ref_src|share_\w+|from)$")
_HOST_ALIASES = {"bitly.com": "bit.ly", "j.mp": "bit.ly", "m.youtube.com": "youtube.com", "mobile.twitter.com": "twitter.com",
                 "x.com": "twitter.com", "m.weibo.cn": "weibo.com", "m.weibo.com": "weibo.com"}
_CHUNK = 100_000  # texts joined for one pass of the pattern (bounds the joined string's memory)


def normalize_url(url: str) -> str:
    """A link as an object: no scheme, host lowercased without ``www.`` (aliases of one service
    folded), no fragment, no tracking parameters (``utm_*``, ``fbclid``, ...), the rest sorted,
    no trailing slash. ``youtu.be/ID`` is ``youtube.com/watch?v=ID``. The path keeps its case
    (a shortener's code is case-sensitive)."""
    url = url.rstrip(".,;:!?)]}>'\"")
    where, _, query = url.split("://", 1)[-1].split("#", 1)[0].partition("?")
    host, _, path = where.partition("/")
    host = host.lower().removeprefix("www.")
    host = _HOST_ALIASES.get(host, host)
    path = ("/" + path).rstrip("/") if path else ""
    params = sorted((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _TRACKING.match(k.lower())) if query else []
    if host == "youtu.be" and path:
        host, params, path = "youtube.com", [("v", path.lstrip("/"))], "/watch"
    return host + path + ("?" + urlencode(params) if params else "")


def _object_name(match: str) -> str:
    """The canonical object a matched string stands for (``#tag``, ``@name``, a normalized link)."""
    text = unicodedata.normalize("NFKC", match)
    if text[0] == "#":
        return "#" + text.strip("#").casefold()
    if text[0] == "@":
        return text.casefold()
    return normalize_url(text)


def _shown(raw: str, canonical: str) -> str:
    """How a reason quotes an object: a hashtag or mention as written (NFKC, Weibo's closing
    ``#`` dropped), a link normalized."""
    if canonical.startswith(("#", "@")):  # a link may normalize to nothing ('http://#'): no object
        return unicodedata.normalize("NFKC", raw).rstrip("#")
    return canonical


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pairs ``(a[k], b[k])`` of two integer arrays, in lexicographic order, as
    two arrays: ``np.unique(np.stack([a, b]), axis=1)``, by sorting one int64 key per pair
    when the pairs fit in one (a 2-column ``unique`` sorts rows as records, several times
    slower on the millions of co-posts of a large batch).

    >>> [x.tolist() for x in _unique_pairs(np.array([3, 1, 3, 1]), np.array([-5, 9, -5, 2]))]
    [[1, 1, 3], [2, 9, -5]]
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if not a.size:
        return a[:0], b[:0]
    a_low, b_low = int(a.min()), int(b.min())
    a_span, b_span = int(a.max()) - a_low + 1, int(b.max()) - b_low + 1
    if a_span * b_span >= 2**62:  # no one key holds them: rows sorted as records
        both = np.unique(np.stack([a, b]), axis=1)
        return both[0], both[1]
    key = np.unique((a - a_low) * b_span + (b - b_low))
    return key // b_span + a_low, key % b_span + b_low


def _is_object(name: str) -> bool:
    """Whether a canonical name is an object: ``#`` alone or a number (``#39``, ``@2``) is not."""
    return len(name) > 1 and not name[1:].isdigit()


_stream_name = functools.lru_cache(maxsize=1 << 14)(_object_name)
""":func:`_object_name` remembered for the objects a stream meets again and again (a campaign's
tag); the batch names each distinct string once and needs no cache."""


def objects_in(text: str, repost_of: str | None = None) -> dict[str, str]:
    """One post's objects, canonical name -> as shown in reasons, in the order
    :func:`post_objects` finds them (a streaming engine reads posts one at a time).

    >>> objects_in("Go #Tea now https://bit.ly/Ab1?utm_source=x #tea", "p9")
    {'#tea': '#Tea', 'bit.ly/Ab1': 'bit.ly/Ab1', 'repost of p9': 'repost of p9'}
    """
    found: dict[str, str] = {}
    for raw in _OBJECT.findall(text):
        name = _stream_name(raw)
        if _is_object(name) and name not in found:
            found[name] = _shown(raw, name)
    if repost_of:
        found.setdefault("repost of " + repost_of, "repost of " + repost_of)
    return found


def objects_as_written(texts: list[str]) -> list[str]:
    """Each text's objects as written, one space apart ('' where it has none): a stand-in text
    in which :func:`post_objects` finds the same objects, in the same order, as in the text
    (no object holds a space, and a space before one passes every look-behind). An engine that
    finds the groups away from the texts (Spark, on its driver) ships these instead.

    >>> objects_as_written(["Go #Tea now, see https://bit.ly/Ab1?utm_source=x!", "mail ann@example.com"])
    ['#Tea https://bit.ly/Ab1?utm_source=x!', '']
    """
    find = _OBJECT.findall
    return [" ".join(find(text)) for text in texts]


@dataclass(frozen=True)
class PostObjects:
    """The objects of a batch: ``post[k]`` carries object ``code[k]``, named ``names[code[k]]``
    (each (post, object) pair once, ordered by post then code) and shown in reasons as
    ``shown[code[k]]``: as first written for a hashtag or mention, normalized for a link.
    Codes number the names in order of first appearance (texts' objects before reposts)."""

    post: np.ndarray
    code: np.ndarray
    names: list[str]
    shown: list[str]

    @classmethod
    def join(cls, parts: Sequence[PostObjects], sizes: Sequence[int], repost_of: Sequence[str | None]) -> PostObjects:
        """The objects of consecutive parts of one batch (``sizes``: their posts; each part's
        :func:`text_objects`) and of the batch's reposts, numbered as :func:`post_objects`
        numbers them over the whole batch. A Python step per distinct name of a part, not per
        post, so the workers of a large run can find each chunk's objects."""
        table: dict[str, int] = {}
        shown: list[str] = []
        posts: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        offset = 0
        for part, size in zip(parts, sizes, strict=True):
            before = _number(table, part.names)
            local = np.fromiter(map(table.__getitem__, part.names), dtype=np.int64, count=len(part.names))
            # the new names, in first-appearance order: shown as this part first wrote them
            shown.extend(map(part.shown.__getitem__, np.flatnonzero(local >= before).tolist()))
            posts.append(part.post + offset)
            codes.append(local[part.code])
            offset += size
        reposts = np.flatnonzero(np.fromiter(map(bool, repost_of), dtype=bool, count=len(repost_of)))
        repost_names = ["repost of " + r for r in repost_of if r]
        before = _number(table, dict.fromkeys(repost_names))
        shown.extend(list(table)[before:])  # a repost is shown by its name
        repost_codes = np.fromiter(map(table.__getitem__, repost_names), dtype=np.int64, count=len(repost_names))
        post = np.concatenate([*posts, reposts])
        code = np.concatenate([*codes, repost_codes])
        width = max(len(table), 1)
        key = np.unique(post * width + code)  # each (post, object) once, by post then code
        return cls(key // width, key % width, list(table), shown)


def _number(table: dict[str, int], names: Iterable[str]) -> int:
    """Number the ``names`` not in ``table`` after its others, in order; how many it had."""
    before = len(table)
    table.update(zip(itertools.filterfalse(table.__contains__, names), itertools.count(before)))
    return before


def text_objects(texts: Sequence[str]) -> PostObjects:
    """The links, hashtags and mentions of every text (see :func:`post_objects`), found by one
    regular-expression pass over the texts joined. Every name found is numbered (a number-only
    tag like ``#39`` too, as no object: it is in ``names``, never in ``code``), so that
    :meth:`PostObjects.join` numbers a batch's parts as one. The one extraction of every
    engine's objects: the batch detector's workers run it per chunk."""
    posts: list[np.ndarray] = []
    found: list[str] = []
    for lo in range(0, len(texts), _CHUNK):
        part = texts[lo : lo + _CHUNK]
        starts = np.cumsum([0, *map(len, part)])[:-1] + np.arange(len(part))  # joined by "\n"
        matches = [(m.start(), m.group()) for m in _OBJECT.finditer("\n".join(part))]
        if matches:
            at = np.fromiter((m[0] for m in matches), dtype=np.int64, count=len(matches))
            posts.append(lo + np.searchsorted(starts, at, side="right") - 1)
            found.extend(m[1] for m in matches)
    written = dict.fromkeys(found)
    canonical = {raw: _object_name(raw) for raw in written}
    table: dict[str, int] = {}
    shown: list[str] = []  # each object as first written (a hashtag keeps its case), for reasons
    for raw, name in canonical.items():
        if table.setdefault(name, len(table)) == len(shown):
            shown.append(_shown(raw, name))
    codes = np.fromiter((table[canonical[raw]] for raw in found), dtype=np.int64, count=len(found))
    post = np.concatenate(posts) if posts else np.zeros(0, dtype=np.int64)
    keep = np.array([_is_object(o) for o in table], dtype=bool)
    mask = keep[codes] if codes.size else np.zeros(0, dtype=bool)
    width = max(len(table), 1)
    key = np.unique(post[mask] * width + codes[mask])  # each (post, object) once, by post
    return PostObjects(key // width, key % width, list(table), shown)


def post_objects(texts: Sequence[str], repost_of: Sequence[str | None]) -> PostObjects:
    """Every post's objects: links, hashtags and mentions in its text (:func:`text_objects`),
    and the post it reposts.

    >>> found = post_objects(["Go #Tea now https://bit.ly/Ab1?utm_source=x", "@Ann hi"], [None, "p9"])
    >>> [(int(p), found.names[c]) for p, c in zip(found.post, found.code)]
    [(0, '#tea'), (0, 'bit.ly/Ab1'), (1, '@ann'), (1, 'repost of p9')]
    """
    return PostObjects.join([text_objects(texts)], [len(texts)], repost_of)


@dataclass(frozen=True)
class CoordinatedGroups:
    """The groups of a batch. Per account (code of :meth:`PostBatch.author_codes`): ``group``
    (-1: in none); per group: its ``accounts``, ``pairs`` (edges), ``median`` co-posting
    occasions per pair, ``posts`` on its objects, their ``first``/``last`` time, its ``top``
    object (the one most of its edges co-posted, as shown), how many ``objects`` it has (those
    it co-posted as a group: see the module docstring) and their ``object_names`` (as shown,
    most co-posted first); per post: ``post_group`` (-1: not a group's post); and the
    coordination ``interval`` (seconds) in which two posts co-post.

    Whether the ``coordinated`` label fired on a group is the decision's: see
    :meth:`spamflood.result.ScoreResult.group_records`."""

    group: np.ndarray
    accounts: np.ndarray
    pairs: np.ndarray
    median: np.ndarray
    posts: np.ndarray
    first: np.ndarray
    last: np.ndarray
    top: list[str]
    objects: np.ndarray
    post_group: np.ndarray
    object_names: list[list[str]]
    interval: float

    def __len__(self) -> int:
        return len(self.top)

    def members(self) -> list[np.ndarray]:
        """Each group's posts (indices into the batch, in input order), from one sort."""
        at = np.flatnonzero(self.post_group >= 0)
        at = at[np.argsort(self.post_group[at], kind="stable")]
        bounds = np.searchsorted(self.post_group[at], np.arange(len(self) + 1))
        return [at[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]

    def member_accounts(self) -> list[np.ndarray]:
        """Each group's accounts (codes of :meth:`PostBatch.author_codes`, ascending)."""
        at = np.flatnonzero(self.group >= 0)
        at = at[np.argsort(self.group[at], kind="stable")]
        bounds = np.searchsorted(self.group[at], np.arange(len(self) + 1))
        return [at[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]


class Coordination:
    """Finds coordinated groups in a batch and gives the ``coordinated`` label's findings.

    A plain structure: nothing is learned; parameters are checked here.

    Parameters
    ----------
    interval : seconds (or ``"1min"``) within which two accounts posting one object co-post.
    min_authors : accounts a group needs for the label (the detector's ``min_authors``).
    min_coposts : co-posting occasions that make a pair of accounts an edge of the network.
    min_overlap : the share of each account's occasions that a pair must have co-posted for
        an edge.
    """

    def __init__(
        self, *, interval: float | str = INTERVAL, min_authors: int = 5, min_coposts: int = 3, min_overlap: float = MIN_OVERLAP
    ) -> None:
        owner = "Coordination"
        self.interval = _params.duration(owner, "interval", interval)
        self.min_authors = _params.integer(owner, "min_authors", min_authors, 2)
        self.min_coposts = _params.integer(owner, "min_coposts", min_coposts, 2)
        self.min_overlap = _params.real(owner, "min_overlap", min_overlap, 0.0, 1.0)
        self.rules = RULES.bind(min_authors=self.min_authors, min_coposts=self.min_coposts)

    def __repr__(self) -> str:
        return f"Coordination(interval={human_duration(self.interval)!r}, min_authors={self.min_authors}, min_coposts={self.min_coposts})"

    def groups(self, batch: PostBatch, objects: PostObjects | None = None) -> CoordinatedGroups:
        """The coordinated groups of ``batch`` (see the module docstring). Posts without a
        known author or a time never co-post. ``objects``: the batch's :func:`post_objects`
        when the caller found them already (the batch detector's workers do)."""
        n = len(batch)
        account, _names = batch.author_codes()
        times = np.asarray(batch.times, dtype=np.float64)
        objs = post_objects(batch.texts, batch.repost_of) if objects is None else objects
        post, code = objs.post, objs.code
        if post.size:
            ok = np.isfinite(times[post])
            known = batch.account_codes()[post[ok]] >= 0
            post, code = post[ok][known], code[ok][known]
        n_acc = int(account.max()) + 1 if n else 0
        pairs = self._co_posts(post, code, account, times, n_acc)
        u, v, w, occ_pair, occ_code = pairs
        graph = sparse.coo_matrix((np.ones(u.size, dtype=np.int8), (u, v)), shape=(n_acc, n_acc)).tocsr()
        _, component = connected_components(graph, directed=False)
        linked = np.zeros(n_acc, dtype=bool)
        linked[u] = linked[v] = True
        # groups numbered densely over the components that hold an edge
        roots, group_of_component = np.unique(component[linked], return_inverse=True)
        group = np.full(n_acc, -1, dtype=np.int64)
        group[np.flatnonzero(linked)] = group_of_component
        g = len(roots)
        sizes = np.bincount(group[linked], minlength=g)
        edge_group = group[u]
        n_pairs = np.bincount(edge_group, minlength=g)
        order = np.lexsort((w, edge_group))
        starts = np.r_[0, np.cumsum(n_pairs)[:-1]]
        sw = w[order].astype(np.float64)
        median = (sw[starts + (n_pairs - 1) // 2] + sw[starts + n_pairs // 2]) / 2 if g else np.zeros(0)
        # a group's objects: those enough of its edges co-posted (object_floor), counted in edges
        n_codes = max(len(objs.names), 1)
        gk, counts = np.unique(group[occ_pair[0]] * n_codes + occ_code, return_counts=True)
        most = np.zeros(g, dtype=np.int64)
        np.maximum.at(most, gk // n_codes, counts)
        own = counts >= object_floor(n_pairs[gk // n_codes], most[gk // n_codes], self.min_overlap)
        gk, counts = gk[own], counts[own]
        by_count = np.lexsort((-counts, gk // n_codes))  # per group, its most co-posted object first
        firsts = by_count[np.r_[True, np.diff(gk[by_count] // n_codes) != 0]] if gk.size else by_count
        top = [""] * g
        for k in gk[firsts].tolist():
            top[k // n_codes] = objs.shown[k % n_codes]
        object_names: list[list[str]] = [[] for _ in range(g)]
        for k in gk[by_count].tolist():  # per group, most co-posted first
            object_names[k // n_codes].append(objs.shown[k % n_codes])
        n_objects = np.bincount(gk // n_codes, minlength=g)
        post_group = np.full(n, -1, dtype=np.int64)
        pg = group[account[post]]
        mine = pg >= 0
        hit = np.isin(pg[mine] * n_codes + code[mine], gk)
        post_group[post[mine][hit]] = pg[mine][hit]
        members = np.flatnonzero(post_group >= 0)
        of = post_group[members]
        posts = np.bincount(of, minlength=g)
        first = np.full(g, np.inf)
        last = np.full(g, -np.inf)
        np.minimum.at(first, of, times[members])
        np.maximum.at(last, of, times[members])
        return CoordinatedGroups(group, sizes, n_pairs, median, posts, first, last, top, n_objects, post_group, object_names, self.interval)

    def _co_posts(
        self, post: np.ndarray, code: np.ndarray, account: np.ndarray, times: np.ndarray, n_acc: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray], np.ndarray]:
        """The network's edges (``u < v``, weight ``w``: at least ``min_coposts`` occasions and
        ``min_overlap`` of each account's) and every occasion's account pair and object."""
        empty = np.zeros(0, dtype=np.int64)
        if post.size < 2:
            return empty, empty, empty, (empty, empty), empty
        t = times[post]
        order = np.lexsort((t, code))
        code, t, acc = code[order], t[order], account[post[order]]
        # one sortable key: objects apart by more than the whole span, time within an object
        stride = float(t.max() - t.min()) + 2 * self.interval + 1.0
        key = code * stride + (t - t.min())
        end = np.searchsorted(key, key + self.interval, side="right")
        count = np.minimum(end - np.arange(key.size) - 1, MAX_NEIGHBOURS)
        total = int(count.sum())
        if not total:
            return empty, empty, empty, (empty, empty), empty
        left = np.repeat(np.arange(key.size), count)
        right = left + 1 + (np.arange(total) - np.repeat(np.cumsum(count) - count, count))
        a, b = acc[left], acc[right]
        distinct = a != b
        left, a, b = left[distinct], a[distinct], b[distinct]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        pair = lo * n_acc + hi
        slot = np.floor(t[left] / self.interval).astype(np.int64)  # slots of the epoch, not of the batch
        # the objects each pair co-posted (for the groups' objects), each (pair, object) once
        shared = np.stack(_unique_pairs(pair, code[left]))
        # occasions: one per pair and slot, however many objects the pair's posts shared in it
        occasion = _unique_pairs(pair, slot)[0]
        edges, weight = np.unique(occasion, return_counts=True)
        # each account's own occasions: the slots in which it posted an object
        own = _unique_pairs(acc, np.floor(t / self.interval).astype(np.int64))[0]
        occasions = np.bincount(own, minlength=n_acc)
        busier = np.maximum(occasions[edges // n_acc], occasions[edges % n_acc])
        strong = (weight >= self.min_coposts) & (weight >= self.min_overlap * busier)
        edges, weight = edges[strong], weight[strong]
        shared = shared[:, np.isin(shared[0], edges)]  # the objects of the network's edges only
        return edges // n_acc, edges % n_acc, weight, (shared[0] // n_acc, shared[0] % n_acc), shared[1]

    def findings(
        self, batch: PostBatch, found: CoordinatedGroups | None = None
    ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[int, str]]:
        """The ``coordinated`` features of every post (NaN where its author or time is unknown,
        0 outside a group), where the label fires, and there its reason. ``found``: the
        batch's :meth:`groups` when the caller already has them."""
        n = len(batch)
        found = self.groups(batch) if found is None else found
        per_group = {
            "COORDINATED_ACCOUNTS": found.accounts,
            "COORDINATED_COPOSTS": found.median,
            "COORDINATED_PAIRS": found.pairs,
            "COORDINATED_POSTS": found.posts,
            "COORDINATED_SPAN": found.last - found.first,
        }
        at = found.post_group
        mine = np.flatnonzero(at >= 0)
        values = {}
        for name, column in per_group.items():
            values[name] = np.zeros(n, dtype=np.float64)
            values[name][mine] = column[at[mine]]
        unknown = ~np.isfinite(np.asarray(batch.times, dtype=np.float64)) | (batch.account_codes() < 0)
        for column in values.values():
            column[unknown] = np.nan
        # a post outside every group has zeros (NaN when unknown) for every feature: one row of
        # each stands for them all, so the rules read the groups' posts and those two rows only
        judged = {name: np.r_[column[mine], 0.0, np.nan] for name, column in values.items()}
        said_fired = label_scores(judged, rules=self.rules)["coordinated"] > 0
        fired = np.zeros(n, dtype=bool)
        outside = np.ones(n, dtype=bool)
        outside[mine] = False
        fired[outside & unknown] = said_fired[-1]
        fired[outside & ~unknown] = said_fired[-2]
        fired[mine] = said_fired[:-2]
        on = np.flatnonzero(fired)
        said = {k: self.reason(found, k) for k in np.unique(at[on]).tolist()}
        sentences = dict(zip(on.tolist(), map(said.__getitem__, at[on].tolist())))
        return values, fired, sentences

    def reason(self, found: CoordinatedGroups, k: int) -> str:
        """Group ``k``'s sentence (:func:`coordinated_reason`)."""
        return coordinated_reason(
            found.top[k], int(found.objects[k]), int(found.accounts[k]), int(found.posts[k]),
            float(found.last[k] - found.first[k]), int(found.pairs[k]), self.interval, float(found.median[k]),
        )


@overload
def object_floor(pairs: int, most: int, min_overlap: float) -> float: ...


@overload
def object_floor(pairs: np.ndarray, most: np.ndarray, min_overlap: float) -> np.ndarray: ...


def object_floor(pairs: int | np.ndarray, most: int | np.ndarray, min_overlap: float) -> float | np.ndarray:
    """The edges a group's object needs to be the group's: ``min_overlap`` of the group's
    ``pairs`` (edges), or the ``most`` that co-posted any one of its objects if fewer (so a
    group always has an object). Scalars (the stream engines) or arrays (the batch).

    >>> object_floor(291, 291, 0.1), object_floor(20, 1, 0.1)
    (29.1, 1)
    """
    share = min_overlap * pairs
    return np.minimum(share, most) if isinstance(share, np.ndarray) else min(share, most)


def coordinated_reason(
    top: str, objects: int, accounts: int, posts: int, span: float, pairs: int, interval: float, median: float
) -> str:
    """The ``coordinated`` sentence of a group: its most co-posted object (and how many more),
    its accounts, its posts on its objects and their time span, its pairs and their median
    co-posting occasions, in every engine's words.

    >>> coordinated_reason("#tag", 1, 120, 3597, 19800.0, 2310, 60.0, 9.0)
    'coordinated: #tag from 120 accounts, 3,597 posts in 5 h 30 min; 2,310 pairs co-posted within 60 s, median 9 times'
    """
    more = objects - 1
    what = top + (f" (and {more} more object{'s' if more > 1 else ''})" if more > 0 else "")
    return (
        f"coordinated: {what} from {accounts:,} accounts, {posts:,} posts in {human_duration(span)}; "
        f"{pairs:,} pairs co-posted within {human_duration(interval)}, median {median:g} times"
    )
