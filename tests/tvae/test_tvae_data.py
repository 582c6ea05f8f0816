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


def test_combined_rotation_and_hue_both_sweep_at_scale_one():
  """The reference's AddDualTransformationDims (tvae/data/transforms.py): angle and colour sweep
  from independent random starts, `scale = 1.0` (not one of the 18 sweep values)."""
  starts = set()
  for seed in range(6):
    factors = data_lib.digit_sequence_factors(jax.random.PRNGKey(seed), 18, ("rotation+hue",))
    assert np.all(np.mod(np.diff(np.asarray(factors["angle"])), 360) == 20)
    assert np.all(np.mod(np.diff(np.asarray(factors["hue"])), 360) == 20)
    np.testing.assert_array_equal(factors["scale"], 1.0)
    starts.add((float(factors["angle"][0]), float(factors["hue"][0])))
  assert len(starts) > 1
  assert not np.any(np.isclose(data_lib.SCALES, 1.0))


def test_single_transforms_keep_a_random_sweep_value_for_the_other_factors():
  scales = set()
  for seed in range(12):
    factors = data_lib.digit_sequence_factors(jax.random.PRNGKey(seed), 18, ("rotation", "hue"))
    scales.add(float(factors["scale"][0]))
  assert len(scales) > 1 and all(np.isclose(data_lib.SCALES, s).any() for s in scales)


def test_grey_frames_have_one_channel_and_are_the_warped_digit():
  """The 2-D model's data: grey MNIST, one channel (the reference colours only when its colour
  set has several values, tvae/data/mnist.py `load_transform_params`)."""
  images = jnp.asarray(data_lib.synthetic_digits(2, seed=0))
  frames, _ = data_lib.digit_sequences(jax.random.PRNGKey(0), images, 1, ("none",), channels=1)
  assert frames.shape == (2, 1, 28, 28, 1)
  np.testing.assert_allclose(frames[:, 0, ..., 0], images, atol=1e-5)
  colour, _ = data_lib.digit_sequences(jax.random.PRNGKey(0), images, 1, ("none",))
  assert colour.shape == (2, 1, 28, 28, 3)
  np.testing.assert_allclose(colour[..., 0], frames[..., 0], atol=1e-5)  # the red channel
  rotated = data_lib.digit_frame(images[0], 90.0, 0.0, 1.0, channels=1)
  np.testing.assert_allclose(rotated, data_lib.affine_warp(images[0][..., None], 90.0, 1.0))


def test_grey_frames_refuse_a_hue_sweep():
  assert data_lib.check_transforms("none,rotation", channels=1) == ("none", "rotation")
  with pytest.raises(ConfigError, match="data.transforms: 'hue' sweeps hue"):
    data_lib.check_transforms("rotation,hue", channels=1)
  with pytest.raises(ConfigError, match="data.channels=2"):
    data_lib.check_transforms("rotation", channels=2)


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


def reference_dsprites_subset(data_by_factor):
  """The reference's DSpritesDataset subset (tvae/data/dsprites.py), every factor available:
  `np.s_[start_idx[i]:max_transform_len:speeds[i]]` per factor, speeds [1, 1, 2, 2, 2],
  start_idx [0, 1, 0, 0, 0], max_transform_len = 30 (tvae/experiments/*_dsprites.py)."""
  speeds, start_idx, max_transform_len = [1, 1, 2, 2, 2], [0, 1, 0, 0, 0], 30
  indexer = tuple(np.s_[start_idx[i] : max_transform_len : speeds[i]] for i in range(5))
  return data_by_factor[indexer]


def test_dsprites_grid_takes_the_references_npz_indices():
  # A stand-in npz (3, 6, 40, 32, 32) whose "image" is its own flat latent index.
  data_by_factor = np.arange(3 * 6 * 40 * 32 * 32).reshape(3, 6, 40, 32, 32)
  ours = data_lib.take_dsprites_grid(data_by_factor)
  reference = reference_dsprites_subset(data_by_factor)
  assert ours.shape == (3, 5, 15, 15, 15) == tuple(data_lib.DSPRITES_SIZES.values())
  np.testing.assert_array_equal(ours, reference)
  assert ours.size == data_lib.dsprite_base_items().shape[0] == 50_625


def moments(image):
  """Centroid (x, y) in pixel-centre coordinates and the principal axis angle mod 180°."""
  yy, xx = np.mgrid[0 : image.shape[0], 0 : image.shape[1]] + 0.5
  mass = image.sum()
  cx, cy = (xx * image).sum() / mass, (yy * image).sum() / mass
  mu20 = ((xx - cx) ** 2 * image).sum()
  mu02 = ((yy - cy) ** 2 * image).sum()
  mu11 = ((xx - cx) * (yy - cy) * image).sum()
  return cx, cy, np.degrees(0.5 * np.arctan2(2 * mu11, mu20 - mu02)) % 180


@pytest.mark.parametrize("k", [0, 5, 14])
def test_procedural_dsprites_sit_on_the_npz_grid(k):
  """Position 2k of 32 values in [0, 1] (pixels 12 + 40 · 2k/31) and orientation 2k of 40 values
  in [0, 2π]: grid index 14 is 258°, not a full turn."""
  image = np.asarray(data_lib.render_dsprite(1, 4, k, k, 7))  # an ellipse, the largest scale
  cx, cy, angle = moments(image)
  assert cx == pytest.approx(12 + 40 * 2 * k / 31, abs=0.3)
  assert cy == pytest.approx(12 + 40 * 14 / 31, abs=0.3)
  want = np.degrees(2 * k * 2 * np.pi / 39) % 180
  assert min(abs(angle - want), 180 - abs(angle - want)) < 3


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


def test_time_shuffle_permutes_each_training_sequence_and_leaves_evaluation_alone():
  from configs.tvae import mnist
  from learned_rules.tvae import train

  config = mnist.get_config()
  config.data.dataset = "synthetic"
  config.data.synthetic_size = 8
  config.data.seq_len = 6
  ordered = train.SequenceSource(config)
  config.data.time_shuffle = True
  shuffled = train.SequenceSource(config)
  items, key = jnp.asarray(ordered.train_items[:8]), jax.random.PRNGKey(5)
  x, factors = ordered.sequences(key, items, None)
  y, factors_y = shuffled.sequences(key, items, None)
  np.testing.assert_array_equal(factors["angle"], factors_y["angle"])  # same sequences drawn
  x, y = np.asarray(x), np.asarray(y)
  moved = 0
  for b in range(8):  # every frame of y is a frame of x at some time, each used once
    order = [int(np.argmin(np.abs(x[b] - frame).sum(axis=1))) for frame in y[b]]
    assert sorted(order) == list(range(6))
    np.testing.assert_array_equal(y[b], x[b][order])
    moved += order != list(range(6))
  assert moved >= 6  # (a random order is the identity for 1 in 720 sequences)
  np.testing.assert_array_equal(  # test sequences stay in time order
    ordered.sequences(key, items, None, evaluation=True)[0],
    shuffled.sequences(key, items, None, evaluation=True)[0],
  )
