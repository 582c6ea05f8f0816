"""Held-out evaluation of any rule on a fixed stream of episodes, next to the oracle."""

import jax
import jax.numpy as jnp

from learned_rules import metrics
from learned_rules.tasks.remember import RememberTask
from learned_rules.train.meta import run_batch

ORACLE = "oracle"  # nearest stored pattern to the cue: the task's ceiling on these episodes


def evaluate(
  network,
  params,
  task: RememberTask,
  seed: int,
  num_episodes: int,
  batch_size: int,
  num_synapses: int = 0,
  num_state_floats: int = 0,
  num_patterns: int | None = None,
) -> dict:
  """Metrics of `network` (None: the oracle) on episodes fixed by `seed`, identical across rules.

  Every episode has `num_patterns` active patterns (default: all `task.config.k_max` slots).
  """
  k = task.config.k_max if num_patterns is None else num_patterns

  @jax.jit
  def batch_counts(rng):
    key_task, key_synapses = jax.random.split(rng)
    episodes = task.sample_batch(key_task, batch_size, k, k)
    if network is None:
      logits = episodes.oracle_targets
    else:
      logits = run_batch(network, params, key_synapses, episodes, remat=False)
    counts = jax.vmap(metrics.recall_counts, (0, 0, None))(logits, episodes, task.target_bits)
    return jax.tree.map(jnp.sum, counts)

  base = jax.random.PRNGKey(seed)
  totals = None
  num_batches = -(-num_episodes // batch_size)
  for index in range(num_batches):
    counts = batch_counts(jax.random.fold_in(base, index))
    totals = counts if totals is None else jax.tree.map(jnp.add, totals, counts)
  return metrics.summarize(totals, num_synapses, num_state_floats)
