"""Account labels: each one listed if and only if its rule holds, with the facts as its reason.

``batch_accounts`` (the account scope of the cluster-level family): the account was created
within ``burst_window`` of at least ``min_accounts - 1`` other accounts of the input *and* it
carries a second sign of a registration tool: a name or handle whose stem (before its
trailing digits) other accounts share, a platform's default name, an empty or default
profile, or the follow pattern of bought accounts. A burst alone is not enough: in an export
of millions, some ordinary accounts are created in the same minutes by chance.

From a feed of posts, each label its posts got is listed on the account too, with how many
of its posts carried it and the first such post's reason: ``mass_share``, ``repetition``, and
whatever else is decided per post (coordination on shared objects included) reach the
account here, in :func:`post_labels`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np

from spamflood.accounts.table import AccountTable

__all__ = ["ACCOUNT_LABEL", "batch_accounts", "post_labels"]

ACCOUNT_LABEL = "batch_accounts"
"""The label accounts get for being made in a batch."""


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds < 7200 else f"{seconds / 3600:g} h"


def batch_accounts(
    t: AccountTable, values: Mapping[str, np.ndarray], *, min_accounts: int, burst_window: float
) -> tuple[np.ndarray, list[str | None]]:
    """Where ``batch_accounts`` fires, and its reason there (``None`` elsewhere)."""
    n = len(t)
    with np.errstate(invalid="ignore"):
        burst = values["ACCOUNT_CREATED_BURST"] >= min_accounts - 1
        name_t = values["ACCOUNT_NAME_TEMPLATE"] >= min_accounts - 1
        handle_t = values["ACCOUNT_HANDLE_TEMPLATE"] >= min_accounts - 1
        default = values["ACCOUNT_DEFAULT_NAME"] == 1
        empty = values["ACCOUNT_EMPTY_PROFILE"] == 1
        bought = values["ACCOUNT_BOUGHT_FOLLOW"] == 1
    fired = burst & (name_t | handle_t | default | empty | bought)
    reasons: list[str | None] = [None] * n
    for i in np.flatnonzero(fired).tolist():
        facts = [
            f"created {_when(t.author_created[i])}, {int(values['ACCOUNT_CREATED_BURST'][i]):,} other accounts "
            f"within {_minutes(burst_window)}"
        ]
        if name_t[i]:
            facts.append(f"name '{t.author_name[i]}' shares its stem with {int(values['ACCOUNT_NAME_TEMPLATE'][i]):,} others")  # type: ignore[index]
        if handle_t[i]:
            facts.append(f"handle '{t.authors[i]}' shares its stem with {int(values['ACCOUNT_HANDLE_TEMPLATE'][i]):,} others")
        if default[i]:
            facts.append(f"default name '{t.author_name[i]}'")  # type: ignore[index]
        if empty[i]:
            bio = t.author_bio[i] if t.author_bio is not None else None
            facts.append("empty profile" if not bio or not bio.strip() else f"default profile '{bio}'")
        if bought[i]:
            facts.append(f"follows {int(t.following[i]):,}, followed by {int(t.followers[i]):,}")
        reasons[i] = f"{ACCOUNT_LABEL}: " + "; ".join(facts)
    return fired, reasons


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
