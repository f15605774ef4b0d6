"""Synthetic flood data with ground truth: a bilingual feed of ordinary people and planted campaigns.

:func:`generate` streams ``(post, truth)`` pairs in time order in bounded memory (ten million
posts work); :func:`write` writes the feed, the per-post truth and the per-campaign truth as
JSONL and returns a :class:`SynthSummary`. Every label of DESIGN.md is planted as the article
describes it (:mod:`.campaigns`), next to organic users who are hard to tell apart
(:mod:`.organic`): festival greetings, disaster sympathy, product praise, quotes, viral news.
All text comes from ``spamflood/data/synth`` (:mod:`.bank`); festival dates from the
``holidays`` package (:mod:`.calendar`). The same seed gives byte-identical files.
"""

from __future__ import annotations

from spamflood.synth.bank import LABELS
from spamflood.synth.campaigns import KINDS
from spamflood.synth.generator import generate
from spamflood.synth.planner import KIND_SHARES
from spamflood.synth.writer import SynthSummary, campaigns_path_for, write

CAMPAIGN_KINDS: tuple[str, ...] = tuple(sorted(KINDS))
"""Kinds of campaign (each named by its primary label)."""

__all__ = [
    "CAMPAIGN_KINDS",
    "KIND_SHARES",
    "LABELS",
    "SynthSummary",
    "campaigns_path_for",
    "generate",
    "write",
]
