"""Training snapshots and the evolution animation, on a real (small) MNIST training run."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mlplens.errors import MlplensError
from mlplens.figures.evolution import compare_runs, evolve_run, output_frame
from mlplens.snapshots import load_snapshots, spread_frames
from mlplens.training import build, import_keras, train

from .helpers import assert_one_error_line, run_cli

# Trains real networks or runs the command line in new interpreters: `make test`, not
# `make check`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    trained = train(hidden=(32,), train_samples=1000, epochs=2, seed=3, snapshot_every=3,
                    verbose=0)
    trained.save(folder)
    return folder, trained


def test_snapshots_start_from_the_initial_weights(run):
    folder, trained = run
    snapshots = load_snapshots(folder)
    # 1,000 images at batch 128: 8 steps an epoch, 16 in all; every 3 steps, plus the last.
    assert snapshots.steps.tolist() == [0, 3, 6, 9, 12, 15, 16]
    import_keras().utils.set_random_seed(3)
    initial = build((32,)).get_weights()
    for layer in range(2):
        np.testing.assert_array_equal(snapshots.kernels[layer][0],
                                      initial[2 * layer].astype(np.float16))
        np.testing.assert_array_equal(snapshots.biases[layer][0],
                                      initial[2 * layer + 1].astype(np.float16))
    final = trained.model.get_weights()
    np.testing.assert_array_equal(snapshots.kernels[1][-1], final[2].astype(np.float16))
    assert snapshots.activations == ("relu", "softmax")
    assert snapshots.kernels[0].dtype == np.float16
    assert snapshots.test_accuracy[-1] == pytest.approx(trained.metrics["test_accuracy"],
                                                        abs=2e-3)
    assert 0.0 < snapshots.test_accuracy[0] < 0.3  # untrained: about chance


def test_gif_has_one_frame_per_snapshot_and_starts_untrained(run, tmp_path):
    folder, _ = run
    snapshots = load_snapshots(folder)
    path = evolve_run(folder, tmp_path / "evolution.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == len(snapshots) == 7
        gif.seek(0)
        first = np.asarray(gif.convert("RGB"))
    expected = np.asarray(output_frame(snapshots, 0, "linear", "gray", 3))
    assert first.shape == expected.shape
    assert np.abs(first.astype(int) - expected).max() <= 8  # GIF palette quantisation only


def test_frames_spread_over_training(run):
    snapshots = load_snapshots(run[0])
    assert spread_frames(snapshots.steps, 3) == [0, 3, 6]
    assert spread_frames(snapshots.steps, 20) == list(range(7))


def test_compare_runs_aligns_by_fraction_of_training(run, tmp_path):
    snapshots = load_snapshots(run[0])
    path = compare_runs([("a", snapshots), ("b", snapshots)], tmp_path / "both.gif", frames=4)
    with Image.open(path) as gif:
        assert gif.n_frames == 4
        assert gif.width > 2 * output_frame(snapshots, 0, "linear", "gray", 3).width


def test_cli_train_with_snapshots_then_evolve(tmp_path):
    out = tmp_path / "run"
    trained = run_cli("train", "--hidden", "16", "--train-samples", "600", "--epochs", "1",
                      "--snapshot-every", "2", "--out", str(out))
    assert trained.returncode == 0, trained.stderr
    assert trained.stdout.splitlines()[-1] == str(out / "snapshots.npz")
    evolved = run_cli("evolve", str(out), "--frames", "3")
    assert evolved.returncode == 0, evolved.stderr
    assert evolved.stdout.splitlines() == [str(out / "evolution.gif")]
    with Image.open(out / "evolution.gif") as gif:
        assert gif.n_frames == 3


def test_evolve_without_snapshots_is_one_clear_line(tmp_path):
    assert_one_error_line(run_cli("evolve", str(tmp_path)), str(tmp_path / "snapshots.npz"),
                          "no training snapshots (train with --snapshot-every N)")
    with pytest.raises(MlplensError, match="not a readable snapshot file"):
        (tmp_path / "snapshots.npz").write_bytes(b"not a zip")
        load_snapshots(tmp_path)
