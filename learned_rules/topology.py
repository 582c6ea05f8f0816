"""Static network structure: neuron groups with types, and projections compiled to one mask.

The mask says which synapses exist; a `SynapseLayout` says how their states are stored. Dense:
a [post, pre] matrix with the mask (regular shapes, masked entries inert; fastest where nearly
every synapse exists). Per synapse: only real synapses, as dense [post, pre] blocks, one per
projection, when the mask is a union of whole group-to-group blocks (layered nets), otherwise as a
gathered [post, slot] table with each slot's presynaptic index (sparse nets). Our design choice;
the spec only asks for groups, projections and masks.
"""

import dataclasses

import numpy as np

from learned_rules.common.errors import ConfigError
from learned_rules.common.registry import Registry

# How synapse states are stored (`topology.layout`): 'auto' picks per-synapse storage when fewer
# than AUTO_DENSE_FRACTION of the N x N grid are real synapses, dense otherwise.
LAYOUTS = ("auto", "dense", "per_synapse")
AUTO_DENSE_FRACTION = 0.5

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
  # One of LAYOUTS: how synapse states are stored (`synapse_layout`). The builders below give
  # 'dense' (the layout code written against a dense synapse_state expects); `build` sets the
  # config's topology.layout ('auto' by default).
  layout: str = "dense"

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


@dataclasses.dataclass(frozen=True)
class SynapseLayout:
  """Where each stored synapse state sits; index arrays are numpy (compile-time constants).

  kind 'dense': state (N, N, d_w) [post, pre], masked entries inert. kind 'blocks': a tuple of
  states (post_stop - post_start, pre_stop - pre_start, d_w), one per entry of `blocks`, every
  entry a real synapse. kind 'gathered': state (R, F, d_w); slot [r, f] is the synapse
  pre_index[r, f] -> post_rows[r], real where `valid` is 1 (None: every slot is real).
  """

  kind: str
  blocks: tuple[tuple[int, int, int, int], ...] = ()  # blocks: (post_start, post_stop, pre_...)
  post_rows: np.ndarray | None = None  # gathered: (R,) neurons with at least one synapse
  pre_index: np.ndarray | None = None  # gathered: (R, F) presynaptic neuron of each slot
  valid: np.ndarray | None = None  # gathered: (R, F) float 0/1 when fan-ins differ, else None

  @property
  def all_rows(self) -> bool:
    return self.post_rows is not None and np.array_equal(
      self.post_rows, np.arange(len(self.post_rows))
    )


def _whole_blocks(topology: Topology):
  """(post_start, post_stop, pre_start, pre_stop) of every group-to-group projection, or None
  when some group pair is only partly connected."""
  offsets = np.cumsum([0] + [g.size for g in topology.groups])
  blocks = []
  for post in range(len(topology.groups)):
    for pre in range(len(topology.groups)):
      p0, p1, q0, q1 = offsets[post], offsets[post + 1], offsets[pre], offsets[pre + 1]
      block = topology.mask[p0:p1, q0:q1]
      if block.size and block.all():
        blocks.append((int(p0), int(p1), int(q0), int(q1)))
      elif block.any():
        return None
  return tuple(blocks)


def synapse_layout(topology: Topology, layout: str | None = None) -> SynapseLayout:
  """The storage of `topology`'s synapses under `layout` (default: the topology's own)."""
  layout = topology.layout if layout is None else layout
  if layout not in LAYOUTS:
    raise ConfigError(f"topology.layout={layout!r}: use one of {LAYOUTS} ('auto': the fast one).")
  n = topology.num_neurons
  if layout == "auto":
    dense = topology.num_synapses >= AUTO_DENSE_FRACTION * n * n
    layout = "dense" if dense else "per_synapse"
  if layout == "dense":
    return SynapseLayout("dense")
  blocks = _whole_blocks(topology)
  if blocks is not None:
    return SynapseLayout("blocks", blocks=blocks)
  mask = topology.mask > 0
  rows = np.nonzero(mask.any(axis=1))[0]
  width = max(int(mask.sum(axis=1).max()), 1)
  pre_index = np.zeros((len(rows), width), np.int32)
  valid = np.zeros((len(rows), width), np.float32)
  for r, post in enumerate(rows):
    pres = np.nonzero(mask[post])[0]
    pre_index[r, : len(pres)] = pres
    valid[r, : len(pres)] = 1.0
  return SynapseLayout(
    "gathered",
    post_rows=rows.astype(np.int32),
    pre_index=pre_index,
    valid=None if valid.all() else valid,
  )


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
  layout = config.get("layout", "auto")
  if layout not in LAYOUTS:
    raise ConfigError(f"topology.layout={layout!r}: use one of {LAYOUTS} ('auto': the fast one).")
  return dataclasses.replace(TOPOLOGIES.get(config.name)(config, num_visible), layout=layout)
