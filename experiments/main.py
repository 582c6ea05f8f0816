r"""Entry point for every system in this repository.

  python -m experiments.main --config=configs/remember.py --workdir=/tmp/remember
  python -m experiments.main --config=configs/remember.py --workdir=/tmp/remember \
    --config.mode=eval --config.eval.k=12 --config.eval.output=eval_k12.json
  python -m experiments.main --config=configs/tvae_mnist.py --config.num_epochs=1

Any config field can be overridden with `--config.key=value`; an unknown key fails loudly. The
config's `system` field chooses the trainer ('remember' or 'tvae'). A remember run resumes from
the workdir's latest checkpoint: rerun the same command after a crash or Ctrl-C.
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


def default_workdir(config) -> str:
  """A fresh run directory named after the system and the time."""
  return os.path.join("runs", f"{config.system}_{time.strftime('%Y%m%d_%H%M%S')}")


def main(argv):
  del argv
  config = FLAGS.config
  workdir = FLAGS.workdir or default_workdir(config)
  logging.info("workdir: %s", workdir)
  if config.system == "remember":
    from learned_rules import setup_config
    from learned_rules.train import checkpointing, trainer

    try:
      trainer.validate(config)
    except setup_config.ConfigError as error:
      raise app.UsageError(f"bad config: {error}") from None
    try:
      report = trainer.train_and_evaluate(config, workdir)
    except (
      checkpointing.CheckpointMismatchError,
      trainer.NonFiniteError,
      FileNotFoundError,
    ) as error:
      print(f"error: {error}", file=sys.stderr, flush=True)
      sys.exit(1)
    except setup_config.ConfigError as error:
      raise app.UsageError(str(error)) from None
    if report.get("interrupted"):
      sys.exit(trainer.INTERRUPTED_EXIT_CODE)
  elif config.system == "tvae":
    from learned_rules.tvae import data as tvae_data
    from learned_rules.tvae import train as tvae_train

    try:
      tvae_train.validate_config(config)
    except ValueError as error:
      raise app.UsageError(f"bad config: {error}") from None
    try:
      tvae_train.train_and_evaluate(config, workdir)
    except tvae_data.MissingDataError as error:
      print(f"error: {error}", file=sys.stderr, flush=True)
      sys.exit(1)
  else:
    raise app.UsageError(f"config.system={config.system!r}: expected 'remember' or 'tvae'.")


if __name__ == "__main__":
  app.run(main)
