r"""Entry point for every system in this repository.

  python -m experiments.main --config=configs/remember.py --workdir=/tmp/remember
  python -m experiments.main --config=configs/remember.py --workdir=/tmp/remember \
    --config.mode=eval --config.eval.k=12 --config.eval.output=eval_k12.json
  python -m experiments.main --config=configs/tvae/mnist.py --config.num_epochs=1

Any config field can be overridden with `--config.key=value`; an unknown key fails loudly. The
config's `system` field chooses the trainer (learned_rules/systems.py). A run resumes from the
workdir's latest checkpoint: rerun the same command after a crash or Ctrl-C.

A mistake the user can fix (a bad flag, key, value, config file or workdir, or too little memory)
ends the run with one `error: ...` line on stderr, before anything is written: exit 2 for the
command line or config, 1 otherwise.
"""

import os
import shutil
import sys
import time

from absl import app, flags, logging
from ml_collections import config_flags

from experiments import cli
from experiments.cli import USAGE_EXIT_CODE, fail
from learned_rules.common import distributed, errors

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


parse_flags = cli.flags_parser(example="configs/remember.py")


def is_scaffolding(workdir: str) -> bool:
  """True when `workdir` holds only what a run writes before its first step (nothing to keep)."""
  for root, _, files in os.walk(workdir):
    relative = os.path.relpath(root, workdir)
    for name in files:
      path = os.path.join(root, name)
      if relative.split(os.sep)[0] == "tensorboard" or (relative == "." and name == "config.json"):
        continue
      if relative == "." and name == "metrics.jsonl" and os.path.getsize(path) == 0:
        continue
      return False
  return True


def main(argv):
  del argv
  from learned_rules import systems

  config = FLAGS.config
  workdir = FLAGS.workdir or default_workdir(config)
  existed = os.path.exists(workdir)
  try:
    distributed.initialize(config.get("distributed"))  # multi-host: before jax starts a device
    system = systems.load(config.system)
    logging.info("workdir: %s", workdir)  # train_and_evaluate validates before it writes
    report = system.train_and_evaluate(config, workdir, **TRAIN_OPTIONS)
  except Exception as error:
    if isinstance(error, errors.ConfigError):
      message, code = f"bad config: {error}", USAGE_EXIT_CODE
    elif isinstance(error, errors.UserError):
      message, code = str(error), 1
    elif errors.is_out_of_memory(error):
      message, code = errors.out_of_memory(error, config), 1
    else:
      raise
    if not existed and os.path.isdir(workdir) and is_scaffolding(workdir):
      shutil.rmtree(workdir, ignore_errors=True)  # a failed start leaves nothing half-written
    fail(message, code)
  if report.get("interrupted"):
    sys.exit(130)


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
