"""The compiled trees give a model's scores bit for bit: for the few posts a stream scores at a
time, and over a feed scored in blocks on several threads."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood.decision import Decider, Findings, _score_sentences
from spamflood.model import FloodModel, load_model
from spamflood.model.compiled import _LOWEST_BIT, MAX_EXIT_LEAVES, Sigmoid, _Head, _raw, _raw_by_exits, compile_model
from spamflood.scoring import RuleScorer


def _rows(model: FloodModel, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` rows over the model's features: every split threshold itself (the ``<=`` edge),
    just above it, missing values, infinities and ordinary counts."""
    rng = np.random.default_rng(seed)
    names = list(model.feature_names_in_)
    edges: dict[int, list[float]] = {j: [] for j in range(len(names))}
    for head in model.heads_.values():
        for predictors in head.calibrated_classifiers_[0].estimator._predictors:
            nodes = predictors[0].nodes
            for j, t in zip(nodes["feature_idx"][nodes["is_leaf"] == 0], nodes["num_threshold"][nodes["is_leaf"] == 0]):
                edges[int(j)] += [float(t), float(np.nextafter(t, np.inf))]
    out = {}
    for j, name in enumerate(names):
        pool = np.array(edges[j] + [np.nan, np.inf, -np.inf, 0.0, 1.0, 2.0, 3.0, 7.0, 50.0, 0.5, -1.0])
        out[name] = rng.choice(pool, size=n)
    if model.text:  # and texts for its text part: ad words, ordinary words, emoji, none
        pieces = np.array(["加微信", "领取", "free", "gift", "今天", "天气", "lunch", "vx123", "🔥", "sold out", "¥99"])
        out["text"] = np.array([" ".join(rng.choice(pieces, size=rng.integers(0, 8)).tolist()) for _ in range(n)], dtype=object)
    return out


def _same(model: FloodModel) -> Callable[[np.ndarray, np.ndarray], bool]:
    """Bit for bit where the trees decide; a blended text part's probability is the pipeline's
    to rounding (``tests/test_text_kernel.py``), and the blend passes that on."""
    if not model.text:
        return np.array_equal
    return lambda a, b: bool(np.allclose(a, b, rtol=0, atol=1e-12))


@pytest.fixture(scope="module")
def bundled() -> FloodModel:
    return load_model(None).model


@pytest.mark.parametrize("floor", [0.0, 0.25, np.inf])
def test_the_bundled_models_compiled_trees_give_its_scores_bit_for_bit(bundled: FloodModel, floor: float) -> None:
    X = _rows(bundled, 3000, seed=1)
    compiled = compile_model(bundled)
    assert compiled is not None
    want_score, want_heads = bundled.score_all(X, label_floor=floor)
    score, heads = compiled.score_all(X, label_floor=floor)
    same = _same(bundled)
    assert same(score, want_score)
    assert set(heads) == set(want_heads)
    for label in want_heads:  # the label heads read the named features alone: bit for bit
        assert np.array_equal(heads[label], want_heads[label]), label
    one = {k: v[7:8] for k, v in X.items()}  # one post, as a stream scores it
    assert same(compiled.score_all(one, label_floor=floor)[0], bundled.score_all(one, label_floor=floor)[0])


def test_the_bundled_trees_file_holds_the_bundled_models_compiled_trees(bundled: FloodModel) -> None:
    # what `spamflood score` scores with (no unpickling) is the shipped model, number for number
    from spamflood.model.compiled_file import trees_bytes

    deferred = load_model(defer=True).model
    assert deferred.compiled is not None
    assert trees_bytes(deferred.compiled) == trees_bytes(compile_model(bundled))


@pytest.mark.parametrize("block_rows", [1, 7, 1000, 5000])
def test_rows_scored_in_blocks_on_threads_give_the_scores_of_one_pass(bundled: FloodModel, block_rows: int) -> None:
    X = _rows(bundled, 3000, seed=2)
    compiled = compile_model(bundled)
    assert compiled is not None
    one_pass = compiled.score_all(X, label_floor=0.25, block_rows=len(X["text" if bundled.text else next(iter(X))]))
    score, heads = compiled.score_all(X, label_floor=0.25, block_rows=block_rows)
    assert np.array_equal(score, one_pass[0])
    assert _same(bundled)(score, bundled.score_all(X, label_floor=0.25)[0])
    for label in one_pass[1]:
        assert np.array_equal(heads[label], one_pass[1][label]), label


@pytest.mark.parametrize("block_rows", [7, 8192])
def test_label_heads_give_each_head_where_its_label_is_asked_and_zero_elsewhere(bundled: FloodModel, block_rows: int) -> None:
    X = _rows(bundled, 3000, seed=6)
    compiled = compile_model(bundled)
    assert compiled is not None
    _, want = bundled.score_all(X, label_floor=0.0)
    rng = np.random.default_rng(6)
    where = {label: rng.random(3000) < share for label, share in zip(bundled.label_names_, [0.0, 0.01, 0.5, 1.0] * 3)}
    del where[bundled.label_names_[-1]]  # a label not asked for: zero everywhere
    heads = compiled.label_heads(X, where, block_rows=block_rows)
    assert set(heads) == set(bundled.label_names_)
    for label in bundled.label_names_:
        on = where.get(label, np.zeros(3000, dtype=bool))
        assert np.array_equal(heads[label], np.where(on, want[label], 0.0)), label


def test_an_empty_feed_scores_to_empty_columns(bundled: FloodModel) -> None:
    compiled = compile_model(bundled)
    assert compiled is not None
    score, heads = compiled.score_all({k: v[:0] for k, v in _rows(bundled, 1, seed=3).items()})
    assert score.shape == (0,)
    assert set(heads) == set(bundled.label_names_) and all(h.shape == (0,) for h in heads.values())


def test_compiled_contributions_are_the_models_bit_for_bit(bundled: FloodModel) -> None:
    from spamflood.criteria.registry import FEATURES

    X = _rows(bundled, 2000, seed=5)  # one row per group and post: several blocks, on the cores
    groups = {}
    for name in X:
        if name in FEATURES:
            groups.setdefault(FEATURES[name].label, []).append(name)
    compiled = compile_model(bundled)
    assert compiled is not None
    want = bundled.contributions(X, groups)
    got = compiled.contributions(X, groups)
    assert set(got) == set(want) and len(want) >= 5
    for group in want:
        assert _same(bundled)(got[group], want[group]), group


def test_the_features_a_models_score_weighs_are_those_its_trees_split_on(bundled: FloodModel) -> None:
    """The compiled trees name the same features as the model's boosters; a feature that was
    constant in training is read but never split on, so it is not weighed."""
    compiled = compile_model(bundled)
    assert compiled is not None
    assert compiled.weighed_features() == bundled.weighed_features()
    assert bundled.weighed_features() <= set(bundled.feature_names_in_)
    rng = np.random.default_rng(7)
    n = 400
    y = (rng.random(n) < 0.3).astype(np.int64)
    X = {
        "SOFT_AD_PRICE": rng.poisson(np.where(y == 1, 2.0, 0.1)).astype(float),
        "FAN_FARMING_BEG": np.zeros(n),  # never seen in training: nothing to split on
    }
    model = FloodModel(features=list(X), max_iter=15, random_state=1).fit(X, y)
    small = compile_model(model)
    assert small is not None
    assert model.weighed_features() == small.weighed_features() == {"SOFT_AD_PRICE"}


def test_a_sigmoid_calibrated_model_with_missing_features_compiles_to_the_same_scores() -> None:
    rng = np.random.default_rng(4)
    n = 600
    y = (rng.random(n) < 0.3).astype(np.int64)
    X = {
        "SOFT_AD_PRICE": rng.poisson(np.where(y == 1, 1.5, 0.1)).astype(float),
        "MASS_SHARE_AUTHORS_IN_WINDOW": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 9, n).astype(float)),
        "BATCH_ACCOUNTS_YOUNG": np.full(n, np.nan),  # empty in training: held at 0
    }
    model = FloodModel(features=list(X), max_iter=20, calibration="sigmoid", random_state=1).fit(X, y)
    compiled = compile_model(model)
    assert compiled is not None
    assert np.array_equal(compiled.score_all(X)[0], model.score_all(X)[0])


def _text_model(join: str = "blend") -> tuple[FloodModel, dict[str, np.ndarray], list[str], np.ndarray]:
    rng = np.random.default_rng(5)
    n = 300
    y = (rng.random(n) < 0.4).astype(np.int64)
    X = {"SOFT_AD_PRICE": rng.poisson(np.where(y == 1, 2.0, 0.1)).astype(float)}
    spam = ["加 微 信 领取红包", "buy now, DM me", "Ｖ.Ｘ 股票群", "check out my channel 🔥"]
    ham = ["hello there", "今天天气很好", "see you at lunch", "nice photo 😀"]
    texts = [(spam if s else ham)[i % 4] + f" {i}" for i, s in enumerate(y)]
    model = FloodModel(features=list(X), text=True, text_join=join, max_iter=10, cv=2, random_state=1).fit({**X, "text": texts}, y)
    return model, X, texts, y


@pytest.mark.parametrize("join", ["blend", "stack"])
def test_a_text_model_compiles_and_scores_as_itself(join: str) -> None:
    model, X, texts, _ = _text_model(join)
    compiled = compile_model(model)
    assert compiled is not None and compiled.text is not None
    fresh = texts + ["", "加微信 vx 免费", "ＤＭ ＭＥ"]  # texts it never saw, one empty
    rows = {"SOFT_AD_PRICE": np.concatenate([X["SOFT_AD_PRICE"], [0.0, 3.0, 1.0]]), "text": fresh}
    want = model.score_all(rows, label_floor=0.0)
    got = compiled.score_all(rows, label_floor=0.0, block_rows=7)
    # the text column itself: the pipeline's probability of the matching forms, to rounding
    reference = model.text_model_.predict_proba(model._texts({"text": fresh}))[:, 1]
    assert np.allclose(compiled.text_scores(fresh), reference, rtol=0, atol=1e-9)
    # the same matrix (the compiled text column) gives the model's scores bit for bit; from
    # the pipeline's own text column a stacked head bins the difference away, a blend passes
    # it on (a last bit or two)
    matrix = compiled._matrix(rows, 0, len(fresh))
    assert np.array_equal(got[0], model._head(matrix, "spam"))
    close = np.array_equal if join == "stack" else lambda a, b: np.allclose(a, b, rtol=0, atol=1e-15)
    assert close(got[0], want[0])
    # a TEXT_MODEL column (scored where the forms were at hand) is read instead of the text
    given = {"SOFT_AD_PRICE": rows["SOFT_AD_PRICE"], "TEXT_MODEL": compiled.text_scores(fresh)}
    assert np.array_equal(compiled.score_all(given)[0], got[0])


@pytest.mark.parametrize("join", ["blend", "stack"])
def test_a_compiled_text_model_decides_as_the_model_and_names_its_n_grams(join: str) -> None:
    model, X, texts, _ = _text_model(join)
    findings = Findings({"SOFT_AD_PRICE": X["SOFT_AD_PRICE"][:40]}, {}, {}, 40)
    decider = Decider(RuleScorer(), model, threshold=0.5)
    assert decider._model_for(model) is not model  # compiled
    decision = decider.decide(findings, texts=texts[:40])
    own = model.score_all({"SOFT_AD_PRICE": X["SOFT_AD_PRICE"][:40], "text": texts[:40]})[0]
    assert np.allclose(decision.score, own, rtol=0, atol=1e-15 if join == "blend" else 0.0)  # see the test above
    flagged = np.flatnonzero(decision.score >= 0.5).tolist()
    assert flagged
    # no label fired: each reason is the score's, the same as the model's own explanation
    assert [decision.reasons[i] for i in flagged] == [[s] for s in _score_sentences(model, findings, texts[:40], flagged)]
    assert any("text n-grams" in decision.reasons[i][0] for i in flagged), [decision.reasons[i] for i in flagged]


def test_a_model_it_cannot_reproduce_is_not_compiled_and_decides_as_itself() -> None:
    model, X, texts, _ = _text_model()
    model.text_model_.set_params(tfidf__norm="l1")  # scaled to unit sum: not the compiled loop's
    assert compile_model(model) is None  # scored by the model itself
    findings = Findings({"SOFT_AD_PRICE": X["SOFT_AD_PRICE"][:5]}, {}, {}, 5)
    decision = Decider(RuleScorer(), model).decide(findings, texts=texts[:5])
    assert np.array_equal(decision.score, model.score_all({**{k: v[:5] for k, v in X.items()}, "text": texts[:5]})[0])


def test_scoring_with_the_bundled_model_imports_no_scikit_learn(tmp_path) -> None:
    # the command scores from the bundled trees file: no pickle, no scikit-learn (a second of
    # start-up), and the same verdicts as the unpickled model gives
    import json
    import os
    import subprocess
    import sys

    from spamflood import Detector
    from spamflood.synth import generate

    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(post) + "\n" for post, _ in generate(300, seed=5)))
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "spamflood", "score", str(feed), "-o", str(out), "-q"],
        capture_output=True, text=True, check=False, timeout=300, env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert not {m for m in imported if m.split(".")[0] == "sklearn"}
    written = [json.loads(line) for line in out.read_text().splitlines()]
    detector = Detector.load()
    detector.model = detector.model.result()  # the unpickled model itself, compiled in this process
    result = detector.score(str(feed))
    assert [row["score"] for row in written] == [round(x, 6) for x in result.score.tolist()]  # as the writer rounds
    assert [row["labels"] for row in written] == result.labels and [row["reasons"] for row in written] == result.reasons


def _random_forest(draw: st.DrawFn, trees: int, max_leaves: int, width: int) -> dict[str, np.ndarray]:
    """A head's arrays in the compiled layout (breadth first, children side by side, a leaf its
    own child with threshold +inf) for ``trees`` random trees of 1 to ``max_leaves`` leaves."""
    roots, depth, feature, threshold, nan_right, child, value = [], [], [], [], [], [], []
    for _ in range(trees):
        leaves = draw(st.integers(1, max_leaves))
        # grow by splitting a random leaf until the tree has its leaves: shapes from chains to bushes
        kids: dict[int, tuple[int, int]] = {}
        open_leaves, size = [0], 1
        while len(open_leaves) < leaves:
            k = open_leaves.pop(draw(st.integers(0, len(open_leaves) - 1)))
            kids[k] = (size, size + 1)
            open_leaves += [size, size + 1]
            size += 2
        order, level = [0], {0: 0}
        for k in order:  # breadth first
            if k in kids:
                order += list(kids[k])
                level[kids[k][0]] = level[kids[k][1]] = level[k] + 1
        at = {k: len(child) + i for i, k in enumerate(order)}
        roots.append(len(child))
        depth.append(max(level.values()))
        for k in order:
            if k in kids:
                feature.append(draw(st.integers(0, width - 1)))
                threshold.append(draw(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, 3.5])))
                nan_right.append(draw(st.booleans()))
                child.append(at[kids[k][0]])
            else:
                feature.append(0)
                threshold.append(np.inf)
                nan_right.append(False)
                child.append(at[k])
            value.append(draw(st.floats(-2, 2, allow_nan=False)))
    return {
        "roots": np.array(roots, dtype=np.int32), "depth": np.array(depth, dtype=np.int32),
        "feature": np.array(feature, dtype=np.int32), "threshold": np.array(threshold),
        "nan_right": np.array(nan_right, dtype=np.bool_), "child": np.array(child, dtype=np.int32), "value": np.array(value),
    }


@settings(max_examples=60, deadline=None)
@given(data=st.data(), trees=st.integers(1, 6), max_leaves=st.sampled_from([2, 15, 64, 70]), rows=st.integers(4, 70))
def test_finding_each_trees_leaf_by_its_split_nodes_gives_the_walks_sums(data: st.DataObject, trees: int, max_leaves: int, rows: int) -> None:
    """Whatever the trees' shapes (a lone leaf, chains, bushes), the rows (missing values, the
    thresholds themselves, infinities) and the block's fill: the leaves the split nodes leave
    are the leaves a walk reaches, summed in the same order; a tree of more than 64 leaves
    walks."""
    width = 3
    arrays = _random_forest(data.draw, trees, max_leaves, width)
    head = _Head(baseline=0.25, calibrators=(Sigmoid(-1.0, 0.0),), **arrays)
    X = np.array(data.draw(st.lists(
        st.lists(st.sampled_from([np.nan, np.inf, -np.inf, -1.0, 0.0, 0.5, 0.75, 1.0, 2.0, 3.5, 9.0]), min_size=width, max_size=width),
        min_size=rows, max_size=rows,
    )))
    walked = _raw(X, head.baseline, *(arrays[k] for k in ("roots", "depth", "feature", "threshold", "nan_right", "child", "value")))
    leaves = [int(np.count_nonzero(arrays["child"][arrays["roots"][t]:end] == np.arange(arrays["roots"][t], end)))
              for t, end in enumerate([*arrays["roots"][1:].tolist(), len(arrays["child"])])]
    assert (head.exits is None) == (max(leaves) > MAX_EXIT_LEAVES)
    if head.exits is not None:
        e = head.exits
        found = _raw_by_exits(X, head.baseline, e.feature, e.threshold, e.nan_right, e.tree, e.keep, e.leaf_value, _LOWEST_BIT)
        assert np.array_equal(found, walked)
    assert np.array_equal(head.proba(X), Sigmoid(-1.0, 0.0)(walked))


def test_trees_laid_out_wrongly_are_refused_by_name_not_walked(bundled: FloodModel) -> None:
    """A split whose children come back before it (a damaged trees file) would send the
    compiled loops round in circles or past the arrays: it is refused when the head is built."""
    import pickle

    from spamflood.errors import ModelError

    arrays = {
        "roots": np.array([0], dtype=np.int32), "depth": np.array([1], dtype=np.int32),
        "feature": np.array([0, 0, 0], dtype=np.int32), "threshold": np.array([0.5, np.inf, np.inf]),
        "nan_right": np.zeros(3, dtype=np.bool_), "child": np.array([1, 1, 2], dtype=np.int32), "value": np.array([0.0, -1.0, 1.0]),
    }
    head = _Head(baseline=0.0, calibrators=(Sigmoid(-1.0, 0.0),), **arrays)
    assert head.proba(np.array([[0.0], [1.0], [np.nan], [2.0]])).tolist() == Sigmoid(-1.0, 0.0)(np.array([-1.0, 1.0, -1.0, 1.0])).tolist()
    for child in ([1, 0, 2], [2, 1, 2], [1, 1, 1]):  # back to the root, a right child past the tree, a leaf that is not its own child
        with pytest.raises(ModelError, match="damaged"):
            _Head(baseline=0.0, calibrators=(Sigmoid(-1.0, 0.0),), **{**arrays, "child": np.array(child, dtype=np.int32)})
    # an index at int32's limit (its + 1 must not wrap round), a leaf's column below 0, a depth
    # that stops the walk before the leaves or walks past them
    for damage in ({"child": np.array([2**31 - 1, 1, 2], dtype=np.int32)}, {"feature": np.array([0, -1, 0], dtype=np.int32)},
                   {"depth": np.array([0], dtype=np.int32)}, {"depth": np.array([2], dtype=np.int32)}):
        with pytest.raises(ModelError, match="damaged"):
            _Head(baseline=0.0, calibrators=(Sigmoid(-1.0, 0.0),), **{**arrays, **damage})
    # two splits sharing their children: a graph, not a tree (the block scorer would misread it)
    shared = {
        "roots": np.array([0], dtype=np.int32), "depth": np.array([2], dtype=np.int32), "feature": np.zeros(5, dtype=np.int32),
        "threshold": np.array([0.5, 0.2, 0.8, np.inf, np.inf]), "nan_right": np.zeros(5, dtype=np.bool_),
        "child": np.array([1, 3, 3, 3, 4], dtype=np.int32), "value": np.array([9.0, 9.0, 9.0, -1.0, 1.0]),
    }
    with pytest.raises(ModelError, match="child of exactly one split"):
        _Head(baseline=0.0, calibrators=(Sigmoid(-1.0, 0.0),), **shared)
    with pytest.raises(ModelError, match="read 1 columns, but the rows have 0"):
        head.proba(np.zeros((4, 0)))
    # a head pickled before the split-node tables existed gets them when it is read
    state = {k: v for k, v in head.__dict__.items() if k not in ("exits", "width")}
    old = _Head.__new__(_Head)
    old.__setstate__(state)
    assert old.exits is not None and old.width == 1
    assert pickle.loads(pickle.dumps(old)).proba(np.array([[0.0]] * 4)).tolist() == head.proba(np.array([[0.0]] * 4)).tolist()
