r"""A textbook numpy Hopfield net next to the engine's Hebbian rules on the same patterns and cues.

  nice -n 5 python -m experiments.hopfield_reference --machine="2-core CPU, shared"
  python -m experiments.results   # its section of RESULTS.md

N = 32, 64, 128 and loads alpha = K / N in {0.1, 0.125, 0.15, 0.2, 0.25}, half of each cue
hidden, 128 episodes per point: a few minutes on a shared 2-core CPU. One JSON line per point in
results/hopfield_reference.jsonl; a point already there is skipped. The logic is
`learned_rules.sweeps.hopfield_reference`.
"""

from absl import app, flags

from learned_rules.sweeps import hopfield_reference

FLAGS = flags.FLAGS
flags.DEFINE_string("output", "results/hopfield_reference.jsonl", "Records file (appended).")
flags.DEFINE_list("sizes", [str(n) for n in hopfield_reference.SIZES], "N: neurons = bits.")
flags.DEFINE_list("loads", [str(a) for a in hopfield_reference.LOADS], "alpha = K / N.")
flags.DEFINE_float("hidden_fraction", 0.5, "c: fraction of each cue's bits hidden.")
flags.DEFINE_integer("episodes", 128, "Episodes per point (rounded up to whole batches).")
flags.DEFINE_integer("batch_size", 64, "Episodes per batch.")
flags.DEFINE_integer("max_iterations", 50, "numpy recall: most synchronous updates per cue.")
flags.DEFINE_string("machine", "", "Written into every record ('' = detected).")


def main(argv):
  del argv
  hopfield_reference.run(
    FLAGS.output,
    sizes=[int(n) for n in FLAGS.sizes],
    loads=[float(a) for a in FLAGS.loads],
    hidden_fraction=FLAGS.hidden_fraction,
    machine=FLAGS.machine,
    num_episodes=FLAGS.episodes,
    batch_size=FLAGS.batch_size,
    max_iterations=FLAGS.max_iterations,
  )


if __name__ == "__main__":
  app.run(main)
