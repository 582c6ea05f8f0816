"""Initialization against PyTorch's rule for the reference's layers; ε in t."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from learned_rules.tvae import model as model_lib
from learned_rules.tvae import topography as topo_lib

CHANNELS, SIDE = 3, 4  # frames of 3 x 4 x 4 = 48 pixels
N_CAPS, CAP_DIM = 3, 4  # D = 12


def torch_weight_bound(weight_shape):
  """PyTorch's default bound for a conv weight (and its bias): kaiming_uniform_(a=sqrt(5)) gives
  U(±1/sqrt(fan_in)), fan_in = weight.size(1) · prod(kernel) (`_calculate_fan_in_and_fan_out`)."""
  return 1.0 / math.sqrt(weight_shape[1] * math.prod(weight_shape[2:]))


def reference_layer_bounds(latent_dim, channels, side):
  """The bounds of the reference's MLP_Encoder / MLP_Decoder (tvae/models/mlp.py) layers, in
  order, from their PyTorch weight shapes: Conv2d (out, in, k, k), ConvTranspose2d (in, out, k,
  k)."""
  d = latent_dim
  encoder = [(3 * d, channels, side, side), (2 * d, 3 * d, 1, 1), (2 * d, 2 * d, 1, 1)]
  decoder = [(d, 2 * d, 1, 1), (2 * d, 3 * d, 1, 1), (3 * d, channels, side, side)]
  return [torch_weight_bound(s) for s in encoder], [torch_weight_bound(s) for s in decoder]


def layers(params, module):
  tree = params["params"][module]
  return [tree[f"TorchDense_{i}"]["Dense_0"] for i in range(3)]


@pytest.mark.parametrize("how", ["init_params", "model.init"])
def test_initialization_bounds_are_pytorchs_for_the_reference_layers(how):
  topo = topo_lib.make_topography("tvae", N_CAPS, CAP_DIM, 3, 3)
  model = model_lib.TopographicVAE(topo, n_pixels=CHANNELS * SIDE * SIDE)
  key = jax.random.PRNGKey(0)
  if how == "init_params":
    params = model_lib.init_params(key, model, seq_len=3)
  else:
    x = jnp.zeros((1, 3, model.n_pixels))
    noise = jnp.zeros((1, 3, topo.latent_dim))
    params = model.init(key, x, noise, noise)
  encoder_bounds, decoder_bounds = reference_layer_bounds(topo.latent_dim, CHANNELS, SIDE)
  # The decoder's ConvTranspose2d fan_in is its output width: 1/sqrt(2D), 1/sqrt(3D), 1/sqrt(P).
  np.testing.assert_allclose(
    decoder_bounds, [1 / math.sqrt(2 * 12), 1 / math.sqrt(3 * 12), 1 / math.sqrt(48)]
  )
  for module, bounds in (
    ("encoder_z", encoder_bounds),
    ("encoder_u", encoder_bounds),
    ("decoder", decoder_bounds),
  ):
    for layer, bound in zip(layers(params, module), bounds, strict=True):
      kernel, bias = np.abs(np.asarray(layer["kernel"])), np.abs(np.asarray(layer["bias"]))
      assert kernel.max() <= bound and bias.max() <= bound
      assert kernel.max() > 0.9 * bound, (module, kernel.shape)  # >= 288 draws per kernel


def test_epsilon_is_the_models_field():
  topo = topo_lib.make_topography("tvae", 1, 4, 1, 3)
  z = jnp.ones((1, 2, 4))
  u = jnp.zeros((1, 2, 4))  # W(u²) = 0: t = (z + μ) / sqrt(ε)
  for epsilon in (1e-6, 1e-3):
    model = model_lib.TopographicVAE(topo, n_pixels=5, mu_init=2.0, epsilon=epsilon)
    params = model_lib.init_params(jax.random.PRNGKey(0), model, seq_len=2)
    t = model.apply(params, z, u, method=model.to_t)
    np.testing.assert_allclose(t, 3.0 / math.sqrt(epsilon), rtol=1e-5)
  assert model_lib.TopographicVAE(topo, n_pixels=5).epsilon == 1e-6
