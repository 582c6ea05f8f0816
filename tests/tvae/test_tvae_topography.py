"""W operators against a direct loop over the neighbourhood definition of the spec."""

import itertools

import numpy as np
import pytest

from learned_rules.common.errors import ConfigError
from learned_rules.tvae import topography as topo_lib


def direct_w(u_squared, variant, n_caps, cap_dim, time_window, cap_window):
  """W(u²) from the spec's definition, one output unit at a time. u_squared: (S, n_caps·cap_dim)."""
  seq_len = u_squared.shape[0]
  k_off = (cap_window - 1) // 2
  times = topo_lib.centered_window(time_window)
  out = np.zeros_like(u_squared)
  if variant == "tvae_2d":
    side = int(round(cap_dim**0.5))
    grid = u_squared.reshape(seq_len, n_caps, side, side)
    result = np.zeros_like(grid)
    for t, cap, i, j in itertools.product(range(seq_len), range(n_caps), range(side), range(side)):
      for a, b in itertools.product(range(-k_off, k_off + 1), repeat=2):
        result[t, cap, i, j] += grid[t, cap, (i + a) % side, (j + b) % side]
    return result.reshape(u_squared.shape)
  grid = u_squared.reshape(seq_len, n_caps, cap_dim)
  result = np.zeros_like(grid)
  for t, cap, c in itertools.product(range(seq_len), range(n_caps), range(cap_dim)):
    for d in times:
      for e in range(-k_off, k_off + 1):
        shift = d + e if variant == "tvae" else e  # the shifted band follows the time offset
        result[t, cap, c] += grid[(t + d) % seq_len, cap, (c + shift) % cap_dim]
  out = result.reshape(u_squared.shape)
  return out


@pytest.mark.parametrize(
  "variant,n_caps,cap_dim,seq_len,time_window,cap_window",
  [
    ("bubble", 3, 5, 6, 5, 3),  # stationary window
    ("tvae", 3, 5, 6, 1, 3),  # L = 0: capsule band within the frame
    ("tvae", 3, 5, 6, 3, 3),  # shifted band, short window
    ("tvae", 2, 6, 6, 4, 1),  # even window, K = 1 (dSprites-like)
    ("tvae", 2, 5, 5, 5, 3),  # window over the whole sequence (L = 1/2)
    ("tvae_2d", 2, 16, 1, 1, 3),  # torus
    ("tvae_2d", 1, 25, 1, 1, 5),  # torus with 5 x 5 neighbourhood
  ],
)
def test_w_matches_direct_loop(variant, n_caps, cap_dim, seq_len, time_window, cap_window):
  topo = topo_lib.make_topography(variant, n_caps, cap_dim, time_window, cap_window)
  rng = np.random.default_rng(0)
  u_squared = rng.uniform(size=(2, seq_len, n_caps * cap_dim)).astype(np.float32)
  got = np.asarray(topo_lib.apply_w(topo, u_squared))
  for b in range(2):
    want = direct_w(u_squared[b], variant, n_caps, cap_dim, time_window, cap_window)
    np.testing.assert_allclose(got[b], want, rtol=1e-5)


def test_shift_pairs_t_c_with_next_frame_next_position():
  """The unit at (t, c) shares variance with (t+1, c+1), not with (t+1, c-1)."""
  topo = topo_lib.make_topography("tvae", 1, 8, 3, 1)
  u_squared = np.zeros((1, 8, 8), np.float32)
  u_squared[0, 4, 5] = 1.0  # time 4, position 5
  pooled = np.asarray(topo_lib.apply_w(topo, u_squared))[0]
  assert pooled[3, 4] == 1.0 and pooled[4, 5] == 1.0 and pooled[5, 6] == 1.0
  assert pooled.sum() == 3.0


def test_vae_has_no_offsets_and_unknown_variant_fails():
  assert topo_lib.make_topography("vae", 2, 3, 1, 1).offsets == ()
  with pytest.raises(ConfigError, match="model.variant='tvea'"):
    topo_lib.make_topography("tvea", 2, 3, 1, 1)
  with pytest.raises(ConfigError, match="model.cap_window=2"):
    topo_lib.make_topography("tvae", 2, 3, 1, 2)
