"""A local error-correcting (delta / Widrow-Hoff) rule, in the common two-function interface.

Each neuron predicts its own clamped bit from the others: y_i = F_i = agg_j w_ij xi_j (the
network's mean or sum of forward messages). After a pattern's presentation every synapse takes
w_ij += lr (xi_i - y_i) xi_j: one SGD step on the squared error 1/2 sum_i (xi_i - y_i)^2 of that
single layer (exact with sum aggregation; with mean aggregation, row i's step is lr * fan_in_i
times the gradient, which is what makes lr = 1 the normalized step, y_i = xi_i right after a write
on empty weights). Timing, state layout and the write-on-release are shared with Storkey
(`release_write.py`).
"""

from learned_rules.rules.release_write import ReleaseWriteRule


class DeltaRule(ReleaseWriteRule):
  def __init__(self, learning_rate: float = 1.0, readout_scale: float = 4.0):
    super().__init__(field_scale=1.0, readout_scale=readout_scale)
    self.learning_rate = learning_rate

  def increment(self, w, s_pre, field_pre, s_post, field_post):
    return self.learning_rate * (s_post - field_post) * s_pre
