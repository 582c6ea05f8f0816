r"""Runs a sweep of rule evaluations and appends one JSON line per point to its records file.

  nice -n 5 python -m experiments.sweep --config=configs/sweep_handwritten.py
  nice -n 5 python -m experiments.sweep --config=configs/sweep_learned.py --config.max_points=10

Resumable: rerun the same command after a crash, Ctrl-C or kill. Recorded points are skipped,
saved meta-parameters are loaded, and a rule killed mid-training resumes from its last
checkpoint in `<config.work_dir>/<hash>`. The logic is `learned_rules.sweeps` (grid, runner).
"""

import sys

from absl import app, flags, logging
from ml_collections import config_flags

from experiments import cli
from experiments.cli import USAGE_EXIT_CODE, fail

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Path to a sweep config file.", lock_config=True)
flags.mark_flags_as_required(["config"])

# Keyword options handed to trainer.meta_train for every trained rule (tests set debug hooks).
TRAIN_OPTIONS = {}


parse_flags = cli.flags_parser(example="configs/sweep_handwritten.py")


def main(argv):
  del argv
  from learned_rules.common.errors import ConfigError, UserError
  from learned_rules.sweeps import runner
  from learned_rules.train import trainer

  try:
    runner.run(FLAGS.config, **TRAIN_OPTIONS)
  except runner.Interrupted as stop:
    logging.warning("%s", stop)
    sys.exit(trainer.INTERRUPTED_EXIT_CODE)
  except ConfigError as error:
    fail(f"bad config: {error}", USAGE_EXIT_CODE)
  except UserError as error:
    fail(str(error))


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
