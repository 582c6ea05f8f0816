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
