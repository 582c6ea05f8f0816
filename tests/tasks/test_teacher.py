"""The teacher task: both layouts, teaching channel, ceiling and floor, unseen keys, a real run."""

import json
import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from configs import remember_layered, teacher_layered
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
  storage = c.repetitions * c.k_max * (c.store_steps + c.gap_steps)
  return storage + c.delay_steps + c.num_queries * c.recall_steps


def answer_bits(task) -> slice:
  """Where the answer y sits in the visible vector: all of it (teaching) or the second half."""
  d = task.config.pattern_bits
  return slice(0, d) if task.config.teaching else slice(d, 2 * d)


@pytest.mark.parametrize("teaching", [False, True], ids=["x_y", "taught"])
def test_shapes_masks_and_layout(teaching):
  task = make_task(
    pattern_bits=6, k_min=1, k_max=4, num_queries=3, teacher="two_layer", teaching=teaching
  )
  c, d = task.config, 6
  v = d if teaching else 2 * d
  episode = jax.device_get(jax.jit(task.sample)(jax.random.PRNGKey(0), 3))
  t = expected_length(c)
  assert task.length == t and task.num_visible == v and task.target_bits == d
  assert task.input_channels == (3 if teaching else 2)
  assert task.sequence_input_size == (2 * v + 1 if teaching else v + 1)
  for field in ("inputs", "teaching", "targets", "loss_mask"):
    assert getattr(episode, field).shape == (t, v), field
  assert episode.store_flags.shape == episode.eval_mask.shape == (t,)
  inputs, teaching_in = np.asarray(episode.inputs), np.asarray(episode.teaching)
  store = np.asarray(episode.store_flags) > 0
  keys, answers = np.asarray(episode.stored_keys)[1:], np.asarray(episode.stored_answers)[1:]
  # Storage: the last K = 3 of 4 slots, each for P steps; the blank slot comes first.
  assert store.sum() == 3 * c.store_steps and not store[: c.store_steps + c.gap_steps].any()
  rows = np.nonzero(store)[0].reshape(3, c.store_steps)
  for item, item_rows in enumerate(rows):
    if teaching:  # x on the inputs, y on the teaching channel
      np.testing.assert_array_equal(inputs[item_rows], np.tile(keys[item], (c.store_steps, 1)))
      np.testing.assert_array_equal(
        teaching_in[item_rows], np.tile(answers[item], (c.store_steps, 1))
      )
    else:  # [x, y] together on the visible neurons, nothing taught
      pair = np.concatenate([keys[item], answers[item]])
      np.testing.assert_array_equal(inputs[item_rows], np.tile(pair, (c.store_steps, 1)))
  if not teaching:
    assert not teaching_in.any()
  assert not teaching_in[~store].any()
  # Queries: x_q in (with a blank y half without teaching), the answer scored, read at the last
  # of the P_r steps of each query.
  query = np.asarray(episode.query_item) >= 0
  assert query.sum() == c.num_queries * c.recall_steps and not (query & store).any()
  assert not inputs[~query & ~store].any()
  np.testing.assert_array_equal(
    inputs[query][:, :d], np.asarray(episode.query_keys)[np.asarray(episode.query_item)[query]]
  )
  if not teaching:
    assert not inputs[query][:, d:].any()
  loss = np.asarray(episode.loss_mask)
  scored = np.zeros(v)
  scored[answer_bits(task)] = 1
  np.testing.assert_array_equal(loss[query], np.tile(scored, (query.sum(), 1)))
  assert not loss[~query].any()
  eval_rows = np.nonzero(np.asarray(episode.eval_mask))[0]
  np.testing.assert_array_equal(np.asarray(episode.query_item)[eval_rows], np.arange(3))
  assert np.all(np.diff(eval_rows) == c.recall_steps)
  targets = np.asarray(episode.targets)[eval_rows][:, answer_bits(task)]
  np.testing.assert_array_equal(2 * targets - 1, episode.query_answers)
  assert task.probe_split_step() == np.nonzero(query)[0][0] == t - 3 * c.recall_steps


@pytest.mark.parametrize("teaching", [False, True], ids=["x_y", "taught"])
def test_repetitions_are_passes_over_the_stored_pairs_in_order(teaching):
  task = make_task(
    pattern_bits=5, k_min=2, k_max=3, num_queries=2, repetitions=3, teaching=teaching
  )
  c = task.config
  episode = jax.device_get(jax.jit(task.sample)(jax.random.PRNGKey(9), 2))
  assert task.length == expected_length(c)
  store = np.asarray(episode.store_flags) > 0
  rows = np.nonzero(store)[0].reshape(3 * 2, c.store_steps)[:, 0]  # 3 passes over 2 pairs
  shown = np.asarray(episode.inputs)[rows][:, :5]
  keys = np.asarray(episode.stored_keys)[1:]
  np.testing.assert_array_equal(shown, np.tile(keys, (3, 1)))
  with pytest.raises(ConfigError, match="task.repetitions=0"):
    tasks.validate(task_config(repetitions=0))


@pytest.mark.parametrize(
  "net",
  [topology.layered(num_visible=6, hidden_sizes=(8,)), topology.layered(6, (5, 4))],
  ids=["one_hidden", "two_hidden"],
)
def test_teaching_channel_only_on_output_neurons_during_storage(net):
  task = make_task(pattern_bits=6, k_min=2, k_max=3, num_queries=2, teaching=True)
  episode = jax.device_get(jax.jit(task.sample)(jax.random.PRNGKey(1), 2))
  external = np.asarray(task.neuron_inputs(episode, net))
  assert external.shape == (task.length, net.num_neurons, 3) and task.input_channels == 3
  values, flags, teaching = external[..., 0], external[..., 1], external[..., 2]
  store = np.asarray(episode.store_flags) > 0
  others = np.setdiff1d(np.arange(net.num_neurons), net.output_index)
  assert not teaching[:, others].any() and not teaching[~store].any()
  out = teaching[:, net.output_index][store]
  answers = np.asarray(episode.stored_answers)[1:]  # the two stored pairs, in store order
  np.testing.assert_array_equal(out, np.repeat(answers, task.config.store_steps, axis=0))
  keys = np.asarray(episode.stored_keys)[1:]
  np.testing.assert_array_equal(
    values[:, net.input_index][store], np.repeat(keys, task.config.store_steps, axis=0)
  )
  assert not values[:, np.setdiff1d(np.arange(net.num_neurons), net.input_index)].any()
  np.testing.assert_array_equal(flags, np.broadcast_to(store[:, None], flags.shape))
  sequence = task.sequence_inputs(episode)
  assert sequence.shape == (task.length, task.sequence_input_size) == (task.length, 13)


def test_without_teaching_two_channels_on_a_fully_connected_net():
  task = make_task(pattern_bits=6, k_min=2, k_max=3, num_queries=2)
  net = topology.fully_connected(12)
  episode = jax.device_get(jax.jit(task.sample)(jax.random.PRNGKey(1), 2))
  external = np.asarray(task.neuron_inputs(episode, net))
  assert external.shape == (task.length, 12, 2) and task.input_channels == 2
  np.testing.assert_array_equal(external[..., 0], episode.inputs)
  store = np.asarray(episode.store_flags, np.float32)
  np.testing.assert_array_equal(
    external[..., 1], np.broadcast_to(store[:, None], (task.length, 12))
  )
  assert task.sequence_inputs(episode).shape == (task.length, 13)


@pytest.mark.parametrize(
  "remember_overrides,teacher_module",
  [
    ({"task.mode": "hetero", "task.pattern_bits": 16}, teacher_config),
    ({}, teacher_layered),
  ],
  ids=["fully_connected", "layered"],
)
def test_a_rule_trained_on_remember_runs_on_the_teacher_task(remember_overrides, teacher_module):
  """Same network, channels and meta-parameter shapes as remember hetero (with teaching on the
  layered net), so meta-parameters trained there evaluate here unchanged."""
  from configs import remember

  base = remember_layered if teacher_module is teacher_layered else remember
  remember_cfg = base.get_config()
  with remember_cfg.unlocked():
    for key, value in remember_overrides.items():
      section, leaf = key.split(".")
      remember_cfg[section][leaf] = value
  source = experiment.build(remember_cfg)
  target = experiment.build(teacher_module.get_config())
  assert source.task.input_channels == target.task.input_channels
  assert source.task.num_visible == target.task.num_visible
  np.testing.assert_array_equal(source.topology.mask, target.topology.mask)
  source_params = source.model("learned").init_params(jax.random.PRNGKey(0))
  target_params = target.model("learned").init_params(jax.random.PRNGKey(0))
  assert jax.tree.map(np.shape, source_params) == jax.tree.map(np.shape, target_params)
  report = evaluation.evaluate(
    target.model("learned"), source_params, target.task, seed=0, num_episodes=2, batch_size=2
  )
  assert 0.0 <= report["hidden_bit_accuracy"] <= 1.0


@pytest.mark.parametrize(
  "kind,query_seen,teaching",
  [
    ("linear", False, False),
    ("linear", False, True),
    ("two_layer", False, True),
    ("two_layer", True, False),
    ("linear", True, True),
  ],
)
def test_oracle_is_the_ceiling_and_majority_the_floor(kind, query_seen, teaching):
  task = make_task(
    teacher=kind, query_seen=query_seen, k_min=3, k_max=5, num_queries=6, teaching=teaching
  )
  y = answer_bits(task)
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
    np.testing.assert_array_equal(floor[b][:, y], np.broadcast_to(majority, (task.length, 16)))
  counts = jax.jit(lambda f, e: evaluation.summed_counts(task, f, e))(floor, episodes)
  accuracy = task.summarize(counts, 0, 0)["hidden_bit_accuracy"]
  correct = (floor[..., y] > 0) == (np.asarray(episodes.targets)[..., y] > 0)
  mask = np.asarray(episodes.eval_mask)[..., None] * np.ones(16)
  assert accuracy == pytest.approx((correct * mask).sum() / mask.sum())
  assert 0.0 < accuracy < 1.0
  if not query_seen:  # on unseen keys the floor is near chance (odd teachers: unbiased answers)
    floor_report = evaluation.evaluate(
      None, None, task, seed=1, num_episodes=128, batch_size=128, reference="floor"
    )
    assert abs(floor_report["hidden_bit_accuracy"] - 0.5) < 0.05


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


@pytest.mark.parametrize("teaching", [False, True], ids=["x_y", "taught"])
def test_unseen_queries_are_never_stored_keys(teaching):
  # Three-bit keys, five stored: only three keys are unseen, so a plain draw would often collide.
  task = make_task(pattern_bits=3, k_min=5, k_max=7, num_queries=8, teaching=teaching)
  episodes = sample_batch(task, 5, 64, 5, 7)
  for b in range(64):
    k = int(episodes.num_pairs[b])
    stored = {tuple(x) for x in np.asarray(episodes.stored_keys[b])[-k:]}
    asked = {tuple(x) for x in np.asarray(episodes.query_keys[b])}
    assert not stored & asked
    # The keys shown at query steps are these unseen keys.
    query = np.asarray(episodes.query_item[b]) >= 0
    shown = {tuple(x) for x in np.asarray(episodes.inputs[b])[query][:, :3]}
    assert shown == asked
  # At the default D = 16, keys are fresh and varied.
  task = make_task(teaching=teaching)
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
    ("repetitions", 0),
  ],
)
def test_bad_values_name_their_key(key, value):
  overrides = {"pattern_bits": 6} if key != "pattern_bits" else {}
  with pytest.raises(ConfigError, match=f"task.{key}="):
    tasks.validate(task_config(**overrides, **{key: value}))


def test_teaching_must_be_a_bool():
  config = ml_collections.ConfigDict(task_config().to_dict() | {"teaching": "yes"})
  with pytest.raises(ConfigError, match="task.teaching='yes'"):
    tasks.validate(config)


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
  assert built.task.input_channels == 2 and built.topology.num_visible == 32
  layered = experiment.build(teacher_layered.get_config())
  assert layered.task.input_channels == 3 and layered.topology.num_neurons == 16 + 32 + 16


def test_lstm_reads_the_sequence_stream():
  config = teacher_config.get_config()
  with config.unlocked():
    config.task.pattern_bits = 4
    config.rule.lstm_hidden_size = 8
  exp = experiment.build(config)
  model = exp.model("lstm")
  episodes = exp.task.sample_batch(jax.random.PRNGKey(8), 2, 4, 8)
  assert model_inputs(exp.task, model, episodes).shape == (2, exp.task.length, 9)  # [x, y], flag
  report = evaluation.evaluate(
    model, model.init_params(jax.random.PRNGKey(0)), exp.task, 0, num_episodes=2, batch_size=2
  )
  assert 0.0 <= report["hidden_bit_accuracy"] <= 1.0


def tiny_teacher_config():
  config = teacher_layered.get_config()
  with config.unlocked():
    config.task.pattern_bits = 4
    config.task.k_min = 1
    config.task.k_max = 2
    config.task.num_queries = 2
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
  assert written["task"]["name"] == "teacher" and written["task"]["num_neurons"] == 4 + 6 + 4
  for rule, values in written["rules"].items():
    for name, value in values.items():
      assert value is None or math.isfinite(value), (rule, name, value)
  assert written["rules"][evaluation.ORACLE]["hidden_bit_accuracy"] == 1.0
  lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
  losses = [json.loads(line)["train/loss"] for line in lines if "train/loss" in line]
  assert len(losses) == 3 and all(math.isfinite(x) for x in losses)
