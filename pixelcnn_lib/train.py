"""Training: presets, the seed's optimiser, atomic checkpoints and resuming.

A run lives in one directory::

    config.json        the TrainConfig, so that evaluate/sample/resume rebuild the same thing
    checkpoint.keras   model + optimiser state (raw weights, Adam moments, EMA averages) after the last epoch
    state.json         how many epochs the checkpoint holds
    model.keras        the final model, with the EMA weights swapped in: what evaluation and sampling use
    metrics.csv        one row per epoch (Keras' CSVLogger)
    metrics.json       final validation and test bits/dim, wall time, hardware, and the command and commit
                       of every segment (first run and each resume)
    loss.png           the curves of metrics.csv
    tb/                TensorBoard logs

Every file is written to a temporary name and renamed into place, so a run killed at any moment leaves
either the previous or the new version, never half a file; rerunning the same command resumes after the
last finished epoch.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from pixelcnn_lib import data as data_lib
from pixelcnn_lib.metrics import LN2, BitsPerDim, bce_from_logits, pixel_accuracy
from pixelcnn_lib.model import PixelCNN, build_model


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run.

    ``learning_rate``, ``beta_1``, ``beta_2``, ``epsilon`` configure Adam; ``ema_momentum`` turns on Keras'
    exponential moving average of the weights (``None``: off). ``steps_per_epoch=None`` means one pass over
    the training images; ``val_steps=None`` the whole validation split. ``data=None`` trains on the embedded
    calligraphy set; otherwise it is a folder of scans, one sub-folder per style.
    """

    size: int = 32
    filters: int = 64
    n_block: int = 3
    n_resnet: int = 2
    dropout: float = 0.0
    batch_size: int = 32
    epochs: int = 10
    steps_per_epoch: int | None = None
    val_steps: int | None = None
    learning_rate: float = 1e-4
    beta_1: float = 0.95
    beta_2: float = 0.9995
    epsilon: float = 1e-6
    ema_momentum: float | None = 0.9995
    seed: int = 0
    data: str | None = None

    def replace(self, **changes) -> "TrainConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {sorted(unknown)}")
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "TrainConfig":
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})


PRESETS: dict[str, TrainConfig] = {
    # The seed blog post's recipe: Adam 1e-4 / 0.95 / 0.9995 / 1e-6, EMA 0.9995, batch 32, 10 epochs.
    "seed": TrainConfig(),
    # The same network, with a recipe that reaches good samples on a 2-core CPU: its 10 epochs took 58 minutes
    # there (pretrained/calligraphy-32/metrics.json); stop earlier with --epochs, continue with a larger one.
    # Keras' EMA starts from the initial weights with no warm-up, so at 0.9995 it trails the raw weights by
    # ~2,000 steps -- most of a CPU run. A 10x larger step size converges in the steps a CPU can afford;
    # a short EMA (0.995, ~200 steps) still smooths the last updates without lagging behind them.
    "small": TrainConfig(epochs=10, learning_rate=1e-3, ema_momentum=0.995),
    # Seconds, for tests and smoke runs: it learns little.
    "tiny": TrainConfig(filters=8, n_block=1, n_resnet=1, batch_size=16, epochs=2, steps_per_epoch=4,
                        val_steps=2, learning_rate=1e-3),
}


def seed_everything(seed: int = 0, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; optionally make TensorFlow's ops deterministic (re-runs match)."""
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def make_optimizer(config: TrainConfig) -> keras.optimizers.Optimizer:
    """Adam with the config's settings and, when ``ema_momentum`` is set, Keras' weight EMA."""
    use_ema = config.ema_momentum is not None
    return keras.optimizers.Adam(
        learning_rate=config.learning_rate,
        beta_1=config.beta_1,
        beta_2=config.beta_2,
        epsilon=config.epsilon,
        use_ema=use_ema,
        ema_momentum=config.ema_momentum if use_ema else 0.99,
    )


def compile_model(model: PixelCNN, config: TrainConfig) -> PixelCNN:
    """BCE on logits (the per-pixel negative log-likelihood in nats), with bits/dim and accuracy metrics."""
    model.compile(
        optimizer=make_optimizer(config),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[BitsPerDim(), pixel_accuracy()],
    )
    return model


def load_images(config: TrainConfig, split: str) -> np.ndarray:
    """The ``split`` images the config trains on: ``(N, size, size)`` uint8 in {0, 1}."""
    if config.data is None:
        return data_lib.load_calligraphy(size=config.size, split=split).images
    scans = data_lib.load_image_folder(config.data, size=config.size)
    return scans.subset(scans.split == split).images


def evaluate_images(model, images, batch_size: int = 64) -> dict:
    """Bits/dim and per-pixel accuracy of ``model`` on ``(N, H, W)`` binary images, in float64 sums.

    Deterministic for a given model and image order, so a recorded figure can be re-printed exactly.
    """
    images = np.asarray(images, dtype=np.float32)
    nats, correct, count = 0.0, 0, 0
    for k in range(0, len(images), batch_size):
        x = images[k : k + batch_size, ..., None]
        logits = keras.ops.convert_to_numpy(model(x, training=False))
        nats += float(np.sum(keras.ops.convert_to_numpy(bce_from_logits(x, logits)), dtype=np.float64))
        correct += int(np.sum((logits > 0) == (x > 0.5)))
        count += x.size
    return {"bits_per_dim": nats / count / LN2, "accuracy": correct / count, "images": len(images)}


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(text)
    os.replace(tmp, path)


def atomic_save_model(model: keras.Model, path: Path) -> None:
    """``model.save`` to a temporary ``.keras`` file beside ``path``, then rename it into place."""
    path = Path(path)
    tmp = path.with_name(f".tmp-{path.name}")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class _EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch: save model + optimiser state atomically, then record the epoch count and the
    training wall time so far (summed over resumed segments, so a killed run's time is not lost)."""

    def __init__(self, run_dir: Path, wall_before: float = 0.0):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.wall_before = wall_before
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        atomic_save_model(self.model, self.run_dir / "checkpoint.keras")
        wall = self.wall_before + time.time() - self.start
        atomic_write_text(self.run_dir / "state.json",
                          json.dumps({"epochs_done": epoch + 1, "wall_time_s": round(wall, 1)}))


def _command_line() -> str:
    """How this process was started, as a user would type it (``python -m pixelcnn_lib train ...``)."""
    argv = list(sys.argv)
    if argv and Path(argv[0]).name == "__main__.py" and Path(argv[0]).parent.name == "pixelcnn_lib":
        argv[0:1] = ["python", "-m", "pixelcnn_lib"]
    else:
        argv[0:0] = ["python"]
    return " ".join(shlex.quote(a) for a in argv)


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("-dirty" if dirty else "")


def _hardware() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"{platform.machine()}, {os.cpu_count()} CPU cores" + (f", {len(gpus)} GPU(s)" if gpus else ", no GPU")


def train(config: TrainConfig, run_dir, verbose: int = 1) -> dict:
    """Train (or resume) the run in ``run_dir`` and return its final metrics.

    Resuming: if ``run_dir`` holds a checkpoint of the same config, training continues after its last
    finished epoch with the optimiser's moments and EMA restored. Raising ``epochs`` continues a finished
    run. Any other difference in the config is an error rather than a silent restart.
    """
    # What produced this segment of the run, read now: the tree may change while a long run trains.
    segment = {"command": _command_line(), "commit": _git_commit()}
    # Data first: a bad --data path fails before anything is written.
    train_images = load_images(config, "train")
    val_images = load_images(config, "val")
    if len(train_images) == 0 or len(val_images) == 0:
        raise ValueError(f"no training or validation images (train={len(train_images)}, val={len(val_images)})")

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = run_dir / "config.json"
    if config_path.exists():
        old = TrainConfig.from_json(json.loads(config_path.read_text()))
        # Only the number of epochs may change: that is how a finished run is trained for longer.
        if old.replace(epochs=config.epochs) != config:
            diff = {k: (v, getattr(config, k)) for k, v in old.to_json().items() if getattr(config, k) != v}
            raise ValueError(f"{run_dir} holds a run with a different config {diff}; choose another --out")
    atomic_write_text(config_path, json.dumps(config.to_json(), indent=2) + "\n")
    # Recorded now, so that a segment that is later killed and resumed still shows in the record.
    record = _load_json(run_dir / "metrics.json")
    record.setdefault("segments", []).append(segment)
    atomic_write_text(run_dir / "metrics.json", json.dumps(record, indent=2) + "\n")

    seed_everything(config.seed, deterministic=False)

    checkpoint = run_dir / "checkpoint.keras"
    state_path = run_dir / "state.json"
    if checkpoint.exists() and state_path.exists():
        model = keras.saving.load_model(checkpoint, compile=True)
        state = json.loads(state_path.read_text())
        done, wall_before = state["epochs_done"], state.get("wall_time_s", 0.0)
        if verbose:
            print(f"resuming {run_dir} after epoch {done}/{config.epochs}")
    else:
        model = build_model(config.filters, config.n_block, config.n_resnet, config.dropout, config.size,
                            seed=config.seed)
        compile_model(model, config)
        done, wall_before = 0, 0.0

    steps = config.steps_per_epoch or max(1, len(train_images) // config.batch_size)
    if done < config.epochs:
        # A different shuffle seed per resumed segment, so a resumed run does not replay the same batches.
        train_ds = data_lib.make_dataset(train_images, config.batch_size, shuffle=True, seed=config.seed + done,
                                         repeat=True)
        val_ds = data_lib.make_dataset(val_images, config.batch_size, shuffle=False)
        _truncate_csv(run_dir / "metrics.csv", done)
        # The checkpoint comes last: once it exists, the epoch's CSV row is already written.
        callbacks = [
            keras.callbacks.CSVLogger(str(run_dir / "metrics.csv"), append=done > 0),
            keras.callbacks.TensorBoard(log_dir=str(run_dir / "tb"), write_graph=False),
            _EpochCheckpoint(run_dir, wall_before),
        ]
        model.fit(train_ds, epochs=config.epochs, initial_epoch=done, steps_per_epoch=steps,
                  validation_data=val_ds, validation_steps=config.val_steps, callbacks=callbacks, verbose=verbose,
                  shuffle=False)  # the pipeline shuffles, with its own seed
        # fit() ends by copying the EMA averages into the model's weights (finalize_variable_values).
    elif config.ema_momentum is not None:
        # Killed after the last checkpoint but before model.keras was written: swap the EMA in by hand.
        model.optimizer.finalize_variable_values(model.trainable_variables)
    if state_path.exists():
        wall_before = json.loads(state_path.read_text()).get("wall_time_s", wall_before)

    atomic_save_model(model, run_dir / "model.keras")
    results = {
        "val": evaluate_images(model, val_images),
        "test": evaluate_images(model, load_images(config, "test")),
        "epochs": config.epochs,
        "steps": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
        "images_seen": int(keras.ops.convert_to_numpy(model.optimizer.iterations)) * config.batch_size,
        "weights": "EMA" if config.ema_momentum is not None else "raw",
    }
    record.update(results)
    record["wall_time_s"] = wall_before  # training only, all segments; evaluation is not counted
    record["hardware"] = _hardware()
    record["tensorflow"] = __import__("tensorflow").__version__
    atomic_write_text(run_dir / "metrics.json", json.dumps(record, indent=2) + "\n")
    if (run_dir / "metrics.csv").exists():
        import matplotlib.pyplot as plt

        from pixelcnn_lib.viz import plot_history

        plt.close(plot_history(run_dir / "metrics.csv", run_dir / "loss.png"))
    return record


def _truncate_csv(path: Path, epochs_done: int) -> None:
    """Keep the header and the rows of the first ``epochs_done`` epochs: a run killed after writing an
    epoch's row but before its checkpoint redoes that epoch, which must not leave two rows for it."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if int(line.split(",", 1)[0]) < epochs_done]
    if kept != lines:
        atomic_write_text(path, "".join(kept))


def _load_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"


def pretrained(name: str = "calligraphy-32") -> Path:
    """The run directory of a model shipped with the library (``model.keras``, ``config.json``,
    ``metrics.json`` with the command, commit and hardware that produced it, ``metrics.csv``, ``loss.png``)."""
    path = PRETRAINED_DIR / name
    if not (path / "model.keras").exists():
        available = sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / "model.keras").exists())
        raise FileNotFoundError(f"no shipped model {name!r} in {PRETRAINED_DIR} (available: {available})")
    return path


def resolve_model_path(path) -> Path:
    """``path`` may be a run directory (its ``model.keras`` is used) or a ``.keras`` file."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.keras"
    if not path.exists():
        raise FileNotFoundError(f"no trained model at {path} (train one with `python -m pixelcnn_lib train`)")
    return path


def load_run(path) -> tuple[PixelCNN, TrainConfig]:
    """Load a trained model and its config from a run directory or a ``.keras`` file inside one."""
    model_path = resolve_model_path(path)
    config_path = model_path.parent / "config.json"
    config = TrainConfig.from_json(json.loads(config_path.read_text())) if config_path.exists() else TrainConfig()
    return keras.saving.load_model(model_path, compile=False), config
