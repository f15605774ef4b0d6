"""What scoring accounts produced: one row per account, as columns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spamflood.accounts.table import AccountTable
from spamflood.io.readers import ReadStats
from spamflood.io.rows import Reject

__all__ = ["AccountResult"]


@dataclass(repr=False)
class AccountResult:
    """Per account: ``score`` (0..1), ``flagged``, ``labels`` (strongest first), ``reasons``
    and every ``ACCOUNT_*`` feature; and the input's rejected rows and counts."""

    table: AccountTable
    score: np.ndarray
    flagged: np.ndarray
    labels: list[list[str]]
    reasons: list[list[str]]
    features: dict[str, np.ndarray]
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    read: ReadStats = field(default_factory=ReadStats)

    @property
    def kind(self) -> str:
        """What the input was: ``"posts"`` (a feed) or ``"profiles"`` (one row per account)."""
        posts = self.table.evidence is not None or not np.isnan(self.table.posts).all()
        return "posts" if posts and len(self) else "profiles"

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return f"AccountResult(accounts={len(self)}, flagged={int(self.flagged.sum())}, rejects={len(self.rejects)})"

    def records(self, *, features: bool = False) -> list[dict[str, Any]]:
        """One dict per account: ``author``, ``score``, ``flagged``, ``labels``, ``reasons``
        (and with ``features`` every feature, ``None`` where absent)."""
        out = []
        names = list(self.features) if features else []
        for i, author in enumerate(self.table.authors):
            row: dict[str, Any] = {
                "author": author,
                "score": round(float(self.score[i]), 6),
                "flagged": bool(self.flagged[i]),
                "labels": self.labels[i],
                "reasons": self.reasons[i],
            }
            for name in names:
                value = float(self.features[name][i])
                row[name] = None if math.isnan(value) else value
            out.append(row)
        return out

    def summary(self) -> dict[str, Any]:
        """The run in counts."""
        return {
            "input": self.kind,
            "rows_read": self.rows_read,
            "accounts": len(self),
            "rejected": len(self.rejects),
            "flagged": int(self.flagged.sum()),
            "batch_accounts": sum("batch_accounts" in x for x in self.labels),
        }
