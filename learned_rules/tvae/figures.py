"""Pictures: capsule traversals, sequence reconstructions and prior samples (2-D torus)."""

import os

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules.tvae import model as model_lib


def tile(images: np.ndarray, pad: int = 1) -> np.ndarray:
  """(rows, cols, H, W, C) -> one (rows·(H+pad), cols·(W+pad), C) image with white gaps."""
  rows, cols, height, width, channels = images.shape
  canvas = np.ones((rows * (height + pad), cols * (width + pad), channels), np.float32)
  for r in range(rows):
    for c in range(cols):
      y, x = r * (height + pad), c * (width + pad)
      canvas[y : y + height, x : x + width] = images[r, c]
  return canvas


def save_png(path: str, image: np.ndarray) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  image = np.clip(np.asarray(image, np.float32), 0.0, 1.0)
  if image.shape[-1] == 1:
    plt.imsave(path, image[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
  else:
    plt.imsave(path, image)


def sampled_t(params, model, x, key):
  """t from one reparameterized sample of z and u, for x of shape (B, S, P).

  Not the posterior mean: q(u|x) stays close to the prior, so u_mean ≈ 0 and W(u_mean²) ≈ 0 would
  blow t up; t is only meaningful for sampled u (E[u²] is not E[u]²).
  """
  noise_z, noise_u = model_lib.draw_noise(key, model, x)
  return model.apply(params, x, noise_z, noise_u)[3]


def capsule_traversals(params, model, x, key):
  """Rolls t of each sequence's first frame along capsule position and decodes: (B, K, P)."""
  t = sampled_t(params, model, x, key)
  topo = model.topography
  t0 = t[:, 0].reshape(t.shape[0], topo.n_caps, *topo.cap_shape)
  steps = topo.cap_shape[-1]
  rolled = jnp.stack([jnp.roll(t0, k, axis=-1) for k in range(steps)], axis=1)
  rolled = rolled.reshape(t.shape[0], steps, topo.latent_dim)
  return jax.nn.sigmoid(model.apply(params, rolled, method=model.decode))


def reconstructions(params, model, x, key):
  """Decoded sampled t of every frame: (B, S, P)."""
  t = sampled_t(params, model, x, key)
  return jax.nn.sigmoid(model.apply(params, t, method=model.decode))


def prior_samples(params, model, key, n: int, seq_len: int):
  """Decodes z, u ~ N(0, I): (n, S, P)."""
  key_z, key_u = jax.random.split(key)
  shape = (n, seq_len, model.topography.latent_dim)
  z, u = jax.random.normal(key_z, shape), jax.random.normal(key_u, shape)
  t = model.apply(params, z, u if model.topography.uses_u else None, method=model.to_t)
  return jax.nn.sigmoid(model.apply(params, t, method=model.decode))


def write_pictures(writer, step, params, model, x, frame_shape, key, workdir) -> list[str]:
  """Saves traversals.png, reconstructions.png and samples.png; logs them to TensorBoard."""
  as_frames = lambda a: np.asarray(a).reshape(*a.shape[:2], *frame_shape)
  seq_len = x.shape[1]
  n_samples, sample_len = (64, 1) if seq_len == 1 else (4, seq_len)

  @jax.jit
  def decode_all(params, x, key):  # one compile for all three pictures
    key_t, key_prior = jax.random.split(key)
    return (
      capsule_traversals(params, model, x, key_t),
      reconstructions(params, model, x, key_t),
      prior_samples(params, model, key_prior, n_samples, sample_len),
    )

  traversals, recon, samples = decode_all(params, x, key)
  pictures = {"traversals": tile(as_frames(traversals))}
  recon, originals, samples = as_frames(recon), as_frames(x), as_frames(samples)
  pairs = np.stack([originals, recon], axis=1).reshape(-1, *recon.shape[1:])
  pictures["reconstructions"] = tile(pairs)
  if seq_len == 1:  # the 2-D torus model: an 8 x 8 grid of independent samples
    samples = samples.reshape(8, 8, *frame_shape)
  pictures["samples"] = tile(samples)
  paths = []
  for name, image in pictures.items():
    path = os.path.join(workdir, f"{name}.png")
    save_png(path, image)
    writer.image(step, f"pictures/{name}", image)
    paths.append(path)
  return paths


def read_png(path: str) -> np.ndarray:
  """An (H, W, 3) float image in [0, 1] from a PNG written by `save_png`."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  image = np.asarray(plt.imread(path), np.float32)
  if image.ndim == 2:
    image = np.repeat(image[..., None], 3, axis=-1)
  return image[..., :3]


def stack_pictures(images: list[np.ndarray], gap: int = 6, gap_value: float = 0.5) -> np.ndarray:
  """Images (H_i, W_i, 3) one above the other, separated by grey bands, padded white to one
  width: a trained model's picture above its untrained control's."""
  width = max(image.shape[1] for image in images)
  parts = []
  for index, image in enumerate(images):
    if index:
      parts.append(np.full((gap, width, 3), gap_value, np.float32))
    padded = np.ones((image.shape[0], width, 3), np.float32)
    padded[:, : image.shape[1]] = image
    parts.append(padded)
  return np.concatenate(parts, axis=0)


def save_small_png(path: str, image: np.ndarray) -> None:
  """An (H, W, 3) image in [0, 1] as a 256-colour palette PNG: a few tens of KB where the
  untrained models' noise takes hundreds as RGB (the pictures linked from RESULTS_TVAE.md)."""
  from PIL import Image

  pixels = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
  palette = Image.fromarray(pixels).convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
  palette.save(path, optimize=True)
