"""The teacher task: layout, teaching channel, ceiling and floor, unseen keys, and one real run."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import teacher as teacher_config
from learned_rules import evaluation, experiment, tasks, topology
from learned_rules.common.errors import ConfigError
from learned_rules.tasks import teacher
from learned_rules.tasks.base import model_inputs
from learned_rules.train import trainer


def task_config(**overrides):
  config = teacher_config.get_config().task
  with config.unlocked():
    for key, value in overrides.items():
      config[key] = value
  return config


def make_task(**overrides) -> teacher.TeacherTask:
  return teacher.TeacherTask(task_config(**overrides))


def sample_batch(task, seed, batch_size, load_min, load_max):
  """A batch of episodes as host numpy arrays (sampled in one jitted call)."""
  sample = jax.jit(task.sample_batch, static_argnums=(1, 2, 3))
  return jax.device_get(sample(jax.random.PRNGKey(seed), batch_size, load_min, load_max))


def expected_length(c):
  return c.k_max * (c.store_steps + c.gap_steps) + c.delay_steps + c.num_queries * c.recall_steps


def test_shapes_masks_and_layout():
  task = make_task(pattern_bits=6, k_min=1, k_max=4, num_queries=3, teacher="two_layer")
  c, d = task.config, 6
  episode = jax.device_get(jax.jit(task.sample)(jax.random.PRNGKey(0), 3))
  t = expected_length(c)
  assert task.length == t and task.num_visible == 2 * d and task.target_bits == d
  for field in ("inputs", "teaching", "targets", "loss_mask"):
    assert getattr(episode, field).shape == (t, 2 * d), field
  assert episode.store_flags.shape == episode.eval_mask.shape == (t,)
  inputs, teaching = np.asarray(episode.inputs), np.asarray(episode.teaching)
  store = np.asarray(episode.store_flags) > 0
  # Storage: the last K = 3 of 4 slots, each [x_k, teacher(x_k)] for P steps; blank slot first.
  assert store.sum() == 3 * c.store_steps and not store[: c.store_steps + c.gap_steps].any()
  stored = {tuple(row) for row in inputs[store]}
  pairs = np.concatenate([episode.stored_keys, episode.stored_answers], axis=1)[1:]
  assert stored == {tuple(row) for row in np.asarray(pairs)}
  np.testing.assert_array_equal(teaching[store][:, :d], 0)
  np.testing.assert_array_equal(teaching[store][:, d:], inputs[store][:, d:])
  assert not teaching[~store].any()
  # Queries: [x_q, 0] in, y half scored, read at the last of the P_r steps of each query.
  query = np.asarray(episode.query_item) >= 0
  assert query.sum() == c.num_queries * c.recall_steps and not (query & store).any()
  assert not inputs[query][:, d:].any() and np.all(np.abs(inputs[query][:, :d]) == 1)
  loss = np.asarray(episode.loss_mask)
  assert np.all(loss[query][:, d:] == 1) and not loss[query][:, :d].any() and not loss[~query].any()
  eval_rows = np.nonzero(np.asarray(episode.eval_mask))[0]
  np.testing.assert_array_equal(np.asarray(episode.query_item)[eval_rows], np.arange(3))
  assert np.all(np.diff(eval_rows) == c.recall_steps)
  targets = np.asarray(episode.targets)[eval_rows][:, d:]
  np.testing.assert_array_equal(2 * targets - 1, episode.query_answers)
  assert task.probe_split_step() == np.nonzero(query)[0][0] == t - 3 * c.recall_steps


@pytest.mark.parametrize(
  "net",
  [topology.layered(num_visible=12, hidden_sizes=(8,)), topology.fully_connected(12)],
  ids=["layered", "fully_connected"],
)
def test_teaching_channel_only_on_output_neurons_during_storage(net):
  task = make_task(pattern_bits=6, k_min=2, k_max=3, num_queries=2)
  episode = jax.device_get(jax.jit(task.sample)(jax.random.PRNGKey(1), 2))
  external = np.asarray(task.neuron_inputs(episode, net))
  assert (
    external.shape == (task.length, net.num_neurons, task.input_channels)
    and task.input_channels == 3
  )
  values, flags, teaching = external[..., 0], external[..., 1], external[..., 2]
  store = np.asarray(episode.store_flags) > 0
  others = np.setdiff1d(np.arange(net.num_neurons), net.output_index)
  assert not teaching[:, others].any() and not teaching[~store].any()
  out = teaching[:, net.output_index]
  np.testing.assert_array_equal(out[store][:, :6], 0)
  np.testing.assert_array_equal(out[store][:, 6:], np.asarray(episode.inputs)[store][:, 6:])
  assert np.all(np.abs(out[store][:, 6:]) == 1)
  np.testing.assert_array_equal(values[:, net.input_index], episode.inputs)
  assert not values[:, np.setdiff1d(np.arange(net.num_neurons), net.input_index)].any()
  np.testing.assert_array_equal(flags, np.broadcast_to(store[:, None], flags.shape))
  sequence = task.sequence_inputs(episode)
  assert sequence.shape == (task.length, task.sequence_input_size) == (task.length, 25)


@pytest.mark.parametrize("kind", ["linear", "two_layer"])
@pytest.mark.parametrize("query_seen", [False, True])
def test_oracle_is_the_ceiling_and_majority_the_floor(kind, query_seen):
  task = make_task(teacher=kind, query_seen=query_seen, k_min=3, k_max=5, num_queries=6)
  oracle = evaluation.evaluate(None, None, task, seed=0, num_episodes=32, batch_size=16)
  assert oracle["hidden_bit_accuracy"] == oracle["bit_accuracy"] == 1.0
  assert oracle["perfect_recall_fraction"] == 1.0
  assert oracle["information_bits"] == 5 * 16  # K * D at the default (largest) load
  # The floor: the per-bit majority of the K stored answers (ties +1), at every query.
  episodes = sample_batch(task, 2, 16, 3, 5)
  floor = np.asarray(jax.jit(jax.vmap(task.floor))(episodes))
  for b in range(16):
    k = int(episodes.num_pairs[b])
    answers = np.asarray(episodes.stored_answers[b])[-k:]
    majority = np.where(answers.sum(axis=0) >= 0, 1.0, -1.0)
    np.testing.assert_array_equal(floor[b][:, 16:], np.broadcast_to(majority, (task.length, 16)))
  counts = jax.jit(lambda f, e: evaluation.summed_counts(task, f, e))(floor, episodes)
  accuracy = task.summarize(counts, 0, 0)["hidden_bit_accuracy"]
  correct = (floor[..., 16:] > 0) == (np.asarray(episodes.targets)[..., 16:] > 0)
  mask = np.asarray(episodes.eval_mask)[..., None] * np.ones(16)
  assert accuracy == pytest.approx((correct * mask).sum() / mask.sum())
  assert 0.0 < accuracy < 1.0


@pytest.mark.parametrize("kind", ["linear", "two_layer"])
def test_each_episode_has_its_own_teacher_and_answers_follow_it(kind):
  task = make_task(teacher=kind, teacher_hidden=5, pattern_bits=8, k_min=4, k_max=4)
  episodes = sample_batch(task, 3, 8, 4, 4)
  probe = jax.random.rademacher(jax.random.PRNGKey(4), (64, 8), jnp.float32)
  answers = np.stack(
    [np.asarray(task.answers(jax.tree.map(lambda x, b=b: x[b], episodes), probe)) for b in range(8)]
  )
  assert len({a.tobytes() for a in answers}) == 8  # eight different teachers
  # The closed form: sign(W x), or sign(W2 sign(W1 x)), with sign(0) = +1.
  sign = lambda x: np.where(x >= 0, 1.0, -1.0)
  weights = [np.asarray(w[0]) for w in episodes.teacher_weights]
  keys = np.asarray(episodes.stored_keys[0])
  expected = sign(keys @ weights[0].T)
  if kind == "two_layer":
    assert weights[0].shape == (5, 8) and weights[1].shape == (8, 5)
    expected = sign(expected @ weights[1].T)
  np.testing.assert_array_equal(episodes.stored_answers[0], expected)
  first = jax.tree.map(lambda x: x[0], episodes)
  np.testing.assert_array_equal(episodes.query_answers[0], task.answers(first, first.query_keys))


def test_unseen_queries_are_never_stored_keys():
  # Three-bit keys, five stored: only three keys are unseen, so a plain draw would often collide.
  task = make_task(pattern_bits=3, k_min=5, k_max=7, num_queries=8)
  episodes = sample_batch(task, 5, 64, 5, 7)
  for b in range(64):
    k = int(episodes.num_pairs[b])
    stored = {tuple(x) for x in np.asarray(episodes.stored_keys[b])[-k:]}
    asked = {tuple(x) for x in np.asarray(episodes.query_keys[b])}
    assert not stored & asked
  # At the default D = 16, keys are fresh and varied.
  task = make_task()
  episodes = sample_batch(task, 6, 32, 4, 8)
  for b in range(32):
    stored = {tuple(x) for x in np.asarray(episodes.stored_keys[b])}
    asked = {tuple(x) for x in np.asarray(episodes.query_keys[b])}
    assert not stored & asked and len(asked) == 8


def test_seen_queries_ask_every_stored_key():
  task = make_task(query_seen=True, k_min=2, k_max=4, num_queries=6)
  episodes = sample_batch(task, 7, 16, 2, 4)
  for b in range(16):
    k = int(episodes.num_pairs[b])
    stored = [tuple(x) for x in np.asarray(episodes.stored_keys[b])[-k:]]
    asked = [tuple(x) for x in np.asarray(episodes.query_keys[b])]
    assert set(asked) == set(stored)  # 6 queries cycle through a shuffle of the K stored keys
    assert all(asked[i] == asked[i + k] for i in range(6 - k))
    answers = {
      tuple(x): tuple(y)
      for x, y in zip(stored, np.asarray(episodes.stored_answers[b])[-k:], strict=True)
    }
    assert [answers[x] for x in asked] == [tuple(y) for y in np.asarray(episodes.query_answers[b])]


@pytest.mark.parametrize(
  "key,value",
  [
    ("teacher", "quadratic"),
    ("pattern_bits", 0),
    ("teacher_hidden", -1),
    ("k_min", 0),
    ("num_queries", 0),
    ("store_steps", 0),
    ("recall_steps", 0),
    ("gap_steps", -1),
    ("delay_steps", -1),
    ("k_max", 2**6),
  ],
)
def test_bad_values_name_their_key(key, value):
  overrides = {"pattern_bits": 6} if key != "pattern_bits" else {}
  with pytest.raises(ConfigError, match=f"task.{key}="):
    tasks.validate(task_config(**overrides, **{key: value}))


def test_load_checks_and_fixed_load():
  task = make_task(pattern_bits=3, k_min=1, k_max=4)
  with pytest.raises(ConfigError, match="eval.k=8"):
    task.check_load(8, "eval.k")
  fixed = task.at_load(6)
  assert fixed.load_range == (6, 6) and fixed.length > task.length


def test_registry_builds_the_teacher_task():
  config = teacher_config.get_config()
  assert "teacher" in tasks.TASKS.names
  tasks.validate(config.task)
  assert isinstance(tasks.build(config.task), teacher.TeacherTask)
  built = experiment.build(config)
  assert built.task.input_channels == 3 and built.topology.num_visible == 32


def test_lstm_reads_the_sequence_stream():
  config = teacher_config.get_config()
  with config.unlocked():
    config.task.pattern_bits = 4
    config.rule.lstm_hidden_size = 8
  exp = experiment.build(config)
  model = exp.model("lstm")
  episodes = exp.task.sample_batch(jax.random.PRNGKey(8), 2, 4, 8)
  assert model_inputs(exp.task, model, episodes).shape == (2, exp.task.length, 17)
  report = evaluation.evaluate(
    model, model.init_params(jax.random.PRNGKey(0)), exp.task, 0, num_episodes=2, batch_size=2
  )
  assert 0.0 <= report["hidden_bit_accuracy"] <= 1.0


def tiny_teacher_config():
  config = teacher_config.get_config()
  with config.unlocked():
    config.task.pattern_bits = 4
    config.task.k_min = 1
    config.task.k_max = 2
    config.task.num_queries = 2
    config.topology.name = "layered"
    config.topology.hidden_sizes = (6,)
    config.rule.neuron_state_size = 4
    config.rule.synapse_state_size = 2
    config.rule.message_size = 4
    config.rule.hidden_size = 8
    config.train.num_steps = 3
    config.train.batch_size = 4
    config.train.log_every = 1
    config.eval.num_episodes = 8
    config.eval.batch_size = 4
    config.eval.baselines = ("hebbian",)
  return config


def test_meta_training_end_to_end_speaks_only_the_task_interface(tmp_path):
  report = trainer.train_and_evaluate(tiny_teacher_config(), str(tmp_path))
  written = json.loads((tmp_path / "eval.json").read_text())
  assert written["rules"] == report["rules"]
  assert set(written["rules"]) == {"learned", "hebbian", evaluation.ORACLE, "floor"}
  assert written["rules"]["oracle"]["hidden_bit_accuracy"] == 1.0
  assert written["task"]["name"] == "teacher" and written["task"]["num_neurons"] == 8 + 6 + 8
  for rule, values in written["rules"].items():
    for name, value in values.items():
      assert value is None or math.isfinite(value), (rule, name, value)
  assert written["rules"][evaluation.ORACLE]["hidden_bit_accuracy"] == 1.0
  lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
  losses = [json.loads(line)["train/loss"] for line in lines if "train/loss" in line]
  assert len(losses) == 3 and all(math.isfinite(x) for x in losses)
