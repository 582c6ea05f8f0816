"""Held-out evaluation of any model on a fixed stream of episodes, next to the task's oracle.

`accumulate` is the one batch loop every evaluation-like measurement uses (this module's
`evaluate`, the memory-location probe): batch b of a stream fixed by `seed` comes from
`fold_in(PRNGKey(seed), b)`, so every rule sees the same episodes.
"""

import jax
import jax.numpy as jnp

from learned_rules import rules
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import run_batch
from learned_rules.tasks.base import Task, model_inputs

ORACLE = "oracle"  # the task's ceiling on these episodes (remember: the nearest stored pattern)


def validate(config, task: Task) -> None:
  """Checks the `eval` block; ConfigError names the key."""
  for key in ("num_episodes", "batch_size"):
    value = config[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
      raise ConfigError(f"eval.{key}={value!r}: must be a positive integer.")
  for name in config.baselines:
    if name not in rules.RULES:
      raise ConfigError(f"eval.baselines has {name!r}: expected names from {rules.RULES.names}.")
  if config.k != -1:
    task.check_load(config.k, "eval.k")


def batch_keys(seed: int, num_episodes: int, batch_size: int) -> list:
  """The key of every batch of the stream fixed by `seed`: ceil(num_episodes / batch) of them."""
  base = jax.random.PRNGKey(seed)
  return [jax.random.fold_in(base, index) for index in range(-(-num_episodes // batch_size))]


def accumulate(batch_counts, seed: int, num_episodes: int, batch_size: int) -> dict:
  """Sums `batch_counts(key)` (a dict of summed counts) over ceil(num_episodes / batch) batches."""
  totals = None
  for key in batch_keys(seed, num_episodes, batch_size):
    counts = batch_counts(key)
    totals = counts if totals is None else jax.tree.map(jnp.add, totals, counts)
  return totals


def sample_episodes(task: Task, rng, batch_size: int, num_patterns: int):
  """The batch of episodes `evaluate` runs for the batch key `rng` (its task half)."""
  key_task, _ = jax.random.split(rng)
  return task.sample_batch(key_task, batch_size, num_patterns, num_patterns)


def episodes(task: Task, seed: int, num_episodes: int, batch_size: int, num_patterns=None):
  """Yields, on the host, every batch of episodes that `evaluate` scores with these arguments."""
  k = task.load_range[1] if num_patterns is None else num_patterns
  sample = jax.jit(lambda rng: sample_episodes(task, rng, batch_size, k))
  for key in batch_keys(seed, num_episodes, batch_size):
    yield jax.device_get(sample(key))


def summed_counts(task: Task, logits, episodes) -> dict:
  """Recall counts of a batch, summed over its episodes."""
  return jax.tree.map(jnp.sum, jax.vmap(task.recall_counts)(logits, episodes))


def evaluate(
  model,
  params,
  task: Task,
  seed: int,
  num_episodes: int,
  batch_size: int,
  num_synapses: int = 0,
  num_state_floats: int = 0,
  num_patterns: int | None = None,
  reference: str = ORACLE,
) -> dict:
  """Metrics of `model` on episodes fixed by `seed`, identical across models.

  `model` None scores the task's reference answer `reference` (`task.references()`: the oracle,
  or another such as a floor) instead. Every episode stores `num_patterns` items (default: the
  task's largest load, every slot used).
  """
  k = task.load_range[1] if num_patterns is None else num_patterns
  answer = task.references()[reference] if model is None else None

  @jax.jit
  def batch_counts(rng):
    batch = sample_episodes(task, rng, batch_size, k)
    if model is None:
      logits = jax.vmap(answer)(batch)
    else:
      inputs = model_inputs(task, model, batch)
      key_synapses = jax.random.split(rng)[1]
      logits = run_batch(model, params, key_synapses, inputs, remat=False)
    return summed_counts(task, logits, batch)

  totals = accumulate(batch_counts, seed, num_episodes, batch_size)
  return task.summarize(totals, num_synapses, num_state_floats)
