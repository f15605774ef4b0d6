"""Saving and loading a model with its manifest, and refusing files that are not what they say.

A model is two files side by side: ``NAME.joblib`` (the fitted :class:`FloodModel` with the
detector settings it was trained with) and ``NAME.manifest.json``: its SHA-256, the versions of
Python, scikit-learn, numpy and spamflood that made it, how it was trained (command, data,
seed) and its measured figures. A model whose trees compile (:mod:`spamflood.model.compiled`)
has a third, ``NAME.trees``: those trees as plain numbers (:mod:`spamflood.model.compiled_file`),
its SHA-256 in the manifest too, from which a deferred model scores without unpickling.

Why ``trusted``: a joblib file is a pickle, and unpickling can run any code the file's author
wrote. The hash check catches corruption and tampering *after* the manifest was written, but
whoever can write both files can write anything. So only the model bundled with spamflood loads
without asking; any other path needs ``trusted=True``, saying "I made this file or I trust whoever
did".
"""

from __future__ import annotations

import hashlib
import json
import platform
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spamflood.errors import ModelError

__all__ = [
    "BUNDLED_MODEL",
    "DeferredModel",
    "LoadedModel",
    "ModelVersionWarning",
    "bundled_model_path",
    "file_sha256",
    "load_model",
    "manifest_path",
    "save_model",
    "versions",
]

BUNDLED_MODEL = "spamflood-default"
"""File stem of the model shipped in ``models/``."""

MANIFEST_FORMAT = 1


class ModelVersionWarning(UserWarning):
    """The model was made with other versions of scikit-learn, numpy or Python than these."""


@dataclass
class LoadedModel:
    """A model, the detector settings its features were computed with, and its manifest."""

    model: Any
    settings: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def bundled_model_path(name: str = BUNDLED_MODEL) -> Path:
    """Where the bundled model ``name`` lives: ``models/`` beside the package (source checkout,
    editable install) or ``<prefix>/share/spamflood/models`` (installed from a wheel)."""
    import sys

    package = Path(__file__).resolve().parents[1]
    for folder in (package.parent / "models", Path(sys.prefix) / "share" / "spamflood" / "models"):
        candidate = folder / f"{name}.joblib"
        if candidate.exists():
            return candidate
    return package.parent / "models" / f"{name}.joblib"


def manifest_path(model_path: str | Path) -> Path:
    path = Path(model_path)
    return path.with_name(path.name.removesuffix(".joblib") + ".manifest.json")


def trees_path(model_path: str | Path) -> Path:
    """Where a model's compiled trees file is (see :mod:`spamflood.model.compiled_file`)."""
    from spamflood.model.compiled_file import TREES_SUFFIX

    path = Path(model_path)
    return path.with_name(path.name.removesuffix(".joblib") + TREES_SUFFIX)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    """The versions a model file depends on (pickles are not portable across them)."""
    from importlib.metadata import PackageNotFoundError, version

    import numpy

    from spamflood import __version__

    try:  # the installed distribution's version: no need to import scikit-learn (a second) for it
        sklearn_version = version("scikit-learn")
    except PackageNotFoundError:  # pragma: no cover - importable without metadata
        import sklearn

        sklearn_version = sklearn.__version__
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn_version,
        "numpy": numpy.__version__,
        "spamflood": __version__,
    }


def save_model(
    model: Any,
    path: str | Path,
    *,
    settings: dict[str, Any],
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write ``path`` (joblib) and its manifest; return the manifest's path.

    ``settings``: the detector parameters the features were computed with (window,
    similarity, ...), restored by :meth:`spamflood.Detector.load`.

    Both files are written beside their targets and renamed into place only once both are
    complete (:func:`~spamflood.io.atomic.atomic_outputs`), the manifest last: it vouches for
    the model, so a reader between the two renames, or after a crash between them, finds a
    model that does not match its manifest's SHA-256 and refuses it. A failure to write raises
    :class:`~spamflood.errors.OutputError` and leaves both previous files as they were.
    """
    import io

    import joblib

    from spamflood.io.atomic import atomic_outputs

    path = Path(path)
    if path.suffix != ".joblib":
        raise ModelError(f"A model file name must end in .joblib; got '{path}'.")
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()  # hashed from the very bytes written
    joblib.dump({"model": model, "settings": settings}, buffer, compress=3)
    data = buffer.getvalue()
    trees = _trees_of(model)
    manifest = {
        "format": MANIFEST_FORMAT,
        "file": path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "versions": versions(),
        "features": list(getattr(model, "model_names_", [])),
        "labels": list(getattr(model, "label_names_", [])),
        "parameters": {k: _jsonable(v) for k, v in model.get_params().items()},
        "settings": settings,
        "training": training or {},
        "metrics": metrics or {},
    }
    if trees is not None:
        manifest["trees"] = {"file": trees_path(path).name, "sha256": hashlib.sha256(trees).hexdigest()}
    text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    target = manifest_path(path)
    files = {path: data, **({trees_path(path): trees} if trees is not None else {}), target: text.encode("utf-8")}
    with atomic_outputs(*files) as outputs:  # the manifest last: it vouches for the others
        for output, content in zip(outputs, files.values()):
            output.write(content)
    if trees is None:
        trees_path(path).unlink(missing_ok=True)  # the manifest no longer names a previous model's trees
    return target


def _trees_of(model: Any) -> bytes | None:
    """The compiled trees file of ``model``, or ``None``: it does not compile."""
    from spamflood.model.compiled import compile_model
    from spamflood.model.compiled_file import trees_bytes

    compiled = compile_model(model)
    if compiled is None:
        return None
    return trees_bytes(compiled)


def read_manifest(path: str | Path) -> dict[str, Any]:
    target = manifest_path(path)
    if not target.exists():
        raise ModelError(
            f"Model {path} has no manifest ({target.name} beside it); without its SHA-256 the file "
            "cannot be checked, so it is not loaded. Save models with `spamflood train`."
        )
    try:
        manifest = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Model manifest {target} is unreadable: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), str):
        raise ModelError(f"Model manifest {target} has no 'sha256' entry; it is not a spamflood manifest.")
    return manifest


def load_model(
    path: str | Path | None = None, *, trusted: bool = False, defer: bool = False, bundled_name: str = BUNDLED_MODEL
) -> LoadedModel:
    """Load a model after checking its SHA-256 against its manifest.

    ``path=None`` loads the bundled model ``bundled_name`` (the post model, or the account
    model ``spamflood-accounts``). Any other file needs ``trusted=True`` (loading a
    joblib file can run code). A hash mismatch raises :class:`ModelError`; other versions of
    scikit-learn, numpy or Python than the manifest's give a :class:`ModelVersionWarning`.

    ``defer=True``: read and check the file now, but unpickle it (and import scikit-learn,
    together ~1.7 s) only when the model is first needed, or in the background once
    :meth:`DeferredModel.start` is called; ``model`` is then a :class:`DeferredModel` and the
    settings come from the manifest (checked against the file's own when it is unpickled).
    """
    bundled = path is None
    model_path = bundled_model_path(bundled_name) if path is None else Path(path)
    if not bundled and model_path.resolve() == bundled_model_path(bundled_name).resolve():
        bundled = True
    if not model_path.exists():
        where = "The bundled model" if bundled else "Model file"
        raise ModelError(f"{where} {model_path} does not exist.")
    if not bundled and not trusted:
        raise ModelError(
            f"Refusing to load {model_path}: a joblib model file can run code when loaded. "
            "Pass trusted=True (CLI: --trust-model) only for a file you made or trust."
        )
    manifest = read_manifest(model_path)
    data = model_path.read_bytes()  # hashed and unpickled from these bytes: one version of the file
    actual = hashlib.sha256(data).hexdigest()
    if actual != manifest["sha256"]:
        raise ModelError(
            f"Model {model_path} does not match its manifest: SHA-256 {actual[:16]}... but the manifest "
            f"says {manifest['sha256'][:16]}.... The file is corrupt or was changed; it is not loaded."
        )
    _warn_versions(manifest.get("versions", {}), model_path)
    if defer and isinstance(manifest.get("settings"), dict):
        settings = dict(manifest["settings"])
        deferred = DeferredModel(data, model_path, settings, compiled=_compiled_trees(model_path, manifest))
        return LoadedModel(deferred, settings, manifest, model_path)
    payload = _unpickle(data, model_path)
    return LoadedModel(model=payload["model"], settings=dict(payload.get("settings", {})), manifest=manifest, path=model_path)


def _compiled_trees(model_path: Path, manifest: dict[str, Any]) -> Any:
    """The compiled trees beside the model (:func:`trees_path`: found as its manifest is),
    checked against the SHA-256 its manifest records, or ``None`` if it records none."""
    entry = manifest.get("trees")
    if entry is None:
        return None
    from spamflood.model.compiled_file import read_trees

    path = trees_path(model_path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"Model {model_path}: its manifest names the trees file {path.name}, which cannot be read: {exc}") from None
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise ModelError(
            f"Model {model_path}: the trees file {path.name} does not match its manifest's SHA-256. "
            "The file is corrupt or was changed; the model is not loaded."
        )
    return read_trees(data, str(path))


def _unpickle(data: bytes, path: Path) -> dict[str, Any]:
    import io

    import joblib

    try:
        payload = joblib.load(io.BytesIO(data))
    except Exception as exc:  # a corrupt pickle can raise anything
        raise ModelError(f"Model {path} could not be read: {exc}") from None
    if not isinstance(payload, dict) or "model" not in payload:
        raise ModelError(f"Model {path} is not a spamflood model file.")
    return payload


class DeferredModel:
    """A model file read and checked against its manifest, unpickled when first needed.

    :meth:`start` unpickles it on a background thread (call it once no process will be forked
    any more: a thread running while a process forks can leave the child's locks held);
    :meth:`result` waits for it, or unpickles it here if it was never started. The model's
    attributes and methods are reached through it, and it pickles as the model itself. Only a
    file that matches its manifest's hash gets this far, so unpickling fails only if that file
    was written broken; the error then comes at the first use.

    ``compiled``: the model's compiled trees from its trees file (``None`` without one), which
    score and explain posts as the model does; with them, :meth:`start` unpickles nothing, and
    the model is unpickled only if something else of it is asked for.
    """

    def __init__(self, data: bytes, path: Path, settings: dict[str, Any], *, compiled: Any = None) -> None:
        self._data = data
        self.path = path
        self.compiled = compiled
        self._settings = settings
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._model: Any = None
        self._error: BaseException | None = None

    def start(self) -> None:
        with self._lock:
            if self.compiled is None and self._thread is None and self._model is None and self._error is None:
                self._thread = threading.Thread(target=self._load, name="spamflood-model-load", daemon=True)
                self._thread.start()

    def result(self) -> Any:
        """The model (raises :class:`ModelError` if the file cannot be unpickled)."""
        with self._lock:  # start() waits while this loads: one unpickling, whoever asks first
            thread = self._thread
            if thread is None and self._model is None and self._error is None:
                self._load()
        if thread is not None:
            thread.join()
        if self._error is not None:
            raise self._error
        return self._model

    def wait(self) -> None:
        """Wait until a load :meth:`start` began has finished (nothing to wait for otherwise):
        before a fork, no thread may be holding a lock the copy would inherit held."""
        thread = self._thread
        if thread is not None:
            thread.join()

    def _load(self) -> None:
        try:
            payload = _unpickle(self._data, self.path)
            if dict(payload.get("settings", {})) != self._settings:
                raise ModelError(
                    f"Model {self.path}: the settings in its manifest are not the ones it was trained with; "
                    "the manifest was edited. It is not used."
                )
            self._model = payload["model"]
        except Exception as exc:  # handed to whoever asks for the model
            self._error = exc
        self._data = b""

    def __getattr__(self, name: str) -> Any:
        # Anything else is the model's: a deferred model can stand where the model stood.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.result(), name)

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return _same, (self.result(),)


def _same(value: Any) -> Any:
    return value


def _warn_versions(recorded: dict[str, str], path: Path) -> None:
    current = versions()
    differ = [
        f"{name} {recorded[name]} (now {current[name]})"
        for name in ("scikit-learn", "numpy", "python")
        if name in recorded and _minor(recorded[name]) != _minor(current[name])
    ]
    if differ:
        warnings.warn(
            f"Model {path.name} was made with {', '.join(differ)}; its scores may differ. "
            "Retrain it with the command in its manifest.",
            ModelVersionWarning,
            stacklevel=3,
        )


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return repr(value)
