"""W operators against the reference's pad + transposed-convolution arithmetic and the spec.

`reference_w` is a numpy transcription, written from reading the authors' PyTorch code
(github.com/akandykeller/TopographicVAE), of what its groupers compute: tvae/containers/grouper.py
(`Chi_Squared_Capsules_from_Gaussian_1d`, `Stationary_Capsules_1d`, `Chi_Squared_from_Gaussian_2d`)
with the pads, paddings and kernels of tvae/experiments/*.py `create_model`. It never calls
learned_rules.tvae.topography.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from learned_rules.common.errors import ConfigError
from learned_rules.tvae import topography as topo_lib

# ----------------------------------------------------------------------------- the reference


def circular_pad(x, pads):
  """F.pad(x, ..., mode='circular'): pads = ((before, after), ...) for the last len(pads) axes."""
  first = x.ndim - len(pads)
  for axis, (before, after) in enumerate(pads, start=first):
    n = x.shape[axis]
    index = np.concatenate([np.arange(n - before, n), np.arange(n), np.arange(after)])
    x = np.take(x, index, axis=axis)
  return x


def conv_transpose3d(x, weight, padding):
  """nn.ConvTranspose3d(1, 1, stride 1, bias=False) on x (N, D1, D2, D3), by its definition:
  every input element scatters weight · x into the full output, which is then cropped by
  `padding` on both sides of each axis."""
  n, *sizes = x.shape
  full = np.zeros((n, *(s + k - 1 for s, k in zip(sizes, weight.shape, strict=True))))
  for a, b, c in itertools.product(*(range(k) for k in weight.shape)):
    full[:, a : a + sizes[0], b : b + sizes[1], c : c + sizes[2]] += weight[a, b, c] * x
  crop = tuple(slice(p, full.shape[i + 1] - p) for i, p in enumerate(padding))
  return full[(slice(None), *crop)]


def banded_kernel(size, n_off_diag):
  """Chi_Squared_Capsules_from_Gaussian_1d's weight: zeros, then W = triu(ones, -n_off) * W.T
  written into weight[0, 0, :, :, 0] of a (size, size, 1) kernel."""
  upper = np.triu(np.ones((size, size)), -n_off_diag)
  weight = np.zeros((size, size, 1))
  weight[:, :, 0] = upper * upper.T
  return weight


def reference_pads(kernel):
  """The experiments' F.pad amounts and ConvTranspose3d paddings for a kernel (k0, k1, k2); even
  sizes carry `pad_fix = (k + 1) % 2` (tvae_Lhalf_mnist.py writes the same -1 by hand)."""
  fix = [(k + 1) % 2 for k in kernel[:2]] + [0]
  pads = [(k // 2 - f, k // 2) for k, f in zip(kernel, fix, strict=True)]
  padding = [2 * (k // 2) - f for k, f in zip(kernel, fix, strict=True)]
  return pads, padding


def reference_w(u_squared, grouper, n_caps, cap_dim, kernel, n_off_diag=0):
  """W(u²) as the reference's grouper computes v, for u² of shape (N, S, n_caps·cap_dim)."""
  batch, seq_len, _ = u_squared.shape
  pads, padding = reference_pads(kernel)
  if grouper == "2d":  # Chi_Squared_from_Gaussian_2d: one frame, u.view(B, 1, side, side, 1)
    side = int(round(cap_dim**0.5))
    grid = u_squared.reshape(batch * seq_len, side, side, 1)
    v = conv_transpose3d(circular_pad(grid, pads), np.ones(kernel), padding)
    return v.reshape(u_squared.shape)
  # view(-1, n_t, n_caps, cap_dim, 1), permute to (B, n_caps, t, cap_dim, 1), one channel.
  caps = u_squared.reshape(batch, seq_len, n_caps, cap_dim, 1).transpose(0, 2, 1, 3, 4)
  caps = caps.reshape(batch * n_caps, seq_len, cap_dim, 1)
  weight = banded_kernel(kernel[0], n_off_diag) if grouper == "shifted" else np.ones(kernel)
  v = conv_transpose3d(circular_pad(caps, pads), weight, padding)
  v = v.reshape(batch, n_caps, seq_len, cap_dim, 1).transpose(0, 2, 1, 3, 4)
  return v.reshape(u_squared.shape)


def as_matrix(w_of, seq_len, dim):
  """A W acting on u² of shape (N, S, dim) as an (S·dim, S·dim) matrix: column k is W(e_k)."""
  units = seq_len * dim
  basis = np.eye(units, dtype=np.float32).reshape(units, seq_len, dim)
  return np.asarray(w_of(basis)).reshape(units, units).T


# (reference grouper, kernel, n_off_diag, S, n_caps, cap_dim) and our (variant, L, K).
REFERENCE_MODELS = {
  "MNIST TVAE L=5/36 K=3": (("shifted", (5, 5, 1), 1, 18, 1, 18), ("tvae", 5, 3)),
  "MNIST TVAE L=13/36 K=3": (("shifted", (13, 13, 1), 1, 18, 1, 18), ("tvae", 13, 3)),
  "MNIST TVAE L=1/2 K=3": (("shifted", (18, 18, 1), 1, 18, 1, 18), ("tvae", 18, 3)),
  "dSprites TVAE L=5 K=1": (("shifted", (5, 5, 1), 0, 15, 1, 15), ("tvae", 5, 1)),
  "dSprites TVAE L=10 K=1": (("shifted", (10, 10, 1), 0, 15, 1, 15), ("tvae", 10, 1)),
  "dSprites TVAE L=15 K=1": (("shifted", (15, 15, 1), 0, 15, 1, 15), ("tvae", 15, 1)),
  "MNIST TVAE L=0 K=3": (("stationary", (1, 3, 1), 0, 18, 1, 18), ("tvae", 1, 3)),
  "MNIST BubbleVAE": (("stationary", (5, 3, 1), 0, 18, 1, 18), ("bubble", 5, 3)),
  "2-D TVAE 5x5": (("2d", (5, 5, 1), 0, 1, 1, 324), ("tvae_2d", 1, 5)),
  "small, two capsules": (("shifted", (3, 3, 1), 1, 6, 2, 5), ("tvae", 3, 3)),
  "small, even kernel": (("shifted", (4, 4, 1), 1, 6, 2, 5), ("tvae", 4, 3)),
  "small bubble, even": (("stationary", (4, 3, 1), 0, 6, 2, 5), ("bubble", 4, 3)),
}


METHODS = ("matrix", "shifts")  # apply_w's two ways of pooling, both held to the reference


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
def test_w_is_the_reference_operator(name, method):
  reference_model, (variant, window, width) = REFERENCE_MODELS[name]
  grouper, kernel, n_off, seq_len, n_caps, cap_dim = reference_model
  dim = n_caps * cap_dim
  reference = as_matrix(
    lambda u2: reference_w(u2, grouper, n_caps, cap_dim, kernel, n_off), seq_len, dim
  )
  topo = topo_lib.make_topography(variant, n_caps, cap_dim, window, width)
  ours = as_matrix(lambda u2: topo_lib.apply_w(topo, u2, method), seq_len, dim)
  np.testing.assert_array_equal(ours, reference)
  assert set(np.unique(reference)) <= {0.0, 1.0}  # a 0/1 neighbourhood sum


def vjp_as_matrix(topo, method, seq_len, dim):
  """The gradient map of apply_w (cotangent -> gradient of u²) as a matrix: column k is its
  value on e_k. For a linear W it must be the reference operator's transpose."""
  units = seq_len * dim
  basis = jnp.asarray(np.eye(units, dtype=np.float32).reshape(units, seq_len, dim))
  _, vjp = jax.vjp(lambda u2: topo_lib.apply_w(topo, u2, method), jnp.zeros_like(basis))
  return np.asarray(vjp(basis)[0]).reshape(units, units).T


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
def test_w_gradient_is_the_reference_transpose(name, method):
  reference_model, (variant, window, width) = REFERENCE_MODELS[name]
  grouper, kernel, n_off, seq_len, n_caps, cap_dim = reference_model
  dim = n_caps * cap_dim
  reference = as_matrix(
    lambda u2: reference_w(u2, grouper, n_caps, cap_dim, kernel, n_off), seq_len, dim
  )
  topo = topo_lib.make_topography(variant, n_caps, cap_dim, window, width)
  np.testing.assert_array_equal(vjp_as_matrix(topo, method, seq_len, dim), reference.T)


@pytest.mark.parametrize(
  "name", ["MNIST TVAE L=13/36 K=3", "MNIST TVAE L=1/2 K=3", "MNIST BubbleVAE", "2-D TVAE 5x5"]
)
def test_w_value_and_gradient_agree_between_methods_at_full_size(name):
  """At the configs' sizes (18 capsules), inside a nonlinear loss as the model uses W."""
  _, (variant, window, width) = REFERENCE_MODELS[name]
  n_caps, cap_dim, seq_len = (1, 324, 1) if variant == "tvae_2d" else (18, 18, 18)
  topo = topo_lib.make_topography(variant, n_caps, cap_dim, window, width)
  u = jax.random.normal(jax.random.PRNGKey(0), (3, seq_len, topo.latent_dim))
  results = {}
  for method in METHODS:
    loss = lambda u, m=method: jnp.sum(jnp.log(topo_lib.apply_w(topo, jnp.square(u), m) + 1e-6))
    results[method] = jax.jit(jax.value_and_grad(loss))(u)
  (value_m, grad_m), (value_s, grad_s) = results["matrix"], results["shifts"]
  np.testing.assert_allclose(value_m, value_s, rtol=1e-5)
  np.testing.assert_allclose(grad_m, grad_s, rtol=1e-5, atol=1e-6)


def test_auto_method_picks_the_matrix_up_to_the_size_limit():
  topo = topo_lib.make_topography("tvae", 2, 4, 3, 3)
  matrix = topo_lib.neighbourhood_matrix(topo, 6)
  assert matrix.shape == (6, 4, 6, 4) and matrix.sum() == 6 * 4 * len(topo.offsets)
  u_squared = np.random.default_rng(0).uniform(size=(2, 6, 8)).astype(np.float32)
  np.testing.assert_allclose(
    topo_lib.apply_w(topo, u_squared), topo_lib.apply_w(topo, u_squared, "shifts"), rtol=1e-6
  )
  with pytest.raises(ValueError, match="method='conv'"):
    topo_lib.apply_w(topo, u_squared, "conv")


@pytest.mark.parametrize(
  "name,terms",
  [
    ("MNIST TVAE L=5/36 K=3", 13),
    ("MNIST TVAE L=13/36 K=3", 37),
    ("MNIST TVAE L=1/2 K=3", 52),  # 3k - 2 for K = 3: the band is cut at the kernel's edges
    ("dSprites TVAE L=10 K=1", 10),
    ("MNIST TVAE L=0 K=3", 3),
    ("MNIST BubbleVAE", 15),
    ("2-D TVAE 5x5", 25),
  ],
)
def test_terms_pooled_per_unit_match_the_reference(name, terms):
  reference_model, (variant, window, width) = REFERENCE_MODELS[name]
  grouper, kernel, n_off, seq_len, n_caps, cap_dim = reference_model
  ones = np.ones((1, seq_len, n_caps * cap_dim))
  np.testing.assert_array_equal(reference_w(ones, grouper, n_caps, cap_dim, kernel, n_off), terms)
  # At the spec's size (18 x 18 MNIST, 15 x 15 dSprites capsules) W(1) counts each unit's terms.
  full_caps = 1 if variant == "tvae_2d" else cap_dim
  topo = topo_lib.make_topography(variant, full_caps, cap_dim, window, width)
  for method in METHODS:
    ones = np.ones((seq_len, full_caps * cap_dim), np.float32)
    np.testing.assert_array_equal(np.asarray(topo_lib.apply_w(topo, ones, method)), terms)
  assert len(topo.offsets) == terms


def test_variants_the_reference_agrees_with_kept_their_offsets():
  """Bubble, L = 0, K = 1 and the 2-D torus pool exactly what they pooled before the band fix."""
  window = topo_lib.centered_window
  kept = {
    ("bubble", 5, 3): {(d, e) for d in window(5) for e in (-1, 0, 1)},
    ("tvae", 1, 3): {(0, e) for e in (-1, 0, 1)},
    ("tvae", 10, 1): {(d, d) for d in window(10)},
    ("tvae_2d", 1, 5): {(0, a, b) for a in range(-2, 3) for b in range(-2, 3)},
  }
  for (variant, time_window, cap_window), offsets in kept.items():
    cap_dim = 324 if variant == "tvae_2d" else 15
    topo = topo_lib.make_topography(variant, 2, cap_dim, time_window, cap_window)
    assert set(topo.offsets) == offsets and len(topo.offsets) == len(offsets)


def spec_w(u_squared, variant, n_caps, cap_dim, time_window, cap_window):
  """W(u²) from the spec's formula, one output unit at a time. u_squared: (S, n_caps·cap_dim)."""
  seq_len = u_squared.shape[0]
  k_off = (cap_window - 1) // 2
  window = topo_lib.centered_window(time_window)
  if variant == "tvae_2d":
    side = int(round(cap_dim**0.5))
    grid = u_squared.reshape(seq_len, n_caps, side, side)
    result = np.zeros_like(grid)
    for t, cap, i, j in itertools.product(range(seq_len), range(n_caps), range(side), range(side)):
      for a, b in itertools.product(range(-k_off, k_off + 1), repeat=2):
        result[t, cap, i, j] += grid[t, cap, (i + a) % side, (j + b) % side]
    return result.reshape(u_squared.shape)
  if variant == "bubble" or time_window == 1:  # stationary window (L = 0: one frame)
    pairs = [(d, e) for d in window for e in range(-k_off, k_off + 1)]
  else:  # Σ_{i ∈ D} Σ_{j ∈ D, |i - j| <= K_off}
    pairs = [(i, j) for i in window for j in window if abs(i - j) <= k_off]
  grid = u_squared.reshape(seq_len, n_caps, cap_dim)
  result = np.zeros_like(grid)
  for t, cap, c in itertools.product(range(seq_len), range(n_caps), range(cap_dim)):
    for d, e in pairs:
      result[t, cap, c] += grid[(t + d) % seq_len, cap, (c + e) % cap_dim]
  return result.reshape(u_squared.shape)


@pytest.mark.parametrize(
  "variant,n_caps,cap_dim,seq_len,time_window,cap_window",
  [
    ("bubble", 3, 5, 6, 5, 3),  # stationary window
    ("tvae", 3, 5, 6, 1, 3),  # L = 0: capsule band within the frame
    ("tvae", 3, 5, 6, 3, 3),  # shifted band, short window
    ("tvae", 2, 6, 6, 4, 1),  # even window, K = 1 (dSprites-like)
    ("tvae", 2, 5, 5, 5, 3),  # window over the whole sequence (L = 1/2)
    ("tvae", 2, 7, 6, 6, 5),  # even window, K = 5
    ("tvae_2d", 2, 16, 1, 1, 3),  # torus
    ("tvae_2d", 1, 25, 1, 1, 5),  # torus with 5 x 5 neighbourhood
  ],
)
@pytest.mark.parametrize("method", METHODS)
def test_w_matches_the_spec_formula(
  variant, n_caps, cap_dim, seq_len, time_window, cap_window, method
):
  topo = topo_lib.make_topography(variant, n_caps, cap_dim, time_window, cap_window)
  rng = np.random.default_rng(0)
  u_squared = rng.uniform(size=(2, seq_len, n_caps * cap_dim)).astype(np.float32)
  got = np.asarray(topo_lib.apply_w(topo, u_squared, method))
  for b in range(2):
    want = spec_w(u_squared[b], variant, n_caps, cap_dim, time_window, cap_window)
    np.testing.assert_allclose(got[b], want, rtol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_shift_pairs_t_c_with_next_frame_next_position(method):
  """The unit at (t, c) shares variance with (t+1, c+1), not with (t+1, c-1)."""
  topo = topo_lib.make_topography("tvae", 1, 8, 3, 1)
  u_squared = np.zeros((1, 8, 8), np.float32)
  u_squared[0, 4, 5] = 1.0  # time 4, position 5
  pooled = np.asarray(topo_lib.apply_w(topo, u_squared, method))[0]
  assert pooled[3, 4] == 1.0 and pooled[4, 5] == 1.0 and pooled[5, 6] == 1.0
  assert pooled.sum() == 3.0


def test_vae_has_no_offsets_and_unknown_variant_fails():
  assert topo_lib.make_topography("vae", 2, 3, 1, 1).offsets == ()
  with pytest.raises(ConfigError, match="model.variant='tvea'"):
    topo_lib.make_topography("tvea", 2, 3, 1, 1)
  with pytest.raises(ConfigError, match="model.cap_window=2"):
    topo_lib.make_topography("tvae", 2, 3, 1, 2)
