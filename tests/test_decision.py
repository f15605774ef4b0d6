"""The decision step: findings -> labels (exactly the fired ones), reasons and score."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamflood.criteria.registry import FEATURES
from spamflood.criteria.rules import RULES
from spamflood.decision import Decider, Findings, explain, feature_sentence
from spamflood.scoring import CRITERIA_STRENGTH, RuleScorer


def test_labels_come_strongest_first_ties_by_name_with_their_reasons():
    order = {
        "soft_ad": np.array([0.6, 0.0, 0.9, 0.0]),
        "mass_share": np.array([0.6, 0.0, 0.2, 0.0]),
        "repetition": np.array([0.7, 0.0, 0.0, np.nan]),
    }
    sentences = {"soft_ad": {0: "soft_ad: price", 2: "soft_ad: discount"}, "repetition": {0: "repetition: 3 copies"}}
    values = {"MASS_SHARE_AUTHORS_IN_WINDOW": np.array([7.0, 0.0, 5.0, 0.0])}
    labels, said = explain(order, sentences, 4, values)
    assert labels == [["repetition", "mass_share", "soft_ad"], [], ["soft_ad", "mass_share"], []]
    # a fired label without its own sentence is explained by its feature values, never by the model
    assert said[0] == ["repetition: 3 copies", "mass_share: most accounts posting the copy in one window 7", "soft_ad: price"]
    assert said[2] == ["soft_ad: discount", "mass_share: most accounts posting the copy in one window 5"]


def test_a_fired_label_with_none_of_its_features_known_is_a_bug_not_a_guess():
    with pytest.raises(AssertionError, match="mass_share fired on post 0"):
        feature_sentence("mass_share", {"MASS_SHARE_AUTHORS_IN_WINDOW": np.array([np.nan])}, 0)


@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.dictionaries(
                st.sampled_from(["soft_ad", "repetition", "mass_share", "chicken_soup"]),
                st.lists(st.sampled_from([0.0, 0.0, 0.3, 0.5, 0.9, float("nan")]), min_size=n, max_size=n),
                min_size=1,
            ),
        )
    )
)
def test_every_post_lists_exactly_its_fired_labels_ranked_each_with_its_sentence(case):
    n, columns = case
    order = {name: np.array(values) for name, values in columns.items()}
    sentences = {name: {i: f"{name}: seen on {i}" for i in range(n)} for name in columns}
    labels, said = explain(order, sentences, n)
    for i in range(n):
        fired = sorted((name for name in order if order[name][i] > 0), key=lambda name: (-order[name][i], name))
        assert labels[i] == fired
        assert said[i] == [f"{name}: seen on {i}" for name in fired]


class _Model:
    """A stand-in model: its score is fixed, its label heads claim labels that did not fire."""

    text = False

    def score_all(self, X, *, label_floor=0.0):
        n = len(next(iter(X.values())))
        heads = {"mass_share": np.full(n, 0.9), "soft_ad": np.full(n, 0.99), "batch_accounts": np.full(n, 0.95)}
        return np.full(n, 0.97), heads

    def contributions(self, X, groups):
        n = len(next(iter(X.values())))
        return {group: np.full(n, 0.1 if group == "mass_share" else 0.0) for group in groups}


def _findings() -> Findings:
    n = 3
    values = {
        "MASS_SHARE_AUTHORS_IN_WINDOW": np.array([6.0, 1.0, 0.0]),
        "REPETITION_SAME_AUTHOR_COPIES": np.array([1.0, 1.0, np.nan]),
        "SOFT_AD_SIGNALS": np.array([2.0, 0.0, 0.0]),
    }
    fired = {
        "mass_share": np.array([True, False, False]),
        "repetition": np.array([False, False, False]),
        "soft_ad": np.array([True, False, False]),
    }
    sentences = {
        "mass_share": {0: "mass_share: 6 near-identical posts from 6 accounts within 3 min"},
        "soft_ad": {0: 'soft_ad: price "¥99"; contact handle "加v"'},
    }
    return Findings(values, fired, sentences, n)


def test_the_model_gives_the_score_but_never_adds_or_hides_a_label():
    decision = Decider(RuleScorer(min_authors=5), _Model()).decide(_findings())
    assert decision.score.tolist() == [0.97, 0.97, 0.97]  # flagged everywhere by the model...
    assert decision.labels == [["soft_ad", "mass_share"], [], []]  # ...but labels only where their rules fired
    # a flag without a fired rule is explained by the features that raised it, with their values, as no label
    assert decision.reasons[1] == ["score: raised by mass_share features: most accounts posting the copy in one window 1"]
    assert decision.reasons[0] == ['soft_ad: price "¥99"; contact handle "加v"', "mass_share: 6 near-identical posts from 6 accounts within 3 min"]
    assert decision.label_scores["soft_ad"].tolist() == [0.99, 0.0, 0.0]
    assert "batch_accounts" not in decision.label_scores


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="this platform does not fork")
def test_the_score_reasons_made_in_a_forked_copy_are_those_made_here():
    from spamflood._forked import Forked

    decider = Decider(RuleScorer(min_authors=5), _Model())
    started = []

    def beside(call):
        started.append(call)
        return Forked(call)

    here, there = decider.decide(_findings()), decider.decide(_findings(), beside=beside)
    assert len(started) == 1  # posts 1 and 2: flagged, no label
    assert there.reasons == here.reasons and there.labels == here.labels
    assert there.reasons[1][0].startswith("score: raised by")


def test_only_a_compiled_model_is_offered_to_a_forked_copy():
    from spamflood import Detector

    assert not Decider(RuleScorer(min_authors=5)).compiled  # no model
    assert not Decider(RuleScorer(min_authors=5), _Model()).compiled  # scored as it is (scikit-learn's pool)
    assert Detector.load().decider.compiled  # the bundled model: its trees file, the compiled loop


def test_a_failure_while_the_labels_are_explained_gives_up_the_score_reasons_started_beside(monkeypatch):
    import spamflood.decision as decision

    closed = []

    class Started:
        def result(self):
            raise AssertionError("not asked for: the labels failed first")

        def close(self):
            closed.append(True)

    def failing(*args, **kwargs):
        raise MemoryError("no room for the reasons")

    monkeypatch.setattr(decision, "explain", failing)
    with pytest.raises(MemoryError, match="no room"):
        Decider(RuleScorer(min_authors=5), _Model()).decide(_findings(), beside=lambda call: Started())
    assert closed == [True]


def test_rules_and_model_list_the_same_labels_and_differ_only_in_the_score():
    by_rules = Decider(RuleScorer(min_authors=5)).decide(_findings())
    by_model = Decider(RuleScorer(min_authors=5), _Model()).decide(_findings())
    assert [sorted(x) for x in by_rules.labels] == [sorted(x) for x in by_model.labels]
    mass = 1 - 0.5 ** (6 / 5)
    assert by_rules.score[0] == pytest.approx(1 - (1 - mass) * (1 - CRITERIA_STRENGTH))
    assert by_rules.score[1:].tolist() == [0.0, 0.0]


def test_the_detectors_min_authors_is_the_rules_threshold():
    # one value for the feature, the rule and the label: no second copy in rules.toml
    assert RULES.threshold("MASS_SHARE_AUTHORS_IN_WINDOW") == 5
    scorer = RuleScorer(min_authors=10, min_copies=4)
    assert scorer.rules.threshold("MASS_SHARE_AUTHORS_IN_WINDOW") == 10
    assert scorer.rules.threshold("REPETITION_SAME_AUTHOR_COPIES") == 4


def test_findings_join_in_registry_order_and_refuse_different_lengths():
    a = Findings({"SOFT_AD_PRICE": np.zeros(2)}, {"soft_ad": np.zeros(2, bool)}, {}, 2)
    b = Findings({"MASS_SHARE_CLUSTER_SIZE": np.ones(2)}, {"mass_share": np.zeros(2, bool)}, {}, 2)
    joined = Findings.join([a, b])
    assert list(joined.values) == ["MASS_SHARE_CLUSTER_SIZE", "SOFT_AD_PRICE"]
    assert list(joined.fired) == ["mass_share", "soft_ad"]
    with pytest.raises(ValueError, match="different lengths"):
        Findings.join([a, Findings.empty(3)])


class _CountingModel:
    """A stand-in model honouring ``label_floor``: its score is the post's ``SOFT_AD_SIGNALS``
    over 4, and it counts the rows its label heads ran on."""

    text = False

    def __init__(self) -> None:
        self.head_rows = 0

    def score_all(self, X, *, label_floor=0.0):
        score = np.asarray(X["SOFT_AD_SIGNALS"], dtype=np.float64) / 4
        ran = score >= label_floor
        self.head_rows += int(ran.sum())
        heads = {"mass_share": np.where(ran, 0.6, 0.0), "soft_ad": np.where(ran, 0.8, 0.0)}
        return score, heads


def test_the_label_heads_run_only_where_a_post_has_two_labels_to_order():
    values = {
        "MASS_SHARE_AUTHORS_IN_WINDOW": np.array([6.0, 6.0, 0.0, 6.0]),
        "SOFT_AD_SIGNALS": np.array([3.0, 0.0, 3.0, 0.5]),
    }
    fired = {
        "mass_share": np.array([True, True, False, True]),
        "soft_ad": np.array([True, False, True, True]),
    }
    sentences = {"mass_share": {i: f"mass_share: {i}" for i in (0, 1, 3)}, "soft_ad": {i: f"soft_ad: {i}" for i in (0, 2, 3)}}
    model = _CountingModel()
    decision = Decider(RuleScorer(min_authors=5), model).decide(Findings(values, fired, sentences, 4))
    assert decision.score.tolist() == [0.75, 0.0, 0.75, 0.125]
    # post 0: two labels, ordered by the heads; post 3 lists two but scores under the floor:
    # ordered by the rule strengths (soft_ad's fixed strength above mass_share's curve at 6)
    assert decision.labels == [["soft_ad", "mass_share"], ["mass_share"], ["soft_ad"], ["soft_ad", "mass_share"]]
    assert model.head_rows == 1
    assert decision.label_scores["soft_ad"].tolist() == [0.8, 0.0, 0.0, 0.0]
    assert decision.label_scores["mass_share"].tolist() == [0.6, 0.0, 0.0, 0.0]


def _coordinated_findings() -> Findings:
    """:func:`_findings` with ``coordinated`` fired on post 1 (a group of 10 accounts)."""
    findings = _findings()
    findings.values["COORDINATED_ACCOUNTS"] = np.array([np.nan, 10.0, 0.0])
    findings.values["COORDINATED_COPOSTS"] = np.array([np.nan, 4.0, 0.0])
    findings.fired["coordinated"] = np.array([False, True, False])
    findings.sentences["coordinated"] = {1: "coordinated: #tag from 10 accounts, 40 posts in 2 h; 30 pairs co-posted within 60 s, median 4 times"}
    return findings


class _ModelBeforeCoordination(_Model):
    """The stand-in as a model fitted before the coordinated family: it names its inputs
    (``feature_names_in_``), and none is coordinated's."""

    feature_names_in_ = np.array([f.name for f in FEATURES.values() if f.model_input and f.label != "coordinated"], dtype=object)


def test_a_label_the_model_reads_no_feature_of_adds_its_rule_strength_to_the_model_score():
    findings = _coordinated_findings()
    decision = Decider(RuleScorer(min_authors=5), _ModelBeforeCoordination()).decide(findings)
    strength = 1 - 0.5 ** (10 / 5)  # the coordinated curve at twice min_authors
    # the model reads mass_share and soft_ad (post 0 keeps its score) but no coordinated feature
    assert decision.score.tolist() == pytest.approx([0.97, 1 - (1 - 0.97) * (1 - strength), 0.97])
    assert decision.labels == [["soft_ad", "mass_share"], ["coordinated"], []]
    assert decision.reasons[1] == [findings.sentences["coordinated"][1]]


def test_a_label_the_model_reads_is_scored_by_the_model_alone():
    """A model that names no inputs reads the registry's model inputs, coordinated's among
    them: the label is listed with its evidence and the score is the model's."""
    findings = _coordinated_findings()
    decision = Decider(RuleScorer(min_authors=5), _Model()).decide(findings)
    assert decision.score.tolist() == pytest.approx([0.97, 0.97, 0.97])
    assert decision.labels[1] == ["coordinated"]
    assert decision.reasons[1] == [findings.sentences["coordinated"][1]]


class _ModelBlindToFanFarming(_Model):
    """The stand-in as a model that reads every registry input, fan_farming's included, but
    whose overall score splits on none of fan_farming's (its training posts never showed it)."""

    feature_names_in_ = np.array([f.name for f in FEATURES.values() if f.model_input], dtype=object)

    def weighed_features(self) -> frozenset[str]:
        return frozenset(f.name for f in FEATURES.values() if f.model_input and f.label != "fan_farming")


def test_a_label_whose_features_the_models_score_never_splits_on_adds_its_rule_strength():
    findings = _findings()
    findings.values["FAN_FARMING_BEG"] = np.array([0.0, 2.0, 0.0])
    findings.fired["fan_farming"] = np.array([False, True, False])
    findings.sentences["fan_farming"] = {1: 'fan_farming: asks for followers "subscribe to me", "sub back"'}
    decision = Decider(RuleScorer(min_authors=5), _ModelBlindToFanFarming()).decide(findings)
    # read (feature_names_in_) but not weighed: the label's strength (0.6) raises its own post
    assert decision.score.tolist() == pytest.approx([0.97, 1 - (1 - 0.97) * (1 - 0.6), 0.97])
    assert decision.labels[1] == ["fan_farming"]
    assert decision.reasons[1] == [findings.sentences["fan_farming"][1]]
    # a model whose score weighs one of its features scores the post alone
    weighs_it = _ModelBlindToFanFarming()
    weighs_it.weighed_features = lambda: frozenset(weighs_it.feature_names_in_.tolist())  # type: ignore[method-assign]
    assert Decider(RuleScorer(min_authors=5), weighs_it).decide(findings).score.tolist() == pytest.approx([0.97] * 3)


class _ModelBlindToPayAccounts(_ModelBlindToFanFarming):
    """A model whose overall score splits on every registry input but the bank account to pay into."""

    def weighed_features(self) -> frozenset[str]:
        return frozenset(f.name for f in FEATURES.values() if f.model_input and f.name != "SOFT_AD_PAY_ACCOUNT")


def test_a_label_fired_by_evidence_the_model_does_not_weigh_alone_adds_its_strength_on_that_post():
    """soft_ad fires by any of its rules; where only the unweighed one holds (a bank account,
    one weak signal) the model never saw why: its strength is added on that post alone. A
    feature that is no model input by design (the account's own batch signs) raises nothing."""
    n = 4
    values = {
        "SOFT_AD_SIGNALS": np.array([1.0, 3.0, 0.0, 0.0]),  # hits from 2
        "SOFT_AD_PHRASES": np.array([0.0, 0.0, 0.0, 0.0]),
        "SOFT_AD_EVASION": np.array([0.0, 0.0, 0.0, 0.0]),
        "SOFT_AD_PAY_ACCOUNT": np.array([1.0, 1.0, 0.0, 0.0]),
        "BATCH_ACCOUNTS_ACCOUNT_TWIN": np.array([np.nan, np.nan, np.nan, 1.0]),
    }
    fired = {"soft_ad": np.array([True, True, False, False]), "batch_accounts": np.array([False, False, False, True])}
    sentences = {
        "soft_ad": {0: 'soft_ad: bank account "建行卡号6222"', 1: 'soft_ad: price "¥99"; bank account "建行卡号6222"'},
        "batch_accounts": {3: "batch_accounts: its account created 2026-01-02 10:00 UTC, with a twin"},
    }
    decision = Decider(RuleScorer(min_authors=5), _ModelBlindToPayAccounts()).decide(Findings(values, fired, sentences, n))
    assert decision.score.tolist() == pytest.approx([1 - (1 - 0.97) * (1 - 0.6), 0.97, 0.97, 0.97])
    assert decision.labels == [["soft_ad"], ["soft_ad"], [], ["batch_accounts"]]


class _LowModel(_ModelBeforeCoordination):
    SCORE = 0.0225140712945591

    def score_all(self, X, *, label_floor=0.0):
        score, heads = super().score_all(X, label_floor=label_floor)
        return np.full(score.shape, self.SCORE), heads


def test_a_post_no_uncovered_label_fired_on_keeps_the_models_score_to_the_last_bit():
    # A stream decides posts in batches of any size: a post's score must not depend on whether
    # another post of its batch fired a label the model does not read (1 - (1 - s) != s in floats).
    findings = _coordinated_findings()
    model = _LowModel()
    assert 1 - (1 - _LowModel.SCORE) != _LowModel.SCORE  # a score that does not survive the round trip
    alone = Decider(RuleScorer(min_authors=5), model).decide(_findings()).score
    together = Decider(RuleScorer(min_authors=5), model).decide(findings).score
    assert together[1] > alone[1]  # the label the model does not read raised its own post
    assert together[0] == alone[0] and together[2] == alone[2]


class _ModelBlindToCoordination(_ModelBlindToFanFarming):
    """A model whose overall score splits on no coordinated feature (it reads them)."""

    def weighed_features(self) -> frozenset[str]:
        return frozenset(f.name for f in FEATURES.values() if f.model_input and f.label != "coordinated")


def test_a_blind_label_fired_under_a_threshold_the_decision_is_not_given_still_adds_its_strength():
    """coordinated fires with the detector's min_coposts (here 2), which the decision's rules do
    not hold: its only rule is blind, so the label having fired is the evidence, not a second
    look at the threshold."""
    findings = _coordinated_findings()
    findings.values["COORDINATED_COPOSTS"] = np.array([np.nan, 2.0, 0.0])  # under the default 3
    decision = Decider(RuleScorer(min_authors=5), _ModelBlindToCoordination()).decide(findings)
    strength = 1 - 0.5 ** (10 / 5)
    assert decision.score.tolist() == pytest.approx([0.97, 1 - (1 - 0.97) * (1 - strength), 0.97])


class _ModelBlindToRoundMinutes(_ModelBlindToFanFarming):
    """A model whose overall score splits on every registry input but the share of posts on round minutes."""

    def weighed_features(self) -> frozenset[str]:
        return frozenset(f.name for f in FEATURES.values() if f.model_input and f.name != "AUTO_POSTING_ROUND_MINUTE")


def test_a_label_fired_by_a_rule_whose_columns_are_not_all_given_is_not_taken_for_the_blind_one():
    """auto_posting fired on both posts; the gate of its whole-minute rule (ON_THE_MINUTE) is
    not among the findings, so the label may have fired by that rule. Post 0's weighed
    ZERO_SECONDS hits and its blind ROUND_MINUTE does not: the model saw why, its score stays.
    Post 1 has only the blind rule holding: its strength is added."""
    values = {
        "AUTO_POSTING_GAP_CV": np.array([0.5, 0.5]),
        "AUTO_POSTING_GAP_SPREAD": np.array([600.0, 600.0]),
        "AUTO_POSTING_ZERO_SECONDS": np.array([0.9, 0.0]),
        "AUTO_POSTING_ROUND_MINUTE": np.array([0.0, 0.9]),
    }
    fired = {"auto_posting": np.array([True, True])}
    sentences = {"auto_posting": {0: "auto_posting: 90% of its posts at :00 seconds", 1: "auto_posting: 90% of its posts on round minutes"}}
    decision = Decider(RuleScorer(min_authors=5), _ModelBlindToRoundMinutes()).decide(Findings(values, fired, sentences, 2))
    assert decision.score.tolist() == pytest.approx([0.97, 1 - (1 - 0.97) * (1 - CRITERIA_STRENGTH)])
    assert decision.labels == [["auto_posting"], ["auto_posting"]]


@pytest.mark.parametrize("model", [None, _Model(), _ModelBeforeCoordination(), _ModelBlindToCoordination()])
def test_the_score_alone_is_the_decisions_score(model):
    """What a benchmark reads without labels or reasons is the score decide gives, to the bit,
    with a model, with one blind to a label that fired, and with the rules alone."""
    findings = _coordinated_findings()
    decider = Decider(RuleScorer(min_authors=5), model)
    assert decider.score(findings).tolist() == decider.decide(findings).score.tolist()
