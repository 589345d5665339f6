"""Fixtures, and the order test files run in; shared functions live in helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlplens import DenseStack, Mnist, load_mnist

from .helpers import launch_chromium, tiny_net


# The test files that take one worker longest (10 s or more each), longest first. `make test`
# runs files whole on two workers in collection order (`--no-loadscope-reorder`): starting with
# these lets the many short files fill in behind them, so both workers finish together.
LONGEST_FIRST = ("test_probes", "test_model", "test_explorer_browser", "test_cli",
                 "test_reproduce", "test_own_data", "test_crash", "test_tabular",
                 "test_explorer_images_browser", "test_notebook", "test_data")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        stem = item.path.stem
        return LONGEST_FIRST.index(stem) if stem in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: within a file, and among the rest, the order stays


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, for one test file's pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def tiny_stack() -> DenseStack:
    return tiny_net()


@pytest.fixture(scope="session")
def mnist() -> Mnist:
    """The real, verified MNIST."""
    return load_mnist()


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, mnist) -> Path:
    """The one small trained net the tests share: 784-64-32-10 on the first 3,000 real training
    images, 2 epochs, seed 0, snapshots every 8 steps; saved as a run folder (model.keras,
    metrics.json, snapshots.npz). Trained once per test worker."""
    from mlplens.training import train

    folder = tmp_path_factory.mktemp("small-run")
    train((64, 32), train_samples=3000, epochs=2, seed=0, data=mnist, verbose=0,
          snapshot_every=8).save(folder)
    return folder
