"""The Task interface: what the trainer, evaluation and probes know of a task, and nothing more.

A task lays every episode out on one static time grid (so the meta-step compiles once), samples
batches of episodes in JAX, says what external input each neuron receives at every step, and
scores the network's read-out: its loss, its recall counts and metrics, and its ceiling (the
oracle's answers on the same episodes). Episodes are the task's own `flax.struct` records;
nothing outside the task reads their fields.

External input channels (the last axis of `neuron_inputs`): channel 0 is the value clamped on a
neuron (0 where none), channel 1 the store-phase flag every neuron sees, channel 2 (tasks that
teach) the target on the output neurons while an item is stored, 0 at every other step and on
every other neuron (`external_channels` builds them). The Hopfield-style hand-written rules read
channels 0 and 1 only; the layered-net rules (backprop, delta_features) also read channel 2.
"""

import abc

import jax
import jax.numpy as jnp

from learned_rules import metrics
from learned_rules.common.errors import ConfigError
from learned_rules.rules.base import STORE_CHANNEL, TEACHING_CHANNEL, VALUE_CHANNEL

__all__ = [
  "STORE_CHANNEL",
  "TEACHING_CHANNEL",
  "VALUE_CHANNEL",
  "Task",
  "external_channels",
  "model_inputs",
]


class Task(abc.ABC):
  """Episodes of `length` steps; `load` is how many items an episode stores (K)."""

  input_channels: int = 2  # C, external input channels per neuron
  metric_names = ("hidden_bit_accuracy", "bit_accuracy")  # logged every training step

  def __init__(self, config):
    self.validate(config)
    self.config = config

  # --- static structure ------------------------------------------------------------------------
  @classmethod
  @abc.abstractmethod
  def validate(cls, config) -> None:
    """Checks the `task` config block before anything compiles; ConfigError names the key."""

  @property
  @abc.abstractmethod
  def length(self) -> int:
    """T, steps per episode."""

  @property
  @abc.abstractmethod
  def num_visible(self) -> int:
    """V: values clamped on the input neurons and read out from the output neurons per step."""

  @property
  @abc.abstractmethod
  def target_bits(self) -> int:
    """Bits a memory must hold to answer every recall of one stored item."""

  @property
  @abc.abstractmethod
  def sequence_input_size(self) -> int:
    """F, features per step of `sequence_inputs` (models without neurons)."""

  @property
  def load_range(self) -> tuple[int, int]:
    """(fewest, most) items per training episode."""
    return self.config.k_min, self.config.k_max

  def check_load(self, load, key: str) -> None:
    """ConfigError naming `key` unless `load` items per episode can work on the task."""
    if not isinstance(load, int) or isinstance(load, bool) or load < 1:
      raise ConfigError(f"{key}={load!r}: must be a positive integer.")

  def at_load(self, load: int) -> "Task":
    """The same task with exactly `load` items in every episode (evaluation at a fixed K)."""
    config = self.config.copy_and_resolve_references()
    with config.unlocked():
      config.k_min = load
      config.k_max = load
    return type(self)(config)

  # --- episodes --------------------------------------------------------------------------------
  @abc.abstractmethod
  def sample(self, rng, load):
    """One episode with `load` (a traced int is fine) items."""

  def sample_batch(self, rng, batch_size: int, load_min: int, load_max: int):
    """A batch of episodes, each with its own load drawn uniformly from [load_min, load_max]."""
    key_load, key_episodes = jax.random.split(rng)
    loads = jax.random.randint(key_load, (batch_size,), load_min, load_max + 1)
    return jax.vmap(self.sample)(jax.random.split(key_episodes, batch_size), loads)

  @abc.abstractmethod
  def neuron_inputs(self, episode, topology) -> jax.Array:
    """(T, N, input_channels) external input of every neuron of `topology` at every step."""

  @abc.abstractmethod
  def sequence_inputs(self, episode) -> jax.Array:
    """(T, F) the same stream for a model without neurons (the LSTM baseline)."""

  # --- scoring ---------------------------------------------------------------------------------
  @abc.abstractmethod
  def supervision(self, episode):
    """Pytree of (T, ...) arrays the loss reads; truncated BPTT cuts it into windows."""

  @abc.abstractmethod
  def loss_sum(self, logits, supervision) -> jax.Array:
    """Unnormalized loss of a stretch of steps: logits (T', V) against supervision (T', ...)."""

  @abc.abstractmethod
  def loss_count(self, episode) -> jax.Array:
    """How many terms the episode's loss averages (at least 1)."""

  def loss(self, logits, episode) -> jax.Array:
    """The meta-training loss of one episode: loss_sum over the episode / loss_count."""
    return self.loss_sum(logits, self.supervision(episode)) / self.loss_count(episode)

  @abc.abstractmethod
  def recall_counts(self, logits, episode) -> dict:
    """Sums over one episode that `summarize` turns into metrics (they add across episodes)."""

  def batch_metrics(self, counts) -> dict:
    """Training metrics (jnp) from counts summed over a batch."""
    return metrics.accuracies(counts)

  def summarize(self, counts, num_synapses: int, num_state_floats: int) -> dict:
    """Reported metrics (Python floats) from counts summed over many episodes."""
    return metrics.summarize(counts, num_synapses, num_state_floats)

  @abc.abstractmethod
  def oracle(self, episode) -> jax.Array:
    """(T, V) logits of the task's ceiling on this episode (what a perfect memory answers)."""

  def references(self) -> dict:
    """Reference answers reported beside every model, {name: episode -> (T, V) logits}.

    The first is the ceiling; a task may add others (a floor, a trivial strategy).
    """
    return {"oracle": self.oracle}

  def describe(self) -> str:
    """One line naming the task and its main settings (the report table's header)."""
    return f"{self.config.name} K={self.load_range[1]}"

  def probe_split_step(self) -> int:
    """The step at which the memory-location probe cuts an episode (storage is over)."""
    raise NotImplementedError(f"{type(self).__name__} has no memory-location probe.")

  def split_step_for_length(self, length: int) -> int:
    """`probe_split_step` of the task at the load whose episodes are `length` steps long.

    A model is built once and then run on episodes of other loads (evaluation at eval.k, the
    capacity search); the episode length (a static shape) says which load's schedule applies.
    """
    for load in range(1, length + 1):
      task = self.at_load(load)
      if task.length == length:
        return task.probe_split_step()
      if task.length > length:
        break
    raise ValueError(f"no load of {self.describe()} gives episodes of {length} steps.")


LOSS_STEPS = ("all", "last")


class BitTargetLoss:
  """Mixin for tasks whose episodes have (T, V) `targets` in {0, 1}, a (T, V) `loss_mask` and a
  (T,) `eval_mask` (1 on the last step of each recall item, where metrics are read).

  The loss is the sigmoid cross-entropy of the read-out logits against the target bits, summed
  where the mask is 1 and averaged over the mask's count. `task.loss_steps='last'` (a recipe
  choice of ours) keeps only each recall item's last step, where it is scored, so the network
  may take the earlier recall steps to settle; 'all' (the default) scores every recall step.
  """

  def __init__(self, config):
    super().__init__(config)
    loss_steps = config.get("loss_steps", "all")
    if loss_steps not in LOSS_STEPS:
      raise ConfigError(f"task.loss_steps={loss_steps!r}: expected one of {LOSS_STEPS}.")
    self._last_step_loss = loss_steps == "last"

  def _loss_mask(self, episode):
    if self._last_step_loss:
      return episode.loss_mask * episode.eval_mask[:, None]
    return episode.loss_mask

  def supervision(self, episode):
    return {"targets": episode.targets, "loss_mask": self._loss_mask(episode)}

  def loss_sum(self, logits, supervision) -> jax.Array:
    return metrics.masked_cross_entropy_sum(
      logits, supervision["targets"], supervision["loss_mask"]
    )

  def loss_count(self, episode) -> jax.Array:
    return jnp.maximum(jnp.sum(self._loss_mask(episode)), 1.0)


def external_channels(topology, values, store_flags, teaching=None) -> jax.Array:
  """(T, N, C) per-neuron input channels from a task's (T, V) stream.

  `values` (T, V) go to the input neurons (channel 0), the (T,) store flags to every neuron
  (channel 1) and, when given, `teaching` (T, V) to the output neurons (channel 2): C = 2 or 3.
  """
  steps, n = values.shape[0], topology.num_neurons
  channels = [
    jnp.zeros((steps, n)).at[:, topology.input_index].set(values),
    jnp.broadcast_to(store_flags[:, None], (steps, n)),
  ]
  if teaching is not None:
    channels.append(jnp.zeros((steps, n)).at[:, topology.output_index].set(teaching))
  return jnp.stack(channels, axis=-1)


def model_inputs(task: Task, model, episodes) -> jax.Array:
  """A batch's external input in the form `model.run_episode` takes.

  A network of neurons (anything with a `topology`) gets (B, T, N, C) per-neuron channels; a
  model without neurons (the LSTM) the flat stream (B, T, F).
  """
  topology = getattr(model, "topology", None)
  if topology is None:
    return jax.vmap(task.sequence_inputs)(episodes)
  return jax.vmap(task.neuron_inputs, (0, None))(episodes, topology)


def mean_loss(task: Task, logits, episodes) -> jax.Array:
  """Mean over a batch of the per-episode loss."""
  return jnp.mean(jax.vmap(task.loss)(logits, episodes))
