"""The hand-set start of the learned rule (rule.init='hebbian_features') and train.num_steps=0."""

import json

import jax
import numpy as np
import pytest

from configs import remember_layered
from learned_rules import evaluation, experiment
from learned_rules.common.errors import ConfigError
from learned_rules.rules import LearnedRule
from learned_rules.tasks.base import model_inputs
from learned_rules.train import params_io, trainer


def layered_config(init="hebbian_features", **task):
  config = remember_layered.get_config()
  with config.unlocked():
    config.rule.bilinear = True
    config.rule.init = init
    config.task.pattern_bits = 8
    config.task.k_min = config.task.k_max = 2
    config.topology.hidden_sizes = (16,)
    config.eval.num_episodes = 64
    config.eval.batch_size = 64
    for key, value in task.items():
      config.task[key] = value
  return config


def test_same_tree_as_the_random_init_and_clear_errors():
  sizes = dict(input_size=3, bilinear=True)
  random_init = LearnedRule(**sizes).init_params(jax.random.PRNGKey(0), 3)
  hand = LearnedRule(**sizes, init="hebbian_features").init_params(jax.random.PRNGKey(0), 3)
  assert jax.tree.structure(random_init) == jax.tree.structure(hand)
  for a, b in zip(jax.tree.leaves(random_init), jax.tree.leaves(hand), strict=True):
    assert a.shape == b.shape and a.dtype == b.dtype
  with pytest.raises(ConfigError, match="rule.bilinear"):
    LearnedRule(input_size=3, init="hebbian_features").init_params(jax.random.PRNGKey(0), 3)
  with pytest.raises(ConfigError, match="teaching"):
    LearnedRule(bilinear=True, init="hebbian_features").init_params(jax.random.PRNGKey(0), 3)
  with pytest.raises(ConfigError, match="rule.init"):
    config = layered_config(init="hebbian")
    experiment.validate(config)


def test_hand_set_start_stores_pairs_on_a_layered_net():
  """Before any meta-training it recalls 2 taught pairs well above chance, where the same rule
  at its random init does not."""
  accuracy = {}
  for init in ("hebbian_features", "random"):
    config = layered_config(init)
    exp = experiment.build(config)
    model = exp.model("learned")
    params = model.init_params(jax.random.PRNGKey(0))
    task = experiment.eval_task(config, exp.task)
    result = evaluation.evaluate(model, params, task, seed=1, num_episodes=64, batch_size=64)
    accuracy[init] = float(result["hidden_bit_accuracy"])
  assert accuracy["hebbian_features"] > 0.9, accuracy
  assert accuracy["random"] < 0.75, accuracy


def test_feature_weights_fixed_and_writes_only_between_hidden_and_output():
  config = layered_config()
  exp = experiment.build(config)
  model = exp.model("learned")
  params = model.init_params(jax.random.PRNGKey(0))
  episode = exp.task.sample(jax.random.PRNGKey(2), 2)
  inputs = model_inputs(exp.task, model, jax.tree.map(lambda x: x[None], episode))[0]
  start = model.init_state(params, jax.random.PRNGKey(3))
  final, _ = model.run(params, start, inputs, remat=False)
  before = np.asarray(model.dense_synapse_state(start.synapse_state))
  after = np.asarray(model.dense_synapse_state(final.synapse_state))
  np.testing.assert_array_equal(after[..., 0], before[..., 0])  # random feature weights
  topology = model.topology
  is_input = np.zeros(topology.num_neurons, bool)
  is_input[topology.input_index] = True
  is_output = np.zeros(topology.num_neurons, bool)
  is_output[topology.output_index] = True
  is_hidden = ~is_input & ~is_output
  changed = np.abs(after[..., 1] - before[..., 1]) > 1e-6  # [post, pre]
  assert changed[np.ix_(is_output, is_hidden)].mean() > 0.5  # the stored weights are written
  assert not changed[np.ix_(is_hidden, is_input)].any()  # the feature layer is not


def test_zero_steps_evaluates_the_initial_parameters(tmp_path):
  config = layered_config()
  with config.unlocked():
    config.train.num_steps = 0
    config.eval.baselines = ("delta_features",)
  report = trainer.train_and_evaluate(config, str(tmp_path))
  saved = json.loads((tmp_path / "eval.json").read_text())
  assert saved["rules"]["learned"]["hidden_bit_accuracy"] == pytest.approx(
    report["rules"]["learned"]["hidden_bit_accuracy"]
  )
  exp = experiment.build(config)
  model = exp.model("learned")
  template = params_io.state_template(config, model).params
  loaded = params_io.load_params(str(tmp_path / params_io.PARAMS_FILE), template)
  key_params, _ = jax.random.split(jax.random.PRNGKey(config.seed))
  for a, b in zip(
    jax.tree.leaves(loaded), jax.tree.leaves(model.init_params(key_params)), strict=True
  ):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert saved["rules"]["learned"]["hidden_bit_accuracy"] > 0.9
