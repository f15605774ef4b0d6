"""Seeded random streams: one per (seed, purpose, index), never global state.

Each part of the feed (an hour's posts, a day's campaign plans, one person's profile) draws
from its own generator, keyed by the feed seed, a purpose number and an index. So a part's
randomness does not depend on how much the others drew, and the same seed always gives the
same feed. ``random.Random`` serves scalar draws in loops (fast per call), a NumPy
``Generator(PCG64)`` serves arrays.
"""

from __future__ import annotations

import random

import numpy as np

__all__ = ["Stream", "np_rng", "py_rng"]


class Stream:
    """Purpose numbers: each names one independent family of random streams."""

    IDS = 1
    PERSON = 2
    BRAND = 3
    MEDIA = 4
    WORLD = 5
    VOLUME = 6
    PLAN = 7
    HOUR = 8
    HOUR_NP = 9
    PLAN_NP = 10
    ROUTINE = 11
    PERSON_NP = 12


def py_rng(seed: int, stream: int, index: int = 0) -> random.Random:
    """A ``random.Random`` for (``seed``, ``stream``, ``index``); distinct keys, distinct streams."""
    return random.Random((seed << 80) | (stream << 64) | index)


def np_rng(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    """A NumPy ``Generator(PCG64)`` for (``seed``, ``stream``, ``index``)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, index])))
