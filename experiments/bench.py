r"""Engine benchmark: compile time, synapse updates per second, meta-step time and memory.

  python -m experiments.bench                      # table, sizes 16..256 fully connected
  python -m experiments.bench --json --sizes=32,64 # the same as JSON

For each N (D = N visible neurons, fully connected, the default rule sizes), an episode of K=4
patterns with the default timing. Times are medians over --repeats runs after compilation.
"""

import json
import resource
import statistics
import sys
import time

import jax
from absl import app, flags

from configs import remember
from learned_rules import experiment as experiment_lib
from learned_rules.dynamics import run_batch
from learned_rules.tasks import model_inputs
from learned_rules.train import meta

FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["16", "32", "64", "128", "256"], "Numbers of neurons N.")
flags.DEFINE_integer("batch", 8, "Episodes per batch.")
flags.DEFINE_integer("k", 4, "Patterns per episode.")
flags.DEFINE_integer("repeats", 5, "Timed runs per measurement (median reported).")
flags.DEFINE_bool("json", False, "Print JSON instead of a table.")


def _config(n: int):
  config = remember.get_config()
  with config.unlocked():
    config.task.pattern_bits = n
    config.task.k_min = config.task.k_max = FLAGS.k
    config.train.batch_size = FLAGS.batch
  return config


def _median_seconds(fn, *args) -> float:
  times = []
  for _ in range(FLAGS.repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def _memory_bytes(compiled) -> int | None:
  """XLA's own estimate of the program's peak: arguments + outputs + temporaries."""
  try:
    analysis = compiled.memory_analysis()
    return int(
      analysis.argument_size_in_bytes + analysis.output_size_in_bytes + analysis.temp_size_in_bytes
    )
  except Exception:  # some backends do not report it
    return None


def bench_size(n: int) -> dict:
  config = _config(n)
  experiment = experiment_lib.build(config)
  network = experiment.model("learned")
  task = experiment.task
  params = network.init_params(jax.random.PRNGKey(0))
  batch = task.sample_batch(jax.random.PRNGKey(1), FLAGS.batch, FLAGS.k, FLAGS.k)
  episodes = model_inputs(task, network, batch)

  forward = jax.jit(lambda p, r, e: run_batch(network, p, r, e, remat=False))
  start = time.perf_counter()
  forward_compiled = forward.lower(params, jax.random.PRNGKey(2), episodes).compile()
  forward_compile_s = time.perf_counter() - start
  forward_s = _median_seconds(forward_compiled, params, jax.random.PRNGKey(2), episodes)

  optimizer = meta.make_optimizer(config.train)
  loss_fn = meta.make_loss_fn(network, task, config)
  train_step = meta.make_train_step(loss_fn, optimizer, max_traces=1)
  state = meta.init_train_state(network, optimizer, config.seed)
  start = time.perf_counter()
  step_compiled = train_step.lower(state).compile()
  meta_compile_s = time.perf_counter() - start
  times = []
  for _ in range(FLAGS.repeats):
    begin = time.perf_counter()
    state, step_metrics = step_compiled(state)
    jax.block_until_ready(step_metrics)
    times.append(time.perf_counter() - begin)

  synapse_updates = FLAGS.batch * task.length * experiment.topology.num_synapses
  return {
    "num_neurons": n,
    "num_synapses": experiment.topology.num_synapses,
    "episode_steps": task.length,
    "batch": FLAGS.batch,
    "forward_compile_s": forward_compile_s,
    "forward_s": forward_s,
    "synapse_updates_per_s": synapse_updates / forward_s,
    "meta_step_compile_s": meta_compile_s,
    "meta_step_s": statistics.median(times),
    "forward_memory_bytes": _memory_bytes(forward_compiled),
    "meta_step_memory_bytes": _memory_bytes(step_compiled),
  }


def main(argv):
  del argv
  results = []
  for size in FLAGS.sizes:
    results.append(bench_size(int(size)))
    if not FLAGS.json:
      print(f"measured N={size}", file=sys.stderr, flush=True)
  peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
  report = {
    "device": str(jax.devices()[0].device_kind),
    "backend": jax.default_backend(),
    "repeats": FLAGS.repeats,
    "process_peak_rss_bytes": peak_rss,
    "sizes": results,
  }
  if FLAGS.json:
    print(json.dumps(report, indent=2))
    return
  mib = lambda b: f"{b / 2**20:.1f}" if b is not None else "-"
  print(
    f"backend={report['backend']} device={report['device']} batch={FLAGS.batch} "
    f"K={FLAGS.k} median of {FLAGS.repeats}"
  )
  header = (
    "N",
    "synapses",
    "T",
    "compile_fwd_s",
    "fwd_s",
    "syn_upd/s",
    "compile_meta_s",
    "meta_step_s",
    "fwd_MiB",
    "meta_MiB",
  )
  print("".join(f"{h:>15}" for h in header))
  for r in results:
    row = (
      r["num_neurons"],
      r["num_synapses"],
      r["episode_steps"],
      f"{r['forward_compile_s']:.2f}",
      f"{r['forward_s']:.4f}",
      f"{r['synapse_updates_per_s']:.3g}",
      f"{r['meta_step_compile_s']:.2f}",
      f"{r['meta_step_s']:.4f}",
      mib(r["forward_memory_bytes"]),
      mib(r["meta_step_memory_bytes"]),
    )
    print("".join(f"{str(c):>15}" for c in row))
  print(f"process peak RSS: {mib(peak_rss)} MiB")


if __name__ == "__main__":
  app.run(main)
