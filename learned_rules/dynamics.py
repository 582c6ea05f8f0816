"""One online step of a network under a rule, a whole episode as one `lax.scan`, and batches."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from learned_rules.rules.base import Rule
from learned_rules.state import NetworkState
from learned_rules.topology import NUM_NEURON_TYPES, Topology, synapse_layout

KERNELS = ("auto", "vmap")  # "vmap": always the per-synapse vmap of Rule.synapse_core


class Network:
  """A rule running on a topology. Holds only static structure; all functions are pure.

  `layout` (default: the topology's `layout`, see topology.synapse_layout) chooses how synapse
  states are stored: NetworkState.synapse_state is an (N, N, d_w) [post, pre] array for the
  dense layout, a tuple of per-projection blocks or one (R, F, d_w) gathered table otherwise
  (`dense_synapse_state` turns any of them into the dense array). Values are the same in every
  layout, to float rounding (the messages are summed in another order).

  `kernel`: a rule may offer `synapse_grid(params, w, a_pre, a_post, mask)` (an attribute, None
  when unavailable), a whole dense block of synapses at once returning (w', summed forward
  messages (P, d_m), summed backward messages (Q, d_m)), equal to vmapping `synapse_core` and
  summing; "auto" uses it for dense blocks where the rule has one, "vmap" never does. It is an
  optional speed-up, not part of the Rule interface (rules/base.py).

  `neuron_reset_step` (None, or episode length T -> step s): `run_episode` sets every neuron
  state back to its start value before step s (`task.reset_neurons_at_recall`).
  """

  def __init__(
    self,
    rule: Rule,
    topology: Topology,
    aggregation: str = "mean",
    layout: str | None = None,
    kernel: str = "auto",
    neuron_reset_step=None,
  ):
    if aggregation not in ("mean", "sum"):
      raise ValueError(f"aggregation={aggregation!r}: expected 'mean' or 'sum'.")
    if kernel not in KERNELS:
      raise ValueError(f"kernel={kernel!r}: expected one of {KERNELS}.")
    self.rule = rule
    self.topology = topology
    self.aggregation = aggregation
    self.layout = synapse_layout(topology, layout)
    self.kernel = kernel
    self.neuron_reset_step = neuron_reset_step
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
    """Neuron states at zero, synapse states sampled afresh (masked ones zero).

    The sample is always drawn on the whole N x N grid and the real synapses taken from it, so
    one key gives the same synapse states in every layout.
    """
    n = self.num_neurons
    synapse_state = self.rule.init_synapse_state(params, rng, (n, n))
    return NetworkState(
      neuron_state=self.rule.init_neuron_state(params, n),
      synapse_state=self.from_dense_synapse_state(synapse_state),
    )

  def from_dense_synapse_state(self, dense):
    """(N, N, d) [post, pre] -> this layout's synapse state (absent synapses dropped or zeroed)."""
    layout = self.layout
    if layout.kind == "dense":
      return dense * self._mask[..., None]
    if layout.kind == "blocks":
      return tuple(dense[p0:p1, q0:q1] for p0, p1, q0, q1 in layout.blocks)
    table = dense[layout.post_rows[:, None], layout.pre_index]
    return table if layout.valid is None else table * layout.valid[..., None]

  def dense_synapse_state(self, synapse_state):
    """This layout's synapse state -> (N, N, d) [post, pre], zero where no synapse exists."""
    layout = self.layout
    if layout.kind == "dense":
      return synapse_state
    n = self.num_neurons
    leaves = jax.tree.leaves(synapse_state)
    dense = jnp.zeros((n, n) + leaves[0].shape[2:], leaves[0].dtype)
    if layout.kind == "blocks":
      for (p0, p1, q0, q1), block in zip(layout.blocks, synapse_state, strict=True):
        dense = dense.at[p0:p1, q0:q1].set(block)
      return dense
    table = synapse_state if layout.valid is None else synapse_state * layout.valid[..., None]
    # Padding slots point at real synapses of their row but add zero.
    return dense.at[layout.post_rows[:, None], layout.pre_index].add(table)

  def embeddings(self, params) -> jax.Array:
    table = self.rule.type_embeddings(params, NUM_NEURON_TYPES)
    return table[self.topology.neuron_type]

  def _grid(self, params, w, a_pre, a_post, mask):
    """One dense [post, pre] block: (w', forward summed over pre, backward summed over post).

    `mask` (P, Q) numpy 0/1 or None when every entry is a synapse; absent ones keep their state
    and send nothing.
    """
    rule = self.rule
    grid = getattr(rule, "synapse_grid", None) if self.kernel == "auto" else None
    if grid is not None:
      return grid(params, w, a_pre, a_post, mask)
    core = jax.vmap(rule.synapse_core, (None, 0, 0, None))  # over pre
    core = jax.vmap(core, (None, 0, None, 0))  # over post
    new_w, forward, backward = core(params, w, a_pre, a_post)  # (P, Q, .)
    if mask is None:
      return new_w, jnp.sum(forward, axis=1), jnp.sum(backward, axis=0)
    mask = mask[..., None]
    new_w = jnp.where(mask > 0, new_w, w)
    return new_w, jnp.sum(forward * mask, axis=1), jnp.sum(backward * mask, axis=0)

  def _gathered(self, params, w, a_pre, a_post):
    """The gathered table: (w', forward (N, d_m), backward (N, d_m)) summed per neuron."""
    layout, rule = self.layout, self.rule
    core = jax.vmap(rule.synapse_core, (None, 0, 0, None))  # over a row's slots
    core = jax.vmap(core, (None, 0, 0, 0))  # over post rows
    rows = layout.post_rows
    new_w, forward, backward = core(params, w, a_pre[layout.pre_index], a_post[rows])
    if layout.valid is not None:
      valid = layout.valid[..., None]
      new_w = jnp.where(valid > 0, new_w, w)
      forward, backward = forward * valid, backward * valid
    n = self.num_neurons
    forward_in = jnp.sum(forward, axis=1)
    if not layout.all_rows:
      forward_in = jnp.zeros((n,) + forward_in.shape[1:], forward_in.dtype).at[rows].set(forward_in)
    flat = backward.reshape((-1,) + backward.shape[2:])
    backward_in = jax.ops.segment_sum(flat, layout.pre_index.reshape(-1), num_segments=n)
    return new_w, forward_in, backward_in

  def _synapses(self, params, w, a_pre, a_post):
    """Every synapse's update in this layout: (w', forward sums (N, .), backward sums (N, .))."""
    layout = self.layout
    if layout.kind == "dense":
      return self._grid(params, w, a_pre, a_post, self._mask)
    if layout.kind == "gathered":
      return self._gathered(params, w, a_pre, a_post)
    new_w, forward_in, backward_in = [], 0.0, 0.0
    n = self.num_neurons
    for (p0, p1, q0, q1), block in zip(layout.blocks, w, strict=True):
      block_w, forward, backward = self._grid(params, block, a_pre[q0:q1], a_post[p0:p1], None)
      new_w.append(block_w)
      forward_in = forward_in + jnp.pad(forward, [(p0, n - p1), (0, 0)])
      backward_in = backward_in + jnp.pad(backward, [(q0, n - q1), (0, 0)])
    if not layout.blocks:  # no synapse at all
      zeros = jnp.zeros((n, self.rule.message_size), a_pre.dtype)
      return (), zeros, zeros
    return tuple(new_w), forward_in, backward_in

  def step(self, params, state: NetworkState, external, embeddings=None):
    """One synchronous update of every synapse and neuron; returns (state', output logits).

    `external` (N, C): every neuron's external input channels at this step (tasks/base.py).
    """
    rule = self.rule
    h, w = state.neuron_state, state.synapse_state
    e = self.embeddings(params) if embeddings is None else embeddings
    a_pre = jax.vmap(rule.synapse_pre, (None, 0, 0))(params, h, e)  # O(N)
    a_post = jax.vmap(rule.synapse_post, (None, 0, 0))(params, h, e)  # O(N)
    new_w, forward_sum, backward_sum = self._synapses(params, w, a_pre, a_post)
    forward_in = forward_sum * self._forward_norm[:, None]
    backward_in = backward_sum * self._backward_norm[:, None]
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
    """Fresh state, then the whole episode; returns (logits (T, V_out), final state).

    With `neuron_reset_step` (`task.reset_neurons_at_recall`: episode length T -> the first
    recall step s of such episodes) the neuron states are set back to their episode-start value
    before step s: whatever is recalled after it must have been written into the synapses.
    """
    state = self.init_state(params, rng)
    if self.neuron_reset_step is None:
      final_state, logits = self.run(params, state, external, remat)
      return logits, final_state
    split = self.neuron_reset_step(external.shape[0])
    mid, first = self.run(params, state, external[:split], remat)
    mid = self.reset_neurons(params, mid)
    final_state, second = self.run(params, mid, external[split:], remat)
    return jnp.concatenate([first, second], axis=0), final_state

  def reset_neurons(self, params, state: NetworkState) -> NetworkState:
    """`state` with every neuron state back at its episode-start value."""
    return state.replace(neuron_state=self.rule.init_neuron_state(params, self.num_neurons))


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
