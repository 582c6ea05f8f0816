r"""What a rule learned: its storage update by pre/post activity, beside Hebbian and Storkey, and
the memory-location probe below and above its neuron-state capacity (issue 9, item 6).

  python -m experiments.anatomy --rules=hebbian,storkey,results/rules/headline_s0 \
    --n=32 --k=8 --probe_loads=1,2,8
  python -m experiments.results        # RESULTS.md section + results/rule_anatomy.png

Replaces the records of the rules it measures in --records. The logic is
`learned_rules.sweeps.anatomy`.
"""

from absl import app, flags

from experiments.cli import USAGE_EXIT_CODE, fail
from learned_rules.common.errors import ConfigError
from learned_rules.sweeps import anatomy

FLAGS = flags.FLAGS
flags.DEFINE_list("rules", ["hebbian", "storkey"], "Rule names or committed rule directories.")
flags.DEFINE_integer("n", 32, "Neurons (fully connected, auto-association).")
flags.DEFINE_integer("k", 8, "Patterns stored for the update measurement.")
flags.DEFINE_list("probe_loads", ["2", "8"], "Loads K of the memory-location probe.")
flags.DEFINE_integer("episodes", 64, "Episodes per measurement.")
flags.DEFINE_string("records", "results/rule_anatomy.jsonl", "JSON-lines records.")
flags.DEFINE_string("machine", "", "Machine description in the records ('' = detected).")


def main(argv):
  del argv
  try:
    records = anatomy.run(
      FLAGS.rules,
      FLAGS.n,
      FLAGS.k,
      [int(k) for k in FLAGS.probe_loads],
      FLAGS.records,
      FLAGS.episodes,
      FLAGS.machine,
    )
  except ConfigError as error:
    fail(str(error), USAGE_EXIT_CODE)
  print(anatomy.markdown(records))


if __name__ == "__main__":
  app.run(main)
