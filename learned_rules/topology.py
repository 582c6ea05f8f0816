"""Static network structure: neuron groups with types, and projections compiled to one mask.

Synapses are stored densely as a [post, pre] matrix with a 0/1 mask: every topology then runs
through the same vmapped step with regular shapes (fast on accelerators), and masked entries are
inert. This is our design choice; the spec only asks for groups, projections and masks.
"""

import dataclasses

import numpy as np

from learned_rules.common.errors import ConfigError
from learned_rules.common.registry import Registry

# Neuron types shared by every topology, so a rule's type embeddings transfer across them.
NEURON_TYPES = ("visible", "input", "hidden", "output")
NUM_NEURON_TYPES = len(NEURON_TYPES)


@dataclasses.dataclass(frozen=True)
class NeuronGroup:
  name: str
  size: int
  neuron_type: str  # one of NEURON_TYPES


@dataclasses.dataclass(frozen=True)
class Topology:
  """A network's static structure; arrays are numpy so they become compile-time constants."""

  name: str
  groups: tuple[NeuronGroup, ...]
  neuron_type: np.ndarray  # (N,) int index into NEURON_TYPES
  mask: np.ndarray  # (N, N) float 0/1, mask[post, pre] = 1 where synapse pre -> post exists
  input_index: np.ndarray  # (V,) neuron receiving visible bit v as external input
  output_index: np.ndarray  # (V,) neuron whose readout predicts visible bit v

  @property
  def num_neurons(self) -> int:
    return int(self.neuron_type.shape[0])

  @property
  def num_synapses(self) -> int:
    return int(self.mask.sum())

  @property
  def num_visible(self) -> int:
    return int(self.input_index.shape[0])

  @property
  def fan_in(self) -> np.ndarray:
    return self.mask.sum(axis=1)

  @property
  def fan_out(self) -> np.ndarray:
    return self.mask.sum(axis=0)

  def group_slice(self, name: str) -> slice:
    start = 0
    for group in self.groups:
      if group.name == name:
        return slice(start, start + group.size)
      start += group.size
    raise KeyError(f"no neuron group {name!r} in topology {self.name!r}")


def _types(groups) -> np.ndarray:
  return np.concatenate([np.full(g.size, NEURON_TYPES.index(g.neuron_type)) for g in groups])


def _check_positive(**sizes):
  for key, value in sizes.items():
    if isinstance(value, bool) or int(value) != value or value < 0:
      raise ConfigError(f"{key}={value!r}: must be a non-negative integer.")


def fully_connected(num_visible: int, num_hidden: int = 0, self_connections: bool = False):
  """Every neuron to every neuron; visible neurons both receive input and are read out."""
  _check_positive(num_visible=num_visible, **{"topology.num_hidden": num_hidden})
  groups = (NeuronGroup("visible", num_visible, "visible"),)
  if num_hidden:
    groups += (NeuronGroup("hidden", num_hidden, "hidden"),)
  n = num_visible + num_hidden
  mask = np.ones((n, n), np.float32)
  if not self_connections:
    np.fill_diagonal(mask, 0.0)
  visible = np.arange(num_visible)
  return Topology("fully_connected", groups, _types(groups), mask, visible, visible)


def layered(num_visible: int, hidden_sizes=(64,)):
  """Input layer -> hidden layer(s) -> output layer; synapses only between adjacent layers.

  Visible bit v is clamped on input neuron v and read out from output neuron v. Forward messages
  travel up and backward messages down through the same synapses.
  """
  hidden_sizes = tuple(int(h) for h in hidden_sizes)
  _check_positive(
    num_visible=num_visible, **{f"hidden_sizes[{i}]": h for i, h in enumerate(hidden_sizes)}
  )
  groups = [NeuronGroup("input", num_visible, "input")]
  groups += [NeuronGroup(f"hidden{i}", h, "hidden") for i, h in enumerate(hidden_sizes)]
  groups += [NeuronGroup("output", num_visible, "output")]
  sizes = [g.size for g in groups]
  offsets = np.cumsum([0] + sizes)
  n = int(offsets[-1])
  mask = np.zeros((n, n), np.float32)
  for layer in range(len(groups) - 1):
    pre = slice(offsets[layer], offsets[layer + 1])
    post = slice(offsets[layer + 1], offsets[layer + 2])
    mask[post, pre] = 1.0
  inputs = np.arange(num_visible)
  outputs = np.arange(offsets[-2], offsets[-1])
  return Topology("layered", tuple(groups), _types(groups), mask, inputs, outputs)


def sparse(num_visible: int, num_hidden: int = 0, fan_in: int = 8, seed: int = 0):
  """Like fully_connected, but each neuron has a random fixed set of `fan_in` presynaptic ones."""
  _check_positive(num_visible=num_visible, **{"topology.num_hidden": num_hidden})
  n = num_visible + num_hidden
  if not 1 <= fan_in <= n - 1:
    raise ConfigError(f"topology.fan_in={fan_in!r}: must be an integer in [1, {n - 1}].")
  dense = fully_connected(num_visible, num_hidden)
  rng = np.random.default_rng(seed)
  mask = np.zeros((n, n), np.float32)
  for post in range(n):
    candidates = np.delete(np.arange(n), post)
    mask[post, rng.choice(candidates, size=fan_in, replace=False)] = 1.0
  return dataclasses.replace(dense, name="sparse", mask=mask)


# Builders by `config.topology.name`: (topology config block, num_visible) -> Topology.
TOPOLOGIES = Registry("topology", "topology.name")
TOPOLOGIES.register(
  "fully_connected", lambda c, v: fully_connected(v, c.num_hidden, c.self_connections)
)
TOPOLOGIES.register("layered", lambda c, v: layered(v, tuple(c.hidden_sizes)))
TOPOLOGIES.register("sparse", lambda c, v: sparse(v, c.num_hidden, c.fan_in, c.seed))


def build(config, num_visible: int) -> Topology:
  """Builds the topology a config names; ConfigError names the bad key (builds are cheap)."""
  TOPOLOGIES.check(config.name)
  if not isinstance(config.num_hidden, int) or isinstance(config.num_hidden, bool):
    raise ConfigError(f"topology.num_hidden={config.num_hidden!r}: must be a non-negative integer.")
  for i, size in enumerate(config.hidden_sizes):
    if not isinstance(size, int) or size < 1:
      raise ConfigError(f"topology.hidden_sizes[{i}]={size!r}: must be a positive integer.")
  if not isinstance(config.fan_in, int) or isinstance(config.fan_in, bool):
    raise ConfigError(f"topology.fan_in={config.fan_in!r}: must be an integer.")
  return TOPOLOGIES.get(config.name)(config, num_visible)
