"""Engine benchmark: the engine's speed beside the machine's limit, and meta-step memory vs T.

Everything is measured in one process and interleaved per repeat (matmul, tanh, forward,
meta-step, then again), so a machine shared with other jobs slows the limit and the engine alike
and the fractions stay comparable. Reported per topology and N (numbers of neurons):

- the limit: GFLOP/s of an f32 square matmul (1024 x 1024: about the machine's best rate; a
  matmul as small as one step at N = 16 is dominated by call overhead and is no limit), and
  G-elements/s of tanh in 64 passes over a cached 2^16 vector (one pass over a vector too large
  for the cache measures memory: on this CPU 2^22 elements ran at 40% of 2^20's rate);
- the work of a synapse update: FLOPs and transcendentals per synapse update from XLA's cost
  analysis of one online step compiled, for counting only, with the reference kernel
  (COST_KERNEL: the per-synapse vmap of `synapse_core`, a step without any loop) in the engine's
  own layout; the neuron-side work of the step is included, spread over the synapse updates.
  XLA counts a loop's body once, so neither a whole episode (a scan over T) nor a kernel that
  loops over chunks of synapses (the row-chunked block kernel) can be counted directly; counting
  the reference step gives every kernel the same work per update, so its fraction depends on
  its time alone. A meta-step does one forward, then per step a recomputed forward and a
  backward, so its FLOPs are forward + gradient-of-one-step (+ one more forward for
  remat_every > 1);
- times (medians over repeats after compilation), synapse updates per second (batch x T x
  synapses per forward or meta-step, over its time), engine FLOP/s and the fraction of the
  matmul limit, and of the matmul-plus-tanh limit (a synapse update's FLOPs at the matmul rate
  plus its transcendentals at the tanh rate); XLA's memory estimate of the compiled programs;
- meta-step memory against episode length at one N for several `train.remat_every` policies,
  and each policy's meta-step time over the every-step policy's (same-repeat ratios).

- synapse layouts: at one N, the forward of sparse and layered nets stored per synapse
  (`topology.layout`, the default 'auto') against the dense masked grid with the per-synapse
  vmap kernel and against the dense grid with the rule's block kernel; same-repeat ratios;
- the synapse kernel: fully connected forward and meta-step with the reference kernel (the
  per-synapse vmap of `synapse_core`, `Network(kernel="vmap")`) against the learned rule's
  row-chunked block kernel (`synapse_grid`), each with its synapse updates per second and its
  fraction of the matmul limit at the same work per update (the block kernel does less
  arithmetic for the same update: a fraction above the reference's is its saving).

A layered net of N neurons has N/4 input, N/2 hidden and N/4 output neurons; fully connected
and sparse nets have N visible neurons (at most 1023, see MAX_VISIBLE). The main table runs
the default layout ('auto': dense for fully connected, per synapse for sparse and layered).
"""

import gc
import os
import resource
import statistics
import sys
import time

import jax
import jax.numpy as jnp

from learned_rules import experiment as experiment_lib
from learned_rules import topology as topology_lib
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import Network, run_batch
from learned_rules.studies import measured_report
from learned_rules.studies.base import Study
from learned_rules.tasks import model_inputs
from learned_rules.train import meta

TOPOLOGIES = ("fully_connected", "layered", "sparse")
MIN_NEURONS = 16  # sparse wiring needs fan_in (8) < N; layered needs N/4 visible neurons
# The remember task's validation computes 2.0**D, which overflows at D = 1024: larger nets get
# 1023 visible neurons and the rest hidden (the engine's cost depends on N only).
MAX_VISIBLE = 1023
TANH_PASSES = 64  # tanh passes over the limit's vector per timed call
# The kernel whose compiled step is counted (module docstring): no loop inside a step.
COST_KERNEL = "vmap"


def validate(options) -> None:
  for name in ("batch", "k", "repeats", "matmul_size", "tanh_elements"):
    if getattr(options, name) < 1:
      raise ConfigError(f"{name}={getattr(options, name)}: must be >= 1.")
  sizes = list(options.sizes) + ([options.memory_size] if options.memory_size else [])
  sizes += list(options.kernel_sizes) + ([options.layout_size] if options.layout_size else [])
  for n in sizes:
    if n < MIN_NEURONS:
      raise ConfigError(f"N={n}: sizes must be >= {MIN_NEURONS}.")
  for name in options.topologies:
    topology_lib.TOPOLOGIES.check(name)
  if options.memory_size:
    if not options.episode_lengths or not options.remat_every:
      raise ConfigError("--episode_lengths and --remat_every must not be empty.")
    for every in options.remat_every:
      if every < 1:
        raise ConfigError(f"remat_every={every}: must be >= 1.")
    for length in options.episode_lengths:
      load_for_length(length, options)


def base_config(topology: str, n: int, options, load: int, remat_every: int = 1):
  """The remember config (`options.bases.remember`) at N neurons of this topology, K = load
  patterns, batch B."""
  config = options.bases.remember.copy_and_resolve_references()
  with config.unlocked():
    config.topology.name = topology
    if topology == "layered":
      visible = n // 4
      config.topology.hidden_sizes = (n - 2 * visible,)
    else:
      visible = min(n, MAX_VISIBLE)
      config.topology.num_hidden = n - visible
    config.task.pattern_bits = visible
    config.task.k_min = config.task.k_max = load
    config.train.batch_size = options.batch
    config.train.remat_every = remat_every
  return config


def load_for_length(length: int, options) -> int:
  """The number of patterns K whose default-timing episode is `length` steps long."""
  lengths = {}
  for load in range(1, length + 1):
    config = base_config("fully_connected", MIN_NEURONS, options, load)
    lengths[load] = experiment_lib.build(config).task.length
    if lengths[load] == length:
      return load
    if lengths[load] > length:
      break
  possible = ", ".join(str(t) for t in sorted(set(lengths.values())))
  raise ConfigError(f"episode length {length}: the default timing gives T in {{{possible}, ...}}.")


# --- measuring ----------------------------------------------------------------------------------
def _seconds(fn) -> float:
  start = time.perf_counter()
  jax.block_until_ready(fn())
  return time.perf_counter() - start


def _cost(compiled) -> tuple[float | None, float | None]:
  """(flops, transcendentals) of a compiled program per XLA's cost analysis, or Nones."""
  try:
    analysis = compiled.cost_analysis()
  except Exception:  # some backends have none
    return None, None
  if isinstance(analysis, list):
    analysis = analysis[0] if analysis else None
  if not analysis:
    return None, None
  return analysis.get("flops"), analysis.get("transcendentals", 0.0)


def _memory_bytes(compiled) -> int | None:
  """XLA's estimate of a program's peak: arguments + outputs + temporaries."""
  try:
    analysis = compiled.memory_analysis()
    return int(
      analysis.argument_size_in_bytes + analysis.output_size_in_bytes + analysis.temp_size_in_bytes
    )
  except Exception:  # some backends do not report it
    return None


def _compile(fn, *args):
  """(compiled program, seconds to compile); `fn` may already be jitted (donation kept)."""
  start = time.perf_counter()
  compiled = (fn if hasattr(fn, "lower") else jax.jit(fn)).lower(*args).compile()
  return compiled, time.perf_counter() - start


class Limit:
  """The machine's limit: an f32 square matmul and tanh passes over a vector, compiled once."""

  def __init__(self, matmul_side: int, tanh_elements: int, tanh_passes: int = TANH_PASSES):
    self.matmul_side = matmul_side
    self.tanh_elements = tanh_elements
    self.tanh_passes = tanh_passes
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    shape = (matmul_side, matmul_side)
    self._a = jax.random.normal(keys[0], shape, jnp.float32)
    self._b = jax.random.normal(keys[1], shape, jnp.float32)
    self._x = jax.random.normal(keys[2], (tanh_elements,), jnp.float32)
    self._matmul, _ = _compile(jnp.matmul, self._a, self._b)
    # Repeated passes over one cached vector time tanh itself, not memory; x <- 3 tanh(x) keeps
    # the values in tanh's working range (the multiply is noise beside the tanh).
    passes = lambda x: jax.lax.fori_loop(0, tanh_passes, lambda _, y: 3.0 * jnp.tanh(y), x)
    self._tanh, _ = _compile(passes, self._x)

  def time_matmul(self) -> float:
    return _seconds(lambda: self._matmul(self._a, self._b))

  def time_tanh(self) -> float:
    return _seconds(lambda: self._tanh(self._x))

  @property
  def matmul_flops(self) -> float:
    return 2.0 * self.matmul_side**3


class Engine:
  """One configuration's compiled forward (a batch of episodes) and meta-step, ready to time.

  `layout` and `kernel` choose what runs (dynamics.Network); the FLOPs of a step are counted on
  COST_KERNEL in the same layout whichever kernel runs (module docstring).
  """

  def __init__(
    self,
    config,
    forward: bool = True,
    step_costs: bool = True,
    meta_step: bool = True,
    layout: str | None = None,
    kernel: str = "auto",
  ):
    experiment = experiment_lib.build(config)
    network = experiment.model("learned")
    if layout is not None or kernel != "auto":
      network = self._variant(network, layout, kernel)
    task = experiment.task
    self.config = config
    self.num_neurons = network.num_neurons
    self.num_visible = experiment.topology.num_visible
    self.num_synapses = experiment.topology.num_synapses
    self.length = task.length
    self.batch = config.train.batch_size
    self.remat_every = config.train.remat_every

    params = network.init_params(jax.random.PRNGKey(0))
    load = config.task.k_max
    episodes = model_inputs(
      task, network, task.sample_batch(jax.random.PRNGKey(1), self.batch, load, load)
    )
    self.forward_compile_s = self.forward_memory_bytes = None
    if forward:
      run = lambda p, r, e: run_batch(network, p, r, e, remat=False)
      self._forward_args = (params, jax.random.PRNGKey(2), episodes)
      self._forward, self.forward_compile_s = _compile(run, *self._forward_args)
      self.forward_memory_bytes = _memory_bytes(self._forward)

    self.meta_compile_s = self.meta_memory_bytes = None
    if meta_step:
      optimizer = meta.make_optimizer(config.train)
      train_step = meta.make_train_step(meta.make_loss_fn(network, task, config), optimizer)
      self._state = meta.init_train_state(network, optimizer, config.seed)
      self._meta, self.meta_compile_s = _compile(train_step, self._state)
      self.meta_memory_bytes = _memory_bytes(self._meta)

    self.step_flops = self.step_transcendentals = None
    self.grad_flops = self.grad_transcendentals = None
    if step_costs:
      self._measure_step_costs(self._variant(network, layout, COST_KERNEL), params, episodes)

  @staticmethod
  def _variant(network, layout, kernel):
    """`network` with another synapse layout (None: the topology's) and kernel."""
    return Network(
      network.rule,
      network.topology,
      network.aggregation,
      layout,
      kernel,
      neuron_reset_step=network.neuron_reset_step,
    )

  def _measure_step_costs(self, network, params, episodes):
    """XLA's counts for one online step of the batch (forward, forward+backward) of `network`."""
    keys = jax.random.split(jax.random.PRNGKey(3), self.batch)
    states = jax.vmap(network.init_state, (None, 0))(params, keys)
    external = episodes[:, 0]
    step = jax.vmap(network.step, (None, 0, 0))
    total = lambda tree: sum(jnp.sum(leaf) for leaf in jax.tree.leaves(tree))
    grad = jax.grad(lambda p, s, x: total(step(p, s, x)), argnums=(0, 1))
    self.step_flops, self.step_transcendentals = _cost(_compile(step, params, states, external)[0])
    self.grad_flops, self.grad_transcendentals = _cost(_compile(grad, params, states, external)[0])

  @property
  def synapse_updates(self) -> int:
    """Synapse updates in one forward (or one meta-step's worth of episodes)."""
    return self.batch * self.length * self.num_synapses

  def meta_step_costs(self) -> tuple[float | None, float | None]:
    """(FLOPs, transcendentals) of one meta-step's online step: forward + recompute + backward."""
    if self.step_flops is None or self.grad_flops is None:
      return None, None
    forwards = 2 if 1 < self.remat_every < self.length else 1  # chunks recompute one more
    return (
      forwards * self.step_flops + self.grad_flops,
      forwards * self.step_transcendentals + self.grad_transcendentals,
    )

  def time_forward(self) -> float:
    return _seconds(lambda: self._forward(*self._forward_args))

  def time_meta_step(self) -> float:
    start = time.perf_counter()
    self._state, step_metrics = self._meta(self._state)
    jax.block_until_ready(step_metrics)
    return time.perf_counter() - start


def _median(values) -> float:
  return float(statistics.median(values))


def _fraction(achieved, limit):
  return None if achieved is None or not limit else achieved / limit


def measure_size(topology: str, n: int, options) -> dict:
  """The limit, forward and meta-step of one topology at N, interleaved per repeat."""
  engine = Engine(base_config(topology, n, options, options.k))
  limit = Limit(options.matmul_size, options.tanh_elements)
  times = {"matmul": [], "tanh": [], "forward": [], "meta_step": []}
  limit.time_matmul(), limit.time_tanh(), engine.time_forward(), engine.time_meta_step()  # warm
  for _ in range(options.repeats):
    times["matmul"].append(limit.time_matmul())
    times["tanh"].append(limit.time_tanh())
    times["forward"].append(engine.time_forward())
    times["meta_step"].append(engine.time_meta_step())
  median = {name: _median(values) for name, values in times.items()}
  matmul_rate = limit.matmul_flops / median["matmul"]
  tanh_rate = limit.tanh_elements * limit.tanh_passes / median["tanh"]
  per_update = engine.batch * engine.num_synapses  # synapse updates per online step
  meta_flops, meta_transcendentals = engine.meta_step_costs()
  row = {
    "topology": topology,
    "num_neurons": engine.num_neurons,
    "num_visible": engine.num_visible,
    "num_synapses": engine.num_synapses,
    "episode_steps": engine.length,
    "batch": engine.batch,
    "matmul_side": limit.matmul_side,
    "matmul_gflops": matmul_rate / 1e9,
    "tanh_elements": limit.tanh_elements,
    "tanh_passes": limit.tanh_passes,
    "tanh_gelements_per_s": tanh_rate / 1e9,
    "forward_compile_s": engine.forward_compile_s,
    "meta_step_compile_s": engine.meta_compile_s,
    "forward_s": median["forward"],
    "meta_step_s": median["meta_step"],
    "meta_step_over_forward": _median(
      [m / f for m, f in zip(times["meta_step"], times["forward"], strict=True)]
    ),
    "forward_memory_bytes": engine.forward_memory_bytes,
    "meta_step_memory_bytes": engine.meta_memory_bytes,
  }
  for name, step_flops, step_transcendentals, seconds in (
    ("forward", engine.step_flops, engine.step_transcendentals, median["forward"]),
    ("meta_step", meta_flops, meta_transcendentals, median["meta_step"]),
  ):
    flops_per_update = None if step_flops is None else step_flops / per_update
    transcendentals = None if step_transcendentals is None else step_transcendentals / per_update
    achieved = None if step_flops is None else step_flops * engine.length / seconds
    limit_s = None
    if step_flops is not None:
      limit_s = engine.length * (step_flops / matmul_rate + step_transcendentals / tanh_rate)
    row[f"{name}_flops_per_synapse_update"] = flops_per_update
    row[f"{name}_synapse_updates_per_s"] = engine.synapse_updates / seconds
    row[f"{name}_transcendentals_per_synapse_update"] = transcendentals
    row[f"{name}_gflops"] = None if achieved is None else achieved / 1e9
    row[f"{name}_fraction_of_matmul"] = _fraction(achieved, matmul_rate)
    row[f"{name}_fraction_of_matmul_tanh"] = _fraction(limit_s, seconds)
  return row


def measure_memory_vs_length(options) -> list[dict]:
  """Meta-step memory and time at N = memory_size per (T, remat_every), fully connected."""
  rows = []
  for length in options.episode_lengths:
    load = load_for_length(length, options)
    engines = {}
    for every in options.remat_every:
      config = base_config("fully_connected", options.memory_size, options, load, every)
      engines[every] = Engine(config, forward=not engines, step_costs=False)
    forward = next(iter(engines.values()))
    times = {every: [] for every in engines}
    forward_times = []
    forward.time_forward()
    for engine in engines.values():
      engine.time_meta_step()
    for _ in range(options.repeats):
      forward_times.append(forward.time_forward())
      for every, engine in engines.items():
        times[every].append(engine.time_meta_step())
    reference = times.get(1)
    for every, engine in engines.items():
      rows.append(
        {
          "num_neurons": engine.num_neurons,
          "episode_steps": engine.length,
          "batch": engine.batch,
          "remat_every": every,
          "meta_step_memory_bytes": engine.meta_memory_bytes,
          "meta_step_s": _median(times[every]),
          "meta_step_over_forward": _median(
            [m / f for m, f in zip(times[every], forward_times, strict=True)]
          ),
          "meta_step_over_every_step": None
          if reference is None
          else _median([m / r for m, r in zip(times[every], reference, strict=True)]),
        }
      )
      print(f"measured memory N={options.memory_size} T={length} k={every}", file=sys.stderr)
  return rows


def _ratios(numerators, denominators) -> float:
  return _median([a / b for a, b in zip(numerators, denominators, strict=True)])


def measure_layouts(options) -> list[dict]:
  """Forward of sparse and layered nets at N = layout_size in three storages, interleaved."""
  variants = (
    ("dense_vmap", "dense", "vmap"),  # today's engine: the masked grid, synapse_core vmapped
    ("dense_grid", "dense", "auto"),  # the masked grid with the rule's block kernel
    ("per_synapse", "per_synapse", "auto"),
  )
  rows = []
  for topology in ("sparse", "layered"):
    config = base_config(topology, options.layout_size, options, options.k)
    engines = {
      name: Engine(config, step_costs=False, meta_step=False, layout=layout, kernel=kernel)
      for name, layout, kernel in variants
    }
    times = {name: [] for name in engines}
    for engine in engines.values():
      engine.time_forward()
    for _ in range(options.repeats):
      for name, engine in engines.items():
        times[name].append(engine.time_forward())
    engine = engines["per_synapse"]
    rows.append(
      {
        "topology": topology,
        "num_neurons": engine.num_neurons,
        "num_synapses": engine.num_synapses,
        "episode_steps": engine.length,
        "batch": engine.batch,
        **{f"forward_{name}_s": _median(times[name]) for name in engines},
        "speedup_vs_dense_vmap": _ratios(times["dense_vmap"], times["per_synapse"]),
        "speedup_vs_dense_grid": _ratios(times["dense_grid"], times["per_synapse"]),
        "forward_memory_bytes": {name: e.forward_memory_bytes for name, e in engines.items()},
      }
    )
    jax.clear_caches()
    gc.collect()
    print(f"measured layouts {topology} N={options.layout_size}", file=sys.stderr, flush=True)
  return rows


def measure_kernels(options) -> list[dict]:
  """Fully connected forward and meta-step, reference kernel against block kernel, interleaved.

  Both kernels' fractions are at the same work per synapse update (the module docstring's
  count), so they stand in the ratio of their times.
  """
  rows = []
  for n in options.kernel_sizes:
    config = base_config("fully_connected", n, options, options.k)
    engines = {"vmap": Engine(config, kernel="vmap"), "grid": Engine(config, kernel="auto")}
    limit = Limit(options.matmul_size, options.tanh_elements)
    times = {"matmul": [], **{f"{k}_{name}": [] for k in engines for name in ("fwd", "meta")}}
    limit.time_matmul()
    for engine in engines.values():
      engine.time_forward(), engine.time_meta_step()
    for _ in range(options.repeats):
      times["matmul"].append(limit.time_matmul())
      for name, engine in engines.items():
        times[f"{name}_fwd"].append(engine.time_forward())
        times[f"{name}_meta"].append(engine.time_meta_step())
    matmul_rate = limit.matmul_flops / _median(times["matmul"])
    first = engines["vmap"]
    per_step = first.batch * first.num_synapses
    row = {
      "num_neurons": n,
      "num_synapses": first.num_synapses,
      "episode_steps": first.length,
      "batch": first.batch,
      "matmul_gflops": matmul_rate / 1e9,
    }
    for name, engine in engines.items():
      forward_s, meta_s = _median(times[f"{name}_fwd"]), _median(times[f"{name}_meta"])
      meta_flops, _ = engine.meta_step_costs()
      row[f"{name}_flops_per_synapse_update"] = (
        None if engine.step_flops is None else engine.step_flops / per_step
      )
      row[f"{name}_forward_s"] = forward_s
      row[f"{name}_meta_step_s"] = meta_s
      row[f"{name}_meta_step_over_forward"] = _ratios(times[f"{name}_meta"], times[f"{name}_fwd"])
      row[f"{name}_forward_synapse_updates_per_s"] = engine.synapse_updates / forward_s
      row[f"{name}_meta_step_synapse_updates_per_s"] = engine.synapse_updates / meta_s
      row[f"{name}_forward_fraction_of_matmul"] = _fraction(
        None if engine.step_flops is None else engine.step_flops * engine.length / forward_s,
        matmul_rate,
      )
      row[f"{name}_meta_step_fraction_of_matmul"] = _fraction(
        None if meta_flops is None else meta_flops * engine.length / meta_s, matmul_rate
      )
    row["forward_speedup"] = _ratios(times["vmap_fwd"], times["grid_fwd"])
    row["meta_step_speedup"] = _ratios(times["vmap_meta"], times["grid_meta"])
    rows.append(row)
    jax.clear_caches()
    gc.collect()
    print(f"measured kernels N={n}", file=sys.stderr, flush=True)
  return rows


def memory_growth(rows: list[dict]) -> list[dict]:
  """Per policy: meta-step memory at the longest T over the shortest (1.10 = 10% more)."""
  growth = []
  for every in sorted({row["remat_every"] for row in rows}):
    mine = sorted((r for r in rows if r["remat_every"] == every), key=lambda r: r["episode_steps"])
    first, last = mine[0], mine[-1]
    if first["meta_step_memory_bytes"] and last["meta_step_memory_bytes"]:
      growth.append(
        {
          "remat_every": every,
          "from_steps": first["episode_steps"],
          "to_steps": last["episode_steps"],
          "memory_ratio": last["meta_step_memory_bytes"] / first["meta_step_memory_bytes"],
        }
      )
  return growth


def measure(options) -> dict:
  """The whole benchmark as one JSON-ready report."""
  validate(options)
  sizes = []
  for topology in options.topologies:
    for n in options.sizes:
      sizes.append(measure_size(topology, n, options))
      jax.clear_caches()  # drop the compiled programs (N = 1024 holds GiBs)
      gc.collect()
      print(f"measured {topology} N={n}", file=sys.stderr, flush=True)
  memory = measure_memory_vs_length(options) if options.memory_size else []
  layouts = measure_layouts(options) if options.layout_size else []
  kernels = measure_kernels(options) if options.kernel_sizes else []
  return {
    "device": str(jax.devices()[0].device_kind),
    "backend": jax.default_backend(),
    "jax_version": jax.__version__,
    "cpu_count": os.cpu_count(),
    "options": {k: v for k, v in options.to_dict().items() if k != "bases"},
    "sizes": sizes,
    "memory_vs_length": memory,
    "memory_growth": memory_growth(memory),
    "layouts": layouts,
    "kernels": kernels,
    "process_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
  }


# --- the table ----------------------------------------------------------------------------------
def _fmt(value, spec: str) -> str:
  return "-" if value is None else format(value, spec)


def _mega(value) -> str:
  return "-" if value is None else f"{value / 1e6:.2f}"


def _mib(value) -> str:
  return "-" if value is None else f"{value / 2**20:.1f}"


def _table(header, rows) -> list[str]:
  widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
  line = lambda cells: "  ".join(f"{str(c):>{w}}" for c, w in zip(cells, widths, strict=True))
  return [line(header)] + [line(row) for row in rows]


def format_report(report: dict) -> str:
  """The report as plain-text tables (the JSON has every field)."""
  options = report["options"]
  lines = [
    f"backend={report['backend']} device={report['device']} cpus={report['cpu_count']} "
    f"jax={report['jax_version']} batch={options['batch']} K={options['k']} "
    f"medians of {options['repeats']}",
    "",
    "Limit beside engine (F/upd: FLOPs per synapse update, counted on the reference kernel; "
    "Mupd/s: million synapse updates/s; fraction = engine FLOP/s / matmul FLOP/s; +tanh: time "
    "at the matmul-plus-tanh limit / measured time)",
  ]
  header = (
    "topology", "N", "syn", "T", "mm_GF/s", "tanh_G/s", "F/upd", "tr/upd", "fwd_s", "meta_s",
    "meta/fwd", "fwd_Mupd/s", "meta_Mupd/s", "fwd_GF/s", "meta_GF/s", "fwd_frac", "meta_frac",
    "fwd_frac+t", "meta_frac+t", "fwd_MiB", "meta_MiB",
  )  # fmt: skip
  rows = [
    (
      r["topology"],
      r["num_neurons"],
      r["num_synapses"],
      r["episode_steps"],
      _fmt(r["matmul_gflops"], ".1f"),
      _fmt(r["tanh_gelements_per_s"], ".2f"),
      _fmt(r["forward_flops_per_synapse_update"], ".0f"),
      _fmt(r["forward_transcendentals_per_synapse_update"], ".0f"),
      _fmt(r["forward_s"], ".4f"),
      _fmt(r["meta_step_s"], ".4f"),
      _fmt(r["meta_step_over_forward"], ".2f"),
      _mega(r["forward_synapse_updates_per_s"]),
      _mega(r["meta_step_synapse_updates_per_s"]),
      _fmt(r["forward_gflops"], ".2f"),
      _fmt(r["meta_step_gflops"], ".2f"),
      _fmt(r["forward_fraction_of_matmul"], ".3f"),
      _fmt(r["meta_step_fraction_of_matmul"], ".3f"),
      _fmt(r["forward_fraction_of_matmul_tanh"], ".3f"),
      _fmt(r["meta_step_fraction_of_matmul_tanh"], ".3f"),
      _mib(r["forward_memory_bytes"]),
      _mib(r["meta_step_memory_bytes"]),
    )
    for r in report["sizes"]
  ]
  lines += _table(header, rows)
  if report["memory_vs_length"]:
    lines += ["", "Meta-step memory vs episode length (fully connected; k = train.remat_every)"]
    header = ("N", "T", "k", "meta_MiB", "meta_s", "meta/fwd", "time_vs_k=1")
    rows = [
      (
        r["num_neurons"],
        r["episode_steps"],
        r["remat_every"],
        _mib(r["meta_step_memory_bytes"]),
        _fmt(r["meta_step_s"], ".3f"),
        _fmt(r["meta_step_over_forward"], ".2f"),
        _fmt(r["meta_step_over_every_step"], ".2f"),
      )
      for r in report["memory_vs_length"]
    ]
    lines += _table(header, rows)
    for g in report["memory_growth"]:
      lines.append(
        f"k={g['remat_every']}: memory at T={g['to_steps']} / T={g['from_steps']} = "
        f"{g['memory_ratio']:.3f}"
      )
  if report.get("layouts"):
    lines += [
      "",
      "Synapse layouts: forward s (dense_vmap: masked N x N grid, synapse_core vmapped, the "
      "reference kernel; dense_grid: same grid, block kernel; per_synapse: real synapses only)",
    ]
    header = ("topology", "N", "syn", "T", "dense_vmap_s", "dense_grid_s", "per_syn_s",
              "x_vs_vmap", "x_vs_grid")  # fmt: skip
    rows = [
      (
        r["topology"],
        r["num_neurons"],
        r["num_synapses"],
        r["episode_steps"],
        _fmt(r["forward_dense_vmap_s"], ".4f"),
        _fmt(r["forward_dense_grid_s"], ".4f"),
        _fmt(r["forward_per_synapse_s"], ".4f"),
        _fmt(r["speedup_vs_dense_vmap"], ".2f"),
        _fmt(r["speedup_vs_dense_grid"], ".2f"),
      )
      for r in report["layouts"]
    ]
    lines += _table(header, rows)
  if report.get("kernels"):
    lines += [
      "",
      "Synapse kernel, fully connected (vmap: synapse_core vmapped, the reference kernel; grid: "
      "row-chunked block kernel; F/upd: FLOPs per synapse update, counted on the reference "
      "kernel for both; frac: F/upd x synapse updates/s / matmul FLOP/s)",
    ]
    header = ("N", "T", "mm_GF/s", "F/upd", "fwd_vmap", "fwd_grid", "fwd_x", "meta_vmap",
              "meta_grid", "meta_x", "m/f_vmap", "m/f_grid", "Mupd/s_vmap", "Mupd/s_grid",
              "frac_vmap", "frac_grid", "meta_Mupd/s_vmap", "meta_Mupd/s_grid", "meta_frac_vmap",
              "meta_frac_grid")  # fmt: skip
    rows = [
      (
        r["num_neurons"],
        r["episode_steps"],
        _fmt(r["matmul_gflops"], ".1f"),
        _fmt(r["grid_flops_per_synapse_update"], ".0f"),
        _fmt(r["vmap_forward_s"], ".4f"),
        _fmt(r["grid_forward_s"], ".4f"),
        _fmt(r["forward_speedup"], ".2f"),
        _fmt(r["vmap_meta_step_s"], ".4f"),
        _fmt(r["grid_meta_step_s"], ".4f"),
        _fmt(r["meta_step_speedup"], ".2f"),
        _fmt(r["vmap_meta_step_over_forward"], ".2f"),
        _fmt(r["grid_meta_step_over_forward"], ".2f"),
        _mega(r["vmap_forward_synapse_updates_per_s"]),
        _mega(r["grid_forward_synapse_updates_per_s"]),
        _fmt(r["vmap_forward_fraction_of_matmul"], ".3f"),
        _fmt(r["grid_forward_fraction_of_matmul"], ".3f"),
        _mega(r["vmap_meta_step_synapse_updates_per_s"]),
        _mega(r["grid_meta_step_synapse_updates_per_s"]),
        _fmt(r["vmap_meta_step_fraction_of_matmul"], ".3f"),
        _fmt(r["grid_meta_step_fraction_of_matmul"], ".3f"),
      )
      for r in report["kernels"]
    ]
    lines += _table(header, rows)
  lines.append(f"process peak RSS: {_mib(report['process_peak_rss_bytes'])} MiB")
  return "\n".join(lines)


KIND = "bench"


def run(config) -> dict:
  """Measures (`measure`) and appends the report as one record."""
  return measured_report.run(config, KIND, measure)


def section(context) -> list[str]:
  return measured_report.section(
    context,
    f"{KIND}.jsonl",
    KIND,
    "Engine throughput against this machine's matmul limit",
    format_report,
  )


STUDY = Study(
  name="bench",
  run=run,
  section=section,
  validate=validate,
  summary=lambda found, config: [format_report(found)],
)
