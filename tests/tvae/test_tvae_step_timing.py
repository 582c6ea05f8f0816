"""step_timing.measure on tiny synthetic configs: the rows' keys and positive times."""

import ml_collections
import pytest

from learned_rules.common.errors import ConfigError
from learned_rules.tvae import step_timing, train


def tiny_config(variant: str, time_window: int) -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data = ml_collections.ConfigDict(
    dict(
      dataset="synthetic",
      data_dir="",
      seq_len=4,
      transforms="rotation",
      eval_transforms="rotation",
      channels=1,
      train_size=0,
      synthetic_size=8,
      time_shuffle=False,
    )
  )
  config.model = ml_collections.ConfigDict(
    dict(
      variant=variant,
      n_caps=2,
      cap_dim=4,
      time_window=time_window,
      cap_window=3,
      mu_init=30.0,
      epsilon=1e-6,
    )
  )
  config.optimizer, config.learning_rate, config.momentum = "sgd", 1e-4, 0.9
  config.batch_size, config.num_epochs, config.max_steps = 2, 1, 0
  config.checkpoint_every, config.log_every, config.eval_every_epochs = 10, 10, 0
  config.eval_size, config.eval_batch_size, config.is_samples = 4, 4, 2
  config.num_picture_sequences = 1
  return config


def test_measure_gives_every_row_a_positive_time_and_a_ratio_to_the_vae():
  configs = {"VAE": tiny_config("vae", 1), "TVAE L=3": tiny_config("tvae", 3)}
  rows = step_timing.measure(configs, batch_size=2, repeats=2)
  assert [r["name"] for r in rows] == ["VAE", "TVAE L=3"]
  for row in rows:
    assert {"name", "variant", "batch_size", "step_seconds", "all_seconds", "ratio_to_vae"} <= set(
      row
    )
    assert row["step_seconds"] > 0 and len(row["all_seconds"]) == 2 and row["batch_size"] == 2
    assert row["ratio_to_vae"] > 0
  assert rows[0]["ratio_to_vae"] == 1.0
  assert configs["VAE"].batch_size == 2  # the caller's config is left as it was


def test_w_method_reaches_the_model_and_a_bad_one_is_named():
  config = tiny_config("tvae", 3)
  assert train.make_model(config, 16).w_method == "auto"  # configs without the key: 'auto'
  config.model.w_method = "shifts"
  train.validate(config)
  assert train.make_model(config, 16).w_method == "shifts"
  config.model.w_method = "fft"
  with pytest.raises(ConfigError, match="model.w_method='fft'"):
    train.validate(config)
