"""Hand-set rules for feed-forward (layered) nets taught at their outputs: back-propagation, and
the delta rule over fixed random hidden features, in the common two-function interface.

The network they train is a plain multi-layer perceptron over the topology's layers. A source
neuron (no presynaptic neuron: the input layer) holds its clamped value a = x. Every other neuron
computes z_i = sum_j w_ij a_j, then a_i = phi(z_i) if it has postsynaptic neurons (hidden) or
a_i = z_i if it has none (a sink: the output layer, read out as `readout_scale * a`). Under mean
aggregation a neuron undoes the pooled messages' 1/fan-in (1/fan-out) with its own synapse
counts, which it holds in its state from the start (`init_neuron_state`), so the network function
is the same under either aggregation.

Storage, `backprop`: while an item is stored (store flag on, the input on channel 0, the target
t on the output neurons' teaching channel 2, 0 = untaught), one presentation performs exactly one
SGD step on E = 1/2 sum_i taught_i (y_i - t_i)^2 with every weight's gradient taken at the
weights the presentation started with:
- forward messages carry (w_ij a_j, valid_j, a_j^2); a neuron latches its activity the first step
  all its inputs are valid (sources are valid at once), so the forward sweep moves one layer per
  step and the activities stay those of the starting weights;
- a sink that is valid has its error d_i = y_i - t_i (0 if untaught);
- backward messages carry (w_ij d_i, valid_i) with the weight before this step's write; a hidden
  neuron latches d_j = phi'(z_j) sum_i w_ij d_i the first step all its postsynaptic errors are
  valid, so the error sweep moves one layer down per step;
- a synapse writes w_ij -= lr d_i a_j once, on the step after its postsynaptic error became valid
  ("fresh"): that error was computed with the old weights of the layers above, which have only
  been written at that same step or later.
Weights start N(0, gain^2 / fan-in): the synapse state is sampled N(0, 1) with a "scaled" flag 0,
and each synapse multiplies it by gain / sqrt(fan-in of its post neuron) on its first step, so
the start does not depend on how the engine stores synapses. Validity is dataflow, so no neuron
needs its depth; it resets when a presentation starts: when the store flag rises, and every
`store_steps` steps while it stays on (back-to-back items with no gap step are separate
presentations), for which each neuron counts the steps since the flag rose. In a net of
M = L + 1 weight layers (L hidden layers), the output's error is valid after step M and the first
layer is written at step 2M: a presentation needs store_steps >= 2M + 1 = 2L + 3 engine steps.
`delta_features` writes only the synapses into sinks, so it needs store_steps >= M + 2 = L + 3.
Recall is the forward pass, one layer per step: the output answers the cue shown M steps
earlier, so recall_steps >= M + 1 (metrics read the last).

`delta_features`: hidden weights random and frozen, output weights (zero at the start) learned by
the normalized delta rule w_ij += lr (t_i - y_i) a_j / sum_j a_j^2 over the fixed random features
a_j (lr = 1: y = t on the item just written). Its post neuron learns sum_j a_j^2 from the third
forward-message component. `hebbian_features`: the same, with the Hebbian write
w_ij += lr t_i a_j / sum_j a_j^2 (the error term ignores what the output answers): the one-pass
Hebb perceptron over the random features.
"""

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules.common.errors import ConfigError
from learned_rules.rules.base import STORE_CHANNEL, TEACHING_CHANNEL, VALUE_CHANNEL, Rule

NONLINEARITIES = ("tanh", "relu", "linear")

# Synapse state layout: the weight, and 1 once it has been scaled to its start distribution.
W, SCALED = range(2)
# Neuron state layout.
ACT, ACT_VALID, ERR, ERR_VALID, ERR_FRESH, SQNORM, CLOCK, FAN_IN, FAN_OUT = range(9)
# Message layout (forward: activity term, validity, squared activity; backward: error term,
# validity, 0).
TERM, VALID, SQUARE = range(3)


def _phi(name: str, z):
  if name == "tanh":
    return jnp.tanh(z)
  if name == "relu":
    return jax.nn.relu(z)
  return z


def _phi_derivative(name: str, a):
  """phi'(z) written in terms of a = phi(z)."""
  if name == "tanh":
    return 1.0 - a * a
  if name == "relu":
    return (a > 0).astype(a.dtype)
  return jnp.ones_like(a)


def weight_layers(topology) -> int:
  """M, synapses on the longest source-to-sink path; ConfigError unless the net is feed-forward."""
  mask = np.asarray(topology.mask) > 0  # [post, pre]
  n = mask.shape[0]
  depth = np.zeros(n, np.int64)  # longest path (in synapses) from a source to each neuron
  remaining = mask.sum(axis=1).astype(np.int64)  # unresolved presynaptic neurons
  frontier = list(np.nonzero(remaining == 0)[0])
  resolved = 0
  while frontier:
    pre = frontier.pop()
    resolved += 1
    for post in np.nonzero(mask[:, pre])[0]:
      depth[post] = max(depth[post], depth[pre] + 1)
      remaining[post] -= 1
      if remaining[post] == 0:
        frontier.append(post)
  if resolved < n or not mask.any():
    raise ConfigError(
      f"topology.name={topology.name!r}: the backprop and delta_features rules need a "
      "feed-forward network (topology.name='layered'); this one has cycles or no synapses."
    )
  return int(depth.max())


class BackpropRule(Rule):
  """Back-propagation (or, with `train_hidden=False`, the delta rule over random features)."""

  synapse_state_size = 2
  message_size = 3
  embedding_size = 0
  neuron_state_size = 9

  def __init__(
    self,
    topology,
    aggregation: str = "mean",
    store_steps: int = 0,
    learning_rate: float = 0.1,
    nonlinearity: str = "tanh",
    init_gain: float = 1.0,
    output_init_gain: float | None = None,
    train_hidden: bool = True,
    normalized: bool = False,
    hebbian: bool = False,
    readout_scale: float = 4.0,
  ):
    if nonlinearity not in NONLINEARITIES:
      raise ValueError(f"nonlinearity={nonlinearity!r}: expected one of {NONLINEARITIES}.")
    self.topology = topology
    self.mean_aggregation = aggregation == "mean"
    self.store_steps = store_steps  # P: steps of one presentation (0: only the flag's rise)
    self.learning_rate = learning_rate
    self.nonlinearity = nonlinearity
    self.init_gain = init_gain  # weights start N(0, gain^2 / fan-in)
    self.output_init_gain = init_gain if output_init_gain is None else output_init_gain
    self.train_hidden = train_hidden  # False: only synapses into sinks write (delta_features)
    self.normalized = normalized  # divide a write by sum_j a_j^2 of the post neuron's inputs
    self.hebbian = hebbian  # a sink's error is -t whatever it answers: w += lr t a (Hebb)
    self.readout_scale = readout_scale  # logit = scale * y
    self.fan_in = np.asarray(topology.fan_in, np.float32)
    self.fan_out = np.asarray(topology.fan_out, np.float32)
    self.weight_layers = weight_layers(topology)

  def required_store_steps(self) -> int:
    """Engine steps one presentation needs for its write to finish (module docstring)."""
    m = self.weight_layers
    return 2 * m + 1 if self.train_hidden else m + 2

  def required_recall_steps(self) -> int:
    """Steps a cue must be shown for the output to answer it."""
    return self.weight_layers + 1

  def init_params(self, rng, num_types):
    return {}

  def init_synapse_state(self, params, rng, shape):
    noise = jax.random.normal(rng, tuple(shape) + (1,))
    return jnp.concatenate([noise, jnp.zeros_like(noise)], axis=-1)  # scaled on the first step

  def start_std(self, fan_in, fan_out):
    """Std of a weight's start into a neuron with these synapse counts."""
    gain = jnp.where(fan_out == 0, self.output_init_gain, self.init_gain)
    return gain / jnp.sqrt(jnp.maximum(fan_in, 1.0))

  def init_neuron_state(self, params, num_neurons):
    if num_neurons != self.topology.num_neurons:
      raise ValueError(f"{num_neurons} neurons: this rule was built for the topology's.")
    state = np.zeros((num_neurons, self.neuron_state_size), np.float32)
    state[:, FAN_IN], state[:, FAN_OUT] = self.fan_in, self.fan_out
    return jnp.asarray(state)

  def synapse_pre(self, params, h_pre, e_pre):
    return h_pre

  def synapse_post(self, params, h_post, e_post):
    return h_post

  def synapse_core(self, params, w, a_pre, a_post):
    std = self.start_std(a_post[FAN_IN], a_post[FAN_OUT])
    weight = jnp.where(w[SCALED] > 0, w[W], w[W] * std)
    activity, error = a_pre[ACT], a_post[ERR]
    forward = jnp.stack([weight * activity, a_pre[ACT_VALID], activity * activity])
    backward = jnp.stack([weight * error, a_post[ERR_VALID], jnp.zeros_like(weight)])
    write = a_post[ERR_FRESH] * a_pre[ACT_VALID]
    if not self.train_hidden:  # delta_features: only synapses into sinks write
      write = write * (a_post[FAN_OUT] == 0)
    step = self.learning_rate * error * activity
    if self.normalized:
      squares = a_post[SQNORM]
      step = jnp.where(squares > 0, step / jnp.where(squares > 0, squares, 1.0), 0.0)
    return jnp.stack([weight - write * step, jnp.ones_like(weight)]), forward, backward

  def _scales(self, h):
    if self.mean_aggregation:
      return h[FAN_IN], h[FAN_OUT]
    return 1.0, 1.0

  def neuron_step(self, params, h, forward, backward, e, x):
    value, flag = x[VALUE_CHANNEL], x[STORE_CHANNEL]
    target = x[TEACHING_CHANNEL] if x.shape[0] > TEACHING_CHANNEL else jnp.zeros_like(value)
    source, sink = h[FAN_IN] == 0, h[FAN_OUT] == 0
    in_scale, out_scale = self._scales(h)
    storing = flag > 0
    clock = jnp.where(storing, h[CLOCK] + 1.0, 0.0)  # steps since the store flag rose
    period = self.store_steps if self.store_steps > 0 else None
    offset = clock - 1.0 if period is None else jnp.mod(clock - 1.0, period)
    keep = storing & (offset > 0)  # within a presentation, after its first step

    # Forward: latch the activity the first step every input is valid (sources at once).
    z = in_scale * forward[TERM]
    activity_now = jnp.where(source, value, jnp.where(sink, z, _phi(self.nonlinearity, z)))
    inputs_valid = in_scale * forward[VALID] >= h[FAN_IN] - 0.5
    held = keep & (h[ACT_VALID] > 0) & ~source
    act_valid = storing & (source | (keep & (held | inputs_valid)))
    activity = jnp.where(held, h[ACT], activity_now)
    sqnorm = jnp.where(held, h[SQNORM], in_scale * forward[SQUARE])

    # Backward: sinks compare with the target, hidden neurons pool the errors above them.
    taught = jnp.abs(target) > 0
    error_now = jnp.where(
      sink,
      jnp.where(taught, (0.0 if self.hebbian else activity) - target, 0.0),
      _phi_derivative(self.nonlinearity, activity) * out_scale * backward[TERM],
    )
    errors_valid = sink | (out_scale * backward[VALID] >= h[FAN_OUT] - 0.5)
    err_held = keep & (h[ERR_VALID] > 0)
    err_valid = err_held | (keep & act_valid & errors_valid)
    error = jnp.where(err_held, h[ERR], jnp.where(err_valid, error_now, 0.0))
    fresh = err_valid & ~err_held
    return jnp.stack(
      [
        activity,
        act_valid.astype(activity.dtype),
        error,
        err_valid.astype(activity.dtype),
        fresh.astype(activity.dtype),
        sqnorm,
        clock,
        h[FAN_IN],
        h[FAN_OUT],
      ]
    )

  def readout(self, params, h):
    return self.readout_scale * h[ACT]
