"""The bundled account model: fitted on synthetic profiles, rebuilt byte for byte.

The real profiles in ``../shared/data/cresci2017_accounts/`` are for research use and may
not be shipped, so they only *measure* (``benchmarks/accounts.py``); the model shipped in
``models/spamflood-accounts.joblib`` is fitted on synthetic profiles
(:func:`spamflood.synth.profiles.synthetic_profiles`): ordinary people, newsrooms and brands
against accounts registered in batches. Rebuild it with::

    OMP_NUM_THREADS=1 python -m spamflood.accounts.training -o models/spamflood-accounts.joblib
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from spamflood.accounts.scorer import AccountScorer

__all__ = ["build", "main"]

SEED = 7
PEOPLE = 20_000
BATCHES = 200


def build(output: str | Path, *, seed: int = SEED, people: int = PEOPLE, batches: int = BATCHES) -> Path:
    """Fit the account model on synthetic profiles, measure it by 5-fold CV on them, save it
    with its manifest; return the manifest's path."""
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from spamflood.synth.profiles import synthetic_profiles

    table, y = synthetic_profiles(seed, people=people, batches=batches)
    scorer = AccountScorer()
    matrix = scorer.profile_matrix(table)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    proba = cross_val_predict(scorer.booster(), matrix, y, cv=folds, method="predict_proba")[:, 1]
    scorer.fit(table, y)
    command = f"OMP_NUM_THREADS=1 python -m spamflood.accounts.training -o {output}"
    if (seed, people, batches) != (SEED, PEOPLE, BATCHES):
        command += f" --seed {seed} --people {people} --batches {batches}"
    return scorer.save(
        output,
        training={
            "command": command,
            "data": f"spamflood.synth.profiles.synthetic_profiles(seed={seed}, people={people}, batches={batches})",
            "accounts": int(len(y)),
            "batch_made": int(y.sum()),
            "not_used": "../shared/data/cresci2017_accounts (research use only; measured by benchmarks/accounts.py)",
        },
        metrics={
            "cv_folds": 5,
            "cv_roc_auc_synthetic": round(float(roc_auc_score(y, proba)), 6),
            "cv_pr_auc_synthetic": round(float(average_precision_score(y, proba)), 6),
            "cv_flagged_precision_synthetic": round(float(y[proba >= 0.5].mean()), 6) if (proba >= 0.5).any() else None,
            "cv_flagged_recall_synthetic": round(float((proba[y == 1] >= 0.5).mean()), 6),
        },
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spamflood.accounts.training", description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", required=True, help="the model file (.joblib; manifest beside it)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--people", type=int, default=PEOPLE)
    parser.add_argument("--batches", type=int, default=BATCHES)
    args = parser.parse_args(argv)
    manifest = build(args.output, seed=args.seed, people=args.people, batches=args.batches)
    print(manifest.read_text(encoding="utf-8"), end="")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
