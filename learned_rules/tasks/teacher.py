"""The teacher task: store K pairs (x, teacher(x)) of a random teacher, then answer unseen keys.

Remembering becomes learning (spec section 3, "Teacher variant"): each episode draws its own
teacher, a random linear-threshold map y = sign(W x) (W Gaussian D x D) or a random two-layer
threshold network y = sign(W2 sign(W1 x)) (W1 H x D, W2 D x H), with sign(0) = +1. The episode
stores K pairs (x_k, teacher(x_k)) of random ±1 keys, then asks `num_queries` keys that were
never stored (`query_seen=False`: accuracy on them against K is a learning curve) or the stored
keys again (`query_seen=True`: memorization). The teacher is the ceiling (`oracle`, accuracy 1);
the per-bit majority of the stored answers is the floor (`floor`).

Layout (our design choices, like remember's 'hetero' mode): the visible vector is [x, y], V = 2D.
A static time grid is built for `k_max` pairs, so every K in [k_min, k_max] compiles once: with
K < k_max the first k_max - K store slots are blank. Each pair is shown for `store_steps` steps,
then `gap_steps` blank steps; `delay_steps` blank steps; then each query for `recall_steps`
steps. External input channels (tasks/base.py):
- 0, value: [x_k, y_k] on the input neurons during storage, [x_query, 0] during a query;
- 1, store flag: 1 on every neuron while a pair is presented for storage;
- 2, teaching signal: [0, y_k] on the output neurons while a pair is stored, 0 at every other
  step, so a layered network's output neurons receive the target they must later produce (on a
  fully connected network the output neurons are the input neurons and it repeats channel 0).
The loss and the scored and hidden bits are the y half at query steps; metrics are read at the
last step of each query. Stored information is K * D * (1 - H2(error on the queried y bits)).
"""

import dataclasses

import chex
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from learned_rules import metrics
from learned_rules.common.errors import ConfigError
from learned_rules.tasks.base import BitTargetLoss, Task

TEACHERS = ("linear", "two_layer")
TEACHING_CHANNEL = 2  # the channel after the value and the store flag


def sign(x):
  """±1 sign with sign(0) = +1."""
  return jnp.where(x >= 0, 1.0, -1.0)


def apply_teacher(weights: tuple, keys) -> jax.Array:
  """Answers of the threshold network with `weights` (each (out, in)) to keys (..., D)."""
  activity = keys
  for weight in weights:
    activity = sign(activity @ weight.T)
  return activity


@flax.struct.dataclass
class Episode:
  inputs: jax.Array  # (T, V) channel 0 on the input neurons, in {-1, 0, +1}
  store_flags: jax.Array  # (T,) 1 on store presentation steps
  teaching: jax.Array  # (T, V) channel 2 on the output neurons: [0, y_k] while storing, else 0
  targets: jax.Array  # (T, V) in {0, 1}: [x, y] of the query asked at this step
  loss_mask: jax.Array  # (T, V) 1 on the y half at query steps (also the hidden bits)
  eval_mask: jax.Array  # (T,) 1 on the last step of each query (metrics read here)
  query_item: jax.Array  # (T,) index of the query asked at this step, -1 elsewhere
  stored_keys: jax.Array  # (k_max, D) ±1; the last num_pairs slots are stored
  stored_answers: jax.Array  # (k_max, D) ±1, teacher(stored_keys)
  query_keys: jax.Array  # (num_queries, D) ±1
  query_answers: jax.Array  # (num_queries, D) ±1, teacher(query_keys)
  num_pairs: jax.Array  # () K, pairs stored
  teacher_weights: tuple  # this episode's teacher: ((D, D),) or ((H, D), (D, H))


@dataclasses.dataclass(frozen=True)
class Schedule:
  """Static per-step layout (numpy), shared by every episode of a task."""

  store_slot: np.ndarray  # (T,) pair slot presented at this step, -1 if none
  query_item: np.ndarray  # (T,) query asked at this step, -1 if none
  query_last_step: np.ndarray  # (T,) bool, last step of a query

  @property
  def length(self) -> int:
    return int(self.store_slot.shape[0])


def build_schedule(config) -> Schedule:
  rows = []  # (store_slot, query_item, last step of a query)
  for slot in range(config.k_max):
    rows += [(slot, -1, False)] * config.store_steps
    rows += [(-1, -1, False)] * config.gap_steps
  rows += [(-1, -1, False)] * config.delay_steps
  for query in range(config.num_queries):
    for step in range(config.recall_steps):
      rows.append((-1, query, step == config.recall_steps - 1))
  columns = list(zip(*rows, strict=True))
  return Schedule(
    store_slot=np.array(columns[0], np.int32),
    query_item=np.array(columns[1], np.int32),
    query_last_step=np.array(columns[2], bool),
  )


def _is_int(value) -> bool:
  return isinstance(value, int) and not isinstance(value, bool)


class TeacherTask(BitTargetLoss, Task):
  """Samples teacher episodes in JAX (jit- and vmap-friendly) for a fixed static layout."""

  input_channels = 3  # value, store flag, teaching signal

  def __init__(self, config):
    super().__init__(config)
    self.schedule = build_schedule(config)

  @classmethod
  def validate(cls, config) -> None:
    """Checks the `task` block before anything compiles; ConfigError names the key."""
    if config.teacher not in TEACHERS:
      raise ConfigError(f"task.teacher={config.teacher!r}: expected one of {TEACHERS}.")
    positive = ("pattern_bits", "teacher_hidden", "k_min", "k_max", "num_queries")
    for key in positive + ("store_steps", "recall_steps"):
      if not _is_int(config[key]) or config[key] < 1:
        raise ConfigError(f"task.{key}={config[key]!r}: must be a positive integer.")
    for key in ("gap_steps", "delay_steps"):
      if not _is_int(config[key]) or config[key] < 0:
        raise ConfigError(f"task.{key}={config[key]!r}: must be a non-negative integer.")
    if not isinstance(config.query_seen, bool):
      raise ConfigError(f"task.query_seen={config.query_seen!r}: must be True or False.")
    if config.k_min > config.k_max:
      raise ConfigError(f"task.k_min={config.k_min} > task.k_max={config.k_max}.")
    if not config.query_seen and config.k_max >= 2**config.pattern_bits:
      raise ConfigError(
        f"task.k_max={config.k_max}: with {config.pattern_bits}-bit keys no key is left unseen "
        "after storing that many; lower task.k_max, raise task.pattern_bits or set "
        "task.query_seen=True."
      )

  # --- static structure ------------------------------------------------------------------------
  @property
  def length(self) -> int:
    return self.schedule.length

  @property
  def num_visible(self) -> int:
    return 2 * self.config.pattern_bits

  @property
  def target_bits(self) -> int:
    return self.config.pattern_bits

  @property
  def sequence_input_size(self) -> int:
    return 2 * self.num_visible + 1  # value, store flag, teaching signal

  def check_load(self, load, key: str) -> None:
    super().check_load(load, key)
    if not self.config.query_seen and load >= 2**self.config.pattern_bits:
      raise ConfigError(
        f"{key}={load}: leaves no unseen {self.config.pattern_bits}-bit key to query."
      )

  # --- episodes --------------------------------------------------------------------------------
  def sample_teacher(self, rng) -> tuple:
    """A random teacher: its weight matrices, (out, in) each, applied by `apply_teacher`."""
    d, h = self.config.pattern_bits, self.config.teacher_hidden
    if self.config.teacher == "linear":
      return (jax.random.normal(rng, (d, d)),)
    key_in, key_out = jax.random.split(rng)
    return (jax.random.normal(key_in, (h, d)), jax.random.normal(key_out, (d, h)))

  def answers(self, episode: Episode, keys) -> jax.Array:
    """The episode's teacher applied to keys (..., D)."""
    return apply_teacher(episode.teacher_weights, keys)

  def _unseen_keys(self, rng, stored_keys, slot_active) -> jax.Array:
    """(num_queries, D) ±1 keys none of which equals an active stored key (redrawn until so)."""
    shape = (self.config.num_queries, self.config.pattern_bits)

    def collides(keys):
      same = jnp.all(keys[:, None, :] == stored_keys[None, :, :], axis=-1)  # (Q, k_max)
      return jnp.any(same & slot_active[None, :], axis=1)

    def redraw(carry):
      attempt, keys = carry
      fresh = jax.random.rademacher(jax.random.fold_in(rng, attempt), shape, jnp.float32)
      return attempt + 1, jnp.where(collides(keys)[:, None], fresh, keys)

    first = jax.random.rademacher(jax.random.fold_in(rng, 0), shape, jnp.float32)
    _, keys = jax.lax.while_loop(lambda c: jnp.any(collides(c[1])), redraw, (1, first))
    return keys

  def sample(self, rng, num_pairs) -> Episode:
    """One episode with `num_pairs` (traced int ok) stored pairs out of k_max slots."""
    cfg, sched = self.config, self.schedule
    k_max, d, v, steps = cfg.k_max, cfg.pattern_bits, self.num_visible, self.length
    key_teacher, key_keys, key_order, key_queries = jax.random.split(rng, 4)
    weights = self.sample_teacher(key_teacher)
    stored_keys = jax.random.rademacher(key_keys, (k_max, d), jnp.float32)
    stored_answers = apply_teacher(weights, stored_keys)
    slot_active = jnp.arange(k_max) >= k_max - num_pairs  # the last K slots are stored

    if cfg.query_seen:  # the stored pairs, in a random order, cycled when Q > K
      order = jnp.argsort(jax.random.uniform(key_order, (k_max,)) + jnp.where(slot_active, 0, 2))
      asked = order[jnp.mod(jnp.arange(cfg.num_queries), num_pairs)]
      query_keys = stored_keys[asked]
    else:
      query_keys = self._unseen_keys(key_queries, stored_keys, slot_active)
    query_answers = apply_teacher(weights, query_keys)

    store_slot = jnp.asarray(np.maximum(sched.store_slot, 0))
    is_store = jnp.asarray(sched.store_slot >= 0) & slot_active[store_slot]
    stored_pairs = jnp.concatenate([stored_keys, stored_answers], axis=1)  # (k_max, V)
    store_inputs = stored_pairs[store_slot] * is_store[:, None]
    zeros = jnp.zeros((steps, d))
    teaching = jnp.concatenate([zeros, stored_answers[store_slot]], axis=1) * is_store[:, None]

    query_item = jnp.asarray(np.maximum(sched.query_item, 0))
    is_query = jnp.asarray(sched.query_item >= 0)
    query_inputs = jnp.concatenate([query_keys[query_item], zeros], axis=1) * is_query[:, None]
    asked_pairs = jnp.concatenate([query_keys, query_answers], axis=1)[query_item]  # (T, V)
    y_half = jnp.concatenate([jnp.zeros(d), jnp.ones(d)])
    episode = Episode(
      inputs=store_inputs + query_inputs,
      store_flags=is_store.astype(jnp.float32),
      teaching=teaching,
      targets=(asked_pairs + 1.0) / 2.0,
      loss_mask=is_query[:, None] * y_half[None, :],
      eval_mask=jnp.asarray(sched.query_last_step, jnp.float32),
      query_item=jnp.asarray(sched.query_item),
      stored_keys=stored_keys,
      stored_answers=stored_answers,
      query_keys=query_keys,
      query_answers=query_answers,
      num_pairs=jnp.asarray(num_pairs),
      teacher_weights=weights,
    )
    chex.assert_shape([episode.inputs, episode.teaching, episode.loss_mask], (steps, v))
    return episode

  def neuron_inputs(self, episode: Episode, topology) -> jax.Array:
    """Channel 0 on the input neurons, 1 on every neuron, 2 (teaching) on the output neurons."""
    steps, n = self.length, topology.num_neurons
    values = jnp.zeros((steps, n)).at[:, topology.input_index].set(episode.inputs)
    flags = jnp.broadcast_to(episode.store_flags[:, None], (steps, n))
    teaching = jnp.zeros((steps, n)).at[:, topology.output_index].set(episode.teaching)
    return jnp.stack([values, flags, teaching], axis=-1)

  def sequence_inputs(self, episode: Episode) -> jax.Array:
    """(T, 2V + 1): the visible values, the store flag and the teaching signal."""
    return jnp.concatenate([episode.inputs, episode.store_flags[:, None], episode.teaching], -1)

  # --- scoring ---------------------------------------------------------------------------------
  def recall_counts(self, logits, episode: Episode) -> dict:
    """Answer bits read at the last step of every query; information counts the K stored pairs."""
    return metrics.bit_recall_counts(
      logits,
      episode.targets,
      episode.loss_mask,
      episode.loss_mask,  # the whole answer is hidden from the cue
      episode.eval_mask,
      episode.num_pairs,
      self.target_bits,
    )

  def oracle(self, episode: Episode) -> jax.Array:
    """(T, V) the teacher's answer [x, teacher(x)] to the query at each step, ±1 (the ceiling)."""
    query_item = jnp.asarray(np.maximum(self.schedule.query_item, 0))
    return jnp.concatenate([episode.query_keys, episode.query_answers], axis=1)[query_item]

  def floor(self, episode: Episode) -> jax.Array:
    """(T, V) [x, m] with m the per-bit majority of the stored answers (ties +1): the floor."""
    active = jnp.arange(self.config.k_max) >= self.config.k_max - episode.num_pairs
    majority = sign(jnp.sum(episode.stored_answers * active[:, None], axis=0))  # (D,)
    query_item = jnp.asarray(np.maximum(self.schedule.query_item, 0))
    keys = episode.query_keys[query_item]
    return jnp.concatenate([keys, jnp.broadcast_to(majority, keys.shape)], axis=1)

  def references(self) -> dict:
    return {"oracle": self.oracle, "floor": self.floor}

  def describe(self) -> str:
    cfg = self.config
    seen = "seen" if cfg.query_seen else "unseen"
    return f"teacher {cfg.teacher} K={self.load_range[1]} D={cfg.pattern_bits} {seen} keys"

  def probe_split_step(self) -> int:
    """The first query step: storage and delay are over, no key has been asked."""
    return int(np.nonzero(self.schedule.query_item >= 0)[0][0])
