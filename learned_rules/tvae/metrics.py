"""Importance-sampled log-likelihood, equivariance error E_eq and CapCorr."""

import math

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules.tvae import model as model_lib


def log_importance_weights(params, model, x, key):
  """One joint sample per sequence: log p(x|t) + log p(z) + log p(u) - log q(z|x) - log q(u|x).

  Returned per frame, shape (B, S), for x of shape (B, S, P).
  """
  noise_z, noise_u = model_lib.draw_noise(key, model, x)
  posterior, z, u, _, logits = model.apply(params, x, noise_z, noise_u)
  zeros = jnp.zeros_like(z)
  log_w = model_lib.bernoulli_log_likelihood(logits, x)
  log_w += model_lib.gaussian_log_prob(z, zeros, zeros)
  log_w -= model_lib.gaussian_log_prob(z, posterior["z_mean"], posterior["z_log_var"])
  if u is not None:
    log_w += model_lib.gaussian_log_prob(u, zeros, zeros)
    log_w -= model_lib.gaussian_log_prob(u, posterior["u_mean"], posterior["u_log_var"])
  return log_w


def importance_log_likelihood(params, model, x, key, n_samples: int):
  """Per-frame log p(x) ≈ logsumexp_n log w_n - log N, shape (B, S), nats.

  The N samples are joint over the sequence (t of a frame depends on u of its neighbours); the
  estimate is formed per frame as the spec defines it. The public PyTorch code omits `- log N`,
  so its numbers are higher by log N (2.30 nats for N = 10).
  """
  keys = jax.random.split(key, n_samples)
  log_w = jax.lax.map(lambda k: log_importance_weights(params, model, x, k), keys)
  return jax.nn.logsumexp(log_w, axis=0) - math.log(n_samples)


def normalize_capsules(t: jnp.ndarray) -> jnp.ndarray:
  """Each capsule (last axis) scaled to unit L2 length."""
  return t / jnp.maximum(jnp.linalg.norm(t, axis=-1, keepdims=True), 1e-12)


@jax.jit
def equivariance_error(capsules: jnp.ndarray) -> jnp.ndarray:
  """E_eq per sequence for capsules of shape (B, S, n_caps, cap_dim), shape (B,).

  Σ over frame pairs t0 < t1 and capsules of |roll(cap[t0], t1 - t0) - cap[t1]|_1 on unit
  capsules. Rolling by +k moves position c to c + k, the direction the shifted W pools in.
  """
  unit = normalize_capsules(capsules)
  seq_len = unit.shape[1]
  total = jnp.zeros(unit.shape[0])
  for lag in range(1, seq_len):
    rolled = jnp.roll(unit[:, : seq_len - lag], lag, axis=-1)
    total += jnp.sum(jnp.abs(rolled - unit[:, lag:]), axis=(1, 2, 3))
  return total


def expected_abs_difference_of_unit_vectors(dim: int, grid: int = 200_001) -> float:
  """E Σ_i |a_i - b_i| for independent uniform unit vectors a, b in R^dim (numerical)."""
  # a - b has a uniform direction and norm sqrt(2 - 2 cos θ), cos θ ~ (1 - x²)^((d-3)/2).
  x = np.linspace(-1.0, 1.0, grid)[1:-1]
  density = np.exp((dim - 3) / 2.0 * np.log1p(-x * x))
  density /= np.trapezoid(density, x)
  mean_norm = np.trapezoid(np.sqrt(2.0 - 2.0 * x) * density, x)
  # E|v_1| for v uniform on the sphere = Γ(d/2) / (sqrt(π) Γ((d+1)/2)).
  mean_abs_coordinate = math.exp(math.lgamma(dim / 2) - math.lgamma((dim + 1) / 2)) / math.sqrt(
    math.pi
  )
  return dim * mean_norm * mean_abs_coordinate


def chance_equivariance_error(n_caps: int, cap_dim: int, seq_len: int) -> float:
  """E_eq of random unit capsules: about 13.2k for 18 capsules of 18 units and S = 18."""
  pairs = seq_len * (seq_len - 1) // 2
  return pairs * n_caps * expected_abs_difference_of_unit_vectors(cap_dim)


def estimate_rolls(reference: np.ndarray, capsules: np.ndarray) -> np.ndarray:
  """Per-capsule roll k that carries `capsules` onto `reference`: the argmax over k of the
  circular cross-correlation Σ_n reference[n] · capsules[(n - k) mod D], so k = r when
  reference = roll(capsules, r). reference (..., n_caps, D), capsules (..., n_caps, D) ->
  (..., n_caps); the first k wins a tie.

  This is the reference's `periodic_corr(s[b, 0], s[b, i])` followed by `argmax(axis=1)`
  (tvae/utils/losses.py: ifft(fft(x) · conj(fft(y))).real, whose entry k is Σ_n x[n + k] y[n]).
  """
  cap_dim = reference.shape[-1]
  rolls = np.stack([np.roll(capsules, k, axis=-1) for k in range(cap_dim)], axis=-1)
  correlation = np.einsum("...cd,...cdk->...ck", reference, rolls)
  return np.argmax(correlation, axis=-1)


def _mode(values: np.ndarray, n_bins: int) -> int:
  """Most frequent value, the smallest on a tie (as scipy.stats.mode)."""
  return int(np.argmax(np.bincount(values, minlength=n_bins)))


def capsule_offsets(capsules, moving, values):
  """One (estimated roll, true value) point per sequence, as the reference's `get_cap_offsets`
  (tvae/utils/losses.py) forms them; sequences without a zero frame give none.

  For sequence b: Ω = the frames where the moving factor's index is 0; for each i in Ω, the roll
  estimate is the mode over capsules of `estimate_rolls(frame 0, frame i)`; the truth is the
  factor's index at frame 0; among several Ω (a factor with fewer values than frames) the
  estimate closest to the truth is kept (the first on a tie).

  Returns (moving, estimates, truths), each (B',) for the B' sequences with a zero frame.
  """
  capsules, moving, values = np.asarray(capsules), np.asarray(moving), np.asarray(values)
  cap_dim = capsules.shape[-1]
  kept, estimates, truths = [], [], []
  for b in range(capsules.shape[0]):
    zero_frames = np.flatnonzero(values[b] == 0)
    if zero_frames.size == 0:
      continue
    truth = int(values[b, 0])
    per_capsule = estimate_rolls(capsules[b, :1], capsules[b, zero_frames])  # (|Ω|, n_caps)
    candidates = [_mode(row, cap_dim) for row in per_capsule]
    best = int(np.argmin([abs(truth - c) for c in candidates]))
    kept.append(int(moving[b]))
    estimates.append(candidates[best])
    truths.append(truth)
  return np.asarray(kept, int), np.asarray(estimates, float), np.asarray(truths, float)


def capsule_correlation(capsules, moving, values, factor_names) -> dict[str, float]:
  """CapCorr per moving factor, as the reference computes it: the Pearson correlation over
  sequences of `capsule_offsets`' estimate and truth (one point per sequence).

  A model whose capsules roll by one position per frame scores 1.0 on every factor (scale
  included: the closest of its zero frames is kept); random capsules score about 0.1-0.2, not 0,
  because a sequence starting at index 0 compares frame 0 with itself and scores exactly, and
  the closest-of-several choice favours the truth. The reference computes it on the training
  batches of an epoch (`train_epoch_dsprites`); we compute it on the test sequences.

  Args:
    capsules: (B, S, n_caps, cap_dim) capsule activations.
    moving: (B,) index into factor_names of the factor that changes in each sequence.
    values: (B, S) that factor's index per frame.
    factor_names: names of the possible moving factors.
  """
  kept, estimates, truths = capsule_offsets(capsules, moving, values)
  result = {}
  for index, name in enumerate(factor_names):
    est, true = estimates[kept == index], truths[kept == index]
    if est.size < 2 or est.std() == 0 or true.std() == 0:
      result[name] = float("nan")
    else:
      result[name] = float(np.corrcoef(est, true)[0, 1])
  return result


def roll_capsules(t: jnp.ndarray, shift: int, n_caps: int, cap_shape) -> jnp.ndarray:
  """t (..., D) with every capsule rolled by `shift` along its (last) capsule-position axis.

  The direction the shifted W implies (topography.make_topography): the unit at (time s,
  position c) shares variance with (s + 1, c + 1), so frame s + k is frame s rolled by +k, the
  roll `equivariance_error` and the capsule traversals use.
  """
  grid = t.reshape(*t.shape[:-1], n_caps, *cap_shape)
  return jnp.roll(grid, shift, axis=-1).reshape(t.shape)


def pixel_equivariance_errors(t, frames, decode_probs, n_caps: int, cap_shape) -> dict:
  """Pixel-space equivariance error per sequence, and two references, each of shape (B,).

  For t (B, S, D) encoded from frames (B, S, P) in [0, 1] and `decode_probs` mapping (..., D) to
  pixel probabilities (..., P):
  - pixel_equivariance_error: t of frame 0 rolled by k capsule positions, decoded, against the
    true frame k: the mean squared pixel error, averaged over k = 1..S-1. Structure alone cannot
    make it small: the decoder must have learned what a rolled capsule looks like.
  - pixel_static_error: the same with t of frame 0 not rolled (predicting frame 0 for every k).
  - pixel_reconstruction_error: each frame k's own t decoded against frame k (k = 1..S-1).
  """
  seq_len = frames.shape[1]
  if seq_len < 2:
    raise ValueError("the pixel equivariance error needs sequences of at least 2 frames")
  t0 = t[:, 0]
  rolled = jnp.stack([roll_capsules(t0, k, n_caps, cap_shape) for k in range(1, seq_len)], axis=1)
  targets = frames[:, 1:]
  per_sequence = lambda probs: jnp.mean(jnp.square(probs - targets), axis=(1, 2))
  static = jnp.broadcast_to(decode_probs(t0)[:, None], targets.shape)
  return {
    "pixel_equivariance_error": per_sequence(decode_probs(rolled)),
    "pixel_static_error": per_sequence(static),
    "pixel_reconstruction_error": per_sequence(decode_probs(t[:, 1:])),
  }


def model_pixel_equivariance(params, model, x, key) -> dict:
  """`pixel_equivariance_errors` of a TopographicVAE on sequences x (B, S, P), t from one
  reparameterized sample of z and u drawn with `key` (as E_eq and the traversals use)."""
  noise_z, noise_u = model_lib.draw_noise(key, model, x)
  t = model.apply(params, x, noise_z, noise_u)[3]
  decode = lambda t: jax.nn.sigmoid(model.apply(params, t, method=model.decode))
  topo = model.topography
  return pixel_equivariance_errors(t, x, decode, topo.n_caps, topo.cap_shape)
