"""Shared fixtures for the service-layer tests: the opt-in perfcore pytest plugin's fixtures,
imported here so every test module in this folder can use them."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfcore.testing.pytest_plugin import (  # noqa: F401 - fixtures
    fake_clock,
    inmemory_uow,
    perfcore_bus,
    recording_notifier,
    static_identity,
)

PLAN = (Path(__file__).resolve().parents[2] / "e2e" / "loop_plan.yaml").read_text(encoding="utf-8")


@pytest.fixture
def perfcore_plan() -> str:
    """The shop-floor quality plan of the e2e test (FPY with target 0.95, alert below 0.9)."""
    return PLAN
