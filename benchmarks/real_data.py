"""How spamflood's score does on real corpora nobody on the team wrote, against a plain baseline.

For every labelled corpus of ``../shared/data`` (see ``benchmarks/corpora.py``):

* **leave one corpus out**: a model fitted on all the other corpora plus a synthetic feed
  (``spamflood.synth``) scores the corpus left out; spamflood's models weigh every training
  corpus and the feed to one spam share and one total weight (``--spam-share``, 0.15:
  ``corpora.share_weights``) and calibrate with Platt (``--calibration``, sigmoid: isotonic steps
  learned on the training corpora tie a corpus left out), see ``models/README.md``;
* **within the corpus**: 5-fold cross-validation, grouped so that no copy (identical text, one
  Instagram post, one app-post template) is on both sides;
* **zero-shot**: the bundled model (``Detector.load()``) as shipped, or ``--model FILE`` (a
  candidate of your own, e.g. a retrain to set beside the bundled file); ``--zero-shot`` runs
  this part alone (with the calibration of the model on the real corpora).

Models, fitted on the same rows in the same run: ``spamflood.model.FloodModel`` over the named
criteria features, without and (``--text``) with its hashed character n-gram text model; that
text model alone (``spamflood.model.text``, no features: what the text part brings by itself);
and the plain baseline, TF-IDF character 1-4-grams (``char_wb``) + logistic regression. FloodModel
is given the training rows' copy groups (``fit(..., groups=)``; a group never spans two corpora;
the synthetic feed's copies are its identical texts), so the text model's out-of-fold probability,
the ``TEXT_MODEL`` feature the heads learn from, comes from a text model that never saw a copy of
the row. ``--ablate-oof`` adds the text-enabled model with ungrouped (stratified only) folds, as
before ``groups`` existed, and with whole corpora as the groups. Per corpus and
model: ROC-AUC, PR-AUC, precision and recall at the default threshold (0.5), the share of ham
flagged, the expected calibration error; per corpus, the share of ham on which each label fires
(labels are the rules' evidence, the same whatever the model).

Calibration of the bundled model: reliability table and ECE on synthetic feeds of 2k, 20k and
200k posts (held-out seeds 101-103) and on each real corpus.

    OMP_NUM_THREADS=1 python benchmarks/real_data.py [--quick] [--text auto|on|off] [--ablate-oof] [--max-rows N] [--zero-shot] [--model FILE]
        [--models text,spamflood,spamflood+text,baseline] [--spam-share 0.15] [--calibration sigmoid|auto|isotonic]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from corpora import DATA, NAMES, Corpus, copy_groups, labelled, load, share_weights  # noqa: E402

from spamflood import Detector  # noqa: E402
from spamflood.model import FloodModel, LabelledFeatures, binary_report, read_truth, reliability  # noqa: E402
from spamflood.model import labelled_features as _labelled_features  # noqa: E402
from spamflood.model.text import matching_forms, text_pipeline  # noqa: E402
from spamflood.synth import write as synth_write  # noqa: E402

ABLATION = ("spamflood+text ungrouped", "spamflood+text by corpus")
"""Models of ``--ablate-oof``: fitted leaving a corpus out only (within one corpus "by corpus" means nothing)."""
THRESHOLD = 0.5
TRAIN_SEED = 7  # the synthetic feed joined to every training set (the bundled model's seed)
CALIBRATION_SEEDS = (101, 102, 103)  # held out: never trained on


def baseline(seed: int) -> Any:
    """The plain baseline: TF-IDF of character 1-4-grams within word boundaries + logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2),
        LogisticRegression(max_iter=1000, solver="liblinear", random_state=seed),
    )


def _models(text: bool, seed: int, ablate_oof: bool = False, calibration: str = "auto") -> dict[str, Callable[[], Any]]:
    models: dict[str, Callable[[], Any]] = {}
    flood = {"context_dropout": 0.3, "calibration": calibration, "random_state": seed}
    if text:
        models["text"] = lambda: text_pipeline(seed)
    models["spamflood"] = lambda: FloodModel(**flood)
    if text:
        models["spamflood+text"] = lambda: FloodModel(text=True, **flood)
        models["spamflood+text stacked"] = lambda: FloodModel(text=True, text_join="stack", **flood)
    if text and ablate_oof:
        models["spamflood+text ungrouped"] = lambda: FloodModel(text=True, text_join="stack", **flood)
        models["spamflood+text by corpus"] = lambda: FloodModel(text=True, text_join="stack", **flood)
    models["baseline"] = lambda: baseline(seed)
    return models


def _fit_score(
    name: str,
    make: Callable[[], Any],
    train: LabelledFeatures,
    test: LabelledFeatures,
    groups: np.ndarray,
    corpora: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Fit model ``name`` on ``train`` (``groups``: its rows' copy groups, ``corpora``: their
    corpora, ``weights``: their weights, for spamflood's models; the baseline stays plain) and
    score ``test``."""
    model = make()
    if name.endswith("by corpus"):
        groups = groups if corpora is None else corpora
    if name == "baseline":
        return model.fit(train.texts, train.y).predict_proba(test.texts)[:, 1]
    if name == "text":
        params = {} if weights is None else {"logistic__sample_weight": weights}
        return model.fit(matching_forms(train.texts), train.y, **params).predict_proba(matching_forms(test.texts))[:, 1]
    # spamflood's models: the score `spamflood score --model` gives (the decision's, which adds
    # the strength of listed evidence the fitted model does not weigh)
    if name.endswith("ungrouped"):
        return test.decided_score(model.fit(train.frame(), train.y, sample_weight=weights))
    return test.decided_score(model.fit(train.frame(), train.y, groups=groups, sample_weight=weights))


def figures(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """What each table cell reads: ranking, flags at the default threshold, calibration."""
    report = binary_report(y, score, threshold=THRESHOLD)
    ham = y == 0
    return {
        "roc_auc": report["roc_auc"],
        "pr_auc": report["pr_auc"],
        "precision": report["precision"],
        "recall": report["recall"],
        "ham_flagged": float((score[ham] >= THRESHOLD).mean()) if ham.any() else None,
        "ece": reliability(y, score)["ece"],
    }


def concat(parts: Sequence[LabelledFeatures]) -> LabelledFeatures:
    """Rows of several scored corpora as one training set (features, texts and targets only)."""
    keys = list(parts[0].features)
    return LabelledFeatures(
        features={k: np.concatenate([p.features[k] for p in parts]) for k in keys},
        texts=[t for p in parts for t in p.texts],
        y=np.concatenate([p.y for p in parts]),
        labels={},
        ids=[i for p in parts for i in p.ids],
    )


def label_rates(data: LabelledFeatures) -> dict[str, dict[str, float]]:
    """Per label that fires anywhere (and ``any``): the share of ham and of spam it fires on."""
    fired: dict[str, np.ndarray] = {}
    for i, labels in enumerate(data.post_labels):
        for label in labels:
            fired.setdefault(label, np.zeros(len(data.y), dtype=bool))[i] = True
    fired["any"] = np.fromiter((bool(ls) for ls in data.post_labels), dtype=bool, count=len(data.y))
    ham, spam = data.y == 0, data.y == 1
    return {k: {"ham": float(v[ham].mean()), "spam": float(v[spam].mean())} for k, v in sorted(fired.items())}


def leave_one_out(
    scored: dict[str, LabelledFeatures],
    groups: dict[str, np.ndarray],
    synthetic: LabelledFeatures,
    models: dict[str, Callable[[], Any]],
    spam_share: float = 0.0,
) -> dict[str, Any]:
    """Per corpus: every model fitted on the other corpora plus ``synthetic``, scored on it.
    ``groups``: each corpus's copy groups (numbered within the corpus); ``spam_share``: when
    above 0, spamflood's models weigh each training corpus and the feed to that spam share
    (:func:`corpora.share_weights`)."""
    out: dict[str, Any] = {}
    for held, test in scored.items():
        names = [name for name in scored if name != held]
        parts = [scored[name] for name in names] + [synthetic]
        train = concat(parts)
        corpus_of_row = np.concatenate([np.full(len(p.y), k) for k, p in enumerate(parts)])
        own = [groups[name] for name in names] + [copy_groups(synthetic.texts)]
        offsets = np.cumsum([0] + [int(g.max()) + 1 for g in own[:-1]])
        copy_of_row = np.concatenate([g + offset for g, offset in zip(own, offsets, strict=True)])
        weights = share_weights(train.y, corpus_of_row, spam_share) if spam_share else None
        out[held] = {"train_posts": len(train.y), "train_spam": int(train.y.sum())}
        for name, make in models.items():
            started = time.process_time()
            score = _fit_score(name, make, train, test, copy_of_row, corpus_of_row, weights)
            out[held][name] = {**figures(test.y, score), "cpu_seconds": time.process_time() - started}
        print(f"  leave out {held:24s} " + "  ".join(f"{m} {out[held][m]['roc_auc']:.4f}" for m in models), flush=True)
    return out


def within(corpus: Corpus, data: LabelledFeatures, models: dict[str, Callable[[], Any]], folds: int, seed: int) -> dict[str, Any]:
    """Grouped, stratified k-fold inside one corpus: pooled out-of-fold figures per model."""
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(np.zeros(len(data.y)), data.y, corpus.groups))
    out: dict[str, Any] = {"folds": folds, "grouping": corpus.grouping}
    for name, make in models.items():
        started = time.process_time()
        score = np.zeros(len(data.y))
        for train, test in splits:
            score[test] = _fit_score(name, make, data.take(train), data.take(test), corpus.groups[train])
        out[name] = {**figures(data.y, score), "cpu_seconds": time.process_time() - started}
    return out


def synthetic_feed(detector: Detector, posts: int, seed: int) -> LabelledFeatures:
    with tempfile.TemporaryDirectory() as tmp:
        feed, truth = Path(tmp) / "feed.jsonl", Path(tmp) / "truth.jsonl"
        synth_write(feed, truth, posts=posts, seed=seed)
        return _labelled_features(detector, str(feed), label_field="labels", truth=read_truth(truth, "labels"))


def calibration(detector: Detector, sizes: Sequence[int], scored: dict[str, LabelledFeatures]) -> dict[str, Any]:
    """The bundled model's reliability table and ECE per synthetic feed size and real corpus."""
    out: dict[str, Any] = {}
    for posts, seed in zip(sizes, CALIBRATION_SEEDS, strict=False):
        data = synthetic_feed(detector, posts, seed)
        out[f"synthetic {posts:,} (seed {seed})"] = reliability(data.y, data.score)
    for name, data in scored.items():
        out[name] = reliability(data.y, data.score)
    return out


# ---------------------------------------------------------------------------------- printing

MODEL_NAMES = {
    "bundled": "bundled, zero-shot",
    "text": "text model alone",
    "spamflood": "spamflood (features)",
    "spamflood+text": "spamflood + text model",
    "spamflood+text stacked": "spamflood + text, stacked",
    "spamflood+text ungrouped": "spamflood + text, ungrouped folds",
    "spamflood+text by corpus": "spamflood + text, folds by corpus",
    "baseline": "baseline tf-idf + LR",
}


def _f(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}%" if pct else f"{value:.3f}"


def table(results: dict[str, Any]) -> str:
    """The results as a Markdown table (what the READMEs show)."""
    head = (
        "| corpus | model | LOCO ROC-AUC | LOCO PR-AUC | P@0.5 | R@0.5 | ham flagged | ECE | 5-fold ROC-AUC | 5-fold PR-AUC | 5-fold ham flagged |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    lines = [head]
    for name, entry in results["corpora"].items():
        what = f"{name} ({entry['posts']:,}, {entry['spam']:,} spam)"
        for model, title in MODEL_NAMES.items():
            loco = entry["zero_shot"] if model == "bundled" else entry.get("leave_one_out", {}).get(model)
            cv = entry.get("within", {}).get(model)
            if loco is None:
                continue
            cells = [_f(loco["roc_auc"]), _f(loco["pr_auc"]), _f(loco["precision"]), _f(loco["recall"]), _f(loco["ham_flagged"], True), _f(loco["ece"])]
            cells += [_f(cv["roc_auc"]), _f(cv["pr_auc"]), _f(cv["ham_flagged"], True)] if cv else ["-", "-", "-"]
            lines.append(f"| {what} | {title} | " + " | ".join(cells) + " |")
            what = ""
    return "\n".join(lines)


def label_table(results: dict[str, Any]) -> str:
    lines = ["| corpus | labels firing on ham (share of ham; of spam) |", "| --- | --- |"]
    for name, entry in results["corpora"].items():
        rates = entry["label_rates"]
        cells = ", ".join(f"{k} {100 * v['ham']:.1f}% ({100 * v['spam']:.0f}%)" for k, v in rates.items() if k != "any")
        lines.append(f"| {name} | any {100 * rates['any']['ham']:.1f}% ({100 * rates['any']['spam']:.0f}%); {cells or 'none'} |")
    return "\n".join(lines)


def calibration_table(results: dict[str, Any]) -> str:
    cal = results["calibration"]
    bins = next(iter(cal.values()))["bins"]
    head = "| feed | posts | ECE | " + " | ".join(f"{b['low']:.1f}-{b['high']:.1f}" for b in bins) + " |"
    lines = [head, "| --- | ---: | ---: | " + " | ".join("---:" for _ in bins) + " |"]
    for name, r in cal.items():
        cells = [f"{b['spam_share']:.2f} ({b['posts']:,})" if b["posts"] else "-" for b in r["bins"]]
        lines.append(f"| {name} | {r['posts']:,} | {r['ece']:.3f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run: 1,500 rows a corpus, 4,000 synthetic posts, feeds of 2k and 20k")
    parser.add_argument(
        "--max-rows", type=int, default=10_000, help="at most this many rows of each corpus (stratified sample; 0: all; default 10,000)"
    )
    parser.add_argument("--synthetic-posts", type=int, default=10_000, help="synthetic posts joined to each training set")
    parser.add_argument(
        "--calibration-posts", help="sizes of the held-out synthetic feeds (default 2000,20000,200000; none with --zero-shot unless given)"
    )
    parser.add_argument("--text", choices=("auto", "on", "off"), default="auto", help="also fit FloodModel's text model (auto: where FloodModel has one)")
    parser.add_argument("--models", help="fit only these models, comma-separated (e.g. spamflood+text,baseline); default all")
    parser.add_argument("--ablate-oof", action="store_true", help="also fit the text-enabled model with ungrouped out-of-fold folds")
    parser.add_argument(
        "--spam-share", type=float, default=0.15,
        help="leaving a corpus out, spamflood's models weigh every training corpus and the feed to this spam share (0: unweighted)",
    )
    parser.add_argument(
        "--calibration", choices=("auto", "isotonic", "sigmoid"), default="sigmoid",
        help="FloodModel's calibration (default sigmoid: isotonic steps, learned on the training corpora, tie and misplace the posts of a corpus left out)",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-within", action="store_true", help="skip the within-corpus cross-validation")
    parser.add_argument("--no-loco", action="store_true", help="skip leave-one-corpus-out (e.g. to run it in another process)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="detector processes for feature extraction")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_data.json")
    parser.add_argument(
        "--zero-shot", action="store_true", help="only the zero-shot figures and the calibration (real corpora; --calibration-posts): no fitting"
    )
    parser.add_argument("--model", type=Path, help="a model file you made (spamflood train) instead of the bundled one")
    args = parser.parse_args(argv)
    if args.calibration_posts is None:
        args.calibration_posts = "" if args.zero_shot else "2000,20000,200000"
    if args.quick:
        args.max_rows = min(args.max_rows or 1500, 1500)
        args.synthetic_posts = min(args.synthetic_posts, 4000)
        args.calibration_posts = "2000,20000"
    sizes = [int(s) for s in args.calibration_posts.split(",") if s]
    has_text = "text" in FloodModel().get_params()
    if args.text == "on" and not has_text:
        parser.error("--text on: this FloodModel has no text model")
    models = _models(args.text == "on" or (args.text == "auto" and has_text), args.seed, args.ablate_oof, args.calibration)
    if args.models:
        unknown = sorted(set(args.models.split(",")) - set(models))
        if unknown:
            parser.error(f"--models: {', '.join(unknown)} not among {', '.join(models)}")
        models = {name: make for name, make in models.items() if name in args.models.split(",")}

    wall, cpu = time.perf_counter(), time.process_time()
    detector = Detector.load(args.model, trusted=args.model is not None, n_jobs=args.jobs)
    corpora: dict[str, Corpus] = {}
    for name in NAMES:
        corpus = load(name, args.data)
        if corpus is None:
            print(f"{name}: absent ({args.data / name}), left out", flush=True)
            continue
        corpora[name] = corpus.sample(args.max_rows, args.seed) if args.max_rows else corpus
    if len(corpora) < 2:
        print(f"error: leave-one-corpus-out needs at least two corpora in {args.data}", file=sys.stderr)
        return 1
    model = args.model or "the bundled model"
    print(f"scoring {len(corpora)} corpora and {0 if args.zero_shot else args.synthetic_posts:,} synthetic posts (seed {TRAIN_SEED}) with {model}", flush=True)
    scored = {name: labelled(detector, corpus) for name, corpus in corpora.items()}

    results: dict[str, Any] = {
        "settings": {
            "max_rows": args.max_rows, "synthetic_posts": args.synthetic_posts, "synthetic_seed": TRAIN_SEED,
            "folds": args.folds, "seed": args.seed, "spam_share": args.spam_share, "calibration": args.calibration, "threshold": THRESHOLD, "models": list(models),
            "baseline": "TfidfVectorizer(analyzer='char_wb', ngram_range=(1, 4), sublinear_tf=True, min_df=2) + LogisticRegression(solver='liblinear')",
            "command": "OMP_NUM_THREADS=1 python benchmarks/real_data.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "model": str(args.model) if args.model else "bundled",
        },
        "corpora": {},
    }
    for name, data in scored.items():
        results["corpora"][name] = {
            "posts": len(data.y), "spam": int(data.y.sum()), "language": corpora[name].language,
            "licence": corpora[name].licence, "grouping": corpora[name].grouping,
            "zero_shot": figures(data.y, data.score), "label_rates": label_rates(data),
        }
    if not (args.zero_shot or args.no_loco):
        print("leave one corpus out (train: the other corpora + synthetic)", flush=True)
        synthetic = synthetic_feed(detector, args.synthetic_posts, TRAIN_SEED)
        groups = {name: corpora[name].groups for name in scored}
        for name, entry in leave_one_out(scored, groups, synthetic, models, args.spam_share).items():
            results["corpora"][name]["leave_one_out"] = entry
    if not (args.no_within or args.zero_shot):
        print(f"{args.folds}-fold within each corpus (grouped)", flush=True)
        for name, data in scored.items():
            entry = within(corpora[name], data, {k: v for k, v in models.items() if k not in ABLATION}, args.folds, args.seed)
            results["corpora"][name]["within"] = entry
            print(f"  {name:24s} " + "  ".join(f"{m} {entry[m]['roc_auc']:.4f}" for m in models if m in entry), flush=True)
    print(f"calibration of {model}", flush=True)
    results["calibration"] = calibration(detector, sizes, scored)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the detector's worker processes
    results["run"] = {
        "wall_seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
        "worker_cpu_seconds": children.ru_utime + children.ru_stime,
        "load_average_1min_at_end": os.getloadavg()[0], "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }

    print("\n" + table(results) + "\n\n" + label_table(results) + "\n\nreliability (spam share (posts) per score bin):\n" + calibration_table(results))
    run = results["run"]
    print(
        f"\n{run['cpu_seconds']:.0f} CPU s in this process (fitting, scoring the folds), {run['worker_cpu_seconds']:.0f} CPU s "
        f"in the detector's workers (features), {run['wall_seconds']:.0f} s wall (load average {run['load_average_1min_at_end']:.1f})"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
