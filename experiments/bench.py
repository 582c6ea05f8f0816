r"""Engine benchmark: the machine's matmul and tanh limits beside the engine, and memory vs T.

  nice -n 5 python -m experiments.bench                       # tables, N = 32..256, 3 topologies
  python -m experiments.bench --sizes=16 --repeats=1 --memory_size=0 --layout_size=0 \
    --kernel_sizes= --json=/tmp/bench.json

Per topology and N: FLOPs per synapse update (XLA's cost analysis of one step on the reference
kernel, the same count whichever kernel runs), forward and meta-step times, synapse updates per
second and the fraction of the matmul (and matmul-plus-tanh) limit measured in the same process;
then meta-step memory against episode length for several train.remat_every policies; sparse and
layered forward stored per synapse against the dense masked grid (--layout_size); the fully
connected synapse kernel, the reference kernel against the row-chunked block kernel
(--kernel_sizes). The logic and the definitions are in learned_rules/bench.py.
"""

from absl import app, flags

from experiments.cli import USAGE_EXIT_CODE, fail
from learned_rules import bench

FLAGS = flags.FLAGS
_DEFAULT = bench.Options()
flags.DEFINE_list("sizes", [str(n) for n in _DEFAULT.sizes], "Numbers of neurons N.")
flags.DEFINE_list("topologies", list(_DEFAULT.topologies), "Topologies measured.")
flags.DEFINE_integer("batch", _DEFAULT.batch, "Episodes per forward and meta-step.")
flags.DEFINE_integer("k", _DEFAULT.k, "Patterns per episode of the size sweep (K=4: T=26).")
flags.DEFINE_integer("repeats", _DEFAULT.repeats, "Timed runs per measurement (medians).")
flags.DEFINE_integer("memory_size", _DEFAULT.memory_size, "N of the memory-vs-T study; 0 skips.")
flags.DEFINE_list(
  "episode_lengths", [str(t) for t in _DEFAULT.episode_lengths], "T values of that study."
)
flags.DEFINE_list(
  "remat_every", [str(k) for k in _DEFAULT.remat_every], "train.remat_every policies compared."
)
flags.DEFINE_integer("matmul_size", _DEFAULT.matmul_size, "Side of the limit's f32 matmul.")
flags.DEFINE_integer(
  "tanh_elements", _DEFAULT.tanh_elements, "Length of the limit's tanh vector (64 passes)."
)
flags.DEFINE_integer(
  "layout_size", _DEFAULT.layout_size, "N of the sparse/layered layout comparison; 0 skips."
)
flags.DEFINE_list(
  "kernel_sizes", [str(n) for n in _DEFAULT.kernel_sizes], "N of the kernel comparison; '' skips."
)
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

  options = bench.Options(
    sizes=_ints(FLAGS.sizes, "sizes"),
    topologies=tuple(FLAGS.topologies),
    batch=FLAGS.batch,
    k=FLAGS.k,
    repeats=FLAGS.repeats,
    memory_size=FLAGS.memory_size,
    episode_lengths=_ints(FLAGS.episode_lengths, "episode_lengths"),
    remat_every=_ints(FLAGS.remat_every, "remat_every"),
    matmul_size=FLAGS.matmul_size,
    tanh_elements=FLAGS.tanh_elements,
    layout_size=FLAGS.layout_size,
    kernel_sizes=_ints(FLAGS.kernel_sizes, "kernel_sizes"),
  )
  try:
    bench.validate(options)
  except ConfigError as error:
    fail(str(error), USAGE_EXIT_CODE)
  report = bench.run(options)
  print(bench.format_report(report), flush=True)
  if FLAGS.json:
    write_json(FLAGS.json, report)


if __name__ == "__main__":
  app.run(main)
