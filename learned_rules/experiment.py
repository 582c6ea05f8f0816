"""Config -> task, topology and models, with the blocks they read checked before anything compiles.

Each config block is validated once, by the module that owns it: `task` by its task class,
`topology` by its builder, `rule` by `rules.validate`, `eval` by `evaluation.validate`; the
trainer adds the `train` block. Errors are `ConfigError`s naming the key.
"""

import dataclasses
import functools

from learned_rules import evaluation, rules, sharded, tasks, topology
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import Network
from learned_rules.sharded import ShardedNetwork

__all__ = ["ConfigError", "Experiment", "build", "validate"]

AGGREGATIONS = ("mean", "sum")


@dataclasses.dataclass(frozen=True)
class Experiment:
  task: tasks.Task
  topology: topology.Topology
  config: object

  def context(self) -> rules.Context:
    return rules.Context(
      topology=self.topology,
      aggregation=self.config.aggregation,
      input_channels=self.task.input_channels,
      num_visible=self.task.num_visible,
      sequence_input_size=self.task.sequence_input_size,
      store_steps=self.task.config.get("store_steps", 0),
      recall_steps=self.task.config.get("recall_steps", 0),
    )

  def model(self, rule_name: str):
    """The rule `rule_name` (the config's rule block) running on the topology, as a Network.

    With train.model_parallel = M > 1 it is a ShardedNetwork split over M devices. A registered
    model without neurons (the LSTM) is returned as it is.
    """
    built = rules.build(rule_name, self.config.rule, self.context())
    if not isinstance(built, rules.Rule):
      return built
    devices = model_parallel(self.config)
    if devices > 1:
      return sharded.build(built, self.topology, self.config.aggregation, devices)
    return Network(
      built, self.topology, self.config.aggregation, neuron_reset_step=self.neuron_reset_step
    )

  @property
  def neuron_reset_step(self):
    """With `task.reset_neurons_at_recall`: episode length -> its first recall step; else None."""
    if not self.config.task.get("reset_neurons_at_recall", False):
      return None
    return functools.lru_cache(maxsize=None)(self.task.split_step_for_length)

  network = model  # the name most call sites read best with

  def state_floats(self, rule_name: str) -> int:
    """Floats of dynamic state (synapse plus neuron states, or the LSTM carry) of a model."""
    model = self.model(rule_name)
    if not isinstance(model, Network | ShardedNetwork):
      return model.num_state_floats
    rule = model.rule
    return (
      self.topology.num_synapses * rule.synapse_state_size
      + self.topology.num_neurons * rule.neuron_state_size
    )

  def synapses(self, rule_name: str) -> int:
    """Synapses of the model (none for a model without neurons)."""
    has_neurons = isinstance(self.model(rule_name), Network | ShardedNetwork)
    return self.topology.num_synapses if has_neurons else 0

  @property
  def num_state_floats(self) -> int:
    return self.state_floats(self.config.rule.name)


def model_parallel(config) -> int:
  """train.model_parallel: devices one network is split over (1 when the config has no such key)."""
  train = config.get("train")
  return 1 if train is None else train.get("model_parallel", 1)


def validate_model_parallel(config, num_neurons: int) -> None:
  """train.model_parallel: enough devices, N divisible, and no data parallelism beside it."""
  devices = model_parallel(config)
  if devices == 1 and not isinstance(devices, bool):
    return
  sharded.model_devices(devices)  # ConfigError: not an integer >= 1, or too few devices
  sharded.check_divisible(num_neurons, devices)
  if config.train.get("estimator", "bptt") != "bptt":
    raise ConfigError(
      f"train.model_parallel={devices}: only train.estimator='bptt' runs a network split over "
      "devices; set train.model_parallel=1 for the others."
    )
  if config.train.get("num_devices", 1) != 1:
    raise ConfigError(
      f"train.model_parallel={devices} splits one network over {devices} devices; splitting the "
      "batch over devices at the same time is not supported: set train.num_devices=1."
    )


def validate_neuron_reset(config, task) -> None:
  """task.reset_neurons_at_recall: a bool, on a setup that runs whole episodes on one device."""
  reset = config.task.get("reset_neurons_at_recall", False)
  if not isinstance(reset, bool):
    raise ConfigError(f"task.reset_neurons_at_recall={reset!r}: must be True or False.")
  if not reset:
    return
  train = config.get("train")
  if train is None:
    return
  if model_parallel(config) != 1:
    raise ConfigError(
      "task.reset_neurons_at_recall=True: not with train.model_parallel > 1 (set it to 1)."
    )
  window = train.get("unroll_window", 0)
  if 0 < window < task.length:
    raise ConfigError(
      f"task.reset_neurons_at_recall=True: truncated BPTT (train.unroll_window={window}) does "
      "not apply the reset; use train.unroll_window=0."
    )


def build_topology(config, task) -> topology.Topology:
  """The network for the task's visible neurons; ConfigError when its structure cannot fit."""
  try:
    return topology.build(config.topology, task.num_visible)
  except MemoryError:  # a dense N x N structure of a huge task (the memory check comes later)
    size = config.task.get("pattern_bits")
    key = f"task.pattern_bits={size}" if size is not None else f"task.name={config.task.name!r}"
    raise ConfigError(
      f"{key}: a {config.topology.name} network on {task.num_visible} visible neurons does not "
      "fit in this machine's memory (its connectivity alone); lower it or use a sparser "
      "topology.name."
    ) from None


def validate(config) -> Experiment:
  """Checks the task, topology, rule, aggregation and eval blocks; ConfigError names the key.

  Returns the Experiment it built on the way, so a caller that validates needs no second build.
  """
  tasks.validate(config.task)
  task = tasks.build(config.task)
  topo = build_topology(config, task)
  rules.validate(config.rule)
  if config.aggregation not in AGGREGATIONS:
    raise ConfigError(f"aggregation={config.aggregation!r}: expected one of {AGGREGATIONS}.")
  evaluation.validate(config.eval, task)
  eval_layout(config, task)  # eval.slots
  validate_model_parallel(config, topo.num_neurons)
  validate_neuron_reset(config, task)
  context = Experiment(task=task, topology=topo, config=config).context()
  for name in (config.rule.name, *config.eval.baselines):
    rules.build(name, config.rule, context)  # a rule may refuse the task or network (ConfigError)
  return Experiment(task=task, topology=topo, config=config)


def build(config) -> Experiment:
  """The validated Experiment of `config` (validation included: call it once per run)."""
  return validate(config)


def eval_task(config, task: tasks.Task | None = None) -> tasks.Task:
  """The task at the evaluation load: `eval.k` items in every episode (-1: the most trained)."""
  task = tasks.build(config.task) if task is None else task
  return task.at_load(eval_load(config, task))


def eval_load(config, task: tasks.Task) -> int:
  """K of the main evaluation: eval.k, or the most trained (-1)."""
  return task.load_range[1] if config.eval.k == -1 else config.eval.k


def eval_layout(config, task: tasks.Task | None = None) -> tuple[tasks.Task, int]:
  """(task, K) of the main evaluation: K = eval.k items per episode on eval.slots pattern slots
  (-1: K slots, no blank slots), the blank slots where task.blank_slots puts them."""
  task = tasks.build(config.task) if task is None else task
  k = eval_load(config, task)
  slots = config.eval.get("slots", -1)
  if slots != -1 and (not isinstance(slots, int) or isinstance(slots, bool) or slots < k):
    raise ConfigError(
      f"eval.slots={slots!r}: -1 (as many slots as patterns) or an integer >= the evaluation "
      f"load K = {k} (eval.k)."
    )
  return task.at_load(max(k, slots)), k
