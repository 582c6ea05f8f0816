"""Training and evaluation of the Topographic VAE: `train_and_evaluate(config, workdir)`.

Writes to the workdir: config.json, metrics.jsonl, TensorBoard events, eval.json and the pictures
traversals.png, reconstructions.png and samples.png.
"""

import functools
import math
import os
import time
from typing import Any

import chex
import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging

from learned_rules import writers
from learned_rules.tvae import data as data_lib
from learned_rules.tvae import figures
from learned_rules.tvae import metrics as metrics_lib
from learned_rules.tvae import model as model_lib
from learned_rules.tvae import topography as topo_lib

DIGIT_DATASETS = ("mnist", "fashion_mnist", "synthetic")
DSPRITES_DATASETS = ("dsprites", "dsprites_procedural")
OPTIMIZERS = ("sgd", "adam")


@flax.struct.dataclass
class TrainState:
  step: jnp.ndarray
  params: Any
  opt_state: Any


def validate_config(config) -> None:
  """Fails with a message naming the offending key."""
  datasets = DIGIT_DATASETS + DSPRITES_DATASETS
  if config.data.dataset not in datasets:
    raise ValueError(f"config.data.dataset={config.data.dataset!r}: expected one of {datasets}")
  if config.optimizer not in OPTIMIZERS:
    raise ValueError(f"config.optimizer={config.optimizer!r}: expected one of {OPTIMIZERS}")
  if config.model.variant not in topo_lib.VARIANTS:
    raise ValueError(
      f"config.model.variant={config.model.variant!r}: expected one of {topo_lib.VARIANTS}"
    )
  positive = {
    "config.data.seq_len": config.data.seq_len,
    "config.batch_size": config.batch_size,
    "config.model.n_caps": config.model.n_caps,
    "config.model.cap_dim": config.model.cap_dim,
    "config.model.time_window": config.model.time_window,
    "config.is_samples": config.is_samples,
    "config.log_every": config.log_every,
    "config.eval_size": config.eval_size,
    "config.learning_rate": config.learning_rate,
  }
  for key, value in positive.items():
    if not value > 0:
      raise ValueError(f"{key}={value}: must be positive")
  if config.model.time_window > config.data.seq_len:
    raise ValueError(
      f"config.model.time_window={config.model.time_window} exceeds "
      f"config.data.seq_len={config.data.seq_len}"
    )
  if config.data.dataset in DIGIT_DATASETS:
    data_lib.check_transforms(config.data.transforms)
    data_lib.check_transforms(config.data.eval_transforms)


class SequenceSource:
  """Base items on the host and the JAX function that turns a batch of them into sequences."""

  def __init__(self, config):
    data = config.data
    self.seq_len = data.seq_len
    self.table = None
    if data.dataset in DIGIT_DATASETS:
      load = functools.partial(
        data_lib.load_digits, data.dataset, data.data_dir, synthetic_size=data.synthetic_size
      )
      self.train_items, self.eval_items = load("train"), load("test")
      self.frame_shape = (*self.train_items.shape[1:], 3)
      self.kind = "digits"
      self.train_transforms = data_lib.check_transforms(data.transforms)
      self.eval_transforms = data_lib.check_transforms(data.eval_transforms)
    else:
      items = data_lib.dsprite_base_items()
      rng = np.random.default_rng(config.seed + 1)
      self.train_items = items
      self.eval_items = items[rng.permutation(len(items))]
      self.frame_shape = (64, 64, 1)
      self.kind = "dsprites"
      if data.dataset == "dsprites":
        self.table = jnp.asarray(data_lib.load_dsprites_table(data.data_dir))
    if data.train_size > 0:
      self.train_items = self.train_items[: data.train_size]
    self.eval_items = self.eval_items[: config.eval_size]
    self.n_pixels = int(np.prod(self.frame_shape))

  def sequences(self, key, items, table, evaluation: bool = False):
    """(B, S, P) frames and their factors."""
    if self.kind == "digits":
      transforms = self.eval_transforms if evaluation else self.train_transforms
      frames, factors = data_lib.digit_sequences(key, items, self.seq_len, transforms)
    else:
      frames, factors = data_lib.dsprite_sequences(key, items, self.seq_len, table)
    return frames.reshape(*frames.shape[:2], -1), factors


def make_model(config, n_pixels: int) -> model_lib.TopographicVAE:
  m = config.model
  topography = topo_lib.make_topography(m.variant, m.n_caps, m.cap_dim, m.time_window, m.cap_window)
  return model_lib.TopographicVAE(topography, n_pixels, m.mu_init)


def make_optimizer(config) -> optax.GradientTransformation:
  if config.optimizer == "sgd":
    return optax.sgd(config.learning_rate, momentum=config.momentum)
  return optax.adam(config.learning_rate)


def make_train_step(model, optimizer, source: SequenceSource):
  """The jitted step: build sequences from base items in JAX, one optimizer update."""

  def train_step(state: TrainState, items, table, key):
    key_data, key_noise = jax.random.split(key)
    x, _ = source.sequences(key_data, items, table)
    grad_fn = jax.value_and_grad(model_lib.negative_elbo, has_aux=True)
    (_, aux), grads = grad_fn(state.params, model, x, key_noise)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    aux = dict(aux, grad_norm=optax.tree.norm(grads))
    return TrainState(step=state.step + 1, params=params, opt_state=opt_state), aux

  # One trace per run: every batch has the same shapes (the epoch drops its remainder). The
  # counter is global, so it restarts for each run made in the same process.
  chex.clear_trace_counter()
  return jax.jit(chex.assert_max_traces(train_step, n=1), donate_argnums=(0,))


def make_eval_fns(model, n_samples: int):
  """Jitted per-batch evaluation: IS log-likelihood, negative ELBO and one sampled t."""

  @jax.jit
  def evaluate_batch(params, x, key):
    key_is, key_elbo, key_t = jax.random.split(key, 3)
    log_likelihood = metrics_lib.importance_log_likelihood(params, model, x, key_is, n_samples)
    neg_elbo, _ = model_lib.negative_elbo(params, model, x, key_elbo)
    t = figures.sampled_t(params, model, x, key_t)
    return jnp.mean(log_likelihood), neg_elbo, t

  return evaluate_batch


def evaluate(params, model, eval_fn, eval_x, eval_factors, config) -> dict[str, float]:
  """Test metrics on the fixed evaluation sequences."""
  topo = model.topography
  log_likelihoods, neg_elbos, ts = [], [], []
  key = jax.random.PRNGKey(config.seed + 2)
  batch = config.eval_batch_size
  for start in range(0, eval_x.shape[0], batch):
    key, sub = jax.random.split(key)
    ll, ne, t = eval_fn(params, eval_x[start : start + batch], sub)
    weight = min(batch, eval_x.shape[0] - start)
    log_likelihoods.append(float(ll) * weight)
    neg_elbos.append(float(ne) * weight)
    ts.append(np.asarray(t))
  n = eval_x.shape[0]
  t = np.concatenate(ts)
  if topo.variant == "tvae_2d":
    capsules = None  # S = 1: there are no frame pairs to compare
  else:
    capsules = t.reshape(n, t.shape[1], topo.n_caps, topo.cap_dim)
  result = {
    "log_likelihood": sum(log_likelihoods) / n,
    "neg_elbo": sum(neg_elbos) / n,
  }
  if capsules is not None:
    result["equivariance_error"] = float(np.mean(metrics_lib.equivariance_error(capsules)))
    if eval_factors is not None and "moving" in eval_factors:
      capcorr = metrics_lib.capsule_correlation(
        capsules, eval_factors["moving"], eval_factors["value"], data_lib.DSPRITES_MOVING
      )
      result.update({f"capcorr_{k}": v for k, v in capcorr.items()})
      finite = [v for v in capcorr.values() if math.isfinite(v)]
      result["capcorr_mean"] = float(np.mean(finite)) if finite else float("nan")
  return result


def train_and_evaluate(config, workdir: str) -> dict[str, float]:
  """Trains one TVAE variant, evaluating every `eval_every_epochs` epochs and at the end."""
  validate_config(config)
  os.makedirs(workdir, exist_ok=True)
  writer = writers.MetricWriter(workdir, config)
  source = SequenceSource(config)
  model = make_model(config, source.n_pixels)
  optimizer = make_optimizer(config)

  key = jax.random.PRNGKey(config.seed)
  key, init_key = jax.random.split(key)
  params = model_lib.init_params(init_key, model, config.data.seq_len)
  state = TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=optimizer.init(params))
  logging.info("TVAE %s: %d parameters", config.model.variant, model_lib.count_params(params))

  steps_per_epoch = len(source.train_items) // config.batch_size
  if steps_per_epoch == 0:
    raise ValueError(
      f"config.batch_size={config.batch_size} exceeds the {len(source.train_items)} training items"
    )
  total_steps = config.num_epochs * steps_per_epoch
  if config.max_steps > 0:
    total_steps = min(total_steps, config.max_steps)

  build_eval = jax.jit(functools.partial(source.sequences, evaluation=True))
  eval_x, eval_factors = build_eval(
    jax.random.PRNGKey(config.seed + 3), jnp.asarray(source.eval_items), source.table
  )
  eval_factors = jax.tree_util.tree_map(np.asarray, eval_factors)
  eval_fn = make_eval_fns(model, config.is_samples)
  train_step = make_train_step(model, optimizer, source)
  progress = writers.ProgressLine(total_steps)
  chance = None
  if config.model.variant != "tvae_2d":
    chance = metrics_lib.chance_equivariance_error(
      config.model.n_caps, config.model.cap_dim, config.data.seq_len
    )

  def run_eval(step):
    result = evaluate(state.params, model, eval_fn, eval_x, eval_factors, config)
    writer.scalars(step, {k: v for k, v in result.items() if math.isfinite(v)}, prefix="test/")
    logging.info("eval at step %d: %s", step, {k: round(v, 4) for k, v in result.items()})
    return result

  rng = np.random.default_rng(config.seed)
  start_time = time.time()
  pending = []
  step, epoch = 0, 0
  result = {}
  while step < total_steps:
    order = rng.permutation(len(source.train_items))
    for i in range(steps_per_epoch):
      if step >= total_steps:
        break
      items = jnp.asarray(
        source.train_items[order[i * config.batch_size : (i + 1) * config.batch_size]]
      )
      key, step_key = jax.random.split(key)
      state, aux = train_step(state, items, source.table, step_key)
      pending.append(aux)
      step += 1
      if step % config.log_every == 0 or step == total_steps:
        means = {k: float(np.mean([float(a[k]) for a in pending])) for k in pending[0]}
        pending = []
        if not all(math.isfinite(v) for v in means.values()):
          raise FloatingPointError(f"non-finite loss or gradient at step {step}: {means}")
        means["epoch"] = step / steps_per_epoch
        writer.scalars(step, means, prefix="train/")
        progress(step, means)
    epoch += 1
    if (
      config.eval_every_epochs > 0 and epoch % config.eval_every_epochs == 0 and step < total_steps
    ):
      run_eval(step)

  result = run_eval(step)
  picture_x = eval_x[: config.num_picture_sequences]
  paths = figures.write_pictures(
    writer, step, state.params, model, picture_x, source.frame_shape, key, workdir
  )
  if "mu" in state.params["params"]:
    result["mu"] = float(state.params["params"]["mu"])
  if chance is not None:
    result["equivariance_error_chance"] = float(chance)
  payload = dict(
    result,
    variant=config.model.variant,
    dataset=config.data.dataset,
    steps=step,
    epochs=step / steps_per_epoch,
    train_items=len(source.train_items),
    eval_sequences=int(eval_x.shape[0]),
    is_samples=config.is_samples,
    train_seconds=time.time() - start_time,
    pictures=[os.path.basename(p) for p in paths],
  )
  writers.write_json(os.path.join(workdir, "eval.json"), payload)
  writer.flush()
  writer.close()
  return payload
