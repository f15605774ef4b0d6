"""A compiled model's numbers in one file, read back without scikit-learn and without pickle.

Unpickling the bundled :class:`~spamflood.model.FloodModel` imports scikit-learn and takes
about a second of CPU, which a scoring command spends on every run although it walks only the
compiled trees (:mod:`spamflood.model.compiled`) and the compiled text part
(:mod:`spamflood.model.text_kernel`). :func:`save_model <spamflood.model.store.save_model>`
therefore writes the compiled form beside the model (``<name>.trees``, its SHA-256 in the
manifest) and :func:`load_model <spamflood.model.store.load_model>` scores and explains from
it; the pickled model is still unpickled, on first use, for anything else (training,
``evaluate``).

The format (:mod:`spamflood._arrays_file`): a first line naming it, a JSON header (the model's
feature and label names, each head's calibrators) and the arrays. Written from the same model
it gives the same bytes, and reading it runs no code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spamflood._arrays_file import pack, unpack
from spamflood.errors import ModelError
from spamflood.model.compiled import CompiledModel, Isotonic, Sigmoid, _Head
from spamflood.model.text_kernel import CompiledText

__all__ = ["TREES_SUFFIX", "read_trees", "trees_bytes"]

TREES_SUFFIX = ".trees"
"""What a model's compiled file is named: the model's file with this suffix."""

_MAGIC = b"spamflood compiled trees 1\n"
_HEAD_ARRAYS = ("roots", "depth", "feature", "threshold", "nan_right", "child", "value")


def trees_bytes(model: CompiledModel) -> bytes:
    """The file of ``model``."""
    arrays: dict[str, np.ndarray] = {"empty": np.asarray(model.empty)}
    if model.reference is not None:
        arrays["reference"] = np.asarray(model.reference, dtype=np.float64)
    heads: dict[str, Any] = {}
    for name, head in model.heads.items():
        for field in _HEAD_ARRAYS:
            arrays[f"{name}/{field}"] = getattr(head, field)
        calibrators = []
        for k, calibrator in enumerate(head.calibrators):
            if isinstance(calibrator, Isotonic):
                arrays[f"{name}/{k}/bounds"] = np.array([calibrator.low, calibrator.high])
                arrays[f"{name}/{k}/x"], arrays[f"{name}/{k}/y"] = calibrator.x, calibrator.y
                calibrators.append("isotonic")
            else:
                arrays[f"{name}/{k}/ab"] = np.array([calibrator.a, calibrator.b])
                calibrators.append("sigmoid")
        arrays[f"{name}/baseline"] = np.array([head.baseline])
        heads[name] = calibrators
    header: dict[str, Any] = {"names": model.names, "labels": model.label_names, "heads": heads}
    if model.text is not None:
        header["text"] = _text_header(model.text, model.text_weight, arrays)
    return pack(_MAGIC, header, arrays)


def _text_header(text: CompiledText, weight: float | None, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The text part's settings, its arrays added to ``arrays``. Of the 2**20 columns about half
    held an n-gram of the training posts: a bitmap says which, and only those keep their
    coefficient and IDF (as an index into the few thousand IDF values there are); every other
    column has the IDF of an n-gram no training post had and a coefficient of 0."""
    unseen = float(text.idf.max()) if text.idf.size else 1.0
    seen = (text.idf != unseen) | (text.coef != 0.0)
    values, codes = np.unique(text.idf[seen], return_inverse=True)
    arrays["text/seen"] = np.packbits(seen)
    arrays["text/coef"] = text.coef[seen]
    arrays["text/idf_values"] = values
    arrays["text/idf_codes"] = codes.astype(np.min_scalar_type(max(len(values) - 1, 0)))
    return {
        "min_n": text.min_n, "max_n": text.max_n, "n_features": text.n_features, "lowercase": text.lowercase,
        "sublinear": text.sublinear, "l2": text.l2, "intercept": text.intercept, "unseen_idf": unseen, "weight": weight,
    }


def _text_part(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> CompiledText:
    n_features = int(header["n_features"])
    seen = np.unpackbits(arrays["text/seen"], count=n_features).astype(bool)
    idf = np.full(n_features, float(header["unseen_idf"]))
    idf[seen] = arrays["text/idf_values"][arrays["text/idf_codes"]]
    coef = np.zeros(n_features)
    coef[seen] = arrays["text/coef"]
    return CompiledText(
        min_n=int(header["min_n"]), max_n=int(header["max_n"]), n_features=n_features, lowercase=bool(header["lowercase"]),
        sublinear=bool(header["sublinear"]), l2=bool(header["l2"]), idf=idf, coef=coef, intercept=float(header["intercept"]),
    )


def read_trees(data: bytes, source: str) -> CompiledModel:
    """The compiled model in ``data`` (the bytes of a trees file; ``source`` names it in errors)."""
    if not data.startswith(_MAGIC):
        raise ModelError(f"{source} is not a spamflood compiled trees file.")
    try:
        header, arrays = unpack(_MAGIC, data)
        heads = {}
        for name, kinds in header["heads"].items():
            calibrators: list[Isotonic | Sigmoid] = []
            for k, kind in enumerate(kinds):
                if kind == "isotonic":
                    low, high = arrays[f"{name}/{k}/bounds"].tolist()
                    calibrators.append(Isotonic(low, high, arrays[f"{name}/{k}/x"], arrays[f"{name}/{k}/y"]))
                else:
                    a, b = arrays[f"{name}/{k}/ab"].tolist()
                    calibrators.append(Sigmoid(a, b))
            fields = {field: arrays[f"{name}/{field}"] for field in _HEAD_ARRAYS}
            heads[name] = _Head(baseline=float(arrays[f"{name}/baseline"][0]), calibrators=tuple(calibrators), **fields)
        reference = arrays.get("reference")
        text = header.get("text")
        return CompiledModel(
            list(header["names"]), arrays["empty"], heads, list(header["labels"]), reference,
            None if text is None else _text_part(text, arrays), None if text is None else text["weight"],
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:  # a truncated or edited file
        raise ModelError(f"{source} could not be read: {exc}") from None
