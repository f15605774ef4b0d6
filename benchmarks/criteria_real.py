"""How often each text label fires on real spam and real ham, and how fast the text families run.

Datasets (``../shared/data``, read by ``benchmarks/corpora.py``, skipped when absent): the UCI SMS
Spam Collection (English SMS), a 50k Chinese SMS spam corpus, Chinese QQ-group chat labelled
ad/chat, YouTube comment spam (2014 pilot sets), Instagram scam comments and Chinese app posts.
They are short messages, so only the text criteria apply; the figures say,
per dataset and label, the share of spam and of ham on which the label's interim rule fires,
and the share of spam caught by the union of the text labels (targets: every label on < 2% of
ham, the union on >= 70% of spam).

Speed: the text families over a corpus built from the same messages, in posts per second on
one core, with ``spamflood.normalize.normalize_many`` alone as the baseline measured in the same
run (the criteria need normalized text; the pipeline normalizes once for shingling and matching).

    python benchmarks/criteria_real.py [--speed-posts 200000] [--out benchmarks/results/criteria_real.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from corpora import DATA, NAMES, load  # noqa: E402  (after the path insert)

from spamflood.criteria import FEATURES, CriteriaFeatures, label_scores  # noqa: E402

TEXT_FAMILIES = tuple(dict.fromkeys(f.label for f in FEATURES.values() if f.kind == "text"))


def fire_rates(texts: list[str], is_spam: np.ndarray) -> dict[str, dict[str, float]]:
    est = CriteriaFeatures(families=list(TEXT_FAMILIES)).fit()
    values = est.transform(texts)
    scores = label_scores(values, list(est.get_feature_names_out()))
    out: dict[str, dict[str, float]] = {}
    union = np.zeros(len(texts), dtype=bool)
    for label in TEXT_FAMILIES:
        fired = scores[label] > 0
        union |= fired
        out[label] = {"spam": float(fired[is_spam].mean()), "ham": float(fired[~is_spam].mean())}
    out["union"] = {"spam": float(union[is_spam].mean()), "ham": float(union[~is_spam].mean())}
    return out


def speed(corpus: list[str], repeats: int = 3) -> dict[str, float]:
    """Posts per second of the text families on ``corpus`` (one core), against normalize alone."""
    from spamflood.normalize import normalize_many

    n_posts = len(corpus)
    est = CriteriaFeatures(families=list(TEXT_FAMILIES)).fit()
    pre = CriteriaFeatures(families=list(TEXT_FAMILIES), normalized=True).fit()
    est.transform(corpus[:1000])  # build the automaton and regexes outside the timing

    def best(fn, repeats: int = repeats) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    normalized = normalize_many(corpus)
    t_norm = best(lambda: normalize_many(corpus))
    t_features = best(lambda: pre.transform(normalized))
    t_total = best(lambda: est.transform(corpus))
    sample = normalized[: min(20_000, n_posts)]
    ctx = pre.context(sample)
    t_per_post = best(lambda: [ctx.scanner.matches(t) for t in sample], repeats=1) * n_posts / len(sample)
    chars = sum(map(len, corpus)) / n_posts
    return {
        "posts": n_posts,
        "mean_chars": chars,
        "normalize_posts_per_s": n_posts / t_norm,
        "features_posts_per_s": n_posts / t_features,
        "normalize_plus_features_posts_per_s": n_posts / t_total,
        "per_post_matching_posts_per_s": n_posts / t_per_post,
        "features_vs_normalize": t_features / t_norm,
        "batched_vs_per_post_speedup": t_per_post / t_features,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed-posts", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "criteria_real.json")
    args = parser.parse_args(argv)
    results: dict[str, object] = {"datasets": {}}
    all_texts: list[str] = []
    spam_total = caught_total = 0
    print(f"{'dataset':26} {'label':18} {'spam fires':>10} {'ham fires':>10}")
    for name in NAMES:
        corpus = load(name)
        if corpus is None:
            print(f"{name:26} (absent: {DATA / name})")
            continue
        texts, is_spam = corpus.texts, corpus.y == 1
        all_texts.extend(texts)
        rates = fire_rates(texts, is_spam)
        results["datasets"][name] = {"posts": len(texts), "spam": int(is_spam.sum()), "rates": rates}  # type: ignore[index]
        for label, r in rates.items():
            flag = "  <-- ham >= 2%" if label != "union" and r["ham"] >= 0.02 else ""
            print(f"{name:26} {label:18} {r['spam']:10.1%} {r['ham']:10.1%}{flag}")
        spam_total += int(is_spam.sum())
        caught_total += round(rates["union"]["spam"] * int(is_spam.sum()))
    if spam_total:
        results["union_spam_all"] = caught_total / spam_total
        print(f"{'all datasets':26} {'union':18} {caught_total / spam_total:10.1%}")
    corpora: dict[str, list[str]] = {}
    if all_texts:
        rng = np.random.default_rng(7)
        corpora["real messages, resampled"] = [all_texts[i] for i in rng.integers(0, len(all_texts), args.speed_posts)]
    from _corpus import mixed_posts

    corpora["mixed zh/en posts (benchmarks/_corpus.py)"] = mixed_posts(args.speed_posts, seed=7)
    results["speed"] = {}
    for label, corpus in corpora.items():
        s = speed(corpus)
        results["speed"][label] = s  # type: ignore[index]
        print(
            f"\nspeed on {s['posts']:,} {label} (~{s['mean_chars']:.0f} chars), one core:\n"
            f"  normalize alone (baseline)   {s['normalize_posts_per_s']:>10,.0f} posts/s\n"
            f"  text families on normalized  {s['features_posts_per_s']:>10,.0f} posts/s "
            f"({s['features_vs_normalize']:.2f}x the normalize time)\n"
            f"  normalize + text families    {s['normalize_plus_features_posts_per_s']:>10,.0f} posts/s\n"
            f"  per-post matching (no batch) {s['per_post_matching_posts_per_s']:>10,.0f} posts/s "
            f"(batched is {s['batched_vs_per_post_speedup']:.1f}x faster)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nsaved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
