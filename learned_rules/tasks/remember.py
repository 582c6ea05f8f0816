"""The remember task: store K patterns, wait, then recall each from a cue (project design).

An episode is laid out on a static time grid built for `k_max` pattern slots, so every K in
[k_min, k_max] uses the same shapes and the meta-step compiles once. With K < k_max active
patterns, the first k_max - K store slots are blank (the network just sees a longer quiet start;
`task.blank_slots='last'` blanks the last k_max - K store slots instead, so storage starts at step
0 and the delay before recall grows) and the last k_max - K recall slots have no input and no loss.

Modes (visible vector of V bits, each bit one input neuron and one read-out neuron):
- auto: V = D. Store xi_k; recall from xi_k with round(c D) random bits hidden (set to 0).
- hetero: V = 2D. Store [a_k, b_k] together; cue [a_k, 0]; target b_k (the hidden half).
- sequence: V = D. Store snippets of L frames in order; cue frame 1, then frames 2..L must
  follow with no input; target those frames.
Every neuron also receives a store-phase flag (1 while a pattern is presented for storage), a
neuromodulatory signal of our design that hand-written rules need to know when to write.

Teaching (`task.teaching=True`, for networks whose output neurons are not the input neurons, such
as layered nets; tasks/base.py channel 2): while an item is stored, its target is also given to
the output neurons, and at every other step (recall included) that channel is 0, so a network can
be taught what its outputs must later produce. auto: the pattern is clamped on the input neurons
and taught on the output neurons. hetero becomes the input -> output layout of a layered net:
V = D, the key a_k on the input neurons (during storage and as the whole recall cue), the value
b_k taught on the output neurons during storage and read out from them at recall (every target
bit is hidden from the cue). sequence mode has no teaching layout (a ConfigError).
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

MODES = ("auto", "hetero", "sequence")
BLANK_SLOTS = ("first", "last")  # where the k_max - K unused store slots go


@flax.struct.dataclass
class Episode:
  inputs: jax.Array  # (T, V) in {-1, 0, +1}
  store_flags: jax.Array  # (T,) 1 on store presentation steps
  targets: jax.Array  # (T, V) in {0, 1}
  loss_mask: jax.Array  # (T, V) 1 where the recall loss counts
  hidden_mask: jax.Array  # (T, V) 1 on target bits that were hidden in the cue
  eval_mask: jax.Array  # (T,) 1 on the last step of each active recall item (metrics read here)
  recall_item: jax.Array  # (T,) recall item index at recall steps, -1 elsewhere
  teaching: jax.Array  # (T, V) target on the output neurons while storing (channel 2), else 0
  patterns: jax.Array  # (k_max, L, W) stored items ±1; W = V, or 2D ([a_k, b_k]) in hetero mode
  num_patterns: jax.Array  # () number K of active patterns
  oracle_targets: jax.Array  # (T, V) the nearest-stored-pattern oracle's answer, ±1


@dataclasses.dataclass(frozen=True)
class Schedule:
  """Static per-step layout (numpy), shared by every episode of a task."""

  store_slot: np.ndarray  # (T,) slot presented at this step, -1 if none
  store_frame: np.ndarray  # (T,)
  recall_slot: np.ndarray  # (T,) recall position (0..k_max-1), -1 if none
  recall_frame: np.ndarray  # (T,)
  recall_is_cue: np.ndarray  # (T,) bool, sequence cue frames (no loss)
  recall_last_step: np.ndarray  # (T,) bool, last step of a recall item

  @property
  def length(self) -> int:
    return int(self.store_slot.shape[0])


def validate(config) -> None:
  """Checks the `task` block before anything compiles; ConfigError names the key."""
  if config.mode not in MODES:
    raise ConfigError(f"task.mode={config.mode!r}: expected one of {MODES}.")
  for key in ("pattern_bits", "k_min", "k_max", "store_steps", "repetitions", "recall_steps"):
    value = config[key]
    if not isinstance(value, int) or value < 1:
      raise ConfigError(f"task.{key}={value!r}: must be a positive integer.")
  for key in ("gap_steps", "delay_steps"):
    value = config[key]
    if not isinstance(value, int) or value < 0:
      raise ConfigError(f"task.{key}={value!r}: must be a non-negative integer.")
  if not 0.0 <= config.hidden_fraction <= 1.0:
    raise ConfigError(f"task.hidden_fraction={config.hidden_fraction!r}: must be in [0, 1].")
  cue_noise = config.get("cue_noise", 0.0)
  if isinstance(cue_noise, bool) or not isinstance(cue_noise, int | float):
    raise ConfigError(f"task.cue_noise={cue_noise!r}: must be a number in [0, 0.5].")
  if not 0.0 <= cue_noise <= 0.5:
    raise ConfigError(f"task.cue_noise={cue_noise!r}: must be in [0, 0.5].")
  if cue_noise > 0 and config.mode == "sequence":
    raise ConfigError("task.cue_noise > 0: only for 'auto' and 'hetero' cues, not 'sequence'.")
  if config.k_min > config.k_max:
    raise ConfigError(f"task.k_min={config.k_min} > task.k_max={config.k_max}.")
  blank_slots = config.get("blank_slots", "first")
  if blank_slots not in BLANK_SLOTS:
    raise ConfigError(f"task.blank_slots={blank_slots!r}: expected one of {BLANK_SLOTS}.")
  teaching = config.get("teaching", False)
  if not isinstance(teaching, bool):
    raise ConfigError(f"task.teaching={teaching!r}: must be True or False.")
  if teaching and config.mode == "sequence":
    raise ConfigError(
      "task.teaching=True: 'sequence' mode has no teaching layout; use task.mode='auto' or "
      "'hetero', or task.teaching=False."
    )
  if config.mode == "sequence" and (
    not isinstance(config.sequence_length, int) or config.sequence_length < 2
  ):
    raise ConfigError(
      f"task.sequence_length={config.sequence_length!r}: must be >= 2 in sequence mode."
    )
  balanced = config.get("balanced_answers", False)
  if not isinstance(balanced, bool):
    raise ConfigError(f"task.balanced_answers={balanced!r}: must be True or False.")
  if balanced and not (teaching and config.mode == "hetero"):
    raise ConfigError(
      "task.balanced_answers=True: only for taught hetero pairs (task.mode='hetero', "
      "task.teaching=True), where the answers are separate from the keys."
    )
  # k_max > 2**D, in integers: a float 2.0**D overflows for D > 1023, and D may be that large.
  if (config.k_max - 1).bit_length() > config.pattern_bits:
    raise ConfigError(
      f"task.k_max={config.k_max}: a task of {config.pattern_bits}-bit patterns holds at most "
      f"{2**config.pattern_bits} distinct patterns; lower task.k_max or raise task.pattern_bits."
    )


def balanced_answers(rng, slot_active, shape) -> jax.Array:
  """(k_max, frames, D) ±1 answers whose every bit is +1 on half of the active items (K odd: on
  (K - 1) / 2 or (K + 1) / 2 of them, by a coin per bit), in a random arrangement. The per-bit
  majority of the stored answers then tells nothing about any one of them (a tie or one vote),
  so a network that answers it, ignoring the cue, stays at chance. Inactive slots get -1."""
  k_max, frames, d = shape
  key_rank, key_coin = jax.random.split(rng)
  noise = jax.random.uniform(key_rank, (k_max, frames, d)) + 2.0 * (~slot_active)[:, None, None]
  rank = jnp.argsort(jnp.argsort(noise, axis=0), axis=0)  # active items rank first, randomly
  count = jnp.sum(slot_active)
  coin = jax.random.bernoulli(key_coin, 0.5, (frames, d)).astype(count.dtype)
  plus = count // 2 + coin * (count % 2)
  return jnp.where(rank < plus[None], 1.0, -1.0)


def frames_per_pattern(config) -> int:
  return config.sequence_length if config.mode == "sequence" else 1


def teaches(config) -> bool:
  """Whether the task teaches the output neurons (`task.teaching`; absent means False)."""
  return bool(config.get("teaching", False))


def num_visible(config) -> int:
  """V: D, or 2D for hetero pairs [a, b] on shared visible neurons (without teaching)."""
  if config.mode == "hetero" and not teaches(config):
    return 2 * config.pattern_bits
  return config.pattern_bits


def target_bits_per_pattern(config) -> int:
  """Bits a memory must hold to answer every recall of one pattern."""
  if config.mode == "sequence":
    return config.pattern_bits * (config.sequence_length - 1)
  return config.pattern_bits


def build_schedule(config) -> Schedule:
  frames = frames_per_pattern(config)
  rows = []  # (store_slot, store_frame, recall_slot, recall_frame, is_cue, last)
  for _ in range(config.repetitions):
    for slot in range(config.k_max):
      for frame in range(frames):
        rows += [(slot, frame, -1, 0, False, False)] * config.store_steps
      rows += [(-1, 0, -1, 0, False, False)] * config.gap_steps
  rows += [(-1, 0, -1, 0, False, False)] * config.delay_steps
  for slot in range(config.k_max):
    for frame in range(frames):
      is_cue = config.mode == "sequence" and frame == 0
      for step in range(config.recall_steps):
        rows.append((-1, 0, slot, frame, is_cue, step == config.recall_steps - 1))
  columns = list(zip(*rows, strict=True))
  return Schedule(
    store_slot=np.array(columns[0], np.int32),
    store_frame=np.array(columns[1], np.int32),
    recall_slot=np.array(columns[2], np.int32),
    recall_frame=np.array(columns[3], np.int32),
    recall_is_cue=np.array(columns[4], bool),
    recall_last_step=np.array(columns[5], bool),
  )


class RememberTask(BitTargetLoss, Task):
  """Samples remember episodes in JAX (jit- and vmap-friendly) for a fixed static layout."""

  def __init__(self, config):
    super().__init__(config)
    self.schedule = build_schedule(config)
    self.frames = frames_per_pattern(config)
    self.teaching = teaches(config)
    # hetero with teaching: keys on the input neurons, values taught to and read from the outputs
    self.split_pairs = self.teaching and config.mode == "hetero"

  validate = staticmethod(validate)

  def at_load(self, load: int) -> "RememberTask":
    """Fixed-load episodes, as every evaluation draws them: independent random answers even
    where training balances them (`task.balanced_answers` shapes training only)."""
    task = super().at_load(load)
    if not task.config.get("balanced_answers", False):
      return task
    config = task.config.copy_and_resolve_references()
    with config.unlocked():
      config.balanced_answers = False
    return type(self)(config)

  @property
  def input_channels(self) -> int:
    """Value and store flag, plus the teaching signal when the task teaches."""
    return 3 if self.teaching else 2

  @property
  def length(self) -> int:
    return self.schedule.length

  @property
  def num_visible(self) -> int:
    return num_visible(self.config)

  @property
  def target_bits(self) -> int:
    return target_bits_per_pattern(self.config)

  @property
  def sequence_input_size(self) -> int:
    return 2 * self.num_visible + 1 if self.teaching else self.num_visible + 1

  def check_load(self, load, key: str) -> None:
    super().check_load(load, key)
    distinct = 2**self.config.pattern_bits
    if load > distinct:
      raise ConfigError(f"{key}={load}: above the {distinct} distinct patterns of the task.")

  def sample(self, rng, num_patterns) -> Episode:
    """One episode with `num_patterns` (traced int ok) active patterns out of k_max slots."""
    cfg, sched = self.config, self.schedule
    k_max, v, d = cfg.k_max, self.num_visible, cfg.pattern_bits
    key_patterns, key_order, key_hidden = jax.random.split(rng, 3)
    width = 2 * d if cfg.mode == "hetero" else v
    patterns = jax.random.rademacher(key_patterns, (k_max, self.frames, width)).astype(jnp.float32)
    # What the input neurons are shown of each item, and what the outputs must answer.
    keys, answers = (patterns[..., :d], patterns[..., d:]) if self.split_pairs else (patterns,) * 2

    # Store order: slot s holds pattern s. The last K slots are the active ones (blank slots
    # first: a quiet start), or the first K (blank slots last: storage starts at step 0, as in a
    # stream, and the blank slots lengthen the delay before recall).
    if cfg.get("blank_slots", "first") == "last":
      slot_active = jnp.arange(k_max) < num_patterns
    else:
      slot_active = jnp.arange(k_max) >= k_max - num_patterns
    if self.split_pairs and cfg.get("balanced_answers", False):
      answers = balanced_answers(jax.random.fold_in(key_patterns, 1), slot_active, answers.shape)
      patterns = jnp.concatenate([keys, answers], axis=-1)
    # Recall order: active patterns first, in random order.
    order_key = jax.random.uniform(key_order, (k_max,)) + jnp.where(slot_active, 0.0, 2.0)
    recall_pattern = jnp.argsort(order_key)
    recall_active = jnp.arange(k_max) < num_patterns

    # Which bits of each recall item are hidden in the cue.
    if cfg.mode == "auto":
      n_hidden = int(round(cfg.hidden_fraction * d))
      ranks = jnp.argsort(jnp.argsort(jax.random.uniform(key_hidden, (k_max, v)), axis=1), axis=1)
      hidden = (ranks < n_hidden).astype(jnp.float32)
    elif cfg.mode == "hetero" and not self.split_pairs:
      hidden = jnp.broadcast_to(jnp.concatenate([jnp.zeros(d), jnp.ones(d)]), (k_max, v))
    else:  # sequence, split pairs: the cue (frame, key) shows none of the target's bits
      hidden = jnp.ones((k_max, v))

    # Cue noise: each shown bit of a recall cue flipped with one probability per episode, drawn
    # uniformly in [0, task.cue_noise] (0: the stored bits exactly).
    cue_noise = cfg.get("cue_noise", 0.0)
    flips = jnp.ones((k_max, keys.shape[-1]))
    if cue_noise > 0:
      key_rate, key_bits = jax.random.split(jax.random.fold_in(key_hidden, 1))
      rate = jax.random.uniform(key_rate, (), maxval=cue_noise)
      flips = jnp.where(jax.random.uniform(key_bits, flips.shape) < rate, -1.0, 1.0)

    store_slot = jnp.asarray(np.maximum(sched.store_slot, 0))
    is_store = jnp.asarray(sched.store_slot >= 0) & slot_active[store_slot]
    store_inputs = keys[store_slot, sched.store_frame] * is_store[:, None]
    teaching = answers[store_slot, sched.store_frame] * is_store[:, None]
    if not self.teaching:
      teaching = jnp.zeros_like(teaching)

    recall_slot = jnp.asarray(np.maximum(sched.recall_slot, 0))
    is_recall = jnp.asarray(sched.recall_slot >= 0) & recall_active[recall_slot]
    recalled = recall_pattern[recall_slot]
    target_pm = answers[recalled, sched.recall_frame]  # (T, V) ±1
    step_hidden = hidden[recall_slot]
    is_cue = jnp.asarray(sched.recall_is_cue)
    if cfg.mode == "sequence":
      cue = jnp.where(is_cue[:, None], patterns[recalled, 0], 0.0)
    elif self.split_pairs:
      cue = keys[recalled, 0] * flips[recall_slot]
    else:
      cue = target_pm * (1.0 - step_hidden) * flips[recall_slot]
    recall_inputs = cue * is_recall[:, None]

    scored = is_recall & ~is_cue
    loss_mask = scored[:, None] * (step_hidden if cfg.mode == "hetero" else 1.0)  # split: all
    loss_mask = jnp.broadcast_to(loss_mask, (self.length, v)).astype(jnp.float32)
    items = jnp.asarray(sched.recall_slot * self.frames + sched.recall_frame)
    episode = Episode(
      inputs=store_inputs + recall_inputs,
      store_flags=is_store.astype(jnp.float32),
      teaching=teaching,
      targets=(target_pm + 1.0) / 2.0,
      loss_mask=loss_mask,
      hidden_mask=loss_mask * step_hidden,
      eval_mask=(scored & jnp.asarray(sched.recall_last_step)).astype(jnp.float32),
      recall_item=jnp.where(jnp.asarray(sched.recall_slot >= 0), items, -1),
      patterns=patterns,
      num_patterns=jnp.asarray(num_patterns),
      oracle_targets=self._oracle(
        keys, answers, slot_active, recalled, step_hidden, flips[recall_slot]
      ),
    )
    chex.assert_shape([episode.inputs, episode.teaching, episode.targets], (self.length, v))
    return episode

  def _oracle(self, keys, answers, slot_active, recalled, step_hidden, flips):
    """Nearest stored item to the cue on its visible bits; answers that item's frame."""
    sched = self.schedule
    cue_frame = 0 if self.config.mode == "sequence" else sched.recall_frame
    cue = keys[recalled, cue_frame] * flips  # (T, V) what the cue shows, before hiding
    shown = self.config.mode != "sequence" and not self.split_pairs
    visible = 1.0 - step_hidden if shown else jnp.ones_like(cue)
    candidates = keys[:, 0]  # (k_max, V) first frame of each stored item
    agreement = jnp.einsum("tv,kv->tk", cue * visible, candidates)
    agreement = jnp.where(slot_active[None, :], agreement, -jnp.inf)
    best = jnp.argmax(agreement, axis=1)  # ties: the first stored slot
    return answers[best, sched.recall_frame]

  def neuron_inputs(self, episode: Episode, topology) -> jax.Array:
    """Channel 0: the visible bit on its input neuron (0 elsewhere); channel 1: the store flag;
    with teaching, channel 2: the target on the output neurons while storing."""
    teaching = episode.teaching if self.teaching else None
    return external_channels(topology, episode.inputs, episode.store_flags, teaching)

  def sequence_inputs(self, episode: Episode) -> jax.Array:
    """(T, V + 1): the visible bits and the store flag (then the teaching signal: 2V + 1)."""
    parts = [episode.inputs, episode.store_flags[:, None]]
    if self.teaching:
      parts.append(episode.teaching)
    return jnp.concatenate(parts, axis=-1)

  def recall_counts(self, logits, episode: Episode) -> dict:
    """Read at the last step of every active recall item (`metrics.bit_recall_counts`)."""
    return metrics.bit_recall_counts(
      logits,
      episode.targets,
      episode.loss_mask,
      episode.hidden_mask,
      episode.eval_mask,
      episode.num_patterns,
      self.target_bits,
    )

  def oracle(self, episode: Episode) -> jax.Array:
    """The nearest-stored-pattern answer, ±1 (its sign is the read-out)."""
    return episode.oracle_targets

  def describe(self) -> str:
    return f"{self.config.mode} K={self.load_range[1]} D={self.config.pattern_bits}"

  def probe_split_step(self) -> int:
    """The first recall step: storage and delay are over, no cue has been shown."""
    return int(np.nonzero(self.schedule.recall_slot >= 0)[0][0])
