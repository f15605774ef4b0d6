"""The trained score: FloodModel, its files (hash, trust, versions), metrics and label parsing."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold

from conftest import shared_data
from spamflood.errors import ConfigError, ModelError
from spamflood.model import (
    FloodModel,
    ModelVersionWarning,
    binary_report,
    bundled_model_path,
    load_model,
    parse_label,
    save_model,
    threshold_for_precision,
)
from spamflood.model.store import manifest_path

NAMES = ["SOFT_AD_PRICE", "SOFT_AD_LINK", "AUTO_POSTING_GAP_CV", "MASS_SHARE_AUTHORS_IN_WINDOW"]


def toy(n: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    """Spam shows prices and links; floods show many accounts; the cadence column is noise
    with gaps (missing values)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    flood = y & (rng.random(n) < 0.5)
    price = rng.poisson(np.where(y == 1, 1.5, 0.1))
    link = rng.poisson(np.where(y == 1, 1.0, 0.2))
    cadence = np.where(rng.random(n) < 0.3, np.nan, rng.random(n))
    authors = np.where(flood == 1, rng.integers(5, 40, n), rng.integers(0, 3, n))
    features = {
        "SOFT_AD_PRICE": price.astype(float),
        "SOFT_AD_LINK": link.astype(float),
        "AUTO_POSTING_GAP_CV": cadence,
        "MASS_SHARE_AUTHORS_IN_WINDOW": authors.astype(float),
    }
    return features, y, {"mass_share": flood.astype(np.int64)}


@pytest.fixture(scope="module")
def fitted() -> FloodModel:
    X, y, labels = toy(3000, 1)
    return FloodModel(features=NAMES, max_iter=40, random_state=3).fit(X, y, labels=labels)


def test_scores_are_probabilities_with_a_head_per_learned_label(fitted):
    X, _y, _ = toy(1000, 2)
    proba = fitted.predict_proba(X)
    assert proba.shape == (1000, 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert fitted.label_names_ == ["mass_share"]
    spam, subs = fitted.score_all(X)
    assert np.array_equal(spam, proba[:, 1])
    assert set(subs) == {"mass_share"}


def test_it_ranks_spam_above_ham_and_is_calibrated(fitted):
    X, y, _ = toy(4000, 5)
    report = binary_report(y, fitted.predict_proba(X)[:, 1])
    assert report["roc_auc"] > 0.9
    # Calibrated: among posts scored around p, about p are spam (expected calibration error).
    p = fitted.predict_proba(X)[:, 1]
    bins = np.clip((p * 10).astype(int), 0, 9)
    ece = sum(abs(p[bins == b].mean() - y[bins == b].mean()) * (bins == b).mean() for b in range(10) if (bins == b).any())
    assert ece < 0.05


def test_label_floor_skips_label_heads_below_it_and_changes_nothing_above(fitted):
    X, _, _ = toy(500, 6)
    spam, full = fitted.score_all(X)
    _, floored = fitted.score_all(X, label_floor=0.25)
    above = spam >= 0.25
    assert np.array_equal(floored["mass_share"][above], full["mass_share"][above])
    assert (floored["mass_share"][~above] == 0).all()


def test_same_seed_same_model_and_clone_and_pickle_keep_scores(fitted):
    X, y, labels = toy(3000, 1)
    again = FloodModel(features=NAMES, max_iter=40, random_state=3).fit(X, y, labels=labels)
    assert np.array_equal(again.predict_proba(X), fitted.predict_proba(X))
    assert clone(fitted).get_params() == fitted.get_params()
    restored = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_contributions_point_at_the_family_that_raised_the_score(fitted):
    X = {name: np.zeros(1) for name in NAMES}
    X["MASS_SHARE_AUTHORS_IN_WINDOW"] = np.array([30.0])
    drops = fitted.contributions(X, {"mass_share": ["MASS_SHARE_AUTHORS_IN_WINDOW"], "soft_ad": ["SOFT_AD_PRICE", "SOFT_AD_LINK"]})
    assert drops["mass_share"][0] > 0.2
    assert drops["mass_share"][0] > drops["soft_ad"][0]


def test_a_missing_feature_is_named_and_an_unfitted_model_refuses():
    X, y, _ = toy(200, 1)
    with pytest.raises(NotFittedError):
        FloodModel(features=NAMES).predict_proba(X)
    model = FloodModel(features=NAMES, max_iter=10).fit(X, y)
    del X["SOFT_AD_LINK"]
    with pytest.raises(ModelError, match="SOFT_AD_LINK"):
        model.predict_proba(X)


def test_bad_targets_and_parameters_are_refused():
    X, y, _ = toy(200, 1)
    with pytest.raises(ModelError, match="both spam and non-spam"):
        FloodModel(features=NAMES).fit(X, np.zeros(200))
    with pytest.raises(ConfigError, match="0/1"):
        FloodModel(features=NAMES).fit(X, np.full(200, 2))
    with pytest.raises(ConfigError, match="calibration"):
        FloodModel(features=NAMES, calibration="beta").fit(X, y)


def test_a_feature_known_on_one_post_or_on_none_is_held_at_zero_and_the_rest_still_learns():
    """A calibration fold may train on no value of a rare feature (a festival named once in a
    small export): it teaches nothing, so it is held at 0, like a feature absent everywhere."""
    X, y, _ = toy(600, 4)
    X["AUTO_POSTING_GAP_CV"] = np.full(600, np.nan)
    X["AUTO_POSTING_GAP_CV"][7] = 0.1
    X["SOFT_AD_LINK"] = np.full(600, np.nan)
    model = FloodModel(features=NAMES, max_iter=20).fit(X, y)
    assert [NAMES[j] for j in model.empty_features_] == ["SOFT_AD_LINK", "AUTO_POSTING_GAP_CV"]
    assert binary_report(y, model.predict_proba(X)[:, 1])["roc_auc"] > 0.85
    held = {name: np.full(2, 1.0) for name in NAMES} | {"AUTO_POSTING_GAP_CV": np.array([0.0, 5.0])}
    assert model.predict_proba(held)[0, 1] == model.predict_proba(held)[1, 1]


@given(seed=st.integers(0, 2**16), dropout=st.sampled_from([0.0, 0.3, 1.0]), cv=st.integers(2, 5))
def test_a_context_dropout_copy_is_calibrated_in_the_fold_of_its_post(seed, dropout, cv):
    """The copy has the post's text and cluster features: split apart, the post would train the
    booster that scores its own copy out of fold. Every row lands in exactly one held-out fold,
    no post is on both sides of one, and the posts are stratified as before."""
    X, y, labels = toy(300, seed)
    model = FloodModel(features=NAMES, context_dropout=dropout, cv=cv, random_state=seed)
    model.model_names_ = NAMES
    matrix, heads, origin = model._augment(np.column_stack([X[n] for n in NAMES]), {"spam": y, **labels})
    assert matrix.shape[0] == origin.shape[0] == heads["spam"].shape[0]
    folds = list(model._folds(y, origin).split())
    held = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(held), np.arange(matrix.shape[0]))
    for train, test in folds:
        assert not set(origin[train]) & set(origin[test])
        posts = np.unique(origin[test])
        assert abs(y[posts].mean() - y.mean()) < 0.1


@given(
    seed=st.integers(0, 2**16),
    dropout=st.sampled_from([0.0, 0.3]),
    cv=st.integers(2, 4),
    n_groups=st.integers(4, 40),
)
def test_grouped_folds_never_put_one_group_on_both_sides(seed, dropout, cv, n_groups):
    """With ``groups`` (a corpus, a copy group), every fold holds each group on one side only,
    for the text model's out-of-fold split and the calibration folds alike (context-dropout
    copies included), and every row is held out exactly once."""
    X, y, labels = toy(300, seed)
    group = np.random.default_rng(seed).integers(0, n_groups, 300)
    model = FloodModel(features=NAMES, context_dropout=dropout, cv=cv, random_state=seed)
    model.model_names_ = NAMES
    _, _, origin = model._augment(np.column_stack([X[n] for n in NAMES]), {"spam": y, **labels})
    checked = model._groups(group, 300)
    for folds, of_row in ((model._split(y, checked), np.arange(300)), (list(model._folds(y, origin, checked).split()), origin)):
        held = np.sort(np.concatenate([test for _, test in folds]))
        assert np.array_equal(held, np.arange(of_row.shape[0]))
        for train, test in folds:
            assert not set(group[of_row[train]]) & set(group[of_row[test]])


def test_a_fitted_head_keeps_one_fold_number_per_row_not_the_folds_index_lists():
    """The heads are saved with their ``cv``: index lists of every fold would make the bundled
    file megabytes heavier for nothing the scoring reads."""
    import pickle

    X, y, labels = toy(3000, 5)
    model = FloodModel(features=NAMES, max_iter=5, context_dropout=0.3, random_state=5).fit(X, y, labels=labels)
    for head in model.heads_.values():
        assert type(head.cv).__name__ == "PredefinedSplit" and head.cv.get_n_splits() == model.cv
        assert len(pickle.dumps(head.cv)) < 8 * 2 * 3000 + 4096  # one int64 per training row (posts and copies)


def test_groups_are_checked_and_leave_a_model_without_them_as_it_was():
    X, y, _ = toy(300, 2)
    with pytest.raises(ConfigError, match="one value per row"):
        FloodModel(features=NAMES, max_iter=5).fit(X, y, groups=np.zeros(299))
    with pytest.raises(ConfigError, match="2 distinct group"):
        FloodModel(features=NAMES, max_iter=5, cv=3).fit(X, y, groups=np.arange(300) % 2)
    plain = FloodModel(features=NAMES, max_iter=5, random_state=4)
    assert [list(test) for _, test in plain._split(y, None)] == [
        list(test) for _, test in StratifiedKFold(3, shuffle=True, random_state=4).split(np.zeros((300, 1)), y)
    ]


def test_weighing_spam_down_lowers_the_calibrated_scores_to_the_weighted_share():
    # 30 % of the toy rows are spam; weighed to a 10 % share, the calibrated score of the
    # same rows averages about 10 % under those weights (30 % unweighted), it flags less ham,
    # and it still ranks them about as the unweighted model does.
    X, y, _ = toy(3000, 5)
    spam = y.mean()
    weights = np.where(y == 1, 0.1 / spam, 0.9 / (1 - spam))
    plain = FloodModel(features=NAMES, max_iter=30, random_state=1).fit(X, y).predict_proba(X)[:, 1]
    weighed = FloodModel(features=NAMES, max_iter=30, random_state=1).fit(X, y, sample_weight=weights).predict_proba(X)[:, 1]
    assert abs(plain.mean() - spam) < 0.02 and abs(np.average(weighed, weights=weights) - 0.1) < 0.02
    assert (weighed[y == 0] >= 0.5).mean() < (plain[y == 0] >= 0.5).mean()
    assert binary_report(y, weighed)["roc_auc"] > binary_report(y, plain)["roc_auc"] - 0.01


def test_the_text_model_learns_from_the_weights_too():
    # the same texts, spam weighed almost to nothing: its text part has hardly a spam post to
    # learn from, and scores the spam text low where the unweighted one scores it high
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.4).astype(int)
    texts = ["buy now cheap pills 50% off" if v else "lunch with my sister today" for v in y]
    X = {name: np.zeros(400) for name in NAMES} | {"text": texts}
    weights = np.where(y == 1, 1e-6, 1.0)
    spam = ["buy now cheap pills 50% off"]
    plain = FloodModel(features=NAMES, text=True, max_iter=10).fit(X, y)
    weighed = FloodModel(features=NAMES, text=True, max_iter=10).fit(X, y, sample_weight=weights)
    assert plain.text_model_.predict_proba(spam)[0, 1] > 0.5 > 0.1 > weighed.text_model_.predict_proba(spam)[0, 1]


@pytest.mark.parametrize("weights", [np.ones(299), np.full(300, -1.0), np.zeros(300), np.full(300, np.nan)])
def test_bad_sample_weights_are_refused(weights):
    X, y, _ = toy(300, 2)
    with pytest.raises(ConfigError, match="sample_weight"):
        FloodModel(features=NAMES, max_iter=5).fit(X, y, sample_weight=weights)


def test_the_text_model_adds_one_feature_and_needs_the_text():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.4).astype(int)
    texts = ["buy now cheap pills 50% off" if v else "lunch with my sister today" for v in y]
    X = {name: np.zeros(400) for name in NAMES} | {"text": texts}
    model = FloodModel(features=NAMES, text=True, max_iter=20).fit(X, y)
    assert model.model_names_[-1] == "TEXT_MODEL"
    assert binary_report(y, model.predict_proba(X)[:, 1])["roc_auc"] > 0.99
    with pytest.raises(ModelError, match="text"):
        model.predict_proba({name: np.zeros(3) for name in NAMES})


def _text_rows(seed: int = 0):
    """Spam shows a price and spam words; a fifth of the ham shows a price too."""
    rng = np.random.default_rng(seed)
    y = (rng.random(400) < 0.4).astype(int)
    texts = ["buy now cheap pills 50% off" if v else "lunch with my sister today" for v in y]
    price = np.where(y == 1, 2.0, (rng.random(400) < 0.2).astype(float))
    return {name: np.zeros(400) for name in NAMES} | {"SOFT_AD_PRICE": price, "text": texts}, y


def test_a_blended_model_scores_the_features_and_the_text_averaged_in_log_odds():
    X, y = _text_rows()
    model = FloodModel(features=NAMES, text=True, text_weight=0.3, max_iter=20).fit(X, y)
    # the heads read the named features alone; the text part is blended in after them
    assert model.heads_["spam"].n_features_in_ == len(NAMES) and model.model_names_[-1] == "TEXT_MODEL"
    rows = {name: np.array([0.0, 2.0, 2.0, 0.0]) if name == "SOFT_AD_PRICE" else np.zeros(4) for name in NAMES}
    rows["text"] = ["lunch with my sister today", "lunch with my sister today", "buy now cheap pills 50% off", "buy now cheap pills"]
    features = model.heads_["spam"].predict_proba(np.column_stack([rows[n] for n in NAMES]))[:, 1]
    text = model.text_model_.predict_proba(model._texts(rows))[:, 1]
    want = 1 / (1 + np.exp(-(0.7 * np.log(features / (1 - features)) + 0.3 * np.log(text / (1 - text)))))
    assert np.allclose(model.predict_proba(rows)[:, 1], want, rtol=0, atol=1e-12)


def test_blend_text_lies_between_its_parts_and_rises_with_each():
    from spamflood.model import blend_text

    @given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
    def check(f, t, w, more):
        p = blend_text(np.array([f]), np.array([t]), w)[0]
        low, high = sorted((np.clip(f, 1e-6, 1 - 1e-6), np.clip(t, 1e-6, 1 - 1e-6)))
        assert low - 1e-12 <= p <= high + 1e-12
        assert blend_text(np.array([max(f, more)]), np.array([t]), w)[0] >= p - 1e-15
        assert blend_text(np.array([f]), np.array([max(t, more)]), w)[0] >= p - 1e-15

    check()


def test_a_stacked_model_reads_the_text_score_as_a_feature_of_its_heads():
    X, y = _text_rows()
    model = FloodModel(features=NAMES, text=True, text_join="stack", max_iter=20).fit(X, y)
    assert model.heads_["spam"].n_features_in_ == len(NAMES) + 1
    assert binary_report(y, model.predict_proba(X)[:, 1])["roc_auc"] > 0.99


def test_a_model_saved_before_text_join_existed_loads_as_stacked():
    X, y = _text_rows()
    model = FloodModel(features=NAMES, text=True, text_join="stack", max_iter=10).fit(X, y)
    state = model.__getstate__()
    del state["text_join"], state["text_weight"]
    old = FloodModel.__new__(FloodModel)
    old.__setstate__(state)
    assert old.get_params()["text_join"] == "stack"
    assert np.array_equal(old.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("bad", [{"text_join": "mean"}, {"text_weight": 1.5}])
def test_bad_text_join_settings_are_refused(bad):
    X, y = _text_rows()
    with pytest.raises(ConfigError, match=next(iter(bad))):
        FloodModel(features=NAMES, text=True, **bad).fit(X, y)


# ---------------------------------------------------------------- files


def saved(fitted, tmp_path):
    path = tmp_path / "m.joblib"
    save_model(fitted, path, settings={"window": 600.0}, training={"command": "spamflood train x"}, metrics={"f1": 1.0})
    return path


def test_a_saved_model_loads_back_with_its_manifest(fitted, tmp_path):
    path = saved(fitted, tmp_path)
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["sha256"] and manifest["versions"]["scikit-learn"] and manifest["training"]["command"]
    assert manifest["features"] == NAMES and manifest["labels"] == ["mass_share"]
    loaded = load_model(path, trusted=True)
    X, _, _ = toy(100, 9)
    assert np.array_equal(loaded.model.predict_proba(X), fitted.predict_proba(X))
    assert loaded.settings == {"window": 600.0}


def test_an_untrusted_path_is_refused_before_it_is_read(fitted, tmp_path):
    path = saved(fitted, tmp_path)
    with pytest.raises(ModelError, match="trusted=True"):
        load_model(path)


def test_a_tampered_or_truncated_file_is_refused(fitted, tmp_path):
    path = saved(fitted, tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its manifest"):
        load_model(path, trusted=True)
    path.write_bytes(bytes(data[:100]))
    with pytest.raises(ModelError, match="does not match"):
        load_model(path, trusted=True)


def test_a_model_without_manifest_is_refused(fitted, tmp_path):
    path = saved(fitted, tmp_path)
    manifest_path(path).unlink()
    with pytest.raises(ModelError, match="no manifest"):
        load_model(path, trusted=True)


def test_other_library_versions_warn(fitted, tmp_path):
    path = saved(fitted, tmp_path)
    manifest = json.loads(manifest_path(path).read_text())
    manifest["versions"]["scikit-learn"] = "0.24.2"
    manifest_path(path).write_text(json.dumps(manifest))
    with pytest.warns(ModelVersionWarning, match="scikit-learn 0.24.2"):
        load_model(path, trusted=True)


def test_the_bundled_model_loads_without_trust_and_matches_its_manifest():
    path = bundled_model_path()
    assert path.exists(), "models/spamflood-default.joblib must ship with the repository"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelVersionWarning)
        loaded = load_model()
    manifest = loaded.manifest
    assert manifest["training"]["command"].startswith("python benchmarks/train_bundled.py")
    corpora = {c["name"]: c for c in manifest["training"]["corpora"]}
    assert set(corpora) == {"sms_spam_uci", "cn_qq_group_ads", "ig_scam_comments", "cn_app_post_spam"}  # licensed only
    assert set(manifest["metrics"]["leave_one_corpus_out"]) == set(corpora)
    synthetic = [(feed["posts"], feed["rows"]) for feed in manifest["training"]["synthetic"]]
    assert synthetic == [(50_000, 50_000)] * 2 + [(20_000, 20_000)] * 2 + [(4_000, 4_000)] * 8 + [(200_000, 50_000), (1_000_000, 50_000)]
    assert manifest["training"]["text_model"] is True and loaded.model.text  # the text part, blended
    assert set(loaded.model.label_names_) >= {"mass_share", "soft_ad"}


def test_the_bundled_manifest_names_each_corpus_file_by_its_sha256():
    """Every corpus the bundled model was fitted on is the file the manifest names, byte for byte."""
    import hashlib

    for corpus in load_model().manifest["training"]["corpora"]:
        folder = shared_data(corpus["name"])
        assert corpus["rows"] <= corpus["rows_in_file"] and corpus["spam"] <= corpus["spam_in_file"]
        for file in corpus["files"]:
            path = folder.parent / file["path"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == file["sha256"], file["path"]


def test_a_deferred_model_is_checked_now_and_unpickled_when_first_needed(fitted, tmp_path):
    import pickle

    from spamflood.model import DeferredModel

    path = saved(fitted, tmp_path)
    loaded = load_model(path, trusted=True, defer=True)
    assert isinstance(loaded.model, DeferredModel) and loaded.settings == {"window": 600.0}
    path.write_bytes(b"changed after the check")  # what was checked is what gets unpickled
    X, _, _ = toy(100, 9)
    loaded.model.start()
    assert np.array_equal(loaded.model.result().predict_proba(X), fitted.predict_proba(X))
    copy = pickle.loads(pickle.dumps(loaded.model))  # pickles as the model itself
    assert type(copy) is type(fitted) and np.array_equal(copy.predict_proba(X), fitted.predict_proba(X))


def test_a_deferred_model_stands_where_the_model_stood_and_loads_once(fitted, tmp_path, monkeypatch):
    import threading

    import spamflood.model.store as store

    path = saved(fitted, tmp_path)
    calls = []
    unpickle = store._unpickle
    monkeypatch.setattr(store, "_unpickle", lambda data, p: calls.append(p) or unpickle(data, p))
    deferred = load_model(path, trusted=True, defer=True).model
    X, _, _ = toy(50, 9)
    askers = [threading.Thread(target=deferred.result) for _ in range(4)] + [threading.Thread(target=deferred.start)]
    for thread in askers:
        thread.start()
    for thread in askers:
        thread.join()
    assert np.array_equal(deferred.predict_proba(X), fitted.predict_proba(X))  # the model's own method
    assert deferred.label_names_ == fitted.label_names_ and len(calls) == 1


def test_a_deferred_model_whose_manifest_settings_were_edited_is_refused_when_unpickled(fitted, tmp_path):
    path = saved(fitted, tmp_path)
    manifest = json.loads(manifest_path(path).read_text())
    manifest["settings"]["window"] = 60.0  # the hash covers the model file, not the manifest
    manifest_path(path).write_text(json.dumps(manifest))
    deferred = load_model(path, trusted=True, defer=True).model
    with pytest.raises(ModelError, match="manifest was edited"):
        deferred.result()
    assert load_model(path, trusted=True).settings == {"window": 600.0}  # the file's own


def test_a_saved_model_has_its_trees_file_and_a_deferred_model_decides_from_it_without_unpickling(fitted, tmp_path, monkeypatch):
    import spamflood.model.store as store
    from spamflood.decision import Decider, Findings
    from spamflood.model.store import trees_path
    from spamflood.scoring import RuleScorer

    path = saved(fitted, tmp_path)
    trees = trees_path(path)
    assert trees.name == "m.trees"
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["trees"] == {"file": "m.trees", "sha256": hashlib.sha256(trees.read_bytes()).hexdigest()}
    first = trees.read_bytes()
    saved(fitted, tmp_path)  # the same model gives the same file, byte for byte
    assert trees.read_bytes() == first

    X, _, _ = toy(300, 9)
    fired = {"mass_share": X["MASS_SHARE_AUTHORS_IN_WINDOW"] >= 5}
    sentences = {"mass_share": {i: f"mass_share: {i}" for i in np.flatnonzero(fired["mass_share"]).tolist()}}
    expected = Decider(RuleScorer(), fitted).decide(Findings(X, fired, sentences, 300))
    monkeypatch.setattr(store, "_unpickle", lambda data, p: pytest.fail("unpickled to score"))
    deferred = load_model(path, trusted=True, defer=True).model
    deferred.start()  # nothing to load: the trees score
    decision = Decider(RuleScorer(), deferred).decide(Findings(X, fired, sentences, 300))
    assert np.array_equal(decision.score, expected.score)
    assert decision.labels == expected.labels and decision.reasons == expected.reasons
    assert all(np.array_equal(decision.label_scores[k], v) for k, v in expected.label_scores.items())


@pytest.mark.parametrize("damage", ["flipped byte", "missing", "not trees"])
def test_a_trees_file_that_is_not_what_the_manifest_says_refuses_the_model_by_name(fitted, tmp_path, damage):
    from spamflood.model.store import trees_path

    path = saved(fitted, tmp_path)
    trees = trees_path(path)
    if damage == "flipped byte":
        data = bytearray(trees.read_bytes())
        data[len(data) // 2] ^= 0xFF
        trees.write_bytes(bytes(data))
        match = "m.trees does not match its manifest"
    elif damage == "missing":
        trees.unlink()
        match = "m.trees, which cannot be read"
    else:  # the manifest vouches for other bytes: refused by their hash, before they are read
        manifest = json.loads(manifest_path(path).read_text())
        trees.write_bytes(b"no trees here")
        manifest["trees"]["sha256"] = hashlib.sha256(b"no trees here").hexdigest()
        manifest_path(path).write_text(json.dumps(manifest))
        match = "not a spamflood compiled trees file"
    with pytest.raises(ModelError, match=match):
        load_model(path, trusted=True, defer=True)
    assert load_model(path, trusted=True).model is not None  # the model itself does not need them


def test_a_model_with_a_text_part_decides_from_its_trees_file_as_the_model_itself(tmp_path, monkeypatch):
    """The trees file holds the text part too: a deferred detector scores, lists and explains
    (the n-grams behind a text-driven flag) without unpickling the model or importing
    scikit-learn's pipeline, and gives the unpickled model's decision."""
    import spamflood.model.store as store
    from spamflood.decision import Decider, Findings
    from spamflood.model.store import trees_path
    from spamflood.scoring import RuleScorer

    X, y, labels = toy(600, 2)
    texts = ["buy now cheap 加微信 http://x.co" if v else "see you at lunch" for v in y]
    model = FloodModel(features=NAMES, text=True, max_iter=10, random_state=0).fit({**X, "text": texts}, y, labels=labels)
    path = tmp_path / "m.joblib"
    save_model(model, path, settings={}, training={"text_model": True})
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["trees"]["sha256"] == hashlib.sha256(trees_path(path).read_bytes()).hexdigest()
    first = trees_path(path).read_bytes()
    save_model(model, path, settings={}, training={"text_model": True})
    assert trees_path(path).read_bytes() == first  # the same model, the same bytes

    rows, spam, _ = toy(60, 9)
    n = len(spam)
    posts = ["加 微 信 buy now cheap" if s else "see you at lunch" for s in spam]  # no rule fires: flags say "score:"
    expected = Decider(RuleScorer(), model).decide(Findings(rows, {}, {}, n), texts=posts)
    monkeypatch.setattr(store, "_unpickle", lambda data, p: pytest.fail("unpickled to decide"))
    deferred = load_model(path, trusted=True, defer=True).model
    assert deferred.compiled is not None and deferred.compiled.text is not None
    deferred.start()  # nothing to load
    decision = Decider(RuleScorer(), deferred).decide(Findings(rows, {}, {}, n), texts=posts)
    assert np.allclose(decision.score, expected.score, rtol=0, atol=1e-12)
    assert decision.labels == expected.labels and decision.reasons == expected.reasons
    assert any(r and r[0].startswith("score: raised by text n-grams") for r in decision.reasons)


def test_a_copy_of_the_bundled_model_is_a_foreign_file(tmp_path):
    copy = tmp_path / "copy.joblib"
    shutil.copy(bundled_model_path(), copy)
    shutil.copy(manifest_path(bundled_model_path()), manifest_path(copy))
    with pytest.raises(ModelError, match="trusted"):
        load_model(copy)
    assert load_model(copy, trusted=True).model is not None


# ---------------------------------------------------------------- metrics and labels


def test_binary_report_counts_and_threshold_for_precision():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    s = np.array([0.9, 0.8, 0.6, 0.7, 0.2, 0.1, 0.4, 0.3])
    r = binary_report(y, s, threshold=0.5, precision_target=1.0)
    assert r["confusion"] == {"tn": 3, "fp": 1, "fn": 1, "tp": 3}
    assert r["precision"] == pytest.approx(0.75) and r["recall"] == pytest.approx(0.75)
    assert r["threshold_for_precision"] == {"threshold": 0.8, "precision": 1.0, "recall": 0.5}
    assert threshold_for_precision(np.array([0, 1]), np.array([0.9, 0.1]), 0.99) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, (1, [])),
        (0, (0, [])),
        ("spam", (1, [])),
        (" HAM ", (0, [])),
        ([], (0, [])),
        (["soft_ad", "mass_share"], (1, ["soft_ad", "mass_share"])),
        (["some_other_tag"], (1, [])),
        ('["soft_ad"]', (1, ["soft_ad"])),
        ("maybe", None),
        (2, None),
        (None, None),
    ],
)
def test_label_values(value, expected):
    assert parse_label(value) == expected


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=True), st.lists(st.text(max_size=5), max_size=3), st.none()))
def test_parse_label_never_raises(value):
    parsed = parse_label(value)
    assert parsed is None or parsed[0] in (0, 1)
