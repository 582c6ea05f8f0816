"""Test-only entry point: experiments.main with a per-step delay, so signals land mid-run.

  python -m tests.train.slow_main --config=configs/remember.py --workdir=... [--config.x=y]
The delay is a `trainer.DebugHooks` option, which no user config can set.
"""

import os

from absl import app

from experiments import main
from learned_rules.train import trainer

if __name__ == "__main__":
  delay = float(os.environ.get("SLOW_MAIN_STEP_DELAY_S", "0.4"))
  main.TRAIN_OPTIONS["debug"] = trainer.DebugHooks(step_delay_s=delay)
  app.run(main.main, flags_parser=main.parse_flags)
