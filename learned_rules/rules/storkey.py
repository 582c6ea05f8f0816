"""Storkey's (1997) one-shot local rule, in the common two-function interface.

Storkey: w_ij += (1/n) (xi_i xi_j - xi_i h_ji - h_ij xi_j), with the local field
h_ij = sum_{k != i, j} w_ik xi_k = field_i - w_ij xi_j (no self-connections).

The field needs the weights' response to the pattern being stored, which only the forward messages
carry, one step late. Our design (shared with the delta rule, see `release_write.py`): each neuron
keeps (s, stored, field, s_src, stored_src): the field F of its previous state s_src, computed from
the previous step's forward messages w_ij s_j with the pre-write weights. A synapse writes exactly
once per presentation, on the step its two neurons leave the store clamp (stored_src = 1,
stored = 0): at that step both fields were computed for the stored pattern with the current
weights, so the update is Storkey's closed form. It needs G >= 1 blank step after each pattern (the
default); with G = 0 nothing is written.

Two hand-set constants tie the rule to the network it runs on: `num_neurons` (Storkey's 1/n) and
`field_scale` (the aggregation's 1/fan-in, undone: F * field_scale is the raw sum). The reverse
weight w_ji in h_ji is read as w_ij: Storkey's update is symmetric, so weights started at zero stay
symmetric on a symmetric mask (fully connected); on a sparse mask this is an approximation.
"""

from learned_rules.rules.release_write import ReleaseWriteRule


class StorkeyRule(ReleaseWriteRule):
  def __init__(self, num_neurons: int, field_scale: float = 1.0, readout_scale: float = 4.0):
    super().__init__(field_scale=field_scale, readout_scale=readout_scale)
    self.num_neurons = num_neurons

  def increment(self, w, s_pre, field_pre, s_post, field_post):
    raw_pre, raw_post = self.field_scale * field_pre, self.field_scale * field_post
    h_post = raw_post - w * s_pre  # h_ij: field of i without j's term
    h_pre = raw_pre - w * s_post  # h_ji, with w_ji = w_ij
    return (s_post * s_pre - s_post * h_pre - h_post * s_pre) / self.num_neurons
