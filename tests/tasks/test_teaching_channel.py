"""The remember task's teaching channel: only on output neurons, only while storing; the hetero
layout it enables on layered nets; and every kind of model still reads the task's input."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from learned_rules import evaluation, experiment, rules, topology
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import Network
from learned_rules.tasks import remember
from learned_rules.tasks.base import TEACHING_CHANNEL, model_inputs
from tests.conftest import tiny_remember_config


def task_config(**overrides):
  config = tiny_remember_config().task
  with config.unlocked():
    config.teaching = True
    for key, value in overrides.items():
      config[key] = value
  return config


def sample(task, seed, load):
  return jax.device_get(jax.jit(task.sample, static_argnums=1)(jax.random.PRNGKey(seed), load))


@pytest.mark.parametrize("mode", ["auto", "hetero"])
@pytest.mark.parametrize("hidden_sizes", [(5,), (6, 4)], ids=["one_hidden", "two_hidden"])
def test_teaching_reaches_only_output_neurons_only_while_storing(mode, hidden_sizes):
  task = remember.RememberTask(task_config(mode=mode, pattern_bits=6, k_min=1, k_max=3))
  d = 6
  assert task.num_visible == d and task.input_channels == 3  # hetero: keys in, values out
  net = topology.layered(task.num_visible, hidden_sizes)
  episode = sample(task, 1, 2)  # 2 of 3 slots stored: the first slot is blank
  external = np.asarray(task.neuron_inputs(episode, net))
  assert external.shape == (task.length, net.num_neurons, 3)
  values, flags, teaching = external[..., 0], external[..., 1], external[..., TEACHING_CHANNEL]
  store = np.asarray(episode.store_flags) > 0
  assert store.sum() == 2 * task.config.store_steps
  others = np.setdiff1d(np.arange(net.num_neurons), net.output_index)
  assert not teaching[:, others].any()  # never on input or hidden neurons
  assert not teaching[~store].any()  # never outside storage (recall, gaps, delay)
  taught = teaching[store][:, net.output_index]
  assert np.all(np.abs(taught) == 1)  # every output neuron is taught at every store step
  np.testing.assert_array_equal(flags, np.broadcast_to(store[:, None], flags.shape))
  # What is taught is what recall must answer; what is clamped is what recall cues.
  patterns = np.asarray(episode.patterns)[-2:, 0]  # the two stored items, in store order
  rows = np.nonzero(store)[0].reshape(2, -1)  # P steps per item
  keys, answers = (patterns[:, :d], patterns[:, d:]) if mode == "hetero" else (patterns,) * 2
  for item, item_rows in enumerate(rows):
    steps = (len(item_rows), 1)
    np.testing.assert_array_equal(
      teaching[item_rows][:, net.output_index], np.tile(answers[item], steps)
    )
    np.testing.assert_array_equal(values[item_rows][:, net.input_index], np.tile(keys[item], steps))
  scored = np.asarray(episode.eval_mask) > 0
  cues, targets = values[scored][:, net.input_index], 2 * np.asarray(episode.targets)[scored] - 1
  for cue, target in zip(cues, targets, strict=True):
    item = int(np.argmax([(cue == key).sum() for key in keys]))
    np.testing.assert_array_equal(target, answers[item])
    if mode == "hetero":  # the whole key is the cue, every answer bit is hidden and scored
      np.testing.assert_array_equal(cue, keys[item])
  if mode == "hetero":
    np.testing.assert_array_equal(np.asarray(episode.hidden_mask)[scored], 1.0)
  # The oracle (nearest stored key's answer) is exact on these 6-bit keys unless two collide.
  if not np.array_equal(keys[0], keys[1]):
    oracle = np.asarray(episode.oracle_targets)[scored]
    np.testing.assert_array_equal(oracle, targets)


def test_auto_teaching_only_adds_channel_2_and_the_stream_grows():
  plain = remember.RememberTask(task_config(teaching=False))
  taught = remember.RememberTask(task_config())
  assert plain.input_channels == 2 and taught.input_channels == 3
  net = topology.layered(8, (5,))
  a, b = sample(plain, 4, 2), sample(taught, 4, 2)
  np.testing.assert_array_equal(a.inputs, b.inputs)  # the same episode, the same clamped input
  assert not np.asarray(a.teaching).any()
  np.testing.assert_array_equal(
    plain.neuron_inputs(a, net), np.asarray(taught.neuron_inputs(b, net))[..., :2]
  )
  stream = np.asarray(taught.sequence_inputs(b))
  assert stream.shape == (taught.length, taught.sequence_input_size) == (taught.length, 17)
  np.testing.assert_array_equal(stream[:, 9:], b.teaching)
  assert plain.sequence_input_size == 9


@pytest.mark.parametrize(
  "overrides,match",
  [
    (dict(teaching="yes"), "task.teaching='yes'"),
    (dict(teaching=1), "task.teaching=1"),
    (dict(mode="sequence"), "task.teaching=True"),
  ],
)
def test_bad_teaching_values_name_the_key(overrides, match):
  # A fresh ConfigDict: a locked config's bool field would refuse the wrong type itself.
  config = ml_collections.ConfigDict({**task_config().to_dict(), **overrides})
  with pytest.raises(ConfigError, match=match):
    remember.validate(config)


def test_hand_written_rules_ignore_the_teaching_channel():
  task = remember.RememberTask(task_config(pattern_bits=8, k_min=2, k_max=2))
  net_topology = topology.fully_connected(8)
  episode = sample(task, 6, 2)
  external = task.neuron_inputs(episode, net_topology)
  for name in ("hebbian", "storkey_cued", "delta"):
    rule = rules.build(name, tiny_remember_config().rule, rules.Context(topology=net_topology))
    net = Network(rule, net_topology)
    params = rule.init_params(jax.random.PRNGKey(0), 4)
    with_teaching = net.run_episode(params, jax.random.PRNGKey(1), external, remat=False)[0]
    without = net.run_episode(params, jax.random.PRNGKey(1), external[..., :2], remat=False)[0]
    np.testing.assert_array_equal(with_teaching, without)


@pytest.mark.parametrize("rule_name", ["learned", "lstm"])
def test_learned_rule_and_lstm_read_the_teaching_channel(rule_name):
  config = tiny_remember_config()
  with config.unlocked():
    config.task.teaching = True
    config.task.mode = "hetero"
    config.topology.name = "layered"
    config.topology.hidden_sizes = (5,)
    config.rule.lstm_hidden_size = 8
  exp = experiment.build(config)
  model = exp.model(rule_name)
  params = model.init_params(jax.random.PRNGKey(0))
  sample = jax.jit(exp.task.sample_batch, static_argnums=(1, 2, 3))
  episodes = sample(jax.random.PRNGKey(2), 2, 2, 2)
  inputs = model_inputs(exp.task, model, episodes)
  if rule_name == "learned":  # (evaluated through the entry point in test_backprop_rule.py)
    assert model.rule.input_size == 3 and inputs.shape[-1] == 3
    # The teaching channel changes what the learned rule computes (it is an input, not ignored).
    zeroed = inputs.at[..., TEACHING_CHANNEL].set(0.0)
    run = jax.jit(lambda x: model.run_episode(params, jax.random.PRNGKey(3), x, remat=False)[0])
    logits = jax.vmap(run)(jnp.stack([inputs[0], zeroed[0]]))
    assert logits.shape == (2, exp.task.length, 8) and not jnp.allclose(logits[0], logits[1])
  else:
    assert inputs.shape == (2, exp.task.length, 2 * 8 + 1)
    report = evaluation.evaluate(model, params, exp.task, 0, num_episodes=2, batch_size=2)
    assert 0.0 <= report["hidden_bit_accuracy"] <= 1.0
