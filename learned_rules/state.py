"""The network's dynamic state: one record per episode."""

from typing import Any

import flax.struct
import jax


@flax.struct.dataclass
class NetworkState:
  neuron_state: jax.Array  # (N, d_h)
  # Dense layout: (N, N, d_w) [post, pre], masked entries inert; per-synapse layouts: a pytree of
  # real synapses only (dynamics.Network.dense_synapse_state gives the dense view).
  synapse_state: Any
