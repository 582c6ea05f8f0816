"""The memory-location probe on rules where the answer is known."""

import jax

from learned_rules import probes, topology
from learned_rules.dynamics import Network
from learned_rules.rules import HebbianRule
from learned_rules.tasks.remember import RememberTask
from tests.conftest import tiny_remember_config


def _task(k):
  config = tiny_remember_config()
  with config.unlocked():
    config.task.pattern_bits = 16
    config.task.k_min = config.task.k_max = k
  return RememberTask(config.task)


def test_split_step_is_the_first_recall_step():
  task = _task(2)
  split = probes.split_step(task)
  cfg = task.config
  assert task.schedule.store_slot[split - 1 - cfg.gap_steps - cfg.delay_steps] >= 0
  assert (task.schedule.store_slot[split:] < 0).all()
  assert task.schedule.recall_slot[split] == 0 and (task.schedule.recall_slot[:split] < 0).all()


def test_hebbian_memory_is_all_in_synapses():
  task = _task(1)
  network = Network(HebbianRule(), topology.fully_connected(16))
  report = probes.memory_location(network, {}, task, seed=0, num_episodes=16, batch_size=16)
  assert report["intact"]["hidden_bit_accuracy"] == 1.0
  assert report["reset_neurons"]["hidden_bit_accuracy"] == 1.0
  assert report["synapse_fraction"] == 1.0
  # Wiped weights leave sign(0) = +1 on every hidden bit: chance, and no information.
  # (pooled over episodes, a chance-level guess carries almost no information).
  assert abs(report["reset_synapses"]["hidden_bit_accuracy"] - 0.5) < 0.1
  assert report["neuron_fraction"] < 0.01


def test_probe_without_reset_matches_the_plain_run():
  task = _task(2)
  network = Network(HebbianRule(), topology.fully_connected(16))
  episode = task.sample(jax.random.PRNGKey(3), 2)
  external = task.neuron_inputs(episode, network.topology)
  plain, _ = network.run_episode({}, jax.random.PRNGKey(0), external)
  split = probes.split_step(task)
  probed = probes.run_with_reset(network, {}, jax.random.PRNGKey(0), external, split, "intact")
  assert (plain == probed).all()


def test_fractions_are_undefined_when_the_intact_network_holds_nothing():
  from learned_rules import probes

  # At chance, the leftover-information ratio is noise over noise: no number, not 264165.
  assert probes.information_fractions(1e-6, 5e-6, 0.0) == (None, None)
  assert probes.information_fractions(10.0, 2.5, 5.0) == (0.25, 0.5)


def test_a_layer_reset_replaces_that_projection_only_in_every_layout():
  import dataclasses

  import numpy as np

  for layout in ("dense", "per_synapse"):  # per_synapse: one block per projection
    topo = dataclasses.replace(topology.layered(4, (5, 3)), layout=layout)
    network = Network(HebbianRule(), topo)
    assert network.layout.kind == ("dense" if layout == "dense" else "blocks")
    a = network.init_state({}, jax.random.PRNGKey(0))
    b = network.init_state({}, jax.random.PRNGKey(1))
    a = a.replace(synapse_state=jax.tree.map(lambda w: w + 1.0, a.synapse_state))  # differ
    layers = probes.synapse_layers(topo)
    assert [name for name, _ in layers] == ["input->hidden0", "hidden0->hidden1", "hidden1->output"]
    assert sum(mask for _, mask in layers).tolist() == topo.mask.tolist()  # a partition
    for index, (_, mask) in enumerate(layers):
      mixed = network.dense_synapse_state(probes.reset_layer(network, a, b, index).synapse_state)
      dense_a = network.dense_synapse_state(a.synapse_state)
      dense_b = network.dense_synapse_state(b.synapse_state)
      inside = mask[..., None] > 0
      others = (topo.mask[..., None] > 0) & ~inside  # the other real synapses
      np.testing.assert_array_equal(np.where(inside, mixed, 0), np.where(inside, dense_b, 0))
      np.testing.assert_array_equal(np.where(others, mixed, 0), np.where(others, dense_a, 0))


def test_the_backprop_rule_needs_every_synapse_layer():
  """Resetting either layer of a backprop-trained net loses what it stored; neurons hold none."""
  from learned_rules import experiment, rules
  from tests.test_backprop_rule import layered_config

  config = layered_config((8,), "hetero", k=1)
  with config.unlocked():
    config.rule.backprop_learning_rate = 0.2  # one SGD step that stores one pair well
  exp = experiment.build(config)
  rule = rules.build("backprop", config.rule, exp.context())
  network = Network(rule, exp.topology, config.aggregation)
  params = network.init_params(jax.random.PRNGKey(0))
  task = experiment.eval_task(config, exp.task)
  report = probes.memory_location(network, params, task, seed=0, num_episodes=32, batch_size=32)
  assert report["intact"]["hidden_bit_accuracy"] > 0.75
  assert report["synapse_fraction"] > 0.9 and report["neuron_fraction"] < 0.1
  assert [layer["layer"] for layer in report["layers"]] == ["input->hidden0", "hidden0->output"]
  for layer in report["layers"]:
    assert layer["information_lost_fraction"] > 0.5


def test_training_run_with_the_probe_logs_its_numbers(tmp_path):
  import json

  from learned_rules.train import trainer
  from tests.train.helpers import tiny_config

  config = tiny_config(num_steps=1)
  with config.unlocked():
    config.eval.probe = True
  report = trainer.train_and_evaluate(config, str(tmp_path))
  assert "probe" in report["rules"]["learned"]
  logged = set()
  for line in (tmp_path / "metrics.jsonl").read_text().splitlines():
    logged |= set(json.loads(line))
  assert "eval/learned/probe/reset_neurons/hidden_bit_accuracy" in logged


def _layered_learned(std: float):
  from learned_rules import experiment
  from tests.test_backprop_rule import layered_config

  config = layered_config((8,), "hetero", k=2)
  with config.unlocked():
    config.rule.name = "learned"
    config.rule.learn_synapse_init = False
    config.rule.synapse_init_std = std
    config.rule.neuron_state_size = 4
    config.rule.synapse_state_size = 2
    config.rule.message_size = 4
    config.rule.hidden_size = 8
  exp = experiment.build(config)
  network = exp.model("learned")
  return network, network.init_params(jax.random.PRNGKey(0)), exp.task


def test_hidden_neurons_are_copies_without_random_synapse_states():
  """Same type, same inputs, all-zero synapse states: every hidden neuron is the same neuron.
  Random synapse states are what tells them apart (the spec's only source of difference)."""
  network, params, task = _layered_learned(0.0)
  same = probes.neuron_diversity(network, params, task, jax.random.PRNGKey(1), 8, 2)
  assert same["hidden0"]["across_neurons"] < 1e-10
  assert same["input"]["across_neurons"] > 1e-3  # input neurons get their own bits
  network, params, task = _layered_learned(1.0)
  random = probes.neuron_diversity(network, params, task, jax.random.PRNGKey(1), 8, 2)
  assert random["hidden0"]["across_neurons"] > 1e-6


def test_majority_answer_accuracy_is_its_closed_form():
  """One pair: the majority is the answer (1.0). Two: each bit agrees (1) or ties (1/2), 3/4 in
  expectation; four: 2/16 + 8/16 * 3/4 + 6/16 * 1/2 = 0.6875."""
  _, _, task = _layered_learned(0.0)
  assert probes.majority_answer_accuracy(task, jax.random.PRNGKey(0), 16, 1) == 1.0
  two = probes.majority_answer_accuracy(task, jax.random.PRNGKey(0), 2048, 2)
  four = probes.majority_answer_accuracy(task, jax.random.PRNGKey(0), 2048, 4)
  assert abs(two - 0.75) < 0.01 and abs(four - 0.6875) < 0.01
