"""The model the course ships: its record is complete and re-evaluating it gives the recorded figure."""

import json

import pytest

from pixelcnn_lib.metrics import bernoulli_baseline_bits_per_dim
from pixelcnn_lib.train import PRETRAINED_DIR, evaluate_images, load_images, load_run, pretrained


@pytest.fixture(scope="module")
def run():
    return pretrained("calligraphy-32")


def test_shipped_files_and_size(run):
    for name in ("model.keras", "config.json", "metrics.json", "metrics.csv", "loss.png"):
        assert (run / name).is_file(), name
    total = sum(p.stat().st_size for p in PRETRAINED_DIR.rglob("*") if p.is_file())
    assert total <= 20 * 2**20, f"shipped models take {total / 2**20:.1f} MiB, more than 20 MiB"


def test_record_names_command_commit_hardware_and_metrics(run):
    record = json.loads((run / "metrics.json").read_text())
    assert record["segments"] and all(s["command"].startswith("python -m pixelcnn_lib train") for s in record["segments"])
    assert all(s["commit"] for s in record["segments"])
    assert record["hardware"] and record["wall_time_s"] > 0
    assert {"val", "test"} <= set(record) and record["weights"] in ("EMA", "raw")


def test_evaluating_the_shipped_model_gives_the_recorded_test_figure(run):
    model, config = load_run(run)
    record = json.loads((run / "metrics.json").read_text())
    test_images = load_images(config, "test")
    result = evaluate_images(model, test_images)
    assert result["bits_per_dim"] == pytest.approx(record["test"]["bits_per_dim"], abs=1e-4)
    # The quality floor: clearly better than independent per-pixel Bernoulli probabilities.
    baseline = bernoulli_baseline_bits_per_dim(load_images(config, "train"), test_images)
    assert result["bits_per_dim"] < 0.75 * baseline


def test_unknown_shipped_model_names_what_exists():
    with pytest.raises(FileNotFoundError, match="calligraphy-32"):
        pretrained("no-such-model")
