"""One online step of a network under a rule, and a whole episode as one `lax.scan`."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from learned_rules.rules.base import Rule
from learned_rules.state import NetworkState
from learned_rules.topology import NUM_NEURON_TYPES, Topology


class Network:
  """A rule running on a topology. Holds only static structure; all functions are pure."""

  def __init__(self, rule: Rule, topology: Topology, aggregation: str = "mean"):
    if aggregation not in ("mean", "sum"):
      raise ValueError(f"aggregation={aggregation!r}: expected 'mean' or 'sum'.")
    self.rule = rule
    self.topology = topology
    self.aggregation = aggregation
    self._mask = np.asarray(topology.mask, np.float32)
    if aggregation == "mean":
      self._forward_norm = 1.0 / np.maximum(topology.fan_in, 1.0)
      self._backward_norm = 1.0 / np.maximum(topology.fan_out, 1.0)
    else:
      self._forward_norm = np.ones(topology.num_neurons, np.float32)
      self._backward_norm = np.ones(topology.num_neurons, np.float32)

  @property
  def num_neurons(self) -> int:
    return self.topology.num_neurons

  def init_params(self, rng):
    """The rule's meta-parameters, with an embedding row for every neuron type."""
    return self.rule.init_params(rng, NUM_NEURON_TYPES)

  def init_state(self, params, rng) -> NetworkState:
    """Neuron states at zero, synapse states sampled afresh (masked ones zero)."""
    n = self.num_neurons
    synapse_state = self.rule.init_synapse_state(params, rng, (n, n))
    return NetworkState(
      neuron_state=self.rule.init_neuron_state(params, n),
      synapse_state=synapse_state * self._mask[..., None],
    )

  def embeddings(self, params) -> jax.Array:
    table = self.rule.type_embeddings(params, NUM_NEURON_TYPES)
    return table[self.topology.neuron_type]

  def neuron_inputs(self, visible_input, store_flag):
    """(N, INPUT_SIZE) external input: the bit on input neurons (0 elsewhere), the phase flag."""
    values = jnp.zeros((self.num_neurons,)).at[self.topology.input_index].set(visible_input)
    flags = jnp.full((self.num_neurons,), store_flag)
    return jnp.stack([values, flags], axis=-1)

  def step(self, params, state: NetworkState, visible_input, store_flag, embeddings=None):
    """One synchronous update of every synapse and neuron; returns (state', output logits)."""
    rule = self.rule
    h, w = state.neuron_state, state.synapse_state
    e = self.embeddings(params) if embeddings is None else embeddings
    a_pre = jax.vmap(rule.synapse_pre, (None, 0, 0))(params, h, e)  # O(N)
    a_post = jax.vmap(rule.synapse_post, (None, 0, 0))(params, h, e)  # O(N)
    core = jax.vmap(rule.synapse_core, (None, 0, 0, None))  # over pre
    core = jax.vmap(core, (None, 0, None, 0))  # over post
    new_w, forward, backward = core(params, w, a_pre, a_post)  # (N_post, N_pre, .)
    mask = self._mask[..., None]
    new_w = jnp.where(mask > 0, new_w, w)
    forward_in = jnp.sum(forward * mask, axis=1) * self._forward_norm[:, None]
    backward_in = jnp.sum(backward * mask, axis=0) * self._backward_norm[:, None]
    x = self.neuron_inputs(visible_input, store_flag)
    new_h = jax.vmap(rule.neuron_step, (None, 0, 0, 0, 0, 0))(
      params, h, forward_in, backward_in, e, x
    )
    logits = jax.vmap(rule.readout, (None, 0))(params, new_h[self.topology.output_index])
    return NetworkState(neuron_state=new_h, synapse_state=new_w), logits

  def run(self, params, state: NetworkState, inputs, store_flags, remat: bool = True):
    """Runs an episode segment: inputs (T, V), store_flags (T,) -> (final state, logits (T, V))."""
    chex.assert_rank(inputs, 2)
    chex.assert_shape(inputs, (None, self.topology.num_visible))
    chex.assert_shape(store_flags, (inputs.shape[0],))
    embeddings = self.embeddings(params)  # hoisted out of the scan

    def body(carry, step_inputs):
      visible_input, store_flag = step_inputs
      return self.step(params, carry, visible_input, store_flag, embeddings)

    if remat:
      body = jax.checkpoint(body)
    return jax.lax.scan(body, state, (inputs, store_flags))

  def run_episode(self, params, rng, inputs, store_flags, remat: bool = True):
    """Fresh state, then the whole episode; returns (logits (T, V), final state)."""
    state = self.init_state(params, rng)
    final_state, logits = self.run(params, state, inputs, store_flags, remat)
    return logits, final_state
