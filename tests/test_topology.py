import jax
import jax.numpy as jnp
import numpy as np
import pytest

from learned_rules import topology
from learned_rules.dynamics import Network
from learned_rules.rules import LearnedRule
from tests.conftest import external_inputs


def test_fully_connected_counts():
  topo = topology.fully_connected(10, num_hidden=6)
  assert topo.num_neurons == 16
  assert topo.num_synapses == 16 * 15
  assert np.all(np.diag(topo.mask) == 0)
  with_self = topology.fully_connected(10, self_connections=True)
  assert with_self.num_synapses == 100
  assert list(topo.input_index) == list(range(10)) == list(topo.output_index)


def test_layered_counts_and_directions():
  topo = topology.layered(8, hidden_sizes=(5, 3))
  assert topo.num_neurons == 8 + 5 + 3 + 8
  assert topo.num_synapses == 8 * 5 + 5 * 3 + 3 * 8
  hidden0, out = topo.group_slice("hidden0"), topo.group_slice("output")
  assert topo.mask[hidden0, topo.group_slice("input")].all()
  assert not topo.mask[topo.group_slice("input"), :].any()  # nothing projects back to the input
  assert list(topo.output_index) == list(range(out.start, out.stop))
  types = [topology.NEURON_TYPES[t] for t in topo.neuron_type]
  assert types[:8] == ["input"] * 8 and types[-8:] == ["output"] * 8


def test_sparse_fan_in():
  topo = topology.sparse(12, num_hidden=4, fan_in=5, seed=3)
  assert topo.num_synapses == 16 * 5
  np.testing.assert_array_equal(topo.fan_in, np.full(16, 5.0))
  assert np.all(np.diag(topo.mask) == 0)
  with pytest.raises(ValueError, match="fan_in"):
    topology.sparse(4, fan_in=4)


@pytest.mark.parametrize("name", ["fully_connected", "layered", "sparse"])
def test_masked_synapses_stay_inert(name):
  topo = {
    "fully_connected": topology.fully_connected(6, num_hidden=2),
    "layered": topology.layered(6, (4,)),
    "sparse": topology.sparse(6, num_hidden=2, fan_in=3),
  }[name]
  rule = LearnedRule(neuron_state_size=4, synapse_state_size=2, message_size=3, hidden_size=8)
  network = Network(rule, topo, layout="dense")  # masked entries exist only in the dense grid
  params = rule.init_params(jax.random.PRNGKey(0), topology.NUM_NEURON_TYPES)
  state = network.init_state(params, jax.random.PRNGKey(1))
  absent = topo.mask == 0
  assert np.all(np.asarray(state.synapse_state)[absent] == 0)
  # Poison the absent synapses: they must neither change nor influence any neuron.
  poisoned = state.replace(synapse_state=state.synapse_state + 50.0 * absent[..., None])
  inputs = jnp.asarray(np.random.default_rng(0).choice([-1.0, 1.0], size=(5, 6)))
  external = external_inputs(inputs, jnp.ones((5,)), topo)
  final_clean, logits_clean = network.run(params, state, external)
  final_poisoned, logits_poisoned = network.run(params, poisoned, external)
  np.testing.assert_allclose(logits_clean, logits_poisoned, atol=1e-6)
  np.testing.assert_allclose(final_clean.neuron_state, final_poisoned.neuron_state, atol=1e-6)
  np.testing.assert_array_equal(np.asarray(final_poisoned.synapse_state)[absent], 50.0)
  present = topo.mask > 0
  assert np.any(
    np.asarray(final_clean.synapse_state)[present] != np.asarray(state.synapse_state)[present]
  )
