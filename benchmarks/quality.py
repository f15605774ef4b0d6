"""Detection quality on a generated feed with ground truth.

Prints per-label precision, recall and F1 (a post's predicted labels against its true
labels) in two views: on flagged posts (a label counts only where the post is flagged and lists
it: what a moderator acts on, the main view) and listed on any post (the evidence a post shows,
flagged or not). Then cluster quality against the campaigns (adjusted Rand index, pair precision and
recall; organic posts count as singletons), recall of flagged campaign posts at each evasion
level, the share of organic hard negatives flagged, by kind, and for ``coordinated`` the
account-level precision and recall against the coordinated campaigns' accounts and the share of
organic trend accounts (the day's trending hashtag) flagged. Writes JSON too.

    python benchmarks/quality.py [--posts 100000] [--seed 101] [--jobs 2] [--rules | --model FILE] [--out FILE]

By default the bundled model scores (``Detector.load()``; it was trained on seed 7, so the
default seed is held out); ``--rules`` measures the interim rule score instead, ``--model`` a
model file of your own (trusted: a joblib file can run code), to set a candidate beside the
bundled one on the same code and feed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import pair_confusion_matrix

from spamflood import Detector, synth

RESULTS = Path(__file__).resolve().parent / "results"
LABELS = ["mass_share", "repetition", "batch_accounts", "auto_posting", "soft_ad",
          "holiday_template", "hotspot_hijack", "microbusiness", "chicken_soup", "coordinated"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=101, help="a seed not used for anything else")
    parser.add_argument("--jobs", type=int, default=2)
    scorer = parser.add_mutually_exclusive_group()
    scorer.add_argument("--rules", action="store_true", help="the interim rule score instead of the bundled model")
    scorer.add_argument("--model", type=Path, help="a model file you made (spamflood train) instead of the bundled one")
    parser.add_argument("--out", type=Path, help="the JSON results (default: results/quality.json, quality_rules.json with --rules)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        feed, truth_path = Path(tmp) / "feed.jsonl", Path(tmp) / "truth.jsonl"
        synth.write(feed, truth_path, posts=args.posts, seed=args.seed)
        truth = [json.loads(line) for line in truth_path.read_text().splitlines()]
        campaigns = [json.loads(line) for line in synth.campaigns_path_for(truth_path).read_text().splitlines()]
        started = time.perf_counter()
        if args.rules:
            detector = Detector(n_jobs=args.jobs, tz="Asia/Shanghai")
        else:
            detector = Detector.load(args.model, trusted=args.model is not None, n_jobs=args.jobs)
        result = detector.score(str(feed))
        seconds = time.perf_counter() - started
    assert [t["id"] for t in truth] == result.batch.ids

    print(f"{args.posts:,} posts (seed {args.seed}), scored in {seconds:.1f} s")
    per_label = label_quality(truth, result.labels, result.flagged)
    print_label_quality(per_label)

    y_any = np.array([bool(t["campaign"]) for t in truth])
    flagged = result.flagged
    overall = {
        "precision": float((y_any & flagged).sum() / max(flagged.sum(), 1)),
        "recall": float((y_any & flagged).sum() / max(y_any.sum(), 1)),
    }
    print(f"flagged vs any campaign: precision {overall['precision']:.3f} recall {overall['recall']:.3f}")

    n = len(truth)
    true_cluster = np.array([hash_id(t["campaign"]) if t["campaign"] else -(i + 1) for i, t in enumerate(truth)])
    pred = result.clusters.labels
    pred_cluster = np.where(pred >= 0, pred, -np.arange(1, n + 1))
    ari = adjusted_rand_score(true_cluster, pred_cluster)
    (_tn, fp), (fn, tp) = pair_confusion_matrix(true_cluster, pred_cluster)
    pair_precision = tp / (tp + fp) if tp + fp else 0.0
    pair_recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"clusters vs campaigns: ARI {ari:.3f}, pair precision {pair_precision:.3f}, pair recall {pair_recall:.3f}")
    print("  (campaigns that share one template, and organic posts that repeat a phrase, count against pair precision)")

    by_level = {}
    for level in range(4):
        idx = [i for i, t in enumerate(truth) if t["campaign"] and t["evasion"] == level]
        if idx:
            by_level[level] = float(flagged[idx].mean())
            copies = [i for i in idx if "mass_share" in truth[i]["labels"]]
            in_cluster = float((pred[copies] >= 0).mean()) if copies else float("nan")
            print(f"evasion level {level}: {len(idx):6,} campaign posts, flagged {by_level[level]:.3f}; "
                  f"flood copies in a cluster {in_cluster:.3f}")
    negatives = Counter(t["organic_kind"] for t in truth if not t["campaign"])
    false_pos = Counter(t["organic_kind"] for i, t in enumerate(truth) if not t["campaign"] and flagged[i])
    hard = {k: false_pos[k] / negatives[k] for k in sorted(negatives)}
    print("organic posts flagged, by kind: " + ", ".join(f"{k} {v:.3f}" for k, v in hard.items()))
    accounts = coordinated_accounts(truth, campaigns, result.batch.authors, result.labels, flagged)
    out = args.out or RESULTS / ("quality_rules.json" if args.rules else "quality.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "posts": args.posts, "seed": args.seed, "seconds": seconds, "per_label": per_label, "overall": overall,
        "clusters": {"ari": ari, "pair_precision": pair_precision, "pair_recall": pair_recall},
        "recall_by_evasion": by_level, "organic_flagged_by_kind": hard, "coordinated_accounts": accounts,
    }, indent=2))


def coordinated_accounts(
    truth: list[dict[str, Any]], campaigns: list[dict[str, Any]], authors: list[str], labels: list[list[str]], flagged: np.ndarray
) -> dict[str, float]:
    """Account-level figures for ``coordinated``: an account is predicted coordinated when a
    flagged post of its lists the label; the true ones are the accounts of the coordinated
    campaigns. Precision, recall, and the share of organic trend accounts (people who used the
    day's trending hashtag and are in no campaign) predicted coordinated. Prints them."""
    true = {a for c in campaigns if c["label"] == "coordinated" for a in c["accounts"]}
    in_campaign = {a for c in campaigns for a in c["accounts"]}
    predicted = {authors[i] for i, ls in enumerate(labels) if "coordinated" in ls and flagged[i]}
    trend = {authors[i] for i, t in enumerate(truth) if t["organic_kind"] == "hashtag_trend"} - in_campaign
    tp = len(true & predicted)
    out = {
        "true_accounts": len(true), "predicted_accounts": len(predicted),
        "precision": tp / len(predicted) if predicted else 0.0, "recall": tp / len(true) if true else 0.0,
        "trend_accounts": len(trend), "trend_accounts_flagged": len(trend & predicted) / len(trend) if trend else 0.0,
        "campaigns": sum(c["label"] == "coordinated" for c in campaigns),
    }
    print(f"coordinated accounts ({out['campaigns']} campaigns): precision {out['precision']:.3f} recall {out['recall']:.3f} "
          f"({out['true_accounts']:,} true, {out['predicted_accounts']:,} predicted); organic trend accounts flagged "
          f"{out['trend_accounts_flagged']:.4f} of {out['trend_accounts']:,}")
    return out


VIEWS = {
    "flagged": "on flagged posts (the post is flagged and lists the label)",
    "listed": "listed on any post (flagged or not)",
}


def label_quality(truth: list[dict[str, Any]], labels: list[list[str]], flagged: np.ndarray) -> dict[str, dict[str, dict[str, float]]]:
    """Per view (:data:`VIEWS`) and label: precision, recall, F1 and counts of each post's
    predicted labels against its true labels."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for view in VIEWS:
        out[view] = {}
        for label in LABELS:
            y = np.array([label in t["labels"] for t in truth])
            p = np.array([label in ls for ls in labels])
            if view == "flagged":
                p &= np.asarray(flagged, dtype=bool)
            tp = int((y & p).sum())
            precision = tp / p.sum() if p.sum() else 0.0
            recall = tp / y.sum() if y.sum() else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out[view][label] = {"precision": precision, "recall": recall, "f1": f1, "true": int(y.sum()), "predicted": int(p.sum())}
    return out


def print_label_quality(per_label: dict[str, dict[str, dict[str, float]]]) -> None:
    """The tables of :func:`label_quality`, one per view."""
    for view, title in VIEWS.items():
        print(f"labels {title}:")
        print(f"  {'label':18} {'precision':>9} {'recall':>7} {'F1':>6} {'true':>7} {'predicted':>9}")
        for label, m in per_label[view].items():
            print(f"  {label:18} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:6.3f} {int(m['true']):7,} {int(m['predicted']):9,}")


def hash_id(campaign: str) -> int:
    return int(campaign.lstrip("c"))


if __name__ == "__main__":
    main()
