"""CriteriaFeatures keeps the scikit-learn transformer contract."""

from __future__ import annotations

import pickle
import warnings
from datetime import UTC, datetime

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as ec

from spamflood.criteria import COMPUTED_HERE, FEATURES, CriteriaFeatures, feature_names
from spamflood.errors import ConfigError, InputError
from spamflood.posts import Post, PostBatch

TEXTS = ["限时特价¥99，加V抢购", "今天很开心", "中秋特惠，全场8折", "Call 09061701461 now to claim your prize"]
TEXT_KINDS = {"text"}


def test_feature_names_are_the_registry_names_in_order() -> None:
    est = CriteriaFeatures().fit(TEXTS)
    assert list(est.get_feature_names_out()) == feature_names(COMPUTED_HERE)
    assert est.n_features_out_ == len(est.feature_names_out_)
    only = CriteriaFeatures(families=["microbusiness", "soft_ad"]).fit()
    assert all(FEATURES[n].label in ("soft_ad", "microbusiness") for n in only.get_feature_names_out())
    assert str(only.get_feature_names_out()[0]).startswith("SOFT_AD_")  # registry order, not argument order


def test_transform_before_fit_is_refused() -> None:
    with pytest.raises(NotFittedError):
        CriteriaFeatures().transform(TEXTS)
    with pytest.raises(NotFittedError):
        CriteriaFeatures().get_feature_names_out()


def test_texts_alone_give_nan_for_every_feature_that_needs_more() -> None:
    est = CriteriaFeatures().fit()
    X = est.transform(TEXTS)
    assert X.dtype == np.float64 and X.shape == (len(TEXTS), est.n_features_out_)
    for j, name in enumerate(est.get_feature_names_out()):
        if FEATURES[name].kind in TEXT_KINDS:
            assert np.isfinite(X[:, j]).all(), name
        else:
            assert np.isnan(X[:, j]).all(), name


def test_each_text_feature_depends_on_its_own_row_only() -> None:
    est = CriteriaFeatures(families=["soft_ad", "microbusiness"]).fit()
    together = est.transform(TEXTS)
    alone = np.vstack([est.transform([t]) for t in TEXTS])
    np.testing.assert_array_equal(together, alone)
    assert est.transform([]).shape == (0, est.n_features_out_)


def test_clone_and_pickle_round_trip() -> None:
    est = CriteriaFeatures(families=["soft_ad"], tz="Asia/Shanghai", min_posts=4).fit(TEXTS)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "feature_names_out_")
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.transform(TEXTS), est.transform(TEXTS))
    np.testing.assert_array_equal(back.get_feature_names_out(), est.get_feature_names_out())


def test_a_dataframe_with_canonical_columns() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "text": ["中秋特惠，全场8折，详询13812345678", None, "hi"],
            "author": ["a", "b", "a"],
            "time": pd.to_datetime(["2026-09-23 10:00", "2026-09-23 11:00", None], utc=True),
            "followers": [1, None, 3],
        }
    )
    before = frame.copy(deep=True)
    est = CriteriaFeatures(families=["holiday_template", "batch_accounts"]).fit()
    X = est.transform(frame)
    pd.testing.assert_frame_equal(frame, before)  # the input is not modified
    names = list(est.get_feature_names_out())
    assert X[0, names.index("HOLIDAY_TEMPLATE_DAYS_TO")] == 2.0
    assert np.isnan(X[:, names.index("BATCH_ACCOUNTS_NAME_TEMPLATE")]).all()  # no clusters, no names
    epoch = pd.DataFrame({"text": ["中秋特惠8折"], "time": [datetime(2026, 9, 23, tzinfo=UTC).timestamp()]})
    assert est.transform(epoch)[0, names.index("HOLIDAY_TEMPLATE_DAYS_TO")] == 2.0


def test_a_postbatch_is_not_modified() -> None:
    batch = PostBatch.from_posts(Post(id=str(i), text=t, author="a", time=float(i)) for i, t in enumerate(TEXTS))
    texts, times = list(batch.texts), batch.times.copy()
    CriteriaFeatures().fit().transform(batch)
    assert batch.texts == texts and np.array_equal(batch.times, times)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tz": "Mars/Olympus"}, r"The 'tz' parameter of CriteriaFeatures must be an IANA time zone"),
        ({"families": ["soft_ads"]}, r"The feature family 'soft_ads' is not computed"),
        ({"families": ["mass_share"]}, r"mass_share and repetition come from the cluster stage"),
        ({"families": "soft_ad"}, r"must be a list of family names"),
        ({"families": []}, r"must name at least one family"),
        ({"min_posts": 1}, r"The 'min_posts' parameter of CriteriaFeatures must be an int >= 2. Got 1"),
        ({"created_window": "soon"}, r"The 'created_window' parameter must be a duration"),
    ],
)
def test_bad_parameters_are_refused_at_fit(params: dict, message: str) -> None:
    est = CriteriaFeatures(**params)  # __init__ only stores
    with pytest.raises(ConfigError, match=message):
        est.fit(TEXTS)


def test_bad_input_is_refused_with_the_row() -> None:
    est = CriteriaFeatures(families=["soft_ad"]).fit()
    with pytest.raises(InputError, match=r"line 2, field 'text': expected a str, got int"):
        est.transform(["ok", 3])
    with pytest.raises(ConfigError, match=r"got an array of shape \(2, 3\)"):
        est.transform(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="got a single str"):
        est.transform("one text")
    with pytest.raises(ConfigError, match=r"The 'clusters' parameter must hold one id per post \(2\)"):
        est.transform(["a", "b"], clusters=[0])


def test_it_feeds_a_scikit_learn_pipeline() -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = TEXTS * 10
    y = np.array([1, 0, 1, 1] * 10)
    imputer = SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True)
    model = make_pipeline(CriteriaFeatures(), imputer, LogisticRegression())
    assert model.fit(texts, y).predict(TEXTS).tolist() == [1, 0, 1, 1]


# The estimator takes text, not numeric 2-D arrays, so the numeric checks of
# sklearn.utils.estimator_checks do not apply (check_estimator skips them for string input).
# This is the subset about the estimator API itself, all of which it passes.
API_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params",
    "check_estimators_unfitted",
    "check_fit_check_is_fitted",
    "check_get_feature_names_out_error",
    "check_get_params_invariance",
    "check_mixin_order",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_set_params",
    "check_valid_tag_types",
]


@pytest.mark.parametrize("check", API_CHECKS)
def test_sklearn_api_checks(check: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(ec, check)("CriteriaFeatures", CriteriaFeatures(families=["soft_ad"]))


def test_check_estimator_runs_what_applies_to_text_input() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = ec.check_estimator(CriteriaFeatures(families=["soft_ad"]), on_fail=None)
    assert results and all(r["status"] == "passed" for r in results)
