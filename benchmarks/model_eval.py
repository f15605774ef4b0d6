"""How good the trained score is, and what it costs, in one run.

1. Synthetic floods, held-out seed: the bundled model (trained on seed 7) on a feed generated
   with another seed: precision/recall/F1/ROC-AUC/PR-AUC of the score, and per-label P/R/F1 of
   the labels it outputs (target: ``mass_share`` F1 >= 0.95). The interim rule score on the
   same feed is the baseline.
2. Real messages (``../shared/data``, skipped when absent): zero-shot ROC-AUC of the bundled
   model (targets >= 0.90 on the English and Chinese SMS sets), and 5-fold cross-validation of a
   model trained on each set's own labels, with and without the hashed character n-gram text
   model (target >= 0.97 each).
3. Speed: ``Detector.score`` of the same feed with the interim rules and with the bundled model
   (criteria on in both), posts/s and the ratio (target: the model costs at most 20 %).

    python benchmarks/model_eval.py [--posts 50000] [--seed 101] [--speed-posts 200000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from corpora import DATA, labelled, load  # noqa: E402

from spamflood import Detector  # noqa: E402
from spamflood.model import (  # noqa: E402
    FloodModel,
    binary_report,
    cross_validate,
    label_report,
    labelled_features,
    read_truth,
)
from spamflood.synth import write as synth_write  # noqa: E402

REAL = ("sms_spam_uci", "cn_sms_spam_50k", "cn_qq_group_ads", "youtube_spam_2014_pilot")
"""The corpora cross-validated here (benchmarks/real_data.py measures all of them, across corpora)."""


def synthetic(posts: int, seed: int, jobs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        feed, truth = Path(tmp) / "feed.jsonl", Path(tmp) / "truth.jsonl"
        synth_write(feed, truth, posts=posts, seed=seed)
        labels = read_truth(truth, "labels")
        out: dict[str, Any] = {"posts": posts, "seed": seed}
        for name, detector in (("rules", Detector(n_jobs=jobs)), ("bundled_model", Detector.load(n_jobs=jobs))):
            data = labelled_features(detector, str(feed), label_field="labels", truth=labels)
            report = binary_report(data.y, data.score, precision_target=0.95)
            report["labels"] = label_report(data)
            out[name] = report
    return out


def real(folds: int, jobs: int) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    bundled = Detector.load(n_jobs=jobs)
    out: dict[str, Any] = {}
    for name in REAL:
        corpus = load(name)
        if corpus is None:
            out[name] = {"skipped": f"{DATA / name} is absent"}
            continue
        data = labelled(bundled, corpus)
        entry: dict[str, Any] = {
            "messages": len(data.y),
            "spam": int(data.y.sum()),
            "rejected": len(data.rejects),
            "zero_shot_roc_auc": float(roc_auc_score(data.y, data.score)),
            "zero_shot_pr_auc": binary_report(data.y, data.score)["pr_auc"],
        }
        for text in (False, True):
            started = time.perf_counter()
            report = cross_validate(FloodModel(text=text), data, folds=folds)
            entry[f"cv_{'text' if text else 'features'}"] = {
                "roc_auc": report["roc_auc"],
                "pr_auc": report["pr_auc"],
                "f1": report["f1"],
                "fold_roc_auc": report["fold_roc_auc"],
                "seconds": time.perf_counter() - started,
            }
        out[name] = entry
        print(f"  {name}: zero-shot {entry['zero_shot_roc_auc']:.4f}, CV features {entry['cv_features']['roc_auc']:.4f}, "
              f"CV +text {entry['cv_text']['roc_auc']:.4f}", flush=True)
    return out


def speed(posts: int, jobs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "feed.jsonl"
        synth_write(feed, Path(tmp) / "truth.jsonl", posts=posts, seed=5)
        out: dict[str, Any] = {"posts": posts, "jobs": jobs}
        Detector.load()  # load once outside the timing (the file's hash check reads it)
        for name, make in (("rules", lambda: Detector(n_jobs=jobs)), ("bundled_model", lambda: Detector.load(n_jobs=jobs))):
            detector = make()
            started = time.perf_counter()
            result = detector.score(str(feed))
            seconds = time.perf_counter() - started
            out[name] = {"seconds": seconds, "posts_per_s": posts / seconds, "flagged": int(result.flagged.sum())}
        out["model_cost"] = out["bundled_model"]["seconds"] / out["rules"]["seconds"] - 1.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=50_000, help="held-out synthetic posts")
    parser.add_argument("--seed", type=int, default=101, help="held-out synthetic seed (the bundled model saw 7)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--speed-posts", type=int, default=200_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=str(HERE / "results" / "model_eval.json"))
    args = parser.parse_args()

    results: dict[str, Any] = {}
    print(f"synthetic, held-out seed {args.seed}, {args.posts:,} posts", flush=True)
    results["synthetic"] = syn = synthetic(args.posts, args.seed, args.jobs)
    for name in ("rules", "bundled_model"):
        r = syn[name]
        print(f"  {name:14s} P {r['precision']:.3f} R {r['recall']:.3f} F1 {r['f1']:.3f} ROC-AUC {r['roc_auc']:.4f} "
              f"PR-AUC {r['pr_auc']:.4f}", flush=True)
        print("    labels F1: " + ", ".join(f"{k} {v['f1']:.3f}" for k, v in r["labels"].items()), flush=True)
    print("real messages: zero-shot (bundled) and 5-fold CV", flush=True)
    results["real"] = real(args.folds, args.jobs)
    print(f"speed, {args.speed_posts:,} posts, {args.jobs} jobs", flush=True)
    results["speed"] = sp = speed(args.speed_posts, args.jobs)
    print(f"  rules {sp['rules']['posts_per_s']:,.0f} posts/s, bundled model {sp['bundled_model']['posts_per_s']:,.0f} "
          f"posts/s: the model costs {100 * sp['model_cost']:+.1f} %", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
