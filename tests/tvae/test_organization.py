"""Class organization of TVAE capsules: shapes, the neighbour statistic, checkpoint round trip."""

import jax
import numpy as np
import pytest

from configs.tvae import mnist
from learned_rules.tvae import model as model_lib
from learned_rules.tvae import organization as org
from learned_rules.tvae import train

TINY = {
  "data.dataset": "synthetic",
  "data.synthetic_size": 8,
  "data.seq_len": 6,
  "model.n_caps": 2,
  "model.cap_dim": 4,
  "model.time_window": 3,
  "batch_size": 2,
  "max_steps": 2,
  "log_every": 1,
  "eval_every_epochs": 0,
  "eval_size": 4,
  "eval_batch_size": 4,
  "is_samples": 2,
  "num_picture_sequences": 2,
}


def tiny_config(**changes):
  config = mnist.get_config()
  for dotted, value in {**TINY, **changes}.items():
    *path, leaf = dotted.split(".")
    target = config
    for part in path:
      target = target[part]
    target[leaf] = value
  return config


def test_class_map_shapes_and_a_preferred_class_per_unit(tmp_path):
  config = tiny_config()
  model = train.make_model(config, org.n_pixels_of(config))
  params = org.untrained_params(config, model)
  rng = np.random.default_rng(0)
  x = rng.uniform(size=(30, config.data.seq_len, model.n_pixels)).astype(np.float32)
  labels = np.arange(30) % 10
  stats = org.class_map(params, model, x, labels, jax.random.PRNGKey(0), batch_size=8)
  units = 2 * 4
  assert stats["class_means"].shape == (10, units)
  assert stats["dprime"].shape == (10, units)
  assert stats["preferred"].shape == stats["selectivity"].shape == (units,)
  assert stats["grid"] == (2, 4)
  assert np.all((stats["preferred"] >= 0) & (stats["preferred"] < 10))
  assert np.all(np.isfinite(stats["selectivity"]))
  np.testing.assert_array_equal(stats["counts"], np.full(10, 3 * config.data.seq_len))
  # The preferred class maximizes the (normalised) class means.
  np.testing.assert_array_equal(stats["preferred"], np.argmax(stats["class_means"], axis=0))
  summary = org.summary(stats)
  assert 0.0 <= summary["smoothness"] <= 1.0
  # Sequences from base images through to_sequences give the same kind of map.
  make = lambda key, images: np.asarray(images).reshape(len(images), 1, -1).repeat(6, 1)
  again = org.class_map(params, model, x[:, 0], labels, jax.random.PRNGKey(0), make, 8)
  assert again["class_means"].shape == (10, units)
  out = org.plot_panels([("a", stats), ("b", again)], str(tmp_path / "map.png"))
  assert (tmp_path / "map.png").stat().st_size > 0 and out.endswith("map.png")


def test_smoothness_is_one_on_a_banded_map_and_near_chance_shuffled():
  grid = (20, 30)  # each capsule: five runs of six units of one class
  preferred = np.stack([np.repeat((np.arange(5) + r) % 10, 6) for r in range(20)])
  # 5 class boundaries in each capsule's 30 circular neighbour pairs, wherever the runs start
  assert org.smoothness(preferred, grid) == pytest.approx(25 / 30)
  assert org.smoothness(np.roll(preferred, 3, axis=1), grid) == pytest.approx(25 / 30)
  assert org.smoothness(np.repeat(np.arange(20) % 10, 30), grid) == 1.0  # a digit per capsule
  preferred = np.tile(np.repeat(np.arange(10), 3), 20)  # uniform classes, runs of 3
  assert org.smoothness(preferred, grid) == 20 / 30
  shuffled = org.shuffled_smoothness(preferred, grid, n_shuffles=50)
  assert abs(shuffled - 0.1) < 0.02
  permuted = np.random.default_rng(1).permutation(preferred)
  assert abs(org.smoothness(permuted, grid) - 0.1) < 0.05


def test_restore_params_round_trip(tmp_path, monkeypatch):
  config = tiny_config()
  workdir = str(tmp_path / "run")
  import os

  os.makedirs(workdir)
  with open(os.path.join(workdir, "config.json"), "w") as f:
    f.write(config.to_json())
  captured = []
  draw = train.figures.write_pictures

  def capture(writer, step, params, model, x, frame_shape, key, workdir):
    captured.append(jax.device_get(params))
    return draw(writer, step, params, model, x, frame_shape, key, workdir)

  monkeypatch.setattr(train.figures, "write_pictures", capture)
  train.train_and_evaluate(config, workdir)
  restored_config, model, params = org.restore_params(workdir)
  assert restored_config.model.n_caps == 2 and model.topography.latent_dim == 8
  for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(captured[0]), strict=True):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  initial = org.untrained_params(restored_config, model)
  _, init_key = jax.random.split(jax.random.PRNGKey(config.seed))
  expected = model_lib.init_params(init_key, model, config.data.seq_len)
  for a, b in zip(jax.tree.leaves(initial), jax.tree.leaves(expected), strict=True):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert float(initial["params"]["mu"]) == 30.0 != float(params["params"]["mu"])


def test_a_torus_counts_neighbours_along_both_axes_and_is_drawn_square(tmp_path):
  grid = (1, 6, 6)
  rows = np.repeat(np.arange(6) % 2, 6).reshape(6, 6)  # stripes: rows alternate 0, 1
  # along the columns every neighbour agrees, along the rows none: half on average
  assert org.smoothness(rows.ravel(), grid) == 0.5
  assert org.smoothness(np.zeros(36, int), grid) == 1.0
  assert org.image_grid(rows.ravel(), grid).shape == (6, 6)
  assert org.image_grid(np.arange(24), (2, 3, 4)).shape == (6, 4)
  stats = {
    "preferred": rows.ravel(),
    "selectivity": np.ones(36),
    "reference_class": rows.ravel(),
    "grid": grid,
  }
  org.plot_panels([("torus", stats)], str(tmp_path / "torus.png"), columns=1)
  assert (tmp_path / "torus.png").stat().st_size > 0
