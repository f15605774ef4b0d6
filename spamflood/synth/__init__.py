"""Synthetic flood data with ground truth: ``generate`` (a stream) and ``write`` (files).

Campaigns for every label of DESIGN.md are planted in a bilingual organic feed; see
:mod:`spamflood.synth.generator` for how, and :mod:`spamflood.synth.mutate` for the evasion
levels. The same seed gives byte-identical files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import orjson

    def _line(record: dict[str, Any]) -> bytes:
        return orjson.dumps(record) + b"\n"

except ImportError:  # pragma: no cover
    import json

    def _line(record: dict[str, Any]) -> bytes:
        return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


from spamflood.synth.generator import CAMPAIGN_KINDS, generate

__all__ = ["CAMPAIGN_KINDS", "SynthSummary", "generate", "write"]


@dataclass
class SynthSummary:
    """What a generated feed holds: posts, campaign posts per label, campaigns per kind."""

    posts: int = 0
    campaign_posts: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)
    organic_kinds: dict[str, int] = field(default_factory=dict)


def write(
    feed_path: str | Path,
    truth_path: str | Path,
    posts: int,
    seed: int = 0,
    *,
    campaigns_path: str | Path | None = None,
    **options: Any,
) -> SynthSummary:
    """Write the feed (JSONL), the per-post truth and the per-campaign truth; return counts.

    ``campaigns_path`` defaults to ``<truth stem>.campaigns.jsonl`` beside the truth file.
    Other keyword arguments go to :func:`generate`.
    """
    truth_path = Path(truth_path)
    if campaigns_path is None:
        campaigns_path = truth_path.with_name(truth_path.name.removesuffix(".jsonl") + ".campaigns.jsonl")
    labels: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    summary = SynthSummary()
    campaigns: list[dict[str, Any]] = []
    with open(feed_path, "wb") as feed, open(truth_path, "wb") as truth:
        buffer_f: list[bytes] = []
        buffer_t: list[bytes] = []
        for post, label in generate(posts, seed=seed, campaigns_out=campaigns, **options):
            buffer_f.append(_line(post))
            buffer_t.append(_line(label))
            summary.posts += 1
            if label["campaign"]:
                summary.campaign_posts += 1
                labels.update(label["labels"])
            else:
                kinds[label["organic_kind"]] += 1
            if len(buffer_f) >= 10_000:
                feed.write(b"".join(buffer_f))
                truth.write(b"".join(buffer_t))
                buffer_f, buffer_t = [], []
        feed.write(b"".join(buffer_f))
        truth.write(b"".join(buffer_t))
    with open(campaigns_path, "wb") as handle:
        for record in campaigns:
            handle.write(_line(record))
    summary.labels = dict(sorted(labels.items()))
    summary.campaigns = dict(sorted(Counter(c["label"] for c in campaigns).items()))
    summary.organic_kinds = dict(sorted(kinds.items()))
    return summary
