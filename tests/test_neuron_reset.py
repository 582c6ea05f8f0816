"""task.reset_neurons_at_recall: neuron states cleared at the first recall step, for every model."""

import jax
import numpy as np
import pytest

from learned_rules import experiment, probes
from learned_rules.common.errors import ConfigError
from tests.conftest import tiny_remember_config


def _config(reset, k_max=3):
  config = tiny_remember_config()
  with config.unlocked():
    config.task.k_min, config.task.k_max = 1, k_max
    config.task.reset_neurons_at_recall = reset
  return config


def test_split_step_follows_the_episode_length_of_any_load():
  task = experiment.build(_config(True)).task
  for load in (1, 2, 3, 5):
    at_load = task.at_load(load)
    assert task.split_step_for_length(at_load.length) == at_load.probe_split_step()
  with pytest.raises(ValueError, match="no load"):
    task.split_step_for_length(task.at_load(1).length + 1)


@pytest.mark.parametrize("load", [3, 5])  # the training layout, and an evaluation at another K
def test_the_reset_equals_the_probes_neuron_reset_and_changes_only_recall(load):
  plain_exp, reset_exp = experiment.build(_config(False)), experiment.build(_config(True))
  plain, reset = plain_exp.model("learned"), reset_exp.model("learned")
  params = plain.init_params(jax.random.PRNGKey(0))
  task = plain_exp.task.at_load(load)
  episode = task.sample(jax.random.PRNGKey(1), load)
  external = task.neuron_inputs(episode, plain.topology)
  probe_key = jax.random.PRNGKey(2)
  key = jax.random.split(probe_key)[0]  # the probe's initial-state key
  logits_plain, _ = plain.run_episode(params, key, external, remat=False)
  logits_reset, _ = reset.run_episode(params, key, external, remat=False)
  split = task.probe_split_step()
  np.testing.assert_array_equal(logits_reset[:split], logits_plain[:split])
  assert not np.allclose(logits_reset[split:], logits_plain[split:])  # the neurons mattered
  # The probe's "reset_neurons" condition (same fresh neuron state, same synapses) agrees.
  probed = probes.run_with_reset(plain, params, probe_key, external, split, "reset_neurons")
  np.testing.assert_allclose(logits_reset, probed, atol=1e-5)


def test_truncated_bptt_is_a_config_error():
  config = _config(True)
  with config.unlocked():
    config.train.unroll_window = 4
  with pytest.raises(ConfigError, match="train.unroll_window=4"):
    experiment.validate(config)
