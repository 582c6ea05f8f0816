"""The network's dynamic state: one record per episode."""

import flax.struct
import jax


@flax.struct.dataclass
class NetworkState:
  neuron_state: jax.Array  # (N, d_h)
  synapse_state: jax.Array  # (N, N, d_w), indexed [post, pre]; masked entries are inert
