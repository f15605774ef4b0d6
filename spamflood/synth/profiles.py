"""Synthetic account profiles with ground truth: ordinary people and newsrooms and brands
against accounts registered in batches, as :mod:`spamflood.synth.accounts` makes them for
the synthetic feed.

The bundled account model is fitted on these (the real corpus in ``../shared/data`` may be
used for measuring but not shipped): label 1 for a batch-made account, 0 for the rest.
"""

from __future__ import annotations

import math

import numpy as np

from spamflood.accounts.table import AccountTable
from spamflood.synth.accounts import DAY, Account, AccountIds, AccountMaker, Population
from spamflood.synth.bank import load_bank
from spamflood.synth.rand import py_rng

__all__ = ["synthetic_profiles"]

_FIRST = 1_768_867_200  # 2026-01-20T00:00:00Z, the synthetic feed's default first day
_BATCH_STREAM = 40  # a random stream of its own (spamflood.synth.rand.Stream stops at 12)


def synthetic_profiles(seed: int = 7, *, people: int = 20_000, batches: int = 200) -> tuple[AccountTable, np.ndarray]:
    """``people`` ordinary accounts (plus the newsrooms and brands) and ``batches`` batches of
    3 to 60 accounts each, registered within the two years before the feed; and the labels
    (1: batch-made). The same seed gives the same table.

    >>> table, y = synthetic_profiles(1, people=50, batches=2)
    >>> len(table) == len(y), int(y.sum()) > 0
    (True, True)
    """
    bank = load_bank()
    ids = AccountIds(seed)
    population = Population(bank, seed, people, 0.5, _FIRST, 30, ids)
    maker = AccountMaker(bank, seed, _FIRST, ids)
    accounts: list[Account] = [population.person(k).account for k in range(people)]
    for lang in ("zh", "en"):
        accounts += [maker.media(j, lang) for j in range(len(bank.text[lang].media))]
        accounts += [maker.brand(brand, lang) for brand in bank.brands]
    y = [0] * len(accounts)
    r = py_rng(seed, _BATCH_STREAM)
    for _ in range(batches):
        count = int(math.exp(math.log(3) + r.random() * math.log(60 / 3)))  # 3 to 60, log-uniform
        made = _FIRST - int(r.random() * 730 * DAY)
        batch, _how = maker.batch(count, "zh" if r.random() < 0.5 else "en", made, r)
        accounts += batch
        y += [1] * len(batch)
    table = AccountTable.from_profiles(
        [a.id for a in accounts],
        author_name=[a.name for a in accounts],
        author_bio=[a.bio for a in accounts],
        author_created=[float(a.created) for a in accounts],
        followers=[float(a.followers) for a in accounts],
        following=[float(a.following) for a in accounts],
        statuses=[float(a.statuses) for a in accounts],
    )
    return table, np.asarray(y, dtype=np.int64)
