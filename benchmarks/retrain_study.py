"""Why a retrain of the bundled model scores the held-out synthetic feeds worse: one change a row.

Generates the rebuild's training feed (seed 7, 100,000 posts, 30 days) and the held-out feeds
(seed 101, 50,000 posts; seed 11, 4,000 posts, the feed ``tests/test_model_cli.py`` checks),
computes their criteria features once, and fits the overall score's head
(:class:`~spamflood.model.FloodModel` without label heads: the flag is the overall score >= 0.5)
in each variant. Prints flagged precision and recall and ROC-AUC on each held-out feed; the
table and its reading are in ``models/README.md``. The bundled model is scored on the same
features as the baseline. (Its own features, those of the 2026-11-23 code, come from that
commit's tree: ``git archive d0e5ddd``.)

    OMP_NUM_THREADS=1 python benchmarks/retrain_study.py [--posts 100000] [--quick]

``--quick`` leaves out the density rows (three more feeds and fits). About 2 CPU-minutes in all.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from spamflood import Detector, synth  # noqa: E402
from spamflood.criteria.registry import FEATURES  # noqa: E402
from spamflood.model import FloodModel, labelled_features, load_model, read_truth  # noqa: E402
from spamflood.model import estimator as estimator_module  # noqa: E402

Data = tuple[dict[str, np.ndarray], np.ndarray]
HELD_OUT = {"seed 101, 50k": (50_000, 101), "seed 11, 4k": (4_000, 11)}


def features(folder: Path, posts: int, seed: int, *, keep: float = 1.0) -> Data:
    """Criteria features and spam targets of a synthetic feed, as ``spamflood train`` reads
    them; ``keep`` < 1 scores a random share of the feed's posts (a sparser feed)."""
    feed, truth = folder / f"feed-{posts}-{seed}.jsonl", folder / f"truth-{posts}-{seed}.jsonl"
    if not feed.exists():
        synth.write(feed, truth, posts=posts, seed=seed)
    source: Any = str(feed)
    if keep < 1.0:
        lines = feed.read_text(encoding="utf-8").splitlines()
        chosen = np.random.default_rng(round(keep * 1000)).random(len(lines)) < keep
        source = [json.loads(line) for line, kept in zip(lines, chosen) if kept]
    data = labelled_features(Detector(), source, label_field="labels", truth=read_truth(truth, "labels"))
    return data.features, data.y


@contextmanager
def unconstrained() -> Iterator[None]:
    """The registry as ``FloodModel`` sees it, without monotone constraints (to measure them)."""
    saved = estimator_module.FEATURES
    estimator_module.FEATURES = {name: replace(f, monotone=0) for name, f in FEATURES.items()}
    try:
        yield
    finally:
        estimator_module.FEATURES = saved


def figures(model: Any, held: dict[str, Data]) -> str:
    cells = []
    for X, y in held.values():
        score = model.predict_proba(X)[:, 1]
        flagged, spam = score >= 0.5, y.astype(bool)
        precision = (flagged & spam).sum() / max(flagged.sum(), 1)
        cells.append(f"{precision:.3f} / {(flagged & spam).sum() / spam.sum():.3f} ({roc_auc_score(spam, score):.4f})")
    return " | ".join(cells)


def fit(train: Data, names: Sequence[str] | None, *, monotone: bool) -> FloodModel:
    X, y = train
    model = FloodModel(features=names, context_dropout=0.3)
    if monotone:
        return model.fit(X, y)
    with unconstrained():
        return model.fit(X, y)


def union(parts: Sequence[Data]) -> Data:
    return {k: np.concatenate([X[k] for X, _ in parts]) for k in parts[0][0]}, np.concatenate([y for _, y in parts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000, help="training feed size (seed 7)")
    parser.add_argument("--quick", action="store_true", help="leave out the density rows")
    args = parser.parse_args()
    bundled = load_model()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        held = {name: features(folder, posts, seed) for name, (posts, seed) in HELD_OUT.items()}
        train = features(folder, args.posts, 7)
        print(f"| model | {' | '.join(held)} |\n|---|---|---|")
        print(f"| the bundled file | {figures(bundled.model, held)} |")
        old = list(bundled.manifest["features"])
        print(f"| its settings and feature list, fitted on today's features | {figures(fit(train, old, monotone=False), held)} |")
        print(f"| + monotone constraints | {figures(fit(train, old, monotone=True), held)} |")
        print(f"| + today's feature list (the retrain) | {figures(fit(train, None, monotone=True), held)} |")
        print(f"| today's feature list, no constraints | {figures(fit(train, None, monotone=False), held)} |")
        if args.quick:
            return
        for posts in (args.posts * 2 // 5, args.posts * 2):
            print(f"| the retrain on {posts:,} posts (seed 7) | {figures(fit(features(folder, posts, 7), None, monotone=True), held)} |")
        thinned = union([train, *(features(folder, args.posts, 7, keep=k) for k in (0.4, 0.1))])
        print(f"| the retrain on the feed and copies thinned to 40 % and 10 % | {figures(fit(thinned, None, monotone=True), held)} |")


if __name__ == "__main__":
    main()
