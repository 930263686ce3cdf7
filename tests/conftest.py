"""Test-suite options.

    pytest --update-golden    after an intended timing change, rewrite the
                              `CYCLES = N` line of every golden sidecar whose
                              program now takes a different number of cycles
                              (outputs are still compared and still fail).
"""
from __future__ import annotations

import pytest


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite CYCLES in programs/*.golden.py to the cycle counts measured now")


class GoldenUpdates:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.changed: list[str] = []


def pytest_configure(config):
    config._golden_updates = GoldenUpdates(config.getoption("--update-golden"))


@pytest.fixture
def golden_updates(request) -> GoldenUpdates:
    return request.config._golden_updates


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    updates = getattr(config, "_golden_updates", None)
    if updates and updates.changed:
        terminalreporter.section("golden cycle counts updated")
        for line in updates.changed:
            terminalreporter.write_line(line)
