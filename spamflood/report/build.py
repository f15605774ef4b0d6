"""Aggregation for the HTML report: everything the page shows, computed once from a result.

A report must stay small and open fast whatever the feed's size, so nothing here keeps one item
per post: timelines are counts in at most ``bins`` time buckets, floods are the ``top`` largest,
accounts are the most active few plus name patterns, and the post table holds ``max_rows`` rows
with at most ``per_cluster`` copies of any one cluster (a flood's 10,000 copies would otherwise
fill it with one text). Coordinated groups are the ``top`` with most accounts, each with at most
``lanes`` accounts drawn on its co-posting timeline and ``top_accounts`` listed by name beyond
those.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, tzinfo
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from spamflood.errors import ConfigError
from spamflood.posts import dense_codes

__all__ = [
    "AccountLanes",
    "AccountSummary",
    "FloodView",
    "GroupView",
    "PostRow",
    "ReportData",
    "Timeline",
    "aggregate",
    "evidence_terms",
    "highlight_spans",
    "name_pattern",
]

# Bucket widths a reader can name ("posts per 5 min"), smallest first, in seconds.
NICE_STEPS: tuple[float, ...] = (
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    2 * 86400,
    7 * 86400,
    14 * 86400,
    28 * 86400,
    91 * 86400,
    182 * 86400,
    364 * 86400,
)
_QUOTED = re.compile(r'"([^"]{1,80})"')
_DIGIT = re.compile(r"\d")
_SAMPLE = 2000  # members read for reasons and evidence, per flood
DAY = 86400.0


def zone(tz: str) -> tzinfo:
    """The time zone named ``tz`` (IANA name such as ``Asia/Shanghai``), checked."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"The 'tz' parameter must be an IANA time zone such as 'UTC' or 'Asia/Shanghai'. Got {tz!r} instead."
        ) from None


@dataclass(frozen=True)
class Timeline:
    """Counts in equal time buckets: ``posts[k]`` and distinct ``accounts[k]`` (or flagged posts)
    in ``[start + k*step, start + (k+1)*step)``; ``before``/``after`` posts fell outside the
    shown range (outliers left out so that one stray copy does not squash the peak)."""

    start: float
    step: float
    posts: np.ndarray
    second: np.ndarray
    second_name: str
    before: int = 0
    after: int = 0

    @property
    def end(self) -> float:
        return self.start + self.step * len(self.posts)


@dataclass(frozen=True)
class AccountSummary:
    """Who posted a flood: the most active accounts, batch-made name patterns, creation spread."""

    total: int
    top: list[tuple[str, int]]
    patterns: list[tuple[str, int, str]]
    patterned: int
    created_known: int
    created_first: float | None
    created_last: float | None
    created_densest_day: int
    followers_median: float | None


@dataclass(frozen=True)
class FloodView:
    """One flood (or, when there are none, one large cluster) as the report shows it."""

    rank: int
    cluster: int
    flood: bool
    size: int
    authors: int
    first_time: float
    last_time: float
    peak_posts: int | None
    peak_authors: int | None
    """``None``: no post of the cluster has a time (no peak is known)."""
    peak_start: float
    window: float
    labels: list[tuple[str, int]]
    max_score: float
    representative_id: str
    representative_text: str
    evidence: list[str]
    reasons: list[tuple[str, int]]
    reasons_sampled: bool
    timeline: Timeline | None
    accounts: AccountSummary


@dataclass(frozen=True)
class AccountLanes:
    """A co-posting timeline: ``counts[r, k]`` posts by account ``names[r]`` (the most active
    first) in ``[start + k*step, start + (k+1)*step)``, ``posts[k]`` by all the group's
    accounts; ``hidden`` accounts (``hidden_posts`` posts) were left off the drawing, and
    ``before``/``after`` posts fell outside the shown range."""

    start: float
    step: float
    names: list[str]
    counts: np.ndarray
    posts: np.ndarray
    hidden: int
    hidden_posts: int
    before: int = 0
    after: int = 0

    @property
    def end(self) -> float:
        return self.start + self.step * len(self.posts)


@dataclass(frozen=True)
class GroupView:
    """One coordinated group as the report shows it: its co-posted ``objects`` (the first
    ``objects_total`` as shown, most co-posted first), its accounts (``names``: the most active
    first, ``posts_by`` each), posts, co-posting figures and timeline."""

    rank: int
    group: int
    objects: list[str]
    objects_total: int
    accounts: int
    names: list[tuple[str, int]]
    posts: int
    pairs: int
    median: float
    interval: float
    first_time: float
    last_time: float
    reason: str | None
    max_score: float
    lanes: AccountLanes | None


@dataclass(frozen=True)
class PostRow:
    """One row of the highest-scored posts table."""

    id: str
    author: str
    time: float
    score: float
    flagged: bool
    labels: list[str]
    reasons: list[str]
    text: str
    cluster: int
    flood_rank: int | None
    evidence: list[str]


@dataclass(frozen=True)
class ReportData:
    """Everything :func:`spamflood.report.html.render` needs; no per-post arrays."""

    title: str
    source: str | None
    tz: str
    summary: dict[str, Any]
    threshold: float
    time_first: float | None
    time_last: float | None
    label_counts: list[tuple[str, int]]
    overview: Timeline | None
    floods: list[FloodView]
    floods_total: int
    groups: list[GroupView]
    groups_total: int | None
    """Coordinated groups found (``None``: the engine did not look for them)."""
    posts: list[PostRow]
    max_rows: int
    per_cluster: int
    rejects: list[tuple[int, str | None, str]]


def aggregate(
    result: Any,
    *,
    title: str = "spamflood report",
    top: int = 10,
    max_rows: int = 200,
    source: str | None = None,
    tz: str = "UTC",
    bins: int = 60,
    per_cluster: int = 3,
    top_accounts: int = 12,
    max_rejects: int = 20,
    lanes: int = 30,
) -> ReportData:
    """Summarise a :class:`~spamflood.result.ScoreResult` for the report (see module doc)."""
    for name, value, least in (
        ("top", top, 0),
        ("max_rows", max_rows, 0),
        ("bins", bins, 2),
        ("per_cluster", per_cluster, 1),
        ("top_accounts", top_accounts, 0),
        ("max_rejects", max_rejects, 0),
        ("lanes", lanes, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ConfigError(
                f"The '{name}' parameter of the report must be an integer >= {least}. Got {value!r} instead."
            )
    zone(tz)
    batch = result.batch
    table = result.clusters
    times = np.asarray(batch.times, dtype=np.float64)
    finite = np.isfinite(times)
    score = np.asarray(result.score, dtype=np.float64)
    flagged = np.asarray(result.flagged, dtype=np.bool_)

    label_counter = Counter(chain.from_iterable(result.labels))
    label_counts = sorted(label_counter.items(), key=lambda kv: (-kv[1], kv[0]))

    overview = None
    if finite.any():
        overview = timeline(times[finite], flagged=flagged[finite], bins=bins, tz=tz)

    flood_ids = list(result.flood_ids)
    chosen = flood_ids[:top]
    is_flood = True
    if not chosen and len(table) and top:
        # No flood: show the largest clusters instead, so the reader sees what nearly was one.
        order = np.lexsort((np.arange(len(table)), -np.asarray(table.size), -np.asarray(table.authors)))
        chosen = [int(c) for c in order[:top]]
        is_flood = False
    members_of = _members(table.labels, chosen)
    floods = [
        _flood_view(result, rank, c, is_flood, members_of[c], bins=bins, tz=tz, top_accounts=top_accounts)
        for rank, c in enumerate(chosen, start=1)
    ]
    group_ids = list(result.coordinated_ids) if getattr(result, "groups", None) is not None else None
    groups = _group_views(result, (group_ids or [])[:top], bins=bins, tz=tz, lanes=lanes, names=max(top_accounts, lanes))
    rank_of = {f.cluster: f.rank for f in floods}
    posts = _top_posts(result, score, max_rows=max_rows, per_cluster=per_cluster, rank_of=rank_of)
    rejects = [(int(r.line), r.field, str(r.reason)) for r in list(result.rejects)[:max_rejects]]
    summary = dict(result.summary())
    summary.setdefault("flagged", int(flagged.sum()))
    return ReportData(
        title=title,
        source=source,
        tz=tz,
        summary=summary,
        threshold=float(result.threshold),
        time_first=float(times[finite].min()) if finite.any() else None,
        time_last=float(times[finite].max()) if finite.any() else None,
        label_counts=label_counts,
        overview=overview,
        floods=floods,
        floods_total=len(flood_ids),
        groups=groups,
        groups_total=None if group_ids is None else len(group_ids),
        posts=posts,
        max_rows=int(max_rows),
        per_cluster=per_cluster,
        rejects=rejects,
    )


# ---------------------------------------------------------------------------- timelines


def nice_step(span: float, bins: int) -> float:
    """The smallest nameable bucket width that covers ``span`` seconds in at most ``bins`` buckets."""
    for step in NICE_STEPS:
        if span / step <= bins - 1:
            return float(step)
    return float(math.ceil(span / (bins - 1) / NICE_STEPS[-1]) * NICE_STEPS[-1])


def _local_offset(t: float, tz: str) -> float:
    offset = datetime.fromtimestamp(t, zone(tz)).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def snap(t: float, step: float, tz: str) -> float:
    """``t`` rounded down to a multiple of ``step`` in local time (midnight for day steps)."""
    off = _local_offset(t, tz)
    if step >= 7 * DAY:  # weeks and longer start on a local Monday (1970-01-05 was one)
        monday = 4 * DAY
        return math.floor((t + off - monday) / step) * step + monday - off
    return math.floor((t + off) / step) * step - off


def _shown_range(t: np.ndarray) -> tuple[float, float]:
    lo, hi = float(t.min()), float(t.max())
    if t.size >= 50:
        qlo, qhi = (float(x) for x in np.quantile(t, [0.01, 0.99]))
        if qhi - qlo < 0.25 * (hi - lo):
            pad = max(0.1 * (qhi - qlo), 30.0)
            lo, hi = max(lo, qlo - pad), min(hi, qhi + pad)
    if hi - lo < 60.0:
        mid = (lo + hi) / 2.0
        lo, hi = mid - 30.0, mid + 30.0
    return lo, hi


def timeline(
    times: np.ndarray,
    *,
    accounts: np.ndarray | None = None,
    flagged: np.ndarray | None = None,
    bins: int = 60,
    tz: str = "UTC",
) -> Timeline:
    """Bucketed counts of ``times`` (finite epoch seconds) and a second series: distinct
    ``accounts`` (integer codes) per bucket, or ``flagged`` posts per bucket."""
    t = np.asarray(times, dtype=np.float64)
    lo, hi = _shown_range(t)
    step = nice_step(hi - lo, bins)
    start = snap(lo, step, tz)
    count = int(math.floor((hi - start) / step)) + 1
    k = np.floor((t - start) / step).astype(np.int64)
    inside = (k >= 0) & (k < count)
    before = int((k < 0).sum())
    after = int((k >= count).sum())
    ki = k[inside]
    posts = np.bincount(ki, minlength=count)
    if accounts is not None:
        codes = np.asarray(accounts, dtype=np.int64)[inside]
        pairs = np.unique(ki * (int(codes.max(initial=0)) + 1) + codes)
        second = np.bincount(pairs // (int(codes.max(initial=0)) + 1), minlength=count)
        name = "accounts"
    elif flagged is not None:
        second = np.bincount(ki, weights=np.asarray(flagged, dtype=np.float64)[inside], minlength=count)
        second = second.astype(np.int64)
        name = "flagged"
    else:
        raise ValueError("timeline needs 'accounts' or 'flagged' for its second series")
    return Timeline(start=start, step=step, posts=posts, second=second, second_name=name, before=before, after=after)


# ---------------------------------------------------------------------------- floods


def _members(labels: np.ndarray, chosen: list[int]) -> dict[int, np.ndarray]:
    """Member indices of the chosen clusters, with one sort of the labels (not one scan each)."""
    if not chosen:
        return {}
    labels = np.asarray(labels)
    wanted = np.isin(labels, np.asarray(chosen, dtype=labels.dtype))
    idx = np.flatnonzero(wanted)
    order = idx[np.argsort(labels[idx], kind="stable")]
    sorted_labels = labels[order]
    out = {}
    for c in chosen:
        a, b = np.searchsorted(sorted_labels, [c, c + 1])
        out[c] = order[a:b]
    return out


def _sample(members: np.ndarray, k: int) -> np.ndarray:
    if members.size <= k:
        return members
    return members[np.linspace(0, members.size - 1, k).astype(np.int64)]


def _flood_view(
    result: Any, rank: int, c: int, is_flood: bool, members: np.ndarray, *, bins: int, tz: str, top_accounts: int
) -> FloodView:
    batch, table = result.batch, result.clusters
    post_labels = result.labels
    label_counter = Counter(chain.from_iterable(post_labels[i] for i in members.tolist()))
    reason_counter: Counter[str] = Counter()
    rep = int(table.representative[c])
    sample = _sample(members, _SAMPLE)
    sampled = sample.size < members.size
    for i in sample:
        reason_counter.update(result.reasons[int(i)])
    if sampled:  # estimate counts for the whole flood from the evenly spaced sample
        scale = members.size / sample.size
        reason_counter = Counter({r: int(round(k * scale)) for r, k in reason_counter.items()})
    for r in result.reasons[rep]:
        reason_counter.setdefault(r, 1)
    # The representative's own evidence first, then what other copies were caught with.
    evidence = evidence_terms([*result.reasons[rep], *reason_counter])
    authors = [batch.authors[i] for i in members]
    codes, _ = dense_codes(authors)
    t = np.asarray(batch.times, dtype=np.float64)[members]
    ok = np.isfinite(t)
    line = timeline(t[ok], accounts=codes[ok], bins=bins, tz=tz) if ok.any() else None
    score = np.asarray(result.score)[members]
    peak_posts, peak_authors = table.shown_peak(c)
    return FloodView(
        rank=rank,
        cluster=c,
        flood=is_flood,
        size=int(table.size[c]),
        authors=int(table.authors[c]),
        first_time=float(table.first_time[c]),
        last_time=float(table.last_time[c]),
        peak_posts=peak_posts,
        peak_authors=peak_authors,
        peak_start=float(table.peak_start[c]),
        window=float(table.window),
        labels=sorted(label_counter.items(), key=lambda kv: (-kv[1], kv[0])),
        max_score=float(score.max()) if score.size else 0.0,
        representative_id=batch.ids[rep],
        representative_text=batch.texts[rep],
        evidence=evidence,
        reasons=sorted(reason_counter.items(), key=lambda kv: (-kv[1], kv[0]))[:8],
        reasons_sampled=sampled,
        timeline=line,
        accounts=accounts_summary(batch, members, codes, top=top_accounts),
    )


# ---------------------------------------------------------------------------- coordinated groups


def _group_views(result: Any, chosen: list[int], *, bins: int, tz: str, lanes: int, names: int) -> list[GroupView]:
    """The chosen groups of ``result.groups`` (numbers from ``coordinated_ids``), ranked."""
    if not chosen:
        return []
    found, batch = result.groups, result.batch
    members = found.members()
    codes, _ = batch.author_codes()
    times = np.asarray(batch.times, dtype=np.float64)
    score = np.asarray(result.score, dtype=np.float64)
    views = []
    for rank, k in enumerate(chosen, start=1):
        posts = members[k]
        _, firsts, account = np.unique(codes[posts], return_index=True, return_inverse=True)
        per = np.bincount(account, minlength=firsts.size)  # posts per account
        order = np.lexsort((firsts, -per))  # most posts first, then first to post
        shown = [(_display(batch, int(posts[firsts[j]])), int(per[j])) for j in order[:names].tolist()]
        reason = next((r for i in posts.tolist() for r in result.reasons[i] if r.startswith("coordinated:")), None)
        t = times[posts]
        ok = np.isfinite(t)
        rows = np.argsort(order)[account]  # each post's row: its account's rank
        views.append(
            GroupView(
                rank=rank,
                group=k,
                objects=found.object_names[k][:12],
                objects_total=len(found.object_names[k]),
                accounts=int(found.accounts[k]),
                names=shown,
                posts=int(posts.size),
                pairs=int(found.pairs[k]),
                median=float(found.median[k]),
                interval=float(found.interval),
                first_time=float(found.first[k]),
                last_time=float(found.last[k]),
                reason=reason,
                max_score=float(score[posts].max()) if posts.size else 0.0,
                lanes=account_lanes(t[ok], rows[ok], [n for n, _ in shown[:lanes]], bins=bins, tz=tz) if ok.any() else None,
            )
        )
    return views


def account_lanes(times: np.ndarray, rows: np.ndarray, names: list[str], *, bins: int = 60, tz: str = "UTC") -> AccountLanes:
    """Posts per account per time bucket: ``times`` (finite epoch seconds) of posts by the
    accounts of row ``rows`` (0: the most active); rows from ``len(names)`` on are counted as
    hidden, not drawn."""
    t = np.asarray(times, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.int64)
    line = timeline(t, flagged=np.zeros(t.size, dtype=bool), bins=bins, tz=tz)  # the shared bucketing
    count = len(line.posts)
    k = np.floor((t - line.start) / line.step).astype(np.int64)
    inside = (k >= 0) & (k < count)
    drawn = inside & (rows < len(names))
    counts = np.zeros((len(names), count), dtype=np.int64)
    np.add.at(counts, (rows[drawn], k[drawn]), 1)
    hidden = rows >= len(names)
    return AccountLanes(
        start=line.start,
        step=line.step,
        names=list(names),
        counts=counts,
        posts=line.posts,
        hidden=int(np.unique(rows[hidden]).size),
        hidden_posts=int(hidden.sum()),
        before=line.before,
        after=line.after,
    )


def name_pattern(name: str) -> str:
    """A display name with every digit as ``#``: batch-made accounts share one pattern
    (``美妆小助手0231`` and ``美妆小助手7710`` are both ``美妆小助手####``)."""
    return _DIGIT.sub("#", name)


def accounts_summary(batch: Any, members: np.ndarray, codes: np.ndarray, *, top: int = 12) -> AccountSummary:
    """The accounts behind ``members`` (``codes``: their dense author codes, in member order)."""
    first = np.unique(codes, return_index=True)[1] if codes.size else np.zeros(0, dtype=np.int64)
    firsts = members[first]  # one post per distinct account
    posts_per = np.bincount(codes) if codes.size else np.zeros(0, dtype=np.int64)
    names = [_display(batch, int(i)) for i in firsts]
    most = np.lexsort((np.arange(len(names)), -posts_per))[:top] if names else np.zeros(0, dtype=np.int64)
    top_list = [(names[int(k)], int(posts_per[int(k)])) for k in most]
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name_pattern(name), []).append(name)
    # A pattern needs some letters: all-digit platform ids (``##########``) say nothing.
    patterns = [(p, len(v), v[0]) for p, v in groups.items() if len(v) >= 2 and _letters(p) >= 2]
    patterns.sort(key=lambda x: (-x[1], x[0]))
    created = np.asarray(batch.author_created, dtype=np.float64)[firsts]
    created = np.sort(created[np.isfinite(created)])
    densest = 0
    if created.size:
        ends = np.searchsorted(created, created + DAY, side="right")
        densest = int((ends - np.arange(created.size)).max())
    followers = np.asarray(batch.followers, dtype=np.float64)[firsts]
    followers = followers[np.isfinite(followers)]
    return AccountSummary(
        total=len(names),
        top=top_list,
        patterns=patterns[:8],
        patterned=sum(x[1] for x in patterns),
        created_known=int(created.size),
        created_first=float(created[0]) if created.size else None,
        created_last=float(created[-1]) if created.size else None,
        created_densest_day=densest,
        followers_median=float(np.median(followers)) if followers.size else None,
    )


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _display(batch: Any, i: int) -> str:
    name = batch.author_name[i]
    return name if name else batch.authors[i]


# ---------------------------------------------------------------------------- posts


def _top_posts(
    result: Any, score: np.ndarray, *, max_rows: int, per_cluster: int, rank_of: dict[int, int]
) -> list[PostRow]:
    n = score.shape[0]
    if n == 0 or max_rows == 0:
        return []
    labels = np.asarray(result.clusters.labels, dtype=np.int64)
    idx = np.arange(n)
    # Rank each post within its cluster by score; keep the first few of each cluster.
    order = np.lexsort((idx, -score, labels))
    sorted_labels = labels[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_labels)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    within = np.empty(n, dtype=np.int64)
    within[order] = np.arange(n) - group_start
    keep = np.flatnonzero(((within < per_cluster) | (labels < 0)) & (score > 0))
    keep = keep[np.lexsort((keep, -score[keep]))][:max_rows]
    batch = result.batch
    rows = []
    for i in keep.tolist():
        c = int(labels[i])
        rows.append(
            PostRow(
                id=batch.ids[i],
                author=_display(batch, i),
                time=float(batch.times[i]),
                score=float(score[i]),
                flagged=bool(result.flagged[i]),
                labels=list(result.labels[i]),
                reasons=list(result.reasons[i]),
                text=batch.texts[i],
                cluster=c,
                flood_rank=rank_of.get(c),
                evidence=evidence_terms(result.reasons[i]),
            )
        )
    return rows


# ---------------------------------------------------------------------------- evidence


def evidence_terms(reasons: list[str]) -> list[str]:
    """The quoted evidence in reason sentences: ``'soft_ad: price "¥99", handle "加v"'`` gives
    ``["¥99", "加v"]`` (unique, in order)."""
    out: list[str] = []
    for reason in reasons:
        for term in _QUOTED.findall(reason):
            term = term.strip()
            if term and term not in out:
                out.append(term)
    return out


def _fold(ch: str) -> str:
    """What one character becomes for matching: NFKC, case-folded, invisibles and spaces dropped."""
    if ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Mn"):
        return ""
    return unicodedata.normalize("NFKC", ch).casefold().replace(" ", "")


def highlight_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Character spans of ``text`` where an evidence term occurs, merged and sorted.

    Matching folds both sides as the detector's normalizer does in spirit (full-width to
    half-width, case, zero-width characters and spacing), so evidence reported in normalized
    form (``"加v"``) still marks the original ``加 V`` in the post.
    """
    folded: list[str] = []
    origin: list[int] = []
    for pos, ch in enumerate(text):
        for f in _fold(ch):
            folded.append(f)
            origin.append(pos)
    hay = "".join(folded)
    spans: list[tuple[int, int]] = []
    for term in terms:
        needle = "".join(_fold(ch) for ch in term)
        if not needle:
            continue
        start = hay.find(needle)
        while start != -1:
            end = start + len(needle) - 1
            spans.append((origin[start], origin[end] + 1))
            start = hay.find(needle, start + len(needle))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def local_time(t: float, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``t`` (epoch seconds) as local wall time in ``tz``."""
    return datetime.fromtimestamp(t, zone(tz)).strftime(fmt)
