"""One network over several devices: the [post, pre] synapse grid split by post-synaptic rows.

`ShardedNetwork` has the API of `dynamics.Network` (init_params, init_state, embeddings, step,
run, run_episode), so the trainer, evaluation and truncated BPTT use it unchanged; its states
are the same global arrays. Inside, a `jax.shard_map` over a 1-D device mesh (axis `model`)
gives device s the synapse rows of its block of N/M post-synaptic neurons and those neurons'
states, for the whole episode (the `lax.scan` runs inside the shard_map, so synapse states never
move). Each online step:
1. the neuron states are all-gathered (N x d_h floats per device), so every device forms the
   presynaptic part of its synapses' update for all N neurons;
2. each device updates its (N/M, N) block of synapses and sums its forward messages per post
   neuron (its own rows: no communication);
3. the backward messages, summed over this device's post rows, are partial sums for every
   presynaptic neuron: a reduce-scatter (`psum_scatter`, a psum over the sharded post axis
   whose result each device keeps only for its own neurons) completes them;
4. each device updates its own neurons and reads out their logits.
Values equal the one-device network's up to the order of the backward-message sums (float
tolerance; `tests/test_sharded.py` checks logits, final state and the meta-gradient).
Per step a device exchanges O(N d_h + N d_m) floats and holds O(N^2 d_w / M) synapse floats:
the synapse grid, the part that grows as N^2, is what is split.

The grid is the dense masked layout (`topology.mask`), so every topology runs, but only the
fully connected one uses the split well (sparse and layered nets carry their absent synapses,
which the one-device network's per-synapse layouts drop). Each synapse block is computed with
the per-synapse vmap of `Rule.synapse_core` (not a rule's optional `synapse_grid` kernel).
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import Network, remat_every
from learned_rules.rules.base import Rule
from learned_rules.state import NetworkState
from learned_rules.topology import Topology

AXIS = "model"  # the mesh axis the post-synaptic rows (and their neurons) are split along


def model_devices(num_devices: int) -> list:
  """The first `num_devices` local devices; ConfigError when there are fewer."""
  devices = jax.local_devices()
  if isinstance(num_devices, bool) or not isinstance(num_devices, int) or num_devices < 1:
    raise ConfigError(f"train.model_parallel={num_devices!r}: must be an integer >= 1.")
  if num_devices > len(devices):
    raise ConfigError(
      f"train.model_parallel={num_devices}: this process has {len(devices)} "
      f"{devices[0].platform} device(s); use at most that many (on CPU, more can be forced with "
      f"XLA_FLAGS=--xla_force_host_platform_device_count={num_devices})."
    )
  return devices[:num_devices]


def check_divisible(num_neurons: int, num_devices: int) -> None:
  """ConfigError unless the N neurons split into equal blocks of post-synaptic rows."""
  if num_neurons % num_devices:
    raise ConfigError(
      f"train.model_parallel={num_devices}: the network's {num_neurons} neurons must split into "
      f"equal blocks; use a device count that divides {num_neurons} (or change the network size)."
    )


class ShardedNetwork:
  """A rule on a topology with the synapse grid split by post-synaptic rows over `devices`."""

  def __init__(self, rule: Rule, topology: Topology, aggregation: str = "mean", devices=None):
    # The one-device network defines the parameters and embeddings this one shares.
    self._dense = Network(rule, topology, aggregation)
    self.rule, self.topology, self.aggregation = rule, topology, aggregation
    devices = list(jax.local_devices() if devices is None else devices)
    check_divisible(topology.num_neurons, len(devices))
    self.devices = devices
    self.mesh = Mesh(np.asarray(devices), (AXIS,))
    self._mask = np.asarray(topology.mask, np.float32)
    if aggregation == "mean":
      self._forward_norm = (1.0 / np.maximum(topology.fan_in, 1.0)).astype(np.float32)
      self._backward_norm = (1.0 / np.maximum(topology.fan_out, 1.0)).astype(np.float32)
    else:
      self._forward_norm = np.ones(topology.num_neurons, np.float32)
      self._backward_norm = np.ones(topology.num_neurons, np.float32)
    self._output_index = np.asarray(topology.output_index)

  @property
  def num_neurons(self) -> int:
    return self.topology.num_neurons

  @property
  def num_devices(self) -> int:
    return len(self.devices)

  def init_params(self, rng):
    return self._dense.init_params(rng)

  def embeddings(self, params) -> jax.Array:
    return self._dense.embeddings(params)

  def init_state(self, params, rng) -> NetworkState:
    """The one-device network's initial state (same sample), as global arrays."""
    n = self.num_neurons
    synapse_state = self.rule.init_synapse_state(params, rng, (n, n))
    return NetworkState(
      neuron_state=self.rule.init_neuron_state(params, n),
      synapse_state=self.from_dense_synapse_state(synapse_state),
    )

  def from_dense_synapse_state(self, dense):
    """(N, N, d) [post, pre] -> this network's synapse state (always the dense masked grid)."""
    return dense * self._mask[..., None]

  def dense_synapse_state(self, synapse_state):
    """This network's synapse state as the dense (N, N, d) [post, pre] array (it already is)."""
    return synapse_state

  # --- the per-device step ----------------------------------------------------------------------
  def _local_step(self, params, h, w, external, e_all, e_own, mask, forward_norm, backward_norm):
    """One step on this device's rows: h (n, d_h), w (n, N, d_w) -> (h', w', logits (n,))."""
    rule = self.rule
    h_all = jax.lax.all_gather(h, AXIS, tiled=True, to="invarying")  # (N, d_h)
    a_pre = jax.vmap(rule.synapse_pre, (None, 0, 0))(params, h_all, e_all)  # every pre neuron
    a_post = jax.vmap(rule.synapse_post, (None, 0, 0))(params, h, e_own)  # this device's posts
    core = jax.vmap(rule.synapse_core, (None, 0, 0, None))  # over pre
    core = jax.vmap(core, (None, 0, None, 0))  # over this device's post rows
    new_w, forward, backward = core(params, w, a_pre, a_post)
    mask = mask[..., None]
    new_w = jnp.where(mask > 0, new_w, w)
    forward_in = jnp.sum(forward * mask, axis=1) * forward_norm[:, None]
    backward_partial = jnp.sum(backward * mask, axis=0)  # (N, d_m): this device's posts only
    backward_in = jax.lax.psum_scatter(backward_partial, AXIS, scatter_dimension=0, tiled=True)
    backward_in = backward_in * backward_norm[:, None]
    new_h = jax.vmap(rule.neuron_step, (None, 0, 0, 0, 0, 0))(
      params, h, forward_in, backward_in, e_own, external
    )
    logits = jax.vmap(rule.readout, (None, 0))(params, new_h)
    return new_h, new_w, logits

  def _shard_map(self, local, extra_in_specs, out_specs):
    """`local(params, h, w, *extra, e_all, e_own, mask, norms...)` mapped over the mesh."""
    rows = P(AXIS)
    in_specs = (P(), rows, rows, *extra_in_specs, P(), rows, rows, rows, rows)
    return jax.shard_map(local, mesh=self.mesh, in_specs=in_specs, out_specs=out_specs)

  def _constants(self, params, embeddings):
    e = self.embeddings(params) if embeddings is None else embeddings
    return (e, e, self._mask, self._forward_norm, self._backward_norm)

  def step(self, params, state: NetworkState, external, embeddings=None):
    """One synchronous update of every synapse and neuron; returns (state', output logits)."""
    mapped = self._shard_map(self._local_step, (P(AXIS),), (P(AXIS), P(AXIS), P(AXIS)))
    new_h, new_w, logits = mapped(
      params,
      state.neuron_state,
      state.synapse_state,
      external,
      *self._constants(params, embeddings),
    )
    state = NetworkState(neuron_state=new_h, synapse_state=new_w)
    return state, logits[self._output_index]

  def run(self, params, state: NetworkState, external, remat: bool | int = True):
    """Runs an episode segment: external (T, N, C) -> (final state, logits (T, V_out)).

    `remat` as in `Network.run`: False keeps every step's intermediates, True one state per
    step, k > 1 one state per k steps (values and gradients are the same).
    """
    if external.ndim != 3 or external.shape[1] != self.num_neurons:
      raise ValueError(f"external {external.shape}: expected (T, {self.num_neurons}, C).")
    every = remat_every(remat)

    def local(params, h, w, external, *constants):
      def body(carry, step_external):
        new_h, new_w, logits = self._local_step(params, *carry, step_external, *constants)
        return (new_h, new_w), logits

      if every:
        body = jax.checkpoint(body)
      (h, w), logits = _scan(body, (h, w), external, every)
      return h, w, logits

    mapped = self._shard_map(local, (P(None, AXIS),), (P(AXIS), P(AXIS), P(None, AXIS)))
    h, w, logits = mapped(
      params, state.neuron_state, state.synapse_state, external, *self._constants(params, None)
    )
    final = NetworkState(neuron_state=h, synapse_state=w)
    return final, logits[:, self._output_index]

  def run_episode(self, params, rng, external, remat: bool | int = True):
    """Fresh state, then the whole episode; returns (logits (T, V_out), final state)."""
    state = self.init_state(params, rng)
    final_state, logits = self.run(params, state, external, remat)
    return logits, final_state


def _scan(body, carry, xs, every: int):
  """`lax.scan(body, carry, xs)`; with every = k > 1, as checkpointed chunks of k steps.

  The backward pass then keeps the carry entering each chunk and recomputes the chunk; the
  last T mod k steps form one shorter chunk, so the result is exact.
  """
  length = xs.shape[0]
  if every <= 1 or every >= length:
    return jax.lax.scan(body, carry, xs)
  chunk = jax.checkpoint(lambda c, chunk_xs: jax.lax.scan(body, c, chunk_xs))
  whole = length // every
  head = xs[: whole * every].reshape((whole, every) + xs.shape[1:])
  carry, ys = jax.lax.scan(chunk, carry, head)
  ys = ys.reshape((whole * every,) + ys.shape[2:])
  if whole * every == length:
    return carry, ys
  carry, rest = chunk(carry, xs[whole * every :])
  return carry, jnp.concatenate([ys, rest])


def build(rule: Rule, topology: Topology, aggregation: str, num_devices: int) -> ShardedNetwork:
  """A ShardedNetwork over the first `num_devices` local devices (ConfigError when impossible)."""
  devices = model_devices(num_devices)
  return ShardedNetwork(rule, topology, aggregation, devices)
