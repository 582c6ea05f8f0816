"""Synapse layouts and kernels: the same network, the same seed, the same numbers.

The reference is the engine before per-synapse storage: the dense masked [post, pre] grid with
`synapse_core` vmapped over every entry (`Network(layout="dense", kernel="vmap")`).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from learned_rules import topology
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import Network
from learned_rules.rules import HebbianRule, LearnedRule, StorkeyRule
from tests.conftest import external_inputs, tiny_remember_config

STEPS = 5


def ragged_sparse():
  """A sparse net whose fan-ins differ and whose neuron 0 receives no synapse at all."""
  topo = topology.sparse(6, num_hidden=3, fan_in=4, seed=1)
  mask = topo.mask.copy()
  mask[0] = 0.0
  mask[1, np.nonzero(mask[1])[0][:2]] = 0.0
  return dataclasses.replace(topo, mask=mask)


TOPOLOGIES = {
  "fully_connected": lambda: topology.fully_connected(5, num_hidden=2),
  "layered_1": lambda: topology.layered(4, (6,)),
  "layered_2": lambda: topology.layered(4, (5, 3)),
  "sparse": lambda: topology.sparse(7, num_hidden=2, fan_in=3, seed=2),
  "sparse_ragged": ragged_sparse,
}


def learned_rule():
  return LearnedRule(
    neuron_state_size=4, synapse_state_size=3, message_size=3, embedding_size=2, hidden_size=8
  )


RULES = {
  "learned": lambda topo: learned_rule(),
  "learned_sum_frozen": lambda topo: LearnedRule(
    neuron_state_size=3,
    synapse_state_size=2,
    message_size=2,
    hidden_size=6,
    plastic_synapses=False,
    activation="silu",
  ),  # fmt: skip
  "hebbian": lambda topo: HebbianRule(),
  "storkey": lambda topo: StorkeyRule(num_neurons=topo.num_neurons, field_scale=3.0),
}


def episode(topo, seed=0):
  rng = np.random.default_rng(seed)
  bits = rng.choice([-1.0, 1.0], size=(STEPS, topo.num_visible))
  bits[STEPS // 2 :, : topo.num_visible // 2] = 0.0  # recall: half the cue hidden
  flags = (np.arange(STEPS) < STEPS // 2).astype(np.float32)
  return external_inputs(jnp.asarray(bits), jnp.asarray(flags), topo)


def run(network, params, external):
  logits, final = network.run_episode(params, jax.random.PRNGKey(7), external)
  return logits, final


def loss_fn(network, external):
  """A smooth scalar of the logits and of every real synapse's final state."""
  mask = jnp.asarray(network.topology.mask)[..., None]

  def loss(params):
    logits, final = run(network, params, external)
    dense = network.dense_synapse_state(final.synapse_state)
    return jnp.sum(
      jnp.tanh(logits) * jnp.linspace(-1.0, 1.0, logits.size).reshape(logits.shape)
    ) + (jnp.sum(jnp.sin(dense) * mask))

  return loss


# Every topology with the learned rule (values and meta-gradient); the hand-written rules and the
# frozen-synapse silu variant of the learned rule on a few (values; they compile slowly here).
CASES = [(t, "learned") for t in sorted(TOPOLOGIES)] + [
  (t, "hebbian") for t in ("fully_connected", "layered_1", "sparse_ragged")
] + [("layered_2", "storkey"), ("sparse", "storkey"), ("fully_connected", "learned_sum_frozen"),
     ("layered_1", "learned_sum_frozen")]  # fmt: skip


@pytest.mark.parametrize("topo_name,rule_name", CASES)
def test_layouts_and_kernels_agree(topo_name, rule_name):
  topo = TOPOLOGIES[topo_name]()
  rule = RULES[rule_name](topo)
  reference = Network(rule, topo, layout="dense", kernel="vmap")
  params = reference.init_params(jax.random.PRNGKey(3))
  external = episode(topo)
  ref_logits, ref_final = run(reference, params, external)
  present = topo.mask > 0
  variants = {
    "per_synapse": Network(rule, topo, layout="per_synapse"),
    "dense_kernel": Network(rule, topo, layout="dense"),  # the learned rule's block kernel
  }
  if topo.name == "layered":  # blocks go through the block kernel; check the vmap path too
    variants["per_synapse_vmap"] = Network(rule, topo, layout="per_synapse", kernel="vmap")
  for name, network in variants.items():
    logits, final = run(network, params, external)
    np.testing.assert_allclose(logits, ref_logits, rtol=2e-5, atol=2e-5, err_msg=name)
    np.testing.assert_allclose(final.neuron_state, ref_final.neuron_state, rtol=2e-5, atol=2e-5)
    dense = np.asarray(network.dense_synapse_state(final.synapse_state))
    ref_dense = np.asarray(ref_final.synapse_state)
    np.testing.assert_allclose(dense[present], ref_dense[present], rtol=2e-5, atol=2e-5)
    assert np.all(dense[~present] == 0), name  # nothing is stored where no synapse exists
  if rule_name.startswith("learned"):  # the hand-written rules have no meta-parameters
    ref_grads = jax.grad(loss_fn(reference, external))(params)
    assert any(np.any(np.asarray(g) != 0) for g in jax.tree.leaves(ref_grads))
    for name, network in variants.items():
      grads = jax.grad(loss_fn(network, external))(params)
      jax.tree.map(
        lambda a, b, n=name: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=n),
        grads,
        ref_grads,
      )


@pytest.mark.parametrize("topo_name", sorted(TOPOLOGIES))
def test_per_synapse_storage_holds_only_real_synapses(topo_name):
  topo = TOPOLOGIES[topo_name]()
  rule = learned_rule()
  network = Network(rule, topo, layout="per_synapse")
  params = network.init_params(jax.random.PRNGKey(0))
  state = network.init_state(params, jax.random.PRNGKey(1)).synapse_state
  stored = sum(leaf.size for leaf in jax.tree.leaves(state))
  expected_kind = "blocks" if topo_name.startswith("layered") else "gathered"
  assert network.layout.kind == expected_kind
  if topo_name == "sparse_ragged":  # padded to the largest fan-in; padding slots hold zeros
    width = int(topo.fan_in.max())
    assert stored == int((topo.fan_in > 0).sum()) * width * rule.synapse_state_size
  else:
    assert stored == topo.num_synapses * rule.synapse_state_size
  # The same key gives the same sample as the dense grid, restricted to the real synapses.
  dense = Network(rule, topo, layout="dense").init_state(params, jax.random.PRNGKey(1))
  np.testing.assert_array_equal(network.dense_synapse_state(state), dense.synapse_state)


def test_auto_layout_and_config_key():
  config = tiny_remember_config().topology
  kinds = {}
  for name in ("fully_connected", "layered", "sparse"):
    with config.unlocked():
      config.name = name
      config.num_hidden = 24 if name == "sparse" else 0
    topo = topology.build(config, 8)
    kinds[name] = Network(learned_rule(), topo).layout.kind
    forced = dataclasses.replace(topo, layout="dense")
    assert Network(learned_rule(), forced).layout.kind == "dense"
  assert kinds == {"fully_connected": "dense", "layered": "blocks", "sparse": "gathered"}
  with config.unlocked():
    config.layout = "sparse_rows"
  with pytest.raises(ConfigError, match="topology.layout"):
    topology.build(config, 8)
