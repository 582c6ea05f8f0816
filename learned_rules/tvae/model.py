"""Topographic VAE: two Gaussian encoders, t = (z + μ) / sqrt(W(u²) + ε), Bernoulli decoder.

Shapes: a batch of sequences x is (B, S, P) with P = C·H·W pixels in [0, 1]; latents are (B, S, D).
"""

import math

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from learned_rules.tvae import topography as topo_lib

EPSILON = 1e-6  # added to W(u²) before the square root (the reference's dSprites L=0 uses 1e-3)
PROB_CLIP = 1.2e-7  # Bernoulli probabilities are clipped to [PROB_CLIP, 1 - PROB_CLIP]
LOG_2PI = math.log(2.0 * math.pi)


def _torch_uniform(fan_in: int):
  """PyTorch's default conv/linear init: U(±1/sqrt(fan_in)) for weights and biases alike."""
  bound = 1.0 / math.sqrt(fan_in)

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  return init


def torch_fan_in(kernel_shape, transposed: bool) -> int:
  """PyTorch's fan_in of one of the reference's layers, written as a (in, out) Dense kernel.

  The reference's MLPs (tvae/models/mlp.py) are convolutions on 1 x 1 maps. Encoder: Conv2d,
  whose weight (out, in, k, k) gives fan_in = in_channels · k² = the Dense input width.
  Decoder: ConvTranspose2d, whose weight is stored (in, out, k, k), and PyTorch's
  `_calculate_fan_in_and_fan_out` reads dim 1: fan_in = out_channels · k² = the Dense output width
  (2D, 3D and C·H·W for the three decoder layers).
  """
  return kernel_shape[1] if transposed else kernel_shape[0]


class TorchDense(nn.Module):
  """nn.Dense with PyTorch's default initialization of a Conv2d, or of a ConvTranspose2d."""

  features: int
  transposed: bool = False  # ConvTranspose2d's fan_in (the output width), see torch_fan_in

  @nn.compact
  def __call__(self, x):
    init = _torch_uniform(torch_fan_in((x.shape[-1], self.features), self.transposed))
    return nn.Dense(self.features, kernel_init=init, bias_init=init)(x)


class GaussianEncoder(nn.Module):
  """P -> 3D -> 2D -> (mean, log-variance) of a D-dimensional diagonal Gaussian."""

  latent_dim: int

  @nn.compact
  def __call__(self, x):
    h = nn.relu(TorchDense(3 * self.latent_dim)(x))
    h = nn.relu(TorchDense(2 * self.latent_dim)(h))
    h = TorchDense(2 * self.latent_dim)(h)
    mean, log_var = jnp.split(h, 2, axis=-1)
    return mean, log_var


class BernoulliDecoder(nn.Module):
  """D -> 2D -> 3D -> P logits, initialized as the reference's ConvTranspose2d layers."""

  latent_dim: int
  n_pixels: int

  @nn.compact
  def __call__(self, t):
    h = nn.relu(TorchDense(2 * self.latent_dim, transposed=True)(t))
    h = nn.relu(TorchDense(3 * self.latent_dim, transposed=True)(h))
    return TorchDense(self.n_pixels, transposed=True)(h)


class TopographicVAE(nn.Module):
  """Encoders q(z|x), q(u|x), the learnable scalar μ and the decoder p(x|t)."""

  topography: topo_lib.Topography
  n_pixels: int
  mu_init: float = 30.0
  epsilon: float = EPSILON  # t = (z + μ) / sqrt(W(u²) + epsilon)
  w_method: str = "auto"  # how W(u²) is computed (topography.apply_w): the same sum either way

  def setup(self):
    dim = self.topography.latent_dim
    self.encoder_z = GaussianEncoder(dim)
    if self.topography.uses_u:
      self.encoder_u = GaussianEncoder(dim)
      self.mu = self.param("mu", nn.initializers.constant(self.mu_init), ())
    self.decoder = BernoulliDecoder(dim, self.n_pixels)

  def encode(self, x):
    """Per-frame posterior parameters {z_mean, z_log_var, u_mean, u_log_var}."""
    z_mean, z_log_var = self.encoder_z(x)
    posterior = {"z_mean": z_mean, "z_log_var": z_log_var}
    if self.topography.uses_u:
      posterior["u_mean"], posterior["u_log_var"] = self.encoder_u(x)
    return posterior

  def to_t(self, z, u):
    """The topographic variable for latents of shape (..., S, D)."""
    if not self.topography.uses_u:
      return z
    variance = topo_lib.apply_w(self.topography, jnp.square(u), self.w_method)
    return (z + self.mu) / jnp.sqrt(variance + self.epsilon)

  def decode(self, t):
    return self.decoder(t)

  def __call__(self, x, noise_z, noise_u):
    posterior = self.encode(x)
    z, u = reparameterize(posterior, noise_z, noise_u)
    t = self.to_t(z, u)
    return posterior, z, u, t, self.decode(t)


def reparameterize(posterior, noise_z, noise_u):
  """One sample of z and u (u is None for the VAE)."""
  z = posterior["z_mean"] + jnp.exp(0.5 * posterior["z_log_var"]) * noise_z
  u = None
  if "u_mean" in posterior:
    u = posterior["u_mean"] + jnp.exp(0.5 * posterior["u_log_var"]) * noise_u
  return z, u


def bernoulli_log_likelihood(logits, x):
  """Σ over pixels of x log p + (1 - x) log(1 - p), p = clip(sigmoid(logits)): minus the BCE."""
  probs = jnp.clip(jax.nn.sigmoid(logits), PROB_CLIP, 1.0 - PROB_CLIP)
  return jnp.sum(x * jnp.log(probs) + (1.0 - x) * jnp.log1p(-probs), axis=-1)


def gaussian_kl(mean, log_var):
  """KL(N(mean, exp(log_var)) || N(0, I)), summed over the last axis."""
  return 0.5 * jnp.sum(jnp.square(mean) + jnp.exp(log_var) - 1.0 - log_var, axis=-1)


def gaussian_log_prob(x, mean, log_var):
  """log N(x; mean, exp(log_var)), summed over the last axis."""
  return -0.5 * jnp.sum(LOG_2PI + log_var + jnp.square(x - mean) * jnp.exp(-log_var), axis=-1)


def draw_noise(key, model: TopographicVAE, x):
  """Standard-normal noise for z and u of a batch x of shape (..., S, P)."""
  shape = (*x.shape[:-1], model.topography.latent_dim)
  key_z, key_u = jax.random.split(key)
  return jax.random.normal(key_z, shape), jax.random.normal(key_u, shape)


def negative_elbo(params, model: TopographicVAE, x, key):
  """Per-frame negative ELBO (Σ BCE + KL_z + KL_u) / (B·S) and its parts, for x of (B, S, P)."""
  chex.assert_rank(x, 3)
  noise_z, noise_u = draw_noise(key, model, x)
  posterior, _, _, _, logits = model.apply(params, x, noise_z, noise_u)
  n_frames = x.shape[0] * x.shape[1]
  reconstruction = -jnp.sum(bernoulli_log_likelihood(logits, x)) / n_frames
  kl_z = jnp.sum(gaussian_kl(posterior["z_mean"], posterior["z_log_var"])) / n_frames
  kl_u = jnp.zeros(())
  if "u_mean" in posterior:
    kl_u = jnp.sum(gaussian_kl(posterior["u_mean"], posterior["u_log_var"])) / n_frames
  loss = reconstruction + kl_z + kl_u
  return loss, {"loss": loss, "bce": reconstruction, "kl_z": kl_z, "kl_u": kl_u}


def init_params(key, model: TopographicVAE, seq_len: int):
  """Parameters for sequences of length seq_len, initialized as PyTorch initializes the
  reference's layers (encoder Conv2d, decoder ConvTranspose2d: see torch_fan_in).

  Same distribution as `model.init` (the TorchDense initializers) but drawn with numpy on the
  host from a seed taken from `key`: compiling the init graph costs seconds on CPU.
  """
  x = jnp.zeros((1, seq_len, model.n_pixels))
  noise = jnp.zeros((1, seq_len, model.topography.latent_dim))
  shapes = jax.eval_shape(model.init, key, x, noise, noise)
  rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())

  def fill(tree, transposed=False):
    if "kernel" in tree:  # one Dense layer: weights and bias share the bound 1/sqrt(fan_in)
      bound = 1.0 / math.sqrt(torch_fan_in(tree["kernel"].shape, transposed))
      return {
        name: jnp.asarray(rng.uniform(-bound, bound, leaf.shape), leaf.dtype)
        for name, leaf in tree.items()
      }
    return {
      # Every layer under the `decoder` submodule is one of the reference's ConvTranspose2d.
      name: fill(sub, transposed or name == "decoder") if isinstance(sub, dict) else sub
      for name, sub in tree.items()
    }

  params = fill(shapes)
  if model.topography.uses_u:
    params["params"]["mu"] = jnp.asarray(model.mu_init, jnp.float32)
  return params


def count_params(params) -> int:
  return int(sum(np.prod(p.shape) for p in jax.tree_util.tree_leaves(params)))
