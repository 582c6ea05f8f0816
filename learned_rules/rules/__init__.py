"""Rules: learned and hand-written, all in the same two-function interface."""

import numpy as np

from learned_rules.rules import cue_weighted
from learned_rules.rules.base import INPUT_SIZE, Rule
from learned_rules.rules.delta import DeltaRule
from learned_rules.rules.hebbian import HebbianRule
from learned_rules.rules.learned import LearnedRule
from learned_rules.rules.storkey import StorkeyRule

# 'frozen': the learned rule with synapse updates switched off (memory only in neuron states).
# 'hebbian_cued': Hebbian with unclamped neurons' messages scaled by CUED_FREE_WEIGHT, so a new
# cue is not outvoted by the previously recalled pattern (rules/cue_weighted.py).
RULES = ("learned", "hebbian", "hebbian_cued", "storkey", "delta", "frozen")
CUED_FREE_WEIGHT = 0.25
HANDWRITTEN = ("hebbian", "storkey", "delta")
META_TRAINED = ("learned", "frozen")


def _learned(config, plastic_synapses: bool) -> LearnedRule:
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
    use_embeddings=config.use_embeddings,
    backward_messages=config.backward_messages,
  )


def _cue_weighted(name, config, topology, aggregation, free_weight):
  if name == "hebbian":
    return cue_weighted.CueWeightedHebbianRule(free_weight)
  if name == "delta":
    return cue_weighted.CueWeightedDeltaRule(
      free_weight, learning_rate=config.get("delta_learning_rate", 1.0)
    )
  if topology is None:
    raise ValueError("rule 'storkey' needs the topology it runs on (rules.build(..., topology=)).")
  field_scale = float(np.max(topology.fan_in)) if aggregation == "mean" else 1.0
  return cue_weighted.CueWeightedStorkeyRule(
    free_weight, num_neurons=topology.num_neurons, field_scale=field_scale
  )


def build(name: str, config, topology=None, aggregation: str = "mean") -> Rule:
  """Builds the rule `name` from the `rule` config block.

  Storkey's rule needs the network it runs on (its 1/n and the aggregation's scale): pass
  `topology` (and `aggregation`) for it; the other rules ignore them. For the hand-written
  rules, `config.free_weight` (if the config has it and it is not 1) scales the forward messages
  of unclamped neurons (`rules/cue_weighted.py`).
  """
  free_weight = float(config.get("free_weight", 1.0)) if config is not None else 1.0
  if name in HANDWRITTEN and free_weight != 1.0:
    return _cue_weighted(name, config, topology, aggregation, free_weight)
  if name == "learned":
    return _learned(config, config.plastic_synapses)
  if name == "frozen":
    return _learned(config, plastic_synapses=False)
  if name == "hebbian":
    return HebbianRule()
  if name == "hebbian_cued":
    return cue_weighted.CueWeightedHebbianRule(CUED_FREE_WEIGHT)
  if name == "delta":
    return DeltaRule(learning_rate=config.get("delta_learning_rate", 1.0))
  if name == "storkey":
    if topology is None:
      raise ValueError(
        "rule 'storkey' needs the topology it runs on (rules.build(..., topology=))."
      )
    field_scale = float(np.max(topology.fan_in)) if aggregation == "mean" else 1.0
    return StorkeyRule(num_neurons=topology.num_neurons, field_scale=field_scale)
  raise ValueError(f"rule name {name!r}: expected one of {RULES}.")


__all__ = [
  "INPUT_SIZE",
  "Rule",
  "HebbianRule",
  "LearnedRule",
  "StorkeyRule",
  "DeltaRule",
  "RULES",
  "HANDWRITTEN",
  "META_TRAINED",
  "build",
]
