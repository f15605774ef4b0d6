"""The bundled model, from synthetic feeds of mixed size and density plus the real corpora whose
licence allows it, by one command that rebuilds it byte for byte.

    OMP_NUM_THREADS=1 python benchmarks/train_bundled.py --loco -o models/spamflood-default.joblib

The model reads the named features and the text (a hashed character n-gram part, blended in
log-odds: :class:`~spamflood.model.FloodModel`, ``text=True``); ``--no-text`` fits the features
alone. ``models/README.md`` has its figures beside the files it replaced; the default output is
under ``build/``, so a trial run does not overwrite the bundled file.

Why a mixture: ``spamflood synth`` spreads a feed over 30 days, so its size is its density. A
model fitted on one dense feed learns that a lone link post is an ad (in a dense feed organic
links sit in news clusters), and flags the lone news shares of a small export; one fitted on a
sparse feed misses floods in a large one (``models/README.md``). Training on feeds of 4k, 20k
and 50k posts shows it both, and feeds of 200k and 1M posts (:data:`DENSE`) the organic crowds
of dense ones.

Why these corpora: only those whose licence allows shipping a model fitted on them
(:data:`BUNDLED_CORPORA`); the others (``cn_sms_spam_50k`` and ``youtube_spam_2014_pilot``, no
licence; ``cresci2017_accounts``, research use) are for measuring only. Each corpus is read by
``benchmarks/corpora.py`` through spamflood's reader with the options a user gives ``spamflood
train`` (``corpora.READINGS``, shown in models/README.md) and scored as ``spamflood train --map
author=,time= --label-field label`` scores an export (``corpora.labelled``): text only, its
context features missing, as the context-dropout copies are.

Label heads: a synthetic post trains them with its true labels; a real spam post with the labels
the rules list on it (the corpora say spam or not, not which kind); real ham with none.

Bytes: HistGradientBoosting sums its histograms in an order that depends on the OpenMP thread
count, so the fit runs on one thread (``threadpoolctl``) whatever ``OMP_NUM_THREADS`` says;
features do not depend on ``--jobs``. ``--loco`` also fits the spam head once per bundled
corpus left out and records how it scores that corpus (the manifest's cross-corpus figures).
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from corpora import DATA, labelled, load  # noqa: E402
from real_data import baseline, figures  # noqa: E402

from spamflood import Detector  # noqa: E402
from spamflood.model import FloodModel, LabelledFeatures, read_truth, save_model  # noqa: E402
from spamflood.model import labelled_features as _labelled_features  # noqa: E402
from spamflood.synth import write as synth_write  # noqa: E402

SYNTHETIC: tuple[tuple[int, int], ...] = (
    (7, 50_000),
    (10, 50_000),
    (8, 20_000),
    (9, 20_000),
    *((seed, 4_000) for seed in (12, 13, 14, 15, 16, 17, 18, 19)),
)
"""(seed, posts) of each synthetic feed. Held out, never here: 1 (``benchmarks/end_to_end.py``'s
200k and 1M feeds), 11 (the 4k feed of ``tests/test_model_cli.py``), 101-103
(``benchmarks/quality.py``, the calibration feeds)."""

DENSE: tuple[tuple[int, int, int], ...] = ((20, 200_000, 50_000), (21, 1_000_000, 50_000))
"""(seed, posts, rows) of each dense synthetic feed, up to the density of the 1M benchmark feed:
its features read on all ``posts`` (a feed's size is its density), ``rows`` of its posts (a
seeded sample) kept as training rows, so each costs the fit what a 50k feed does. Why: on a feed
four times as dense as the 50k ones, a festival's greetings ("新年快乐", "every restaurant is
booked tonight") and a disaster's sympathy are near-copies from 20-38 accounts within an hour,
where no organic post of a 50k feed reaches 14, and the crowds grow with the density; a model
that never saw such a crowd organic reads it by the flood features alone (monotone: more
accounts, more flood). The features-only retrain without these feeds flagged 7.8 % of a 200k
feed's festival greetings and 13.9 % of a 500k feed's (``models/README.md``, "The features head
on dense feeds")."""

BUNDLED_CORPORA: dict[str, tuple[str, ...]] = {
    "sms_spam_uci": ("sms_spam_uci/SMSSpamCollection",),
    "cn_qq_group_ads": ("cn_qq_group_ads/mc_qq_group.txt",),
    "ig_scam_comments": ("ig_scam_comments/comments_extracted.json",),
    "cn_app_post_spam": ("cn_app_post_spam/postlog/postspam.log.seg", "cn_app_post_spam/postlog/postpass.log.seg"),
}
"""Corpus -> the files it is read from (relative to ``../shared/data``)."""

LICENCES = {
    "sms_spam_uci": "free, no limitations but copyright, no warranty, no liability; cite the paper (its readme, section 4)",
    "cn_qq_group_ads": "MIT (LICENSE, Copyright (c) 2024 落叶)",
    "ig_scam_comments": "MIT (LICENSE, Copyright (c) 2023 Stefan Erben)",
    "cn_app_post_spam": "MIT (LICENSE, Copyright (c) 2017 Hong Chen)",
}

SPAM_SHARE = 0.15
"""At most this share of a corpus's rows is spam (the synthetic feeds' share): the spam of a
corpus above it is sampled down (seeded). The corpora are text only, like the context-dropout
copies, and their spam is over-represented (Instagram 33 %, app posts 50 %, against 15 % in a
feed): kept whole, they teach that a text-only post with nothing to say is as likely spam as
not, and a corpus left out gets 7-12 % of its ham flagged."""

LABEL_HEADS = (
    "mass_share", "repetition", "batch_accounts", "auto_posting", "soft_ad",
    "holiday_template", "hotspot_hijack", "microbusiness", "chicken_soup",
)
"""The label heads fitted (today's file's): the newer families (``coordinated``,
``fan_farming``) add their rule strength instead, and a head more costs every post scored."""


def model(seed: int = 0, text: bool = True) -> FloodModel:
    """The bundled model's settings (those of ``spamflood train --text on``: the named features
    and the hashed character n-gram text part, blended; ``text=False``: the features alone)."""
    return FloodModel(text=text, context_dropout=0.3, random_state=seed)


def synthetic(detector: Detector, seed: int, posts: int, rows: int | None = None) -> LabelledFeatures:
    """The labelled features of the synthetic feed (``seed``, ``posts``), read on the whole feed;
    with ``rows``, that many of its posts (drawn by ``seed``, kept in feed order)."""
    with tempfile.TemporaryDirectory() as tmp:
        feed, truth = Path(tmp) / "feed.jsonl", Path(tmp) / "truth.jsonl"
        synth_write(feed, truth, posts=posts, seed=seed)
        part = _labelled_features(detector, str(feed), label_field="labels", truth=read_truth(truth, "labels"))
    if rows is None or rows >= len(part.y):
        return part
    return part.take(np.sort(np.random.default_rng(seed).choice(len(part.y), size=rows, replace=False)))


def real(detector: Detector, name: str, data: Path) -> tuple[LabelledFeatures, int, int]:
    """The corpus ``name`` as training rows (spam sampled down to :data:`SPAM_SHARE`), with
    its rows and spam in the file."""
    corpus = load(name, data)
    if corpus is None:
        raise SystemExit(f"error: {data / name} is absent; the bundled model is trained on it")
    part = labelled(detector, corpus)
    spam, ham = np.flatnonzero(part.y == 1), np.flatnonzero(part.y == 0)
    most = int(SPAM_SHARE / (1 - SPAM_SHARE) * len(ham))
    if len(spam) > most:
        rng = np.random.default_rng(0)
        part = part.take(np.sort(np.concatenate([ham, rng.permutation(spam)[:most]])))
    # The rules' labels stand for the kind of a real spam post; ham shows none.
    part.labels = {
        label: np.fromiter((y == 1 and label in ls for y, ls in zip(part.y, part.post_labels, strict=True)), dtype=np.int64, count=len(part.y))
        for label in LABEL_HEADS
    }
    return part, len(corpus), int(corpus.y.sum())


def join(parts: list[LabelledFeatures]) -> LabelledFeatures:
    """The rows of several feeds and corpora as one training set (each scored on its own)."""
    keys = list(parts[0].features)
    labels = [k for k in LABEL_HEADS if any(k in p.labels for p in parts)]
    return LabelledFeatures(
        features={k: np.concatenate([p.features[k] for p in parts]) for k in keys},
        texts=[t for p in parts for t in p.texts],
        y=np.concatenate([p.y for p in parts]),
        labels={k: np.concatenate([p.labels.get(k, np.zeros(len(p.y), dtype=np.int64)) for p in parts]) for k in labels},
        ids=[f"{n}:{i}" for n, p in enumerate(parts) for i in p.ids],
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("build/train_bundled/spamflood-default.joblib"))
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--jobs", type=int, default=2, help="detector processes for the features (the bytes do not depend on it)")
    parser.add_argument("--loco", action="store_true", help="also record leave-one-corpus-out figures for each bundled corpus")
    parser.add_argument(
        "--no-text", dest="text", action="store_false",
        help="the named features only, without the text part (the files bundled before 2026-12-06's text part)",
    )
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    started = time.process_time()
    detector = Detector(n_jobs=args.jobs)
    feeds, corpora, sizes = [], {}, {}
    plan = [(seed, posts, None) for seed, posts in SYNTHETIC] + list(DENSE)
    for seed, posts, rows in plan:
        feeds.append(synthetic(detector, seed, posts, rows))
        print(f"synthetic seed {seed}: {posts:,} posts, {len(feeds[-1].y):,} rows, {int(feeds[-1].y.sum()):,} spam", flush=True)
    for name in BUNDLED_CORPORA:
        corpora[name], *sizes[name] = real(detector, name, args.data)
        print(f"{name}: {len(corpora[name].y):,} rows, {int(corpora[name].y.sum()):,} spam", flush=True)
    data = join(feeds + list(corpora.values()))
    features_cpu = time.process_time() - started

    cross: dict[str, Any] = {}
    with threadpool_limits(1):
        if args.loco:
            for held, test in corpora.items():
                train = join(feeds + [d for n, d in corpora.items() if n != held])
                score = model(text=args.text).fit(train.frame(), train.y).predict_proba(test.frame())[:, 1]
                plain = baseline(0).fit(train.texts, train.y).predict_proba(test.texts)[:, 1]
                cross[held] = {**figures(test.y, score), "baseline": figures(test.y, plain)}
                print(
                    f"leave out {held}: ROC-AUC {cross[held]['roc_auc']:.4f} (baseline {cross[held]['baseline']['roc_auc']:.4f}), "
                    f"ham flagged {100 * cross[held]['ham_flagged']:.1f}%",
                    flush=True,
                )
        final = model(text=args.text).fit(data.frame(), data.y, labels=data.labels)

    training = {
        "command": "python benchmarks/train_bundled.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "threads": "one OpenMP thread for every fit (threadpoolctl): HistGradientBoosting's bytes depend on the thread count",
        "synthetic": [{"seed": s, "posts": p, "rows": len(f.y), "spam": int(f.y.sum())} for (s, p, _), f in zip(plan, feeds, strict=True)],
        "corpora": [
            {
                "name": name,
                "files": [{"path": rel, "sha256": sha256(args.data / rel)} for rel in BUNDLED_CORPORA[name]],
                "rows_in_file": sizes[name][0],
                "spam_in_file": sizes[name][1],
                "rows": len(part.y),
                "spam": int(part.y.sum()),
                "sampled": f"all ham; spam sampled down to {SPAM_SHARE:.0%} of the rows (seed 0)" if sizes[name][1] > part.y.sum() else "all rows",
                "licence": LICENCES[name],
                "read_as": "spamflood train --map author=,time= --label-field label (benchmarks/corpora.py)",
            }
            for name, part in corpora.items()
        ],
        "measuring_only": {
            "cn_sms_spam_50k": "no licence stated",
            "youtube_spam_2014_pilot": "no licence stated",
            "cresci2017_accounts": "research use only",
        },
        "posts": len(data.y),
        "spam": int(data.y.sum()),
        "labels": {k: int(v.sum()) for k, v in data.labels.items()},
        "seed": 0,
        "text_model": args.text,
    }
    metrics = {"leave_one_corpus_out": cross} if cross else {}
    manifest = save_model(final, args.output, settings=detector.settings(), training=training, metrics=metrics)
    print(
        f"model: {args.output}, manifest: {manifest} ({len(data.y):,} rows, {int(data.y.sum()):,} spam); "
        f"{features_cpu:.0f} CPU s features in this process, {time.process_time() - started:.0f} CPU s in all (workers apart)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
