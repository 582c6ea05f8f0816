"""The meta-objective and one jitted meta-step. Knows networks and tasks, not which rule runs.

Episode stream: step t uses `fold_in(rng, t)`; from that key the whole batch's episode keys and
loads are drawn first and only then split into shards, so the episodes of a step are the same on
one device or on many (`sample_shard`).

Load curriculum (`train.curriculum_threshold` > 0, a recipe choice of ours): episodes draw their
load from [k_min, top load]; the top load starts at k_min and rises by one, up to k_max, each time
a running mean of the batch's hidden-bit accuracy passes the threshold (the mean restarts at 0
after each rise). It lives in the TrainState, so a resumed run continues it exactly.
"""

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax

from learned_rules.common.errors import ConfigError
from learned_rules.common.tracing import trace_guard
from learned_rules.dynamics import run_with_keys
from learned_rules.tasks.base import Task, mean_loss, model_inputs

NONFINITE_QUANTITIES = ("loss", "gradient", "parameters")  # the order a non-finite guard names


@flax.struct.dataclass
class TrainState:
  step: jax.Array  # () int32 meta-steps taken
  params: Any  # meta-parameters
  opt_state: Any
  rng: jax.Array  # base key; step t uses fold_in(rng, t), so the data stream resumes exactly
  curriculum: jax.Array  # (2,) float32: the top training load and its running accuracy


def make_optimizer(train_config) -> optax.GradientTransformation:
  """Adam with global-norm clipping and warm-up then cosine (to 10%) or constant schedule."""
  peak = train_config.learning_rate
  warmup = max(int(train_config.warmup_steps), 1)
  if train_config.schedule == "cosine":
    decay = optax.cosine_decay_schedule(peak, max(train_config.num_steps - warmup, 1), alpha=0.1)
  else:
    decay = optax.constant_schedule(peak)
  schedule = optax.join_schedules([optax.linear_schedule(0.0, peak, warmup), decay], [warmup])
  return optax.chain(
    optax.clip_by_global_norm(train_config.grad_clip_norm), optax.adam(learning_rate=schedule)
  )


CURRICULUM_DECAY = 0.8  # weight of the old value in the curriculum's running accuracy


def curriculum_enabled(train_config) -> bool:
  threshold = train_config.get("curriculum_threshold", 0.0)
  if not 0.0 <= threshold < 1.0:
    raise ConfigError(
      f"train.curriculum_threshold={threshold!r}: must be in [0, 1) (0: no curriculum)."
    )
  return threshold > 0.0


def initial_curriculum(task: Task, train_config) -> jax.Array:
  """[top load, running accuracy] at step 0: k_min with a curriculum, else k_max (inert)."""
  load_min, load_max = task.load_range
  return jnp.array([load_min if curriculum_enabled(train_config) else load_max, 0.0], jnp.float32)


def next_curriculum(curriculum, accuracy, threshold: float, load_max: int) -> jax.Array:
  """One step of the load curriculum: update the running accuracy; rise when it passes."""
  top, running = curriculum[0], curriculum[1]
  running = CURRICULUM_DECAY * running + (1.0 - CURRICULUM_DECAY) * accuracy
  rise = (running > threshold) & (top < load_max)
  return jnp.stack([top + rise, jnp.where(rise, 0.0, running)])


def sample_shard(task: Task, config, rng, shard_index=0, num_shards: int = 1, top_load=None):
  """This shard's slice of the step's batch: (episodes, synapse keys), independent of sharding.

  Keys and loads are drawn for the whole batch (the same draws as `task.sample_batch`), then
  sliced, so shard s of n holds episodes [s B/n, (s+1) B/n) of the one-device batch. A traced
  `top_load` (the curriculum's) replaces the task's k_max as the largest load drawn.
  """
  batch_size = config.train.batch_size
  local = batch_size // num_shards
  key_task, key_synapses = jax.random.split(rng)
  key_k, key_eps = jax.random.split(key_task)
  load_min, load_max = task.load_range
  if top_load is not None:
    load_max = top_load.astype(jnp.int32)
  loads = jax.random.randint(key_k, (batch_size,), load_min, load_max + 1)
  episode_keys = jax.random.split(key_eps, batch_size)
  synapse_keys = jax.random.split(key_synapses, batch_size)
  start = shard_index * local
  take = lambda x: jax.lax.dynamic_slice_in_dim(x, start, local)
  episodes = jax.vmap(task.sample)(take(episode_keys), take(loads))
  return episodes, take(synapse_keys)


def summarize_batch(logits, episodes, task: Task, axis_name=None) -> dict:
  """Training metrics of a (shard of a) batch; counts are summed over shards when sharded."""
  counts = jax.tree.map(jnp.sum, jax.vmap(task.recall_counts)(logits, episodes))
  if axis_name is not None:
    counts = jax.lax.psum(counts, axis_name)
  return task.batch_metrics(counts)


def remat_policy(model, train_config) -> bool | int:
  """The `remat` argument of `Network.run` from train.remat and train.remat_every."""
  every = train_config.remat_every
  if not isinstance(every, int) or isinstance(every, bool) or every < 1:
    raise ConfigError(f"train.remat_every={every!r}: must be an integer >= 1.")
  if every > 1 and not hasattr(model, "run"):
    raise ConfigError(
      f"train.remat_every={every}: saving the state every k steps needs a Network; "
      f"{type(model).__name__} has none. Use train.remat_every=1."
    )
  if not train_config.remat:
    return False
  return True if every == 1 else every


def make_loss_fn(network, task: Task, config, shard_index=0, num_shards: int = 1):
  """loss(params, rng) -> (mean task loss over this shard of a fresh batch, metrics)."""
  remat = remat_policy(network, config.train)

  def loss_fn(params, rng):
    episodes, synapse_keys = sample_shard(task, config, rng, shard_index, num_shards)
    inputs = model_inputs(task, network, episodes)
    logits = run_with_keys(network, params, synapse_keys, inputs, remat)
    loss = mean_loss(task, logits, episodes)
    return loss, {"loss": loss, **summarize_batch(logits, episodes, task)}

  return loss_fn


def make_grad_fn(network, task: Task, config, axis_name=None, num_shards: int = 1):
  """grad_fn(params, rng, curriculum) -> ((loss, metrics), grads) of this device's shard.

  Full BPTT unless 0 < train.unroll_window < episode length, then truncated BPTT
  (`truncated.py`). Under `pmap` (axis_name given) the shard is `lax.axis_index(axis_name)`;
  loss and gradients are per-shard means (the step averages them with `pmean`) and the
  accuracy metrics are already summed over all shards. With a load curriculum the metrics also
  hold the next `curriculum_load` and `curriculum_score`, computed from those global metrics
  (so every device agrees); `make_step_body` stores them in the state.
  """
  from learned_rules.train import truncated

  window = config.train.unroll_window
  use_truncated = 0 < window < task.length
  if use_truncated and not hasattr(network, "run"):
    raise ConfigError(
      f"train.unroll_window={window}: truncated BPTT needs a model with init_state/run "
      f"(a Network); {type(network).__name__} has none. Use train.unroll_window=0."
    )
  remat = remat_policy(network, config.train)
  use_curriculum = curriculum_enabled(config.train)

  def grad_fn(params, rng, curriculum=None):
    shard_index = 0 if axis_name is None else jax.lax.axis_index(axis_name)
    top_load = curriculum[0] if use_curriculum and curriculum is not None else None
    episodes, synapse_keys = sample_shard(task, config, rng, shard_index, num_shards, top_load)
    inputs = model_inputs(task, network, episodes)
    if use_truncated:
      (loss, logits), grads = truncated.value_and_grad(
        network, task, params, synapse_keys, inputs, episodes, window, remat
      )
    else:

      def loss_of(p):
        logits = run_with_keys(network, p, synapse_keys, inputs, remat)
        return mean_loss(task, logits, episodes), logits

      (loss, logits), grads = jax.value_and_grad(loss_of, has_aux=True)(params)
    step_metrics = {"loss": loss, **summarize_batch(logits, episodes, task, axis_name)}
    if top_load is not None:
      updated = next_curriculum(
        curriculum,
        step_metrics["hidden_bit_accuracy"],
        config.train.curriculum_threshold,
        task.load_range[1],
      )
      step_metrics["curriculum_load"] = updated[0]
      step_metrics["curriculum_score"] = updated[1]
    return (loss, step_metrics), grads

  return grad_fn


def init_train_state(model, optimizer, seed: int, curriculum=None) -> TrainState:
  """`model` is anything with `init_params(rng)` and `run_episode` (a Network, or an LSTM).

  `curriculum`: `initial_curriculum(task, train_config)`; None (no curriculum) stores zeros.
  """
  key_params, key_data = jax.random.split(jax.random.PRNGKey(seed))
  params = model.init_params(key_params)
  return TrainState(
    step=jnp.zeros((), jnp.int32),
    params=params,
    opt_state=optimizer.init(params),
    rng=key_data,
    curriculum=jnp.zeros(2, jnp.float32) if curriculum is None else jnp.asarray(curriculum),
  )


def _all_finite(tree) -> jax.Array:
  leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]
  return jnp.all(jnp.stack(leaves)) if leaves else jnp.bool_(True)


def make_step_body(optimizer, loss_fn=None, grad_fn=None, axis_name=None, poison_step: int = -1):
  """The meta-step as a pure function; `make_train_step` jits it, `parallel` pmaps it.

  The update is applied only when loss, gradient and new parameters are all finite; otherwise
  the state keeps its parameters and optimizer state and only the step (the data-stream
  position) advances. Metrics `finite_<quantity>` (1.0 or 0.0) let the host stop or skip.
  `poison_step` >= 0 (tests only) turns that step's loss and gradient into NaN.
  """
  if grad_fn is None:
    value_and_grad = jax.value_and_grad(loss_fn, has_aux=True)
    grad_fn = lambda params, rng, curriculum: value_and_grad(params, rng)

  def train_step(state: TrainState):
    rng = jax.random.fold_in(state.rng, state.step)
    (loss, step_metrics), grads = grad_fn(state.params, rng, state.curriculum)
    if axis_name is not None:
      loss, grads = jax.lax.pmean((loss, grads), axis_name)
      step_metrics["loss"] = loss
    if poison_step >= 0:  # test hook: poison one step's loss and gradient
      poison = jnp.where(state.step + 1 == poison_step, jnp.nan, 1.0)
      loss = loss * poison
      step_metrics["loss"] = loss
      grads = jax.tree.map(lambda g: g * poison, grads)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    finite = {
      "loss": jnp.all(jnp.isfinite(loss)),
      "gradient": _all_finite(grads),
      "parameters": _all_finite(params),
    }
    ok = finite["loss"] & finite["gradient"] & finite["parameters"]
    keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, old)
    step_metrics["grad_norm"] = optax.tree.norm(grads)
    for name in NONFINITE_QUANTITIES:
      step_metrics[f"finite_{name}"] = finite[name].astype(jnp.float32)
    curriculum = state.curriculum
    if "curriculum_load" in step_metrics:
      curriculum = jnp.stack([step_metrics["curriculum_load"], step_metrics["curriculum_score"]])
    new_state = state.replace(
      step=state.step + 1,
      curriculum=curriculum,
      params=keep(params, state.params),
      opt_state=keep(opt_state, state.opt_state),
    )
    return new_state, step_metrics

  return train_step


def make_train_step(loss_fn, optimizer, max_traces: int = 1, grad_fn=None, poison_step: int = -1):
  """One meta-step on one device, jitted once with the state donated; a second trace raises."""
  body = make_step_body(optimizer, loss_fn, grad_fn, poison_step=poison_step)
  return jax.jit(trace_guard(body, max_traces), donate_argnums=(0,))
