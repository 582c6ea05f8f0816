"""Rules by `config.rule.name`: learned and hand-written, all in the same two-function interface.

Each entry is a factory `(rule_config, context) -> Rule` (run on the topology by
`dynamics.Network`) or, for baselines without synapses such as the LSTM, a model with the same
`init_params` / `run_episode` methods. Adding a rule: a module with a `Rule` subclass and one
`RULES.register(name, factory)` line (here, or in your own code before building).
"""

import dataclasses

import numpy as np

from learned_rules.baselines.lstm import LSTMModel
from learned_rules.common.errors import ConfigError
from learned_rules.common.registry import Registry
from learned_rules.rules import cue_weighted
from learned_rules.rules.backprop import NONLINEARITIES, BackpropRule
from learned_rules.rules.base import STORE_CHANNEL, TEACHING_CHANNEL, VALUE_CHANNEL, Rule
from learned_rules.rules.delta import DeltaRule
from learned_rules.rules.hand_init import INITS
from learned_rules.rules.hebbian import HebbianRule
from learned_rules.rules.learned import ACTIVATIONS, LearnedRule
from learned_rules.rules.storkey import StorkeyRule


@dataclasses.dataclass(frozen=True)
class Context:
  """What a factory may need besides its config block: the network and the task's input."""

  topology: object = None  # topology.Topology the rule runs on
  aggregation: str = "mean"  # how messages are pooled per neuron
  input_channels: int = 2  # external input channels per neuron (the task's)
  num_visible: int = 0  # visible values per step (models without neurons)
  sequence_input_size: int = 0  # features per step of the flat stream (models without neurons)
  store_steps: int = 0  # steps each item is presented for storage (the task's; 0: not known)
  recall_steps: int = 0  # steps each cue is shown during recall (the task's; 0: not known)


RULES = Registry("rule", "rule.name")


def _learned(config, context: Context, plastic_synapses: bool) -> LearnedRule:
  return LearnedRule(
    neuron_state_size=config.neuron_state_size,
    synapse_state_size=config.synapse_state_size,
    message_size=config.message_size,
    embedding_size=config.embedding_size,
    hidden_size=config.hidden_size,
    activation=config.activation,
    synapse_update_scale=config.synapse_update_scale,
    synapse_init_std=config.synapse_init_std,
    learn_synapse_init=config.learn_synapse_init,
    plastic_synapses=plastic_synapses,
    frozen_synapse_components=tuple(config.get("frozen_synapse_components", ())),
    use_embeddings=config.use_embeddings,
    backward_messages=config.backward_messages,
    input_size=context.input_channels,
    bilinear=config.get("bilinear", False),
    init=config.get("init", "random"),
    hand_eta=config.get("hand_eta", 1.0),
  )


def _storkey_constants(context: Context) -> dict:
  """Storkey's 1/n and the aggregation's scale come from the network it runs on."""
  topology = context.topology
  if topology is None:
    raise ValueError("rule 'storkey' needs the topology it runs on (Context(topology=...)).")
  field_scale = float(np.max(topology.fan_in)) if context.aggregation == "mean" else 1.0
  return dict(num_neurons=topology.num_neurons, field_scale=field_scale)


# 'learned' is meta-trained by the outer loop; 'frozen' is the learned rule with synapse updates
# switched off (memory only in neuron states). The *_cued rules scale the forward messages of
# unclamped neurons by rule.free_weight, so a new cue is not outvoted by the previously recalled
# pattern (rules/cue_weighted.py).
RULES.register("learned", lambda c, ctx: _learned(c, ctx, c.plastic_synapses))
RULES.register("frozen", lambda c, ctx: _learned(c, ctx, plastic_synapses=False))
RULES.register("hebbian", lambda c, ctx: HebbianRule())
RULES.register("hebbian_cued", lambda c, ctx: cue_weighted.CueWeightedHebbianRule(c.free_weight))
RULES.register("storkey", lambda c, ctx: StorkeyRule(**_storkey_constants(ctx)))
RULES.register(
  "storkey_cued",
  lambda c, ctx: cue_weighted.CueWeightedStorkeyRule(c.free_weight, **_storkey_constants(ctx)),
)
RULES.register("delta", lambda c, ctx: DeltaRule(learning_rate=c.delta_learning_rate))
RULES.register(
  "delta_cued",
  lambda c, ctx: cue_weighted.CueWeightedDeltaRule(
    c.free_weight, learning_rate=c.delta_learning_rate
  ),
)


def _layered(config, context: Context, train_hidden: bool, hebbian: bool = False) -> BackpropRule:
  """backprop / delta_features on the context's network; ConfigError if the task cannot drive it."""
  if context.topology is None:
    raise ValueError(
      "rules 'backprop' and 'delta_features' need the topology (Context(topology=))."
    )
  name = "backprop" if train_hidden else ("hebbian_features" if hebbian else "delta_features")
  rule = BackpropRule(
    context.topology,
    aggregation=context.aggregation,
    store_steps=context.store_steps,
    learning_rate=config.backprop_learning_rate
    if train_hidden
    else config.delta_features_learning_rate,
    nonlinearity=config.backprop_nonlinearity,
    init_gain=config.backprop_init_gain,
    output_init_gain=None if train_hidden else 0.0,  # the delta rule starts from empty memory
    train_hidden=train_hidden,
    normalized=not train_hidden,
    hebbian=hebbian,
  )
  if context.input_channels <= TEACHING_CHANNEL:
    raise ConfigError(
      f"rule {name!r} learns from the target taught to the output neurons: it needs a task with "
      "a teaching channel (task.teaching=True for the remember task)."
    )
  m = rule.weight_layers
  if 0 < context.store_steps < rule.required_store_steps():
    raise ConfigError(
      f"task.store_steps={context.store_steps}: rule {name!r} on a net of {m} synapse layers "
      f"needs at least {rule.required_store_steps()} steps per stored item (forward and backward "
      "sweeps, one layer per step); raise task.store_steps."
    )
  if 0 < context.recall_steps < rule.required_recall_steps():
    raise ConfigError(
      f"task.recall_steps={context.recall_steps}: rule {name!r} on a net of {m} synapse layers "
      f"answers a cue {m} steps after it is shown; raise task.recall_steps to at least "
      f"{rule.required_recall_steps()}."
    )
  return rule


# Layered nets taught at their outputs (rules/backprop.py): 'backprop' performs one SGD step of
# back-propagation per stored item; 'delta_features' learns only the output layer, by the
# normalized delta rule over the frozen random hidden layer(s); 'hebbian_features' the same layer by
# the Hebbian write (lr t a / |a|^2, the Hebb perceptron over the random features).
RULES.register("backprop", lambda c, ctx: _layered(c, ctx, train_hidden=True))
RULES.register("delta_features", lambda c, ctx: _layered(c, ctx, train_hidden=False))
RULES.register(
  "hebbian_features", lambda c, ctx: _layered(c, ctx, train_hidden=False, hebbian=True)
)
# A non-plastic baseline: an LSTM meta-trained by the same loop (memory only in its activations).
RULES.register(
  "lstm", lambda c, ctx: LSTMModel(ctx.sequence_input_size, ctx.num_visible, c.lstm_hidden_size)
)


def build(name: str, config, context: Context = Context()):
  """The rule (or rule-free baseline model) `name`, from the `rule` config block."""
  return RULES.get(name)(config, context)


def _positive_int(key, value):
  if not isinstance(value, int) or isinstance(value, bool) or value < 1:
    raise ConfigError(f"{key}={value!r}: must be a positive integer.")


def validate(config) -> None:
  """Checks the `rule` block before anything compiles; ConfigError names the key."""
  RULES.check(config.name)
  for key in ("neuron_state_size", "synapse_state_size", "message_size", "hidden_size"):
    _positive_int(f"rule.{key}", config[key])
  _positive_int("rule.lstm_hidden_size", config.lstm_hidden_size)
  if not isinstance(config.embedding_size, int) or config.embedding_size < 0:
    raise ConfigError(f"rule.embedding_size={config.embedding_size!r}: must be >= 0.")
  if config.activation not in ACTIVATIONS:
    raise ConfigError(
      f"rule.activation={config.activation!r}: expected one of {tuple(ACTIVATIONS)}."
    )
  init = config.get("init", "random")
  if init not in INITS:
    raise ConfigError(f"rule.init={init!r}: expected one of {INITS}.")
  if not config.get("hand_eta", 1.0) > 0:
    raise ConfigError(f"rule.hand_eta={config.hand_eta!r}: must be > 0.")
  if not 0.0 <= config.free_weight <= 1.0:
    raise ConfigError(f"rule.free_weight={config.free_weight!r}: must be in [0, 1].")
  if not config.delta_learning_rate > 0:
    raise ConfigError(f"rule.delta_learning_rate={config.delta_learning_rate!r}: must be > 0.")
  for key in ("backprop_learning_rate", "delta_features_learning_rate", "backprop_init_gain"):
    if not config[key] > 0:
      raise ConfigError(f"rule.{key}={config[key]!r}: must be > 0.")
  if config.backprop_nonlinearity not in NONLINEARITIES:
    raise ConfigError(
      f"rule.backprop_nonlinearity={config.backprop_nonlinearity!r}: expected one of "
      f"{NONLINEARITIES}."
    )


__all__ = [
  "RULES",
  "STORE_CHANNEL",
  "TEACHING_CHANNEL",
  "VALUE_CHANNEL",
  "BackpropRule",
  "Context",
  "DeltaRule",
  "HebbianRule",
  "LearnedRule",
  "Rule",
  "StorkeyRule",
  "build",
  "validate",
]
