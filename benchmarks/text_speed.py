"""The text model's cost per post: scikit-learn's pipeline against its compiled form.

A text pipeline (:func:`spamflood.model.text.text_pipeline`) is fitted on the first
``--train`` posts of a synthetic feed (their truth says spam or not), or read from a
text-enabled model file (``--model``); then the matching forms of ``--posts`` posts of the feed
are scored by ``pipeline.predict_proba`` and by :class:`spamflood.model.text_kernel.CompiledText`
(:func:`~spamflood.model.text_kernel.compile_text`), each timed in CPU seconds of this process
(the machine is shared: wall time says little), with the largest difference of the two
probabilities. The matching forms are timed too: the workers compute them anyway, scoring a
text in the main process needs them again.

    OMP_NUM_THREADS=1 python benchmarks/text_speed.py [--posts 1000000] [--feed FILE] [--model FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from end_to_end import generated_feed  # noqa: E402

from spamflood.model.text import matching_forms, text_pipeline  # noqa: E402
from spamflood.model.text_kernel import compile_text  # noqa: E402


def read_feed(feed: Path, posts: int) -> tuple[list[str], np.ndarray]:
    """The first ``posts`` texts of ``feed`` and whether each is spam (its truth file)."""
    truth_path = feed.with_name(feed.name.replace("feed_", "truth_"))
    texts: list[str] = []
    spam: list[bool] = []
    with feed.open(encoding="utf-8") as lines, truth_path.open(encoding="utf-8") as truth:
        for line, label in zip(lines, truth, strict=False):
            texts.append(json.loads(line)["text"])
            spam.append(bool(json.loads(label)["labels"]))
            if len(texts) >= posts:
                break
    return texts, np.array(spam, dtype=np.int64)


def cpu(work: object) -> tuple[object, float]:
    started = time.process_time()
    result = work()  # type: ignore[operator]
    return result, time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--train", type=int, default=50_000, help="posts the pipeline is fitted on (without --model)")
    parser.add_argument("--feed", type=Path, help="a feed of spamflood.synth (its truth file beside it); default: end_to_end.py's")
    parser.add_argument("--model", type=Path, help="a text-enabled model file (spamflood train --text on) instead of fitting")
    args = parser.parse_args(argv)
    feed = args.feed or generated_feed(args.posts, 1)
    texts, spam = read_feed(feed, args.posts)
    forms, normalize_cpu = cpu(lambda: matching_forms(texts))
    if args.model:
        from spamflood.model import load_model

        pipeline = load_model(args.model, trusted=True).model.text_model_
    else:
        pipeline = text_pipeline().fit(forms[: args.train], spam[: args.train])  # type: ignore[index]
    compiled = compile_text(pipeline)
    if compiled is None:
        raise SystemExit("error: this pipeline's settings are not those the compiled loop reproduces")
    compiled.proba(forms[:10])  # type: ignore[index]  # load (or compile) the loop outside the timing
    reference, sklearn_cpu = cpu(lambda: pipeline.predict_proba(forms)[:, 1])
    fast, compiled_cpu = cpu(lambda: compiled.proba(forms))  # type: ignore[arg-type]
    per_million = 1_000_000 / len(texts)
    print(
        f"{len(texts):,} posts (load average {os.getloadavg()[0]:.1f}), CPU s per 1M posts: "
        f"matching forms {normalize_cpu * per_million:.1f}, scikit-learn pipeline {sklearn_cpu * per_million:.1f}, "
        f"compiled {compiled_cpu * per_million:.1f} ({sklearn_cpu / compiled_cpu:.1f}x); "
        f"largest difference {np.abs(np.asarray(fast) - np.asarray(reference)).max():.2e}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
