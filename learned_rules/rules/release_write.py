"""Shared machinery of the hand-written error-correcting rules (Storkey, delta).

Neuron state h = (s, stored, field, s_src, stored_src):
- s: ±1 activity; a neuron with external input copies it, otherwise s = sign(F);
- stored: 1 when s was clamped by a stored pattern (store-phase flag on);
- field: F, the aggregated forward messages w_ij s_j of the previous state (pre-write weights);
- s_src, stored_src: that previous state, so the field and the activity it answers stay paired.
A synapse writes once per presentation, when both its neurons have just left the store clamp
(stored_src = 1 and stored = 0): no other write happened between computing the fields and the
write, so the update sees exactly the weights' current response to the stored pattern.
Forward messages carry w_ij s_j with the weight before this step's write.
"""

import abc

import jax.numpy as jnp

from learned_rules.rules.base import Rule
from learned_rules.rules.hebbian import sign

S, STORED, FIELD, S_SRC, STORED_SRC = range(5)


class ReleaseWriteRule(Rule):
  neuron_state_size = 5
  synapse_state_size = 1
  message_size = 1
  embedding_size = 0

  def __init__(self, field_scale: float = 1.0, readout_scale: float = 4.0):
    self.field_scale = field_scale  # multiplies F; set to fan-in under mean aggregation
    self.readout_scale = readout_scale  # logit = scale * s

  def init_params(self, rng, num_types):
    return {}

  def init_synapse_state(self, params, rng, shape):
    return jnp.zeros(tuple(shape) + (1,))

  def synapse_pre(self, params, h_pre, e_pre):
    return h_pre

  def synapse_post(self, params, h_post, e_post):
    return h_post

  @abc.abstractmethod
  def increment(self, w, s_pre, field_pre, s_post, field_post):
    """The closed-form weight change for one stored pattern (scalars)."""

  def synapse_core(self, params, w, a_pre, a_post):
    write = a_pre[STORED_SRC] * a_post[STORED_SRC] * (1.0 - a_pre[STORED]) * (1.0 - a_post[STORED])
    delta = self.increment(w[0], a_pre[S_SRC], a_pre[FIELD], a_post[S_SRC], a_post[FIELD])
    new_w = w + (write * delta)[None]
    forward = w * a_pre[S]  # pre-write weight: the field of the current state
    return new_w, forward, jnp.zeros((1,))

  def neuron_step(self, params, h, forward, backward, e, x):
    value, store_flag = x[0], x[1]
    clamped = jnp.abs(value) > 0
    s = jnp.where(clamped, sign(value), sign(forward[0]))
    stored = jnp.where(clamped, store_flag, 0.0)
    return jnp.stack([s, stored, forward[0], h[S], h[STORED]])

  def readout(self, params, h):
    return self.readout_scale * h[S]
