"""Fixtures, and the order test files run in; shared functions live in helpers.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlplens import Dataset, DenseStack, load_mnist

from .helpers import launch_chromium, tiny_net


# The test files that take one worker longest (10 s or more each), longest first. `make test`
# runs files whole on two workers in collection order (`--no-loadscope-reorder`): starting with
# these lets the many short files fill in behind them, so both workers finish together.
LONGEST_FIRST = ("test_probes", "test_model", "test_zoo_keras_torch", "test_explorer_browser",
                 "test_zoo_onnx", "test_cli", "test_explorer_heads_browser", "test_reproduce",
                 "test_own_data", "test_crash", "test_tabular", "test_explorer_images_browser",
                 "test_notebook", "test_data", "test_probes_round3", "test_compare")


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
def mnist() -> Dataset:
    """The real, verified MNIST."""
    return load_mnist()


def _built_once(tmp_path_factory, worker_id: str, name: str,
                build: Callable[[Path], object]) -> Path:
    """A folder that `build` fills once per test run and every worker reads: the first worker to
    need it builds it under a lock, in the run's own temporary folder, beside it, then renames it
    into place, so a half-built folder is never taken for a finished one."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # one run's folder, all workers
    folder = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not folder.exists():
            building = shared / f"{name}.partial"
            building.mkdir()
            build(building)
            building.rename(folder)
    return folder


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, mnist, worker_id) -> Path:
    """The one small trained net the tests share: 784-64-32-10 on the first 3,000 real training
    images, 2 epochs, seed 0, snapshots every 8 steps; saved as a run folder (model.keras,
    metrics.json, snapshots.npz)."""
    from mlplens.training import train

    return _built_once(tmp_path_factory, worker_id, "small-run", lambda folder: train(
        (64, 32), train_samples=3000, epochs=2, seed=0, data=mnist, verbose=0,
        snapshot_every=8).save(folder))


@pytest.fixture(scope="session")
def keras_torch_zoo(tmp_path_factory, mnist, worker_id) -> Path:
    """The Keras and PyTorch zoo (tests/zoo_keras_torch.py): made by Keras and torch, trained
    briefly on real MNIST, with each framework's outputs beside each file."""
    from .zoo_keras_torch import build

    return _built_once(tmp_path_factory, worker_id, "keras-torch-zoo",
                       lambda folder: build(folder, mnist))


@pytest.fixture(scope="session")
def onnx_zoo(tmp_path_factory, mnist, worker_id) -> Path:
    """The ONNX zoo of tests/zoo_onnx.py (torch's two exporters, skl2onnx; about 15 s)."""
    from .zoo_onnx import build

    return _built_once(tmp_path_factory, worker_id, "onnx-zoo", lambda folder: build(folder, mnist))
