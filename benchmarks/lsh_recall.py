"""LSH recall and precision against brute-force exact Jaccard on a sample of a generated feed.

Exact Jaccard of every pair is computed from the shingle sets (a sparse incidence matrix times
its transpose, in row blocks: every pair, no index). Recall: share of pairs with exact Jaccard
>= threshold that end up in one cluster (after components) and share found as direct verified
candidates; precision: share of clustered pairs whose exact Jaccard is >= threshold - 0.1
(pairs joined through a chain may sit a little under the threshold, as components allow).
Targets (issue 2): recall >= 0.98 and precision >= 0.98 at 0.7 on 20k posts.

    python benchmarks/lsh_recall.py [--posts 20000] [--threshold 0.7]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy import sparse

from spamflood.cluster import ClusterFinder
from spamflood.minhash import MinHasher
from spamflood.normalize import shingle_many

RESULTS = Path(__file__).resolve().parent / "results"


def exact_pairs(texts: list[str], ngram: int, threshold: float) -> set[tuple[int, int]]:
    """All pairs (i < j) with exact shingle-set Jaccard >= threshold."""
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, text in enumerate(texts):
        grams = {text[k : k + ngram] for k in range(max(1, len(text) - ngram + 1))} if text else set()
        for g in grams:
            rows.append(i)
            cols.append(vocab.setdefault(g, len(vocab)))
    x = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(texts), len(vocab)))
    sizes = np.asarray(x.sum(axis=1)).ravel()
    xt = x.T.tocsr()
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(texts), 2000):
        block = (x[start : start + 2000] @ xt).tocoo()
        i = block.row + start
        j = block.col
        keep = i < j
        i, j, inter = i[keep], j[keep], block.data[keep]
        jac = inter / (sizes[i] + sizes[j] - inter)
        for a, b in zip(i[jac >= threshold], j[jac >= threshold]):
            pairs.add((int(a), int(b)))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    from spamflood import synth

    texts = [post["text"] for post, _ in synth.generate(args.posts, seed=args.seed)]
    shingled = shingle_many(texts)
    hasher = MinHasher()
    started = time.perf_counter()
    truth = exact_pairs(shingled, hasher.ngram, args.threshold)
    brute_s = time.perf_counter() - started

    started = time.perf_counter()
    sig = hasher.signatures(shingled)
    finder = ClusterFinder(threshold=args.threshold)
    labels = finder.find(sig, np.array([len(s) > 0 for s in shingled]))
    lsh_s = time.perf_counter() - started

    found = sum(1 for a, b in truth if labels[a] >= 0 and labels[a] == labels[b])
    recall = found / len(truth) if truth else 1.0
    # Precision over clustered pairs: exact Jaccard of every pair inside each cluster.
    clustered_pairs = 0
    good_pairs = 0
    strict_good = 0
    for c in np.unique(labels[labels >= 0]):
        members = np.flatnonzero(labels == c)
        sets = [{shingled[m][k : k + 5] for k in range(max(1, len(shingled[m]) - 4))} for m in members]
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                inter = len(sets[x] & sets[y])
                jac = inter / (len(sets[x]) + len(sets[y]) - inter)
                clustered_pairs += 1
                good_pairs += jac >= args.threshold - 0.1
                strict_good += jac >= args.threshold
    precision = good_pairs / clustered_pairs if clustered_pairs else 1.0
    strict_precision = strict_good / clustered_pairs if clustered_pairs else 1.0
    print(f"{args.posts:,} posts, threshold {args.threshold}, LSH {finder.bands} bands x {finder.rows} rows")
    print(f"  exact pairs >= threshold (brute force, {brute_s:.1f} s): {len(truth):,}")
    print(f"  recall after components:   {recall:.4f}   target >= 0.98  {'PASS' if recall >= 0.98 else 'FAIL'}")
    print(
        f"  precision (pairs in a cluster with J >= {args.threshold - 0.1:.1f}): {precision:.4f}   "
        f"target >= 0.98  {'PASS' if precision >= 0.98 else 'FAIL'}"
    )
    print(f"  precision (J >= {args.threshold}): {strict_precision:.4f}")
    print(f"  signatures + LSH + verification: {lsh_s:.2f} s  (brute force {brute_s:.1f} s)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lsh_recall.json").write_text(
        json.dumps(
            {
                "posts": args.posts,
                "threshold": args.threshold,
                "bands": finder.bands,
                "rows": finder.rows,
                "true_pairs": len(truth),
                "recall": recall,
                "precision": precision,
                "strict_precision": strict_precision,
                "clustered_pairs": clustered_pairs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
