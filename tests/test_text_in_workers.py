"""A model's text part is scored in the chunk workers, from the matching forms they make anyway:
the same scores as the main process gets from the texts, with one job or several."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spamflood import Detector
from spamflood.chunks import ChunkWork, input_chunks, join_chunks, map_chunks
from spamflood.decision import POST_FAMILIES, Decider, Findings
from spamflood.io.readers import ReadStats
from spamflood.io.rows import RowParser
from spamflood.model import FloodModel, labelled_features, read_truth
from spamflood.model.compiled import compile_model
from spamflood.model.text import matching_forms
from spamflood.scoring import RuleScorer
from spamflood.synth import write as synth_write


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[FloodModel, Path]:
    """A text-enabled model fitted on one synthetic feed, and another feed (with evasion, CJK and
    emoji in it, as ``spamflood.synth`` writes them) to score."""
    folder = tmp_path_factory.mktemp("text_workers")
    train, truth = folder / "train.jsonl", folder / "truth.jsonl"
    synth_write(train, truth, posts=1500, seed=21)
    data = labelled_features(Detector(), str(train), label_field="labels", truth=read_truth(truth, "labels"))
    model = FloodModel(text=True, max_iter=20, cv=2, random_state=0).fit(data.frame(), data.y)
    feed = folder / "feed.jsonl"
    synth_write(feed, folder / "feed_truth.jsonl", posts=1200, seed=22)
    return model, feed


def test_the_workers_text_scores_are_those_of_the_posts_matching_forms(fitted: tuple[FloodModel, Path]) -> None:
    model, feed = fitted
    compiled = compile_model(model)
    assert compiled is not None and compiled.text is not None
    work = ChunkWork(RowParser(), Detector().hasher, POST_FAMILIES, "UTC", jobs=2, text=compiled.text)
    chunks, by_line = input_chunks(str(feed), None, work, 300, ReadStats())
    joined = join_chunks(list(map_chunks(chunks, work, by_line)), [by_line] if by_line is not None else [], 128, False)
    assert joined.text_scores is not None and len(joined.text_scores) == len(joined.batch) == 1200
    assert np.array_equal(joined.text_scores, compiled.text.proba(matching_forms(joined.batch.texts)))


def test_a_decision_reads_given_text_scores_as_the_text_itself(fitted: tuple[FloodModel, Path]) -> None:
    model, feed = fitted
    texts = [json.loads(line)["text"] for line in feed.read_text(encoding="utf-8").splitlines()][:300]
    result = Detector(model=model).score(str(feed))
    values = {k: np.asarray(v)[:300] for k, v in result.features.items()}
    findings = Findings(values, {}, {}, 300)
    decider = Decider(RuleScorer(), model)
    compiled = compile_model(model)
    assert compiled is not None
    plain = decider.decide(findings, texts=texts)
    given = decider.decide(findings, texts=texts, text_scores=compiled.text_scores(texts))
    assert np.array_equal(given.score, plain.score)
    assert given.reasons == plain.reasons


def test_a_feed_scores_the_same_with_the_text_in_workers_or_in_one_process(fitted: tuple[FloodModel, Path]) -> None:
    model, feed = fitted
    two = Detector(model=model, n_jobs=2, chunk_rows=250).score(str(feed))  # workers read the file, score the text
    one = Detector(model=model, n_jobs=1).score(str(feed))
    rows = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
    listed = Detector(model=model, n_jobs=2, chunk_rows=250).score(rows)  # read here, prepared in workers
    assert np.array_equal(two.score, one.score) and np.array_equal(two.score, listed.score)
    assert two.labels == one.labels == listed.labels
    assert two.reasons == one.reasons
    assert two.score.max() > 0.5  # the feed's floods are found


def test_a_text_model_file_scores_in_the_workers_from_the_cli_as_in_python(fitted: tuple[FloodModel, Path], tmp_path: Path) -> None:
    import subprocess
    import sys

    from spamflood.model import save_model

    model, feed = fitted
    path = tmp_path / "text.joblib"
    save_model(model, path, settings=Detector().settings(), training={"text_model": True})
    loaded = Detector.load(path, trusted=True, n_jobs=2, chunk_rows=250)  # deferred: loaded before the workers fork
    assert loaded._text_part() is not None
    want = Detector(model=model, n_jobs=1).score(str(feed))
    assert np.array_equal(loaded.score(str(feed)).score, want.score)
    out = tmp_path / "scored.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "spamflood", "score", str(feed), "--model", str(path), "--trust-model", "--jobs", "2", "-o", str(out), "-q"],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    scores = [json.loads(line)["score"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert np.allclose(scores, want.score, rtol=0, atol=1e-6)  # (the output rounds scores)
