"""A label the bundled model cannot weigh still counts in the score.

The bundled model reads ``fan_farming``'s features, but its training posts hardly ever show the
family, so no tree of its overall score splits on them: alone, a comment begging for
subscribers would score like an ordinary one while listing the label. The decision raises such
a post's score by the label's rule strength (noisy-or), as it does for any label the model's
score does not weigh. Checked through the command line in a subprocess, on a comment export
without authors or times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from spamflood.model import load_model
from spamflood.scoring import CRITERIA_STRENGTH

BEGGING = {
    "sub-back": "GUYS SUBSCRIBE ME AND ILL SUB BACK:)",
    "sub-to-me": "Sub to me I sub back comment done when you have",
}
ORDINARY = {
    "song": "what a great song, still listening in 2024",
    "subscribed-to-artist": "I subscribed to her channel years ago and never regretted it",
}


def test_the_bundled_models_score_weighs_no_fan_farming_feature() -> None:
    model = load_model(None).model
    read = {str(name) for name in model.feature_names_in_}
    assert {"FAN_FARMING_BEG", "FAN_FARMING_SALE", "FAN_FARMING_OFFER"} <= read
    assert not {name for name in model.weighed_features() if name.startswith("FAN_FARMING_")}


def test_begging_for_subscribers_is_flagged_with_its_evidence_and_ordinary_comments_are_not(tmp_path: Path) -> None:
    feed, out = tmp_path / "comments.jsonl", tmp_path / "scored.jsonl"
    rows = [{"id": name, "text": text} for name, text in {**BEGGING, **ORDINARY}.items()]
    feed.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    command = [sys.executable, "-m", "spamflood", "score", str(feed), "--optional", "author,time", "-o", str(out), "-q"]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    scored = {row["id"]: row for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    for name in BEGGING:
        assert scored[name]["labels"] == ["fan_farming"]
        assert scored[name]["reasons"][0].startswith("fan_farming: asks for followers")
        assert scored[name]["flagged"] and scored[name]["score"] >= CRITERIA_STRENGTH
    for name in ORDINARY:
        assert scored[name]["labels"] == [] and not scored[name]["flagged"]


def test_a_labelled_exports_decided_score_is_the_score_the_command_gives() -> None:
    """What ``real_data.py`` reads for a fitted model: its score with the decision's raise on
    the posts whose listed evidence it does not weigh, its own probability elsewhere."""
    import pandas as pd

    from spamflood import Detector, FieldMap
    from spamflood.model import labelled_features

    texts = {**BEGGING, **ORDINARY}
    frame = pd.DataFrame({"id": list(texts), "text": list(texts.values()), "label": [1] * len(BEGGING) + [0] * len(ORDINARY)})
    detector = Detector.load()
    data = labelled_features(detector, frame, label_field="label", field_map=FieldMap.parse("author=,time="))
    assert data.scorer is detector.rules  # the detector's min_authors and min_copies decide, as in `score`
    model = load_model(None).model
    decided, own = data.decided_score(model), model.score_all(data.frame())[0]
    # as the detector scored them (its text part from the chunks' matching forms: the same to rounding)
    assert data.score is not None and np.allclose(decided, data.score, rtol=0, atol=1e-12)
    begging = np.array([i in BEGGING for i in data.ids])
    assert np.all(decided[begging] >= CRITERIA_STRENGTH) and np.all(own[begging] < CRITERIA_STRENGTH)
    assert np.allclose(decided[~begging], own[~begging], rtol=0, atol=1e-12)
