"""Where memory lives: wipe one part of the network's state after storage and measure recall.

After storage and the delay, at the first recall step, the run is cut in two (not right after
the last store step: the Storkey and delta rules write a pattern one step after its presentation,
so at that moment the last pattern still sits in the neurons; with delay Q = 0 it still does).
Between the halves the synapse states are replaced by a fresh episode-start sample, or the neuron
states by their episode-start value (zeros), or both. Recall that survives a synapse reset was
carried by the neurons, and vice versa. Reported per condition: the usual metrics; and the
fraction of the stored information that each part carries on its own: synapses =
I(neurons reset) / I(intact), neurons = I(synapses reset) / I(intact), with
I = K * bits * (1 - H2(error)) from the hidden-bit error pooled over all episodes.
The two need not sum to 1 (redundant or jointly-held memory).

Layered nets also get one condition per synapse layer (`reset_layer_<i>`: only the synapses of
projection i, e.g. input->hidden0, replaced by the fresh sample) and, per layer, the fraction of
the stored information lost when that layer alone is reset: 1 - I(layer i reset) / I(intact).
"""

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules import evaluation, metrics
from learned_rules.tasks.base import Task, model_inputs

CONDITIONS = ("intact", "reset_synapses", "reset_neurons", "reset_both")


def split_step(task: Task) -> int:
  """Where the probe cuts: the task's first step after storage (remember: the first recall)."""
  return task.probe_split_step()


def synapse_layers(topology) -> list[tuple[str, np.ndarray]]:
  """(name 'pre->post', [post, pre] 0/1 mask) per projection of a layered net; [] otherwise."""
  if topology.name != "layered":
    return []
  layers = []
  for pre, post in zip(topology.groups, topology.groups[1:], strict=False):
    mask = np.zeros_like(topology.mask)
    rows, cols = topology.group_slice(post.name), topology.group_slice(pre.name)
    mask[rows, cols] = topology.mask[rows, cols]
    layers.append((f"{pre.name}->{post.name}", mask))
  return layers


def reset_layer(network, state, fresh, layer: int):
  """`state` with the synapses of projection `layer` taken from `fresh`."""
  mask = jnp.asarray(synapse_layers(network.topology)[layer][1])[..., None] > 0
  dense = jnp.where(
    mask,
    network.dense_synapse_state(fresh.synapse_state),
    network.dense_synapse_state(state.synapse_state),
  )
  return state.replace(synapse_state=network.from_dense_synapse_state(dense))


def run_with_reset(network, params, rng, external, split: int, condition: str):
  """One episode with the named part of the state replaced at step `split`; returns logits."""
  key_init, key_fresh = jax.random.split(rng)
  state = network.init_state(params, key_init)
  mid, first = network.run(params, state, external[:split], remat=False)
  fresh = network.init_state(params, key_fresh)
  if getattr(network, "neuron_reset_step", None) is not None:  # the task's own reset, always
    mid = network.reset_neurons(params, mid)
  if condition.startswith("reset_layer_"):
    mid = reset_layer(network, mid, fresh, int(condition[len("reset_layer_") :]))
  if condition in ("reset_synapses", "reset_both"):
    mid = mid.replace(synapse_state=fresh.synapse_state)
  if condition in ("reset_neurons", "reset_both"):
    mid = mid.replace(neuron_state=fresh.neuron_state)
  _, second = network.run(params, mid, external[split:], remat=False)
  return jnp.concatenate([first, second], axis=0)


def pooled_information(accuracy: float, num_patterns: int, target_bits: int) -> float:
  """K * bits * (1 - H2(e)) from the error rate pooled over all episodes (capped at 0.5).

  Pooling avoids the per-episode estimate's positive bias at chance (a few lucky bits in one
  episode count as information), which matters when a part holds nothing.
  """
  error = min(1.0 - accuracy, 0.5)
  return float(num_patterns * target_bits * (1.0 - metrics.binary_entropy(error)))


# Below this much information in the intact network, "what fraction each part carries" is
# undefined: dividing chance-level noise by chance-level noise gives arbitrary numbers.
MIN_INTACT_INFORMATION_BITS = 1.0


def information_fractions(intact: float, reset_neurons: float, reset_synapses: float):
  """(in synapses, in neurons): information left after each reset over the intact amount.

  None for both when the intact network itself holds less than MIN_INTACT_INFORMATION_BITS.
  """
  if intact < MIN_INTACT_INFORMATION_BITS:
    return None, None
  return reset_neurons / intact, reset_synapses / intact


def memory_location(
  network,
  params,
  task: Task,
  seed: int,
  num_episodes: int,
  batch_size: int,
  num_patterns: int | None = None,
) -> dict:
  """Metrics per condition on episodes fixed by `seed`, and the two fractions.

  `num_patterns`: K active patterns (default task.k_max, every slot used).
  """
  split = split_step(task)
  k = task.load_range[1] if num_patterns is None else num_patterns

  def counts_fn(condition):
    @jax.jit
    def batch_counts(rng):
      key_task, key_run = jax.random.split(rng)
      episodes = task.sample_batch(key_task, batch_size, k, k)
      keys = jax.random.split(key_run, batch_size)
      run = lambda key, x: run_with_reset(network, params, key, x, split, condition)
      logits = jax.vmap(run)(keys, model_inputs(task, network, episodes))
      return evaluation.summed_counts(task, logits, episodes)

    return batch_counts

  layers = synapse_layers(network.topology)
  report = {}
  for condition in CONDITIONS + tuple(f"reset_layer_{i}" for i in range(len(layers))):
    totals = evaluation.accumulate(counts_fn(condition), seed, num_episodes, batch_size)
    report[condition] = task.summarize(totals, 0, 0)
    report[condition]["pooled_information_bits"] = pooled_information(
      report[condition]["hidden_bit_accuracy"], k, task.target_bits
    )
  report["synapse_fraction"], report["neuron_fraction"] = information_fractions(
    *(report[c]["pooled_information_bits"] for c in ("intact", "reset_neurons", "reset_synapses"))
  )
  intact = report["intact"]["pooled_information_bits"]
  report["layers"] = [
    {
      "layer": name,
      "information_lost_fraction": None
      if intact < MIN_INTACT_INFORMATION_BITS
      else 1.0 - report[f"reset_layer_{i}"]["pooled_information_bits"] / intact,
    }
    for i, (name, _) in enumerate(layers)
  ]
  report["split_step"] = split
  return report


def recall_item_steps(task: Task) -> np.ndarray:
  """(k_max,) the last step of each recall item of a remember-style schedule (its scored step)."""
  schedule = getattr(task, "schedule", None)
  if schedule is None or not hasattr(schedule, "recall_last_step"):
    raise ValueError(f"task {task.config.name!r} has no recall schedule to read neurons at.")
  return np.nonzero(np.asarray(schedule.recall_last_step))[0]


def neuron_states(network, params, rng, external) -> jax.Array:
  """(T, N, d_h) every neuron's state after each step of one episode. Where the network has the
  task's neuron reset (`task.reset_neurons_at_recall`), the run is cut there as in
  `Network.run_episode`."""
  embeddings = network.embeddings(params)

  def body(carry, x):
    new, _ = network.step(params, carry, x, embeddings)
    return new, new.neuron_state

  state = network.init_state(params, rng)
  reset = getattr(network, "neuron_reset_step", None)
  if reset is None:
    return jax.lax.scan(body, state, external)[1]
  split = reset(external.shape[0])
  mid, first = jax.lax.scan(body, state, external[:split])
  _, second = jax.lax.scan(body, network.reset_neurons(params, mid), external[split:])
  return jnp.concatenate([first, second], axis=0)


def neuron_diversity(network, params, task: Task, rng, num_episodes: int, load: int) -> dict:
  """Per neuron group, at each recall item's scored step: the variance of the neuron states
  across the group's neurons (same episode and cue) and across the K cues (same neuron), summed
  over state components and averaged. Neurons of one type differ only through their connections
  and the random synapse states (spec); a group whose across-neuron variance is near zero acts
  as one neuron copied, whatever its size."""
  task = task.at_load(load)
  steps = recall_item_steps(task)[:load]
  key_episodes, key_run = jax.random.split(rng)
  episodes = task.sample_batch(key_episodes, num_episodes, load, load)
  external = model_inputs(task, network, episodes)
  keys = jax.random.split(key_run, num_episodes)
  run = jax.jit(jax.vmap(lambda key, x: neuron_states(network, params, key, x)))
  states = np.asarray(run(keys, external))[:, steps]  # (B, K, N, d_h)
  report = {}
  for group in network.topology.groups:
    block = states[:, :, network.topology.group_slice(group.name)]  # (B, K, n, d_h)
    report[group.name] = {
      "across_neurons": float(block.var(axis=2).sum(-1).mean()),
      "across_cues": float(block.var(axis=1).sum(-1).mean()),
    }
  return report


def majority_answer_accuracy(task: Task, rng, num_episodes: int, load: int) -> float:
  """Hidden-bit accuracy of answering every cue with the per-bit majority of the K targets
  (ties score 1/2): what a network reaches that stores the stored values but ignores the cue."""
  task = task.at_load(load)
  steps = recall_item_steps(task)[:load]
  episodes = task.sample_batch(rng, num_episodes, load, load)
  targets = np.where(np.asarray(episodes.targets)[:, steps] > 0.5, 1.0, -1.0)  # (B, K, V)
  hidden = np.asarray(episodes.hidden_mask)[:, steps] > 0
  votes = np.sum(targets, axis=1, keepdims=True)  # (B, 1, V): every item is recalled once
  score = np.where(votes == 0, 0.5, (np.sign(votes) == targets).astype(np.float64))
  return float(score[hidden].mean())
