"""The rule interface: two pure per-unit functions that every rule, learned or hand-written, fills.

The engine vmaps them over all synapses and neurons. The synapse function is split into per-neuron
parts (`synapse_pre`, `synapse_post`) and a per-synapse part (`synapse_core`) so that whatever
depends on one neuron only is computed O(N) times, not O(#synapses); `synapse_step` is the same
computation written for a single synapse, the spec's interface.
"""

import abc
from typing import Any

import jax
import jax.numpy as jnp

Params = Any

# External input channels every task provides (tasks/base.py): the value clamped on the neuron
# (0 where none) and the store-phase flag. Tasks may add channels after these two; a task that
# teaches its output neurons (their target during storage, 0 elsewhere) puts it on channel 2.
VALUE_CHANNEL = 0
STORE_CHANNEL = 1
TEACHING_CHANNEL = 2


class Rule(abc.ABC):
  """A learning rule: how synapse and neuron states change, given local information only."""

  neuron_state_size: int
  synapse_state_size: int
  message_size: int
  embedding_size: int

  @abc.abstractmethod
  def init_params(self, rng: jax.Array, num_types: int) -> Params:
    """Meta-parameters (for hand-written rules, fixed constants)."""

  def type_embeddings(self, params: Params, num_types: int) -> jax.Array:
    """(num_types, embedding_size) learned neuron-type embeddings."""
    return jnp.zeros((num_types, self.embedding_size))

  @abc.abstractmethod
  def init_synapse_state(self, params: Params, rng: jax.Array, shape) -> jax.Array:
    """Fresh synapse states, shape + (synapse_state_size,), sampled once per episode."""

  def init_neuron_state(self, params: Params, num_neurons: int) -> jax.Array:
    return jnp.zeros((num_neurons, self.neuron_state_size))

  @abc.abstractmethod
  def synapse_pre(self, params: Params, h_pre: jax.Array, e_pre: jax.Array) -> jax.Array:
    """Part of the synapse update that depends on the presynaptic neuron only."""

  @abc.abstractmethod
  def synapse_post(self, params: Params, h_post: jax.Array, e_post: jax.Array) -> jax.Array:
    """Part of the synapse update that depends on the postsynaptic neuron only."""

  @abc.abstractmethod
  def synapse_core(self, params: Params, w: jax.Array, a_pre: jax.Array, a_post: jax.Array):
    """Per-synapse part: returns (new synapse state, forward message, backward message)."""

  def synapse_step(self, params, w, h_pre, h_post, e_pre, e_post):
    """One synapse's update from local information: (w', forward message, backward message)."""
    return self.synapse_core(
      params, w, self.synapse_pre(params, h_pre, e_pre), self.synapse_post(params, h_post, e_post)
    )

  @abc.abstractmethod
  def neuron_step(self, params, h, forward, backward, e, x) -> jax.Array:
    """One neuron's new state from its state, aggregated messages, type embedding and input."""

  @abc.abstractmethod
  def readout(self, params: Params, h: jax.Array) -> jax.Array:
    """Shared readout: one logit per output neuron (scalar)."""
