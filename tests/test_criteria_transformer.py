"""CriteriaFeatures keeps the scikit-learn transformer contract."""

from __future__ import annotations

import copy
import pickle
import re
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

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
            "text": ["中秋特惠，全场8折，详询13812345678", "hello", "hi"],
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


FEED = [  # the shapes Detector.score takes: ISO times with and without offset, epoch seconds and milliseconds
    {"id": "1", "text": "中秋特惠，全场8折，详询13812345678", "author": "shop", "time": "2026-09-23T10:00:00+08:00"},
    {"id": "2", "text": "今天很开心", "author": "amy", "time": 1790136000},
    {"id": "3", "text": "中秋限时特价¥99，加V抢购", "author": "shop", "time": "2026-09-24 23:30", "followers": "12"},
    {"id": "4", "text": "Mid-Autumn sale: 20% off mooncakes", "author": "bob", "time": 1790139600000},
]


def test_records_with_iso_or_epoch_times_give_what_a_dataframe_and_a_postbatch_give() -> None:
    pd = pytest.importorskip("pandas")
    from spamflood.io.rows import RowParser

    est = CriteriaFeatures(tz="Asia/Shanghai").fit()
    snapshot = copy.deepcopy(FEED)
    X = est.transform(FEED)
    assert FEED == snapshot  # the dicts are not modified
    assert X.shape == (len(FEED), est.n_features_out_)
    np.testing.assert_array_equal(est.transform(pd.DataFrame(FEED)), X)
    np.testing.assert_array_equal(est.transform(iter(FEED)), X)  # any iterable, read once
    batch = PostBatch.from_posts(RowParser(tz="Asia/Shanghai").parse(i + 1, row) for i, row in enumerate(FEED))
    np.testing.assert_array_equal(est.transform(batch), X)
    names = list(est.get_feature_names_out())
    # "2026-09-24 23:30" has no offset: read in tz (as the CLI's --tz), the day before the festival;
    # read as UTC it would be the festival itself in Shanghai
    assert X[[0, 2], names.index("HOLIDAY_TEMPLATE_DAYS_TO")].tolist() == [2.0, 1.0]


def test_the_features_of_a_feed_are_the_detectors_for_the_same_posts_and_clusters() -> None:
    from test_detector import planted_feed

    from spamflood import Detector

    feed = planted_feed()
    for post in feed[::2]:  # half the times as ISO text, as exports give them
        post["time"] = datetime.fromtimestamp(post["time"], UTC).isoformat()
    result = Detector().score(feed)
    est = CriteriaFeatures().fit()
    X = est.transform(feed, clusters=result.clusters.labels)
    for j, name in enumerate(est.get_feature_names_out()):
        np.testing.assert_array_equal(X[:, j], np.asarray(result.features[name], dtype=np.float64), err_msg=name)


def test_a_field_absent_from_every_row_leaves_its_features_nan() -> None:
    est = CriteriaFeatures().fit()
    texts_only = est.transform([{"text": row["text"]} for row in FEED])  # no id needed either
    np.testing.assert_array_equal(texts_only, est.transform([row["text"] for row in FEED]))
    no_authors = est.transform([{k: v for k, v in row.items() if k != "author"} for row in FEED])
    names = list(est.get_feature_names_out())
    for j, name in enumerate(names):
        if FEATURES[name].kind == "account" or name.startswith("AUTO_POSTING_"):
            assert np.isnan(no_authors[:, j]).all(), name  # unknown accounts, not four one-post accounts


def test_a_row_the_parsing_rejects_is_refused_with_its_row_and_field() -> None:
    pd = pytest.importorskip("pandas")
    est = CriteriaFeatures(families=["soft_ad"]).fit()
    rows = [*FEED[:2], {"id": "x", "text": ""}, {"id": "y", "text": None}]
    with pytest.raises(InputError, match=r"line 3, field 'text': missing or empty.*\(and 1 more row that cannot be read\)"):
        est.transform(rows)
    # time is optional here: an unreadable one is read as missing, as the detector reads it
    assert est.transform([*FEED[:2], {"id": "x", "text": "hi", "time": "yesterday"}]).shape[0] == 3
    with pytest.raises(InputError, match=r"line 2, field 'text': missing or empty"):
        est.transform(pd.DataFrame({"text": ["ok", None]}))


def test_a_postbatch_is_not_modified() -> None:
    batch = PostBatch.from_posts(Post(id=str(i), text=t, author="a", time=float(i)) for i, t in enumerate(TEXTS))
    texts, times = list(batch.texts), batch.times.copy()
    CriteriaFeatures().fit().transform(batch)
    assert batch.texts == texts and np.array_equal(batch.times, times)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tz": "Mars/Olympus"}, r"The 'tz' parameter of CriteriaFeatures must be an IANA time zone like 'Asia/Shanghai' or 'UTC'. Got 'Mars/Olympus' instead."),
        ({"tz": 8}, r"The 'tz' parameter of CriteriaFeatures must be an instance of 'str'. Got 8 instead."),
        ({"families": ["soft_ads"]}, r"The 'families' parameter of CriteriaFeatures must be None or a list of families among \[.*'soft_ad'.*Got \['soft_ads'\] instead."),
        ({"families": ["mass_share"]}, r"mass_share and repetition come from the cluster stage\). Got \['mass_share'\] instead."),
        ({"families": "soft_ad"}, r"The 'families' parameter of CriteriaFeatures must be None or an array-like. Got 'soft_ad' instead."),
        ({"families": []}, r"The 'families' parameter of CriteriaFeatures must be None or a list naming at least one family. Got \[\] instead."),
        ({"min_posts": 1}, r"The 'min_posts' parameter of CriteriaFeatures must be an int in the range \[2, inf\). Got 1 instead."),
        ({"min_accounts": 2.5}, r"The 'min_accounts' parameter of CriteriaFeatures must be an int in the range \[2, inf\). Got 2.5 instead."),
        ({"normalized": "yes"}, r"The 'normalized' parameter of CriteriaFeatures must be an instance of 'bool'"),
        ({"created_window": "soon"}, r"The 'created_window' parameter of CriteriaFeatures must be a positive duration like '90s'.*Got 'soon' instead."),
        ({"created_window": -1}, r"The 'created_window' parameter of CriteriaFeatures must be an instance of 'str' or a float in the range \(0.0, inf\). Got -1 instead."),
    ],
)
def test_bad_parameters_are_refused_at_fit(params: dict, message: str) -> None:
    est = CriteriaFeatures(**params)  # __init__ only stores (scikit-learn's convention; clone relies on it)
    with pytest.raises(ConfigError, match=message):
        est.fit(TEXTS)
    with pytest.raises(ConfigError, match=message):
        CriteriaFeatures().set_params(**params).fit(TEXTS)


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


def _readme_pipeline() -> str:
    """The README's pipeline example: the python block that fits a pipeline on CriteriaFeatures."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    found = [b for b in blocks if "make_pipeline(" in b and "CriteriaFeatures()" in b]
    assert len(found) == 1, "the README shows one pipeline example"
    return found[0]


def test_the_readmes_pipeline_example_runs_as_written(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _readme_pipeline()], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    accuracy = float(re.fullmatch(r"accuracy on held-out posts: (\d\.\d\d)\n", done.stdout).group(1))
    assert accuracy >= 0.9


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
