"""How the sharded network's forward pass scales with the number of devices it is split over.

For each N (fully connected, the default rule's sizes) the same batch of episodes is run by the
one-device `Network` and by `ShardedNetwork` on the first 1, 2, 4, ... devices; the runs are
interleaved per repeat (so a machine shared with other jobs slows every variant alike) and the
medians reported, with each time over the one-device network's (`vs_one_device`; that network
may use a rule's faster `synapse_grid` kernel, the sharded one always vmaps `synapse_core`) and
over the sharded network's on the fewest devices (`vs_least_split`: same kernel, so only the cost
of splitting), and XLA's memory estimate per device of the compiled program. Inputs are random
(±1 values on every neuron, a random store flag): the forward's cost does not depend on them.

On CPU the devices are forced host devices (XLA_FLAGS=--xla_force_host_platform_device_count),
which all share the same cores: there the table measures what splitting costs (collectives,
smaller per-device programs), not a speed-up. On a machine with several accelerators the same
table measures the speed-up.
"""

import os
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from learned_rules import topology as topology_lib
from learned_rules.common.errors import ConfigError
from learned_rules.dynamics import Network, run_with_keys
from learned_rules.rules.learned import LearnedRule
from learned_rules.sharded import ShardedNetwork, check_divisible
from learned_rules.studies import measured_report
from learned_rules.studies.base import Study


def validate(options) -> None:
  available = jax.local_device_count()
  for count in options.devices:
    if not 1 <= count <= available:
      raise ConfigError(
        f"--devices: {count} device(s) asked, this process has {available}; on CPU force more "
        f"with XLA_FLAGS=--xla_force_host_platform_device_count={max(options.devices)}."
      )
    for n in options.sizes:
      check_divisible(n, count)
  for key in ("batch", "steps", "repeats"):
    if getattr(options, key) < 1:
      raise ConfigError(f"{key}={getattr(options, key)}: must be >= 1.")


def _forward(model, params, keys, inputs):
  """The compiled forward of a batch (no remat: nothing to differentiate)."""
  run = jax.jit(lambda p, k, x: run_with_keys(model, p, k, x, remat=False))
  compiled = run.lower(params, keys, inputs).compile()
  analysis = compiled.memory_analysis()
  memory = None
  if analysis is not None:
    memory = (
      analysis.argument_size_in_bytes + analysis.output_size_in_bytes + analysis.temp_size_in_bytes
    )
  return compiled, memory


def _time(compiled, *args) -> float:
  start = time.perf_counter()
  jax.block_until_ready(compiled(*args))
  return time.perf_counter() - start


def measure(options) -> dict:
  """Times every variant at every size; returns {'rows': [...], 'machine': {...}}."""
  validate(options)
  rule = LearnedRule()  # the default rule: d_h 8, d_w 4, d_m 8, hidden 32
  rows = []
  for n in options.sizes:
    topo = topology_lib.fully_connected(n)
    variants = {"one-device Network": Network(rule, topo)}
    for count in options.devices:
      variants[f"sharded x{count}"] = ShardedNetwork(rule, topo, devices=jax.devices()[:count])
    rng = jax.random.PRNGKey(options.seed)
    params = variants["one-device Network"].init_params(rng)
    keys = jax.random.split(jax.random.fold_in(rng, 1), options.batch)
    shape = (options.batch, options.steps, n)
    values = jnp.sign(jax.random.normal(jax.random.fold_in(rng, 2), shape))
    store = jax.random.bernoulli(jax.random.fold_in(rng, 3), 0.5, shape).astype(jnp.float32)
    inputs = jnp.stack([values, store], axis=-1)
    compiled, memory, times, outputs = {}, {}, {}, {}
    for name, model in variants.items():
      compiled[name], memory[name] = _forward(model, params, keys, inputs)
      outputs[name] = np.asarray(compiled[name](params, keys, inputs))  # also warms up
      times[name] = []
    for _ in range(options.repeats):
      for name in variants:
        times[name].append(_time(compiled[name], params, keys, inputs))
    base = statistics.median(times["one-device Network"])
    least = f"sharded x{min(options.devices)}"
    split_base = statistics.median(times[least])
    reference = outputs["one-device Network"]
    for name, model in variants.items():
      median = statistics.median(times[name])
      devices = getattr(model, "num_devices", 1)
      rows.append(
        {
          "N": n,
          "synapses": topo.num_synapses,
          "variant": name,
          "devices": devices,
          "fwd_s": median,
          "vs_one_device": median / base,
          "vs_least_split": median / split_base if isinstance(model, ShardedNetwork) else None,
          "synapse_MiB_per_device": n * n * rule.synapse_state_size * 4 / devices / 2**20,
          "xla_MiB_per_device": None if memory[name] is None else memory[name] / 2**20,
          "max_logit_diff": float(np.max(np.abs(outputs[name] - reference))),
        }
      )
  device = jax.devices()[0]
  return {
    "machine": {
      "backend": jax.default_backend(),
      "device": device.device_kind,
      "devices": jax.device_count(),
      "cpus": os.cpu_count(),
      "jax": jax.__version__,
    },
    "options": {k: v for k, v in options.to_dict().items() if k != "bases"},
    "rows": rows,
  }


COLUMNS = (  # (key, width, format)
  ("N", 5, "d"),
  ("variant", 20, "s"),
  ("fwd_s", 9, ".4f"),
  ("vs_one_device", 14, ".2f"),
  ("vs_least_split", 15, ".2f"),
  ("synapse_MiB_per_device", 23, ".2f"),
  ("xla_MiB_per_device", 19, ".2f"),
  ("max_logit_diff", 15, ".2e"),
)


def format_report(report: dict) -> str:
  """The console table: one line per size and variant."""
  machine, options = report["machine"], report["options"]
  lines = [
    f"backend={machine['backend']} device={machine['device']} devices={machine['devices']} "
    f"cpus={machine['cpus']} jax={machine['jax']} batch={options['batch']} "
    f"T={options['steps']} medians of {options['repeats']} (forward, fully connected)",
  ]
  if machine["backend"] == "cpu":
    lines.append(
      f"note: the {machine['devices']} CPU devices are forced host devices sharing the same "
      f"{machine['cpus']} cores, so this measures the overhead of splitting, not a speed-up."
    )
  lines.append("".join(f"{key:>{width}}" for key, width, _ in COLUMNS))
  for row in report["rows"]:
    lines.append(
      "".join(
        f"{'-':>{width}}" if row[key] is None else f"{row[key]:>{width}{fmt}}"
        for key, width, fmt in COLUMNS
      )
    )
  return "\n".join(lines)


KIND = "bench_sharding"


def run(config) -> dict:
  """Measures (`measure`) and appends the report as one record."""
  return measured_report.run(config, KIND, measure)


def section(context) -> list[str]:
  return measured_report.section(
    context, f"{KIND}.jsonl", KIND, "One network split over several devices", format_report
  )


STUDY = Study(
  name="bench_sharding",
  run=run,
  section=section,
  validate=validate,
  summary=lambda found, config: [format_report(found)],
)
