"""Shared by every training test folder: the packages importable from training/, one torch thread
(the machine's cores are shared with the browser tests), and in CI no silent skips."""
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
torch.set_num_threads(1)

# In CI (`.ci/run` sets CI=true) every test must run: a skip there means a missing input or
# install step, so it is reported as a failure that names the skip's reason.
REQUIRE_ALL = os.environ.get("CI") == "true" or os.environ.get("BRUSHCAM_NO_SKIP") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where it must run: {reason}"
