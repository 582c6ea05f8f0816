"""One online step of a network under a rule, a whole episode as one `lax.scan`, and batches."""

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

  def step(self, params, state: NetworkState, external, embeddings=None):
    """One synchronous update of every synapse and neuron; returns (state', output logits).

    `external` (N, C): every neuron's external input channels at this step (tasks/base.py).
    """
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
    new_h = jax.vmap(rule.neuron_step, (None, 0, 0, 0, 0, 0))(
      params, h, forward_in, backward_in, e, external
    )
    logits = jax.vmap(rule.readout, (None, 0))(params, new_h[self.topology.output_index])
    return NetworkState(neuron_state=new_h, synapse_state=new_w), logits

  def run(self, params, state: NetworkState, external, remat: bool | int = True):
    """Runs an episode segment: external (T, N, C) -> (final state, logits (T, V_out)).

    `remat` is the backward pass's memory policy (`remat_every`): False (0) keeps every step's
    intermediates; True (1) keeps one state per step and recomputes the step; k > 1 keeps one
    state per k steps, recomputing each k-step chunk (and within it each step) when its gradient
    is needed: O(T/k + k) states for one extra forward pass. Values and gradients are the same.
    """
    chex.assert_rank(external, 3)
    chex.assert_shape(external, (None, self.num_neurons, None))
    embeddings = self.embeddings(params)  # hoisted out of the scan

    def body(carry, step_external):
      return self.step(params, carry, step_external, embeddings)

    every = remat_every(remat)
    if every == 0:
      return jax.lax.scan(body, state, external)
    body = jax.checkpoint(body)
    if every == 1:
      return jax.lax.scan(body, state, external)
    return _scan_in_chunks(body, state, external, every)

  def run_episode(self, params, rng, external, remat: bool | int = True):
    """Fresh state, then the whole episode; returns (logits (T, V_out), final state)."""
    state = self.init_state(params, rng)
    final_state, logits = self.run(params, state, external, remat)
    return logits, final_state


def remat_every(remat: bool | int) -> int:
  """The state-saving interval of a `remat` policy: 0 (False) none, 1 (True) every step, or k."""
  every = int(remat)
  if every < 0:
    raise ValueError(f"remat={remat!r}: expected a bool or a step interval k >= 1.")
  return every


def _scan_in_chunks(step, state, xs, every: int):
  """`lax.scan(step, state, xs)` as a scan over checkpointed chunks of at most `every` steps.

  The backward pass keeps only the carry entering each chunk; a chunk's states are recomputed
  from it when its gradient is needed. The last T mod k steps run as one shorter chunk (no
  padding, so the final state is exact).
  """
  length = jax.tree.leaves(xs)[0].shape[0]
  if every >= length:  # one chunk holds every state anyway: the per-step policy, less compute
    return jax.lax.scan(step, state, xs)
  chunk = jax.checkpoint(lambda carry, chunk_xs: jax.lax.scan(step, carry, chunk_xs))
  if length < 2 * every:
    # One chunk and a remainder, both outside a scan: XLA recomputes both before either's
    # backward pass and holds every state at once (measured). Two equal chunks do not.
    every = length // 2
  whole = length // every
  head = jax.tree.map(lambda x: x[: whole * every].reshape((whole, every) + x.shape[1:]), xs)
  state, ys = jax.lax.scan(chunk, state, head)
  ys = jax.tree.map(lambda y: y.reshape((whole * every,) + y.shape[2:]), ys)
  if whole * every == length:
    return state, ys
  state, rest = chunk(state, jax.tree.map(lambda x: x[whole * every :], xs))
  return state, jax.tree.map(lambda a, b: jnp.concatenate([a, b]), ys, rest)


def run_with_keys(model, params, episode_keys, inputs, remat: bool | int = True):
  """Runs a batch of episodes (vmap): episode b from `inputs[b]` with state key `episode_keys[b]`.

  `model` is a Network or any model with the same `run_episode`; returns logits (B, T, V_out).
  """
  run = lambda key, x: model.run_episode(params, key, x, remat)[0]
  return jax.vmap(run)(episode_keys, inputs)


def run_batch(model, params, rng, inputs, remat: bool | int = True):
  """`run_with_keys` with one synapse-state key per episode split from `rng`."""
  return run_with_keys(model, params, jax.random.split(rng, inputs.shape[0]), inputs, remat)
