"""Sequence transforms, dSprites factors, IDX files and missing-data messages."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from learned_rules.common.errors import ConfigError, UserError
from learned_rules.tvae import data as data_lib


def frame():
  return jnp.asarray(data_lib.synthetic_digits(1, seed=3)[0])


def test_rotating_by_360_degrees_returns_the_frame():
  image = frame()[..., None]
  np.testing.assert_allclose(data_lib.affine_warp(image, 360.0, 1.0), image, atol=1e-4)
  quarter = data_lib.affine_warp(image, 90.0, 1.0)
  np.testing.assert_allclose(data_lib.affine_warp(quarter, 270.0, 1.0), image, atol=1e-4)


def test_hue_shifts_cycle():
  red = data_lib.digit_frame(frame(), 0.0, 0.0, 1.0)
  np.testing.assert_allclose(red[..., 1:], 0.0)
  shifted = red
  for _ in range(18):  # eighteen 20° steps = one full turn
    shifted = data_lib.hue_shift(shifted, 20.0)
  np.testing.assert_allclose(shifted, red, atol=1e-5)
  green = data_lib.hue_shift(red, 120.0)
  np.testing.assert_allclose(green[..., 1], red[..., 0], atol=1e-5)
  np.testing.assert_allclose(green[..., 0], 0.0, atol=1e-5)


@pytest.mark.parametrize(
  "name,sweeping", [("rotation", "angle"), ("hue", "hue"), ("scale", "scale")]
)
def test_single_transform_sweeps_cyclically_from_a_random_start(name, sweeping):
  values = {"angle": data_lib.ROTATIONS_DEG, "hue": data_lib.HUES_DEG, "scale": data_lib.SCALES}
  for seed in range(5):
    factors = data_lib.digit_sequence_factors(jax.random.PRNGKey(seed), 18, (name,))
    sweep = np.asarray(factors[sweeping])
    start = int(np.argmin(np.abs(values[sweeping] - sweep[0])))
    np.testing.assert_allclose(sweep, values[sweeping][(start + np.arange(18)) % 18], rtol=1e-6)
    for other in set(values) - {sweeping}:
      assert np.all(np.asarray(factors[other]) == np.asarray(factors[other])[0])


def test_scale_sweep_order():
  assert data_lib.SCALES[0] == pytest.approx(0.60) and data_lib.SCALES[-1] == pytest.approx(1.26)
  assert np.all(np.diff(data_lib.SCALES) > 0)
  digit = frame()
  small = data_lib.digit_frame(digit, 0.0, 0.0, float(data_lib.SCALES[0]))
  large = data_lib.digit_frame(digit, 0.0, 0.0, float(data_lib.SCALES[-1]))
  assert float(jnp.sum(small)) < float(jnp.sum(digit)) < float(jnp.sum(large))


def test_combined_rotation_and_hue_both_sweep():
  factors = data_lib.digit_sequence_factors(jax.random.PRNGKey(0), 18, ("rotation+hue",))
  assert np.all(np.mod(np.diff(np.asarray(factors["angle"])), 360) == 20)
  assert np.all(np.mod(np.diff(np.asarray(factors["hue"])), 360) == 20)
  assert len(set(np.asarray(factors["scale"]).tolist())) == 1


def test_digit_sequences_shape():
  images = jnp.asarray(data_lib.synthetic_digits(3, seed=0))
  frames, factors = data_lib.digit_sequences(jax.random.PRNGKey(0), images, 5, ("rotation", "hue"))
  assert frames.shape == (3, 5, 28, 28, 3)
  assert float(frames.min()) >= 0.0 and float(frames.max()) <= 1.0
  assert factors["angle"].shape == (3, 5)


def test_unknown_transform_names_the_key():
  with pytest.raises(ConfigError, match="data.transforms: unknown 'shear'"):
    data_lib.check_transforms("rotation,shear")
  with pytest.raises(ConfigError, match="data.eval_transforms"):
    data_lib.check_transforms("shear", "data.eval_transforms")


def test_dsprite_sequences_step_one_factor_cyclically():
  bases = jnp.asarray(data_lib.dsprite_base_items()[::9973][:6])
  frames, factors = data_lib.dsprite_sequences(jax.random.PRNGKey(0), bases, 15)
  assert frames.shape == (6, 15, 64, 64, 1)
  assert np.all(np.asarray(frames).reshape(6, 15, -1).sum(-1) > 10)  # a shape in every frame
  sizes = {f: data_lib.DSPRITES_SIZES[f] for f in data_lib.DSPRITES_FACTORS}
  grid = np.asarray(factors["grid"])
  for b in range(6):
    name = data_lib.DSPRITES_MOVING[int(factors["moving"][b])]
    column = data_lib.DSPRITES_FACTORS.index(name)
    np.testing.assert_array_equal(np.diff(grid[b, :, column]) % sizes[name], 1)
    still = [c for c in range(5) if c != column]
    assert np.all(grid[b, :, still] == grid[b, :1, still])
  assert data_lib.dsprite_base_items().shape == (50_625, 5)


def test_idx_round_trip(tmp_path):
  array = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
  path = str(tmp_path / "train-images-idx3-ubyte.gz")
  data_lib.write_idx(path, array)
  np.testing.assert_array_equal(data_lib.read_idx(path), array)
  loaded = data_lib.load_idx_images(str(tmp_path), "train", "")
  np.testing.assert_allclose(loaded, array / 255.0, rtol=1e-6)


def test_missing_files_say_how_to_get_them(tmp_path):
  assert issubclass(data_lib.MissingDataError, UserError)  # one line through experiments.main
  with pytest.raises(data_lib.MissingDataError, match="experiments.make_mnist"):
    data_lib.load_digits("mnist", str(tmp_path), "train")
  with pytest.raises(data_lib.MissingDataError, match="dataset-fashion-mnist"):
    data_lib.load_digits("fashion_mnist", str(tmp_path), "train")
  with pytest.raises(data_lib.MissingDataError, match="dsprites_procedural"):
    data_lib.load_dsprites_table(str(tmp_path))
