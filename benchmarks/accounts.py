"""Accounts scored on their own, on real profiles: Cresci-2017 genuine accounts vs social spambots.

Reads ``../shared/data/cresci2017_accounts/`` (profile tables only; see its SOURCE.txt: for
research use, not bundled) as one profiles-only export with the field map a user would give
``spamflood accounts``, and prints, in the same run, stratified 5-fold cross-validated
ROC-AUC and PR-AUC of:

- the account model (``AccountScorer``'s booster over the ``ACCOUNT_*`` profile features,
  computed once over the whole export, as a moderation team scores one export: they use no
  labels);
- the same without the creation-burst feature (how much the bursts carry);
- the plain baseline: logistic regression on the raw profile counts (followers, following,
  statuses; standardised);
- the bundled account model (fitted on synthetic profiles only) applied as shipped: a
  cross-corpus figure, no fitting on this data;

and the ``batch_accounts`` label's precision and recall (a rule: no fitting). Writes
``benchmarks/results/accounts.json``.

    OMP_NUM_THREADS=1 python benchmarks/accounts.py [--data ../shared/data/cresci2017_accounts]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spamflood import FieldMap
from spamflood.accounts import AccountScorer
from spamflood.accounts.features import PROFILE_FEATURES
from spamflood.io.profiles import read_profiles

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DATA = ROOT.parent / "shared" / "data" / "cresci2017_accounts"
FILES = {"genuine_accounts.csv": 0, "social_spambots_1.csv": 1}
MAP = (
    "author=id,author_name=name,author_bio=description,author_created=created_at,"
    "followers=followers_count,following=friends_count,statuses=statuses_count"
)
RAW_COUNTS = ("followers", "following", "statuses")


def load(folder: Path) -> tuple[Any, np.ndarray]:
    """Both files as one profiles-only export (rows in file order) and the labels."""
    records: list[dict[str, str]] = []
    labels: list[int] = []
    for name, label in FILES.items():
        with open(folder / name, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        records += rows
        labels += [label] * len(rows)
    read = read_profiles(records, field_map=FieldMap.parse(MAP))
    if read.rejects:
        raise SystemExit(f"{len(read.rejects)} rows rejected, first: {read.rejects[0].message()}")
    return read.table, np.asarray(labels)


def cv_scores(model: Any, X: np.ndarray, y: np.ndarray, folds: StratifiedKFold) -> dict[str, Any]:
    proba = cross_val_predict(model, X, y, cv=folds, method="predict_proba")[:, 1]
    per_fold = [roc_auc_score(y[test], proba[test]) for _, test in folds.split(X, y)]
    return {
        "roc_auc": float(roc_auc_score(y, proba)),
        "roc_auc_folds": [round(float(a), 4) for a in per_fold],
        "roc_auc_fold_mean": float(np.mean(per_fold)),
        "pr_auc": float(average_precision_score(y, proba)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds")
    args = parser.parse_args()
    cpu0 = time.process_time()
    table, y = load(args.data)
    scorer = AccountScorer()
    X = scorer.profile_matrix(table)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=args.seed)
    burst = PROFILE_FEATURES.index("ACCOUNT_CREATED_BURST")
    raw = np.column_stack([getattr(table, name) for name in RAW_COUNTS])
    without_burst = scorer.booster()
    without_burst.set_params(monotonic_cst=np.delete(np.asarray(without_burst.monotonic_cst), burst).tolist())
    runs: dict[str, dict[str, Any]] = {}
    for name, model, matrix in (
        ("account model (ACCOUNT_* features)", scorer.booster(), X),
        ("account model without creation bursts", without_burst, np.delete(X, burst, axis=1)),
        ("baseline: logistic regression on raw counts", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), raw),
    ):
        started = time.process_time()
        runs[name] = cv_scores(model, matrix, y, folds)
        runs[name]["cpu_seconds"] = round(time.process_time() - started, 2)
    bundled = AccountScorer.load()
    result = bundled.score_accounts(table)
    runs["bundled model (synthetic profiles only), as shipped"] = {
        "roc_auc": float(roc_auc_score(y, result.score)),
        "pr_auc": float(average_precision_score(y, result.score)),
    }
    fired = np.array(["batch_accounts" in labels for labels in result.labels])
    rule = {
        "fired": int(fired.sum()),
        "precision": float(y[fired].mean()) if fired.any() else None,
        "recall": float(fired[y == 1].mean()),
        "genuine_fired": int(fired[y == 0].sum()),
    }
    print(f"Cresci-2017: {int((y == 0).sum()):,} genuine accounts, {int(y.sum()):,} social spambots; stratified 5-fold CV")
    print(f"{'':52} {'ROC-AUC':>8} {'PR-AUC':>8}  folds")
    for name, figures in runs.items():
        folds_text = " ".join(f"{a:.3f}" for a in figures.get("roc_auc_folds", []))
        print(f"{name:52} {figures['roc_auc']:8.4f} {figures['pr_auc']:8.4f}  {folds_text}")
    print(
        f"batch_accounts label (rule, no fitting): fired on {rule['fired']:,} accounts, precision "
        f"{rule['precision'] if rule['precision'] is None else round(rule['precision'], 3)}, recall {rule['recall']:.3f}"
    )
    cpu = time.process_time() - cpu0
    load_avg = os.getloadavg()[0]
    print(f"CPU {cpu:.1f} s in all; load average {load_avg:.1f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "accounts.json"
    out.write_text(
        json.dumps(
            {
                "data": str(args.data),
                "accounts": {"genuine": int((y == 0).sum()), "spambots": int(y.sum())},
                "field_map": MAP,
                "cv": {"folds": 5, "stratified": True, "seed": args.seed},
                "runs": runs,
                "batch_accounts_rule": rule,
                "cpu_seconds": round(cpu, 2),
                "load_average": round(load_avg, 2),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"results: {out}")


if __name__ == "__main__":
    main()
