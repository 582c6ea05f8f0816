"""Fixed 0/1 neighbourhood operators W that pool u² into the topographic variance of t.

Every variant is a list of offsets. For a sequence of u² with shape (S, n_caps, *cap_shape),
`W(u²)[t, cap, c] = Σ_(d, e) u²[(t + d) mod S, cap, (c + e) mod cap_shape]` over the variant's
offsets (d, e), circular in time and in capsule position; capsules never mix.

The offsets are those of the authors' PyTorch code (github.com/akandykeller/TopographicVAE),
where W is a circular `F.pad` followed by a fixed all-ones or banded `ConvTranspose3d` over
(time, capsule position, 1) in `tvae/containers/grouper.py`. tests/tvae/test_tvae_topography.py
rebuilds that pad + transposed-convolution arithmetic in numpy and compares the matrices.

`apply_w` computes W as one matrix product over (time x capsule position), the same matrix for
every capsule, at HIGHEST precision (GPUs would otherwise round u² to TF32): a dot is a fusion
boundary for XLA, and its backward is one more dot. The sum of shifted copies it replaces
(`shifted_sum`, kept for latents too large for a dense matrix) made XLA's CPU backend recompute
the pooled forward inside every shifted read of the cotangent, so that the backward of L = 13 or
18 (37, 52 offsets) cost 15 to 30 times the forward.
"""

import dataclasses
import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules.common.errors import ConfigError

VARIANTS = ("vae", "bubble", "tvae", "tvae_2d")
# Largest S·cap_dim pooled by a dense matrix ((S·cap_dim)² floats: 16 MiB); beyond, shifted sums.
DENSE_MAX_UNITS = 2048


@dataclasses.dataclass(frozen=True)
class Topography:
  """Static structure of the latent space: capsule shape and the neighbourhood offsets."""

  variant: str
  n_caps: int
  cap_shape: tuple[int, ...]
  offsets: tuple[tuple[int, ...], ...]  # each (d, e_1, ..., e_k): time offset then capsule offsets

  @property
  def cap_dim(self) -> int:
    return math.prod(self.cap_shape)

  @property
  def latent_dim(self) -> int:
    return self.n_caps * self.cap_dim

  @property
  def uses_u(self) -> bool:
    """The plain VAE has no u encoder, no μ and no KL_u."""
    return self.variant != "vae"


def centered_window(length: int) -> tuple[int, ...]:
  """`length` consecutive offsets around 0: 5 -> -2..2, 10 -> -4..5."""
  if length < 1:
    raise ValueError(f"window length must be >= 1, got {length}")
  start = -((length - 1) // 2)
  return tuple(range(start, start + length))


def make_topography(
  variant: str, n_caps: int, cap_dim: int, time_window: int, cap_window: int
) -> Topography:
  """Builds the offsets of one model of the spec.

  Args:
    variant: 'vae' (no W), 'bubble' (stationary window over time x capsule position),
      'tvae' (shifted band, see below; time_window=1 is TVAE L=0), 'tvae_2d' (one
      sqrt(cap_dim) x sqrt(cap_dim) torus per capsule, a cap_window x cap_window circular
      neighbourhood, no time pooling).
    n_caps: number of capsules.
    cap_dim: units per capsule.
    time_window: number of time offsets L (centred around 0).
    cap_window: capsule band width K (odd); K_off = (K - 1) // 2.

  The reference's groupers, per variant (tvae/containers/grouper.py, kernels from
  tvae/experiments/*.py):
  - 'bubble' and 'tvae' with time_window=1 (L=0): `Stationary_Capsules_1d`, an all-ones
    (L, K, 1) kernel: offsets (d, e) for every d in the time window and |e| <= K_off.
  - 'tvae' with time_window=L > 1: `Chi_Squared_Capsules_from_Gaussian_1d`, a square (L, L, 1)
    kernel whose (time, capsule) slice is the band |i - j| <= K_off of an L x L matrix
    (`triu(ones, -K_off) * its transpose`). Time and capsule offsets both run over the same
    window D (-6..6 for L=13; -8..9 for L=18, the `pad_fix` of even kernels), so the band is cut
    at the kernel's edges: 3L - 2 terms for K=3 (13, 37, 52 for L = 5, 13, 18), not L·K.
  - 'tvae_2d': `Chi_Squared_from_Gaussian_2d`, an all-ones (K, K, 1) kernel on the torus.
  """
  if variant not in VARIANTS:
    raise ConfigError(f"model.variant={variant!r}: expected one of {VARIANTS}")
  if cap_window < 1 or cap_window % 2 == 0:
    raise ConfigError(f"model.cap_window={cap_window}: expected a positive odd width")
  k_off = (cap_window - 1) // 2
  times = centered_window(time_window)
  caps = range(-k_off, k_off + 1)
  if variant == "vae":
    return Topography(variant, n_caps, (cap_dim,), ())
  if variant == "bubble":
    offsets = tuple((d, e) for d in times for e in caps)
    return Topography(variant, n_caps, (cap_dim,), offsets)
  if variant == "tvae" and time_window == 1:  # L=0: the reference's (1, K, 1) stationary kernel
    return Topography(variant, n_caps, (cap_dim,), tuple((0, e) for e in caps))
  if variant == "tvae":  # (d, j) with d, j in the same window and |d - j| <= K_off
    offsets = tuple((d, j) for d in times for j in times if abs(d - j) <= k_off)
    return Topography(variant, n_caps, (cap_dim,), offsets)
  side = int(round(cap_dim**0.5))
  if side * side != cap_dim:
    raise ConfigError(f"model.cap_dim={cap_dim}: the 2-D torus needs a square number")
  offsets = tuple((0, a, b) for a, b in itertools.product(caps, caps))
  return Topography(variant, n_caps, (side, side), offsets)


W_METHODS = ("auto", "matrix", "shifts")  # how apply_w sums: every one is the same linear map


def apply_w(topography: Topography, u_squared: jnp.ndarray, method: str = "auto") -> jnp.ndarray:
  """W(u²) for u² of shape (..., S, D); returns the same shape.

  method: 'matrix' (one dense product per capsule), 'shifts' (a sum of rolled copies) or 'auto'
  (the matrix while S·cap_dim <= DENSE_MAX_UNITS). Both pool the same terms.
  """
  *lead, seq_len, dim = u_squared.shape
  if dim != topography.latent_dim:
    raise ValueError(f"u² has {dim} units, the topography {topography.latent_dim}")
  if method == "auto":
    method = "matrix" if seq_len * topography.cap_dim <= DENSE_MAX_UNITS else "shifts"
  if method == "matrix":
    grid = u_squared.reshape(*lead, seq_len, topography.n_caps, topography.cap_dim)
    matrix = jnp.asarray(neighbourhood_matrix(topography, seq_len))
    pooled = jnp.einsum("tcsd,...snd->...tnc", matrix, grid, precision=jax.lax.Precision.HIGHEST)
  elif method == "shifts":
    grid = u_squared.reshape(*lead, seq_len, topography.n_caps, *topography.cap_shape)
    time_axis = len(lead)
    pooled = shifted_sum(topography.offsets, (time_axis, *range(time_axis + 2, grid.ndim)), grid)
  else:
    raise ValueError(f"method={method!r}: expected 'auto', 'matrix' or 'shifts'")
  return pooled.reshape(u_squared.shape)


@functools.lru_cache(maxsize=32)
def neighbourhood_matrix(topography: Topography, seq_len: int) -> np.ndarray:
  """W as an (S, cap_dim, S, cap_dim) count matrix: entry [t, c, s, c'] is the number of offsets
  (d, e) with s = (t + d) mod S and c' = c + e (mod the capsule shape)."""
  cap_dim, cap_shape = topography.cap_dim, topography.cap_shape
  matrix = np.zeros((seq_len, cap_dim, seq_len, cap_dim), np.float32)
  positions = np.arange(cap_dim).reshape(cap_shape)
  times, caps = np.meshgrid(np.arange(seq_len), np.arange(cap_dim), indexing="ij")
  for d, *e in topography.offsets:
    # source[c] = the position c + e, circular along every capsule axis.
    source = np.roll(positions, tuple(-x for x in e), axis=tuple(range(len(cap_shape)))).ravel()
    np.add.at(matrix, (times, caps, (times + d) % seq_len, source[caps]), 1.0)
  matrix.setflags(write=False)
  return matrix


def shifted_sum(offsets, axes, grid):
  """Σ over offsets (d, *e) of grid[t + d, c + e], circular along `axes` (time, positions)."""
  pooled = jnp.zeros_like(grid)
  for offset in offsets:
    # out[t, c] = in[t + d, c + e] is a roll by -d, -e.
    pooled = pooled + jnp.roll(grid, tuple(-x for x in offset), axis=axes)
  return pooled
