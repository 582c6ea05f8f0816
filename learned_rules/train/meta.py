"""The meta-objective and one jitted meta-step. Knows networks and tasks, not which rule runs."""

from typing import Any

import chex
import flax.struct
import jax
import jax.numpy as jnp
import optax

from learned_rules import metrics
from learned_rules.tasks.remember import RememberTask


@flax.struct.dataclass
class TrainState:
  step: jax.Array  # () int32 meta-steps taken
  params: Any  # meta-parameters
  opt_state: Any
  rng: jax.Array  # base key; step t uses fold_in(rng, t), so the data stream resumes exactly


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


def run_batch(network, params, rng, episodes, remat: bool):
  """Runs a batch of episodes (vmap), each with its own synapse-state sample."""
  keys = jax.random.split(rng, episodes.inputs.shape[0])
  run = lambda key, inputs, flags: network.run_episode(params, key, inputs, flags, remat)[0]
  return jax.vmap(run)(keys, episodes.inputs, episodes.store_flags)


def make_loss_fn(network, task: RememberTask, config):
  """loss(params, rng) -> (mean recall loss over a fresh batch, metrics)."""
  train = config.train

  def loss_fn(params, rng):
    key_task, key_synapses = jax.random.split(rng)
    episodes = task.sample_batch(key_task, train.batch_size, config.task.k_min, config.task.k_max)
    logits = run_batch(network, params, key_synapses, episodes, train.remat)
    loss = jnp.mean(jax.vmap(metrics.recall_loss)(logits, episodes))
    counts = jax.vmap(metrics.recall_counts, (0, 0, None))(logits, episodes, task.target_bits)
    counts = jax.tree.map(jnp.sum, counts)
    return loss, {
      "loss": loss,
      "hidden_bit_accuracy": counts["hidden_correct"] / jnp.maximum(counts["hidden_total"], 1.0),
      "bit_accuracy": counts["scored_correct"] / jnp.maximum(counts["scored_total"], 1.0),
    }

  return loss_fn


def init_train_state(model, optimizer, seed: int) -> TrainState:
  """`model` is anything with `init_params(rng)` and `run_episode` (a Network, or an LSTM)."""
  key_params, key_data = jax.random.split(jax.random.PRNGKey(seed))
  params = model.init_params(key_params)
  return TrainState(
    step=jnp.zeros((), jnp.int32), params=params, opt_state=optimizer.init(params), rng=key_data
  )


def make_train_step(loss_fn, optimizer, max_traces: int = 1):
  """One meta-step, jitted once with the state donated; a second trace raises."""

  @chex.assert_max_traces(n=max_traces)
  def train_step(state: TrainState):
    rng = jax.random.fold_in(state.rng, state.step)
    (_, step_metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, rng)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    step_metrics["grad_norm"] = optax.tree.norm(grads)
    new_state = state.replace(step=state.step + 1, params=params, opt_state=opt_state)
    return new_state, step_metrics

  return jax.jit(train_step, donate_argnums=(0,))
