"""batch_accounts: accounts made in batches to carry one message.

The article: "a large number of fake accounts appeared in the forums in batches", "marketing
accounts created in batches", "tens of thousands of zombie accounts", "10,000 zombie fans by
spending 10 yuan". Among the distinct accounts of a post's cluster (from the cluster stage),
each feature is a share: names that follow one template (a shared stem plus digits, or a
platform's default name), creation times close to another account's, empty or default
profiles, the follow pattern of bought accounts (following many, followed by few), and accounts
younger than a month when they post. NaN when the post is in no cluster, the cluster has fewer
than ``min_accounts`` accounts, or the input lacks the field. A post without an author is no
account: it is counted in none of these, and a cluster without any account has NaN.

The shares describe the cluster, not the post's own account: a brand's original post pushed by
a batch, or a seller's boast that batch-made agents repost, shares a cluster with the batch and
is no batch account's. So the label is listed on a post only when its own account is one of the
accounts the shares count (``BATCH_ACCOUNTS_OWN_SIGNS``: which of the signs its account
carries, as bits of :data:`OWN_SIGNS`; 0 for none).

A batch-made account posting alone (a single soft ad, a camouflage post) is in no cluster, so
its post's own account is judged too, exactly as ``spamflood accounts`` judges it
(:func:`spamflood.accounts.evidence.batch_accounts`, among the accounts of the whole batch):
created within ``BURST_WINDOW`` of at least ``min_accounts - 1`` others, with a second sign of a
registration tool, or of another account sharing its name's or handle's stem (a tool's pair).
The reason quotes that account's facts.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from spamflood.criteria.context import Columns, Context, lexicon
from spamflood.criteria.rules import PARAMETERS
from spamflood.errors import ConfigError

if TYPE_CHECKING:
    from spamflood.accounts.evidence import AccountEvidence

__all__ = ["FAMILY", "LISTS", "OWN_SIGNS", "PATTERNS", "account_evidence", "compute", "default_bios", "evidence_keys", "name_stems", "snippets"]

FAMILY = "batch_accounts"
LISTS: dict[str, Callable[[], Iterable[str]] | None] = {}
PATTERNS: dict[str, Callable[[], object]] = {}

MIN_ACCOUNTS = PARAMETERS["min_accounts"]
CREATED_WINDOW = 86400.0
"""Default seconds within which two creation times count as close (the transformer's ``created_window``)."""
YOUNG_SECONDS = 30 * 86400.0
FOLLOW_RATIO = 10.0
FOLLOW_MIN = 50.0

OWN_SIGNS: tuple[str, ...] = ("templated name", "created close to another", "empty profile", "follows like a bought account", "under 30 days old")
"""The signs a cluster's shares count, as bits (1, 2, 4, 8, 16) of ``BATCH_ACCOUNTS_OWN_SIGNS``."""

_TRAILING = re.compile(r"(?:(.*?)[\s_\-.]*(\d{2,})$)?")
"""A name's stem before its trailing digits (group 1); it always matches, group 1 ``None``
when the name does not end in two or more digits."""
_FIRST_GROUP = operator.methodcaller("group", 1)


def name_stems(names: list[str | None]) -> list[str | None]:
    """Per name: the normalized name without its trailing digits, or None when it has no such
    digits (or no name). Each distinct name is normalized and matched once, the loops in C."""
    from spamflood.normalize import normalize_many

    distinct = [name for name in dict.fromkeys(names) if name]
    stem_of: dict[str | None, str | None] = {None: None, "": None}
    stem_of.update(zip(distinct, map(_FIRST_GROUP, map(_TRAILING.match, normalize_many(distinct)))))
    return list(map(stem_of.__getitem__, names))


def default_bios(bios: list[str | None]) -> np.ndarray:
    """Per bio: empty, or a platform's default text (each distinct bio normalized once)."""
    from spamflood.normalize import normalize_many

    phrases = _default_bio()
    distinct = [bio for bio in dict.fromkeys(bios) if bio]
    default: dict[str | None, bool] = {None: True, "": True}
    for bio, text in zip(distinct, normalize_many(distinct)):
        default[bio] = not text or phrases.search(text) is not None
    return np.fromiter(map(default.__getitem__, bios), dtype=bool, count=len(bios))


@functools.lru_cache(maxsize=1)
def _default_bio() -> re.Pattern[str]:
    """Any of the default profile phrases, as one pattern (one C search per bio)."""
    terms = lexicon("batch_default_bios").terms
    return re.compile("|".join(map(re.escape, terms)) if terms else "(?!)")


def _share(
    flag: np.ndarray, group: np.ndarray, n_groups: int, counted: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per group: how many rows count (``counted``, default all) and the share of them flagged."""
    if counted is None:
        counted = np.ones(flag.shape[0], dtype=bool)
    total = np.bincount(group[counted], minlength=n_groups)
    hits = np.bincount(group[counted & flag], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total, hits / total


def compute(ctx: Context) -> dict[str, np.ndarray]:
    """Every batch_accounts feature for the batch."""
    n = ctx.n
    names = (
        "BATCH_ACCOUNTS_ACCOUNTS",
        "BATCH_ACCOUNTS_NAME_TEMPLATE",
        "BATCH_ACCOUNTS_CREATED_CLOSE",
        "BATCH_ACCOUNTS_EMPTY_PROFILE",
        "BATCH_ACCOUNTS_FOLLOW_RATIO",
        "BATCH_ACCOUNTS_YOUNG",
    )
    out = {k: np.full(n, np.nan) for k in (*names, "BATCH_ACCOUNTS_OWN_SIGNS", *_ACCOUNT_FEATURES)}
    clusters, codes = ctx.cols.clusters, ctx.author_codes()
    if codes is not None:
        out.update(_account_values(ctx, codes))
    if clusters is None or codes is None:
        return out
    cols = ctx.cols
    min_accounts = int(ctx.settings.get("min_accounts", MIN_ACCOUNTS))
    window = float(ctx.settings.get("created_window", CREATED_WINDOW))
    # a post without an author is no account: it gets its cluster's values but adds no account
    accounted = np.flatnonzero((clusters >= 0) & (codes >= 0))
    if not accounted.size:
        return out
    # one row per (cluster, account): its first post in the batch; rows grouped by cluster
    key = clusters[accounted] * (int(codes.max()) + 1) + codes[accounted]
    _, first, row_of = np.unique(key, return_index=True, return_inverse=True)
    rows = accounted[first]
    order = np.argsort(clusters[rows], kind="stable")
    rows = rows[order]
    row_of = np.argsort(order)[row_of.reshape(-1)]  # each accounted post's (cluster, account) row
    # cluster-level values, then one vectorised spread to the posts of clusters with an account
    cluster_ids, group = np.unique(clusters[rows], return_inverse=True)
    inside = np.flatnonzero(np.isin(clusters, cluster_ids))
    post_slot = np.searchsorted(cluster_ids, clusters[inside])
    n_groups = int(group.max()) + 1
    size = np.bincount(group, minlength=n_groups)
    per_cluster = {k: np.full(n_groups, np.nan) for k in names}
    per_cluster["BATCH_ACCOUNTS_ACCOUNTS"] = size.astype(np.float64)
    big = size >= min_accounts
    values, signs = _group_values(cols, rows, group, n_groups, min_accounts, window)
    for name, value in values.items():
        per_cluster[name] = np.where(big, value, np.nan)
    for name in names:
        out[name][inside] = per_cluster[name][post_slot]
    # the post's own account among them: the signs it carries of those its cluster's shares count
    own = np.zeros(rows.shape[0])
    counted = np.zeros(rows.shape[0], dtype=bool)
    for name, flag in signs.items():
        measured = ~np.isnan(per_cluster[name][group])
        own += np.where(measured & flag, float(1 << OWN_BITS[name]), 0.0)
        counted |= measured
    out["BATCH_ACCOUNTS_OWN_SIGNS"][accounted] = np.where(counted, own, np.nan)[row_of]
    return out


OWN_BITS = {
    "BATCH_ACCOUNTS_NAME_TEMPLATE": 0,
    "BATCH_ACCOUNTS_CREATED_CLOSE": 1,
    "BATCH_ACCOUNTS_EMPTY_PROFILE": 2,
    "BATCH_ACCOUNTS_FOLLOW_RATIO": 3,
    "BATCH_ACCOUNTS_YOUNG": 4,
}
"""Each cluster share's bit in ``BATCH_ACCOUNTS_OWN_SIGNS`` (its sign in :data:`OWN_SIGNS`)."""


def account_evidence(cols: Columns, min_accounts: int = MIN_ACCOUNTS) -> AccountEvidence | None:
    """Every account's own evidence among the batch's accounts, as :func:`compute` measures it
    when the batch is the feed (one row per account: its last post's fields); ``None`` without
    authors or creation times. An engine may measure it apart and give it as
    :attr:`Columns.accounts` (the batch detector does, while the clusters are found)."""
    codes = Context(cols).author_codes()
    if codes is None or cols.author_created is None:
        return None
    rows = _account_rows(codes)
    return _measure(cols, rows, min_accounts) if rows.size else None


def _account_rows(codes: np.ndarray) -> np.ndarray:
    """One row per account (``rows[k]``: a post of account ``k``): its last post in the batch,
    whose fields are the newest a feed in time order has."""
    order = np.flatnonzero(codes >= 0)[::-1]
    _, last = np.unique(codes[order], return_index=True)
    return order[last]


def _measure(cols: Columns, rows: np.ndarray, min_accounts: int) -> AccountEvidence:
    from spamflood.accounts.evidence import AccountEvidence
    from spamflood.accounts.table import AccountTable

    return AccountEvidence.measure(
        AccountTable.from_profiles(
            _at(cols.authors, rows),  # type: ignore[arg-type]
            author_name=None if cols.author_name is None else _at(cols.author_name, rows),
            author_bio=None if cols.author_bio is None else _at(cols.author_bio, rows),
            author_created=None if cols.author_created is None else cols.author_created[rows],
            followers=None if cols.followers is None else cols.followers[rows],
            following=None if cols.following is None else cols.following[rows],
        ),
        min_accounts=min_accounts,
    )


def _account_values(ctx: Context, codes: np.ndarray) -> dict[str, np.ndarray]:
    """The post's own account, judged among the accounts of the whole feed as
    ``spamflood accounts`` judges it (:class:`spamflood.accounts.evidence.AccountEvidence`):
    how many accounts were created within ``BURST_WINDOW`` of it (itself included), and
    whether it carries a second sign of a registration tool. Measured here per account
    (:func:`account_evidence`) when the batch is the feed, else looked up in the feed's
    evidence (``Columns.accounts``); spread to its posts; NaN for a post without an account
    or creation time."""
    cols, n = ctx.cols, ctx.n
    burst, sign, twin = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    out = {"BATCH_ACCOUNTS_ACCOUNT_BURST": burst, "BATCH_ACCOUNTS_ACCOUNT_SIGN": sign, "BATCH_ACCOUNTS_ACCOUNT_TWIN": twin}
    evidence = cols.accounts
    posted = np.flatnonzero(codes >= 0)
    if (evidence is None and cols.author_created is None) or not posted.size:
        return out
    min_accounts = int(ctx.settings.get("min_accounts", MIN_ACCOUNTS))
    rows = _account_rows(codes)
    if evidence is None:  # the batch is the feed: measure its accounts
        evidence = _measure(cols, rows, min_accounts)
        at = np.arange(rows.shape[0])
    elif evidence.min_accounts != min_accounts:
        raise ConfigError(
            f"The feed's account evidence was measured with min_accounts={evidence.min_accounts}; "
            f"the criteria run with min_accounts={min_accounts}."
        )
    else:
        at = evidence.positions(_at(cols.authors, rows))  # type: ignore[arg-type]
    burst[posted] = _looked_up(evidence.burst, at)[codes[posted]]
    sign[posted] = _looked_up(evidence.sign, at)[codes[posted]]
    twin[posted] = _looked_up(evidence.twin, at)[codes[posted]]
    # a post whose account's rule holds quotes its own account: its snippets are keyed by it
    reasons = [evidence.reasons[k] if k >= 0 else None for k in at.tolist()]
    fired = np.fromiter((r is not None for r in reasons), dtype=bool, count=len(reasons))
    keys = np.where(fired[np.maximum(codes, 0)] & (codes >= 0), codes, -1)
    ctx.cache["batch_accounts_account"] = (codes, reasons, keys)
    return out


_ACCOUNT_FEATURES = ("BATCH_ACCOUNTS_ACCOUNT_BURST", "BATCH_ACCOUNTS_ACCOUNT_SIGN", "BATCH_ACCOUNTS_ACCOUNT_TWIN")
"""The post's own account's evidence (:func:`_account_values`)."""


def _looked_up(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values[at]``, NaN where ``at`` is -1 (an account not measured)."""
    out = np.full(at.shape[0], np.nan)
    found = at >= 0
    out[found] = values[at[found]]
    return out


def _group_values(
    cols: Columns, rows: np.ndarray, group: np.ndarray, n_groups: int, min_accounts: int, window: float
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The shares per cluster (``rows``: one post per account, ``group``: its cluster's slot),
    NaN where too few accounts have the field; and per row, whether its account is one the
    share counts."""
    out: dict[str, np.ndarray] = {}
    flags: dict[str, np.ndarray] = {}
    if cols.author_name is not None:
        stems = name_stems(_at(cols.author_name, rows))
        has = np.array([s is not None for s in stems], dtype=bool)
        table: dict[str, int] = {}
        stem_code = np.array([-1 if s is None else table.setdefault(s, len(table)) for s in stems], dtype=np.int64)
        defaults = set(lexicon("batch_default_names").terms)
        is_default = np.array([s in defaults for s in table], dtype=bool)
        # how many accounts of the same cluster share each row's stem
        pair = group.astype(np.int64) * (len(table) + 1) + (stem_code + 1)
        _, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
        shared = counts[inverse] >= 2
        templated = has & (shared | (is_default[np.maximum(stem_code, 0)] if len(table) else False))
        out["BATCH_ACCOUNTS_NAME_TEMPLATE"] = _share(templated, group, n_groups)[1]
        flags["BATCH_ACCOUNTS_NAME_TEMPLATE"] = templated
    if cols.author_bio is not None:
        empty = default_bios(_at(cols.author_bio, rows))
        out["BATCH_ACCOUNTS_EMPTY_PROFILE"] = _share(empty, group, n_groups)[1]
        flags["BATCH_ACCOUNTS_EMPTY_PROFILE"] = empty
    if cols.author_created is not None:
        created = cols.author_created[rows]
        known = ~np.isnan(created)
        near = _close_within(created, group, known, window)
        total, share = _share(near, group, n_groups, known)
        out["BATCH_ACCOUNTS_CREATED_CLOSE"] = np.where(total >= min_accounts, share, np.nan)
        flags["BATCH_ACCOUNTS_CREATED_CLOSE"] = near
        if cols.times is not None:
            age = cols.times[rows] - created
            with np.errstate(invalid="ignore"):
                young = age < YOUNG_SECONDS
            age_total, age_share = _share(young, group, n_groups, known & ~np.isnan(age))
            out["BATCH_ACCOUNTS_YOUNG"] = np.where((total >= min_accounts) & (age_total >= min_accounts), age_share, np.nan)
            flags["BATCH_ACCOUNTS_YOUNG"] = young
    if cols.followers is not None and cols.following is not None:
        fol, ing = cols.followers[rows], cols.following[rows]
        known = ~np.isnan(fol) & ~np.isnan(ing)
        with np.errstate(invalid="ignore"):
            bought = (ing >= FOLLOW_MIN) & (ing >= FOLLOW_RATIO * np.maximum(fol, 1.0))
        total, share = _share(bought, group, n_groups, known)
        out["BATCH_ACCOUNTS_FOLLOW_RATIO"] = np.where(total >= min_accounts, share, np.nan)
        flags["BATCH_ACCOUNTS_FOLLOW_RATIO"] = bought
    return out, flags


def _at(column: list[Any], rows: np.ndarray) -> list[Any]:
    """``[column[j] for j in rows]`` with the loop in C."""
    if rows.size == 0:
        return []
    if rows.size == 1:
        return [column[int(rows[0])]]
    return list(operator.itemgetter(*rows.tolist())(column))


def _close_within(created: np.ndarray, group: np.ndarray, known: np.ndarray, window: float) -> np.ndarray:
    """Per row: created within ``window`` seconds of another account of its cluster (rows
    without a creation time are never close and are not counted)."""
    idx = np.flatnonzero(known)
    order = idx[np.lexsort((created[idx], group[idx]))]
    c, g = created[order], group[order]
    near_sorted = np.zeros(order.shape[0], dtype=bool)
    if order.shape[0] > 1:
        d = (np.diff(c) <= window) & (g[1:] == g[:-1])
        near_sorted[1:] |= d
        near_sorted[:-1] |= d
    near = np.zeros(created.shape[0], dtype=bool)
    near[order] = near_sorted
    return near


_WHAT = {
    "BATCH_ACCOUNTS_NAME_TEMPLATE": "of the cluster's {k} accounts have templated names (stem + digits)",
    "BATCH_ACCOUNTS_CREATED_CLOSE": "of the cluster's {k} accounts were created close together",
    "BATCH_ACCOUNTS_EMPTY_PROFILE": "of the cluster's {k} accounts have empty or default profiles",
    "BATCH_ACCOUNTS_FOLLOW_RATIO": "of the cluster's {k} accounts follow many and are followed by few",
    "BATCH_ACCOUNTS_YOUNG": "of the cluster's {k} accounts were under 30 days old",
}


def snippets(ctx: Context, i: int, hits: Iterable[str], values: Mapping[str, float]) -> dict[str, str]:
    """Human snippets for the batch_accounts features of post ``i`` in ``hits`` (``values``: all its values)."""
    features = {name: values[name] for name in hits}
    out: dict[str, str] = {}
    k = values.get("BATCH_ACCOUNTS_ACCOUNTS", float("nan"))
    k_text = "?" if math.isnan(k) else str(int(k))
    for name, value in features.items():
        if name in _WHAT:
            out[name] = f"{value:.0%} " + _WHAT[name].format(k=k_text)
        elif name == "BATCH_ACCOUNTS_ACCOUNTS":
            out[name] = f"cluster of {int(value)} accounts"
        elif name == "BATCH_ACCOUNTS_OWN_SIGNS":
            carried = [sign for bit, sign in enumerate(OWN_SIGNS) if int(value) >> bit & 1]
            out[name] = "its account one of them (" + ", ".join(carried) + ")"
        elif name == _sentence_feature(features):  # one sentence says the burst, the sign and the pair
            out[name] = _account_reason(ctx, i)
    return out


def _sentence_feature(hits: Mapping[str, float]) -> str:
    """The hit feature that carries the account's sentence: the burst, else the pair."""
    return "BATCH_ACCOUNTS_ACCOUNT_BURST" if "BATCH_ACCOUNTS_ACCOUNT_BURST" in hits else "BATCH_ACCOUNTS_ACCOUNT_TWIN"


def _account_reason(ctx: Context, i: int) -> str:
    """The facts of post ``i``'s account, as ``spamflood accounts`` quotes them."""
    codes, reasons, _ = ctx.cache["batch_accounts_account"]
    said = reasons[int(codes[i])]
    return "its account " + (said or "").removeprefix("batch_accounts: ")


def evidence_keys(ctx: Context) -> np.ndarray:
    """Snippets follow from the values and, where the post's own account is quoted, from that
    account: every post of a cluster shares the cluster's sentence."""
    found = ctx.cache.get("batch_accounts_account")
    return np.zeros(ctx.n, dtype=np.int64) if found is None else found[2]
