import jax
import numpy as np
import pytest

from learned_rules.tasks import remember
from tests.conftest import tiny_remember_config


def make_task(**overrides):
  config = tiny_remember_config().task
  with config.unlocked():
    for key, value in overrides.items():
      config[key] = value
  return remember.RememberTask(config)


def expected_length(c, frames=1):
  return (
    c.repetitions * c.k_max * (frames * c.store_steps + c.gap_steps)
    + c.delay_steps
    + (c.k_max * frames * c.recall_steps)
  )


def test_auto_shapes_masks_and_cue_corruption():
  task = make_task(pattern_bits=10, k_min=1, k_max=4, hidden_fraction=0.3, repetitions=2)
  c = task.config
  episode = task.sample(jax.random.PRNGKey(0), 3)
  t = expected_length(c)
  assert episode.inputs.shape == (t, 10) and episode.targets.shape == (t, 10)
  assert episode.loss_mask.shape == (t, 10) and episode.store_flags.shape == (t,)
  # Store phase: K patterns, each clamped P steps per repetition; the flag marks exactly those.
  assert float(episode.store_flags.sum()) == 3 * c.store_steps * c.repetitions
  store = np.asarray(episode.store_flags) > 0
  assert np.all(np.abs(np.asarray(episode.inputs)[store]) == 1)
  assert not np.asarray(episode.loss_mask)[store].any()
  # Recall: round(c * D) = 3 hidden bits per cue, zero in the input, the rest shown as stored.
  inputs, targets = np.asarray(episode.inputs), np.asarray(episode.targets)
  hidden, loss = np.asarray(episode.hidden_mask), np.asarray(episode.loss_mask)
  recall_rows = np.nonzero(loss.any(axis=1))[0]
  assert len(recall_rows) == 3 * c.recall_steps
  for row in recall_rows:
    assert hidden[row].sum() == 3
    assert np.all(inputs[row][hidden[row] > 0] == 0)
    shown = hidden[row] == 0
    np.testing.assert_array_equal(inputs[row][shown], 2 * targets[row][shown] - 1)
  assert float(episode.eval_mask.sum()) == 3  # one scored step per recalled pattern
  # Every active pattern is recalled exactly once; inactive slots give no input and no loss.
  stored = {tuple(p) for p in np.asarray(episode.patterns[-3:, 0])}
  recalled = {tuple(2 * targets[row] - 1) for row in recall_rows}
  assert recalled == stored
  tail = np.nonzero(np.asarray(episode.recall_item) >= 0)[0][-c.recall_steps :]
  assert not inputs[tail].any() and not loss[tail].any()


def test_hetero_cue_is_key_and_target_is_value():
  task = make_task(mode="hetero", pattern_bits=6, k_min=2, k_max=2)
  episode = task.sample(jax.random.PRNGKey(1), 2)
  assert episode.inputs.shape[1] == 12
  loss = np.asarray(episode.loss_mask)
  rows = np.nonzero(loss.any(axis=1))[0]
  assert np.all(loss[rows][:, :6] == 0) and np.all(loss[rows][:, 6:] == 1)
  inputs = np.asarray(episode.inputs)
  assert np.all(inputs[rows][:, 6:] == 0) and np.all(np.abs(inputs[rows][:, :6]) == 1)
  np.testing.assert_array_equal(np.asarray(episode.hidden_mask)[rows], loss[rows])


def test_sequence_cue_then_continuation():
  task = make_task(mode="sequence", pattern_bits=5, k_min=2, k_max=2, sequence_length=3)
  c = task.config
  episode = task.sample(jax.random.PRNGKey(2), 2)
  assert episode.inputs.shape[0] == expected_length(c, frames=3)
  recall = np.asarray(episode.recall_item) >= 0
  loss, inputs = np.asarray(episode.loss_mask), np.asarray(episode.inputs)
  cue_rows = recall & ~loss.any(axis=1)
  assert cue_rows.sum() == 2 * c.recall_steps  # one cue frame per snippet, unscored
  assert np.all(np.abs(inputs[cue_rows]) == 1)
  scored = recall & loss.any(axis=1)
  assert scored.sum() == 2 * 2 * c.recall_steps and not inputs[scored].any()


def test_oracle_is_exact_when_cues_are_unambiguous():
  task = make_task(pattern_bits=16, k_min=2, k_max=2, hidden_fraction=0.25)
  episode = task.sample(jax.random.PRNGKey(3), 2)
  scored = np.asarray(episode.eval_mask) > 0
  oracle_bits = (np.asarray(episode.oracle_targets)[scored] + 1) / 2
  np.testing.assert_array_equal(oracle_bits, np.asarray(episode.targets)[scored])


@pytest.mark.parametrize(
  "key,value,match",
  [
    ("mode", "telepathy", "task.mode"),
    ("hidden_fraction", 1.5, "task.hidden_fraction"),
    ("hidden_fraction", -0.1, "task.hidden_fraction"),
    ("pattern_bits", -4, "task.pattern_bits"),
    ("k_max", 300, "task.k_max"),
    ("k_min", 3, "task.k_min"),
    ("delay_steps", -1, "task.delay_steps"),
    ("blank_slots", "middle", "task.blank_slots"),
    ("balanced_answers", True, "task.balanced_answers"),  # the tiny config is auto, untaught
    ("cue_noise", 0.7, "task.cue_noise"),
  ],
)
def test_bad_task_values_name_the_key(key, value, match):
  config = tiny_remember_config().task
  with config.unlocked():
    config[key] = value
  with pytest.raises(ValueError, match=match):
    remember.validate(config)


@pytest.mark.parametrize("teaching", [False, True])
def test_cue_noise_flips_shown_key_bits_and_nothing_else(teaching):
  base = dict(mode="hetero", pattern_bits=16, k_min=8, k_max=8, teaching=teaching)
  clean, noisy = make_task(**base), make_task(**base, cue_noise=0.5)
  key = jax.random.PRNGKey(4)
  a, b = clean.sample(key, 8), noisy.sample(key, 8)
  # Storage, targets and masks are untouched; cue_noise = 0 is today's episode exactly.
  for field in ("store_flags", "teaching", "targets", "loss_mask", "eval_mask", "patterns"):
    np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
  np.testing.assert_array_equal(make_task(**base, cue_noise=0.0).sample(key, 8).inputs, a.inputs)
  store = np.asarray(a.store_flags) > 0
  np.testing.assert_array_equal(np.asarray(a.inputs)[store], np.asarray(b.inputs)[store])
  recall = np.asarray(a.loss_mask).any(axis=1)
  shown = np.abs(np.asarray(a.inputs)[recall]) > 0
  assert np.all((np.asarray(b.inputs)[recall] != 0) == shown)  # nothing hidden or revealed
  rates = []
  for seed in range(40):  # one flip rate per episode, uniform in [0, 0.5]: mean 0.25
    e, f = clean.sample(jax.random.PRNGKey(seed), 8), noisy.sample(jax.random.PRNGKey(seed), 8)
    cue = np.asarray(e.inputs)[recall] != 0
    rates.append(np.mean(np.asarray(e.inputs)[recall][cue] != np.asarray(f.inputs)[recall][cue]))
  assert 0.15 < np.mean(rates) < 0.35 and np.std(rates) > 0.05


@pytest.mark.parametrize("blank_slots", ["first", "last"])
def test_blank_slots_go_first_or_last(blank_slots):
  # k_max = 4 slots, K = 2 active, P = 2 store steps, G = 1 gap step: a slot is 3 steps long.
  task = make_task(
    pattern_bits=8, k_min=1, k_max=4, store_steps=2, gap_steps=1, blank_slots=blank_slots
  )
  episode = task.sample(jax.random.PRNGKey(3), 2)
  flags = np.asarray(episode.store_flags)[: 4 * 3]
  stored_slots = [s for s in range(4) if flags[3 * s : 3 * s + 2].all()]
  assert stored_slots == ([2, 3] if blank_slots == "first" else [0, 1])
  assert not flags[[3 * s for s in range(4) if s not in stored_slots]].any()
  # The two stored patterns are the ones recalled, whichever slots held them.
  inputs = np.asarray(episode.inputs)
  stored = {tuple(inputs[3 * s]) for s in stored_slots}
  eval_rows = np.nonzero(np.asarray(episode.eval_mask))[0]
  recalled = {tuple(2 * np.asarray(episode.targets)[t] - 1) for t in eval_rows}
  assert len(eval_rows) == 2 and recalled == stored


@pytest.mark.parametrize("load", [3, 4])
def test_balanced_answers_split_every_bit_and_evaluation_does_not(load):
  """Each answer bit is +1 on half of the active pairs (odd K: one off), so the per-bit majority
  of the stored answers says nothing; fixed-load (evaluation) episodes draw plain answers."""
  task = make_task(mode="hetero", teaching=True, k_min=1, k_max=4, balanced_answers=True)
  episodes = task.sample_batch(jax.random.PRNGKey(0), 64, load, load)
  d = task.config.pattern_bits
  answers = np.asarray(episodes.patterns)[:, :, 0, d:]  # (B, k_max, D)
  active = answers[:, -load:]  # blank slots first: the last K slots are stored
  sums = active.sum(axis=1)
  assert set(np.unique(np.abs(sums))) == ({0.0} if load % 2 == 0 else {1.0})
  assert (answers[:, : 4 - load] == -1).all()
  # The teaching channel and the targets carry these same answers.
  store = np.asarray(episodes.store_flags[0]) > 0
  taught = np.asarray(episodes.teaching)[:, store]
  assert set(np.unique(taught)) == {-1.0, 1.0}
  # Not every item of every episode is the same: the arrangement is random.
  assert len({tuple(a.ravel()) for a in active}) > 32
  plain = task.at_load(load).sample_batch(jax.random.PRNGKey(0), 64, load, load)
  plain_sums = np.asarray(plain.patterns)[:, -load:, 0, d:].sum(axis=1)
  assert np.abs(plain_sums).max() > 1
