"""Accounts scored on their own: features, labels as evidence, the scorer, feeds of posts.

Hand-built profiles: a batch of templated accounts registered within minutes beside ordinary
accounts made years apart. The bundled account model (fitted on synthetic profiles) flags the
batch and not the others; ``batch_accounts`` fires on the batch only and quotes its facts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spamflood
from spamflood.accounts import AccountScorer, AccountTable
from spamflood.accounts.columns import stem_twins
from spamflood.accounts.features import ACCOUNT_FEATURES, AccountFeatures, created_burst, template_counts

T0 = 1_767_434_400.0  # 2026-01-03 10:00 UTC


def profiles(batch: int = 6) -> AccountTable:
    """``batch`` accounts shop_deal_NN made 70 s apart with empty bios and bought follows, and
    four ordinary ones made years apart."""
    names = [f"shop_deal_{k:02d}" for k in range(batch)] + ["Alice Martin", "Bob", "Chen Wei", "Dana"]
    return AccountTable.from_profiles(
        [f"b{k}" for k in range(batch)] + ["alice", "bob", "chen", "dana"],
        author_name=names,
        author_bio=[""] * batch + ["runner, reader", "coffee and code", "photography", "teacher"],
        author_created=[T0 + 70 * k for k in range(batch)]
        + [T0 - 3000 * 86400, T0 - 2000 * 86400, T0 - 900 * 86400, T0 - 400 * 86400],
        followers=[2, 1, 0, 3, 1, 4][:batch] + [340, 90, 1200, 75],
        following=[800, 950, 1200, 700, 640, 990][:batch] + [210, 150, 300, 120],
        statuses=[3, 0, 5, 1, 2, 0][:batch] + [5400, 800, 12000, 2100],
    )


def test_the_bundled_model_flags_a_registration_batch_and_not_ordinary_accounts() -> None:
    result = AccountScorer.load().score_accounts(profiles())
    assert result.flagged.tolist() == [True] * 6 + [False] * 4
    assert result.labels == [["batch_accounts"]] * 6 + [[]] * 4


def test_batch_accounts_quotes_the_facts_it_fired_on() -> None:
    result = AccountScorer().score_accounts(profiles())
    assert result.reasons[0] == [
        "batch_accounts: created 2026-01-03 10:00 UTC, 5 other accounts within 10 min; "
        "name 'shop_deal_00' shares its stem with 5 others; empty profile; follows 800, followed by 2"
    ]
    assert result.reasons[6:] == [[]] * 4


def test_a_burst_alone_is_no_label() -> None:
    """Ordinary accounts that happen to be created in the same minutes, with distinct names,
    profiles and ordinary follows: no second sign of a tool, no label."""
    t = AccountTable.from_profiles(
        ["ann", "ben", "cat"],
        author_name=["Ann", "Ben", "Cat"],
        author_bio=["reader", "runner", "cook"],
        author_created=[T0, T0 + 60, T0 + 120],
        followers=[100, 200, 300],
        following=[100, 200, 300],
    )
    assert AccountScorer().score_accounts(t).labels == [[], [], []]


def test_a_registration_sign_without_a_burst_is_no_label() -> None:
    """An empty profile or a bought account's follows is a sign of a tool only beside a burst:
    11% of cresci-2017's genuine accounts carry one (empty bio 10.9%, follow pattern 0.9%),
    and none of them is in a burst, so none lists the label."""
    t = AccountTable.from_profiles(
        ["ann", "ben", "cat", "dan", "eve"],
        author_name=["Ann", "Ben", "Cat", "Dan", "Eve"],
        author_bio=["", "", "", "", ""],
        author_created=[T0 - k * 200 * 86400 for k in range(5)],
        followers=[2, 1, 0, 3, 1],
        following=[800, 950, 1200, 700, 640],
    )
    result = AccountScorer().score_accounts(t)
    assert (result.features["ACCOUNT_EMPTY_PROFILE"] == 1).all() and (result.features["ACCOUNT_BOUGHT_FOLLOW"] == 1).all()
    assert result.labels == [[]] * 5


def test_a_burst_of_unrelated_names_needs_min_accounts() -> None:
    t = profiles()
    t.author_name = [f"{w} deals" for w in ("sun", "moon", "star", "sky", "sea", "rain")] + t.author_name[6:]  # no stem
    assert AccountScorer(min_accounts=7).score_accounts(t).labels == [[]] * 10
    assert AccountScorer(min_accounts=6).score_accounts(t).labels[:6] == [["batch_accounts"]] * 6


def test_accounts_sharing_a_name_stem_made_within_the_window_are_a_tools_batch_whatever_min_accounts() -> None:
    result = AccountScorer(min_accounts=7).score_accounts(profiles())
    assert result.labels == [["batch_accounts"]] * 6 + [[]] * 4
    assert result.reasons[0] == [
        "batch_accounts: created 2026-01-03 10:00 UTC, 5 other accounts within 10 min; "
        "name 'shop_deal_00' shares its stem with 5 other accounts created within 10 min of it; empty profile; "
        "follows 800, followed by 2"
    ]


def test_absent_fields_give_nan_features_and_no_label() -> None:
    t = AccountTable.from_profiles(["a1", "a2", "a3"], followers=[1, 2, 3])
    result = AccountScorer().score_accounts(t)
    for name in (
        "ACCOUNT_CREATED_BURST",
        "ACCOUNT_NAME_TEMPLATE",
        "ACCOUNT_EMPTY_PROFILE",
        "ACCOUNT_FOLLOW_RATIO",
        "ACCOUNT_AGE_DAYS",
    ):
        assert np.isnan(result.features[name]).all(), name
    assert result.labels == [[], [], []]
    assert result.records(features=True)[0]["ACCOUNT_EMPTY_PROFILE"] is None


def test_monotone_more_accounts_in_the_burst_never_lower_the_score() -> None:
    scorer = AccountScorer.load()
    scores = [scorer.score_accounts(profiles(batch)).score[0] for batch in (3, 4, 5, 6)]
    assert scores == sorted(scores)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 5000).map(float)), max_size=40), st.integers(1, 600))
def test_created_burst_counts_the_other_accounts_within_the_window(created: list[float | None], window: int) -> None:
    c = np.array([np.nan if v is None else v for v in created], dtype=np.float64)
    got = created_burst(c, float(window))
    for i, v in enumerate(c):
        expected = math.nan if np.isnan(v) else sum(1 for j, w in enumerate(c) if j != i and abs(w - v) <= window)
        assert (math.isnan(got[i]) and math.isnan(expected)) or got[i] == expected


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["shop", "deal", "ab", "Alice"]).flatmap(lambda s: st.integers(0, 999).map(lambda k: f"{s}{k:02d}")),
        ),
        max_size=30,
    )
)
def test_template_counts_count_other_accounts_with_the_stem(names: list[str | None]) -> None:
    got = template_counts(names, len(names))
    stems = [None if n is None else n.rstrip("0123456789").lower() for n in names]
    for i, stem in enumerate(stems):
        if stem is None:
            assert math.isnan(got[i])
        elif len(stem) < 3:  # "ab" + digits: too short to be a template
            assert got[i] == 0
        else:
            assert got[i] == sum(1 for j, s in enumerate(stems) if j != i and s == stem)


def test_features_are_named_and_the_transformer_follows_scikit_learn() -> None:
    t = profiles()
    f = AccountFeatures()
    with pytest.raises(Exception, match="not fitted"):
        f.transform(t)
    matrix = f.fit(t).transform(t)
    assert matrix.shape == (10, len(ACCOUNT_FEATURES))
    assert list(f.get_feature_names_out()) == list(ACCOUNT_FEATURES)
    with pytest.raises(ValueError, match="'burst_window' parameter of AccountFeatures must be > 0. Got 0"):
        AccountFeatures(burst_window=0).fit(t)


def test_scorer_checks_its_parameters_and_labels() -> None:
    with pytest.raises(ValueError, match="'threshold' parameter of AccountScorer must be in \\[0, 1\\]. Got 1.5"):
        AccountScorer(threshold=1.5).score_accounts(profiles())
    with pytest.raises(ValueError, match="both classes"):
        AccountScorer().fit(profiles(), np.zeros(10))
    with pytest.raises(ValueError, match="one label per account: 10 accounts"):
        AccountScorer().fit(profiles(), np.zeros(3))


def test_fit_save_load_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = profiles()
    y = np.array([1] * 6 + [0] * 4)
    scorer = AccountScorer(max_iter=10).fit(table, y)
    path = tmp_path / "acc.joblib"
    scorer.save(path)
    with pytest.raises(spamflood.ModelError, match="Refusing to load"):
        AccountScorer.load(path)
    again = AccountScorer.load(path, trusted=True)
    assert np.array_equal(again.predict_proba(table), scorer.predict_proba(table))


def test_a_model_without_its_reference_row_is_refused_saying_why(tmp_path) -> None:  # type: ignore[no-untyped-def]
    scorer = AccountScorer(max_iter=10).fit(profiles(), np.array([1] * 6 + [0] * 4))
    del scorer.reference_  # as an account model saved before flags were explained
    scorer.save(tmp_path / "old.joblib")
    with pytest.raises(spamflood.ModelError, match="old.joblib has no reference row to explain its flags with"):
        AccountScorer.load(tmp_path / "old.joblib", trusted=True)


# ------------------------------------------------------------------ no flag without evidence


def burst_without_a_second_sign() -> AccountTable:
    """Four accounts made two minutes apart that follow no one and have no followers, but
    with distinct names and written bios (no second sign of a registration tool, so no
    ``batch_accounts``), as the Cresci-2017 spambots the model flags; and one ordinary account."""
    return AccountTable.from_profiles(
        ["301", "302", "303", "304", "alice"],
        author_name=["Maria Lopez", "Kev", "sunny day", "J. Brandt", "Alice Martin"],
        author_bio=["love my dogs", "music", "coffee first", "dad, runner", "runner, reader"],
        author_created=[T0, T0 + 120, T0 + 250, T0 + 380, T0 - 3000 * 86400],
        followers=[0, 0, 0, 0, 340],
        following=[0, 0, 0, 0, 210],
        statuses=[43, 31, 57, 20, 5400],
    )


def test_a_flag_without_a_label_is_explained_by_the_account_features_that_raised_it() -> None:
    result = AccountScorer.load().score_accounts(burst_without_a_second_sign())
    assert result.flagged.tolist() == [True, True, True, True, False]
    assert result.labels == [[]] * 5  # the model flags; it adds no label
    assert result.reasons[0] == [
        "score: raised by created 2026-01-03 10:00 UTC, 3 other accounts within 10 min; follows 0, followed by 0; "
        "43 statuses, 43 a day since 2026-01-03"
    ]
    assert result.reasons[4] == []  # not flagged: nothing to explain


def test_a_score_reason_ranks_the_groups_by_how_much_they_raised_the_score() -> None:
    from spamflood.accounts.evidence import score_reasons

    t = burst_without_a_second_sign()
    scorer = AccountScorer.load()
    values = scorer.features(t)
    raised = {"names": np.array([0.3]), "follows": np.array([0.0]), "profile": np.array([0.5]), "burst": np.array([-0.1])}
    assert score_reasons(t, values, [1], raised, burst_window=600.0) == ["score: raised by bio 'music'; name 'Kev'"]
    # nothing raised it alone: the group that weighed most, quoted all the same
    raised = {"follows": np.array([-0.2]), "activity": np.array([-0.01])}
    assert score_reasons(t, values, [1], raised, burst_window=600.0) == [
        "score: raised by 31 statuses, 31 a day since 2026-01-03"
    ]


def test_from_a_feed_posts_flagged_without_a_label_explain_their_account() -> None:
    """An account flagged by its posts' mean score, with no label on it or its posts: its
    reason quotes its posts' mean score and the first post's own ``score:`` reason."""
    from dataclasses import replace

    from spamflood.accounts import PostEvidence

    said = "score: raised by soft_ad features: a link or short link 2"
    t = burst_without_a_second_sign()
    t = replace(
        t,
        posts=np.array([2.0, 1, 1, 1, 3]),
        evidence=[PostEvidence({}, {}, 0.9, 2, said)] + [PostEvidence({}, {}, 0.0)] * 3 + [PostEvidence({}, {}, 0.95, 3, said)],
    )
    result = AccountScorer.load().score_accounts(t)
    assert result.labels == [[]] * 5
    assert result.flagged[[0, 4]].tolist() == [True, True]
    assert result.reasons[4] == [
        "score: raised by its 3 posts scoring 0.95 on average, 3 flagged without a label, "
        "the first raised by soft_ad features: a link or short link 2"
    ]
    assert result.reasons[0][0].startswith("score: raised by its 2 posts scoring 0.90 on average, 2 flagged without a label")
    # without a model (the rule score reads no profile feature) the posts alone explain it
    assert AccountScorer().score_accounts(t).reasons[4] == result.reasons[4]


def test_a_real_feed_every_account_flagged_without_a_label_quotes_its_posts() -> None:
    """A micro-business agent's boasts without a recruiting word (one kind of signal: no rule
    fires, no label), which the bundled post model flags, posted by one account among ordinary
    ones. (A boast that also recruits, "代 理小伙伴的业绩", lists ``microbusiness``.)"""
    base = T0 + 86400
    agent = {
        "author": "u704216204",
        "author_name": "南京新鲜橙子总代",
        "author_bio": "新鲜橙子一件代发｜招代理｜vx：dcz190qw",
        "author_created": T0 - 300 * 86400,
        "followers": 1345,
        "following": 1299,
        "statuses": 11668,
    }
    boasts = ["🧧[图片] 小伙伴的业绩，一天1310元，厉害了‼️", "🧧[图片] 团队小伙伴的业绩，一天2260元，跟着我干‼️"]
    posts = [{"id": f"b{k}", "text": text, "time": base + 9000 * k} | agent for k, text in enumerate(boasts)]
    posts += [p for p in feed() if not str(p["author"]).startswith("shop_deal")]
    result = AccountScorer.load().score(posts)
    silent = [i for i in np.flatnonzero(result.flagged).tolist() if not result.labels[i]]
    assert [result.table.authors[i] for i in silent] == ["u704216204"], result.records()
    for i in silent:
        (reason,) = result.reasons[i]
        assert reason.startswith(f"score: raised by its {int(result.table.posts[i])} posts scoring"), reason
    assert all(result.reasons[i] for i in np.flatnonzero(result.flagged).tolist())


NAMES = ["shop_deal_01", "shop_deal_02", "deal03", "Maria Lopez", "user_20931", "用户5830291746", "Kev", None]
BIOS = ["", None, "love my dogs", "这个人很懒，什么都没有留下", "dad, runner"]


@st.composite
def random_profiles(draw: st.DrawFn) -> AccountTable:
    """Up to 12 accounts, some created in one burst, from name and bio pools with templates,
    platform defaults and blanks; any optional column may be absent from the input."""
    n = draw(st.integers(1, 12))

    def column(values: st.SearchStrategy[object]) -> list[object] | None:
        return draw(st.one_of(st.none(), st.lists(values, min_size=n, max_size=n)))

    counts = st.one_of(st.none(), st.integers(0, 5000).map(float))
    created = column(
        st.one_of(st.none(), st.integers(0, 3000).map(lambda s: T0 + s), st.integers(1, 4000).map(lambda d: T0 - d * 86400.0))
    )
    return AccountTable.from_profiles(
        [f"{draw(st.sampled_from(['acct', 'shop_', 'u']))}{k:02d}" for k in range(n)],
        author_name=column(st.sampled_from(NAMES)),  # type: ignore[arg-type]
        author_bio=column(st.sampled_from(BIOS)),  # type: ignore[arg-type]
        author_created=None if created is None else [math.nan if c is None else c for c in created],  # type: ignore[misc]
        followers=None if (f := column(counts)) is None else [math.nan if v is None else v for v in f],  # type: ignore[misc]
        following=None if (g := column(counts)) is None else [math.nan if v is None else v for v in g],  # type: ignore[misc]
        statuses=None if (s := column(counts)) is None else [math.nan if v is None else v for v in s],  # type: ignore[misc]
    )


def quotes_the_account(segment: str, t: AccountTable, i: int) -> bool:
    """Whether one part of a reason quotes a word or a number of account ``i`` itself."""
    from datetime import UTC, datetime

    words = [f"'{t.authors[i]}'"]
    if t.author_name is not None and t.author_name[i] is not None:
        words.append(f"'{t.author_name[i]}'")
    if t.author_bio is not None:
        bio = t.author_bio[i]
        words.append(f"'{' '.join(bio.split())[:20]}" if bio and bio.strip() else "empty profile")
    for prefix, value, suffix in (
        ("follows ", t.following[i], ""),
        ("followed by ", t.followers[i], ""),
        ("", t.statuses[i], " statuses"),
    ):
        if not math.isnan(value):
            words.append(f"{prefix}{int(value):,}{suffix}")
    if not math.isnan(t.author_created[i]):
        words.append(datetime.fromtimestamp(t.author_created[i], tz=UTC).strftime("%Y-%m-%d"))
    return any(word in segment for word in words)


@settings(max_examples=40, deadline=None)
@given(random_profiles(), st.sampled_from([0.0, 0.3, 0.5, 0.9]), st.integers(2, 4))
def test_every_flagged_account_has_evidence_and_every_label_its_rule(
    t: AccountTable, threshold: float, min_accounts: int
) -> None:
    result = AccountScorer.load(threshold=threshold, min_accounts=min_accounts).score_accounts(t)
    f = result.features
    with np.errstate(invalid="ignore"):
        rule = (f["ACCOUNT_CREATED_BURST"] >= min_accounts - 1) & (
            (f["ACCOUNT_NAME_TEMPLATE"] >= min_accounts - 1)
            | (f["ACCOUNT_HANDLE_TEMPLATE"] >= min_accounts - 1)
            | (f["ACCOUNT_DEFAULT_NAME"] == 1)
            | (f["ACCOUNT_EMPTY_PROFILE"] == 1)
            | (f["ACCOUNT_BOUGHT_FOLLOW"] == 1)
        )
        # or a tool's pair: another account with its name's or handle's stem made within the window
        rule |= (stem_twins(t.author_name, t.author_created) >= 1) | (stem_twins(t.authors, t.author_created) >= 1)
    for i in range(len(t)):
        assert result.labels[i] == (["batch_accounts"] if rule[i] else []), (i, result.records(features=True)[i])
        if not result.flagged[i]:
            assert len(result.reasons[i]) == len(result.labels[i])
            continue
        assert result.reasons[i], f"account {t.authors[i]} flagged without a reason"
        if result.labels[i]:
            assert result.reasons[i][0].startswith("batch_accounts: ")
            continue
        (reason,) = result.reasons[i]
        assert reason.startswith("score: raised by "), reason
        for segment in reason.removeprefix("score: raised by ").split("; "):
            assert quotes_the_account(segment, t, i), (segment, result.records()[i])


def test_every_profile_feature_of_the_model_is_in_one_group() -> None:
    from spamflood.accounts.evidence import FEATURE_GROUPS
    from spamflood.accounts.features import PROFILE_FEATURES

    grouped = [name for names in FEATURE_GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(PROFILE_FEATURES)


def test_a_post_model_file_is_no_account_model() -> None:
    from spamflood.model.store import bundled_model_path

    with pytest.raises(spamflood.ModelError, match="is not an account model"):
        AccountScorer.load(bundled_model_path(), trusted=True)


# ------------------------------------------------------------------ a feed of posts

AD = "Flash sale today only: vitamin gummies 50% off, DM me or tap the link in bio for the code"


def feed() -> list[dict[str, object]]:
    """Six batch accounts post the same ad within minutes; two ordinary accounts chat."""
    posts: list[dict[str, object]] = []
    for k in range(6):
        posts.append(
            {
                "id": f"ad{k}",
                "text": AD,
                "author": f"shop_deal_{k:02d}",
                "time": T0 + 86400 + 40 * k,
                "author_name": f"shop_deal_{k:02d}",
                "author_bio": "",
                "author_created": T0 + 70 * k,
                "followers": k,
                "following": 900,
                "statuses": 3,
            }
        )
    chat = ["lovely walk by the river this morning", "anyone read the new novel yet", "rain again, staying in with tea"]
    for j, (author, created) in enumerate((("alice", T0 - 3000 * 86400), ("bob", T0 - 900 * 86400))):
        for k, text in enumerate(chat):
            posts.append(
                {
                    "id": f"{author}{k}",
                    "text": f"{text} ({author})",
                    "author": author,
                    "time": T0 + 86400 + 3600 * (k + 1) + 600 * j,
                    "author_name": author.title(),
                    "author_bio": "reader",
                    "author_created": created,
                    "followers": 300,
                    "following": 200,
                    "statuses": 4000,
                }
            )
    return posts


def test_a_feed_of_posts_gives_one_row_per_author_with_its_posts_labels() -> None:
    result = AccountScorer.load().score(feed())
    assert result.kind == "posts"
    assert result.table.authors == [f"shop_deal_{k:02d}" for k in range(6)] + ["alice", "bob"]
    assert result.table.posts.tolist() == [1] * 6 + [3, 3]
    assert result.flagged.tolist() == [True] * 6 + [False, False]
    assert all("mass_share" in labels and labels[0] == "batch_accounts" for labels in result.labels[:6])
    assert result.labels[6:] == [[], []]
    mass = result.reasons[0][result.labels[0].index("mass_share")]
    assert mass.startswith("mass_share on 1 of its 1 posts: 6 near-identical posts from 6 accounts")
    assert {"AUTO_POSTING_GAP_CV", "CHICKEN_SOUP_FIXED_TIME"} <= set(result.features)  # its posts' cadence criteria
    age = result.features["ACCOUNT_AGE_AT_FIRST_POST"]
    assert age[0] == pytest.approx(1.0) and age[6] == pytest.approx(3001 + 1 / 24)


def test_kind_auto_tells_profiles_from_posts() -> None:
    rows = [{"author": "a", "followers": 3}, {"author": "b", "followers": 5}]
    profiles_only = AccountScorer().score(rows)
    assert profiles_only.kind == "profiles" and not any(name.startswith("AUTO_POSTING") for name in profiles_only.features)
    assert AccountScorer().score(feed(), kind="auto").kind == "posts"
    with pytest.raises(ValueError, match="'kind' parameter must be 'auto', 'posts' or 'profiles'. Got 'users'"):
        AccountScorer().score(rows, kind="users")


def test_the_public_names_are_re_exported() -> None:
    assert spamflood.AccountScorer is AccountScorer
    assert spamflood.AccountTable is AccountTable


# ------------------------------------------------------------------ reading profiles

BAD_PROFILES = [
    ({"user": {"id": 7}, "followers": True}, "followers", "expected a number, got bool"),
    ({"user": {"id": 7}, "followers": -4}, "followers", "expected a non-negative number"),
    ({"user": {"id": 7}, "created": "tuesday"}, "author_created", "unparseable time 'tuesday'"),
    ({"user": {"id": 7}, "name": ["a", "list"]}, "author_name", "expected a string, got list"),
    ({"user": {"id": ""}}, "author", "missing or empty"),
    ({"user": {}}, "author", "missing or empty"),
    ({"user": {"id": {"nested": 1}}}, "author", "expected a string or integer, got dict"),
]


@pytest.mark.parametrize(("row", "field", "reason"), BAD_PROFILES, ids=[f"{f}-{r[:16]}" for _, f, r in BAD_PROFILES])
def test_a_bad_profile_row_is_rejected_naming_its_line_and_field(row: dict[str, object], field: str, reason: str) -> None:
    from spamflood import FieldMap
    from spamflood.io.profiles import read_profiles

    good = {"user": {"id": 1}, "name": "Ann", "followers": "1.2k", "created": "Sun Apr 20 11:21:47 +0000 2014"}
    fields = FieldMap.parse("author=user.id,author_name=name,followers=followers,author_created=created")
    read = read_profiles([good, row, good | {"user": {"id": 2}}], field_map=fields)
    assert read.table.authors == ["1", "2"] and read.rows_read == 3
    assert read.table.followers.tolist() == [1200.0, 1200.0]
    assert [(r.line, r.field) for r in read.rejects] == [(2, field)]
    assert read.rejects[0].reason.startswith(reason)
    with pytest.raises(spamflood.InputError, match=f"line 2, field '{field}'"):
        read_profiles([good, row], field_map=fields, strict=True)


def test_a_profile_without_optional_fields_reads_them_as_missing() -> None:
    from spamflood.io.profiles import read_profiles

    read = read_profiles([{"author": "a", "author_bio": None, "followers": ""}, {"author": "b", "author_bio": "NULL"}])
    assert read.rejects == [] and read.table.author_bio == [None, None]
    assert np.isnan(read.table.followers).all()


def test_from_posts_takes_each_field_from_the_newest_post_that_has_it() -> None:
    from spamflood.posts import Post, PostBatch

    batch = PostBatch.from_posts(
        [
            Post("p1", "hi", "ann", 300.0, author_name="Ann 2", followers=12.0, line=1),
            Post("p2", "hi", "ann", 100.0, author_name="Ann 1", author_bio="old bio", followers=10.0, line=2),
            Post("p3", "hi", "p3", 150.0, author_name="nobody", line=3),  # no author: its id as author
            Post("p4", "hi", "bob", 200.0, line=4),
            Post("p5", "hi", "ann", 400.0, line=5),
        ]
    )
    t = AccountTable.from_posts(batch)
    assert t.authors == ["ann", "bob"]
    assert t.author_name == ["Ann 2", None] and t.author_bio == ["old bio", None]
    assert t.followers[0] == 12.0 and np.isnan(t.followers[1])
    assert t.posts.tolist() == [3.0, 1.0] and t.first_post.tolist() == [100.0, 200.0] and t.last_post.tolist() == [400.0, 200.0]
    assert t.lines.tolist() == [2, 4]  # each account's first post
