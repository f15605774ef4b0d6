"""benchmarks/real_data.py: the models it fits and the options it refuses (the run itself is a benchmark)."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import real_data


def test_the_flood_models_carry_the_calibration_asked_for_and_the_baseline_stays_plain() -> None:
    models = real_data._models(True, 3, calibration="sigmoid")
    assert list(models) == ["text", "spamflood", "spamflood+text", "spamflood+text stacked", "baseline"]
    for name in ("spamflood", "spamflood+text", "spamflood+text stacked"):
        params = models[name]().get_params()
        assert (params["calibration"], params["context_dropout"], params["random_state"]) == ("sigmoid", 0.3, 3)
    assert models["spamflood+text"]().text and not models["spamflood"]().text
    assert (models["spamflood+text"]().text_join, models["spamflood+text stacked"]().text_join) == ("blend", "stack")
    assert [step for step, _ in models["baseline"]().steps] == ["tfidfvectorizer", "logisticregression"]


def test_an_unknown_model_name_is_a_usage_error_naming_it(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        real_data.main(["--models", "spamflood,nope", "--zero-shot"])
    assert exit_.value.code == 2
    assert "--models: nope not among" in capsys.readouterr().err
