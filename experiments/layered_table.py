r"""Layered hetero-association, rule x K: saved learned rules beside backprop, delta_features,
the oracle and the majority floor on the same episodes (issue 10).

  python -m experiments.layered_table \
    --rules=learned_warm=results/rules/layered_warm_s0,results/rules/layered_warm_s1 \
    --rules=hebbian_start=results/rules/layered_hebbian_start

Appends results/layered_table.jsonl (points already there are skipped) and prints the table;
RESULTS.md gets it from `python -m experiments.results`. The logic is
`learned_rules.sweeps.layered_table`.
"""

from absl import app, flags

from experiments.cli import USAGE_EXIT_CODE, fail
from learned_rules.common.errors import ConfigError
from learned_rules.sweeps import layered_table

FLAGS = flags.FLAGS
flags.DEFINE_multi_string(
  "rules", [], "A saved learned rule group, 'label=rule_dir[,rule_dir...]' (repeatable)."
)
flags.DEFINE_list("eval_ks", ["2", "4", "6", "8", "12"], "Pairs stored per evaluation episode.")
flags.DEFINE_integer("eval_episodes", 512, "Held-out episodes per rule and K.")
flags.DEFINE_list("backprop_rates", ["0.01", "0.04", "0.1"], "backprop learning rates (best kept).")
flags.DEFINE_string("records", "results/layered_table.jsonl", "JSON-lines records (appended).")
flags.DEFINE_multi_string("override", [], "A key=value override of the task config (repeatable).")
flags.DEFINE_string("machine", "", "Written into every record ('' = detected).")


def main(argv):
  del argv
  options = layered_table.Options(
    rules=tuple(FLAGS.rules),
    eval_ks=tuple(int(k) for k in FLAGS.eval_ks),
    eval_episodes=FLAGS.eval_episodes,
    backprop_rates=tuple(float(r) for r in FLAGS.backprop_rates),
    records=FLAGS.records,
    overrides=tuple(FLAGS.override),
    machine=FLAGS.machine,
  )
  try:
    records = layered_table.run(options)
  except ConfigError as error:
    fail(str(error), USAGE_EXIT_CODE)
  print(layered_table.markdown(records))


if __name__ == "__main__":
  app.run(main)
