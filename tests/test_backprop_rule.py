"""The layered-net rules against independent plain-jnp constructions, their config checks, and
the layered config end to end through the real entry point.

- backprop: one stored item = one SGD step of the squared error, equal to `jax.grad` of a plain
  MLP with the same weights (one and two hidden layers, both aggregations, both modes); R passes =
  R SGD steps per item in store order; recall = the MLP's forward pass.
- delta_features: hidden weights unchanged, output weights = the normalized delta rule over the
  hidden layer's features, in closed form; hebbian_features: the same with the Hebbian write
  lr t a / |a|^2, which ignores what the output answers.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from learned_rules import experiment, rules
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import Network
from tests.conftest import ROOT, tiny_remember_config
from tests.train.helpers import subprocess_env


def layered_config(hidden_sizes=(5,), mode="auto", k=1, **task):
  """A tiny taught layered remember config with enough store and recall steps for backprop."""
  config = tiny_remember_config()
  m = len(hidden_sizes) + 1  # synapse layers
  with config.unlocked():
    config.task.teaching = True
    config.task.mode = mode
    config.task.pattern_bits = 6
    config.task.k_min = config.task.k_max = k
    config.task.store_steps = 2 * m + 1
    config.task.recall_steps = m + 1
    config.topology.name = "layered"
    config.topology.hidden_sizes = tuple(hidden_sizes)
    config.eval.baselines = ()
    for key, value in task.items():
      config.task[key] = value
  return config


def run_rule(config, rule_name, seed=0):
  """Runs one episode; returns (episode, topology, rule, start weights, end weights, logits)."""
  exp = experiment.build(config)
  rule = rules.build(rule_name, config.rule, exp.context())
  net = Network(rule, exp.topology, config.aggregation)
  episode = exp.task.sample(jax.random.PRNGKey(seed), config.task.k_max)
  external = exp.task.neuron_inputs(episode, exp.topology)
  params = rule.init_params(jax.random.PRNGKey(0), 4)
  state = net.init_state(params, jax.random.PRNGKey(seed + 1))
  first, _ = net.run(params, state, external[:1], remat=False)  # no write can happen at step 0
  final, logits = net.run(params, state, external, remat=False)
  dense = getattr(net, "dense_synapse_state", lambda w: w)
  start = np.asarray(dense(first.synapse_state))[..., 0]
  end = np.asarray(dense(final.synapse_state))[..., 0]
  return episode, exp.topology, rule, start, end, np.asarray(logits)


def layer_blocks(weights, topology):
  """[W_1, ..., W_M]: the [post, pre] block between consecutive groups of a layered net."""
  slices = [topology.group_slice(g.name) for g in topology.groups]
  return [jnp.asarray(weights[post, pre]) for pre, post in zip(slices, slices[1:], strict=False)]


def mlp_output(weights, x, phi=jnp.tanh):
  activity = x
  for w in weights[:-1]:
    activity = phi(w @ activity)
  return weights[-1] @ activity


def squared_error(weights, x, target):
  return 0.5 * jnp.sum((mlp_output(weights, x) - target) ** 2)


def presentations(episode, store_steps):
  """(input, target) of every stored presentation in order: store runs cut into P-step blocks."""
  flags = np.asarray(episode.store_flags) > 0
  items, run = [], 0
  for t, on in enumerate(flags):
    run = run + 1 if on else 0
    if on and (run - 1) % store_steps == 0:
      items.append((jnp.asarray(episode.inputs[t]), jnp.asarray(episode.teaching[t])))
  return items


@pytest.mark.parametrize(
  "hidden_sizes,mode,aggregation",
  [
    ((5,), "auto", "mean"),
    ((5,), "hetero", "sum"),
    ((6, 4), "hetero", "mean"),
    ((6, 4), "auto", "sum"),
  ],
)
def test_one_stored_item_is_one_sgd_step(hidden_sizes, mode, aggregation):
  config = layered_config(hidden_sizes, mode)
  with config.unlocked():
    config.aggregation = aggregation
  episode, topo, rule, start, end, _ = run_rule(config, "backprop")
  ((x, target),) = presentations(episode, config.task.store_steps)
  weights = layer_blocks(start, topo)
  grads = jax.grad(squared_error)(weights, x, target)
  lr = config.rule.backprop_learning_rate
  for got, w, g in zip(layer_blocks(end, topo), weights, grads, strict=True):
    np.testing.assert_allclose(got, w - lr * g, atol=1e-6, rtol=1e-5)
    assert float(jnp.max(jnp.abs(got - w))) > 1e-3  # every layer really learned
  # The start is N(0, 1 / fan-in) per layer: a few hundred weights, a loose check of the scale.
  for w in weights:
    assert 0.6 < float(jnp.std(w) * jnp.sqrt(w.shape[1])) < 1.5


def test_one_stored_teacher_pair_is_one_sgd_step_towards_the_teacher():
  """The teacher task's taught layout: x on the inputs, teacher(x) taught to the outputs."""
  from configs import teacher_layered

  config = teacher_layered.get_config()
  with config.unlocked():
    config.task.pattern_bits = 3
    config.task.k_min = config.task.k_max = 1
    config.task.num_queries = 1
    config.topology.hidden_sizes = (5,)
    config.eval.baselines = ()
  episode, topo, _, start, end, _ = run_rule(config, "backprop", seed=2)
  ((x, target),) = presentations(episode, config.task.store_steps)
  np.testing.assert_array_equal(x, episode.stored_keys[0])
  np.testing.assert_array_equal(target, episode.stored_answers[0])  # the teacher's answer
  weights = layer_blocks(start, topo)
  grads = jax.grad(squared_error)(weights, x, target)
  lr = config.rule.backprop_learning_rate
  for got, w, g in zip(layer_blocks(end, topo), weights, grads, strict=True):
    np.testing.assert_allclose(got, w - lr * g, atol=1e-6, rtol=1e-5)
    assert float(jnp.max(jnp.abs(got - w))) > 1e-3


@pytest.mark.parametrize("gap_steps", [1, 0])
def test_repetitions_are_sgd_passes_in_store_order(gap_steps):
  config = layered_config((5,), "hetero", k=3, repetitions=10, gap_steps=gap_steps)
  with config.unlocked():
    config.rule.backprop_learning_rate = 0.05
  episode, topo, _, start, end, logits = run_rule(config, "backprop", seed=3)
  items = presentations(episode, config.task.store_steps)
  assert len(items) == 30  # with no gap the flag never falls: the clock still cuts presentations
  weights = layer_blocks(start, topo)
  for x, target in items:
    grads = jax.grad(squared_error)(weights, x, target)
    weights = [w - 0.05 * g for w, g in zip(weights, grads, strict=True)]
  for got, want in zip(layer_blocks(end, topo), weights, strict=True):
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-4)
  # Recall is the forward pass: the last step of each cue reads the MLP's answer to the cue.
  scored = np.asarray(episode.eval_mask) > 0
  cues = np.asarray(episode.inputs)[scored]
  want_logits = 4.0 * jax.vmap(lambda c: mlp_output(weights, c))(jnp.asarray(cues))
  np.testing.assert_allclose(logits[scored], want_logits, atol=1e-4, rtol=1e-4)


def test_delta_features_is_the_normalized_delta_rule_over_frozen_features():
  config = layered_config((7,), "hetero", k=2)
  episode, topo, _, start, end, _ = run_rule(config, "delta_features", seed=5)
  hidden_start, output_start = layer_blocks(start, topo)
  hidden_end, output_end = layer_blocks(end, topo)
  np.testing.assert_array_equal(hidden_end, hidden_start)  # frozen random features
  np.testing.assert_array_equal(output_start, 0.0)  # the delta rule starts from empty memory
  assert float(jnp.std(hidden_start)) > 0.1
  w, items = np.zeros(output_start.shape), presentations(episode, config.task.store_steps)
  assert len(items) == 2
  for x, target in items:
    phi = np.tanh(np.asarray(hidden_start) @ np.asarray(x))
    w = w + np.outer(np.asarray(target) - w @ phi, phi) / (phi @ phi)
    np.testing.assert_allclose(w @ phi, target, atol=1e-5)  # lr = 1: the item is met exactly
  np.testing.assert_allclose(output_end, w, atol=1e-5, rtol=1e-5)


def test_hebbian_features_is_the_normalized_hebb_rule_over_frozen_features():
  config = layered_config((7,), "hetero", k=3)
  with config.unlocked():
    config.rule.delta_features_learning_rate = 0.5
  episode, topo, _, start, end, _ = run_rule(config, "hebbian_features", seed=6)
  hidden_start, output_start = layer_blocks(start, topo)
  hidden_end, output_end = layer_blocks(end, topo)
  np.testing.assert_array_equal(hidden_end, hidden_start)
  np.testing.assert_array_equal(output_start, 0.0)
  items = presentations(episode, config.task.store_steps)
  assert len(items) == 3
  w = np.zeros(output_start.shape)
  for x, target in items:
    phi = np.tanh(np.asarray(hidden_start) @ np.asarray(x))
    w = w + 0.5 * np.outer(np.asarray(target), phi) / (phi @ phi)
  np.testing.assert_allclose(output_end, w, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
  "rule_name,overrides,match",
  [
    ("backprop", dict(store_steps=4), "task.store_steps=4"),  # 2 synapse layers need 5
    ("delta_features", dict(store_steps=3), "task.store_steps=3"),  # needs 4
    ("backprop", dict(recall_steps=2), "task.recall_steps=2"),
    ("backprop", dict(teaching=False), "task.teaching"),
  ],
)
def test_a_task_the_rule_cannot_run_is_a_config_error_before_compiling(
  monkeypatch, rule_name, overrides, match
):
  config = layered_config((5,), "auto", **overrides)
  with config.unlocked():
    config.eval.baselines = (rule_name,)

  def no_compiling(*args, **kwargs):
    raise AssertionError("compiled before validating the config")

  monkeypatch.setattr(jax, "jit", no_compiling)
  with pytest.raises(ConfigError, match=match):
    experiment.validate(config)
  with config.unlocked():  # the same rule with enough steps passes
    config.task.store_steps, config.task.recall_steps, config.task.teaching = 5, 3, True
  experiment.validate(config)


def test_a_recurrent_network_is_a_config_error():
  config = tiny_remember_config()
  with config.unlocked():
    config.task.teaching = True
    config.eval.baselines = ("backprop",)
  with pytest.raises(ConfigError, match="topology.name='fully_connected'"):
    experiment.validate(config)


TINY_LAYERED_FLAGS = [
  "--config.task.pattern_bits=6",
  "--config.task.k_min=1",
  "--config.task.k_max=2",
  "--config.topology.hidden_sizes=(8,)",
  "--config.rule.neuron_state_size=4",
  "--config.rule.synapse_state_size=2",
  "--config.rule.message_size=4",
  "--config.rule.hidden_size=8",
  "--config.train.num_steps=2",
  "--config.train.batch_size=4",
  "--config.train.log_every=1",
  "--config.eval.num_episodes=8",
  "--config.eval.batch_size=4",
]


def test_layered_config_end_to_end_through_main(tmp_path):
  import subprocess
  import sys

  command = [
    sys.executable,
    "-m",
    "experiments.main",
    "--config=configs/remember_layered.py",
    f"--workdir={tmp_path}",
    *TINY_LAYERED_FLAGS,
  ]
  result = subprocess.run(
    command, cwd=ROOT, capture_output=True, text=True, timeout=600, env=subprocess_env()
  )
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads((tmp_path / "eval.json").read_text())
  task = report["task"]
  assert task["teaching"] is True and task["mode"] == "hetero" and task["topology"] == "layered"
  assert task["num_neurons"] == 6 + 8 + 6 and task["eval_k"] == 2
  expected = {"learned", "backprop", "delta_features", "hebbian", "delta", "oracle"}
  assert set(report["rules"]) == expected
  for rule, values in report["rules"].items():
    assert 0.0 <= values["hidden_bit_accuracy"] <= 1.0, rule
  assert report["rules"]["oracle"]["hidden_bit_accuracy"] >= 0.9
  lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
  assert len([line for line in lines if "train/loss" in line]) == 2
