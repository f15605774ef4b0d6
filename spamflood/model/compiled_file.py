"""A compiled model's numbers in one file, read back without scikit-learn and without pickle.

Unpickling the bundled :class:`~spamflood.model.FloodModel` imports scikit-learn and takes
about a second of CPU, which a scoring command spends on every run although it walks only the
compiled trees (:mod:`spamflood.model.compiled`). :func:`save_model
<spamflood.model.store.save_model>` therefore writes the compiled form beside the model
(``<name>.trees``, its SHA-256 in the manifest) and :func:`load_model
<spamflood.model.store.load_model>` scores from it; the pickled model is still unpickled, on
first use, for anything else (its text part, training, ``evaluate``).

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

__all__ = ["TREES_SUFFIX", "read_trees", "trees_bytes"]

TREES_SUFFIX = ".trees"
"""What a model's compiled file is named: the model's file with this suffix."""

_MAGIC = b"spamflood compiled trees 1\n"
_HEAD_ARRAYS = ("roots", "depth", "feature", "threshold", "nan_right", "child", "value")


def trees_bytes(model: CompiledModel) -> bytes:
    """The file of ``model`` (a model with a text part has none: :class:`ModelError`)."""
    if model.text is not None:
        raise ModelError("A model with a text part is scored from its own file; it has no compiled trees file.")
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
    return pack(_MAGIC, {"names": model.names, "labels": model.label_names, "heads": heads}, arrays)


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
        return CompiledModel(list(header["names"]), arrays["empty"], heads, list(header["labels"]), reference)
    except (KeyError, TypeError, ValueError) as exc:  # a truncated or edited file
        raise ModelError(f"{source} could not be read: {exc}") from None
