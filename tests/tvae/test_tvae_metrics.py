"""E_eq, CapCorr, importance-sampled log-likelihood and the analytic KLs."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from learned_rules.tvae import data as data_lib
from learned_rules.tvae import metrics as metrics_lib
from learned_rules.tvae import model as model_lib
from learned_rules.tvae import topography as topo_lib


def rolling_capsules(n_seq, seq_len, n_caps, cap_dim, shifts, seed=0):
  """Capsules (n_seq, S, n_caps, cap_dim) that are a base pattern rolled by shifts[b, s]."""
  base = np.random.default_rng(seed).normal(size=(n_seq, n_caps, cap_dim))
  return np.stack(
    [
      np.stack([np.roll(base[b], shifts[b, s], axis=-1) for s in range(seq_len)])
      for b in range(n_seq)
    ]
  )


def test_equivariance_error_zero_for_capsules_rolling_with_time():
  shifts = np.tile(np.arange(18), (3, 1))
  capsules = rolling_capsules(3, 18, 18, 18, shifts)
  np.testing.assert_allclose(metrics_lib.equivariance_error(jnp.asarray(capsules)), 0.0, atol=1e-3)


def test_equivariance_error_of_random_capsules_is_the_chance_level():
  chance = metrics_lib.chance_equivariance_error(18, 18, 18)
  assert 13_100 < chance < 13_300  # the spec's ~13.2k
  capsules = jax.random.normal(jax.random.PRNGKey(0), (64, 18, 18, 18))
  measured = float(jnp.mean(metrics_lib.equivariance_error(capsules)))
  assert abs(measured - chance) / chance < 0.01


def test_capcorr_is_one_for_capsules_rolled_by_the_factor_value():
  rng = np.random.default_rng(1)
  n_seq, seq_len = 40, 15
  moving = rng.integers(0, 4, n_seq)
  sizes = np.array([data_lib.DSPRITES_SIZES[f] for f in data_lib.DSPRITES_MOVING])
  starts = rng.integers(0, 15, n_seq)
  values = (starts[:, None] + np.arange(seq_len)) % sizes[moving][:, None]
  capsules = rolling_capsules(n_seq, seq_len, 15, 15, values)
  capcorr = metrics_lib.capsule_correlation(capsules, moving, values, data_lib.DSPRITES_MOVING)
  for name in data_lib.DSPRITES_MOVING:
    assert capcorr[name] == pytest.approx(1.0)


# ------------------------------------------------------------- CapCorr as the reference has it


def reference_capcorr(capsules, labels):
  """CapCorr per factor column, transcribed from the reference's `get_cap_offsets` and
  `periodic_corr` (tvae/utils/losses.py) and the np.corrcoef of `train_epoch_dsprites`
  (tvae/utils/train_loops.py). labels: (B, S, 5) factor indices, as DSpritesDataset returns them.

  Returns ({column: [(estimate, truth), ...]}, {column: Pearson r}).
  """
  transform_idxs = np.argmax(np.abs(labels[:, 0] - labels[:, 1]), axis=1)
  points = {}
  for b in range(capsules.shape[0]):
    column = int(transform_idxs[b])
    t0 = np.where(labels[b, :, column] == 0)[0]
    cos, tos, diffs = [], [], []
    for i in t0:
      pcc = np.fft.ifft(np.fft.fft(capsules[b, 0]) * np.fft.fft(capsules[b, i]).conj()).real
      max_pcc_locs = np.argmax(pcc, axis=1)
      cos.append(int(stats.mode(max_pcc_locs, keepdims=False).mode))
      tos.append(int(labels[b, 0, column]))
      diffs.append(abs(tos[-1] - cos[-1]))
    offset_idx = int(np.argmin(diffs))
    points.setdefault(column, []).append((cos[offset_idx], tos[offset_idx]))
  corr = {c: float(np.corrcoef(np.asarray(p, float).T)[0, 1]) for c, p in points.items()}
  return points, corr


def dsprites_labels(rng, n_seq, seq_len=15):
  """(B, S, 5) factor indices of sequences where one factor steps +1 (cyclic) per frame, the
  moving factor's index into DSPRITES_MOVING and its values (B, S)."""
  names, sizes = data_lib.DSPRITES_FACTORS, data_lib.DSPRITES_SIZES
  base = rng.integers(0, [sizes[f] for f in names], size=(n_seq, len(names)))
  moving = rng.integers(0, len(data_lib.DSPRITES_MOVING), n_seq)
  labels = np.repeat(base[:, None], seq_len, axis=1)
  for b in range(n_seq):
    column = names.index(data_lib.DSPRITES_MOVING[moving[b]])
    labels[b, :, column] = (base[b, column] + np.arange(seq_len)) % sizes[names[column]]
  columns = [names.index(data_lib.DSPRITES_MOVING[m]) for m in moving]
  return labels, moving, labels[np.arange(n_seq), :, columns]


def ours_by_column(capcorr):
  return {data_lib.DSPRITES_FACTORS.index(k): v for k, v in capcorr.items()}


def test_capcorr_of_a_frame_rolling_model_is_one_on_every_factor():
  """Capsules that roll one position per frame (the shifted W's pattern): 1.0 everywhere, scale
  included, since the reference keeps the zero frame closest to the truth."""
  rng = np.random.default_rng(2)
  labels, moving, values = dsprites_labels(rng, 200)
  capsules = rolling_capsules(200, 15, 15, 15, np.tile(np.arange(15), (200, 1)), seed=3)
  _, reference = reference_capcorr(capsules, labels)
  ours = metrics_lib.capsule_correlation(capsules, moving, values, data_lib.DSPRITES_MOVING)
  assert sorted(reference) == [1, 2, 3, 4]  # scale, orientation, x, y
  for column, r in ours_by_column(ours).items():
    assert reference[column] == pytest.approx(1.0)
    assert r == pytest.approx(1.0)


def test_capcorr_points_and_values_equal_the_reference_on_random_capsules():
  rng = np.random.default_rng(4)
  labels, moving, values = dsprites_labels(rng, 2000)
  capsules = rng.normal(size=(2000, 15, 15, 15))  # the spec's dSprites capsules
  points, reference = reference_capcorr(capsules, labels)
  kept, estimates, truths = metrics_lib.capsule_offsets(capsules, moving, values)
  assert kept.size == 2000  # with S = 15, every sequence has a frame at index 0
  for column, pairs in points.items():
    index = data_lib.DSPRITES_MOVING.index(data_lib.DSPRITES_FACTORS[column])
    ours = np.stack([estimates[kept == index], truths[kept == index]], axis=1)
    np.testing.assert_array_equal(ours, np.asarray(pairs, float))
  ours = ours_by_column(
    metrics_lib.capsule_correlation(capsules, moving, values, data_lib.DSPRITES_MOVING)
  )
  for column, r in reference.items():
    assert ours[column] == pytest.approx(r, abs=1e-12)
  # Chance is not 0: a sequence starting at index 0 compares frame 0 with itself, and for scale
  # (5 values, 3 zero frames in 15) the closest of three estimates is kept.
  for column in (2, 3, 4):  # orientation, x, y
    assert 0.0 < reference[column] < 0.3
  assert 0.3 < reference[1] < 0.8  # scale


def tiny_model(variant="tvae"):
  topo = topo_lib.make_topography(variant, n_caps=2, cap_dim=3, time_window=3, cap_window=1)
  model = model_lib.TopographicVAE(topo, n_pixels=10, mu_init=2.0)
  params = model_lib.init_params(jax.random.PRNGKey(0), model, seq_len=4)
  x = jax.random.uniform(jax.random.PRNGKey(1), (2, 4, 10))
  return model, params, x


@pytest.mark.parametrize("variant", ["tvae", "vae"])
def test_importance_sampling_with_one_sample_is_the_elbo_in_expectation(variant):
  model, params, x = tiny_model(variant)

  @jax.jit
  @jax.vmap
  def one_sample_and_elbo(key):  # one compile for both estimates
    key_is, key_elbo = jax.random.split(key)
    is_one = jnp.mean(metrics_lib.importance_log_likelihood(params, model, x, key_is, 1))
    return is_one, -model_lib.negative_elbo(params, model, x, key_elbo)[0]

  keys = jax.random.split(jax.random.PRNGKey(2), 2000)
  is_one, elbo = one_sample_and_elbo(keys)
  stderr = float(jnp.sqrt(jnp.var(is_one) / keys.shape[0] + jnp.var(elbo) / keys.shape[0]))
  assert abs(float(jnp.mean(is_one) - jnp.mean(elbo))) < 4 * stderr


def test_importance_sampling_increases_with_more_samples():
  model, params, x = tiny_model()

  @jax.jit
  @jax.vmap
  def estimates(key):  # N = 1, 10, 40 on the same fixed model, one compile
    return jnp.stack(
      [
        jnp.mean(metrics_lib.importance_log_likelihood(params, model, x, key, n))
        for n in (1, 10, 40)
      ]
    )

  means = jnp.mean(estimates(jax.random.split(jax.random.PRNGKey(3), 100)), axis=0)
  assert float(means[0]) < float(means[1]) < float(means[2])


def test_analytic_kl_matches_monte_carlo():
  key_m, key_v, key_s = jax.random.split(jax.random.PRNGKey(4), 3)
  mean = jax.random.normal(key_m, (5,))
  log_var = jax.random.normal(key_v, (5,)) * 0.5
  samples = mean + jnp.exp(0.5 * log_var) * jax.random.normal(key_s, (200_000, 5))
  zeros = jnp.zeros(5)
  log_ratio = model_lib.gaussian_log_prob(samples, mean, log_var) - model_lib.gaussian_log_prob(
    samples, zeros, zeros
  )
  analytic = float(model_lib.gaussian_kl(mean, log_var))
  monte_carlo = float(jnp.mean(log_ratio))
  assert monte_carlo == pytest.approx(analytic, abs=4 * float(jnp.std(log_ratio)) / 200_000**0.5)


def test_bernoulli_likelihood_is_minus_bce_with_clipping():
  x = jnp.array([[0.0, 1.0, 0.3]])
  logits = jnp.array([[-100.0, 0.0, 2.0]])
  p = jnp.clip(jax.nn.sigmoid(logits), model_lib.PROB_CLIP, 1 - model_lib.PROB_CLIP)
  bce = -(x * jnp.log(p) + (1 - x) * jnp.log(1 - p)).sum()
  np.testing.assert_allclose(model_lib.bernoulli_log_likelihood(logits, x), -bce, rtol=1e-5)


def test_pytorch_default_initialization_bounds():
  model, params, _ = tiny_model()
  first = params["params"]["encoder_z"]["TorchDense_0"]["Dense_0"]
  bound = 1 / np.sqrt(10)
  for leaf in (first["kernel"], first["bias"]):
    assert float(jnp.max(jnp.abs(leaf))) <= bound
    assert float(jnp.max(jnp.abs(leaf))) > 0.5 * bound
  assert float(params["params"]["mu"]) == 2.0


# ------------------------------------------------------------- pixel-space equivariance error


def capsule_rolled_frames(first, seq_len, n_caps, cap_dim, direction=1):
  """Frames (B, S, n_caps·cap_dim) whose frame k is `first` with every capsule's block of
  pixels rolled by direction·k, built with numpy (independently of metrics.roll_capsules)."""
  blocks = first.reshape(first.shape[0], n_caps, cap_dim)
  frames = [np.roll(blocks, direction * k, axis=-1) for k in range(seq_len)]
  return np.stack(frames, axis=1).reshape(first.shape[0], seq_len, n_caps * cap_dim)


def exactly_equivariant_tvae(n_caps=2, cap_dim=6, mu=30.0, sharpness=40.0):
  """A real TopographicVAE (shifted W) with hand-set weights whose pixels are its latent units:
  the z encoder passes binary frames through (relu(x) - relu(-x), log-variance -60), the u
  encoder outputs u = 1, so t = (z + μ) / sqrt(|offsets| + ε) is an affine map of the frame,
  and the decoder undoes that map and outputs logits ±sharpness. Rolling t rolls the image."""
  topography = topo_lib.make_topography("tvae", n_caps, cap_dim, 3, 3)
  dim = topography.latent_dim
  model = model_lib.TopographicVAE(topography, n_pixels=dim, mu_init=mu)
  initial = model_lib.init_params(jax.random.PRNGKey(0), model, cap_dim)
  eye, zero = np.eye(dim), np.zeros((dim, dim))

  def dense(kernel, bias):
    return {"Dense_0": {"kernel": jnp.asarray(kernel, jnp.float32), "bias": jnp.asarray(bias)}}

  split = np.block([[eye, -eye, zero]])  # x -> [x, -x, 0]
  keep_two = np.block([[eye, zero], [zero, eye], [zero, zero]])  # [a, b, c] -> [a, b]
  difference = np.block([[eye, zero], [-eye, zero]])  # [a, b] -> [a - b, 0]
  log_var = np.concatenate([np.zeros(dim), np.full(dim, -60.0)])
  scale = float(np.sqrt(len(topography.offsets) + model.epsilon))
  p = {
    "encoder_z": {
      "TorchDense_0": dense(split, np.zeros(3 * dim)),
      "TorchDense_1": dense(keep_two, np.zeros(2 * dim)),
      "TorchDense_2": dense(difference, log_var),
    },
    "encoder_u": {  # u = 1 whatever the frame
      "TorchDense_0": dense(np.zeros((dim, 3 * dim)), np.zeros(3 * dim)),
      "TorchDense_1": dense(np.zeros((3 * dim, 2 * dim)), np.zeros(2 * dim)),
      "TorchDense_2": dense(
        np.zeros((2 * dim, 2 * dim)), np.concatenate([np.ones(dim), log_var[dim:]])
      ),
    },
    "decoder": {  # t -> z = scale·t - μ -> [z, -z, 0] -> logits 2·sharpness·z - sharpness
      "TorchDense_0": dense(np.block([[scale * eye, -scale * eye]]), np.repeat([-mu, mu], dim)),
      "TorchDense_1": dense(np.block([[eye, zero, zero], [zero, eye, zero]]), np.zeros(3 * dim)),
      "TorchDense_2": dense(
        np.block([[eye], [-eye], [zero]]) * 2 * sharpness, np.full(dim, -sharpness)
      ),
    },
    "mu": jnp.asarray(mu, jnp.float32),
  }
  chex.assert_trees_all_equal_shapes(initial, {"params": p})  # the real model's parameters
  return model, {"params": p}


def test_pixel_equivariance_error_is_zero_for_a_model_equivariant_by_construction():
  n_caps, cap_dim = 2, 6
  model, params = exactly_equivariant_tvae(n_caps, cap_dim)
  first = np.random.default_rng(0).integers(0, 2, (5, n_caps * cap_dim)).astype(np.float32)
  x = jnp.asarray(capsule_rolled_frames(first, cap_dim, n_caps, cap_dim))
  errors = metrics_lib.model_pixel_equivariance(params, model, x, jax.random.PRNGKey(1))
  np.testing.assert_allclose(errors["pixel_equivariance_error"], 0.0, atol=1e-10)
  np.testing.assert_allclose(errors["pixel_reconstruction_error"], 0.0, atol=1e-10)
  assert np.all(errors["pixel_static_error"] > 0.05)  # frame 0 is not frame k: rolling matters
  # Its capsules roll with time, so E_eq agrees.
  noise = model_lib.draw_noise(jax.random.PRNGKey(2), model, x)
  t = model.apply(params, x, *noise)[3]
  capsules = t.reshape(5, cap_dim, n_caps, cap_dim)
  np.testing.assert_allclose(metrics_lib.equivariance_error(capsules), 0.0, atol=1e-3)

  # Frames rolling the other way: the roll direction of the metric is the one W implies.
  backwards = jnp.asarray(capsule_rolled_frames(first, cap_dim, n_caps, cap_dim, direction=-1))
  wrong = metrics_lib.model_pixel_equivariance(params, model, backwards, jax.random.PRNGKey(1))
  assert np.all(wrong["pixel_equivariance_error"] > 0.05)
  np.testing.assert_allclose(wrong["pixel_reconstruction_error"], 0.0, atol=1e-10)


def test_pixel_equivariance_error_is_high_for_a_random_model():
  n_caps, cap_dim = 2, 6
  first = np.random.default_rng(0).integers(0, 2, (16, n_caps * cap_dim)).astype(np.float32)
  x = jnp.asarray(capsule_rolled_frames(first, cap_dim, n_caps, cap_dim))
  for variant in ("tvae", "vae"):
    topography = topo_lib.make_topography(variant, n_caps, cap_dim, 3, 3)
    model = model_lib.TopographicVAE(topography, n_pixels=n_caps * cap_dim)
    params = model_lib.init_params(jax.random.PRNGKey(3), model, cap_dim)
    errors = metrics_lib.model_pixel_equivariance(params, model, x, jax.random.PRNGKey(1))
    # A random decoder gives probabilities near 0.5: about 0.25 against binary pixels.
    assert float(np.mean(errors["pixel_equivariance_error"])) > 0.15
    assert errors["pixel_equivariance_error"].shape == (16,)


def test_pixel_errors_follow_their_definition_on_a_linear_decoder():
  """Independent numpy computation of the three per-sequence errors."""
  rng = np.random.default_rng(4)
  n_caps, cap_dim, seq_len = 3, 4, 5
  t = rng.normal(size=(2, seq_len, n_caps * cap_dim)).astype(np.float32)
  frames = rng.uniform(size=(2, seq_len, 7)).astype(np.float32)
  weights = rng.normal(size=(n_caps * cap_dim, 7)).astype(np.float32)
  decode_np = lambda v: 1.0 / (1.0 + np.exp(-v @ weights))
  errors = metrics_lib.pixel_equivariance_errors(
    jnp.asarray(t), jnp.asarray(frames), lambda v: jax.nn.sigmoid(v @ weights), n_caps, (cap_dim,)
  )
  for b in range(2):
    blocks = t[b, 0].reshape(n_caps, cap_dim)
    rolled = [np.roll(blocks, k, axis=1).ravel() for k in range(1, seq_len)]
    expected = np.mean(
      [np.mean((decode_np(r) - frames[b, k + 1]) ** 2) for k, r in enumerate(rolled)]
    )
    static = np.mean([np.mean((decode_np(t[b, 0]) - frames[b, k]) ** 2) for k in range(1, seq_len)])
    own = np.mean([np.mean((decode_np(t[b, k]) - frames[b, k]) ** 2) for k in range(1, seq_len)])
    np.testing.assert_allclose(errors["pixel_equivariance_error"][b], expected, rtol=1e-5)
    np.testing.assert_allclose(errors["pixel_static_error"][b], static, rtol=1e-5)
    np.testing.assert_allclose(errors["pixel_reconstruction_error"][b], own, rtol=1e-5)
