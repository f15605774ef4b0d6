"""The package version, alone in a module: ``spamflood --version`` reads it without importing
the scoring stack (numpy, numba, scikit-learn). pyproject.toml reads it too (one source)."""

__version__ = "0.1.0"
