r"""Learning curves on unseen keys of a random teacher: remembering becomes learning (issue 10).

  nohup nice -n 5 python -m experiments.teacher_curves --num_steps=1500 --max_seconds=480 &
  python -m experiments.teacher_curves --teachers=linear,two_layer   # the two-layer teacher too

Meta-trains two learned rules per network (on random pairs only; on teacher pairs) in
runs/teacher_curves/<network>/<rule> (a rerun resumes them), then scores them, backprop (one and
ten passes, layered), delta / delta_features, Hebbian, the teacher (ceiling) and the majority
(floor) on the same unseen-key episodes at K = 4, 8, 16, 32. Appends results/teacher_curves.jsonl
(points already there are skipped) and writes results/teacher_curves.png; the table goes into
RESULTS.md with `python -m experiments.results` (or `--markdown=FILE`). The logic is
`learned_rules.sweeps.teacher_curves`.
"""

from absl import app, flags

from experiments.cli import USAGE_EXIT_CODE, fail
from learned_rules.common.errors import ConfigError
from learned_rules.sweeps import teacher_curves

FLAGS = flags.FLAGS
flags.DEFINE_list("networks", list(teacher_curves.NETWORKS), "Networks to run.")
flags.DEFINE_list("teachers", ["linear"], "Teachers to evaluate on: linear, two_layer.")
flags.DEFINE_string("root", "runs/teacher_curves", "Root of the learned rules' workdirs.")
flags.DEFINE_string("records", "results/teacher_curves.jsonl", "JSON-lines records (appended).")
flags.DEFINE_string("plot", "results/teacher_curves.png", "The figure ('' for none).")
flags.DEFINE_string(
  "markdown",
  "",
  "Also write the table here ('' for none; RESULTS.md gets it from experiments.results).",
)
flags.DEFINE_integer("num_steps", 2000, "Meta-steps per learned rule.")
flags.DEFINE_float("max_seconds", 0.0, "Training seconds per learned rule (0: no cap).")
flags.DEFINE_integer("batch_size", 16, "Episodes per meta-step.")
flags.DEFINE_list("remember_k", ["2", "8"], "K range of the random-pairs training episodes.")
flags.DEFINE_list("teacher_k", ["4", "16"], "K range of the teacher-pairs training episodes.")
flags.DEFINE_list("eval_ks", ["4", "8", "16", "32"], "Pairs stored in the evaluation episodes.")
flags.DEFINE_integer("eval_episodes", 256, "Held-out episodes per rule and K.")
flags.DEFINE_list("backprop_rates", ["0.01", "0.04", "0.1"], "backprop learning rates (best kept).")
flags.DEFINE_multi_string(
  "override", [], "A key=value config override for every config (repeatable)."
)
flags.DEFINE_multi_string(
  "committed",
  [],
  "A saved learned rule to evaluate as it is, 'network:label=rule_dir' (repeatable), e.g. "
  "layered:learned_remember_warm=results/rules/layered_warm_s0.",
)
flags.DEFINE_string("machine", "", "Written into every record ('' = detected).")


def main(argv):
  del argv
  options = teacher_curves.Options(
    networks=tuple(FLAGS.networks),
    teachers=tuple(FLAGS.teachers),
    root=FLAGS.root,
    records=FLAGS.records,
    num_steps=FLAGS.num_steps,
    max_seconds=FLAGS.max_seconds,
    batch_size=FLAGS.batch_size,
    remember_k=tuple(int(k) for k in FLAGS.remember_k),
    teacher_k=tuple(int(k) for k in FLAGS.teacher_k),
    eval_ks=tuple(int(k) for k in FLAGS.eval_ks),
    eval_episodes=FLAGS.eval_episodes,
    backprop_rates=tuple(float(r) for r in FLAGS.backprop_rates),
    overrides=tuple(FLAGS.override),
    committed=tuple(FLAGS.committed),
    machine=FLAGS.machine,
  )
  try:
    records = teacher_curves.run(options)
  except ConfigError as error:
    fail(str(error), USAGE_EXIT_CODE)
  if FLAGS.plot:
    teacher_curves.plot(records, FLAGS.plot)
  table = teacher_curves.markdown(records)
  if FLAGS.markdown:
    with open(FLAGS.markdown, "w") as f:
      f.write(table)
  print(table)


if __name__ == "__main__":
  app.run(main)
