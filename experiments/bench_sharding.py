r"""Scaling of the sharded network's forward pass with the devices it is split over.

  nice -n 5 python -m experiments.bench_sharding                  # N = 256, 512 on 1, 2, 4 devices
  python -m experiments.bench_sharding --sizes=64 --repeats=1 --json=/tmp/bench_sharding.json

On a CPU-only machine this process forces 4 host devices (XLA_FLAGS, set before jax starts,
unless XLA_FLAGS already forces a count); they share the machine's cores, so the table shows
the overhead of splitting a network, not a speed-up. The logic is in
learned_rules/bench_sharding.py.
"""

import os

FORCE_FLAG = "--xla_force_host_platform_device_count"
if FORCE_FLAG not in os.environ.get("XLA_FLAGS", ""):  # before jax creates its CPU devices
  os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FORCE_FLAG}=4".strip()

from absl import app, flags  # noqa: E402

from experiments.cli import USAGE_EXIT_CODE, fail  # noqa: E402
from learned_rules import bench_sharding  # noqa: E402

FLAGS = flags.FLAGS
_DEFAULT = bench_sharding.Options()
flags.DEFINE_list("sizes", [str(n) for n in _DEFAULT.sizes], "Numbers of neurons N.")
flags.DEFINE_list("devices", [str(d) for d in _DEFAULT.devices], "Device counts compared.")
flags.DEFINE_integer("batch", _DEFAULT.batch, "Episodes per forward.")
flags.DEFINE_integer("steps", _DEFAULT.steps, "Online steps per episode.")
flags.DEFINE_integer("repeats", _DEFAULT.repeats, "Timed runs per variant (medians).")
flags.DEFINE_string("json", "", "Also write the whole report as JSON to this path.")


def _ints(values, flag: str) -> tuple[int, ...]:
  try:
    return tuple(int(v) for v in values)
  except ValueError:
    fail(f"--{flag}={','.join(values)}: expected comma-separated integers.", USAGE_EXIT_CODE)


def main(argv):
  del argv
  from learned_rules.common.errors import ConfigError
  from learned_rules.common.writers import write_json

  options = bench_sharding.Options(
    sizes=_ints(FLAGS.sizes, "sizes"),
    devices=_ints(FLAGS.devices, "devices"),
    batch=FLAGS.batch,
    steps=FLAGS.steps,
    repeats=FLAGS.repeats,
  )
  try:
    report = bench_sharding.run(options)
  except ConfigError as error:
    fail(str(error), USAGE_EXIT_CODE)
  print(bench_sharding.format_report(report), flush=True)
  if FLAGS.json:
    write_json(FLAGS.json, report)


if __name__ == "__main__":
  app.run(main)
