"""Evolution strategies as a second outer loop (`train.estimator='es'`): evosax's OpenAI-ES.

The search distribution is an isotropic Gaussian over the flattened meta-parameters (the same
pytree BPTT trains), sampled in antithetic pairs; evosax turns the population's fitness into
centered ranks and steps the distribution's mean with Adam (`train.es`). The mean is the trained
meta-parameters: the state keeps it as `params`, so checkpoints, evaluation and
meta_params.msgpack treat an ES run like a BPTT one.

Fitness is the meta-loss BPTT descends (`meta.sample_shard`, `tasks.base.mean_loss`), forward
only (no gradient, no remat). Every member of a generation runs the same batch of episodes and
synapse-state samples (common random numbers), vmapped over the population; evosax minimizes, so
the loss is what it is told, and the logged `fitness_*` values are minus the loss (higher is
better). The mean itself runs on that batch too: its loss and recall metrics are the logged
`loss`, `hidden_bit_accuracy`, ... (what BPTT logs for its parameters before the update). One
generation is one trainer step. Across devices (placed as BPTT's step is) each device runs every
member on its shard of the batch and the losses are averaged with `pmean`, so a generation does
not depend on the device count (up to float rounding; tests/train/test_es.py).
"""

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import run_with_keys
from learned_rules.tasks.base import Task, mean_loss, model_inputs
from learned_rules.train import meta, parallel

ESTIMATORS = ("bptt", "es")  # train.estimator: the outer loop


@flax.struct.dataclass
class ESState:
  step: jax.Array  # () int32 generations done
  params: Any  # the mean of the search distribution, as the meta-parameter pytree
  strategy: Any  # evosax Open_ES state: flat mean, sigma, Adam state, best so far, generation
  rng: jax.Array  # base key; generation t uses fold_in(rng, t), so the stream resumes exactly


def estimator(train_config) -> str:
  """train.estimator ('bptt' where a config predates the key)."""
  return train_config.get("estimator", "bptt")


def validate(train_config) -> None:
  """Checks train.estimator and, for 'es', the train.es block; ConfigError names the key."""
  name = estimator(train_config)
  if name not in ESTIMATORS:
    raise ConfigError(f"train.estimator={name!r}: expected one of {ESTIMATORS}.")
  if name != "es":
    return
  es = train_config.es
  size = es.population_size
  if not isinstance(size, int) or isinstance(size, bool) or size < 2 or size % 2:
    raise ConfigError(
      f"train.es.population_size={size!r}: must be an even integer >= 2 (antithetic pairs)."
    )
  for key in ("sigma", "learning_rate"):
    if not es[key] > 0:
      raise ConfigError(f"train.es.{key}={es[key]!r}: must be > 0.")
  if train_config.get("curriculum_threshold", 0.0) > 0:
    raise ConfigError(
      "train.curriculum_threshold: the load curriculum runs with train.estimator='bptt' only; "
      "set it to 0 for ES."
    )
  if train_config.unroll_window != 0:
    raise ConfigError(
      f"train.unroll_window={train_config.unroll_window}: truncation is a BPTT setting; ES runs "
      "whole episodes forward. Set it to 0 with train.estimator='es'."
    )


def make_strategy(es_config, solution):
  """evosax's Open_ES over `solution`'s pytree: antithetic, centered ranks, Adam, constant sigma.

  evosax is imported here, not at module level: importing it starts JAX's backend, which a
  multi-host run must initialize (jax.distributed) first, and BPTT runs never need it.
  """
  from evosax.algorithms import Open_ES
  from evosax.core.fitness_shaping import centered_rank_fitness_shaping_fn

  sigma = jnp.asarray(es_config.sigma, jnp.float32)
  return Open_ES(
    population_size=es_config.population_size,
    solution=solution,
    use_antithetic_sampling=True,
    optimizer=optax.adam(learning_rate=es_config.learning_rate),
    # An array, not a Python float: a weakly typed sigma in the state would retrace the step.
    std_schedule=lambda generation: sigma,
    fitness_shaping_fn=centered_rank_fitness_shaping_fn,
  )


def init_state(model, config) -> ESState:
  """Generation 0 on the host: the same initial meta-parameters and data key as BPTT's state."""
  key_params, key_data = jax.random.split(jax.random.PRNGKey(config.seed))
  params = model.init_params(key_params)
  strategy = make_strategy(config.train.es, params)
  state = ESState(
    step=jnp.zeros((), jnp.int32),
    params=params,
    strategy=strategy.init(key_params, params, strategy.default_params),
    rng=key_data,
  )
  # Host numpy: strongly typed leaves, as a restored checkpoint has (no retrace on resume).
  return jax.tree.map(lambda x: np.array(x), state)


def _all_finite(tree) -> jax.Array:
  return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]))


def make_generation_body(
  model, task: Task, config, strategy, axis_name=None, num_shards: int = 1, poison_step=-1
):
  """One generation as a pure function of the ESState: ask, evaluate, tell.

  The update is applied only when the mean's loss, the new mean and the new parameters are
  finite (metrics `finite_loss`, `finite_gradient`, `finite_parameters`, as BPTT's step reports);
  a non-finite member alone is ranked last by evosax and counted in `nonfinite_members`.
  `poison_step` >= 0 (tests only) makes that generation's losses NaN.
  """
  es_params = strategy.default_params

  def member_loss(params, synapse_keys, inputs, episodes):
    logits = run_with_keys(model, params, synapse_keys, inputs, remat=False)
    return mean_loss(task, logits, episodes), logits

  def generation(state: ESState):
    shard_index = 0 if axis_name is None else jax.lax.axis_index(axis_name)
    rng = jax.random.fold_in(state.rng, state.step)
    key_ask, key_data, key_tell = jax.random.split(rng, 3)
    population, strategy_state = strategy.ask(key_ask, state.strategy, es_params)
    episodes, synapse_keys = meta.sample_shard(task, config, key_data, shard_index, num_shards)
    inputs = model_inputs(task, model, episodes)
    # Common random numbers: one batch of episodes, the same for the mean and every member.
    mean_loss_value, mean_logits = member_loss(state.params, synapse_keys, inputs, episodes)
    losses, _ = jax.vmap(member_loss, in_axes=(0, None, None, None))(
      population, synapse_keys, inputs, episodes
    )
    if axis_name is not None:  # per-shard means of equal shards: their mean is the batch's
      mean_loss_value, losses = jax.lax.pmean((mean_loss_value, losses), axis_name)
    if poison_step >= 0:  # test hook: poison one generation's losses
      poison = jnp.where(state.step + 1 == poison_step, jnp.nan, 1.0)
      mean_loss_value, losses = mean_loss_value * poison, losses * poison
    new_strategy, _ = strategy.tell(key_tell, population, losses, strategy_state, es_params)
    params = strategy.get_mean(new_strategy)
    update = new_strategy.mean - state.strategy.mean
    finite = {
      "loss": jnp.isfinite(mean_loss_value),
      "gradient": jnp.all(jnp.isfinite(update)),
      "parameters": _all_finite(params),
    }
    ok = finite["loss"] & finite["gradient"] & finite["parameters"]
    keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, old)
    metrics = {
      "loss": mean_loss_value,
      **meta.summarize_batch(mean_logits, episodes, task, axis_name),
      "fitness_mean": -jnp.mean(losses),
      "fitness_best": -jnp.min(losses),
      "fitness_spread": jnp.std(losses),
      "nonfinite_members": jnp.sum(~jnp.isfinite(losses)).astype(jnp.float32),
      "update_norm": jnp.linalg.norm(update),
      "sigma": new_strategy.std,
    }
    for name in meta.NONFINITE_QUANTITIES:
      metrics[f"finite_{name}"] = finite[name].astype(jnp.float32)
    new_state = state.replace(
      step=state.step + 1,
      params=keep(params, state.params),
      strategy=keep(new_strategy, state.strategy),
    )
    return new_state, metrics

  return generation


def make_parallel_train_step(model, task: Task, config, devices, poison_step: int = -1):
  """One generation over `devices` (state donated, one trace), as BPTT's meta-step is.

  Takes and returns a replicated ESState (`parallel.replicate`) and per-device metrics. Several
  devices: pmap. One device: a jit of a vmap over the 1-long axis, the state first put on that
  device, so the step compiles once however `parallel.replicate` placed it.
  """
  strategy = make_strategy(config.train.es, model.init_params(jax.random.PRNGKey(0)))
  body = make_generation_body(
    model, task, config, strategy, parallel.AXIS, parallel.num_shards(devices), poison_step
  )
  if len(devices) == 1 and jax.process_count() == 1:
    return parallel.compile_step(body, devices, jax.sharding.SingleDeviceSharding(devices[0]))
  return parallel.compile_step(body, devices)
