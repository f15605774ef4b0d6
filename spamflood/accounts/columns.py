"""Account features: what a profile and its neighbours in the export say about how it was made.

The article: "a large number of fake accounts appeared in the forums in batches", "tens of
thousands of zombie accounts", "10,000 zombie fans by spending 10 yuan". An account made by
a registration tool has neighbours: accounts created within minutes of it, named from the
same stem plus digits, with the same empty or default profile, following many and followed by
few (or with bought followers and nothing posted). Each feature is computed for all accounts
at once (sorted arrays and ``np.unique``), so a million profiles cost seconds. NaN where the
input lacks the field; the name stems and default profiles are those of the cluster-level
``batch_accounts`` criteria (:mod:`spamflood.criteria.batch_accounts`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from spamflood.accounts.table import AccountTable
from spamflood.criteria.batch_accounts import FOLLOW_MIN, FOLLOW_RATIO, default_bios, name_stems
from spamflood.criteria.context import lexicon

__all__ = ["ACCOUNT_FEATURES", "BURST_WINDOW", "PROFILE_FEATURES", "account_columns", "account_stems", "created_burst", "stem_twins", "template_counts"]

DAY = 86400.0
BURST_WINDOW = 600.0
"""Default seconds within which creation times count as one registration burst."""

ACCOUNT_FEATURES: dict[str, str] = {
    "ACCOUNT_CREATED_BURST": "other accounts of the input created within burst_window of this one",
    "ACCOUNT_NAME_TEMPLATE": "other accounts whose name has the same stem before its trailing digits",
    "ACCOUNT_HANDLE_TEMPLATE": "other accounts whose id (handle) has the same stem before its trailing digits",
    "ACCOUNT_DEFAULT_NAME": "1 if the name is a platform's default (用户5830291746, user_20931)",
    "ACCOUNT_EMPTY_PROFILE": "1 if the bio is empty or a platform's default text",
    "ACCOUNT_FOLLOWERS": "log(1 + followers)",
    "ACCOUNT_FOLLOWING": "log(1 + accounts followed)",
    "ACCOUNT_STATUSES": "log(1 + posts the account ever wrote)",
    "ACCOUNT_FOLLOW_RATIO": "log((1 + following) / (1 + followers)): bought followings are high",
    "ACCOUNT_BOUGHT_FOLLOW": "1 if following at least 50 and 10 times its followers",
    "ACCOUNT_AGE_DAYS": "days from creation to the reference time (the feed's last post, or the newest creation)",
    "ACCOUNT_STATUSES_PER_DAY": "log(1 + statuses per day of age)",
    "ACCOUNT_POSTS": "posts in the feed (feeds of posts only)",
    "ACCOUNT_AGE_AT_FIRST_POST": "days from creation to its first post in the feed (feeds of posts only)",
}
"""Name -> what it measures, in output order."""

PROFILE_FEATURES: tuple[str, ...] = tuple(
    name for name in ACCOUNT_FEATURES if name not in ("ACCOUNT_POSTS", "ACCOUNT_AGE_AT_FIRST_POST")
)
"""The features a profiles-only input has: what the account model reads."""

_LETTER = re.compile(r"[^\W\d_]")


def created_burst(created: np.ndarray, window: float) -> np.ndarray:
    """Per account: how many *other* accounts were created within ``window`` seconds of it
    (NaN where the creation time is unknown; the unknown ones count for no one).

    >>> created_burst(np.array([0.0, 30.0, 50.0, 9000.0, np.nan]), 60.0).tolist()
    [2.0, 2.0, 2.0, 0.0, nan]
    """
    known = ~np.isnan(created)
    times = np.sort(created[known])
    out = np.full(created.shape[0], np.nan)
    c = created[known]
    out[known] = np.searchsorted(times, c + window, side="right") - np.searchsorted(times, c - window, side="left") - 1
    return out


def _is_template_stem(stem: str) -> bool:
    """Whether a name's stem can be a registration tool's template: three characters or more,
    at least one a letter (``u`` of ``u1234`` is no template)."""
    return len(stem) >= 3 and _LETTER.search(stem) is not None


def template_counts(values: Sequence[str | None] | None, n: int, stems: Sequence[str | None] | None = None) -> np.ndarray:
    """Per account: how many *other* accounts share the stem of its name or handle (the text
    before its trailing two or more digits, with at least one letter); 0 for a name with no such
    digits, NaN where there is no name. ``stems``: the values' :func:`name_stems` when the
    caller has read them already (each name is normalized once).

    >>> template_counts(["shop_01", "Shop-22", "shop33", "alice", "u1234", None], 6).tolist()
    [2.0, 2.0, 2.0, 0.0, 0.0, nan]
    """
    if values is None:
        return np.full(n, np.nan)
    if stems is None:
        stems = name_stems(list(values))
    keys = [s if s is not None and _is_template_stem(s) else None for s in stems]
    table: dict[str, int] = {}
    codes = np.array([-1 if s is None else table.setdefault(s, len(table)) for s in keys], dtype=np.int64)
    counts = np.bincount(codes[codes >= 0], minlength=len(table) + 1)  # +1: a slot for "no stem"
    out = np.where(codes >= 0, counts[codes] - 1, 0).astype(np.float64)
    out[np.array([v is None for v in values], dtype=bool)] = np.nan
    return out


def account_stems(t: AccountTable) -> tuple[list[str | None] | None, list[str | None]]:
    """The :func:`name_stems` of every account's name (``None`` without names) and handle, read
    once for :func:`account_columns` and :func:`stem_twins`."""
    return (None if t.author_name is None else name_stems(t.author_name)), name_stems(list(t.authors))


def stem_twins(
    values: Sequence[str | None] | None,
    created: np.ndarray,
    window: float = BURST_WINDOW,
    stems: Sequence[str | None] | None = None,
) -> np.ndarray:
    """Per account: how many *other* accounts share the stem of its name (or handle: the
    ``values``, as :func:`template_counts` reads them; a platform's default name, which every
    new account gets, is no stem) and were created within ``window`` seconds of it: a
    registration tool's pair, where :func:`created_burst` needs a crowd. NaN where the creation
    time or the value is unknown. ``stems``: the values' :func:`name_stems` when the caller has
    read them already.

    >>> stem_twins(["shop_01", "shop_22", "shop_33", "bob_77", None], np.array([0.0, 20.0, 9000.0, 10.0, 5.0]), 600.0).tolist()
    [1.0, 1.0, 0.0, 0.0, nan]
    """
    n = created.shape[0]
    if values is None:
        return np.full(n, np.nan)
    known = ~np.isnan(created) & np.array([v is not None for v in values], dtype=bool)
    out = np.where(known, 0.0, np.nan)
    if not known.any():
        return out
    if stems is None:
        stems = name_stems(list(values))
    defaults = set(lexicon("batch_default_names").terms)
    code: dict[str | None, int] = {None: -1}
    for stem in dict.fromkeys(stems):  # each distinct stem judged once
        if stem is not None:
            code[stem] = len(code) if _is_template_stem(stem) and stem not in defaults else -1
    codes = np.fromiter(map(code.__getitem__, stems), dtype=np.int64, count=n)
    on = known & (codes >= 0)
    rel = created[on] - created[on].min() if on.any() else created[on]
    spacing = float(rel.max()) + 2 * window + 1.0 if on.any() else 1.0  # one stem's times never reach the next's
    out[on] = created_burst(codes[on] * spacing + rel, window)  # a burst among the accounts of one stem
    return out


def account_columns(
    t: AccountTable,
    burst_window: float = BURST_WINDOW,
    stems: tuple[list[str | None] | None, list[str | None]] | None = None,
) -> dict[str, np.ndarray]:
    """Every feature of every account of ``t`` as a named column, in :data:`ACCOUNT_FEATURES`
    order (plain numpy: the post detector reads an account's evidence without scikit-learn);
    ``stems``: :func:`account_stems` of ``t`` when the caller has them."""
    n = len(t)
    nan = np.full(n, np.nan)
    fol, ing, st, created = t.followers, t.following, t.statuses, t.author_created
    reference = (
        np.nanmax(t.last_post)
        if n and not np.isnan(t.last_post).all()
        else (np.nanmax(created) if n and not np.isnan(created).all() else np.nan)
    )
    age = (reference - created) / DAY
    with np.errstate(invalid="ignore", divide="ignore"):
        bought = np.where(
            np.isnan(fol) | np.isnan(ing),
            np.nan,
            ((ing >= FOLLOW_MIN) & (ing >= FOLLOW_RATIO * np.maximum(fol, 1.0))).astype(np.float64),
        )
        per_day = np.log1p(st / np.maximum(age, 1.0))
    name_st, handle_st = (None, None) if stems is None else stems
    default_name = nan
    if t.author_name is not None:
        if name_st is None:
            name_st = name_stems(t.author_name)  # read once: the default names and the name templates
        defaults = set(lexicon("batch_default_names").terms)
        default_name = np.array([np.nan if v is None else float(s in defaults) for v, s in zip(t.author_name, name_st)])
    if t.author_bio is not None:
        empty = default_bios(t.author_bio).astype(np.float64)
    else:
        empty = nan
    return {
        "ACCOUNT_CREATED_BURST": created_burst(created, burst_window),
        "ACCOUNT_NAME_TEMPLATE": template_counts(t.author_name, n, name_st),
        "ACCOUNT_HANDLE_TEMPLATE": template_counts(t.authors, n, handle_st),
        "ACCOUNT_DEFAULT_NAME": default_name,
        "ACCOUNT_EMPTY_PROFILE": empty,
        "ACCOUNT_FOLLOWERS": np.log1p(fol),
        "ACCOUNT_FOLLOWING": np.log1p(ing),
        "ACCOUNT_STATUSES": np.log1p(st),
        "ACCOUNT_FOLLOW_RATIO": np.log((1.0 + ing) / (1.0 + fol)),
        "ACCOUNT_BOUGHT_FOLLOW": bought,
        "ACCOUNT_AGE_DAYS": age,
        "ACCOUNT_STATUSES_PER_DAY": per_day,
        "ACCOUNT_POSTS": t.posts.copy(),
        "ACCOUNT_AGE_AT_FIRST_POST": (t.first_post - created) / DAY,
    }
