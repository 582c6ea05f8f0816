"""Topographic organization of the capsule variables t by digit class.

In the spirit of the reference's class-selectivity map (`Plot_ClassActMap` in
github.com/akandykeller/TopographicVAE, tvae/utils/vis.py; own code): collect t of every frame of
test sequences, one sampled t per frame (the model has no deterministic path: t at u = u_mean blows
up, see figures.sampled_t), then per latent unit

- the mean activation per class (10 x units),
- the preferred class: argmax over classes of the unit's class means z-scored across classes,
- a selectivity score: d' = (mean_c - mean_rest) / sqrt((var_c + var_rest) / 2) of the preferred
  class against all other frames (the reference's statistic; it marks a unit as selective for a
  class when d' >= 0.85).

The units are laid out as the model reshapes t: (n_caps, *cap_shape), each capsule axis circular
(one axis of cap_dim units for the capsule models; an 18 x 18 torus for the 2-D TVAE).
`smoothness` is the fraction of neighbouring units along the capsule axes (circular, within a
capsule; averaged over the axes) whose preferred classes agree;
`shuffled_smoothness` is the same after permuting the units at random (the control: about
Σ_k p_k², p_k the fraction of units preferring class k).
"""

import json
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from learned_rules.common import checkpointing
from learned_rules.tvae import data as data_lib
from learned_rules.tvae import model as model_lib
from learned_rules.tvae import train

N_CLASSES = 10
DPRIME_THRESHOLD = 0.85  # the reference's threshold for calling a unit class-selective


# ------------------------------------------------------------------------------------ runs


def n_pixels_of(config) -> int:
  """Pixels per frame of the config's data, without loading it."""
  if config.data.dataset in train.DSPRITES_DATASETS:
    return 64 * 64
  return 28 * 28 * int(config.data.channels)


def load_config(workdir: str) -> ml_collections.ConfigDict:
  with open(os.path.join(workdir, "config.json")) as f:
    return ml_collections.ConfigDict(json.load(f))


def untrained_params(config, model=None):
  """The seed's initial parameters, drawn exactly as train.train_and_evaluate draws them."""
  if model is None:
    model = train.make_model(config, n_pixels_of(config))
  _, init_key = jax.random.split(jax.random.PRNGKey(config.seed))
  return model_lib.init_params(init_key, model, config.data.seq_len)


def restore_params(workdir: str):
  """(config, model, params) of the latest checkpoint in `workdir`, read only.

  Uses Checkpointer.restore_at (never restore_latest, which moves damaged checkpoints aside) on a
  manager opened with create=False: nothing in the workdir is written.
  """
  config = load_config(workdir)
  model = train.make_model(config, n_pixels_of(config))
  params = untrained_params(config, model)
  optimizer = train.make_optimizer(config)
  key, _ = jax.random.split(jax.random.PRNGKey(config.seed))
  template = train.checkpoint_record(
    train.TrainState(
      step=jnp.zeros((), jnp.int32), params=params, opt_state=optimizer.init(params), key=key
    ),
    0.0,
  )
  checkpointer = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"), create=False)
  try:
    step = checkpointer.latest_step()
    if step is None:
      raise FileNotFoundError(f"no checkpoint in {workdir}/checkpoints")
    restored, _ = checkpointer.restore_at(step, template)
  finally:
    checkpointer.close()
  return config, model, restored["train_state"].params


def load_labels(data_dir: str, split: str = "test") -> np.ndarray:
  """Digit labels (N,) of an MNIST-format split (the IDX labels file, optionally gzipped)."""
  name = data_lib.MNIST_FILES[split][1]
  path = data_lib._find(data_dir, name)  # noqa: SLF001 - the same lookup as the images
  if path is None:
    raise FileNotFoundError(f"{os.path.join(data_dir, name)}[.gz] not found")
  return data_lib.read_idx(path).astype(np.int64)


def sequence_maker(config):
  """(key, grey images (B, H, W)) -> evaluation sequences (B, S, P) of the config's transforms."""
  transforms = data_lib.check_transforms(config.data.eval_transforms, "data.eval_transforms")

  @jax.jit
  def make(key, images):
    frames, _ = data_lib.digit_sequences(
      key, images, config.data.seq_len, transforms, config.data.channels
    )
    return frames.reshape(*frames.shape[:2], -1)

  return make


# ------------------------------------------------------------------------------- statistics


def _t_fn(model):
  @jax.jit
  def t_of(params, x, key):
    noise_z, noise_u = model_lib.draw_noise(key, model, x)
    posterior = model.apply(params, x, method=model.encode)
    z, u = model_lib.reparameterize(posterior, noise_z, noise_u)
    return model.apply(params, z, u, method=model.to_t)

  return t_of


def class_map(
  params,
  model,
  images,
  labels,
  key,
  to_sequences=None,
  batch_size: int = 100,
  n_classes: int = N_CLASSES,
) -> dict:
  """Per-unit class statistics of t over every frame of `images`.

  images: sequences (N, S, P) (or frames (N, P), taken as sequences of one frame), or base images
    handed batch by batch to `to_sequences(key, batch) -> (B, S, P)`.
  labels: (N,) class of each sequence (every frame of a sequence shares it).
  key: fixes the sequences' transforms (with to_sequences) and the noise of the sampled t.

  Returns numpy arrays: class_means (n_classes, D), counts (n_classes,), preferred (D,),
  selectivity (D,) (d' of the preferred class), dprime (n_classes, D), reference_class (D,) (the
  class with the largest d' >= DPRIME_THRESHOLD, else -1, as the reference marks units), grid
  (n_caps, cap_dim).
  """
  labels = np.asarray(labels).astype(np.int64)
  if labels.shape[0] != len(images):
    raise ValueError(f"{len(images)} images but {labels.shape[0]} labels")
  topo = model.topography
  dim = topo.latent_dim
  t_of = _t_fn(model)
  sums = np.zeros((n_classes, dim))
  squares = np.zeros((n_classes, dim))
  counts = np.zeros(n_classes)
  key_data, key_noise = jax.random.split(key)
  for index, start in enumerate(range(0, len(images), batch_size)):
    batch = images[start : start + batch_size]
    if to_sequences is not None:
      x = to_sequences(jax.random.fold_in(key_data, index), jnp.asarray(batch))
    else:
      x = jnp.asarray(batch, jnp.float32)
      if x.ndim == 2:
        x = x[:, None]
    t = np.asarray(t_of(params, x, jax.random.fold_in(key_noise, index)), np.float64)
    frames = t.reshape(-1, dim)
    frame_labels = np.repeat(labels[start : start + batch_size], t.shape[1])
    one_hot = np.eye(n_classes)[frame_labels]  # (frames, classes)
    sums += one_hot.T @ frames
    squares += one_hot.T @ np.square(frames)
    counts += one_hot.sum(0)
  return statistics(sums, squares, counts, (topo.n_caps, *topo.cap_shape))


def statistics(sums, squares, counts, grid) -> dict:
  """class_map's statistics from per-class sums, sums of squares and frame counts."""
  present = counts > 0
  safe = np.maximum(counts, 1)[:, None]
  means = sums / safe
  variances = np.maximum(squares / safe - np.square(means), 0.0)
  total, total_sq, n = sums.sum(0), squares.sum(0), counts.sum()
  rest_n = np.maximum(n - counts, 1)[:, None]
  rest_means = (total - sums) / rest_n
  rest_var = np.maximum((total_sq - squares) / rest_n - np.square(rest_means), 0.0)
  dprime = (means - rest_means) / np.sqrt((variances + rest_var) / 2.0 + 1e-12)
  dprime[~present] = -np.inf
  # z-score each unit's class means across the classes present
  m = means[present]
  normalised = np.full_like(means, -np.inf)
  normalised[present] = (m - m.mean(0)) / (m.std(0) + 1e-12)
  preferred = np.argmax(normalised, axis=0)
  selectivity = dprime[preferred, np.arange(means.shape[1])]
  best = np.argmax(dprime, axis=0)
  reference_class = np.where(dprime[best, np.arange(means.shape[1])] >= DPRIME_THRESHOLD, best, -1)
  return {
    "class_means": means,
    "counts": counts,
    "normalised_means": normalised,
    "preferred": preferred,
    "selectivity": selectivity,
    "dprime": dprime,
    "reference_class": reference_class,
    "grid": tuple(grid),
  }


def smoothness(preferred, grid) -> float:
  """Fraction of circular neighbours (c, c + 1 mod the axis' length) within a capsule sharing a
  class, averaged over the capsule axes (grid: (n_caps, *cap_shape))."""
  classes = np.asarray(preferred).reshape(grid)
  axes = range(1, len(grid))
  return float(np.mean([np.mean(classes == np.roll(classes, -1, axis=a)) for a in axes]))


def image_grid(values, grid) -> np.ndarray:
  """Per-unit values as a 2-D picture: capsules stacked as rows (a 1-D capsule a row of units; a
  2-D capsule its own rows), so a torus is drawn as its square."""
  values = np.asarray(values).reshape(grid)
  if values.ndim == 2:
    return values
  n_caps, rows = grid[0], grid[1]
  return values.reshape(n_caps * rows, -1)


def shuffled_smoothness(preferred, grid, n_shuffles: int = 200, seed: int = 0) -> float:
  """`smoothness` averaged over random permutations of all units (the control)."""
  rng = np.random.default_rng(seed)
  flat = np.asarray(preferred).ravel()
  return float(np.mean([smoothness(rng.permutation(flat), grid) for _ in range(n_shuffles)]))


def summary(stats) -> dict:
  return {
    "mean_selectivity": float(np.mean(stats["selectivity"])),
    "selective_fraction": float(np.mean(stats["reference_class"] >= 0)),
    "smoothness": smoothness(stats["preferred"], stats["grid"]),
    "shuffled_smoothness": shuffled_smoothness(stats["preferred"], stats["grid"]),
  }


# ------------------------------------------------------------------------------------ plots


def plot_panels(panels, path: str, columns: int = 2, max_alpha_dprime: float = 2.0) -> str:
  """Draws each (title, stats) panel's capsule grid coloured by preferred class and saves a PNG.

  Rows are capsules, columns the circular capsule dimension; the colour is the preferred class
  (tab10, legend 0-9), the opacity min(1, d' / max_alpha_dprime) of its selectivity (units with
  d' <= 0 are white). The same opacity scale in every panel, so panels compare.
  """
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  from matplotlib.patches import Patch

  colours = plt.get_cmap("tab10")(np.arange(N_CLASSES))[:, :3]
  rows = -(-len(panels) // columns)
  fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.6 * rows + 0.6), squeeze=False)
  for ax in axes.ravel()[len(panels) :]:
    ax.axis("off")
  for ax, (title, stats) in zip(axes.ravel(), panels, strict=False):
    grid = tuple(stats["grid"])
    rgb = colours[image_grid(stats["preferred"], grid)]
    alpha = np.clip(image_grid(stats["selectivity"], grid) / max_alpha_dprime, 0.0, 1.0)
    image = alpha[..., None] * rgb + (1.0 - alpha[..., None])  # over white
    ax.imshow(image, interpolation="nearest", aspect="equal")
    s = summary(stats)
    ax.set_title(
      f"{title}\nd'={s['mean_selectivity']:.2f} nbr={s['smoothness']:.2f} "
      f"(shuf {s['shuffled_smoothness']:.2f})",
      fontsize=8,
    )
    torus = len(grid) == 3
    ax.set_xlabel("torus column" if torus else "capsule dimension (circular)", fontsize=7)
    ax.set_ylabel("torus row" if torus else "capsule", fontsize=7)
    ax.tick_params(labelsize=6)
  handles = [Patch(color=colours[k], label=str(k)) for k in range(N_CLASSES)]
  fig.legend(
    handles=handles, loc="lower center", ncol=N_CLASSES, fontsize=8, title="preferred digit"
  )
  fig.tight_layout(rect=(0, 0.07, 1, 1))
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, dpi=110)
  plt.close(fig)
  return path
