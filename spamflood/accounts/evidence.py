"""Account labels: each one listed if and only if its rule holds, with the facts as its reason.

``batch_accounts`` (the account scope of the cluster-level family): the account was created
within ``burst_window`` of at least ``min_accounts - 1`` other accounts of the input *and* it
carries a second sign of a registration tool: a name or handle whose stem (before its
trailing digits) other accounts share, a platform's default name, an empty or default
profile, or the follow pattern of bought accounts. A burst alone is not enough: in an export
of millions, some ordinary accounts are created in the same minutes by chance. Or a tool's
pair: another account sharing the stem of its name or handle (not a platform's default name)
was created within ``burst_window`` of it (:func:`~spamflood.accounts.columns.stem_twins`): two
signs pointing at one partner, which chance does not give (no genuine account of cresci-2017
has such a twin, nor any organic account of the synthetic feed), where a crowd of
``min_accounts`` is what a burst of unrelated names needs.

From a feed of posts, each label its posts got is listed on the account too, with how many
of its posts carried it and the first such post's reason: ``mass_share``, ``repetition``, and
whatever else is decided per post (coordination on shared objects included) reach the
account here, in :func:`post_labels`.

A flagged account that lists no label (the model weighed its profile, or its posts scored
high without a label) gets one reason starting ``score: raised by``, from
:func:`score_reasons`: the groups of features (:data:`FEATURE_GROUPS`, and its posts from a
feed) that raised its score most, quoted from the account itself. It is never a label.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from spamflood.accounts.columns import BURST_WINDOW, account_columns, account_stems, stem_twins
from spamflood.accounts.table import AccountTable

__all__ = [
    "ACCOUNT_LABEL",
    "FEATURE_GROUPS",
    "POSTS_GROUP",
    "AccountEvidence",
    "batch_accounts",
    "post_labels",
    "registration_sign",
    "score_reasons",
]

ACCOUNT_LABEL = "batch_accounts"
"""The label accounts get for being made in a batch."""

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "follows": ("ACCOUNT_FOLLOWERS", "ACCOUNT_FOLLOWING", "ACCOUNT_FOLLOW_RATIO", "ACCOUNT_BOUGHT_FOLLOW"),
    "activity": ("ACCOUNT_STATUSES", "ACCOUNT_STATUSES_PER_DAY", "ACCOUNT_AGE_DAYS"),
    "profile": ("ACCOUNT_EMPTY_PROFILE",),
    "names": ("ACCOUNT_NAME_TEMPLATE", "ACCOUNT_HANDLE_TEMPLATE", "ACCOUNT_DEFAULT_NAME"),
    "burst": ("ACCOUNT_CREATED_BURST",),
}
"""The account model's features by what a moderator checks on a profile: its follow counts,
its activity over its age, its bio, its name and handle, its creation among other accounts.
Each group is weighed and quoted as one."""

POSTS_GROUP = "posts"
"""From a feed, the account's posts: their mean score is part of the account's."""


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds < 7200 else f"{seconds / 3600:g} h"


def twins(
    t: AccountTable, burst_window: float, stems: tuple[list[str | None] | None, list[str | None]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per account: the other accounts sharing its name's stem, and its handle's, created
    within ``burst_window`` of it (:func:`~spamflood.accounts.columns.stem_twins`; ``stems``:
    :func:`~spamflood.accounts.columns.account_stems` when the caller has them)."""
    name_st, handle_st = (None, None) if stems is None else stems
    return (
        stem_twins(t.author_name, t.author_created, burst_window, name_st),
        stem_twins(t.authors, t.author_created, burst_window, handle_st),
    )


def batch_accounts(
    t: AccountTable,
    values: Mapping[str, np.ndarray],
    *,
    min_accounts: int,
    burst_window: float,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, list[str | None]]:
    """Where ``batch_accounts`` fires, and its reason there (``None`` elsewhere); ``pairs``:
    the :func:`twins` of ``t`` when the caller has them already."""
    n = len(t)
    name_twins, handle_twins = twins(t, burst_window) if pairs is None else pairs
    with np.errstate(invalid="ignore"):
        burst = values["ACCOUNT_CREATED_BURST"] >= min_accounts - 1
        twin_name, twin_handle = name_twins >= 1, handle_twins >= 1
    sign, (name_t, handle_t, default, empty, bought) = registration_sign(values, min_accounts=min_accounts)
    fired = (burst & (sign == 1)) | twin_name | twin_handle
    reasons: list[str | None] = [None] * n
    for i in np.flatnonzero(fired).tolist():
        facts = [
            f"created {_when(t.author_created[i])}, {int(values['ACCOUNT_CREATED_BURST'][i]):,} other accounts "
            f"within {_minutes(burst_window)}"
        ]
        if name_t[i]:
            facts.append(f"name '{t.author_name[i]}' shares its stem with {int(values['ACCOUNT_NAME_TEMPLATE'][i]):,} others")  # type: ignore[index]
        elif twin_name[i]:
            facts.append(f"name '{t.author_name[i]}' shares its stem with {_others(name_twins[i])} created within {_minutes(burst_window)} of it")  # type: ignore[index]
        if handle_t[i]:
            facts.append(f"handle '{t.authors[i]}' shares its stem with {int(values['ACCOUNT_HANDLE_TEMPLATE'][i]):,} others")
        elif twin_handle[i]:
            facts.append(f"handle '{t.authors[i]}' shares its stem with {_others(handle_twins[i])} created within {_minutes(burst_window)} of it")
        if default[i]:
            facts.append(f"default name '{t.author_name[i]}'")  # type: ignore[index]
        if empty[i]:
            bio = t.author_bio[i] if t.author_bio is not None else None
            facts.append("empty profile" if not bio or not bio.strip() else f"default profile '{bio}'")
        if bought[i]:
            facts.append(f"follows {int(t.following[i]):,}, followed by {int(t.followers[i]):,}")
        reasons[i] = f"{ACCOUNT_LABEL}: " + "; ".join(facts)
    return fired, reasons


def _others(count: float) -> str:
    return "1 other account" if count == 1 else f"{int(count):,} other accounts"


def registration_sign(
    values: Mapping[str, np.ndarray], *, min_accounts: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per account, the second sign of a registration tool beside a creation burst: 1 where
    its name or handle shares its stem with at least ``min_accounts - 1`` others, its name is
    a platform's default, its profile is empty or default, or it follows like a bought
    account; 0 where none holds; NaN where none of these fields is known. Also each sign
    alone (name, handle, default name, empty profile, bought follows)."""
    with np.errstate(invalid="ignore"):
        signs = (
            values["ACCOUNT_NAME_TEMPLATE"] >= min_accounts - 1,
            values["ACCOUNT_HANDLE_TEMPLATE"] >= min_accounts - 1,
            values["ACCOUNT_DEFAULT_NAME"] == 1,
            values["ACCOUNT_EMPTY_PROFILE"] == 1,
            values["ACCOUNT_BOUGHT_FOLLOW"] == 1,
        )
    keys = (
        "ACCOUNT_NAME_TEMPLATE",
        "ACCOUNT_HANDLE_TEMPLATE",
        "ACCOUNT_DEFAULT_NAME",
        "ACCOUNT_EMPTY_PROFILE",
        "ACCOUNT_BOUGHT_FOLLOW",
    )
    known = np.logical_or.reduce([~np.isnan(values[k]) for k in keys])
    any_sign = np.logical_or.reduce(signs)
    return np.where(any_sign, 1.0, np.where(known, 0.0, np.nan)), signs


@dataclass(frozen=True)
class AccountEvidence:
    """Per account of a feed, its own ``batch_accounts`` evidence, judged among all the feed's
    accounts: what a post's criteria quote of its account (``BATCH_ACCOUNTS_ACCOUNT_BURST``,
    ``BATCH_ACCOUNTS_ACCOUNT_SIGN``). Measured once (:meth:`measure`), by the batch detector
    over its batch and by the Spark engine on the driver, whose tasks see only part of the
    feed's accounts; looked up by author (:meth:`positions`).

    ``burst``: accounts created within the burst window of it, itself included (NaN: no
    creation time); ``sign``: :func:`registration_sign`; ``twin``: the most other accounts
    sharing its name's or its handle's stem created within the window (:func:`twins`; NaN:
    no creation time); ``reasons``: where the account rule
    holds (:func:`batch_accounts` with ``min_accounts``), what ``spamflood accounts`` says of
    it, ``None`` elsewhere.
    """

    authors: Sequence[str]
    burst: np.ndarray
    sign: np.ndarray
    reasons: Sequence[str | None]
    min_accounts: int
    twin: np.ndarray

    @classmethod
    def measure(cls, t: AccountTable, *, min_accounts: int, burst_window: float = BURST_WINDOW) -> AccountEvidence:
        """The evidence of every account of ``t`` among the others (one profile row each)."""
        stems = account_stems(t)  # read once for the features and the pairs
        values = account_columns(t, burst_window, stems)
        sign = registration_sign(values, min_accounts=min_accounts)[0]
        pairs = twins(t, burst_window, stems)
        reasons = batch_accounts(t, values, min_accounts=min_accounts, burst_window=burst_window, pairs=pairs)[1]
        twin = np.fmax(*pairs)
        return cls(t.authors, values["ACCOUNT_CREATED_BURST"] + 1.0, sign, reasons, min_accounts, twin)

    @classmethod
    def empty(cls, min_accounts: int) -> AccountEvidence:
        """No account measured: the feed has no creation times, every post's evidence is NaN."""
        return cls([], np.zeros(0), np.zeros(0), [], min_accounts, np.zeros(0))

    def __len__(self) -> int:
        return len(self.authors)

    def positions(self, authors: Sequence[str]) -> np.ndarray:
        """Where each of ``authors`` is among the measured accounts; -1 where it is not."""
        index = {author: k for k, author in enumerate(self.authors)}
        return np.fromiter((index.get(a, -1) for a in authors), dtype=np.int64, count=len(authors))


def post_labels(t: AccountTable) -> tuple[list[list[str]], list[list[str]]]:
    """Per account: the labels its posts got, most posts first, and one reason each."""
    n = len(t)
    if t.evidence is None:
        return [[] for _ in range(n)], [[] for _ in range(n)]
    labels: list[list[str]] = []
    reasons: list[list[str]] = []
    for i, found in enumerate(t.evidence):
        posts = int(t.posts[i]) if not math.isnan(t.posts[i]) else 0
        ordered = sorted(found.label_posts, key=lambda name: (-found.label_posts[name], name))
        labels.append(ordered)
        reasons.append(
            [
                f"{name} on {found.label_posts[name]:,} of its {posts:,} posts: {found.label_reason[name].removeprefix(name + ': ')}"
                for name in ordered
            ]
        )
    return labels, reasons


def score_reasons(
    t: AccountTable,
    values: Mapping[str, np.ndarray],
    rows: Sequence[int],
    raised: Mapping[str, np.ndarray],
    *,
    burst_window: float,
    most: int = 3,
) -> list[str]:
    """For the flagged accounts ``rows`` that list no label: ``score: raised by`` the groups
    (:data:`FEATURE_GROUPS`, :data:`POSTS_GROUP`) whose ``raised`` (how much each lifted the
    score, one value per row of ``rows``) is largest, up to ``most``, each quoted from the
    account. When no group lifted it alone, the one that weighed most among those with
    something known. ``values``: the account features (:meth:`AccountScorer.features`)."""
    out = []
    for j, i in enumerate(rows):
        ranked = sorted(raised, key=lambda group: -float(raised[group][j]))  # stable: ties keep group order
        said = {group: _facts(group, t, values, i, burst_window) for group in ranked}
        shown = [said[g] for g in ranked if float(raised[g][j]) > 0 and said[g]][:most]
        if not shown:
            shown = [said[g] for g in ranked if said[g]][:1]
        out.append("score: raised by " + "; ".join(shown) if shown else "score: nothing is known of this account but its id")  # type: ignore[arg-type]
    return out


def _facts(group: str, t: AccountTable, values: Mapping[str, np.ndarray], i: int, burst_window: float) -> str | None:
    """What account ``i`` shows for one group of features, quoted from its fields (``None``
    where it shows nothing: the fields are absent)."""
    if group == POSTS_GROUP:
        return _posts_facts(t, i)
    facts: list[str] = []
    if group == "follows":
        if not math.isnan(t.following[i]):
            facts.append(f"follows {int(t.following[i]):,}")
        if not math.isnan(t.followers[i]):
            facts.append(f"followed by {int(t.followers[i]):,}")
    elif group == "activity":
        created = t.author_created[i]
        since = "" if math.isnan(created) else datetime.fromtimestamp(created, tz=UTC).strftime("%Y-%m-%d")
        if not math.isnan(t.statuses[i]):
            facts.append(f"{int(t.statuses[i]):,} statuses")
            rate = values["ACCOUNT_STATUSES_PER_DAY"][i]
            if not math.isnan(rate):
                facts.append(f"{_rate(math.expm1(rate))} a day since {since}")
        elif since:
            facts.append(f"created {since}")
    elif group == "profile":
        bio = t.author_bio[i] if t.author_bio is not None else None
        empty = values["ACCOUNT_EMPTY_PROFILE"][i]  # NaN: the input has no bios
        if empty == 1:
            facts.append(f"default profile '{_short(bio)}'" if bio and bio.strip() else "empty profile")
        elif empty == 0 and bio:
            facts.append(f"bio '{_short(bio)}'")
    elif group == "names":
        name = t.author_name[i] if t.author_name is not None else None
        same_name, same_handle = values["ACCOUNT_NAME_TEMPLATE"][i], values["ACCOUNT_HANDLE_TEMPLATE"][i]
        if name is not None:
            if values["ACCOUNT_DEFAULT_NAME"][i] == 1:
                facts.append(f"default name '{name}'")
            elif same_name > 0:
                facts.append(f"name '{name}' shares its stem with {int(same_name):,} others")
            else:
                facts.append(f"name '{name}'")
        if same_handle > 0:
            facts.append(f"handle '{t.authors[i]}' shares its stem with {int(same_handle):,} others")
        elif name is None:
            facts.append(f"handle '{t.authors[i]}'")
    elif group == "burst":
        others = values["ACCOUNT_CREATED_BURST"][i]
        if not math.isnan(others):
            within = f"{int(others):,} other accounts" if others else "no other account"
            facts.append(f"created {_when(t.author_created[i])}, {within} within {_minutes(burst_window)}")
    else:
        raise ValueError(f"unknown group of account features {group!r}")
    return ", ".join(facts) or None


def _posts_facts(t: AccountTable, i: int) -> str | None:
    """The account's posts in a feed: their mean score, and the first one flagged without a label."""
    if t.evidence is None:
        return None
    found = t.evidence[i]
    posts = int(t.posts[i]) if not math.isnan(t.posts[i]) else 0
    said = f"its {posts:,} posts scoring {found.mean_score:.2f} on average"
    if found.score_posts:
        said += f", {found.score_posts:,} flagged without a label, the first {found.score_reason.removeprefix('score: ')}"  # type: ignore[union-attr]
    return said


def _rate(per_day: float) -> str:
    """A rate a day as people write it: ``0``, ``0.03``, ``2.5``, ``1,240``."""
    if per_day >= 10:
        return f"{per_day:,.0f}"
    if per_day >= 0.1:
        return f"{per_day:.1f}".removesuffix(".0")
    return f"{per_day:.1g}" if per_day >= 0.0005 else "0"


def _short(text: str, width: int = 40) -> str:
    """``text`` on one line, cut at ``width`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
