"""Fixed 0/1 neighbourhood operators W that pool u² into the topographic variance of t.

Every variant is a list of offsets. For a sequence of u² with shape (S, n_caps, *cap_shape),
`W(u²)[t, cap, c] = Σ_(d, e) u²[(t + d) mod S, cap, (c + e) mod cap_shape]` over the variant's
offsets (d, e), circular in time and in capsule position; capsules never mix.
"""

import dataclasses
import itertools
import math

import jax.numpy as jnp

from learned_rules.common.errors import ConfigError

VARIANTS = ("vae", "bubble", "tvae", "tvae_2d")


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
      'tvae' (shifted band: |e - d| <= K_off, so (t, c) pools with (t+1, c+1), ...; time_window=1
      is TVAE L=0), 'tvae_2d' (one sqrt(cap_dim) x sqrt(cap_dim) torus per capsule, a
      cap_window x cap_window circular neighbourhood, no time pooling).
    n_caps: number of capsules.
    cap_dim: units per capsule.
    time_window: number of time offsets L (centred around 0).
    cap_window: capsule band width K (odd); K_off = (K - 1) // 2.
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
  if variant == "tvae":
    offsets = tuple((d, d + e) for d in times for e in caps)
    return Topography(variant, n_caps, (cap_dim,), offsets)
  side = int(round(cap_dim**0.5))
  if side * side != cap_dim:
    raise ConfigError(f"model.cap_dim={cap_dim}: the 2-D torus needs a square number")
  offsets = tuple((0, a, b) for a, b in itertools.product(caps, caps))
  return Topography(variant, n_caps, (side, side), offsets)


def apply_w(topography: Topography, u_squared: jnp.ndarray) -> jnp.ndarray:
  """W(u²) for u² of shape (..., S, D); returns the same shape."""
  *lead, seq_len, dim = u_squared.shape
  if dim != topography.latent_dim:
    raise ValueError(f"u² has {dim} units, the topography {topography.latent_dim}")
  grid = u_squared.reshape(*lead, seq_len, topography.n_caps, *topography.cap_shape)
  time_axis = len(lead)
  cap_axes = tuple(range(time_axis + 2, grid.ndim))
  pooled = jnp.zeros_like(grid)
  for d, *e in topography.offsets:
    # out[t, c] = in[t + d, c + e] is a roll by -d, -e.
    shifts = (-d, *(-x for x in e))
    pooled = pooled + jnp.roll(grid, shifts, axis=(time_axis, *cap_axes))
  return pooled.reshape(u_squared.shape)
