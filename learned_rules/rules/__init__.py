"""Rules: learned and hand-written, all in the same two-function interface."""

from learned_rules.rules.base import INPUT_SIZE, Rule
from learned_rules.rules.hebbian import HebbianRule
from learned_rules.rules.learned import LearnedRule

RULES = ("learned", "hebbian")


def build(name: str, config) -> Rule:
  """Builds the rule `name` from the `rule` config block."""
  if name == "learned":
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
      plastic_synapses=config.plastic_synapses,
      use_embeddings=config.use_embeddings,
      backward_messages=config.backward_messages,
    )
  if name == "hebbian":
    return HebbianRule()
  raise ValueError(f"rule name {name!r}: expected one of {RULES}.")


__all__ = ["INPUT_SIZE", "Rule", "HebbianRule", "LearnedRule", "RULES", "build"]
