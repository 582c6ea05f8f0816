"""Training and evaluation of the Topographic VAE: `validate(config)`, `train_and_evaluate`.

Writes to the workdir: config.json, metrics.jsonl, TensorBoard events, checkpoints/, eval.json,
eval_per_sequence.npz (the final evaluation per test sequence, for paired comparisons) and the
pictures traversals.png, reconstructions.png and samples.png. A run resumes from the latest
checkpoint in its workdir (rerun the same command after a crash, Ctrl-C or SIGTERM): the batches
and the noise after the resume are those of an uninterrupted run, so are the final numbers.
"""

import datetime
import functools
import json
import math
import os
import platform
import time
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging

from learned_rules.common import checkpointing, signals, writers
from learned_rules.common.errors import ConfigError, UserError
from learned_rules.common.tracing import trace_guard
from learned_rules.tvae import data as data_lib
from learned_rules.tvae import figures
from learned_rules.tvae import metrics as metrics_lib
from learned_rules.tvae import model as model_lib
from learned_rules.tvae import topography as topo_lib

DIGIT_DATASETS = ("mnist", "fashion_mnist", "synthetic")
DSPRITES_DATASETS = ("dsprites", "dsprites_procedural")
OPTIMIZERS = ("sgd", "adam")


PER_SEQUENCE_FILE = "eval_per_sequence.npz"  # the final evaluation's per-sequence metrics


def machine_description() -> str:
  """CPU count and architecture, and the accelerator jax runs on."""
  device = jax.devices()[0]
  kind = getattr(device, "device_kind", device.platform)
  return f"{os.cpu_count()}-core {platform.machine()} host, jax {jax.__version__} on {kind}"


class NonFiniteError(UserError, FloatingPointError):
  """A NaN or Inf in the training loss or gradient; the message names the step."""


@flax.struct.dataclass
class TrainState:
  step: jnp.ndarray  # optimizer updates applied so far
  params: Any
  opt_state: Any
  key: jnp.ndarray  # the data-stream key: each step splits its own key off it


def validate(config) -> None:
  """Fails with a ConfigError naming the offending key; loads no data and compiles nothing."""
  datasets = DIGIT_DATASETS + DSPRITES_DATASETS
  if config.data.dataset not in datasets:
    raise ConfigError(f"data.dataset={config.data.dataset!r}: expected one of {datasets}")
  if config.optimizer not in OPTIMIZERS:
    raise ConfigError(f"optimizer={config.optimizer!r}: expected one of {OPTIMIZERS}")
  if config.model.get("w_method", "auto") not in topo_lib.W_METHODS:
    raise ConfigError(
      f"model.w_method={config.model.w_method!r}: expected one of {topo_lib.W_METHODS}"
    )
  if config.model.variant not in topo_lib.VARIANTS:
    raise ConfigError(
      f"model.variant={config.model.variant!r}: expected one of {topo_lib.VARIANTS}"
    )
  positive = {
    "data.seq_len": config.data.seq_len,
    "batch_size": config.batch_size,
    "model.n_caps": config.model.n_caps,
    "model.cap_dim": config.model.cap_dim,
    "model.time_window": config.model.time_window,
    "is_samples": config.is_samples,
    "log_every": config.log_every,
    "checkpoint_every": config.checkpoint_every,
    "eval_size": config.eval_size,
    "learning_rate": config.learning_rate,
  }
  for key, value in positive.items():
    if not value > 0:
      raise ConfigError(f"{key}={value!r}: must be positive")
  if config.model.time_window > config.data.seq_len:
    raise ConfigError(
      f"model.time_window={config.model.time_window} exceeds data.seq_len={config.data.seq_len}"
    )
  m = config.model
  topo_lib.make_topography(m.variant, m.n_caps, m.cap_dim, m.time_window, m.cap_window)
  if config.data.dataset in DIGIT_DATASETS:
    data_lib.check_transforms(config.data.transforms, "data.transforms", config.data.channels)
    data_lib.check_transforms(
      config.data.eval_transforms, "data.eval_transforms", config.data.channels
    )


class SequenceSource:
  """Base items on the host and the JAX function that turns a batch of them into sequences."""

  def __init__(self, config):
    data = config.data
    self.seq_len = data.seq_len
    self.time_shuffle = bool(data.get("time_shuffle", False))
    self.table = None
    if data.dataset in DIGIT_DATASETS:
      load = functools.partial(
        data_lib.load_digits, data.dataset, data.data_dir, synthetic_size=data.synthetic_size
      )
      self.train_items, self.eval_items = load("train"), load("test")
      self.frame_shape = (*self.train_items.shape[1:], data.channels)
      self.kind = "digits"
      self.train_transforms = data_lib.check_transforms(data.transforms, "data.transforms")
      self.eval_transforms = data_lib.check_transforms(data.eval_transforms, "data.eval_transforms")
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
    """(B, S, P) frames and their factors (training frames time-shuffled if data.time_shuffle;
    the factors then keep the unshuffled order, and evaluation sequences are never shuffled)."""
    if self.kind == "digits":
      transforms = self.eval_transforms if evaluation else self.train_transforms
      frames, factors = data_lib.digit_sequences(
        key, items, self.seq_len, transforms, self.frame_shape[-1]
      )
    else:
      frames, factors = data_lib.dsprite_sequences(key, items, self.seq_len, table)
    if self.time_shuffle and not evaluation:
      # A key folded off the data key: the unshuffled runs' random stream stays as it was.
      frames = data_lib.shuffle_time(jax.random.fold_in(key, 1), frames)
    return frames.reshape(*frames.shape[:2], -1), factors


def make_model(config, n_pixels: int) -> model_lib.TopographicVAE:
  m = config.model
  topography = topo_lib.make_topography(m.variant, m.n_caps, m.cap_dim, m.time_window, m.cap_window)
  return model_lib.TopographicVAE(
    topography, n_pixels, m.mu_init, m.epsilon, m.get("w_method", "auto")
  )


def make_optimizer(config) -> optax.GradientTransformation:
  if config.optimizer == "sgd":
    return optax.sgd(config.learning_rate, momentum=config.momentum)
  return optax.adam(config.learning_rate)


def make_train_step(model, optimizer, source: SequenceSource):
  """The jitted step: split the step's key, build sequences in JAX, one optimizer update."""

  def train_step(state: TrainState, items, table):
    key, step_key = jax.random.split(state.key)
    key_data, key_noise = jax.random.split(step_key)
    x, _ = source.sequences(key_data, items, table)
    grad_fn = jax.value_and_grad(model_lib.negative_elbo, has_aux=True)
    (_, aux), grads = grad_fn(state.params, model, x, key_noise)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    aux = dict(aux, grad_norm=optax.tree.norm(grads))
    return TrainState(step=state.step + 1, params=params, opt_state=opt_state, key=key), aux

  # One trace per run: every batch has the same shapes (the epoch drops its remainder).
  return jax.jit(trace_guard(train_step), donate_argnums=(0,))


def make_eval_fns(model, n_samples: int):
  """Jitted per-batch evaluation: per-sequence IS log-likelihood (mean over frames), negative
  ELBO, one sampled t and, for sequences of 2+ frames, the per-sequence pixel-space errors of
  `metrics.pixel_equivariance_errors` computed from that t."""
  topo = model.topography

  @jax.jit
  def evaluate_batch(params, x, key):
    key_is, key_elbo, key_t = jax.random.split(key, 3)
    log_likelihood = metrics_lib.importance_log_likelihood(params, model, x, key_is, n_samples)
    neg_elbo, _ = model_lib.negative_elbo(params, model, x, key_elbo)
    t = figures.sampled_t(params, model, x, key_t)
    pixel = {}
    if x.shape[1] > 1:
      decode = lambda t: jax.nn.sigmoid(model.apply(params, t, method=model.decode))
      pixel = metrics_lib.pixel_equivariance_errors(t, x, decode, topo.n_caps, topo.cap_shape)
    return jnp.mean(log_likelihood, axis=1), neg_elbo, t, pixel

  return evaluate_batch


def evaluate(params, model, eval_fn, eval_x, eval_factors, config):
  """Test metrics on the fixed evaluation sequences: (means, per-sequence arrays).

  The per-sequence arrays (log_likelihood, equivariance_error, pixel_*; each (n,)) let a trained
  model be compared with its untrained control sequence by sequence; `frame_sums` fingerprints
  the sequences so that such a pairing can be checked.
  """
  topo = model.topography
  neg_elbos, per_batch = [], []
  key = jax.random.PRNGKey(config.seed + 2)
  batch = config.eval_batch_size
  for start in range(0, eval_x.shape[0], batch):
    key, sub = jax.random.split(key)
    ll, ne, t, pixel = eval_fn(params, eval_x[start : start + batch], sub)
    weight = min(batch, eval_x.shape[0] - start)
    neg_elbos.append(float(ne) * weight)
    per_batch.append(dict(jax.tree_util.tree_map(np.asarray, pixel), log_likelihood=ll, t=t))
  n = eval_x.shape[0]
  per_sequence = {
    name: np.concatenate([np.asarray(b[name]) for b in per_batch]) for name in per_batch[0]
  }
  t = per_sequence.pop("t")
  per_sequence["frame_sums"] = np.asarray(jnp.sum(eval_x, axis=(1, 2)))
  if topo.variant == "tvae_2d":
    capsules = None  # S = 1: there are no frame pairs to compare
  else:
    capsules = t.reshape(n, t.shape[1], topo.n_caps, topo.cap_dim)
  result = {
    "log_likelihood": float(np.mean(per_sequence["log_likelihood"])),
    "neg_elbo": sum(neg_elbos) / n,
  }
  for name in ("pixel_equivariance_error", "pixel_static_error", "pixel_reconstruction_error"):
    if name in per_sequence:
      result[name] = float(np.mean(per_sequence[name]))
  if capsules is not None:
    per_sequence["equivariance_error"] = np.asarray(metrics_lib.equivariance_error(capsules))
    result["equivariance_error"] = float(np.mean(per_sequence["equivariance_error"]))
    if eval_factors is not None and "moving" in eval_factors:
      capcorr = metrics_lib.capsule_correlation(
        capsules, eval_factors["moving"], eval_factors["value"], data_lib.DSPRITES_MOVING
      )
      result.update({f"capcorr_{k}": v for k, v in capcorr.items()})
      finite = [v for v in capcorr.values() if math.isfinite(v)]
      result["capcorr_mean"] = float(np.mean(finite)) if finite else float("nan")
  return result, per_sequence


class EpochOrders:
  """Each epoch's shuffled item order: the (epoch + 1)-th permutation drawn from one generator.

  The permutations stay one sequential numpy stream (the order runs had before they could
  resume); a resumed run redraws the earlier epochs' permutations, which takes milliseconds.
  """

  def __init__(self, seed: int, num_items: int):
    self.seed, self.num_items = seed, num_items
    self._rng, self._epoch, self._order = np.random.default_rng(seed), -1, None

  def __call__(self, epoch: int) -> np.ndarray:
    if epoch < self._epoch:
      self._rng, self._epoch = np.random.default_rng(self.seed), -1
    while self._epoch < epoch:
      self._order = self._rng.permutation(self.num_items)
      self._epoch += 1
    return self._order


def checkpoint_record(state: TrainState, train_seconds: float) -> dict:
  """What a checkpoint holds: the train state and the seconds spent so far (for eval.json)."""
  return {"train_state": state, "train_seconds": np.asarray(train_seconds, np.float32)}


def settle(pending: list, last_step: int, checkpointer) -> list[dict]:
  """Per-step metrics as host floats; NonFiniteError naming the first step with a NaN or Inf."""
  records = [{k: float(v) for k, v in aux.items()} for aux in pending]
  for offset, record in enumerate(records):
    if not all(math.isfinite(v) for v in record.values()):
      step = last_step - len(records) + 1 + offset
      saved = checkpointer.latest_step()
      where = "no checkpoint yet" if saved is None else f"the last checkpoint is step {saved}"
      raise NonFiniteError(
        f"non-finite loss or gradient at step {step}: {record}; {where} "
        f"(in {checkpointer.directory}). Lower learning_rate or change the seed."
      )
  return records


def has_record(path: str, step: int, key: str) -> bool:
  """Whether the JSON-lines file holds a record of `step` with `key` (an eval already logged)."""
  if not os.path.exists(path):
    return False
  with open(path) as f:
    for line in f:
      try:
        record = json.loads(line)
      except ValueError:
        continue
      if record.get("step") == step and key in record:
        return True
  return False


def train_and_evaluate(config, workdir: str, **options) -> dict:
  """Trains one TVAE variant (resuming from the workdir), evaluating every `eval_every_epochs`.

  Returns the eval.json payload, or {'interrupted': signal name, 'step': n} when SIGINT or
  SIGTERM stopped it after saving a checkpoint. `options` are the entry point's per-system
  options; the TVAE takes none.
  """
  validate(config)
  if options:
    logging.warning("tvae: ignoring options %s", sorted(options))
  os.makedirs(workdir, exist_ok=True)
  source = SequenceSource(config)
  steps_per_epoch = len(source.train_items) // config.batch_size
  if steps_per_epoch == 0:
    raise ConfigError(
      f"batch_size={config.batch_size} exceeds the {len(source.train_items)} training items"
    )
  total_steps = config.num_epochs * steps_per_epoch
  if config.max_steps > 0:
    total_steps = min(total_steps, config.max_steps)
  model = make_model(config, source.n_pixels)
  optimizer = make_optimizer(config)

  key, init_key = jax.random.split(jax.random.PRNGKey(config.seed))
  params = model_lib.init_params(init_key, model, config.data.seq_len)
  state = TrainState(
    step=jnp.zeros((), jnp.int32), params=params, opt_state=optimizer.init(params), key=key
  )
  logging.info("TVAE %s: %d parameters", config.model.variant, model_lib.count_params(params))

  build_eval = jax.jit(functools.partial(source.sequences, evaluation=True))
  eval_x, eval_factors = build_eval(
    jax.random.PRNGKey(config.seed + 3), jnp.asarray(source.eval_items), source.table
  )
  eval_factors = jax.tree_util.tree_map(np.asarray, eval_factors)
  eval_fn = make_eval_fns(model, config.is_samples)
  train_step = make_train_step(model, optimizer, source)
  orders = EpochOrders(config.seed, len(source.train_items))
  chance = None
  if config.model.variant != "tvae_2d":
    chance = metrics_lib.chance_equivariance_error(
      config.model.n_caps, config.model.cap_dim, config.data.seq_len
    )

  metrics_path = os.path.join(workdir, "metrics.jsonl")
  checkpointer = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"))
  writer = None
  try:
    restored, step = checkpointer.restore_latest(checkpoint_record(state, 0.0))
    if restored is None:
      step, previous_seconds = 0, 0.0
    else:
      state, previous_seconds = restored["train_state"], float(restored["train_seconds"])
      logging.info("resuming from the checkpoint of step %d in %s", step, workdir)
      writers.drop_records_after(metrics_path, step)
      if step > total_steps:
        logging.warning(
          "the checkpoint is at step %d, past this config's %d steps: evaluating it as it is",
          step,
          total_steps,
        )
    writer = writers.MetricWriter(workdir, config)
    progress = writers.ProgressLine(total_steps, step)
    start_time = time.time()
    seconds = lambda: previous_seconds + time.time() - start_time

    def run_eval(step, log=True):
      result, per_sequence = evaluate(state.params, model, eval_fn, eval_x, eval_factors, config)
      if log:
        finite = {k: v for k, v in result.items() if math.isfinite(v)}
        writer.scalars(step, finite, prefix="test/")
      logging.info("eval at step %d: %s", step, {k: round(v, 4) for k, v in result.items()})
      return result, per_sequence

    pending = []
    stop = signals.StopRequest()
    with stop.installed():
      while step < total_steps:  # `step` counts the updates applied
        epoch, position = divmod(step, steps_per_epoch)
        batch = orders(epoch)[position * config.batch_size : (position + 1) * config.batch_size]
        state, aux = train_step(state, jnp.asarray(source.train_items[batch]), source.table)
        pending.append(aux)
        step += 1
        if step % config.log_every == 0 or step == total_steps:
          records = settle(pending, step, checkpointer)
          means = {k: float(np.mean([r[k] for r in records])) for k in records[0]}
          pending = []
          means["epoch"] = step / steps_per_epoch
          writer.scalars(step, means, prefix="train/")
          progress(step, means)
        every = config.eval_every_epochs
        if every > 0 and step % (every * steps_per_epoch) == 0 and step < total_steps:
          run_eval(step)
        # After the step's logs and eval, so a resume from this checkpoint redoes none of them.
        if step % config.checkpoint_every == 0 or step == total_steps or stop.signal_name:
          settle(pending, step, checkpointer)
          checkpointer.save(step, checkpoint_record(state, seconds()))
        if stop.signal_name:
          logging.warning(
            "stopped by %s at step %d; checkpoint saved. Rerun the same command to resume.",
            stop.signal_name,
            step,
          )
          return {"interrupted": stop.signal_name, "step": step}

    loop_seconds = seconds()
    # Rerunning a finished run rewrites eval.json without logging its final eval twice.
    result, per_sequence = run_eval(
      step, log=not has_record(metrics_path, step, "test/log_likelihood")
    )
    np.savez(os.path.join(workdir, PER_SEQUENCE_FILE), **per_sequence)
    picture_x = eval_x[: config.num_picture_sequences]
    paths = figures.write_pictures(
      writer, step, state.params, model, picture_x, source.frame_shape, state.key, workdir
    )
    eval_seconds = seconds() - loop_seconds
  finally:
    if writer is not None:
      writer.close()
    checkpointer.close()
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
    train_seconds=loop_seconds,  # training (and in-run evaluations), summed over resumes
    eval_seconds=eval_seconds,  # this final evaluation and its pictures
    evaluated_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    machine=machine_description(),  # of the process that wrote this file
    budget={"num_epochs": config.num_epochs, "max_steps": config.max_steps},
    time_shuffle=source.time_shuffle,
    eval_transforms=config.data.get("eval_transforms") if source.kind == "digits" else None,
    per_sequence=PER_SEQUENCE_FILE,
    pictures=[os.path.basename(p) for p in paths],
  )
  writers.write_json(os.path.join(workdir, "eval.json"), payload)
  return payload
