"""The teacher task: store K pairs (x, teacher(x)) of a random teacher, then answer unseen keys.

Remembering becomes learning (spec section 3, "Teacher variant"): each episode draws its own
teacher, a random linear-threshold map y = sign(W x) (W Gaussian D x D) or a random two-layer
threshold network y = sign(W2 sign(W1 x)) (W1 H x D, W2 D x H), with sign(0) = +1. The episode
stores K pairs (x_k, teacher(x_k)) of random ±1 keys, then asks `num_queries` keys that were
never stored (`query_seen=False`: accuracy on them against K is a learning curve) or the stored
keys again (`query_seen=True`: memorization). The teacher is the ceiling (`oracle`, accuracy 1);
the per-bit majority of the stored answers is the floor (`floor`).

Layouts (our design choices), the same as the remember task's 'hetero' mode, so one learned rule
can be trained on remembering random pairs and evaluated here on the same network:
- `teaching=False` (fully connected nets): the visible vector is [x, y], V = 2D, two channels.
  Channel 0 (value) is [x_k, y_k] on the input neurons during storage and [x_query, 0] during a
  query; channel 1 (store flag) is 1 on every neuron while a pair is presented for storage. The
  loss and the scored (hidden) bits are the y half at query steps.
- `teaching=True` (layered nets, whose output neurons are not the input neurons): V = D, three
  channels. Channel 0 is x_k on the input neurons during storage and x_query during a query;
  channel 2 (teaching, tasks/base.py) is y_k on the output neurons while the pair is stored and
  0 at every other step; the outputs are read out and every one of their bits is scored.
A static time grid is built for `k_max` pairs, so every K in [k_min, k_max] compiles once: with
K < k_max the first k_max - K store slots are blank. Storage makes `repetitions` passes over the
slots (the backprop rule's epochs); each pair is shown for `store_steps` steps, then `gap_steps`
blank steps; then `delay_steps` blank steps; then each query for `recall_steps` steps. Metrics
are read at the last step of each query. Stored information is K * D * (1 - H2(error on the
queried answer bits)).
"""

import dataclasses

import chex
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from learned_rules import metrics
from learned_rules.common.errors import ConfigError
from learned_rules.tasks.base import BitTargetLoss, Task, external_channels

TEACHERS = ("linear", "two_layer")


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
  teaching: jax.Array  # (T, V) channel 2 on the outputs: y_k while storing, else 0 (no teaching: 0)
  targets: jax.Array  # (T, V) in {0, 1}: [x, y] (teaching: y) of the query asked at this step
  loss_mask: jax.Array  # (T, V) 1 on the answer bits at query steps (also the hidden bits)
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
  for _ in range(repetitions(config)):
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


def teaches(config) -> bool:
  """`task.teaching`: x on the inputs and y taught to the outputs (absent means False)."""
  return bool(config.get("teaching", False))


def repetitions(config) -> int:
  """`task.repetitions`: passes over the stored pairs (absent means 1)."""
  return config.get("repetitions", 1)


class TeacherTask(BitTargetLoss, Task):
  """Samples teacher episodes in JAX (jit- and vmap-friendly) for a fixed static layout."""

  def __init__(self, config):
    super().__init__(config)
    self.schedule = build_schedule(config)
    self.teaching = teaches(config)

  @property
  def input_channels(self) -> int:
    """Value and store flag, plus the teaching signal when the task teaches."""
    return 3 if self.teaching else 2

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
    if not _is_int(repetitions(config)) or repetitions(config) < 1:
      raise ConfigError(f"task.repetitions={repetitions(config)!r}: must be a positive integer.")
    for key in ("query_seen", "teaching"):
      if not isinstance(config.get(key, False), bool):
        raise ConfigError(f"task.{key}={config[key]!r}: must be True or False.")
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
    """D with teaching (x in, y out), else 2D ([x, y] on shared visible neurons)."""
    return self.config.pattern_bits if self.teaching else 2 * self.config.pattern_bits

  @property
  def target_bits(self) -> int:
    return self.config.pattern_bits

  @property
  def sequence_input_size(self) -> int:
    return 2 * self.num_visible + 1 if self.teaching else self.num_visible + 1

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
    store_keys, store_answers = stored_keys[store_slot], stored_answers[store_slot]
    store_inputs = self._shown(store_keys, store_answers) * is_store[:, None]
    teaching = jnp.zeros((steps, v))
    if self.teaching:
      teaching = store_answers * is_store[:, None]

    query_item = jnp.asarray(np.maximum(sched.query_item, 0))
    is_query = jnp.asarray(sched.query_item >= 0)
    asked_keys, asked_answers = query_keys[query_item], query_answers[query_item]
    query_inputs = self._shown(asked_keys, jnp.zeros_like(asked_answers)) * is_query[:, None]
    episode = Episode(
      inputs=store_inputs + query_inputs,
      store_flags=is_store.astype(jnp.float32),
      teaching=teaching,
      targets=(self._answered(asked_keys, asked_answers) + 1.0) / 2.0,
      loss_mask=is_query[:, None] * self._answer_bits()[None, :],
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

  # What the visible neurons show and answer of pairs (x, y): with teaching, x is clamped on the
  # input neurons and y read from the output neurons; without, both live on [x, y].
  def _shown(self, keys, answers) -> jax.Array:
    """(..., V) the value channel for keys and (maybe blank) answers: x, or [x, y]."""
    return keys if self.teaching else jnp.concatenate([keys, answers], axis=-1)

  def _answered(self, keys, answers) -> jax.Array:
    """(..., V) the visible read-out of pairs: y, or [x, y]."""
    return answers if self.teaching else jnp.concatenate([keys, answers], axis=-1)

  def _answer_bits(self) -> jax.Array:
    """(V,) 1 on the answer bits the loss and metrics score: all of y, or the y half."""
    d = self.config.pattern_bits
    return jnp.ones(d) if self.teaching else jnp.concatenate([jnp.zeros(d), jnp.ones(d)])

  def neuron_inputs(self, episode: Episode, topology) -> jax.Array:
    """Channel 0 on the input neurons, 1 on every neuron; with teaching, 2 on the output neurons."""
    teaching = episode.teaching if self.teaching else None
    return external_channels(topology, episode.inputs, episode.store_flags, teaching)

  def sequence_inputs(self, episode: Episode) -> jax.Array:
    """(T, V + 1): the visible values and the store flag (then the teaching signal: 2V + 1)."""
    parts = [episode.inputs, episode.store_flags[:, None]]
    if self.teaching:
      parts.append(episode.teaching)
    return jnp.concatenate(parts, axis=-1)

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
    """(T, V) the teacher's answer teacher(x) (as read out: y or [x, y]) to each step's query,
    ±1: the ceiling."""
    query_item = jnp.asarray(np.maximum(self.schedule.query_item, 0))
    return self._answered(episode.query_keys[query_item], episode.query_answers[query_item])

  def floor(self, episode: Episode) -> jax.Array:
    """(T, V) m (or [x, m]), m the per-bit majority of the stored answers (ties +1): the floor."""
    active = jnp.arange(self.config.k_max) >= self.config.k_max - episode.num_pairs
    majority = sign(jnp.sum(episode.stored_answers * active[:, None], axis=0))  # (D,)
    query_item = jnp.asarray(np.maximum(self.schedule.query_item, 0))
    keys = episode.query_keys[query_item]
    return self._answered(keys, jnp.broadcast_to(majority, keys.shape))

  def references(self) -> dict:
    return {"oracle": self.oracle, "floor": self.floor}

  def describe(self) -> str:
    cfg = self.config
    seen = "seen" if cfg.query_seen else "unseen"
    layout = "x -> y taught" if self.teaching else "[x, y]"
    return (
      f"teacher {cfg.teacher} K={self.load_range[1]} D={cfg.pattern_bits} {seen} keys, {layout}"
    )

  def probe_split_step(self) -> int:
    """The first query step: storage and delay are over, no key has been asked."""
    return int(np.nonzero(self.schedule.query_item >= 0)[0][0])
