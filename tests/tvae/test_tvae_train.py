"""End-to-end TVAE runs on tiny configs with synthetic or procedural data."""

import importlib
import json
import os
import subprocess
import sys

import pytest

from learned_rules.common.errors import ConfigError
from learned_rules.tvae import train

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = [
  "--config.data.dataset=synthetic",
  "--config.data.synthetic_size=32",
  "--config.data.seq_len=6",
  "--config.model.n_caps=3",
  "--config.model.cap_dim=4",
  "--config.model.time_window=3",
  "--config.batch_size=4",
  "--config.max_steps=4",
  "--config.log_every=2",
  "--config.eval_size=8",
  "--config.eval_batch_size=8",
  "--config.is_samples=2",
  "--config.num_picture_sequences=2",
]


def load_config(name):
  return importlib.import_module(f"configs.tvae.{name}").get_config()


def test_experiments_main_runs_tvae_and_writes_metrics_and_pictures(tmp_path):
  workdir = tmp_path / "run"
  command = [sys.executable, "-m", "experiments.main", "--config=configs/tvae/mnist.py"]
  command += [f"--workdir={workdir}", *TINY]
  result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "step 2/4" in result.stderr  # one progress line per log interval
  for name in ("config.json", "metrics.jsonl", "eval.json", "traversals.png", "samples.png"):
    assert (workdir / name).exists(), name
  assert (workdir / "reconstructions.png").exists()
  assert os.listdir(workdir / "tensorboard")
  records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  assert any("train/loss" in r for r in records) and any(
    "test/log_likelihood" in r for r in records
  )
  evaluation = json.loads((workdir / "eval.json").read_text())
  assert evaluation["steps"] == 4
  assert evaluation["log_likelihood"] < 0
  assert 0 <= evaluation["equivariance_error"] < evaluation["equivariance_error_chance"] * 2


def tiny(config, **changes):
  for override in TINY:
    key, value = override[len("--config.") :].split("=")
    target = config
    *path, leaf = key.split(".")
    for part in path:
      target = target[part]
    target[leaf] = type(target[leaf])(value)
  for key, value in changes.items():
    target = config
    *path, leaf = key.split(".")
    for part in path:
      target = target[part]
    target[leaf] = value
  return config


def test_dsprites_run_reports_capcorr(tmp_path):
  config = tiny(
    load_config("dsprites"),
    **{
      "data.dataset": "dsprites_procedural",
      "data.seq_len": 15,
      "model.n_caps": 2,
      "model.cap_dim": 15,
      "model.cap_window": 1,
      "max_steps": 2,
      "batch_size": 2,
      "eval_size": 16,
      "eval_batch_size": 16,
    },
  )
  result = train.train_and_evaluate(config, str(tmp_path))
  for name in ("x", "y", "orientation", "scale"):
    assert f"capcorr_{name}" in result
  assert (tmp_path / "traversals.png").exists()


def test_2d_torus_run_writes_samples(tmp_path):
  config = tiny(
    load_config("mnist_2d"),
    **{"data.seq_len": 1, "model.n_caps": 1, "model.cap_dim": 16, "model.time_window": 1},
  )
  result = train.train_and_evaluate(config, str(tmp_path))
  assert "equivariance_error" not in result and result["log_likelihood"] < 0
  assert (tmp_path / "samples.png").exists()


@pytest.mark.parametrize(
  "key,value,match",
  [
    ("model.variant", "tvea", "model.variant='tvea'"),
    ("data.dataset", "cifar", "data.dataset='cifar'"),
    ("optimizer", "lion", "optimizer='lion'"),
    ("data.transforms", "rotation,shear", "data.transforms"),
    ("data.eval_transforms", "shear", "data.eval_transforms"),
    ("model.time_window", 40, "model.time_window=40"),
    ("model.cap_window", 2, "model.cap_window=2"),
    ("checkpoint_every", 0, "checkpoint_every=0"),
  ],
)
def test_bad_config_values_name_the_key(key, value, match):
  config = tiny(load_config("mnist"))
  config = tiny(config, **{key: value})
  with pytest.raises(ConfigError, match=match):
    train.validate(config)


def test_every_tvae_config_is_valid():
  directory = os.path.join(REPO, "configs", "tvae")
  names = [f[:-3] for f in os.listdir(directory) if f.endswith(".py") and f != "__init__.py"]
  assert len(names) >= 9
  for name in names:
    config = load_config(name)
    assert config.system == "tvae"
    train.validate(config)


@pytest.mark.parametrize(
  "flag,expected",
  [
    ("--config.data.data_dir=/nonexistent_mnist_dir", "python -m experiments.make_mnist"),
    ("--config.model.variant=nope", "model.variant='nope'"),
  ],
)
def test_missing_data_and_bad_values_are_one_clear_line_through_main(tmp_path, flag, expected):
  command = [sys.executable, "-m", "experiments.main", "--config=configs/tvae/mnist.py"]
  command += [f"--workdir={tmp_path}", flag]
  result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode != 0
  assert expected in result.stderr
  assert "Traceback" not in result.stderr


def test_configs_follow_the_reference_experiments():
  """ε, channels and test transforms of tvae/experiments/*.py in the authors' code."""
  for name in ("mnist", "mnist_l0", "mnist_bubble", "mnist_2d", "dsprites"):
    assert load_config(name).model.epsilon == 1e-6
  dsprites_l0 = load_config("dsprites_l0")  # tvae_L0_dsprites.py: Stationary (1, 3, 1), eps=1e-3
  assert dsprites_l0.model.epsilon == 1e-3
  model = train.make_model(dsprites_l0, 64 * 64)
  assert model.epsilon == 1e-3 and set(model.topography.offsets) == {(0, -1), (0, 0), (0, 1)}
  assert load_config("mnist").data.channels == 3
  two_d = load_config("mnist_2d")  # tvae_2d_mnist.py: colour set "0", so no To_Color
  assert two_d.data.channels == 1
  source = train.SequenceSource(tiny(two_d, **{"data.seq_len": 1}))
  assert source.frame_shape == (28, 28, 1) and source.n_pixels == 784
  assert load_config("mnist_generalization").data.eval_transforms == "rotation+hue"
