"""Training: the seed's optimiser, EMA weights used for evaluation, atomic checkpoints, resuming."""

import json

import keras
import numpy as np
import pytest

from pixelcnn_lib import train as train_lib
from pixelcnn_lib.model import build_model
from pixelcnn_lib.train import PRESETS, TrainConfig, compile_model, evaluate_images, load_run, make_optimizer


def test_seed_preset_is_the_blog_posts_recipe():
    c = PRESETS["seed"]
    assert (c.learning_rate, c.beta_1, c.beta_2, c.epsilon, c.ema_momentum) == (1e-4, 0.95, 0.9995, 1e-6, 0.9995)
    assert (c.batch_size, c.epochs) == (32, 10)
    opt = make_optimizer(c)
    assert opt.use_ema and opt.ema_momentum == 0.9995 and float(opt.beta_1) == 0.95


def test_after_fit_the_model_holds_the_ema_weights_not_the_raw_ones():
    config = TrainConfig(filters=4, n_block=1, n_resnet=1, learning_rate=1e-2, ema_momentum=0.9)
    model = compile_model(build_model(4, 1, 1, size=8, seed=0), config)
    x = (np.random.default_rng(0).random((32, 8, 8, 1)) > 0.5).astype("float32")
    raw = {}

    class Grab(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # runs before fit() swaps the average in
            raw["weights"] = [v.numpy().copy() for v in self.model.trainable_variables]

    model.fit(x, x, batch_size=8, epochs=2, verbose=0, callbacks=[Grab()])
    averages = [v.numpy() for v in model.optimizer._model_variables_moving_average]
    final = [v.numpy() for v in model.trainable_variables]
    assert all(np.array_equal(f, a) for f, a in zip(final, averages))
    assert not all(np.allclose(f, r) for f, r in zip(final, raw["weights"]))


def test_evaluate_images_is_bits_per_dim():
    model = lambda x, training=False: np.zeros_like(x)  # noqa: E731  p = 1/2 everywhere
    r = evaluate_images(model, np.ones((5, 4, 4)), batch_size=2)
    assert r["bits_per_dim"] == pytest.approx(1.0) and r["images"] == 5


def test_config_replace_rejects_unknown_fields():
    with pytest.raises(ValueError, match="unknown"):
        PRESETS["tiny"].replace(colour=3)


def test_tiny_run_writes_everything_and_resumes_after_a_kill(tmp_path, monkeypatch):
    config = PRESETS["tiny"]
    run = tmp_path / "run"
    original = train_lib._EpochCheckpoint.on_epoch_end

    def killed_after_first_checkpoint(self, epoch, logs=None):
        original(self, epoch, logs)
        raise KeyboardInterrupt("simulated kill")

    monkeypatch.setattr(train_lib._EpochCheckpoint, "on_epoch_end", killed_after_first_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        train_lib.train(config, run, verbose=0)
    state = json.loads((run / "state.json").read_text())
    assert state["epochs_done"] == 1 and state["wall_time_s"] > 0
    assert not (run / "model.keras").exists() and not list(run.glob(".tmp-*"))
    steps_after_kill = int(keras.saving.load_model(run / "checkpoint.keras").optimizer.iterations.numpy())
    assert steps_after_kill == config.steps_per_epoch

    monkeypatch.setattr(train_lib._EpochCheckpoint, "on_epoch_end", original)
    record = train_lib.train(config, run, verbose=0)
    assert record["steps"] == config.epochs * config.steps_per_epoch  # continued, did not restart
    assert record["wall_time_s"] > state["wall_time_s"]  # the killed segment's time is kept
    assert len(record["segments"]) == 2  # the killed segment is in the record too
    for name in ("config.json", "checkpoint.keras", "model.keras", "metrics.csv", "metrics.json", "loss.png"):
        assert (run / name).exists(), name
    assert len((run / "metrics.csv").read_text().strip().splitlines()) == 1 + config.epochs
    assert 0.0 < record["test"]["bits_per_dim"] < 2.0

    longer = train_lib.train(config.replace(epochs=config.epochs + 1), run, verbose=0)
    assert longer["steps"] == (config.epochs + 1) * config.steps_per_epoch  # a finished run trained further

    model, loaded_config = load_run(run)
    assert loaded_config == config.replace(epochs=config.epochs + 1)
    record = longer
    again = evaluate_images(model, train_lib.load_images(config, "test"))
    assert again["bits_per_dim"] == pytest.approx(record["test"]["bits_per_dim"], abs=1e-6)


def test_a_different_config_in_the_same_run_dir_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(PRESETS["tiny"].replace(filters=16, epochs=5).to_json()))
    with pytest.raises(ValueError, match="different config.*filters"):
        train_lib.train(PRESETS["tiny"], run, verbose=0)
    assert not (run / "checkpoint.keras").exists()
