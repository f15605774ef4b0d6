"""A fitted :class:`~spamflood.model.FloodModel`'s trees as flat arrays, walked in one compiled loop.

scikit-learn predicts a :class:`~sklearn.ensemble.HistGradientBoostingClassifier` one tree at a
time, each tree in its own OpenMP region: one post costs about a millisecond per head (a hundred
Python calls), and far more when the machine is busy and the region waits for its threads; a
stream judges one post at a time. :class:`CompiledModel` scores every tree of a head in one
compiled loop and gives the same numbers: a post walks each tree to its leaf (:func:`_raw`), a
block of rows finds its leaves by testing every split node (:func:`_raw_by_exits`); the leaf
values are summed in scikit-learn's order from its baseline, and the head's own fitted
calibrators turn the sum into the probability, so scores are bit-identical
(``tests/test_model_compiled.py`` checks it on the bundled model and on random trees). Over a
feed it is the cheaper path too (every head of the bundled model on 50,000 rows: about a
fifteenth of scikit-learn's CPU time): rows are scored a block at a time, blocks spread over the
cores like scikit-learn's threads (the loops release the GIL).

A model with a text part has it scored by :class:`~spamflood.model.text_kernel.CompiledText`
(the pipeline's probability in one compiled loop, the same to rounding), from the posts'
matching forms; a ``TEXT_MODEL`` column in the input (computed where the forms are at hand) is
read instead. A blended model (``text_join="blend"``) blends it with its ``spam`` head by the
model's own :func:`~spamflood.model.estimator.blend_text`: the same bits as the model from the
same text column, but the compiled text part is the pipeline's to rounding, and the blend
passes a last-bit difference on (a stacked head's bins absorb it).

:func:`compile_model` returns ``None`` for a model it cannot reproduce (a text pipeline of other
settings, categorical splits, heads that are not calibrated boosters): the caller then keeps
the model's own :meth:`~spamflood.model.FloodModel.score_all`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from spamflood.errors import ModelError
from spamflood.model.contributions import group_contributions
from spamflood.model.inputs import TEXT_FEATURE, blend_text, feature_matrix
from spamflood.model.text_kernel import CompiledText, compile_text

__all__ = ["BLOCK_ROWS", "CompiledModel", "compile_model"]

BLOCK_ROWS = 8192
"""Rows scored together. The block's float matrix (48 features: 3 MiB) is filled column by
column; in a block this small it stays in cache as it fills, where a block of 65,536 rows (24
MiB) went to memory once per column and cost a third as much as walking the trees."""


ROWS_TOGETHER = 32
"""Rows that walk one tree side by side: their steps do not depend on one another, so the
processor overlaps their memory reads, where one row's walk waits on each node in turn."""


@numba.njit(cache=True, nogil=True)
def _raw(
    X: np.ndarray,
    baseline: float,
    roots: np.ndarray,
    depth: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    nan_right: np.ndarray,
    child: np.ndarray,
    value: np.ndarray,
) -> np.ndarray:
    """Per row of ``X``: ``baseline`` plus the leaf value of every tree, added tree by tree
    (the order of scikit-learn's ``_raw_predict``). Rows go through a tree
    :data:`ROWS_TOGETHER` at a time, each tree's ``depth`` steps for every row: a node's
    children are ``child`` and ``child + 1`` (right when ``x > threshold``, or when ``x`` is NaN
    and ``nan_right``), and a leaf is its own child, so a row that reached its leaf stays
    there and no step branches on the data. Fewer than four rows walk one by one, each to its
    own leaf (the same leaves, the same sums)."""
    n = X.shape[0]
    out = np.full(n, 0.0 + baseline)
    if n < 4:  # a stream's post: nothing to overlap, so each row stops at its own leaf
        for i in range(n):
            for t in range(roots.shape[0]):
                k = roots[t]
                while child[k] != k:
                    x = X[i, feature[k]]
                    k = child[k] + np.int32((x > threshold[k]) | ((x != x) & nan_right[k]))
                out[i] += value[k]
        return out
    node = np.empty(ROWS_TOGETHER, dtype=np.int32)
    for lo in range(0, n, ROWS_TOGETHER):
        m = min(ROWS_TOGETHER, n - lo)
        for t in range(roots.shape[0]):
            root = roots[t]
            for r in range(m):
                node[r] = root
            for _ in range(depth[t]):
                for r in range(m):
                    k = node[r]
                    x = X[lo + r, feature[k]]
                    node[r] = child[k] + np.int32((x > threshold[k]) | ((x != x) & nan_right[k]))
            for r in range(m):
                out[lo + r] += value[node[r]]
    return out


MAX_EXIT_LEAVES = 64
"""Leaves a tree may have for :func:`_raw_by_exits` (a row's surviving leaves are one 64-bit
word); a head with a bigger tree walks its trees (:func:`_raw`)."""

_DE_BRUIJN = np.uint64(0x03F79D71B4CB0A89)
_LOWEST_BIT = np.zeros(64, dtype=np.int64)
for _bit in range(64):
    _LOWEST_BIT[((1 << _bit) * 0x03F79D71B4CB0A89 % 2**64) >> 58] = _bit
"""The index of a word's lowest set bit, looked up by the de Bruijn product of that bit."""


@numba.njit(cache=True, nogil=True)
def _raw_by_exits(
    X: np.ndarray,
    baseline: float,
    feature: np.ndarray,
    threshold: np.ndarray,
    nan_right: np.ndarray,
    tree: np.ndarray,
    keep: np.ndarray,
    leaf_value: np.ndarray,
    lowest_bit: np.ndarray,
) -> np.ndarray:
    """:func:`_raw`'s sums, found without walking a tree: every split node of every tree tests
    each row of a block (feature ``feature[j]``, ``threshold[j]``, missing values right when
    ``nan_right[j]``), and a node that sends a row right rules out the leaves of its left
    subtree (``keep[j]``: the tree's other leaves, one bit each, left to right). The row's leaf
    in tree ``t`` is the leftmost one left (``leaf_value[t]``). A node's test reads one column
    of the block and does not depend on another node's outcome, so the loop over the block's
    rows vectorises; a walk waits on each node in turn. The sums are added tree by tree from
    ``baseline``, as :func:`_raw` adds them."""
    n, width = X.shape
    trees = leaf_value.shape[0]
    out = np.full(n, 0.0 + baseline)
    columns = np.empty((width, ROWS_TOGETHER))
    alive = np.empty((trees, ROWS_TOGETHER), dtype=np.uint64)
    every = ~np.uint64(0)
    for lo in range(0, n, ROWS_TOGETHER):
        m = min(ROWS_TOGETHER, n - lo)
        for f in range(width):  # the block column by column, padded with zeros
            for r in range(m):
                columns[f, r] = X[lo + r, f]
            for r in range(m, ROWS_TOGETHER):
                columns[f, r] = 0.0
        alive[:, :] = every
        for j in range(feature.shape[0]):
            f, cut, missing_right, t, kept = feature[j], threshold[j], nan_right[j], tree[j], keep[j]
            for r in range(ROWS_TOGETHER):
                x = columns[f, r]
                alive[t, r] &= kept if (x > cut) | ((x != x) & missing_right) else every
        for t in range(trees):
            for r in range(m):
                word = alive[t, r]
                out[lo + r] += leaf_value[t, lowest_bit[((word & (~word + np.uint64(1))) * _DE_BRUIJN) >> np.uint64(58)]]
    return out


@numba.njit(cache=True, nogil=True)
def _exit_tables(
    roots: np.ndarray, child: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """For :func:`_raw_by_exits`, from the breadth-first layout: the split nodes (their index,
    their tree, the leaves they keep when a row goes right), each tree's leaves left to right,
    and the most leaves a tree has (-1 for more than :data:`MAX_EXIT_LEAVES`)."""
    total = child.shape[0]
    ends = np.empty(roots.shape[0], dtype=np.int64)
    ends[:-1] = roots[1:]
    ends[-1] = total
    rank = np.full(total, -1, dtype=np.int64)  # a leaf's place, left to right, in its tree
    leftmost = np.zeros(total, dtype=np.int64)  # the rank of a subtree's leftmost leaf
    widest = 0
    stack = np.empty(total + 1, dtype=np.int64)
    for t in range(roots.shape[0]):
        count = 0
        top = 0
        stack[0] = roots[t]
        while top >= 0:  # depth first, left child first: leaves in their left-to-right order
            k = stack[top]
            top -= 1
            if child[k] == k:
                rank[k] = count
                count += 1
            else:
                stack[top + 1] = child[k] + 1
                stack[top + 2] = child[k]
                top += 2
        widest = max(widest, count)
        for k in range(ends[t] - 1, roots[t] - 1, -1):  # children come after their parent
            leftmost[k] = rank[k] if child[k] == k else leftmost[child[k]]
    splits = 0
    for k in range(total):
        splits += child[k] != k
    nodes = np.empty(splits, dtype=np.int64)
    tree = np.empty(splits, dtype=np.int64)
    keep = np.empty(splits, dtype=np.uint64)
    leaves = np.zeros((roots.shape[0], max(widest, 1)), dtype=np.int64)
    if widest > MAX_EXIT_LEAVES:
        return nodes, tree, keep, leaves, -1
    j = 0
    for t in range(roots.shape[0]):
        for k in range(roots[t], ends[t]):
            if child[k] == k:
                leaves[t, rank[k]] = k
            else:
                lo, hi = leftmost[child[k]], leftmost[child[k] + 1]  # the left subtree's leaves
                gone = ((np.uint64(1) << np.uint64(hi - lo)) - np.uint64(1)) << np.uint64(lo)
                nodes[j], tree[j], keep[j] = k, t, ~gone
                j += 1
    return nodes, tree, keep, leaves, widest


def _check_layout(roots: np.ndarray, child: np.ndarray, feature: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Refuse trees not laid out as :class:`_Head` says (each tree's nodes from its root to the
    next root, a split's two children after it and inside its tree, every node but a root the
    child of exactly one split, a leaf its own child, ``depth`` its deepest leaf's): the
    compiled loops trust the layout and read no index twice. Returns which nodes split."""
    roots, child, feature = (np.asarray(a, dtype=np.int64) for a in (roots, child, feature))  # no int32 wrap
    total = child.shape[0]
    node = np.arange(total)
    split = child != node
    if not roots.shape[0]:
        if total:
            raise ModelError("These trees are damaged: they have nodes but no root.")
        return split
    if roots[0] != 0 or np.any(np.diff(roots) < 1) or roots[-1] >= total or len(depth) != len(roots):
        raise ModelError("These trees are damaged: their roots are not in order inside the node arrays.")
    ends = np.append(roots[1:], total)
    end_of = np.repeat(ends, ends - roots)  # each node's tree's end
    if np.any(split & ((child <= node) | (child + 1 >= end_of))) or np.any(feature < 0):
        raise ModelError("These trees are damaged: a split's children are not after it inside its tree.")
    parent = np.full(total, -1)
    parent[child[split]] = node[split]
    parent[child[split] + 1] = node[split]
    is_root = np.zeros(total, dtype=bool)
    is_root[roots] = True
    children = np.bincount(np.concatenate([child[split], child[split] + 1]), minlength=total)
    if np.any(children != ~is_root):
        raise ModelError("These trees are damaged: a node is not the child of exactly one split.")
    level = np.zeros(total, dtype=np.int64)  # each node's depth: a parent comes before its children
    for _ in range(total):
        deeper = np.where(parent >= 0, level[parent] + 1, 0)
        if np.array_equal(deeper, level):
            break
        level = deeper
    deepest = np.zeros(roots.shape[0], dtype=np.int64)
    np.maximum.at(deepest, np.repeat(np.arange(roots.shape[0]), ends - roots), level)
    if np.any(np.asarray(depth, dtype=np.int64) != deepest):  # (a walk steps exactly this far)
        raise ModelError("These trees are damaged: a tree's depth is not that of its deepest leaf.")
    return split


@dataclass(frozen=True)
class _Exits:
    """A head's split nodes as :func:`_raw_by_exits` reads them (:func:`_exit_tables`)."""

    feature: np.ndarray
    threshold: np.ndarray
    nan_right: np.ndarray
    tree: np.ndarray
    keep: np.ndarray
    leaf_value: np.ndarray


@dataclass(frozen=True)
class _Head:
    """One calibrated booster: its trees' nodes laid out for :func:`_raw` (concatenated, each
    tree breadth first from ``roots``, a node's two children side by side from ``child``, a
    leaf its own child with ``threshold`` +inf; ``depth``: each tree's deepest leaf) and the
    fitted calibrators that map its raw sum to a probability. Blocks of rows are scored by
    :func:`_raw_by_exits` (the same sums) when every tree has at most
    :data:`MAX_EXIT_LEAVES` leaves."""

    baseline: float
    roots: np.ndarray
    depth: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    nan_right: np.ndarray
    child: np.ndarray
    value: np.ndarray
    calibrators: tuple[Calibrator, ...]

    exits: _Exits | None = field(init=False, repr=False, compare=False)
    width: int = field(init=False, repr=False, compare=False)
    """The columns a row must have: the highest feature a node names, plus one (a walk reads
    a leaf's too: its row stays there while the other rows go on)."""

    def __post_init__(self) -> None:
        split = _check_layout(self.roots, self.child, self.feature, self.depth)
        object.__setattr__(self, "width", int(self.feature.max()) + 1 if split.any() else 0)
        exits = None
        if self.roots.shape[0]:
            nodes, tree, keep, leaves, widest = _exit_tables(self.roots.astype(np.int64), self.child.astype(np.int64))
            if widest >= 0:
                exits = _Exits(
                    self.feature[nodes].astype(np.int64), self.threshold[nodes], self.nan_right[nodes], tree, keep,
                    self.value[leaves],
                )
        object.__setattr__(self, "exits", exits)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A head pickled before :attr:`exits` existed gets them now."""
        for name, value in state.items():
            object.__setattr__(self, name, value)
        if "exits" not in state or "width" not in state:
            self.__post_init__()

    def proba(self, X: np.ndarray) -> np.ndarray:
        if X.shape[1] < self.width:
            raise ModelError(f"These trees read {self.width} columns, but the rows have {X.shape[1]}.")
        exits = self.exits
        if exits is not None and X.shape[0] >= 4:  # (fewer rows: each walks to its own leaf)
            raw = _raw_by_exits(
                X, self.baseline, exits.feature, exits.threshold, exits.nan_right, exits.tree, exits.keep, exits.leaf_value,
                _LOWEST_BIT,
            )
        else:
            raw = _raw(
                X, self.baseline, self.roots, self.depth, self.feature, self.threshold, self.nan_right, self.child, self.value
            )
        # CalibratedClassifierCV: the mean of its calibrated classifiers' positive-class
        # probabilities, summed in order onto zeros and divided as it does
        total = np.zeros(X.shape[0])
        for calibrator in self.calibrators:
            total += calibrator(raw)
        total /= len(self.calibrators)
        return total


@dataclass(frozen=True)
class Isotonic:
    """A fitted ``IsotonicRegression(out_of_bounds="clip")`` as its numbers: the raw sum clipped
    to ``[low, high]``, then interpolated linearly between the points ``(x, y)``, as its
    ``predict`` computes it (``np.interp``; one point: its value everywhere)."""

    low: float
    high: float
    x: np.ndarray
    y: np.ndarray

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        clipped = np.clip(raw, self.low, self.high)
        if self.x.shape[0] == 1:
            return np.repeat(self.y, clipped.shape[0]).astype(np.float64)
        return np.interp(clipped, self.x, self.y)


@dataclass(frozen=True)
class Sigmoid:
    """A fitted sigmoid calibration (Platt) as its two numbers: ``expit(-(a * raw + b))``."""

    a: float
    b: float

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        from scipy.special import expit

        return np.asarray(expit(-(self.a * raw + self.b)), dtype=np.float64)


Calibrator = Isotonic | Sigmoid


def _calibrator(fitted: Any) -> Calibrator | None:
    """The numbers of a fitted calibrator that :class:`Isotonic` or :class:`Sigmoid` reproduce
    exactly, or ``None`` for any other."""
    if type(fitted).__name__ == "_SigmoidCalibration":
        return Sigmoid(float(fitted.a_), float(fitted.b_))
    if type(fitted).__name__ != "IsotonicRegression" or fitted.out_of_bounds != "clip":
        return None
    f = fitted.f_
    if getattr(f, "_call", None) is not getattr(type(f), "_call_linear_np", object()):  # not np.interp: refuse
        if len(fitted.X_thresholds_) != 1:
            return None
        x, y = fitted.X_thresholds_, fitted.y_thresholds_
    else:
        x, y = f.x, f.y
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype != np.float64 or y.dtype != np.float64 or x.ndim != 1 or y.shape != x.shape:
        return None
    return Isotonic(float(fitted.X_min_), float(fitted.X_max_), x.copy(), y.copy())


def _head(calibrated: Any) -> _Head | None:
    """The compiled form of a fitted ``CalibratedClassifierCV`` over one binary
    HistGradientBoostingClassifier per fold, or ``None`` if it is anything else."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    folds = getattr(calibrated, "calibrated_classifiers_", None)
    if not folds or len(folds) != 1:  # ensemble=False: one booster, as FloodModel fits it
        return None
    fold = folds[0]
    booster = fold.estimator
    if (
        type(booster) is not HistGradientBoostingClassifier
        or fold.method not in ("isotonic", "sigmoid")
        or len(fold.calibrators) != 1
        or booster.n_trees_per_iteration_ != 1
        or booster.is_categorical_ is not None
        or list(fold.classes) != [0, 1]
    ):
        return None
    parts = [predictors[0].nodes for predictors in booster._predictors]
    if any(bool(nodes["is_categorical"].any()) for nodes in parts):
        return None
    calibrator = _calibrator(fold.calibrators[0])
    if calibrator is None:
        return None
    if sum(len(p) for p in parts) >= 2**31:  # the node indices are int32
        return None
    trees = [_breadth_first(nodes) for nodes in parts]
    sizes = np.array([len(order) for order, _, _ in trees], dtype=np.int64)
    roots = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    nodes = np.concatenate([nodes[order] for nodes, (order, _, _) in zip(parts, trees)])
    first = np.concatenate([first + root for (_, first, _), root in zip(trees, roots)])
    leaf = nodes["is_leaf"].astype(np.bool_)
    return _Head(
        baseline=float(booster._baseline_prediction.reshape(-1)[0]),
        roots=roots.astype(np.int32),
        depth=np.array([deepest for _, _, deepest in trees], dtype=np.int32),
        feature=np.where(leaf, 0, nodes["feature_idx"]).astype(np.int32),
        threshold=np.where(leaf, np.inf, nodes["num_threshold"]).astype(np.float64),
        nan_right=~leaf & ~nodes["missing_go_to_left"].astype(np.bool_),
        child=np.where(leaf, np.arange(len(nodes)), first).astype(np.int32),
        value=nodes["value"].astype(np.float64),
        calibrators=(calibrator,),
    )


def _breadth_first(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """One tree's nodes in breadth-first order, so that the two children of a node are side by
    side: the order (old indices), each node's first child in the new order (-1 at a leaf),
    and the depth of the deepest leaf."""
    is_leaf, left, right = nodes["is_leaf"].tolist(), nodes["left"].tolist(), nodes["right"].tolist()
    order, first, level = [0], [-1], [0]
    at = 0
    while at < len(order):  # the order grows as the walk reaches each level
        old = order[at]
        if not is_leaf[old]:
            first[at] = len(order)
            order += [left[old], right[old]]
            first += [-1, -1]
            level += [level[at] + 1] * 2
        at += 1
    return np.array(order, dtype=np.int64), np.array(first, dtype=np.int64), max(level)


class CompiledModel:
    """A fitted :class:`~spamflood.model.FloodModel` whose heads walk their trees in one
    compiled loop: :meth:`score_all` as the model's (see the module docstring). Built by
    :func:`compile_model`.

    ``text``: the compiled text part (``None``: the model has none), which also names the
    n-grams behind a text score (:meth:`text_evidence`); ``text_weight``: the text part's
    weight in a blended model's overall score (``None``: the text part, if any, is a feature
    of the heads)."""

    def __init__(
        self,
        names: list[str],
        empty: np.ndarray,
        heads: dict[str, _Head],
        label_names: list[str],
        reference: np.ndarray | None = None,
        text: CompiledText | None = None,
        text_weight: float | None = None,
    ) -> None:
        self.names = names
        self.empty = empty
        self.heads = heads
        self.label_names = label_names
        self.reference = reference
        self.text = text
        self.text_weight = text_weight

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The named features the heads read, in their order (as the model's)."""
        return np.asarray(self.names, dtype=object)

    def weighed_features(self) -> frozenset[str]:
        """As :meth:`spamflood.model.FloodModel.weighed_features`: the named features a tree of
        the ``spam`` head splits on."""
        head = self.heads["spam"]
        split = head.child != np.arange(head.child.shape[0])
        return frozenset(self.names[j] for j in np.unique(head.feature[split]).tolist() if j < len(self.names))

    def text_scores(self, texts: Sequence[str], *, normalized: bool = False) -> np.ndarray:
        """The text part's probability for each post (``texts`` as written, or their matching
        forms with ``normalized``): the ``TEXT_MODEL`` column the heads read."""
        if self.text is None:
            raise AttributeError("This model has no text part.")
        if normalized:
            return self.text.proba(list(texts))
        from spamflood.model.text import matching_forms

        return self.text.proba(matching_forms(texts))

    def text_evidence(self, texts: Sequence[str], top: int = 3) -> list[list[str]]:
        """As :meth:`spamflood.model.FloodModel.text_evidence`, from the compiled text part."""
        if self.text is None:
            raise ModelError("This model has no text part (text=False): it has no n-grams to name.")
        from spamflood.model.text import matching_forms, weighty_ngrams

        originals = ["" if t is None else str(t) for t in texts]
        return weighty_ngrams(self.text, matching_forms(originals), originals, top)

    def score_all(
        self, X: Mapping[str, Any], *, label_floor: float = 0.0, block_rows: int = BLOCK_ROWS
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The overall score and the label heads (those only where the score reaches
        ``label_floor``, 0 elsewhere), as :meth:`spamflood.model.FloodModel.score_all`.

        Rows are scored ``block_rows`` at a time (see :data:`BLOCK_ROWS`); the blocks run on
        as many threads as there are cores."""
        n = len(next(iter(X.values()))) if X else 0
        spam = np.zeros(n, dtype=np.float64)
        subs = {name: np.zeros(n, dtype=np.float64) for name in self.label_names}

        def block(start: int, stop: int) -> None:
            matrix = self._matrix(X, start, stop)
            score = spam[start:stop] = self._spam(matrix)
            rows = np.flatnonzero(score >= label_floor)
            if rows.size:
                picked = matrix if rows.size == matrix.shape[0] else matrix[rows]
                for name in self.label_names:
                    subs[name][start + rows] = self.heads[name].proba(picked)

        _in_blocks(n, block_rows, block)
        return spam, subs

    def label_heads(
        self, X: Mapping[str, Any], where: Mapping[str, np.ndarray], *, block_rows: int = BLOCK_ROWS
    ) -> dict[str, np.ndarray]:
        """Each label head's probability on the rows of ``X`` where ``where[label]`` holds, 0
        on the others (and everywhere for a label ``where`` does not name): a head orders the
        labels a post lists, so a decision needs it only where its label fired. The same
        numbers as :meth:`score_all` gives on those rows, scored in blocks as it does."""
        n = len(next(iter(X.values()))) if X else 0
        out = {name: np.zeros(n, dtype=np.float64) for name in self.label_names}
        masks = {name: np.asarray(where[name], dtype=bool) for name in self.label_names if name in where}
        masks = {name: mask for name, mask in masks.items() if mask.any()}
        if not masks:
            return out

        def block(start: int, stop: int) -> None:
            wanted = {name: np.flatnonzero(mask[start:stop]) for name, mask in masks.items()}
            wanted = {name: rows for name, rows in wanted.items() if rows.size}
            if not wanted:
                return
            matrix = self._matrix(X, start, stop)
            for name, rows in wanted.items():
                out[name][start + rows] = self.heads[name].proba(matrix if rows.size == stop - start else matrix[rows])

        _in_blocks(n, block_rows, block)
        return out

    def _matrix(self, X: Mapping[str, Any], start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of ``X`` as the float matrix the trees read (the features the
        model learned as empty held at 0, as it does)."""
        matrix = feature_matrix({k: v[start:stop] for k, v in X.items()}, self.names)
        matrix[:, self.empty] = 0.0
        if self.text is not None:
            if TEXT_FEATURE in X:  # scored where the matching forms were at hand
                text = np.asarray(X[TEXT_FEATURE][start:stop], dtype=np.float64)
            elif "text" in X:
                text = self.text_scores(X["text"][start:stop])
            else:
                raise ModelError("This model reads the post text (text=True), but the input has no 'text' column.")
            matrix = np.column_stack([matrix, text])
        return matrix

    def contributions(self, X: Mapping[str, Any], groups: Mapping[str, Sequence[str]]) -> dict[str, np.ndarray]:
        """As :meth:`spamflood.model.FloodModel.contributions`: per group of features, the
        score minus the score with them at the model's typical non-spam values."""
        if self.reference is None:
            raise AttributeError("This model has no reference_ (typical non-spam values); refit it to explain scores.")
        matrix = self._matrix(X, 0, len(next(iter(X.values()))) if X else 0)
        read = self.names + ([TEXT_FEATURE] if self.text is not None else [])  # the matrix's columns
        index = {name: j for j, name in enumerate(read)}
        columns = {group: [index[name] for name in names if name in index] for group, names in groups.items()}
        return group_contributions(self._spam, matrix, self.reference, columns)

    def _spam(self, matrix: np.ndarray) -> np.ndarray:
        """The overall score of the rows of ``matrix`` (a blended model's heads never split on
        its last column, the text part's probability, which is blended in after), blocks of
        rows on the cores: each row walks alone, so the numbers are those of one pass."""
        score = np.empty(matrix.shape[0], dtype=np.float64)

        def block(start: int, stop: int) -> None:
            score[start:stop] = self.heads["spam"].proba(matrix[start:stop])

        _in_blocks(matrix.shape[0], BLOCK_ROWS, block)
        return score if self.text_weight is None else blend_text(score, matrix[:, -1], self.text_weight)


def _in_blocks(n: int, block_rows: int, work: Callable[[int, int], None]) -> None:
    """``work(start, stop)`` over rows ``0..n`` in blocks of ``block_rows``, on as many threads
    as there are cores (the compiled loop releases the GIL) when there are several blocks."""
    starts = range(0, n, block_rows)
    threads = min(len(starts), os.cpu_count() or 1)
    if threads <= 1:
        for start in starts:
            work(start, min(start + block_rows, n))
        return
    with ThreadPoolExecutor(threads) as pool:
        # list(): a block's error is raised here
        list(pool.map(lambda start: work(start, min(start + block_rows, n)), starts))


def compile_model(model: Any) -> CompiledModel | None:
    """``model``'s compiled form, or ``None`` when it cannot be reproduced (a text pipeline of
    other settings, categorical splits, another kind of head: see the module docstring)."""
    if not hasattr(model, "heads_") or not hasattr(model, "text"):
        return None
    text = None
    if model.text:
        if getattr(model, "text_form_", "raw") != "normalized":  # fitted before the text model read matching forms
            return None
        text = compile_text(model.text_model_)
        if text is None:
            return None
    heads = {}
    for name, calibrated in model.heads_.items():
        head = _head(calibrated)
        if head is None:
            return None
        heads[name] = head
    reference = getattr(model, "reference_", None)
    return CompiledModel(
        list(model.feature_names_in_),
        np.asarray(model.empty_features_),
        heads,
        list(model.label_names_),
        None if reference is None else np.asarray(reference, dtype=np.float64),
        text,
        model.text_weight if model.text and getattr(model, "text_join", "stack") == "blend" else None,
    )
