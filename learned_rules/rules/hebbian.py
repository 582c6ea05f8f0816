"""Hopfield's Hebbian outer-product rule, written in the common two-function interface.

Neuron state h = (s, stored): s is the ±1 activity, `stored` is 1 when s was set by a clamped input
during the store phase. A synapse adds s_post * s_pre whenever both ends hold a stored pattern, so a
pattern presented for P steps is added P times, like every other pattern: the weights are
P * sum_k xi_k xi_k^T, the outer-product rule up to a scale that sign recall ignores. A neuron with
external input copies it; otherwise it takes the sign of its mean input sum_j w_ij s_j.
"""

import jax.numpy as jnp

from learned_rules.rules.base import Rule


def sign(x):
  """±1 sign with sign(0) = +1, matching the numpy reference."""
  return jnp.where(x >= 0, 1.0, -1.0)


class HebbianRule(Rule):
  neuron_state_size = 2
  synapse_state_size = 1
  message_size = 1
  embedding_size = 0

  def __init__(self, readout_scale: float = 4.0):
    self.readout_scale = readout_scale  # logit = scale * s, so the loss is finite and comparable

  def init_params(self, rng, num_types):
    return {}

  def init_synapse_state(self, params, rng, shape):
    return jnp.zeros(tuple(shape) + (1,))

  def synapse_pre(self, params, h_pre, e_pre):
    return h_pre  # (s_pre, stored_pre)

  def synapse_post(self, params, h_post, e_post):
    return h_post

  def synapse_core(self, params, w, a_pre, a_post):
    s_pre, stored_pre = a_pre[0], a_pre[1]
    s_post, stored_post = a_post[0], a_post[1]
    new_w = w + (stored_pre * stored_post * s_pre * s_post)[None]
    forward = new_w * s_pre  # w_ij s_j with the updated weight, pooled at the postsynaptic neuron
    backward = jnp.zeros((1,))
    return new_w, forward, backward

  def neuron_step(self, params, h, forward, backward, e, x):
    value, store_flag = x[0], x[1]
    clamped = jnp.abs(value) > 0
    s = jnp.where(clamped, sign(value), sign(forward[0]))
    stored = jnp.where(clamped, store_flag, 0.0)
    return jnp.stack([s, stored])

  def readout(self, params, h):
    return self.readout_scale * h[0]
