"""Fixtures only; shared functions live in helpers.py."""

from __future__ import annotations

import pytest

from mlplens import DenseStack

from .helpers import tiny_net


@pytest.fixture
def tiny_stack() -> DenseStack:
    return tiny_net()
