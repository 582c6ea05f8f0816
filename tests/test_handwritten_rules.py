"""Closed-form checks of the hand-written rules run through the engine (Storkey, delta, frozen)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from learned_rules import experiment, rules, topology
from learned_rules.dynamics import Network
from learned_rules.rules import DeltaRule, StorkeyRule
from learned_rules.rules.release_write import FIELD, S_SRC, STORED_SRC
from learned_rules.tasks.remember import RememberTask
from tests.conftest import external_inputs, tiny_remember_config


def numpy_storkey_weights(patterns):
  """Storkey (1997) with explicit loops: w_ij += (xi_i xi_j - xi_i h_ji - h_ij xi_j) / n."""
  n = patterns.shape[1]
  w = np.zeros((n, n))
  for xi in patterns:
    h = np.zeros((n, n))  # h[i, j] = sum_{k != i, j} w_ik xi_k
    for i in range(n):
      for j in range(n):
        h[i, j] = sum(w[i, k] * xi[k] for k in range(n) if k != i and k != j)
    new = w.copy()
    for i in range(n):
      for j in range(n):
        if i != j:
          new[i, j] += (xi[i] * xi[j] - xi[i] * h[j, i] - h[i, j] * xi[j]) / n
    w = new
  return w


def numpy_delta_weights(patterns, learning_rate):
  """One normalized LMS step per pattern: W += lr (xi - mean field) xi^T, no self-coupling."""
  n = patterns.shape[1]
  mask = 1.0 - np.eye(n)
  w = np.zeros((n, n))
  for xi in patterns:
    field = (w * mask) @ xi / (n - 1)
    w = w + learning_rate * np.outer(xi - field, xi) * mask
  return w


def numpy_recall(weight_snapshots, inputs):
  """Synchronous s(t+1) = clamp(x(t)) or sign(W(t) s(t)), with W(t) the weights at step t."""
  s = np.zeros(inputs.shape[1])
  states, fields = [], []
  for t in range(inputs.shape[0]):
    field = weight_snapshots[t] @ s
    s = np.where(inputs[t] != 0, np.sign(inputs[t]), np.where(field >= 0, 1.0, -1.0))
    states.append(s)
    fields.append(field)
  return np.array(states), np.array(fields)


def weight_timeline(patterns_fn, stored, inputs, store_flags):
  """W(t) per step: a pattern written at step t_c + 2 (t_c: last clamped step) acts from t_c + 3."""
  num_steps = inputs.shape[0]
  flags = np.asarray(store_flags)
  releases = [t + 2 for t in range(num_steps - 1) if flags[t] and not flags[t + 1]]
  assert len(releases) == len(stored)
  snapshots, written = [], 0
  for t in range(num_steps):
    while written < len(releases) and releases[written] < t:
      written += 1
    snapshots.append(patterns_fn(stored[:written]))
  return snapshots


@pytest.mark.parametrize("rule_name", ["storkey", "delta"])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_rule_through_engine_matches_numpy(rule_name, k):
  n = 16
  config = tiny_remember_config()
  with config.unlocked():
    config.task.pattern_bits = n
    config.task.k_min, config.task.k_max = 1, 5
  task = RememberTask(config.task)
  topo = topology.fully_connected(n)
  network = Network(rules.build(rule_name, config.rule, rules.Context(topology=topo)), topo)
  if rule_name == "storkey":
    closed_form = lambda p: numpy_storkey_weights(p) if len(p) else np.zeros((n, n))
  else:
    closed_form = lambda p: numpy_delta_weights(p, 1.0) if len(p) else np.zeros((n, n))
  for seed in range(3):
    episode = task.sample(jax.random.PRNGKey(seed), k)
    external = task.neuron_inputs(episode, topo)
    logits, final = network.run_episode({}, jax.random.PRNGKey(0), external)
    stored = np.asarray(episode.patterns[-k:, 0])
    np.testing.assert_allclose(
      np.asarray(final.synapse_state[..., 0]), closed_form(stored), rtol=1e-5, atol=1e-5
    )
    inputs = np.asarray(episode.inputs)
    snapshots = weight_timeline(closed_form, stored, inputs, episode.store_flags)
    states, fields = numpy_recall(snapshots, inputs)
    engine = np.where(np.asarray(logits) > 0, 1.0, -1.0)
    decided = np.abs(fields) > 1e-4  # ignore exact ties, where float rounding may pick a side
    decided |= inputs != 0
    recall = (np.asarray(episode.recall_item) >= 0)[:, None] & decided
    np.testing.assert_array_equal(engine[recall], states[recall])


def _release_state(rule, topo, xi, w, aggregation):
  """Neuron states right after a presentation of xi: fields of xi under w, clamp released."""
  network = Network(rule, topo, aggregation)
  masked = w * topo.mask
  field = masked @ xi
  if aggregation == "mean":
    field = field / np.maximum(topo.fan_in, 1.0)
  h = np.zeros((topo.num_neurons, rule.neuron_state_size), np.float32)
  h[:, S_SRC], h[:, STORED_SRC], h[:, FIELD] = xi, 1.0, field
  state = network.init_state({}, jax.random.PRNGKey(0))
  return network, state.replace(
    neuron_state=jnp.asarray(h), synapse_state=jnp.asarray(masked[..., None], jnp.float32)
  )


@pytest.mark.parametrize("aggregation", ["sum", "mean"])
@pytest.mark.parametrize("topology_name", ["fully_connected", "sparse"])
def test_delta_step_is_one_sgd_step_on_squared_error(aggregation, topology_name):
  n, lr = 12, 0.3
  topo = (
    topology.fully_connected(n)
    if topology_name == "fully_connected"
    else topology.sparse(n, fan_in=5)
  )
  rng = np.random.default_rng(0)
  xi = rng.choice([-1.0, 1.0], n).astype(np.float32)
  w = rng.normal(size=(n, n)).astype(np.float32) * 0.3
  network, state = _release_state(DeltaRule(learning_rate=lr), topo, xi, w, aggregation)
  new_state, _ = network.step({}, state, jnp.zeros((n, 2)))  # no input, store flag off
  mask = jnp.asarray(topo.mask)
  fan_in = jnp.asarray(np.maximum(topo.fan_in, 1.0))

  def loss(weights):  # the single layer y = agg(W xi) and its squared error
    y = (weights * mask) @ xi
    if aggregation == "mean":
      y = y / fan_in
    return 0.5 * jnp.sum((xi - y) ** 2)

  grad = jax.grad(loss)(jnp.asarray(w * topo.mask))
  step = lr * (fan_in[:, None] if aggregation == "mean" else 1.0)
  expected = (w * topo.mask - step * grad) * topo.mask
  np.testing.assert_allclose(np.asarray(new_state.synapse_state[..., 0]), expected, atol=1e-5)


def test_storkey_step_on_arbitrary_symmetric_weights():
  n = 10
  topo = topology.fully_connected(n)
  rng = np.random.default_rng(1)
  xi = rng.choice([-1.0, 1.0], n)
  w = rng.normal(size=(n, n))
  w = (w + w.T) / 2 * topo.mask
  rule = StorkeyRule(num_neurons=n, field_scale=n - 1)
  network, state = _release_state(rule, topo, xi, w, "mean")
  new_state, _ = network.step({}, state, jnp.zeros((n, 2)))  # no input, store flag off
  expected = numpy_storkey_weights_from(w, xi)
  np.testing.assert_allclose(np.asarray(new_state.synapse_state[..., 0]), expected, atol=1e-4)


def numpy_storkey_weights_from(w, xi):
  n = len(xi)
  h = lambda i, j: sum(w[i, k] * xi[k] for k in range(n) if k not in (i, j))
  new = w.copy()
  for i in range(n):
    for j in range(n):
      if i != j:
        new[i, j] += (xi[i] * xi[j] - xi[i] * h(j, i) - h(i, j) * xi[j]) / n
  return new


def test_no_write_without_a_stored_pattern():
  topo = topology.fully_connected(6)
  for rule in (DeltaRule(), StorkeyRule(6, 5.0)):
    network = Network(rule, topo)
    inputs = jnp.array([[1.0, -1, 1, 1, -1, 1]] * 4 + [[0.0] * 6] * 3)
    external = external_inputs(inputs, jnp.zeros(7), topo)
    _, final = network.run_episode({}, jax.random.PRNGKey(0), external)
    np.testing.assert_array_equal(np.asarray(final.synapse_state), 0.0)


def test_frozen_rule_keeps_synapse_states_and_learned_rule_changes_them(tiny_config):
  exp = experiment.build(tiny_config)
  episode = exp.task.sample(jax.random.PRNGKey(0), 2)
  finals = {}
  for name in ("frozen", "learned"):
    network = exp.model(name)
    params = network.init_params(jax.random.PRNGKey(1))
    start = network.init_state(params, jax.random.PRNGKey(2))
    external = exp.task.neuron_inputs(episode, exp.topology)
    _, final = network.run_episode(params, jax.random.PRNGKey(2), external)
    finals[name] = np.abs(np.asarray(final.synapse_state - start.synapse_state)).max()
  assert finals["frozen"] == 0.0
  assert finals["learned"] > 0.0


def test_lstm_model_runs_and_counts_state(tiny_config):
  with tiny_config.unlocked():
    tiny_config.rule.name = "lstm"
    tiny_config.rule.lstm_hidden_size = 5
  exp = experiment.build(tiny_config)
  model = exp.model("lstm")
  params = model.init_params(jax.random.PRNGKey(0))
  episode = exp.task.sample(jax.random.PRNGKey(0), 2)
  logits, _ = model.run_episode(params, None, exp.task.sequence_inputs(episode))
  assert logits.shape == episode.inputs.shape
  assert exp.num_state_floats == 10


@pytest.mark.parametrize("name", ["hebbian", "storkey", "delta"])
def test_cue_weighted_rule_with_unit_weight_equals_the_plain_rule(name):
  from learned_rules.rules import cue_weighted

  config = tiny_remember_config()
  with config.unlocked():
    config.task.pattern_bits = 12
    config.task.k_min, config.task.k_max = 1, 3
  task = RememberTask(config.task)
  topo = topology.fully_connected(12)
  context = rules.Context(topology=topo)
  plain = rules.build(name, config.rule, context)
  kwargs = {"hebbian": {}, "delta": {}, "storkey": dict(num_neurons=12, field_scale=11.0)}[name]
  cls = {
    "hebbian": cue_weighted.CueWeightedHebbianRule,
    "storkey": cue_weighted.CueWeightedStorkeyRule,
    "delta": cue_weighted.CueWeightedDeltaRule,
  }[name]
  weighted = cls(1.0, **kwargs)
  assert weighted.neuron_state_size == plain.neuron_state_size + 1
  episode = task.sample(jax.random.PRNGKey(4), 3)
  outs = [
    Network(rule, topo).run_episode({}, jax.random.PRNGKey(0), task.neuron_inputs(episode, topo))
    for rule in (plain, weighted)
  ]
  np.testing.assert_array_equal(outs[0][0], outs[1][0])
  np.testing.assert_array_equal(outs[0][1].synapse_state, outs[1][1].synapse_state)
  # One spelling per rule: the cue-weighted one is '<name>_cued', weighted by rule.free_weight.
  cued = rules.build(f"{name}_cued", config.rule, context)
  assert isinstance(cued, cls) and cued.free_weight == config.rule.free_weight == 0.25
  assert type(rules.build(name, config.rule, context)) is type(plain)
