"""Write a synthetic feed to files: the feed, the per-post truth and the per-campaign truth."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from spamflood.io.atomic import atomic_outputs
from spamflood.synth.generator import generate
from spamflood.synth.params import SynthParams

__all__ = ["SynthSummary", "campaigns_path_for", "write"]

_CHUNK = 4096


@dataclass
class SynthSummary:
    """What a written feed holds.

    ``labels`` counts posts carrying each label; ``campaigns`` counts campaigns by kind (their
    primary label); ``organic_kinds`` counts organic posts by kind; ``evasion`` counts campaign
    posts by evasion level (``"0"`` .. ``"3"``).
    """

    posts: int = 0
    campaign_posts: int = 0
    organic_posts: int = 0
    reposts: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)
    organic_kinds: dict[str, int] = field(default_factory=dict)
    evasion: dict[str, int] = field(default_factory=dict)
    feed_path: str = ""
    truth_path: str = ""
    campaigns_path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def campaigns_path_for(truth_path: str | Path) -> Path:
    """``<truth stem>.campaigns.jsonl`` beside the truth file (``truth.jsonl`` -> ``truth.campaigns.jsonl``)."""
    truth_path = Path(truth_path)
    return truth_path.with_name(f"{truth_path.stem}.campaigns.jsonl")


def write(
    feed_path: str | Path,
    truth_path: str | Path,
    posts: int,
    seed: int = 0,
    *,
    zh_ratio: float = 0.5,
    start: str | date | datetime = "2026-01-20",
    days: int = 30,
    spam_ratio: float = 0.15,
    tz: str = "Asia/Shanghai",
    evasion: float = 0.5,
    campaigns_path: str | Path | None = None,
) -> SynthSummary:
    """Generate a feed (see :func:`~spamflood.synth.generate`) and write it as JSONL (UTF-8).

    ``feed_path`` gets one post per line in the canonical record, ``truth_path`` one truth
    record per post (same ids, same order), ``campaigns_path`` (default
    :func:`campaigns_path_for` ``truth_path``) one record per campaign. The same arguments write
    byte-identical files. Parameters are checked before any file is opened. The three files
    appear together once all are complete (:func:`~spamflood.io.atomic.atomic_outputs`); a
    failure raises :class:`~spamflood.errors.OutputError` and leaves the previous ones as they were.
    """
    SynthParams.check(posts, seed=seed, zh_ratio=zh_ratio, start=start, days=days, spam_ratio=spam_ratio, tz=tz, evasion=evasion)
    campaigns_path = Path(campaigns_path) if campaigns_path is not None else campaigns_path_for(truth_path)
    labels: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    campaigns: Counter[str] = Counter()
    summary = SynthSummary(feed_path=str(feed_path), truth_path=str(truth_path), campaigns_path=str(campaigns_path))
    dumps = orjson.dumps
    with atomic_outputs(feed_path, truth_path, campaigns_path) as (feed, truth, camp):

        def on_campaign(record: dict[str, Any]) -> None:
            campaigns[record["label"]] += 1
            camp.write(dumps(record) + b"\n")

        feed_lines: list[bytes] = []
        truth_lines: list[bytes] = []
        stream = generate(
            posts, seed=seed, zh_ratio=zh_ratio, start=start, days=days, spam_ratio=spam_ratio, tz=tz,
            evasion=evasion, on_campaign=on_campaign,
        )
        for post, label in stream:
            feed_lines.append(dumps(post))
            truth_lines.append(dumps(label))
            if label["campaign"] is None:
                kinds[label["organic_kind"]] += 1
            else:
                labels.update(label["labels"])
                levels[str(label["evasion"])] += 1
            if post["repost_of"] is not None:
                summary.reposts += 1
            if len(feed_lines) >= _CHUNK:
                feed.write(b"\n".join(feed_lines) + b"\n")
                truth.write(b"\n".join(truth_lines) + b"\n")
                feed_lines.clear()
                truth_lines.clear()
        if feed_lines:
            feed.write(b"\n".join(feed_lines) + b"\n")
            truth.write(b"\n".join(truth_lines) + b"\n")
    summary.organic_posts = sum(kinds.values())
    summary.campaign_posts = sum(levels.values())
    summary.posts = summary.organic_posts + summary.campaign_posts
    summary.labels = dict(sorted(labels.items()))
    summary.campaigns = dict(sorted(campaigns.items()))
    summary.organic_kinds = dict(sorted(kinds.items()))
    summary.evasion = dict(sorted(levels.items()))
    return summary
