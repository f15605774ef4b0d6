"""benchmarks/train_bundled.py: the training rows it takes from its synthetic feeds (the fit itself is a benchmark)."""

from __future__ import annotations

import sys

import numpy as np

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import train_bundled

from spamflood import Detector


def test_a_sampled_feed_keeps_the_features_its_whole_feed_gives_each_post() -> None:
    """A dense feed's rows are read in the whole feed (its size is its density), then sampled:
    each kept post has the features, label and labels it has among all of them."""
    detector = Detector(n_jobs=1)
    whole = train_bundled.synthetic(detector, 5, 1_500)
    part = train_bundled.synthetic(detector, 5, 1_500, rows=400)
    assert len(part.y) == 400 and len(set(part.ids)) == 400
    at = {post: i for i, post in enumerate(whole.ids)}
    index = np.array([at[post] for post in part.ids])
    assert np.all(np.diff(index) > 0)  # feed order
    for name, column in part.features.items():
        assert np.array_equal(column, whole.features[name][index], equal_nan=True), name
    assert np.array_equal(part.y, whole.y[index])
    assert all(np.array_equal(part.labels[k], whole.labels[k][index]) for k in whole.labels)
    again = train_bundled.synthetic(detector, 5, 1_500, rows=400)
    assert again.ids == part.ids  # the same rows each run: the bundled file rebuilds byte for byte
    assert train_bundled.synthetic(detector, 5, 1_500, rows=2_000).ids == whole.ids  # more rows than posts: all


def test_the_mixture_reaches_the_benchmark_feeds_density_without_their_seeds() -> None:
    """The densest training feed is as dense as the 1M benchmark feed, and no held-out seed
    (1: the 200k and 1M feeds, 11: the CLI tests' 4k feed, 101-103: quality.py's) is fitted on."""
    plan = [(seed, posts) for seed, posts in train_bundled.SYNTHETIC] + [(s, p) for s, p, _ in train_bundled.DENSE]
    assert max(posts for _, posts in plan) >= 1_000_000
    seeds = [seed for seed, _ in plan]
    assert len(set(seeds)) == len(seeds) and not set(seeds) & {1, 11, 101, 102, 103}
    assert all(rows <= posts for _, posts, rows in train_bundled.DENSE)
