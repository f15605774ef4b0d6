"""Collection of the package's docstring examples (``--doctest-modules``): modules whose
extra is not installed are left out, as the tests that need them skip."""

from importlib.util import find_spec

collect_ignore_glob = [] if find_spec("pyspark") else ["spamflood/spark/*.py"]
