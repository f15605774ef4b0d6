"""Collection of the package's docstring examples (``--doctest-modules``): modules whose
extra is not installed are left out, as the tests that need them skip; one OpenMP thread per
test process; and the pytest-xdist flags of pyproject's ``addopts`` stay valid with xdist off
(``-p no:xdist``), as a serial run."""

import os
from importlib.util import find_spec

import pytest

# Two pytest-xdist workers share the two cores: scikit-learn's OpenMP threads (two per worker
# by default) would spin-wait for each other, and the model-training tests took three times the
# CPU (test_model*.py and test_accounts_cli.py: 187 against 56 CPU s). Set before anything loads
# OpenMP; the workers and the commands the tests start inherit it. An explicit value wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

collect_ignore_glob = [] if find_spec("pyspark") else ["spamflood/spark/*.py"]


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("xdist", "pytest-xdist is off: the suite runs serially")
    group.addoption("--numprocesses", dest="numprocesses", default=None, help="ignored: pytest-xdist is off")
    group.addoption("--dist", dest="dist", default="no", help="ignored: pytest-xdist is off")
    group.addoption("--no-loadscope-reorder", dest="loadscopereorder", action="store_false", help="ignored: pytest-xdist is off")
