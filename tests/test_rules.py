import jax
import jax.numpy as jnp
import numpy as np
import pytest

from learned_rules import topology
from learned_rules.dynamics import Network
from learned_rules.rules import HebbianRule, LearnedRule
from learned_rules.tasks.remember import RememberTask
from tests.conftest import external_inputs, tiny_remember_config


@pytest.mark.parametrize("bilinear", [False, True])
def test_factored_synapse_layer_equals_unfactored(bilinear):
  rule = LearnedRule(
    neuron_state_size=5, synapse_state_size=3, message_size=4, embedding_size=2, bilinear=bilinear
  )
  assert (rule.synapse_grid is None) == bilinear  # the block kernel covers the plain form only
  params = rule.init_params(jax.random.PRNGKey(0), 4)
  keys = jax.random.split(jax.random.PRNGKey(1), 5)
  w = jax.random.normal(keys[0], (7, 3))
  h_pre, h_post = jax.random.normal(keys[1], (7, 5)), jax.random.normal(keys[2], (7, 5))
  e_pre, e_post = jax.random.normal(keys[3], (7, 2)), jax.random.normal(keys[4], (7, 2))
  factored = jax.vmap(rule.synapse_core, (None, 0, 0, 0))(
    params,
    w,
    jax.vmap(rule.synapse_pre, (None, 0, 0))(params, h_pre, e_pre),
    jax.vmap(rule.synapse_post, (None, 0, 0))(params, h_post, e_post),
  )
  direct = jax.vmap(rule.synapse_step, (None, 0, 0, 0, 0, 0))(
    params, w, h_pre, h_post, e_pre, e_post
  )
  for a, b in zip(factored, direct, strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  # The whole network step (which uses the factored path) against a per-synapse loop.
  topo = topology.fully_connected(4, num_hidden=1)
  network = Network(rule, topo)
  state = network.init_state(params, jax.random.PRNGKey(2))
  state = state.replace(neuron_state=jax.random.normal(jax.random.PRNGKey(3), (5, 5)))
  external = external_inputs(jnp.array([[1.0, -1.0, 0.0, 1.0]]), jnp.ones(1), topo)[0]
  new_state, _ = network.step(params, state, external)
  e = network.embeddings(params)
  for post in range(5):
    for pre in range(5):
      if topo.mask[post, pre]:
        expected, _, _ = rule.synapse_step(
          params,
          state.synapse_state[post, pre],
          state.neuron_state[pre],
          state.neuron_state[post],
          e[pre],
          e[post],
        )
        np.testing.assert_allclose(
          new_state.synapse_state[post, pre], expected, rtol=1e-5, atol=1e-6
        )


def test_frozen_synapse_components_keep_their_value_on_both_paths():
  rule = LearnedRule(neuron_state_size=5, synapse_state_size=3, message_size=4, embedding_size=2)
  frozen = LearnedRule(
    neuron_state_size=5,
    synapse_state_size=3,
    message_size=4,
    embedding_size=2,
    frozen_synapse_components=(1,),
  )
  params = rule.init_params(jax.random.PRNGKey(0), 4)
  topo = topology.fully_connected(4, num_hidden=1)
  external = external_inputs(jnp.array([[1.0, -1.0, 0.0, 1.0]]), jnp.ones(1), topo)[0]
  states = []
  for r in (rule, frozen):
    network = Network(r, topo)  # the block kernel (synapse_grid) path
    state = network.init_state(params, jax.random.PRNGKey(2))
    state = state.replace(neuron_state=jax.random.normal(jax.random.PRNGKey(3), (5, 5)))
    new_state, _ = network.step(params, state, external)
    states.append((state.synapse_state, new_state.synapse_state))
  (before, free), (_, held) = states
  mask = np.asarray(topo.mask) > 0
  change = np.abs(np.asarray(free - before))[mask]
  assert (change > 1e-4).mean(axis=0).min() > 0.5  # every component moves without the ablation
  np.testing.assert_array_equal(np.asarray(held)[..., 1], np.asarray(before)[..., 1])
  np.testing.assert_allclose(np.asarray(held)[..., [0, 2]], np.asarray(free)[..., [0, 2]])
  # The per-synapse path drops the same component's update.
  w, h = before[1, 0], jax.random.normal(jax.random.PRNGKey(4), (5,))
  e = jnp.zeros(2)
  out_free = rule.synapse_step(params, w, h, -h, e, e)[0]
  out_held = frozen.synapse_step(params, w, h, -h, e, e)[0]
  assert float(out_held[1]) == float(w[1]) and float(out_free[1]) != float(w[1])
  with pytest.raises(ValueError, match="frozen_synapse_components"):
    LearnedRule(synapse_state_size=3, frozen_synapse_components=(3,))


def test_bilinear_terms_are_extra_and_matter():
  """With its four bilinear kernels zeroed the bilinear rule is the plain rule; with them it is
  not, and its update then depends on w * pre and pre * post products."""
  sizes = dict(neuron_state_size=5, synapse_state_size=3, message_size=4, embedding_size=2)
  plain, bilinear = LearnedRule(**sizes), LearnedRule(**sizes, bilinear=True)
  params = bilinear.init_params(jax.random.PRNGKey(0), 2)
  keys = jax.random.split(jax.random.PRNGKey(1), 5)
  args = (
    jax.random.normal(keys[0], (3,)),
    jax.random.normal(keys[1], (5,)),
    jax.random.normal(keys[2], (5,)),
    jax.random.normal(keys[3], (2,)),
    jax.random.normal(keys[4], (2,)),
  )
  base = {k: v for k, v in params.items() if k != "synapse_bilinear"}
  zeroed = {**base, "synapse_bilinear": jax.tree.map(jnp.zeros_like, params["synapse_bilinear"])}
  for a, b in zip(
    bilinear.synapse_step(zeroed, *args), plain.synapse_step(base, *args), strict=True
  ):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
  full = bilinear.synapse_step(params, *args)
  assert not np.allclose(full[0], plain.synapse_step(base, *args)[0])
  # Only the gate term left (the first layer's linear kernel and bias, the coincidence kernels
  # and e_pre at zero): the layer is (K_g w) * (G_pre h_pre), so flipping w and h_pre together
  # leaves the messages as they are, flipping w alone does not.
  gate_only = {
    **params,
    "synapse_first": jax.tree.map(jnp.zeros_like, params["synapse_first"]),
    "synapse_bilinear": {
      **params["synapse_bilinear"],
      "pre": jnp.zeros_like(params["synapse_bilinear"]["pre"]),
    },
  }
  w, h_pre, h_post, e_pre, e_post = args
  e_pre = jnp.zeros_like(e_pre)
  _, forward, _ = bilinear.synapse_step(gate_only, w, h_pre, h_post, e_pre, e_post)
  _, both, _ = bilinear.synapse_step(gate_only, -w, -h_pre, h_post, e_pre, e_post)
  _, one, _ = bilinear.synapse_step(gate_only, -w, h_pre, h_post, e_pre, e_post)
  np.testing.assert_allclose(forward, both, rtol=1e-5, atol=1e-6)
  assert not np.allclose(forward, one, atol=1e-3)


def numpy_hopfield_recall(patterns, inputs, store_flags):
  """Classical Hopfield: W = sum_k xi_k xi_k^T (no self-coupling) from the stored patterns, then
  synchronous s <- sign(W s) from the last stored pattern, clamping every bit the input gives."""
  n = patterns.shape[1]
  weights = patterns.T @ patterns
  np.fill_diagonal(weights, 0.0)
  last_store = np.nonzero(store_flags)[0].max()
  states = np.zeros_like(inputs)
  s = inputs[last_store].copy()
  for t in range(last_store + 1, inputs.shape[0]):
    field = weights @ s
    s = np.where(inputs[t] != 0, np.sign(inputs[t]), np.where(field >= 0, 1.0, -1.0))
    states[t] = s
  assert s.shape == (n,)
  return states


@pytest.mark.parametrize("k", [1, 3, 5])
def test_hebbian_through_engine_matches_numpy_hopfield(k):
  config = tiny_remember_config()
  with config.unlocked():
    config.task.pattern_bits = 16
    config.task.k_min, config.task.k_max = 1, 5
  task = RememberTask(config.task)
  network = Network(HebbianRule(), topology.fully_connected(16))
  for seed in range(4):
    episode = task.sample(jax.random.PRNGKey(seed), k)
    external = task.neuron_inputs(episode, network.topology)
    logits, final = network.run_episode({}, jax.random.PRNGKey(0), external)
    engine_states = np.where(np.asarray(logits) > 0, 1.0, -1.0)
    stored = np.asarray(episode.patterns[-k:, 0])  # the last k slots are the active ones
    reference = numpy_hopfield_recall(
      stored, np.asarray(episode.inputs), np.asarray(episode.store_flags)
    )
    recall = np.asarray(episode.recall_item) >= 0
    np.testing.assert_array_equal(engine_states[recall], reference[recall])
    # The weights are the outer-product rule, each pattern added once per store step.
    expected_w = config.task.store_steps * (stored.T @ stored)
    np.fill_diagonal(expected_w, 0.0)
    np.testing.assert_array_equal(np.asarray(final.synapse_state[..., 0]), expected_w)


def test_hebbian_recalls_a_single_pattern_perfectly():
  config = tiny_remember_config()
  task = RememberTask(config.task)
  network = Network(HebbianRule(), topology.fully_connected(config.task.pattern_bits))
  episode = task.sample(jax.random.PRNGKey(7), 1)
  logits, _ = network.run_episode(
    {}, jax.random.PRNGKey(0), task.neuron_inputs(episode, network.topology)
  )
  scored = np.asarray(episode.eval_mask) > 0
  predicted = (np.asarray(logits)[scored] > 0).astype(float)
  np.testing.assert_array_equal(predicted, np.asarray(episode.targets)[scored])
