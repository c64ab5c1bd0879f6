"""The command line, end to end, as a user runs it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pixelcnn_lib", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_tiny_preset_trains_evaluates_and_samples(tmp_path):
    r = run("train", "--preset", "tiny", "--out", "runs/t", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "bits/dim" in r.stdout
    r = run("evaluate", "runs/t", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("test: ") and "bits/dim" in r.stdout
    r = run("sample", "runs/t", "--n", "4", "--out", "s.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    from PIL import Image

    with Image.open(tmp_path / "s.png") as im:
        assert im.size == (4 * (2 * 33 + 1), 4 * (2 * 33 + 1))


@pytest.mark.parametrize("args,needle", [
    (("train", "--preset", "tiny", "--data", "no/such/dir"), "no/such/dir"),
    (("evaluate", "no/such/run"), "no/such/run"),
    (("sample", "missing-run"), "missing-run"),
])
def test_bad_paths_fail_with_one_clear_line(tmp_path, args, needle):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], r.stderr
    assert not (tmp_path / "runs").exists()


def test_dataset_info_prints_counts_per_style_and_split(tmp_path):
    r = run("dataset", "info", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for word in ("regular", "running", "cursive", "train", "val", "test"):
        assert word in r.stdout


def test_bench_sampling_prints_times_and_ratio(tmp_path):
    r = run("bench", "sampling", "--sizes", "8", "--n", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    header, row = r.stdout.strip().splitlines()[-2:]
    assert "speed-up" in header and row.split()[0] == "8^2"
    assert row.split()[3].endswith("x") and "naive measured on all pixels" in row
