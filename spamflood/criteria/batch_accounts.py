"""batch_accounts: accounts made in batches to carry one message.

The article: "a large number of fake accounts appeared in the forums in batches", "marketing
accounts created in batches", "tens of thousands of zombie accounts", "10,000 zombie fans by
spending 10 yuan". Among the distinct accounts of a post's cluster (from the cluster stage),
each feature is a share: names that follow one template (a shared stem plus digits, or a
platform's default name), creation times close to another account's, empty or default
profiles, the follow pattern of bought accounts (following many, followed by few), and accounts
younger than a month when they post. NaN when the post is in no cluster, the cluster has fewer
than ``min_accounts`` accounts, or the input lacks the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from spamflood.criteria.context import Columns, Context, lexicon

__all__ = ["FAMILY", "LISTS", "PATTERNS", "compute", "snippets"]

FAMILY = "batch_accounts"
LISTS: dict[str, Callable[[], Iterable[str]] | None] = {}
PATTERNS: dict[str, Callable[[], object]] = {}

MIN_ACCOUNTS = 3
CREATED_WINDOW = 86400.0
"""Default seconds within which two creation times count as close (the transformer's ``created_window``)."""
YOUNG_SECONDS = 30 * 86400.0
FOLLOW_RATIO = 10.0
FOLLOW_MIN = 50.0

_TRAILING = re.compile(r"^(.*?)[\s_\-.]*(\d{2,})$")


def _stem(name: str | None, memo: dict[str, str | None]) -> str | None:
    """The normalized name without its trailing digits, or None when it has no such digits."""
    if not name:
        return None
    if name not in memo:
        from spamflood.normalize import normalize

        m = _TRAILING.match(normalize(name))
        memo[name] = m.group(1) if m else None
    return memo[name]


def _name_templated(names: list[str | None], memo: dict[str, str | None]) -> np.ndarray:
    """Per account: its name is a stem + digits shared with another account, or a default name."""
    defaults = set(lexicon("batch_default_names").terms)
    stems = [_stem(name, memo) for name in names]
    counts: dict[str, int] = {}
    for s in stems:
        if s is not None:
            counts[s] = counts.get(s, 0) + 1
    return np.array([s is not None and (counts[s] >= 2 or s in defaults) for s in stems], dtype=bool)


def _default_bio(bios: list[str | None]) -> np.ndarray:
    from spamflood.normalize import normalize

    phrases = lexicon("batch_default_bios").terms
    out = []
    for bio in bios:
        text = normalize(bio) if bio else ""
        out.append(not text or any(p in text for p in phrases))
    return np.array(out, dtype=bool)


def _close(created: np.ndarray, window: float) -> np.ndarray:
    """Per account: created within ``window`` seconds of another account of the group."""
    order = np.argsort(created)
    c = created[order]
    near = np.zeros(c.shape[0], dtype=bool)
    if c.shape[0] > 1:
        d = np.diff(c) <= window
        near[1:] |= d
        near[:-1] |= d
    out = np.zeros_like(near)
    out[order] = near
    return out


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
    out = {k: np.full(n, np.nan) for k in names}
    clusters, codes = ctx.cols.clusters, ctx.author_codes()
    if clusters is None or codes is None:
        return out
    cols = ctx.cols
    min_accounts = int(ctx.settings.get("min_accounts", MIN_ACCOUNTS))
    window = float(ctx.settings.get("created_window", CREATED_WINDOW))
    inside = np.flatnonzero(clusters >= 0)
    if not inside.size:
        return out
    # one row per (cluster, account): its first post in the batch
    key = clusters[inside] * (int(codes.max()) + 1) + codes[inside]
    _, first = np.unique(key, return_index=True)
    rows = inside[first]
    row_cluster = clusters[rows]
    order = np.argsort(row_cluster, kind="stable")
    rows, row_cluster = rows[order], row_cluster[order]
    bounds = np.flatnonzero(np.diff(row_cluster)) + 1
    # cluster-level values, then one vectorised spread to the posts
    _, post_slot = np.unique(clusters[inside], return_inverse=True)
    groups = np.split(rows, bounds)
    per_cluster = {k: np.full(len(groups), np.nan) for k in names}
    memo: dict[str, str | None] = {}
    for g, group in enumerate(groups):
        k = group.size
        per_cluster["BATCH_ACCOUNTS_ACCOUNTS"][g] = float(k)
        if k < min_accounts:
            continue
        for name, value in _group_values(cols, group, min_accounts, window, memo).items():
            per_cluster[name][g] = value
    for name in names:
        out[name][inside] = per_cluster[name][post_slot]
    return out


def _group_values(
    cols: Columns, group: np.ndarray, min_accounts: int, window: float, memo: dict[str, str | None]
) -> dict[str, float]:
    """The shares for one cluster's accounts (``group``: one row per account)."""
    out: dict[str, float] = {}
    if cols.author_name is not None:
        out["BATCH_ACCOUNTS_NAME_TEMPLATE"] = float(_name_templated([cols.author_name[j] for j in group], memo).mean())
    if cols.author_bio is not None:
        out["BATCH_ACCOUNTS_EMPTY_PROFILE"] = float(_default_bio([cols.author_bio[j] for j in group]).mean())
    if cols.author_created is not None:
        created = cols.author_created[group]
        known = ~np.isnan(created)
        if known.sum() >= min_accounts:
            out["BATCH_ACCOUNTS_CREATED_CLOSE"] = float(_close(created[known], window).mean())
            if cols.times is not None:
                age = cols.times[group][known] - created[known]
                age_known = ~np.isnan(age)
                if age_known.sum() >= min_accounts:
                    out["BATCH_ACCOUNTS_YOUNG"] = float((age[age_known] < YOUNG_SECONDS).mean())
    if cols.followers is not None and cols.following is not None:
        fol, ing = cols.followers[group], cols.following[group]
        known = ~np.isnan(fol) & ~np.isnan(ing)
        if known.sum() >= min_accounts:
            bought = (ing[known] >= FOLLOW_MIN) & (ing[known] >= FOLLOW_RATIO * np.maximum(fol[known], 1.0))
            out["BATCH_ACCOUNTS_FOLLOW_RATIO"] = float(bought.mean())
    return out


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
    return out
