"""Config -> task, topology and networks, with every value checked before anything compiles."""

import dataclasses

from learned_rules import rules, topology
from learned_rules.baselines import LSTMModel
from learned_rules.dynamics import Network
from learned_rules.tasks import remember

# Everything `rule.name` may say: the rules, and the non-plastic LSTM baseline (memory only in its
# activations; its size is `rule.lstm_hidden_size` if the config has it, else 64).
MODELS = rules.RULES + ("lstm",)
DEFAULT_LSTM_HIDDEN_SIZE = 64


@dataclasses.dataclass(frozen=True)
class Experiment:
  task: remember.RememberTask
  topology: topology.Topology
  config: object

  def network(self, rule_name: str):
    """A network running `rule_name` ('learned' uses the config's rule block) on the topology.

    'lstm' gives an LSTMModel instead: same `init_params` / `run_episode`, no topology.
    """
    if rule_name == "lstm":
      return LSTMModel(self.task.num_visible, lstm_hidden_size(self.config))
    rule = rules.build(rule_name, self.config.rule, self.topology, self.config.aggregation)
    return Network(rule, self.topology, self.config.aggregation)

  def state_floats(self, rule_name: str) -> int:
    """Floats of dynamic state (synapse plus neuron states, or the LSTM carry) of a model."""
    if rule_name == "lstm":
      return 2 * lstm_hidden_size(self.config)
    if rule_name in rules.META_TRAINED:
      d_w, d_h = self.config.rule.synapse_state_size, self.config.rule.neuron_state_size
    else:
      rule = rules.build(rule_name, self.config.rule, self.topology, self.config.aggregation)
      d_w, d_h = rule.synapse_state_size, rule.neuron_state_size
    return self.topology.num_synapses * d_w + self.topology.num_neurons * d_h

  def synapses(self, rule_name: str) -> int:
    """Synapses of the model (none for the LSTM)."""
    if rule_name == "lstm":
      return 0
    return self.topology.num_synapses

  @property
  def num_state_floats(self) -> int:
    return self.state_floats(self.config.rule.name)


def lstm_hidden_size(config) -> int:
  return int(config.rule.get("lstm_hidden_size", DEFAULT_LSTM_HIDDEN_SIZE))


class ConfigError(ValueError):
  """A config value that cannot work; the message names the key and what would."""


def _positive_int(key, value):
  if not isinstance(value, int) or isinstance(value, bool) or value < 1:
    raise ConfigError(f"{key}={value!r}: must be a positive integer.")


def validate(config) -> None:
  """Raises ConfigError naming the offending key for any value that cannot work."""
  try:
    _validate(config)
  except ConfigError:
    raise
  except ValueError as error:
    raise ConfigError(str(error)) from None


def _validate(config) -> None:
  remember.validate(config.task)
  topo = config.topology
  if topo.name not in topology.TOPOLOGIES:
    raise ConfigError(f"topology.name={topo.name!r}: expected one of {topology.TOPOLOGIES}.")
  if not isinstance(topo.num_hidden, int) or topo.num_hidden < 0:
    raise ConfigError(f"topology.num_hidden={topo.num_hidden!r}: must be a non-negative integer.")
  for i, size in enumerate(topo.hidden_sizes):
    _positive_int(f"topology.hidden_sizes[{i}]", size)
  if topo.name == "sparse":
    n = remember.num_visible(config.task) + topo.num_hidden
    if not isinstance(topo.fan_in, int) or not 1 <= topo.fan_in <= n - 1:
      raise ConfigError(f"topology.fan_in={topo.fan_in!r}: must be an integer in [1, {n - 1}].")
  rule = config.rule
  if rule.name not in MODELS:
    raise ConfigError(f"rule.name={rule.name!r}: expected one of {MODELS}.")
  if rule.name == "lstm":
    _positive_int("rule.lstm_hidden_size", lstm_hidden_size(config))
  for key in ("neuron_state_size", "synapse_state_size", "message_size", "hidden_size"):
    _positive_int(f"rule.{key}", rule[key])
  if not isinstance(rule.embedding_size, int) or rule.embedding_size < 0:
    raise ConfigError(f"rule.embedding_size={rule.embedding_size!r}: must be >= 0.")
  if config.aggregation not in ("mean", "sum"):
    raise ConfigError(f"aggregation={config.aggregation!r}: expected 'mean' or 'sum'.")
  train = config.train
  for key in ("num_steps", "batch_size", "log_every"):
    _positive_int(f"train.{key}", train[key])
  if not train.learning_rate > 0:
    raise ConfigError(f"train.learning_rate={train.learning_rate!r}: must be > 0.")
  if train.schedule not in ("cosine", "constant"):
    raise ConfigError(f"train.schedule={train.schedule!r}: expected 'cosine' or 'constant'.")
  evaluation = config.eval
  for key in ("num_episodes", "batch_size"):
    _positive_int(f"eval.{key}", evaluation[key])
  for name in evaluation.baselines:
    if name not in rules.RULES:
      raise ConfigError(f"eval.baselines has {name!r}: expected names from {rules.RULES}.")
  eval_k = evaluation.k
  if eval_k != -1:
    _positive_int("eval.k", eval_k)
    distinct = 2**config.task.pattern_bits
    if eval_k > distinct:
      raise ConfigError(f"eval.k={eval_k}: above the {distinct} distinct patterns of the task.")


def build(config) -> Experiment:
  validate(config)
  task = remember.RememberTask(config.task)
  topo = topology.build(config.topology, task.num_visible)
  return Experiment(task=task, topology=topo, config=config)


def eval_task(config) -> remember.RememberTask:
  """The task at the evaluation load: K = eval.k patterns in every episode."""
  k = config.task.k_max if config.eval.k == -1 else config.eval.k
  task_config = config.task.copy_and_resolve_references()
  with task_config.unlocked():
    task_config.k_min = k
    task_config.k_max = k
  return remember.RememberTask(task_config)
