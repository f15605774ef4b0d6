"""auto_posting: software or operators posting on a fixed clock.

The article: "some automatic posting software was developed", and operators push copy "on a
regular basis". A person's gaps between posts are irregular, their seconds spread evenly, and
their volume has a ceiling; a scheduler's do not. Per author in the batch: the coefficient of
variation of the gaps between posts (low = regular), the share of posts at exactly :00 seconds,
the share on the quarter hour, and the most posts in one local day. Regular gaps are a clock's
only when they are regular in seconds too (``AUTO_POSTING_GAP_SPREAD``, the gaps' standard
deviation): a low variation of day-long gaps still lets a person who posts "good night" by hand
around 22:45 every evening vary by minutes, where a scheduler varies by its latency. Every value is the author's
and is repeated on each of their posts; NaN without times or authors, or when the author has
fewer than ``min_posts`` posts (too few to call a rhythm); NaN on a post without a time or an
author (it is in no account's rhythm). One value is the post's own: on a post at exactly :00
seconds, how many of its author's posts are (``AUTO_POSTING_ON_THE_MINUTE``; 0 on a post off the
whole minute, NaN where ``AUTO_POSTING_ZERO_SECONDS`` is), so that an account which schedules
only some of its posts (a brand's 07:30:00 greeting every morning, its other posts by hand) is
listed on its scheduled posts, not on the rest.

Timestamp precision is decided per account, from the other accounts. Many exports give some
times to the minute only (Weibo shows many posts without seconds), so a post at :00 seconds may
be an artefact of the export, not of a clock. An account's times at :00 seconds are evidence
only when the export demonstrably keeps seconds for the *other* accounts: at least
:data:`SECONDS_SHARE` of the other accounts with a timed post have a time off the whole minute,
and at least :data:`SECONDS_ACCOUNTS` of them do (a second-precise account lands all of its
posts on :00 by chance with odds 1 in 60 per post). Otherwise ``AUTO_POSTING_ZERO_SECONDS`` is
NaN for the account and its quarter-hour share reads the minute alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np

from spamflood.criteria.context import Context
from spamflood.criteria.rules import PARAMETERS

__all__ = ["FAMILY", "LISTS", "PATTERNS", "compute", "evidence_keys", "second_precise", "seconds_accounts", "snippets"]

FAMILY = "auto_posting"
LISTS: dict[str, Callable[[], Iterable[str]] | None] = {}
PATTERNS: dict[str, Callable[[], object]] = {}

MIN_POSTS = PARAMETERS["min_posts"]
"""Default fewest posts by one author for the regularity features (the transformer's ``min_posts``)."""

SECONDS_SHARE = 0.8
"""Least share of the other accounts whose times carry seconds for :00 seconds to be evidence."""

SECONDS_ACCOUNTS = 2
"""Fewest other accounts whose times carry seconds for :00 seconds to be evidence."""


def second_precise(
    authors: np.ndarray, seconds: np.ndarray, n_authors: int, feed: tuple[int, int] | None = None
) -> np.ndarray:
    """Per author code: whether the other accounts show that the export keeps seconds.

    ``authors``: the author code of each timed post; ``seconds``: its second of the minute.
    An account carries seconds when one of its times is off the whole minute; the answer for
    an account counts the others only, so a scheduler's own :00 times never argue for or
    against themselves. ``feed``: the :func:`seconds_accounts` of the whole feed when these
    posts are a part of it holding whole accounts (the Spark engine); by default the posts are
    the feed.
    """
    timed = np.bincount(authors, minlength=n_authors) > 0
    carries = np.bincount(authors, weights=(seconds != 0).astype(np.float64), minlength=n_authors) > 0
    n_timed, n_carry = (int(timed.sum()), int(carries.sum())) if feed is None else feed
    others = n_timed - timed.astype(np.int64)
    others_carry = n_carry - carries.astype(np.int64)
    return (others_carry >= SECONDS_ACCOUNTS) & (others_carry >= SECONDS_SHARE * others)


def seconds_accounts(authors: np.ndarray, times: np.ndarray) -> tuple[int, int]:
    """How many accounts have a timed post, and how many of them a time off the whole minute
    (``authors``: codes, below 0 for a post without an author, which is no account)."""
    known = (authors >= 0) & ~np.isnan(times)
    a = authors[known]
    carry = a[np.floor(times[known]) % 60 != 0]
    return int(np.unique(a).size), int(np.unique(carry).size)


_PER_AUTHOR = ("posts", "cv", "spread", "zero", "quarter", "peak", "on_minute")


def _per_author(ctx: Context) -> dict[str, np.ndarray]:
    n = ctx.n
    nan = np.full(n, np.nan)
    codes = ctx.author_codes()
    times = ctx.cols.times
    if codes is None or times is None:
        return {k: nan.copy() for k in _PER_AUTHOR}
    min_posts = int(ctx.settings.get("min_posts", MIN_POSTS))
    known = ~np.isnan(times) & (codes >= 0)  # a post without a time or an author is in no rhythm
    idx = np.flatnonzero(known)
    if not idx.size:
        return {k: nan.copy() for k in _PER_AUTHOR}
    a, t = codes[idx], times[idx]
    order = np.lexsort((t, a))
    a, t, idx = a[order], t[order], idx[order]
    n_authors = int(codes.max()) + 1
    posts = np.bincount(a, minlength=n_authors).astype(np.float64)
    # gaps within each author
    same = a[1:] == a[:-1]
    gaps = np.diff(t)[same]
    gap_author = a[1:][same]
    g_n = np.bincount(gap_author, minlength=n_authors)
    g_sum = np.bincount(gap_author, weights=gaps, minlength=n_authors)
    g_sq = np.bincount(gap_author, weights=gaps * gaps, minlength=n_authors)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = g_sum / g_n
        var = np.maximum(g_sq / g_n - mean * mean, 0.0)
        cv = np.where(mean > 0, np.sqrt(var) / mean, np.nan)
    enough = posts >= min_posts
    cv = np.where(enough, cv, np.nan)
    spread = np.where(enough & (g_n > 0), np.sqrt(var), np.nan)
    seconds = np.floor(t) % 60
    local = ctx.local_seconds()[idx]
    minute = np.floor(np.mod(local, 3600.0) / 60.0)
    # :00 seconds say something only where the other accounts' times keep seconds
    precise = second_precise(a, seconds, n_authors, ctx.cols.seconds_accounts)
    zero = np.bincount(a, weights=(seconds == 0).astype(np.float64), minlength=n_authors) / np.maximum(posts, 1)
    zero = np.where(enough & precise, zero, np.nan)
    on_quarter = (minute % 15 == 0) & ((seconds == 0) | ~precise[a])
    quarter = np.bincount(a, weights=on_quarter.astype(np.float64), minlength=n_authors) / np.maximum(posts, 1)
    quarter = np.where(enough, quarter, np.nan)
    day = np.floor(local / 86400.0).astype(np.int64)
    pair = a * (int(day.max() - day.min()) + 1) + (day - day.min())
    uniq, counts = np.unique(pair, return_counts=True)
    span = int(day.max() - day.min()) + 1
    peak = np.zeros(n_authors)
    np.maximum.at(peak, uniq // span, counts.astype(np.float64))
    out = {}
    for key, per in (("posts", posts), ("cv", cv), ("spread", spread), ("zero", zero), ("quarter", quarter), ("peak", peak)):
        col = np.full(n, np.nan)
        col[known] = per[codes[known]]
        out[key] = col
    # on a post at :00 seconds, its author's posts there (where the author's share is evidence)
    on_minute = np.full(n, np.nan)
    on_minute[idx] = np.where(np.isnan(zero[a]), np.nan, np.where(seconds == 0, zero[a] * posts[a], 0.0))
    out["on_minute"] = on_minute
    return out


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every auto_posting feature for the batch."""
    per = _per_author(ctx)
    return {
        "AUTO_POSTING_POSTS": per["posts"],
        "AUTO_POSTING_GAP_CV": per["cv"],
        "AUTO_POSTING_GAP_SPREAD": per["spread"],
        "AUTO_POSTING_ZERO_SECONDS": per["zero"],
        "AUTO_POSTING_ON_THE_MINUTE": per["on_minute"],
        "AUTO_POSTING_ROUND_MINUTE": per["quarter"],
        "AUTO_POSTING_DAILY_PEAK": per["peak"],
    }


def snippets(ctx: Context, i: int, hits: Iterable[str], values: Mapping[str, float]) -> dict[str, str]:
    """Human snippets for the auto_posting features of post ``i`` in ``hits`` (``values``: all its values)."""
    features = {name: values[name] for name in hits}
    out: dict[str, str] = {}
    author = ctx.cols.authors[i] if ctx.cols.authors is not None else "?"
    for name, value in features.items():
        if name == "AUTO_POSTING_GAP_CV":
            out[name] = f"account {author} posts at near-constant gaps (variation {value:.0%})"
        elif name == "AUTO_POSTING_GAP_SPREAD":
            out[name] = f"its gaps vary by {value:.0f} s"
        elif name == "AUTO_POSTING_ZERO_SECONDS":
            out[name] = f"{value:.0%} of account {author}'s posts at exactly :00 seconds"
        elif name == "AUTO_POSTING_ON_THE_MINUTE":
            out[name] = f"this post at exactly :00 seconds, as {int(value)} of account {author}'s are"
        elif name == "AUTO_POSTING_ROUND_MINUTE":
            out[name] = f"{value:.0%} of account {author}'s posts on the quarter hour"
        elif name == "AUTO_POSTING_DAILY_PEAK":
            out[name] = f"account {author} posted {int(value)} times in one day"
        elif name == "AUTO_POSTING_POSTS":
            out[name] = f"account {author} posted {int(value)} times in the batch"
    return out


def evidence_keys(ctx: Context) -> np.ndarray:
    """Snippets follow from the values and the author: an author's posts share them."""
    codes = ctx.author_codes()
    return codes if codes is not None else np.zeros(ctx.n, dtype=np.int64)
