r"""Entry point for every system in this repository.

  python -m experiments.main --config=configs/remember.py --workdir=/tmp/remember
  python -m experiments.main --config=configs/remember.py --workdir=/tmp/remember \
    --config.mode=eval --config.eval.k=12 --config.eval.output=eval_k12.json
  python -m experiments.main --config=configs/tvae/mnist.py --config.num_epochs=1

Any config field can be overridden with `--config.key=value`; an unknown key fails loudly. The
config's `system` field chooses the trainer (learned_rules/systems.py). A run resumes from the
workdir's latest checkpoint: rerun the same command after a crash or Ctrl-C.
"""

import os
import sys
import time

from absl import app, flags, logging
from ml_collections import config_flags

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Path to a config file.", lock_config=True)
flags.DEFINE_string(
  "workdir", None, "Where logs, checkpoints and results go (default: ./runs/...)."
)
flags.mark_flags_as_required(["config"])

# Keyword options handed to the system's train_and_evaluate (tests set debug hooks here).
TRAIN_OPTIONS = {}


def default_workdir(config) -> str:
  """A fresh run directory named after the system and the time."""
  return os.path.join("runs", f"{config.system}_{time.strftime('%Y%m%d_%H%M%S')}")


def fail(message: str, code: int = 1):
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(code)


def main(argv):
  del argv
  from learned_rules import systems
  from learned_rules.common.errors import ConfigError, UserError

  config = FLAGS.config
  workdir = FLAGS.workdir or default_workdir(config)
  try:
    system = systems.load(config.system)
    system.validate(config)
  except ConfigError as error:
    fail(f"bad config: {error}", 2)
  logging.info("workdir: %s", workdir)
  try:
    report = system.train_and_evaluate(config, workdir, **TRAIN_OPTIONS)
  except ConfigError as error:
    fail(f"bad config: {error}", 2)
  except UserError as error:
    fail(str(error))
  if report.get("interrupted"):
    sys.exit(130)


if __name__ == "__main__":
  app.run(main)
