"""A hand-set starting point for the learned rule: Hebbian storage over random features.

Our design, used by `rule.init = 'hebbian_features'`: meta-training on layered nets
from a random init first sits at the answer that needs no cue (every output neuron reports the
per-bit majority of the answers it was taught). Storing a pair needs two pieces at once, a write
into the output synapses and a read of them at recall, and at a random init the gradient of
either is proportional to the other, so both grow slowly (for a number of meta-steps that varies
by seed, at an undecayed rate: configs/studies/layered_scratch.py). This init sets the learned
rule's own parameters (the bilinear form, `rule.bilinear=True`) so that both pieces exist at step
0; meta-training then starts from a rule that already stores.
What it encodes:

- synapse state component 0 is a fixed random weight (std `feature_std`, never updated); it
  carries the input neurons' activity (neuron state component 1): the hidden layer becomes a
  layer of random tanh features of the input, as in the `delta_features` baseline;
- synapse state component 1 starts at 0 and is written Hebbian-style, +scale * tanh(eta a_pre
  a_post) per step, from neuron state component 0 at both ends (hidden and output activity);
  it carries component 0 forward: the output layer's field is a Hebbian read of the hidden
  features;
- a neuron's state is recomputed every step (gate 1): component 0 = tanh(gain * forward_0 +
  teach_gain * teaching), component 1 = tanh(clamp_gain * clamped value); no backward messages;
- the readout is `readout_gain` * component 0.

Every other parameter keeps its random init, with its output weights at 0, so meta-training can
grow it. Input neurons have no incoming synapses and hidden/output neurons no clamped value, so
component 1 is non-zero only on input neurons and component 0 zero on them: the feature weights
are read only on input synapses and the stored weights are written only between hidden and
output neurons. The tanh layers see their inputs at unit scale, so the messages and features
are tanh of the products above, not the products themselves (driving them near-linearly, with
output weights 10-100x larger to undo it, recalled about as well but made meta-training diverge
within 100 steps: BUILD_NOTES, "Training recipes").

A numpy model of the same rule (features tanh(6 * mean_j w_ij x_j), Hebbian outputs) recalls
K = 4 pairs of 16 bits through 32 hidden units at about 0.98 target-bit accuracy; the rule's
own number is measured by `python -m experiments.main --config=configs/remember_layered.py
--config.rule.bilinear=True --config.rule.init=hebbian_features --config.train.num_steps=0`.
"""

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules.common.errors import ConfigError
from learned_rules.rules.base import TEACHING_CHANNEL, VALUE_CHANNEL

INITS = ("random", "hebbian_features")


def check_fits(rule) -> None:
  """Raises ConfigError naming the size that is too small for the hand-set init."""
  needs = {
    "rule.bilinear": (rule.bilinear, True),
    "rule.learn_synapse_init": (rule.learn_synapse_init, True),
    "rule.activation": (rule.activation, "tanh"),
  }
  for key, (value, wanted) in needs.items():
    if value != wanted:
      raise ConfigError(f"rule.init='hebbian_features' needs {key}={wanted}, got {value!r}.")
  sizes = {
    "rule.neuron_state_size": (rule.neuron_state_size, 2),
    "rule.synapse_state_size": (rule.synapse_state_size, 2),
    "rule.message_size": (rule.message_size, 1),
    "rule.hidden_size": (rule.hidden_size, 3),
  }
  for key, (value, least) in sizes.items():
    if value < least:
      raise ConfigError(f"rule.init='hebbian_features' needs {key} >= {least}, got {value}.")
  if rule.input_size < 3:
    raise ConfigError(
      "rule.init='hebbian_features' needs the teaching channel (task.teaching=True): the task "
      f"gives {rule.input_size} input channels, 3 are needed."
    )


def hebbian_features(
  rule,
  params,
  feature_std: float = 1.0,
  eta: float = 1.0,
  gain: float = 6.0,
  teach_gain: float = 5.0,
  clamp_gain: float = 3.0,
  readout_gain: float = 4.0,
):
  """`params` (a random `rule.init_params` tree) with the hand-set pieces written in."""
  check_fits(rule)
  p = jax.tree.map(np.array, params)
  d_h, d_w, d_m = rule.neuron_state_size, rule.synapse_state_size, rule.message_size

  # --- synapse network: units 0, 1 (weighted messages) and 2 (Hebbian coincidence).
  first, bil = p["synapse_first"], p["synapse_bilinear"]
  rest = p["synapse_rest"]["Dense_0"]
  used = [0, 1, 2]
  first["kernel"][:, used] = 0.0
  first["bias"][used] = 0.0
  for name in ("w_gate", "pre_gate", "pre", "post"):
    bil[name][:, used] = 0.0
  bil["w_gate"][0, 0] = 1.0  # unit 0: w_0 * h_pre[1] (input activity x feature weight)
  bil["pre_gate"][1, 0] = 1.0
  bil["w_gate"][1, 1] = 1.0  # unit 1: w_1 * h_pre[0] (hidden activity x stored weight)
  bil["pre_gate"][0, 1] = 1.0
  bil["pre"][0, 2] = 1.0  # unit 2: h_pre[0] * h_post[0]
  bil["post"][0, 2] = 1.0
  rest["kernel"][:] = 0.0  # outputs: [increment (d_w), forward (d_m), backward (d_m)]
  rest["bias"][:] = 0.0
  rest["kernel"][0, d_w + 0] = 1.0  # forward_0 = tanh(w_0 x) + tanh(w_1 a_hidden)
  rest["kernel"][1, d_w + 0] = 1.0
  rest["kernel"][2, 1] = eta  # increment of w_1: eta * tanh(a_pre * a_post)

  # --- neuron network [h, F, B, e, x] -> 32 -> 32 -> (gate, candidate), units 0-2 used.
  net = p["neuron"]
  layer0, layer1, out = net["Dense_0"], net["Dense_1"], net["Dense_2"]
  forward0 = d_h  # the neuron input is [h (d_h), F (d_m), B (d_m), e (d_e), x (channels)]
  x0 = d_h + 2 * d_m + rule.embedding_size
  value_in, teach_in = x0 + VALUE_CHANNEL, x0 + TEACHING_CHANNEL
  layer0["kernel"][:, used] = 0.0
  layer0["bias"][used] = 0.0
  layer0["kernel"][forward0, 0] = 1.0
  layer0["kernel"][teach_in, 1] = 1.0
  layer0["kernel"][value_in, 2] = 1.0
  layer1["kernel"][:, used] = 0.0
  layer1["bias"][used] = 0.0
  for u in used:
    layer1["kernel"][u, u] = 1.0
  # Each used unit passes tanh(tanh(v)); the output weights divide by its value at v = 1.
  unit = float(np.tanh(np.tanh(1.0)))
  out["kernel"][:] = 0.0
  out["bias"][:] = 0.0
  out["bias"][:d_h] = 10.0  # gate ~ 1: the state is recomputed every step
  out["kernel"][0, d_h + 0] = gain / unit  # candidate_0 = gain * F_0 + teach_gain * teaching
  out["kernel"][1, d_h + 0] = teach_gain / unit
  out["kernel"][2, d_h + 1] = clamp_gain / unit  # candidate_1 = clamp_gain * clamped value

  # --- readout, synapse-state init law.
  p["readout"]["kernel"][:] = 0.0
  p["readout"]["kernel"][0, 0] = readout_gain
  p["readout"]["bias"][:] = 0.0
  p["synapse_init"]["mean"][:] = 0.0
  log_std = np.full((d_w,), np.log(1e-4), np.float32)
  log_std[0] = np.log(feature_std)
  p["synapse_init"]["log_std"] = log_std
  return jax.tree.map(jnp.asarray, p)
