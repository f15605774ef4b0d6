"""spamflood: find marketing floods in social feeds, and explain every score."""

from __future__ import annotations

from spamflood.errors import ConfigError, InputError, ModelError, SpamfloodError
from spamflood.posts import Post, PostBatch

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "InputError",
    "ModelError",
    "Post",
    "PostBatch",
    "SpamfloodError",
    "__version__",
]
