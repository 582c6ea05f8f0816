"""Hand-written rules whose free neurons speak softer than clamped ones during recall.

With the plain rules, a neuron whose cue bit is hidden keeps its state from the previous step,
which at a cue's onset is the previously recalled pattern; for the sign dynamics that old pattern
is as strong as the new cue and recall can sit at a mixed fixed point (hidden-bit accuracy about
0.85-0.9 already at K = 2, whatever N). The classical analyses start recall from the cue alone.
Here a forward message from a neuron that is not clamped by an input is scaled by `free_weight`
(< 1), so the cue dominates the first step; with free_weight = 1 the rules are unchanged. Local:
each neuron knows whether it is clamped, and the synapse reads that from its presynaptic state.
Neuron state: the base rule's, plus one `clamped` flag at the end.
"""

import jax.numpy as jnp

from learned_rules.rules.delta import DeltaRule
from learned_rules.rules.hebbian import HebbianRule
from learned_rules.rules.storkey import StorkeyRule


class CueWeighted:
  """Mixin: forward messages of free presynaptic neurons scaled by `free_weight`."""

  free_weight = 1.0

  @property
  def neuron_state_size(self):
    return self._base_neuron_state_size + 1

  def synapse_core(self, params, w, a_pre, a_post):
    new_w, forward, backward = super().synapse_core(params, w, a_pre[:-1], a_post[:-1])
    clamped = a_pre[-1]
    forward = forward * (clamped + self.free_weight * (1.0 - clamped))
    return new_w, forward, backward

  def neuron_step(self, params, h, forward, backward, e, x):
    new_h = super().neuron_step(params, h[:-1], forward, backward, e, x)
    clamped = (jnp.abs(x[0]) > 0).astype(new_h.dtype)
    return jnp.concatenate([new_h, clamped[None]])

  def readout(self, params, h):
    return super().readout(params, h[:-1])


class CueWeightedHebbianRule(CueWeighted, HebbianRule):
  _base_neuron_state_size = HebbianRule.neuron_state_size

  def __init__(self, free_weight: float, **kwargs):
    super().__init__(**kwargs)
    self.free_weight = free_weight


class CueWeightedStorkeyRule(CueWeighted, StorkeyRule):
  _base_neuron_state_size = StorkeyRule.neuron_state_size

  def __init__(self, free_weight: float, **kwargs):
    super().__init__(**kwargs)
    self.free_weight = free_weight


class CueWeightedDeltaRule(CueWeighted, DeltaRule):
  _base_neuron_state_size = DeltaRule.neuron_state_size

  def __init__(self, free_weight: float, **kwargs):
    super().__init__(**kwargs)
    self.free_weight = free_weight
