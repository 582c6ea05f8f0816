"""The learned rule: two small shared MLPs, one for synapses and one for neurons.

Synapse network: [w, h_pre, e_pre, h_post, e_post] -> hidden -> (increment, forward, backward).
Its first layer is linear in the inputs, so it is computed as K_pre [h_pre, e_pre] (once per
presynaptic neuron) + K_post [h_post, e_post] (once per postsynaptic neuron) + K_w w (per synapse).
Synapse update: w' = w + scale * tanh(increment), residual with a bounded step (our choice).
Neuron network: [h, F, B, e, x] -> hidden -> (gate, candidate); h' = (1 - g) h + g tanh(candidate),
a gated residual that keeps |h| <= 1 (our choice). Readout: one shared linear logit.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from learned_rules.rules.base import Rule

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu, "gelu": jax.nn.gelu, "silu": jax.nn.silu}


class MLP(nn.Module):
  hidden_sizes: Sequence[int]
  output_size: int
  activation: str = "tanh"

  @nn.compact
  def __call__(self, x):
    act = ACTIVATIONS[self.activation]
    for size in self.hidden_sizes:
      x = act(nn.Dense(size)(x))
    return nn.Dense(self.output_size)(x)


class LearnedRule(Rule):
  """Meta-parameters: synapse and neuron MLPs, readout, type embeddings, synapse-init law."""

  def __init__(
    self,
    neuron_state_size: int = 8,
    synapse_state_size: int = 4,
    message_size: int = 8,
    embedding_size: int = 4,
    hidden_size: int = 32,
    activation: str = "tanh",
    synapse_update_scale: float = 0.1,
    synapse_init_std: float = 0.1,
    learn_synapse_init: bool = True,
    plastic_synapses: bool = True,
    use_embeddings: bool = True,
    backward_messages: bool = True,
    input_size: int = 2,
  ):
    if activation not in ACTIVATIONS:
      raise ValueError(f"activation={activation!r}: expected one of {sorted(ACTIVATIONS)}.")
    self.neuron_state_size = neuron_state_size
    self.synapse_state_size = synapse_state_size
    self.message_size = message_size
    self.embedding_size = embedding_size
    self.hidden_size = hidden_size
    self.activation = activation
    self.synapse_update_scale = synapse_update_scale
    self.synapse_init_std = synapse_init_std
    self.learn_synapse_init = learn_synapse_init
    self.plastic_synapses = plastic_synapses  # False: the "frozen synapses" ablation
    self.use_embeddings = use_embeddings
    self.backward_messages = backward_messages
    self.input_size = input_size  # external input channels per neuron (the task's)
    self._neuron_input_size = neuron_state_size + 2 * message_size + embedding_size + input_size
    self._side_size = neuron_state_size + embedding_size  # [h, e] of one end of a synapse
    self._synapse_rest = MLP((), synapse_state_size + 2 * message_size, activation)
    self._neuron_net = MLP((hidden_size, hidden_size), 2 * neuron_state_size, activation)
    self._readout = nn.Dense(1)

  def init_params(self, rng, num_types):
    keys = jax.random.split(rng, 5)
    first_in = self.synapse_state_size + 2 * self._side_size
    first = nn.Dense(self.hidden_size).init(keys[0], jnp.zeros((first_in,)))["params"]
    params = {
      "synapse_first": first,  # kernel rows ordered [w, h_pre, e_pre, h_post, e_post]
      "synapse_rest": self._synapse_rest.init(keys[1], jnp.zeros((self.hidden_size,)))["params"],
      "neuron": self._neuron_net.init(keys[2], jnp.zeros((self._neuron_input_size,)))["params"],
      "readout": self._readout.init(keys[3], jnp.zeros((self.neuron_state_size,)))["params"],
      "type_embeddings": jax.random.normal(keys[4], (num_types, self.embedding_size)),
    }
    if self.learn_synapse_init:
      params["synapse_init"] = {
        "mean": jnp.zeros((self.synapse_state_size,)),
        "log_std": jnp.full(
          (self.synapse_state_size,), jnp.log(self.synapse_init_std), jnp.float32
        ),
      }
    return params

  def type_embeddings(self, params, num_types):
    embeddings = params["type_embeddings"]
    if not self.use_embeddings:
      embeddings = jnp.zeros_like(embeddings)
    return embeddings

  def init_synapse_state(self, params, rng, shape):
    shape = tuple(shape) + (self.synapse_state_size,)
    noise = jax.random.normal(rng, shape)
    if not self.learn_synapse_init:
      return self.synapse_init_std * noise
    init = params["synapse_init"]
    return init["mean"] + jnp.exp(init["log_std"]) * noise

  def _first_kernel_blocks(self, params):
    kernel = params["synapse_first"]["kernel"]
    d_w, side = self.synapse_state_size, self._side_size
    return kernel[:d_w], kernel[d_w : d_w + side], kernel[d_w + side :]

  def synapse_pre(self, params, h_pre, e_pre):
    _, k_pre, _ = self._first_kernel_blocks(params)
    return jnp.concatenate([h_pre, e_pre]) @ k_pre

  def synapse_post(self, params, h_post, e_post):
    _, _, k_post = self._first_kernel_blocks(params)
    return jnp.concatenate([h_post, e_post]) @ k_post + params["synapse_first"]["bias"]

  def _synapse_output(self, params, w, first_layer):
    hidden = ACTIVATIONS[self.activation](first_layer)
    out = self._synapse_rest.apply({"params": params["synapse_rest"]}, hidden)
    d_w, d_m = self.synapse_state_size, self.message_size
    increment, forward, backward = out[:d_w], out[d_w : d_w + d_m], out[d_w + d_m :]
    new_w = w + self.synapse_update_scale * jnp.tanh(increment) if self.plastic_synapses else w
    if not self.backward_messages:
      backward = jnp.zeros_like(backward)
    return new_w, forward, backward

  def synapse_core(self, params, w, a_pre, a_post):
    k_w, _, _ = self._first_kernel_blocks(params)
    return self._synapse_output(params, w, w @ k_w + a_pre + a_post)

  def synapse_step(self, params, w, h_pre, h_post, e_pre, e_post):
    """Unfactored reference: the whole first layer applied to the concatenated inputs."""
    inputs = jnp.concatenate([w, h_pre, e_pre, h_post, e_post])
    first = params["synapse_first"]
    return self._synapse_output(params, w, inputs @ first["kernel"] + first["bias"])

  def neuron_step(self, params, h, forward, backward, e, x):
    inputs = jnp.concatenate([h, forward, backward, e, x])
    out = self._neuron_net.apply({"params": params["neuron"]}, inputs)
    gate = jax.nn.sigmoid(out[: self.neuron_state_size])
    candidate = jnp.tanh(out[self.neuron_state_size :])
    return (1.0 - gate) * h + gate * candidate

  def readout(self, params, h):
    return self._readout.apply({"params": params["readout"]}, h)[0]
